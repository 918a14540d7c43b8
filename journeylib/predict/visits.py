"""Deal journeys as stage visits: the states of the pipeline chain and the time spent in each.

A deal (an opportunity) moves through the lifecycle stages its account's touches show, from
its creation to its close:

* its first state is the stage of the account's last touch at or before the creation (within
  ``lookback_days``), entered at the creation; :data:`NO_TOUCH` when there is none;
* every later touch before the close (or, for an open deal, up to the cut-off) moves it to
  that touch's stage; touches in recurring stages (``support``) are activity, not states;
  consecutive touches of one stage are one visit;
* the last visit ends at the close, in an absorbing state: :data:`WON`, :data:`LOST`, or
  :data:`CHURNED` for a lost renewal; an open deal's last visit is censored at the cut-off.

A visit's ``days`` are from its entry to the next entry (or the close, or the cut-off). The
stage at a given day is the last visit entered at or before it, which is what a snapshot of
the pipeline on that day would have shown.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_days, check_names
from ..data import JourneyData
from ..errors import ParameterError
from ..schema import ACCOUNT_ID, OPPORTUNITY_ID, TIMESTAMP
from ..data.contract import text_codes
from ..data.pairs import naive_utc, touches_in_windows

__all__ = ["deal_visits", "deals", "segment_of", "WON", "LOST", "CHURNED", "ABSORBING", "NO_TOUCH", "VISIT_COLUMNS"]

WON, LOST, CHURNED = "won", "lost", "churned"
#: The absorbing states.
ABSORBING = (WON, LOST, CHURNED)
#: The first state of a deal whose account had no touch before its creation.
NO_TOUCH = "no_touch_yet"
#: Columns of :func:`deal_visits`.
VISIT_COLUMNS = ("opportunity_id", "account_id", "segment", "visit", "state", "entered_at", "days", "next_state",
                 "censored")
_DAY = pd.Timedelta(days=1)


def segment_of(data: JourneyData, opps: pd.DataFrame, segments: Any = None) -> pd.Series:
    """Each deal's segment: its opportunity type (default), an accounts column, or a mapping of accounts.

    Parameters
    ----------
    data : JourneyData
    opps : DataFrame
        Opportunities (``account_id``, ``type``).
    segments : None, str or Series
        None: the opportunity type (``new``, ``expansion``, ``renewal``; "all" without
        types); a column of the accounts table (``plan``, ``region``...); or a Series
        mapping account ids to segments (e.g. personas). Accounts without one: "(none)".
    """
    if segments is None:
        kind = opps["type"].astype("string") if "type" in opps else pd.Series("all", index=opps.index)
        return kind.fillna("(none)").astype(str)
    if isinstance(segments, str):
        if segments not in data.accounts.columns:
            raise ParameterError(f"segments {segments!r} is not a column of accounts; columns: "
                                 f"{', '.join(map(str, data.accounts.columns))}")
        segments = data.accounts.set_index(data.accounts[ACCOUNT_ID].astype(str))[segments]
    if isinstance(segments, pd.DataFrame):
        if ACCOUNT_ID not in segments or segments.shape[1] < 2:
            raise ParameterError("segments as a frame needs account_id and one segment column")
        segments = segments.set_index(segments[ACCOUNT_ID].astype(str)).drop(columns=ACCOUNT_ID).iloc[:, 0]
    if not isinstance(segments, pd.Series):
        raise ParameterError(f"segments must be None, an accounts column name or a Series by account; "
                             f"got {type(segments).__name__}")
    mapped = opps[ACCOUNT_ID].astype(str).map(segments.set_axis(segments.index.astype(str)))
    return mapped.astype(object).where(mapped.notna(), "(none)").astype(str)


def deals(data: JourneyData, *, opportunity_types: Any = None) -> pd.DataFrame:
    """The opportunities the chain follows: id, account, created, closed, outcome, amount, type.

    ``outcome`` is :data:`WON`, :data:`LOST` (:data:`CHURNED` for a renewal), or NaN while open;
    rows without a creation time are left out. Sorted by creation, then id.
    """
    opp = data.opportunities
    if opp is None or opp.empty:
        raise ParameterError("the data have no opportunities: the pipeline chain follows opportunities from "
                             "creation to close; load an opportunities table")
    types = check_names(opportunity_types, "opportunity_types")
    cols = [c for c in (OPPORTUNITY_ID, ACCOUNT_ID, "created_at", "closed_at", "status", "amount", "type") if c in opp]
    out = opp[cols].copy()
    if types is not None:
        if "type" not in out:
            raise ParameterError("opportunity_types needs the opportunities' type column; it is absent")
        out = out[out["type"].astype("string").str.lower().isin([t.lower() for t in types]).fillna(False)]
    out = out[out["created_at"].notna()]
    status = out["status"].astype("string") if "status" in out else pd.Series(pd.NA, index=out.index)
    closed = out["closed_at"].notna() & status.isin(["won", "lost"]).fillna(False).to_numpy()
    renewal = out["type"].astype("string").eq("renewal").fillna(False) if "type" in out else False
    outcome = np.where(status.eq("won").fillna(False), WON, np.where(renewal, CHURNED, LOST))
    out["outcome"] = pd.Series(outcome, index=out.index).where(closed)
    out["closed_at"] = out["closed_at"].where(closed)
    if "amount" not in out:
        out["amount"] = np.nan
    if "type" not in out:
        out["type"] = pd.NA
    out[OPPORTUNITY_ID] = out[OPPORTUNITY_ID].astype(str)
    out[ACCOUNT_ID] = out[ACCOUNT_ID].astype(str)
    return out.sort_values(["created_at", OPPORTUNITY_ID], kind="stable").reset_index(drop=True)


def _cutoff_instant(data: JourneyData) -> np.datetime64:
    """The data's cut-off as a naive UTC instant, as :func:`~journeylib.data.pairs.naive_utc` gives times."""
    return np.datetime64(data.cutoff.tz_convert("UTC").tz_localize(None), "ns")


def _deal_touches(data: JourneyData, opps: pd.DataFrame, lookback_days: float) -> pd.DataFrame:
    """Touches of each deal's account from ``lookback_days`` before its creation to its end (close or cut-off).

    One row per (deal, touch), in deal then touchpoint order: ``_deal`` (the deal's position in ``opps``),
    ``_row`` (the touch's position in ``data.touchpoints``) and the touch's time. Callers take the touch
    columns they need by ``_row``: at 100,000 accounts the 6.3M pairs with the deal's ids and every touch
    column took 1.06 GB.
    """
    tp = data.touchpoints
    account, accounts = text_codes(tp[ACCOUNT_ID])  # each distinct account id turned into text once
    closed = naive_utc(opps["closed_at"])
    cutoff = _cutoff_instant(data)
    # a touch at the close is the outcome itself (the signature), not a state the deal was in
    deal, rows, _ = touches_in_windows(
        account, naive_utc(tp[TIMESTAMP]), pd.Index(accounts).get_indexer(opps[ACCOUNT_ID].astype(str)),
        naive_utc(opps["created_at"]) - pd.Timedelta(days=lookback_days).to_timedelta64(),
        np.where(np.isnat(closed), cutoff, closed), ~np.isnat(closed))
    return pd.DataFrame({"_deal": deal, "_row": rows, TIMESTAMP: tp[TIMESTAMP].array.take(rows)})


def deal_visits(data: JourneyData, *, segments: Any = None, opportunity_types: Any = None,
                lookback_days: float = 90) -> pd.DataFrame:
    """Every deal's stage visits from creation to close (module docstring).

    Parameters
    ----------
    data : JourneyData
    segments : None, str or Series
        As in :func:`segment_of` (default: the opportunity type).
    opportunity_types : list of str, optional
        Only these types (default: all).
    lookback_days : float, default 90
        How far before the creation the account's last touch may be to give the first state.

    Returns
    -------
    DataFrame
        :data:`VISIT_COLUMNS`, sorted by deal (creation order) and visit: ``state`` (a stage
        id or :data:`NO_TOUCH`), ``entered_at``, ``days`` (float), ``next_state`` (a state,
        an absorbing state, or None when ``censored``). ``attrs``: ``deals`` (:func:`deals`
        with the segment), ``state_order`` and ``cutoff``.
    """
    lookback = check_days(lookback_days, "lookback_days")
    opps = deals(data, opportunity_types=opportunity_types)
    opps["segment"] = segment_of(data, opps, segments).to_numpy()
    touches = _deal_touches(data, opps, lookback)
    stage = data.touchpoints["stage"].iloc[touches["_row"].to_numpy()].reset_index(drop=True)
    keep = (stage.notna() & ~stage.isin(data.lifecycle.recurring)).to_numpy()
    # by deal, time and stage text, on integer keys (the stage texts ranked once): at 100,000 accounts sorting
    # the frame by its text took 3 s and 0.2 GB
    codes, texts = text_codes(stage[keep])
    order = np.lexsort((np.argsort(np.argsort(texts, kind="stable"))[codes], naive_utc(touches[TIMESTAMP])[keep],
                        touches["_deal"].to_numpy()[keep]))
    states = pd.DataFrame({"_deal": touches["_deal"].to_numpy()[keep][order],
                           TIMESTAMP: touches[TIMESTAMP].array[keep][order], "stage": texts[codes[order]]})
    at = naive_utc(states[TIMESTAMP])
    created = naive_utc(opps["created_at"])[states["_deal"].to_numpy()]
    before = states[at <= created].drop_duplicates("_deal", keep="last")
    after = states[at > created]
    first = np.full(len(opps), NO_TOUCH, dtype=object)
    first[before["_deal"].to_numpy()] = before["stage"].to_numpy(dtype=object)
    seq = pd.DataFrame({"_deal": np.concatenate([np.arange(len(opps)), after["_deal"].to_numpy()]),
                        "t": pd.concat([opps["created_at"], after[TIMESTAMP]], ignore_index=True),
                        "state": np.concatenate([first, after["stage"].to_numpy(dtype=object)])})
    seq = seq.sort_values(["_deal", "t"], kind="stable").reset_index(drop=True)
    deal = seq["_deal"].to_numpy()
    state = seq["state"].to_numpy(dtype=object)
    new_visit = np.ones(len(seq), dtype=bool)
    new_visit[1:] = (deal[1:] != deal[:-1]) | (state[1:] != state[:-1])
    v = seq[new_visit].reset_index(drop=True)
    d = v["_deal"].to_numpy()
    last = np.ones(len(v), dtype=bool)
    last[:-1] = d[1:] != d[:-1]
    info = opps.iloc[d]
    still_open = info["closed_at"].isna().to_numpy()
    end = np.where(still_open, _cutoff_instant(data), naive_utc(info["closed_at"]))
    t = naive_utc(v["t"])
    left = np.empty_like(t)
    left[:-1] = t[1:]
    left[last] = end[last]
    next_state = np.empty(len(v), dtype=object)
    next_state[:-1] = v["state"].to_numpy(dtype=object)[1:]
    outcome = info["outcome"].to_numpy(dtype=object)
    next_state[last] = outcome[last]
    censored = last & still_open
    next_state[censored] = None
    visit = v.groupby("_deal").cumcount().to_numpy()
    out = pd.DataFrame({
        OPPORTUNITY_ID: info[OPPORTUNITY_ID].to_numpy(), ACCOUNT_ID: info[ACCOUNT_ID].to_numpy(),
        "segment": info["segment"].to_numpy(), "visit": visit, "state": v["state"].to_numpy(dtype=object),
        "entered_at": v["t"].array, "days": (left - t) / np.timedelta64(1, "D"),
        "next_state": next_state, "censored": censored})
    out["entered_at"] = pd.to_datetime(out["entered_at"], utc=True).astype("datetime64[ns, UTC]")
    out.attrs.update(deals=opps, state_order=[NO_TOUCH, *data.lifecycle.ids], cutoff=data.cutoff)
    return out
