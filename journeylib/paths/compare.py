"""Outcomes of accounts and what differs between won and lost accounts.

* :func:`account_outcomes` - each account's outcome (won, lost, open, churned,
  expanded, none) from its opportunities and subscriptions as of a date;
* :func:`won_vs_lost` - which touchpoints, channels, stages and buying-committee roles
  won and lost accounts had before their deal closed: the share of each group, lift,
  Fisher's exact test and Benjamini-Hochberg q-values, sorted by effect.

Both are public in :mod:`journeylib.paths`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int, check_names, check_number
from ..data import JourneyData
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, CHANNEL, CONTACT_ID, OPPORTUNITY_ID, TOUCHPOINT
from .log import EventLog, as_log, cutoff_ns, document

__all__ = ["OUTCOMES", "DIMENSIONS", "account_outcomes", "won_vs_lost"]

OUTCOMES = ("won", "lost", "open", "churned", "expanded", "none")
DIMENSIONS = ("touchpoint", "channel", "stage", "role")
_NAT = np.iinfo(np.int64).min


def _ns_col(frame: pd.DataFrame, col: str) -> np.ndarray:
    """int64 UTC ns of a time column; missing values (or a missing column) as the NaT sentinel."""
    if col not in frame.columns:
        return np.full(len(frame), _NAT, dtype=np.int64)
    values = pd.to_datetime(frame[col], utc=True)
    return values.astype("datetime64[ns, UTC]").array.asi8.copy()


def account_outcomes(opportunities: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None, *,
                     as_of: Any = None) -> pd.DataFrame:
    """Each account's outcome as of a date.

    In order of precedence: ``churned`` (was a customer, no subscription active at
    as_of), ``expanded`` (an active customer with a won expansion opportunity or a
    later subscription row with a higher MRR than its first), ``won`` (an active
    customer, or a won opportunity), ``open`` (an opportunity not closed by as_of),
    ``lost`` (only lost opportunities); other accounts are ``none``.

    Parameters
    ----------
    opportunities : DataFrame, optional
        ``opportunity_id, account_id, created_at, status`` (``closed_at, type``).
    subscriptions : DataFrame, optional
        ``account_id, start_date`` (``end_date, mrr``).
    as_of : date-like or Timestamp, optional
        Nothing after it counts: later opportunities and subscriptions are ignored, a
        close after it is open, an end after it is still active.

    Returns
    -------
    DataFrame
        ``account_id, outcome``, sorted by account_id; one row per account found in
        either table.
    """
    cut = cutoff_ns(as_of)
    horizon = np.iinfo(np.int64).max if cut is None else cut
    parts = []
    flags: dict[str, pd.Series] = {}
    if opportunities is not None:
        missing = [c for c in (ACCOUNT_ID, "created_at", "status") if c not in opportunities.columns]
        if missing:
            raise ParameterError(f"opportunities lacks column(s) {missing} needed for outcomes")
        created = _ns_col(opportunities, "created_at")
        closed = _ns_col(opportunities, "closed_at")
        keep = (created != _NAT) & (created <= horizon)
        opp = opportunities.loc[keep, [ACCOUNT_ID]].astype(str)
        status = opportunities.loc[keep, "status"].astype("string").str.strip().str.lower().to_numpy(dtype=object,
                                                                                                   na_value="open")
        late = (closed[keep] != _NAT) & (closed[keep] > horizon)
        status = np.where(late, "open", status)
        kind = (opportunities.loc[keep, "type"].astype("string").str.lower().to_numpy(dtype=object, na_value="")
                if "type" in opportunities.columns else np.full(int(keep.sum()), "", dtype=object))
        opp = opp.assign(won=status == "won", lost=status == "lost", open=status == "open",
                         expansion=(status == "won") & (kind == "expansion"))
        g = opp.groupby(ACCOUNT_ID, sort=False)[["won", "lost", "open", "expansion"]].any()
        flags.update({k: g[k] for k in g.columns})
        parts.append(g.index.to_series())
    if subscriptions is not None:
        missing = [c for c in (ACCOUNT_ID, "start_date") if c not in subscriptions.columns]
        if missing:
            raise ParameterError(f"subscriptions lacks column(s) {missing} needed for outcomes")
        start = _ns_col(subscriptions, "start_date")
        endv = _ns_col(subscriptions, "end_date")
        keep = (start != _NAT) & (start <= horizon)
        sub = pd.DataFrame({ACCOUNT_ID: subscriptions.loc[keep, ACCOUNT_ID].astype(str).to_numpy(),
                            "start": start[keep], "active": (endv[keep] == _NAT) | (endv[keep] > horizon),
                            "mrr": (subscriptions.loc[keep, "mrr"].to_numpy(dtype=float)
                                    if "mrr" in subscriptions.columns else np.zeros(int(keep.sum())))})
        sub = sub.sort_values([ACCOUNT_ID, "start"], kind="stable")
        first_mrr = sub.groupby(ACCOUNT_ID, sort=False)["mrr"].transform("first")
        sub["grew"] = sub["mrr"] > first_mrr
        g = sub.groupby(ACCOUNT_ID, sort=False).agg(customer=("start", "size"), active=("active", "any"),
                                                     grew=("grew", "any"))
        flags.update(customer=g["customer"] > 0, active=g["active"], grew=g["grew"])
        parts.append(g.index.to_series())
    if not parts:
        return pd.DataFrame({ACCOUNT_ID: pd.Series(dtype=object), "outcome": pd.Series(dtype=object)})
    ids = np.sort(pd.unique(pd.concat(parts, ignore_index=True).astype(str)))

    def flag(name: str) -> np.ndarray:
        s = flags.get(name)
        if s is None:
            return np.zeros(len(ids), dtype=bool)
        return s.astype(bool).reindex(ids, fill_value=False).to_numpy(dtype=bool)

    customer, active = flag("customer"), flag("active")
    churned = customer & ~active
    expanded = active & (flag("expansion") | flag("grew"))
    won = (customer & active) | flag("won")
    outcome = np.select([churned, expanded, won, flag("open"), flag("lost")],
                        ["churned", "expanded", "won", "open", "lost"], default="none")
    return pd.DataFrame({ACCOUNT_ID: ids.astype(object), "outcome": outcome.astype(object)})


@document
def won_vs_lost(log: "EventLog | JourneyData", *, opportunities: pd.DataFrame | None = None,
                contacts: pd.DataFrame | None = None, dimensions: Any = DIMENSIONS,
                opportunity_types: Any = ("new",), min_accounts: int = 5, alpha: float = 0.05) -> pd.DataFrame:
    """What won and lost accounts did differently before their deal closed.

    An account is *won* when one of its opportunities (of ``opportunity_types``) was won
    by as_of, its deciding close being the first won one; else *lost* when one was lost,
    the deciding close being the last lost one. Only touchpoints strictly before the
    deciding close count, so the contract signature and onboarding are not "reasons".
    For every value of every dimension (touchpoint name, channel, stage, and the role of
    the contact, from ``contacts``), the feature is "the account had at least one such
    touchpoint"; Fisher's exact test compares the groups and Benjamini-Hochberg controls
    the false discovery rate over all features tested.

    Parameters
    ----------
%(log)s
        Account journeys (``level="account"``).
    opportunities : DataFrame, optional
        ``opportunity_id, account_id, closed_at, status`` (``type``); default: the log's
        JourneyData's. Without any, the result is empty and its note says the table is missing.
    contacts : DataFrame, optional
        ``contact_id, role``: enables the ``role`` dimension (buying-committee roles);
        default: the log's JourneyData's.
    dimensions : list of str, default all of :data:`DIMENSIONS`
    opportunity_types : list of str or None, default ("new",)
        Opportunity types that decide; None: all (rows without a type always count).
    min_accounts : int, default 5
        Features held by fewer accounts (both groups together) are not tested.
    alpha : float, default 0.05
        False discovery rate for the ``significant`` flag.

    Returns
    -------
    DataFrame
        Sorted by the absolute difference of shares (largest first), then dimension and
        value: ``dimension``, ``value``, ``won_accounts``, ``lost_accounts`` (with the
        feature), ``share_won``, ``share_lost``, ``difference`` (share_won - share_lost),
        ``lift`` (share_won / share_lost; NaN when share_lost is 0), ``odds_ratio`` (with
        0.5 added to every cell), ``p_value`` (Fisher, two-sided), ``q_value`` (BH) and
        ``significant`` (q_value < alpha). ``attrs`` holds ``won`` and ``lost``, the
        group sizes.
    """
    from scipy.stats import false_discovery_control, fisher_exact

    dims = check_names(dimensions, "dimensions") or []
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad:
        raise ParameterError(f"dimension {bad[0]!r} is not known{did_you_mean(bad[0], DIMENSIONS)}; "
                             f"dimensions: {', '.join(DIMENSIONS)}")
    min_accounts = check_int(min_accounts, "min_accounts", minimum=1)
    alpha = check_number(alpha, "alpha", minimum=0, maximum=1, low_open=True, high_open=True,
                         what="a significance level")
    log = as_log(log)
    if log.level != "account":
        raise ParameterError(f"won vs lost compares accounts: build the log with level='account' (got {log.level!r})")
    opportunities, contacts = log.table("opportunities", opportunities), log.table("contacts", contacts)
    if opportunities is not None and not isinstance(opportunities, pd.DataFrame):
        raise ParameterError(f"opportunities must be a DataFrame (or None), got {type(opportunities).__name__}")
    if opportunities is not None:
        missing = [c for c in (OPPORTUNITY_ID, ACCOUNT_ID, "closed_at", "status") if c not in opportunities.columns]
        if missing:
            raise ParameterError(f"opportunities lacks column(s) {missing}; won vs lost needs closed deals")
    columns = {"dimension": object, "value": object, "won_accounts": "int64", "lost_accounts": "int64",
               "share_won": float, "share_lost": float, "difference": float, "lift": float, "odds_ratio": float,
               "p_value": float, "q_value": float, "significant": bool}

    def empty(note: str, won: int = 0, lost: int = 0) -> pd.DataFrame:
        out = pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
        out.attrs.update(note=note, won=won, lost=lost)
        return out

    if opportunities is None:
        return empty("there is no opportunities table: won vs lost needs won and lost deals")
    if not log.n_journeys:
        return empty(log.note)
    cut = log.cutoff if log.cutoff is not None else np.iinfo(np.int64).max
    closed = _ns_col(opportunities, "closed_at")
    status = opportunities["status"].astype("string").str.strip().str.lower().to_numpy(dtype=object, na_value="")
    decided = (closed != _NAT) & (closed <= cut) & np.isin(status, ["won", "lost"])
    types = check_names(opportunity_types, "opportunity_types")
    if types is not None and "type" in opportunities.columns:
        kind = opportunities["type"].astype("string").str.lower()
        decided &= (kind.isin(types) | kind.isna()).to_numpy(dtype=bool, na_value=True)
    opp = pd.DataFrame({ACCOUNT_ID: opportunities[ACCOUNT_ID].astype(str).to_numpy()[decided],
                        "won": status[decided] == "won", "closed": closed[decided]})
    won_close = opp[opp["won"]].groupby(ACCOUNT_ID)["closed"].min()
    lost_close = opp[~opp["won"]].groupby(ACCOUNT_ID)["closed"].max()
    ids = pd.Index(log.ids.astype(str))
    is_won = ids.isin(won_close.index)
    close_ns = np.where(is_won, won_close.reindex(ids, fill_value=_NAT).to_numpy(dtype=np.int64),
                        lost_close.reindex(ids, fill_value=_NAT).to_numpy(dtype=np.int64))
    member = close_ns != _NAT
    n_won, n_lost = int((member & is_won).sum()), int((member & ~is_won).sum())
    if n_won == 0 or n_lost == 0:
        return empty(f"won vs lost needs both groups; found {n_won} won and {n_lost} lost accounts", n_won, n_lost)
    before = member[log.jcode] & (log.ts < close_ns[log.jcode])
    ev = np.flatnonzero(before)
    acc = log.jcode[ev]
    rows = []
    for dim in dims:
        if dim == "stage":
            values = np.asarray(log.lifecycle.ids, dtype=object)[log.stage[ev]]
        elif dim == "role":
            if contacts is None or CONTACT_ID not in log.frame.columns or "role" not in contacts.columns:
                continue
            role = contacts.assign(**{CONTACT_ID: contacts[CONTACT_ID].astype(str)}).drop_duplicates(CONTACT_ID)
            cid = pd.Series(log.frame[CONTACT_ID].iloc[log.src[ev]].to_numpy(dtype=object))
            values = cid.map(role.set_index(CONTACT_ID)["role"]).to_numpy(dtype=object)
        else:
            col = TOUCHPOINT if dim == "touchpoint" else CHANNEL
            if col not in log.frame.columns:
                continue
            values = log.frame[col].iloc[log.src[ev]].to_numpy(dtype=object)
        ok = ~pd.isna(values)
        codes, uniq = pd.factorize(pd.Series(values[ok], dtype=object).astype(str), sort=True)
        if not len(uniq):
            continue
        pairs = np.unique(acc[ok] * len(uniq) + codes)
        has_acc, has_val = pairs // len(uniq), pairs % len(uniq)
        w = np.bincount(has_val[is_won[has_acc]], minlength=len(uniq))
        lo = np.bincount(has_val[~is_won[has_acc]], minlength=len(uniq))
        for v, name in enumerate(uniq):
            if w[v] + lo[v] >= min_accounts:
                rows.append((dim, str(name), int(w[v]), int(lo[v])))
    if not rows:
        return empty(f"no feature is held by at least {min_accounts} accounts", n_won, n_lost)
    out = pd.DataFrame(rows, columns=["dimension", "value", "won_accounts", "lost_accounts"])
    a, c = out["won_accounts"].to_numpy(), out["lost_accounts"].to_numpy()
    b, d = n_won - a, n_lost - c
    out["share_won"] = a / n_won
    out["share_lost"] = c / n_lost
    out["difference"] = out["share_won"] - out["share_lost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lift"] = np.where(c > 0, out["share_won"] / np.where(c > 0, out["share_lost"], 1), np.nan)
    out["odds_ratio"] = (a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))
    out["p_value"] = [fisher_exact([[x, y], [z, t]])[1] for x, y, z, t in zip(a, b, c, d)]
    out["q_value"] = false_discovery_control(out["p_value"].to_numpy(), method="bh")
    out["significant"] = out["q_value"] < alpha
    out = (out.assign(_abs=out["difference"].abs())
           .sort_values(["_abs", "dimension", "value"], ascending=[False, True, True], kind="stable")
           .drop(columns="_abs").reset_index(drop=True))
    out.attrs.update(note="", won=n_won, lost=n_lost)
    return out

