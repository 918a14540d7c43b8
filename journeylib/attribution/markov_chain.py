"""Multi-touch attribution by the removal effect of an absorbing Markov chain, in closed form.

Part of :mod:`journeylib.attribution`; import the public names from there.

Each journey of a conversion-paths frame (:func:`~journeylib.attribution.conversion_paths`)
is a walk ``start -> s1 -> ... -> sn -> conversion`` (converted) or ``-> null`` (not).
At order 1 a state is a channel; at order k it is the tuple of the last k channels
(shorter at the beginning of a path). Transition probabilities are the maximum-likelihood
estimates, counts over row totals. A repeated channel is a self-transition, unless
``collapse_repeats=True`` merges consecutive repeats into one touch first. Journeys with no
touch (an empty ``path``) carry no channel information and are left out, so their
conversions and value are credited to no channel (``attrs["n_skipped"]`` counts them).

With the transient states T (start and the channel states) and the absorbing states A,
``Q = P[T, T]``, ``R = P[T, A]`` and ``B = (I - Q)^-1 R``: the conversion probability is
``B[start, conversion]``, found by solving ``(I - Q) h = R[:, conversion]`` (no inverse,
no simulation: the result is deterministic; dense up to 2,000 states, else sparse and
iterative to a relative residual of 1e-13). Removing a channel removes every state whose
tuple contains it, i.e. transitions into those states go to ``null``; its removal effect is
``1 - P_without / P`` and its credit ``removal_effect / sum(removal_effects)`` times the
conversions (and the won value), so the credits add up to them exactly.

References
----------
Anderl, E., Becker, I., von Wangenheim, F. & Schumann, J. H. (2016). Mapping the customer
journey: Lessons learned from graph-based online attribution modeling. *International Journal
of Research in Marketing*, 33(3), 457-474.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_bool, check_int, check_share, fail
from ..errors import ParameterError, did_you_mean

__all__ = ["markov", "removal_effects", "transition_matrix", "MARKOV_COLUMNS", "START", "CONVERSION", "NULL",
           "SMOOTHING_ALPHA"]

START, CONVERSION, NULL = "start", "conversion", "null"
#: The columns of :func:`markov` (``value_credit`` only with ``value=True``).
MARKOV_COLUMNS = ("channel", "removal_effect", "credit", "value_credit", "share")
#: Add-alpha smoothing of the held-out scoring of ``order="auto"``: every next step (a channel,
#: conversion or null) gets ``alpha`` pseudo-counts, so a transition unseen in training has a
#: small probability instead of zero, and an unseen state predicts uniformly.
SMOOTHING_ALPHA = 0.5
#: Up to this many transient states the system is solved densely (numpy.linalg.solve); above
#: it (high orders on big data) sparsely with BiCGSTAB to a relative residual of 1e-13, or by
#: sparse LU (scipy.sparse.linalg.spsolve) should BiCGSTAB not converge.
_DENSE_LIMIT = 2000


@dataclass
class _Touches:
    """The touches of the journeys with at least one, flattened in path order."""
    journey: np.ndarray    # journey number (0..J-1) of each touch
    code: np.ndarray       # channel code of each touch (index into channels)
    pos: np.ndarray        # position of the touch in its path
    channels: list[str]    # channel names, sorted
    converted: np.ndarray  # per journey, bool
    value: np.ndarray      # per journey, the won value (0 when not converted)
    ids: np.ndarray | None  # per journey, journey_id as str (order="auto" only)
    n_skipped: int         # journeys without a touch
    skipped_conversions: int


@dataclass
class _Chain:
    states: np.ndarray  # (S, k) channel codes of each channel state, -1 padding in front
    frm: np.ndarray     # distinct transitions: from state (0 = start, 1..S, S+1 conversion, S+2 null)
    to: np.ndarray
    count: np.ndarray
    prob: np.ndarray


def _prepare(paths: Any, *, value: bool, ids: bool, collapse: bool) -> _Touches:
    """Check the frame once and flatten its non-empty paths (vectorised)."""
    if not isinstance(paths, pd.DataFrame):
        raise ParameterError(f"paths must be a conversion-paths DataFrame from conversion_paths(); "
                             f"got {type(paths).__name__}")
    need = ["path", "converted"] + (["value"] if value else []) + (["journey_id"] if ids else [])
    for column in need:
        if column not in paths.columns:
            raise ParameterError(f"paths has no column {column!r}{did_you_mean(column, map(str, paths.columns))}; "
                                 f"the Markov model needs {', '.join(need)} (from conversion_paths())")
    cells = paths["path"]
    is_seq = cells.map(lambda p: isinstance(p, (tuple, list, np.ndarray))).to_numpy(dtype=bool)
    if not is_seq.all():
        row, held = cells.index[~is_seq].tolist()[0], cells[~is_seq].tolist()[0]
        raise ParameterError(f"paths['path'] must hold tuples of channel names; row {row!r} holds {held!r}")
    conv = pd.to_numeric(paths["converted"], errors="coerce")
    if not conv.isin([0, 1]).all():
        bad_value = paths["converted"][~conv.isin([0, 1])].tolist()[0]
        raise ParameterError(f"paths['converted'] must be 0 or 1; got {bad_value!r}")
    conv = conv.to_numpy().astype(bool)
    won = np.zeros(len(paths))
    if value:
        amount = pd.to_numeric(paths["value"], errors="coerce").to_numpy(dtype=float)
        bad = conv & ~np.isfinite(amount)
        if bad.any():
            raise ParameterError(f"paths['value'] must be a finite number for converted journeys; row "
                                 f"{paths.index[bad].tolist()[0]!r} has {paths['value'][bad].tolist()[0]!r}")
        won = np.where(conv, amount, 0.0)
    lengths = cells.map(len).to_numpy(dtype=np.int64)
    used = lengths > 0
    flat = cells[used].explode()
    if flat.isna().any():
        raise ParameterError(f"paths['path'] has a missing channel name in row {flat.index[flat.isna()].tolist()[0]!r}")
    code, channels = pd.factorize(flat.astype(str).to_numpy(), sort=True)
    journey = np.repeat(np.arange(int(used.sum())), lengths[used])
    if collapse and len(code):
        keep = np.r_[True, (journey[1:] != journey[:-1]) | (code[1:] != code[:-1])]
        journey, code = journey[keep], code[keep]
    per_journey = np.bincount(journey, minlength=int(used.sum()))
    starts = np.cumsum(per_journey) - per_journey
    pos = np.arange(len(code)) - np.repeat(starts, per_journey)
    return _Touches(journey, code.astype(np.int64), pos, [str(c) for c in channels], conv[used], won[used],
                    paths["journey_id"].astype(str).to_numpy()[used] if ids else None,
                    int((~used).sum()), int(conv[~used].sum()))


def _events(t: _Touches, order: int):
    """Every step of every path at ``order``: (states, from, to, next symbol, journey).

    The symbol is what happens next: a channel code, ``C`` (conversion) or ``C + 1`` (null),
    the same event space at every order, which makes held-out likelihoods comparable.
    """
    n, n_channels = len(t.code), len(t.channels)
    k = max(1, min(order, int(t.pos.max()) + 1)) if n else 1  # longer orders than the longest path change nothing
    lag = np.full((n, k), -1, dtype=np.int64)
    for j in range(k):  # column k-1-j holds the channel j touches back: tuples read oldest to newest
        rows = np.nonzero(t.pos >= j)[0]
        lag[rows, k - 1 - j] = t.code[rows - j]
    base = n_channels + 1
    if base ** k < 2 ** 62:  # one int64 key per tuple, same (lexicographic) order: a much faster unique
        powers = base ** np.arange(k - 1, -1, -1, dtype=np.int64)
        keys, inverse = np.unique((lag + 1) @ powers, return_inverse=True)
        states = keys[:, None] // powers % base - 1
    else:
        states, inverse = np.unique(lag, axis=0, return_inverse=True)
    sid = inverse.reshape(-1) + 1
    n_states = len(states)
    prev = np.r_[0, sid[:-1]][:n]
    prev[t.pos == 0] = 0
    last = np.r_[t.journey[1:] != t.journey[:-1], True] if n else np.zeros(0, dtype=bool)
    won = t.converted[t.journey[last]]
    frm = np.r_[prev, sid[last]]
    to = np.r_[sid, np.where(won, n_states + 1, n_states + 2)]
    symbol = np.r_[t.code, np.where(won, n_channels, n_channels + 1)]
    return states, frm, to, symbol, np.r_[t.journey, t.journey[last]]


def _fit(t: _Touches, order: int) -> _Chain:
    states, frm, to, _, _ = _events(t, order)
    width = len(states) + 3
    keys, count = np.unique(frm * width + to, return_counts=True)
    frm, to = np.divmod(keys, width)
    total = np.bincount(frm, weights=count, minlength=width)
    return _Chain(states, frm, to, count, count / total[frm])


def _conversion_probability(chain: _Chain, removed: np.ndarray | None = None) -> float:
    """h[start] of ``(I - Q) h = R[:, conversion]`` over the states kept (``removed``: bool per channel state).

    Dropping the transitions into removed states is redirecting them to null: their mass
    never reaches conversion.
    """
    n_states = len(chain.states)
    keep = np.ones(n_states + 1, dtype=bool)
    if removed is not None:
        keep[1:] = ~removed
    index = np.cumsum(keep) - 1
    m = int(keep.sum())
    transient = chain.to <= n_states
    inner = transient & keep[chain.frm] & keep[np.where(transient, chain.to, 0)]
    into_conversion = (chain.to == n_states + 1) & keep[chain.frm]
    r = np.zeros(m)
    r[index[chain.frm[into_conversion]]] = chain.prob[into_conversion]
    i, j, p = index[chain.frm[inner]], index[chain.to[inner]], chain.prob[inner]
    if m <= _DENSE_LIMIT:
        a = np.eye(m)
        a[i, j] -= p  # (from, to) pairs are distinct
        h = np.linalg.solve(a, r)
    else:  # sparse LU fills in badly on these chains; BiCGSTAB needs a few sparse products
        from scipy import sparse
        from scipy.sparse.linalg import bicgstab, spsolve
        a = sparse.identity(m, format="csr") - sparse.csr_matrix((p, (i, j)), shape=(m, m))
        h, info = bicgstab(a, r, rtol=1e-13, atol=0.0, maxiter=10 * m)
        if info != 0 or not np.isfinite(h).all():
            h = spsolve(a.tocsc(), r)
    return float(h[0])


def _removal(chain: _Chain, n_channels: int) -> tuple[float, np.ndarray, np.ndarray]:
    """(P, P without each channel, removal effect of each channel); effects are 0 when P is 0."""
    p = _conversion_probability(chain)
    contains = np.zeros((len(chain.states), n_channels), dtype=bool)
    rows, cols = np.nonzero(chain.states >= 0)
    contains[rows, chain.states[rows, cols]] = True
    if p <= 0:
        return p, np.zeros(n_channels), np.zeros(n_channels)
    without = np.array([_conversion_probability(chain, contains[:, c]) for c in range(n_channels)])
    # removing states can only lower P; clipping drops float noise of ~1e-16 around 0
    return p, without, np.clip(1.0 - without / p, 0.0, 1.0)


def _check_order(order: Any) -> int | str:
    if isinstance(order, str):
        if order == "auto":
            return order
        raise fail("order", "'auto' or a whole number >= 1", order, did_you_mean(order, ["auto"]))
    return check_int(order, "order", minimum=1, what="'auto' or a whole number")


def _choose_order(t: _Touches, max_order: int, random_state: int, test_share: float) -> tuple[int, dict[int, float]]:
    """The order in 1..max_order with the best held-out log-likelihood (ties: the lowest order).

    Journeys (sorted by journey_id, so the row order does not matter) are split at random
    with ``numpy.random.default_rng(random_state)``; each order is fitted on the training
    journeys and scores every step of the test journeys with add-alpha smoothing.
    """
    n_journeys, width = len(t.converted), len(t.channels) + 2
    by_id = np.argsort(t.ids, kind="stable")
    n_test = min(n_journeys - 1, max(1, round(test_share * n_journeys)))
    test = np.zeros(n_journeys, dtype=bool)
    test[by_id[np.random.default_rng(random_state).permutation(n_journeys)[:n_test]]] = True
    loglik: dict[int, float] = {}
    for k in range(1, max_order + 1):
        states, frm, _, symbol, journey = _events(t, k)
        scored = test[journey]
        keys, count = np.unique(frm[~scored] * width + symbol[~scored], return_counts=True)
        total = np.bincount(frm[~scored], minlength=len(states) + 1)
        wanted = frm[scored] * width + symbol[scored]
        at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        seen = np.where(keys[at] == wanted, count[at], 0) if len(keys) else np.zeros(len(wanted))
        probability = (seen + SMOOTHING_ALPHA) / (total[frm[scored]] + SMOOTHING_ALPHA * width)
        loglik[k] = math.fsum(np.log(probability))  # exactly rounded: the same whatever the row order
    best = max(loglik.values())
    return min(k for k, v in loglik.items() if v >= best - 1e-9 * abs(best)), loglik


def markov(paths: pd.DataFrame, *, order: int | str = 1, value: bool = True, max_order: int = 4,
           random_state: int = 0, test_share: float = 0.3, collapse_repeats: bool = False) -> pd.DataFrame:
    """Channel credit by the removal effect of an absorbing Markov chain (closed form).

    Parameters
    ----------
    paths : DataFrame
        A conversion-paths frame from :func:`~journeylib.attribution.conversion_paths`: ``path``
        (tuple of channel names in time order), ``converted`` (0/1), ``value`` (won amount; with
        ``value=True``) and ``journey_id`` (with ``order="auto"``). Journeys with an empty path
        are left out (no channel to credit): their conversions and value are credited to no one.
    order : int >= 1 or "auto", default 1
        The chain's memory: a state is the tuple of the last ``order`` channels. ``"auto"``
        picks the order in 1..``max_order`` with the best held-out log-likelihood (see
        ``random_state``, ``test_share`` and :data:`SMOOTHING_ALPHA`); the chosen order is then
        fitted on all journeys.
    value : bool, default True
        Also share the won value (column ``value_credit``).
    max_order : int, default 4
        The highest order tried by ``order="auto"``.
    random_state : int, default 0
        Seed of the train/test split of ``order="auto"`` (reproducible).
    test_share : float in (0, 1), default 0.3
        Share of journeys held out to score the orders.
    collapse_repeats : bool, default False
        Merge consecutive touches of one channel into one; by default a repeat is a
        self-transition of the chain.

    Returns
    -------
    DataFrame
        One row per channel seen on a path: ``channel``, ``removal_effect`` (``1 - P_without /
        P``, in [0, 1]), ``credit`` (conversions credited; the column sums to the conversions of
        the journeys with touches), ``value_credit`` (likewise with their won value), ``share``
        (credit over conversions); sorted by credit descending, then channel. ``attrs``:
        ``order`` (used), ``conversion_probability`` (P from start), ``n_paths`` (journeys
        used), ``n_skipped`` (journeys without a touch), ``conversions``, ``value``,
        ``order_loglik`` ({order: held-out log-likelihood} with ``order="auto"``, else None)
        and ``note`` ("" when there is nothing to say).

    Notes
    -----
    The model is memoryless beyond ``order`` channels: a channel seen only on journeys that
    did not convert still gets credit when the chain can go from it to channels that convert.
    A channel that leads nowhere but ``null`` gets a removal effect and credit of 0.

    References
    ----------
    Anderl, Becker, von Wangenheim & Schumann (2016), "Mapping the customer journey: Lessons
    learned from graph-based online attribution modeling", IJRM 33(3), 457-474.
    """
    value = check_bool(value, "value")
    collapse = check_bool(collapse_repeats, "collapse_repeats")
    order = _check_order(order)
    max_order = check_int(max_order, "max_order", minimum=1, maximum=10)
    random_state = check_int(random_state, "random_state", minimum=0)
    test_share = check_share(test_share, "test_share", low_open=True, high_open=True)
    t = _prepare(paths, value=value, ids=order == "auto", collapse=collapse)
    notes, loglik = [], None
    if order == "auto":
        if len(t.converted) < 2:
            order = 1
            notes.append("fewer than 2 journeys with touches: order 1 used, not chosen")
        else:
            order, loglik = _choose_order(t, max_order, random_state, test_share)
    conversions, total_value = float(t.converted.sum()), math.fsum(t.value)
    n_channels = len(t.channels)
    p, effect = 0.0, np.zeros(n_channels)
    if n_channels:
        p, _, effect = _removal(_fit(t, order), n_channels)
    else:
        notes.append("no journey has a touch: nothing to credit")
    if n_channels and conversions == 0:
        notes.append("no journey with touches converted: every credit is 0")
    if t.n_skipped:
        notes.append(f"{t.n_skipped} journeys without a touch left out ({t.skipped_conversions} converted; "
                     "their conversions are credited to no channel)")
    share = effect / effect.sum() if effect.sum() > 0 else np.zeros(n_channels)
    out = pd.DataFrame({"channel": pd.Series(t.channels, dtype=object), "removal_effect": effect,
                        "credit": share * conversions, "value_credit": share * total_value, "share": share})
    if not value:
        out = out.drop(columns="value_credit")
    out = out.sort_values(["credit", "channel"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    out.attrs.update(order=int(order), conversion_probability=p, n_paths=len(t.converted), n_skipped=t.n_skipped,
                     conversions=conversions, value=total_value if value else None, order_loglik=loglik,
                     note="; ".join(notes))
    return out


def removal_effects(paths: pd.DataFrame, *, order: int = 1, collapse_repeats: bool = False) -> pd.DataFrame:
    """Each channel's removal effect, with the conversion probability without it.

    Columns ``channel``, ``conversion_probability_without``, ``removal_effect`` (``1 -
    without / P``; 0 for every channel when P is 0), in channel order; ``attrs``: ``order``,
    ``conversion_probability`` (P) and ``n_paths``. Takes the frame and options of
    :func:`markov` (an explicit order only).
    """
    order = check_int(order, "order", minimum=1, what="a whole number")
    t = _prepare(paths, value=False, ids=False, collapse=check_bool(collapse_repeats, "collapse_repeats"))
    p, without, effect = (_removal(_fit(t, order), len(t.channels)) if t.channels
                          else (0.0, np.zeros(0), np.zeros(0)))
    out = pd.DataFrame({"channel": pd.Series(t.channels, dtype=object), "conversion_probability_without": without,
                        "removal_effect": effect})
    out.attrs.update(order=order, conversion_probability=p, n_paths=len(t.converted))
    return out


def transition_matrix(paths: pd.DataFrame, *, order: int = 1, collapse_repeats: bool = False) -> pd.DataFrame:
    """The fitted chain, one row per observed transition, to see what :func:`markov` works with.

    Columns ``from_state``, ``to_state`` (``"start"``, a channel, ``"email > webinar"`` for a
    tuple of channels at order > 1, ``"conversion"``, ``"null"``), ``count`` and
    ``probability`` (count over the from-state's total: each from-state's rows sum to 1);
    ordered by from-state (start first) and to-state. ``attrs``: ``order`` and ``n_paths``.
    """
    order = check_int(order, "order", minimum=1, what="a whole number")
    t = _prepare(paths, value=False, ids=False, collapse=check_bool(collapse_repeats, "collapse_repeats"))
    chain = _fit(t, order)
    names = np.array([START] + [" > ".join(t.channels[c] for c in row if c >= 0) for row in chain.states]
                     + [CONVERSION, NULL], dtype=object)
    out = pd.DataFrame({"from_state": names[chain.frm], "to_state": names[chain.to],
                        "count": chain.count.astype(np.int64), "probability": chain.prob})
    out.attrs.update(order=order, n_paths=len(t.converted))
    return out
