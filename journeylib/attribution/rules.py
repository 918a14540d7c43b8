"""Rule-based multi-touch attribution with the B2B milestones: first touch, lead, opportunity, close.

Input: a frame of :func:`journeylib.attribution.conversion_paths` (one row per journey). Each
converting journey's conversion (1) and value are split over its touches by a model's weights,
which sum to 1 per journey. Positions are 0-based; ``n`` is the number of touches.

Models (:data:`MODELS`)
-----------------------
* ``first``: 100% to touch 0. ``last``: 100% to touch n-1 (the closing touch). ``linear``: 1/n each.
* ``time_decay``: touch weight ``2 ** (-days_before_conversion / half_life_days)``, normalised per
  journey. Days are counted from the journey's latest touch: the normalisation cancels the
  common factor, so the credits equal those counted from ``conversion_at`` (which may be NaT)
  without underflow on long journeys.
* ``u_shaped`` (``u_weights=(0.4, 0.4)``): the first touch and the *U anchor* get their weights;
  the rest (0.2) is spread evenly over the touches strictly between them; touches after the
  anchor get nothing. The U anchor is the lead-creation touch when ``lead_touch > 0``; when the
  lead touch is unknown (-1) or is the first touch, it is the closing touch (classic
  position-based: 40% first, 40% last, 20% between).
* ``w_shaped`` (``w_weights=(0.3, 0.3, 0.3)``): first touch, lead-creation touch,
  opportunity-creation touch; the rest (0.1) spread evenly over all other touches.
* ``full_path`` (``full_path_weights=(0.225,) * 4``): first, lead, opportunity and closing
  touch; the rest (0.1) spread evenly over all other touches.

Milestone conventions (all models)
----------------------------------
1. *Coinciding milestones add up*: a touch marking several milestones gets the sum of their
   weights (W-shaped, lead at 0: touch 0 gets 0.6).
2. *Unknown milestones* (index -1) of W-shaped and full path: their weight joins the rest share,
   spread over the non-milestone touches (we do not know which touch it was).
3. *No touch to take the rest*: when no touch qualifies for the rest share, the journey's
   weights are renormalised to sum to 1 (milestone touches keep their proportions). If they
   are all zero (only with zero weights), the journey falls back to linear.
4. Milestone order is not checked (an opportunity touch before the lead touch is used as is).
   An index outside ``[-1, n-1]`` is an error.
5. Journeys with an empty path carry no credit: rule_based's ``attrs["unattributed_conversions"]``
   and ``attrs["unattributed_value"]`` count the converting ones. Non-converting journeys get no
   credit; they count in ``touches`` and ``journeys`` only.

Worked example: 6 touches, lead at 1, opportunity at 3, touches 35, 28, 21, 14, 7 and 0 days
before the conversion (time_decay with half-life 7: raw 1/32, 1/16, 1/8, 1/4, 1/2, 1; sum 63/32)::

    position       0      1      2      3      4      5
    milestone    first   lead          opp          close
    first          1      0      0      0      0      0
    last           0      0      0      0      0      1
    linear        1/6    1/6    1/6    1/6    1/6    1/6
    time_decay    1/63   2/63   4/63   8/63  16/63  32/63
    u_shaped      1/2    1/2     0      0      0      0     (0.4, 0.4, nothing between: renormalised)
    w_shaped      0.3    0.3   1/30    0.3   1/30   1/30   (0.1 over touches 2, 4, 5)
    full_path    0.225  0.225  0.05  0.225   0.05  0.225   (0.1 over touches 2, 4)

With the lead at 4 instead, u_shaped gives 0.4, 0.2/3, 0.2/3, 0.2/3, 0.4, 0; with the lead
unknown, 0.4, 0.05, 0.05, 0.05, 0.05, 0.4.

Short paths: one touch gets 1 under every model. Two touches: first (1, 0), last (0, 1),
linear and u_shaped (1/2, 1/2) whatever the lead; w_shaped (2/3, 1/3) with lead 0 and
opportunity 1 (0.6 and 0.3, renormalised), (1/3, 2/3) with both at 1, (0.3, 0.7) with both
unknown (touch 1 takes the rest 0.1 and the unknown 0.6); full_path (1/2, 1/2) with lead 0 and
opportunity 1 or both unknown, (1/4, 3/4) with both at 1 (0.225 vs 0.675).
"""
from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_number, fail
from ..errors import ParameterError

__all__ = ["MODELS", "BY", "NO_NAME", "touch_credits", "rule_based"]

MODELS = ("first", "last", "linear", "time_decay", "u_shaped", "w_shaped", "full_path")
BY = ("channel", "campaign")
#: The name under which rule_based groups touches without a channel or campaign.
NO_NAME = "(none)"
_REQUIRED = ("journey_id", "account_id", "path", "touch_times", "campaigns", "converted", "value", "lead_touch",
             "opportunity_touch")
_DAY_NS = 86_400 * 10**9


def _check_weights(value: Any, name: str, size: int) -> tuple[float, ...]:
    what = f"{size} numbers >= 0 summing to at most 1"
    try:
        values = tuple(value)
    except TypeError:
        raise fail(name, what, value) from None
    if len(values) != size or isinstance(value, str):
        raise fail(name, what, value)
    try:
        numbers = tuple(check_number(v, name, minimum=0) for v in values)
    except ParameterError:
        raise fail(name, what, value) from None
    if sum(numbers) > 1 + 1e-9:
        raise fail(name, what, value, f" (they sum to {sum(numbers):g})")
    return numbers


def _check_paths(paths: Any) -> pd.DataFrame:
    if not isinstance(paths, pd.DataFrame):
        raise fail("paths", "a DataFrame of journeylib.attribution.conversion_paths", type(paths).__name__)
    missing = [c for c in _REQUIRED if c not in paths.columns]
    if missing:
        raise ParameterError(f"paths is missing the column(s) {', '.join(map(repr, missing))}; attribution needs "
                             f"a frame of journeylib.attribution.conversion_paths with {', '.join(_REQUIRED)}")
    dup = paths["journey_id"].duplicated()
    if dup.any():
        raise ParameterError(f"paths has {int(dup.sum())} duplicated journey_id(s), e.g. "
                             f"{paths['journey_id'][dup].iloc[0]!r}; give one row per journey")
    return paths


def _sized(column: pd.Series) -> list:
    """The column's tuples, () for a missing one (None, NaN)."""
    return [v if isinstance(v, (tuple, list, np.ndarray)) else () for v in column]


class _Touches:
    """The touches of ``paths`` flattened in journey order: row, position, channel, ... (arrays)."""

    def __init__(self, paths: pd.DataFrame, *, campaigns: bool = False, times: bool = False):
        self.paths = paths
        path = _sized(paths["path"])
        self.n = np.fromiter(map(len, path), dtype=np.int64, count=len(path))
        self.rows = np.repeat(np.arange(len(path)), self.n)
        self.starts = np.cumsum(self.n) - self.n
        self.pos = np.arange(len(self.rows)) - np.repeat(self.starts, self.n)
        self.channel = np.array(list(chain.from_iterable(path)) or [], dtype=object)
        self.campaign = self._flat("campaigns") if campaigns else None
        self.time = pd.DatetimeIndex(pd.to_datetime(self._flat("touch_times"), utc=True)) if times else None
        for col in ("lead_touch", "opportunity_touch"):
            at = pd.to_numeric(paths[col], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
            bad = (at < -1) | (at >= self.n)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise ParameterError(f"paths column {col} must be -1 or an index into path; {int(bad.sum())} "
                                     f"journey(s) are not, e.g. {paths['journey_id'].iloc[first]!r} with {at[first]} "
                                     f"for a path of {self.n[first]} touches")
            setattr(self, col.split("_")[0], at)

    def _flat(self, col: str) -> np.ndarray:
        values = _sized(self.paths[col])
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        bad = lengths != self.n
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"paths column {col} must have as many items as path; {int(bad.sum())} journey(s) "
                                 f"do not, e.g. {self.paths['journey_id'].iloc[first]!r} ({lengths[first]} vs "
                                 f"{self.n[first]})")
        out = np.empty(int(lengths.sum()), dtype=object)
        out[:] = list(chain.from_iterable(values))
        return out


def _position(t: _Touches, slots: list[tuple[np.ndarray, float]], rest_only: np.ndarray | None = None) -> np.ndarray:
    """Raw weights: each slot's weight on the touch at its index (per journey, -1 unknown), the rest share
    (1 - the slots' weights, plus the weights of unknown slots) evenly over the touches marking no slot
    (and within ``rest_only``)."""
    raw = np.zeros(len(t.pos))
    milestone = np.zeros(len(t.pos), dtype=bool)
    rest = np.full(len(t.n), 1.0 - sum(w for _, w in slots))
    for at, weight in slots:
        hit = t.pos == at[t.rows]
        raw += weight * hit
        milestone |= hit
        rest += np.where(at < 0, weight, 0.0)
    takers = ~milestone if rest_only is None else ~milestone & rest_only
    count = np.bincount(t.rows, weights=takers, minlength=len(t.n))
    raw[takers] += (rest / np.maximum(count, 1))[t.rows[takers]]
    return raw


def _credit(t: _Touches, model: str, half_life_days: float, u: tuple, w: tuple, full: tuple) -> np.ndarray:
    """Each touch's share of its journey's conversion (sums to 1 per journey with touches)."""
    n, pos, rows = t.n, t.pos, t.rows
    first, close = np.zeros(len(n), dtype=np.int64), n - 1
    if model == "first":
        raw = (pos == 0).astype(float)
    elif model == "last":
        raw = (pos == close[rows]).astype(float)
    elif model == "linear":
        raw = np.ones(len(pos))
    elif model == "time_decay":
        if pd.isna(t.time).any():
            raise ParameterError("paths column touch_times has missing times; time_decay needs every touch's time")
        ns, has = t.time.asi8, n > 0
        latest = np.zeros(len(n), dtype=np.int64)
        if has.any():
            latest[has] = np.maximum.reduceat(ns, t.starts[has])
        raw = np.exp2(-((latest[rows] - ns) / _DAY_NS) / half_life_days)
    elif model == "u_shaped":
        anchor = np.where(t.lead > 0, t.lead, close)
        raw = _position(t, [(first, u[0]), (anchor, u[1])], rest_only=pos < anchor[rows])
    elif model == "w_shaped":
        raw = _position(t, [(first, w[0]), (t.lead, w[1]), (t.opportunity, w[2])])
    else:
        raw = _position(t, [(first, full[0]), (t.lead, full[1]), (t.opportunity, full[2]), (close, full[3])])
    total = np.bincount(rows, weights=raw, minlength=len(n))[rows]
    return np.where(total > 0, raw / np.where(total > 0, total, 1.0), 1.0 / np.maximum(n[rows], 1))


def _converting(paths: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(paths["converted"], errors="coerce").fillna(0).to_numpy(dtype=float) > 0


def touch_credits(paths: pd.DataFrame, model: str = "linear", *, half_life_days: float = 7,
                  u_weights: Any = (0.4, 0.4), w_weights: Any = (0.3, 0.3, 0.3),
                  full_path_weights: Any = (0.225, 0.225, 0.225, 0.225)) -> pd.DataFrame:
    """Each touch's credit for its journey's conversion: the account drill-down.

    Parameters
    ----------
    paths : DataFrame
        A frame of :func:`journeylib.attribution.conversion_paths` (``conversion_at`` not needed).
    model : {"first", "last", "linear", "time_decay", "u_shaped", "w_shaped", "full_path"}
        The rule (module docstring: weights, milestone conventions, worked example).
    half_life_days : float, default 7
        time_decay: a touch this many days earlier gets half the weight.
    u_weights : (float, float), default (0.4, 0.4)
        u_shaped: first touch, lead-creation touch (the U anchor); the rest goes between.
    w_weights : (float, float, float), default (0.3, 0.3, 0.3)
        w_shaped: first touch, lead creation, opportunity creation; the rest to the others.
    full_path_weights : 4 floats, default (0.225, 0.225, 0.225, 0.225)
        full_path: first touch, lead creation, opportunity creation, closing touch.

    Returns
    -------
    DataFrame
        One row per touch of each converting journey with a path, in input order:
        ``journey_id``, ``account_id``, ``position`` (0-based), ``channel``, ``campaign`` (None
        when none), ``touch_time``, ``credit`` (sums to 1 per journey) and ``value_credit``
        (credit x the journey's value; a missing value counts as 0). ``attrs["model"]``.
    """
    paths = _check_paths(paths)
    model, params = _check_model(model, half_life_days, u_weights, w_weights, full_path_weights)
    conv = paths[_converting(paths)]
    t = _Touches(conv, campaigns=True, times=True)
    credit = _credit(t, model, *params)
    value = pd.to_numeric(conv["value"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    out = pd.DataFrame({"journey_id": conv["journey_id"].to_numpy()[t.rows],
                        "account_id": conv["account_id"].to_numpy()[t.rows], "position": t.pos,
                        "channel": t.channel, "campaign": t.campaign, "touch_time": t.time,
                        "credit": credit, "value_credit": credit * value[t.rows]})
    out.attrs["model"] = model
    return out


def _check_model(model, half_life_days, u_weights, w_weights, full_path_weights) -> tuple[str, tuple]:
    model = check_choice(model, "model", MODELS)
    half_life = check_number(half_life_days, "half_life_days", minimum=0, low_open=True, what="a number of days")
    return model, (half_life, _check_weights(u_weights, "u_weights", 2), _check_weights(w_weights, "w_weights", 3),
                   _check_weights(full_path_weights, "full_path_weights", 4))


def rule_based(paths: pd.DataFrame, model: str = "linear", *, by: str = "channel", half_life_days: float = 7,
               u_weights: Any = (0.4, 0.4), w_weights: Any = (0.3, 0.3, 0.3),
               full_path_weights: Any = (0.225, 0.225, 0.225, 0.225)) -> pd.DataFrame:
    """Conversions and value credited to each channel (or campaign) under a rule-based model.

    Parameters
    ----------
    paths : DataFrame
        A frame of :func:`journeylib.attribution.conversion_paths`.
    model : str, default "linear"
        One of :data:`MODELS` (module docstring).
    by : {"channel", "campaign"}, default "channel"
        Credit channels, or campaigns (touches without one under :data:`NO_NAME`).
    half_life_days, u_weights, w_weights, full_path_weights
        The model's parameters, as in :func:`touch_credits`.

    Returns
    -------
    DataFrame
        One row per channel (or campaign) seen in any journey: ``channel`` (or ``campaign``),
        ``conversions`` (credited; sums to the converting journeys with a path), ``value``
        (credited; sums to their value), ``touches`` (in all journeys, converting or not) and
        ``journeys`` (journeys with at least one such touch); sorted by conversions
        (descending), then name. ``attrs``: ``model``, ``by``, ``unattributed_conversions``
        and ``unattributed_value`` (converting journeys with an empty path).
    """
    paths = _check_paths(paths)
    model, params = _check_model(model, half_life_days, u_weights, w_weights, full_path_weights)
    by = check_choice(by, "by", BY)
    t = _Touches(paths, campaigns=by == "campaign", times=model == "time_decay")
    key = pd.Series(t.channel if by == "channel" else t.campaign, dtype=object)
    key = key.where(key.notna(), NO_NAME).astype(str).to_numpy()
    converting = _converting(paths)
    value = pd.to_numeric(paths["value"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    # credits for all journeys at once, then zeroed for the non-converting ones (cheaper than a second explode)
    credit = _credit(t, model, *params) * converting[t.rows]
    touches = pd.DataFrame({by: key, "conversions": credit, "value": credit * value[t.rows], "touches": 1,
                            "_row": t.rows})
    g = touches.groupby(by, sort=False)
    out = g[["conversions", "value", "touches"]].sum()
    out["journeys"] = touches.drop_duplicates([by, "_row"]).groupby(by, sort=False).size()
    out = out.reset_index()
    out["touches"] = out["touches"].astype(np.int64)
    out["journeys"] = out["journeys"].astype(np.int64)
    out = out.assign(_neg=-out["conversions"].round(9)).sort_values(["_neg", by], kind="stable").drop(columns="_neg")
    out = out.reset_index(drop=True)
    empty = converting & (t.n == 0)
    out.attrs.update(model=model, by=by, unattributed_conversions=int(empty.sum()),
                     unattributed_value=float(value[empty].sum()))
    return out
