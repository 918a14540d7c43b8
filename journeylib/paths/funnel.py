"""Funnel, stalls, drop-off points and time in stage, from the same ordered journeys.

* :func:`funnel` - journeys reaching each linear stage (ever, and in lifecycle
  order), stage-to-stage conversion and the median time to reach each stage;
* :func:`stalls` - where journeys stall: their furthest stage and how long ago they
  reached it and last moved, as of a date;
* :func:`drop_offs` - negative touchpoint outcomes (demo no-shows, abandoned forms)
  and how often journeys still moved on after them;
* :func:`time_in_stage` - the distribution of days per visit of a stage, per segment.

All are public in :mod:`journeylib.paths`; see there for the order, steps and filters.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_days, check_names
from ..data import JourneyData
from ..errors import ParameterError
from ..schema import OUTCOME, TOUCHPOINT
from .log import DAY_NS, EventLog, as_log, document, empty_result, segment_map, steps_of
from .table_log import TableLog

__all__ = ["funnel", "stalls", "drop_offs", "time_in_stage", "DROP_OUTCOMES"]

DROP_OUTCOMES = ("no_show", "abandoned")
_BIG = np.iinfo(np.int64).max


def _first_entries(log, st) -> np.ndarray:
    """J x K first-entry times (int64 ns; max int where never entered)."""
    K = len(log.lifecycle.ids)
    first = np.full((log.n_journeys, K), _BIG, dtype=np.int64)
    for s in np.flatnonzero(np.bincount(st.stage, minlength=1)):
        at = np.flatnonzero(st.stage == s)
        j = st.jcode[at]
        head = np.r_[True, j[1:] != j[:-1]]
        first[j[head], s] = st.ts[at[head]]
    return first


@document
def funnel(log: "EventLog | JourneyData") -> pd.DataFrame:
    """Journeys reaching each linear stage, and stage-to-stage conversion.

    A journey reaches a stage *in order* when it entered every earlier linear stage
    first (first-entry times never decrease along the lifecycle). Conversion is
    in-order: reached_in_order of a stage over reached_in_order of the stage before
    (of all journeys for the first stage). Recurring stages are not funnel stages.

    Parameters
    ----------
%(log)s

    Returns
    -------
    DataFrame
        One row per linear stage in lifecycle order: ``stage``, ``journeys`` (all),
        ``reached``, ``share_reached``, ``reached_in_order``, ``share_in_order``,
        ``conversion`` and ``median_days_to_reach`` (from the journey's first touchpoint,
        among those that reached it).
    """
    if isinstance(log, TableLog):
        from .sql_paths import sql_funnel

        return sql_funnel(log)
    log = as_log(log)
    lc = log.lifecycle
    n = log.n_journeys
    if not n:
        return funnel_frame(lc, 0, [], [], [], log.note)
    st = steps_of(log, True)
    first = _first_entries(log, st)
    began = log.ts[log.starts()[:-1]]
    ok = np.ones(n, dtype=bool)
    prev_t = began.copy()
    reached, in_order, medians = [], [], []
    for s in linear_stages(lc):
        f = first[:, s]
        hit = f != _BIG
        ok = ok & hit & (f >= prev_t)
        prev_t = np.where(ok, f, prev_t)
        days = (f[hit] - began[hit]) / DAY_NS
        reached.append(int(hit.sum()))
        in_order.append(int(ok.sum()))
        medians.append(float(np.median(days)) if len(days) else np.nan)
    return funnel_frame(lc, n, reached, in_order, medians)


def linear_stages(lc) -> list[int]:
    """Positions of the lifecycle's linear (funnel) stages, in order."""
    return [s.order for s in lc.stages if not s.recurring]


def funnel_frame(lc, n: int, reached: list[int], in_order: list[int], medians: list[float],
                 note: str = "") -> pd.DataFrame:
    """The :func:`funnel` table of ``n`` journeys from, per linear stage, the journeys reaching it, those
    reaching it in order and the median days to reach it. Shared by the engines (:mod:`.sql_paths`)."""
    cols = {"stage": lc.dtype, "journeys": "int64", "reached": "int64", "share_reached": float,
            "reached_in_order": "int64", "share_in_order": float, "conversion": float, "median_days_to_reach": float}
    if not n:
        return empty_result(cols, note)
    rows, prev_in_order = [], n
    for s, hit, ok, median in zip(linear_stages(lc), reached, in_order, medians):
        rows.append((lc.ids[s], n, hit, hit / n, ok, ok / n, ok / prev_in_order if prev_in_order else np.nan, median))
        prev_in_order = ok
    out = pd.DataFrame(rows, columns=list(cols))
    out["stage"] = pd.Categorical(out["stage"], dtype=lc.dtype)
    out.attrs["note"] = ""
    return out


@document
def stalls(log: "EventLog | JourneyData", *, dormant_days: float = 90.0) -> pd.DataFrame:
    """Where journeys stall: their furthest linear stage, and how long ago, as of the log's cut-off.

    Parameters
    ----------
%(log)s
        Ages are measured at its cut-off: a log built from a frame needs ``as_of``.
    dormant_days : float, default 90
        A journey with no touchpoint in this many days before as_of is dormant.

    Returns
    -------
    DataFrame
        One row per linear stage in lifecycle order that is some journey's furthest:
        ``stage``, ``journeys``, ``share`` (of journeys with a linear stage),
        ``median_days_since_reached`` (since first entering it),
        ``median_days_since_last_touch``, ``dormant`` and ``dormant_share``.
    """
    log = as_log(log)
    if log.cutoff is None:
        raise ParameterError("stalls measures ages at the log's as_of, and this log has none: build it with "
                             "paths.event_log(..., as_of=...) (a JourneyData's log has its cut-off)")
    dormant = check_days(dormant_days, "dormant_days")
    lc = log.lifecycle
    cols = {"stage": lc.dtype, "journeys": "int64", "share": float, "median_days_since_reached": float,
            "median_days_since_last_touch": float, "dormant": "int64", "dormant_share": float}
    if not log.n_journeys:
        return empty_result(cols, log.note)
    st = steps_of(log, True)
    first = _first_entries(log, st)
    linear = np.array(linear_stages(lc))
    reached = first[:, linear] != _BIG
    has = reached.any(axis=1)
    top_idx = np.where(has, reached.shape[1] - 1 - np.argmax(reached[:, ::-1], axis=1), -1)
    top = np.where(has, linear[np.maximum(top_idx, 0)], -1)
    since = (log.cutoff - first[np.arange(log.n_journeys), np.maximum(top, 0)]) / DAY_NS
    last_touch = (log.cutoff - log.ts[log.starts()[1:] - 1]) / DAY_NS
    frame = pd.DataFrame({"top": top, "since": since, "idle": last_touch})[has]
    if frame.empty:
        return empty_result(cols, "no journey reached a linear stage")
    g = frame.groupby("top", sort=True)
    out = pd.DataFrame({
        "stage": pd.Categorical.from_codes(g.size().index.to_numpy(), dtype=lc.dtype),
        "journeys": g.size().to_numpy().astype(np.int64),
        "share": g.size().to_numpy() / len(frame),
        "median_days_since_reached": g["since"].median().to_numpy(),
        "median_days_since_last_touch": g["idle"].median().to_numpy(),
        "dormant": g["idle"].apply(lambda x: int((x >= dormant).sum())).to_numpy().astype(np.int64),
    })
    out["dormant_share"] = out["dormant"] / out["journeys"]
    out.attrs["note"] = ""
    return out


@document
def _with_missing(values: np.ndarray, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``values`` and ``missing``, and the code into them of each value, then of ``missing`` (last,
    so a code of -1 picks it)."""
    codes, distinct = pd.factorize(np.append(values, missing).astype(object))
    return np.asarray(distinct, dtype=object), codes


def drop_offs(log: "EventLog | JourneyData", *, outcomes: Any = DROP_OUTCOMES) -> pd.DataFrame:
    """Drop-off points: touchpoints with a negative outcome, and what followed.

    For every touchpoint name that has one of ``outcomes`` (demo no-shows, abandoned
    forms...): how many events and journeys, the rate among that touchpoint's events,
    and the share of journeys that later reached a linear stage beyond the
    touchpoint's stage after their first such event, next to the same share after the
    touchpoint's other outcomes.

    Parameters
    ----------
%(log)s
    outcomes : list of str, default ("no_show", "abandoned")

    Returns
    -------
    DataFrame
        Sorted by stage, touchpoint and outcome: ``stage``, ``touchpoint``, ``outcome``,
        ``events``, ``journeys``, ``rate`` (of the touchpoint's events),
        ``progressed_share`` (of those journeys, share that moved beyond the stage after
        it) and ``progressed_share_otherwise`` (the same after the touchpoint's other
        outcomes). Empty, with ``attrs["note"]``, when there is no outcome column or no
        such outcome.
    """
    wanted = check_names(outcomes, "outcomes")
    log = as_log(log)
    lc = log.lifecycle
    cols = {"stage": lc.dtype, "touchpoint": object, "outcome": object, "events": "int64", "journeys": "int64",
            "rate": float, "progressed_share": float, "progressed_share_otherwise": float}
    if OUTCOME not in log.frame.columns or TOUCHPOINT not in log.frame.columns:
        return empty_result(cols, "the touchpoints have no outcome column: drop-offs cannot be seen")
    if not log.n_journeys:
        return empty_result(cols, log.note)
    # codes, not a Python string per event: the outcome's distinct values are lowered once
    outcome_codes, outcome_values = pd.factorize(log.frame[OUTCOME])
    lowered = pd.Series(np.asarray(outcome_values, dtype=object)).astype("string").str.lower()
    outcome_names, lowered_codes = _with_missing(lowered.to_numpy(dtype=object, na_value=""), "")
    event_outcome = outcome_codes[log.src]
    bad = np.append(lowered.isin(wanted).to_numpy(dtype=bool, na_value=False), False)[event_outcome]
    if not bad.any():
        return empty_result(cols, f"no touchpoint has the outcome(s) {', '.join(wanted)}")
    name_codes, names = pd.factorize(log.frame[TOUCHPOINT])
    name = name_codes[log.src]
    # only the events of touchpoints (per stage) that have a drop outcome; an event without a touchpoint name
    # is in no group
    named = name >= 0
    bad_pair = np.zeros((len(lc.ids), len(names)), dtype=bool)
    bad_pair[log.stage[bad & named], name[bad & named]] = True
    kept = np.flatnonzero(named & bad_pair[log.stage, np.where(named, name, 0)])
    # the furthest linear stage after each kept event, within its journey: a running maximum from the end, on
    # integers that fit (journey, rank) in 32 bits when they can
    big = len(lc.ids) + 2
    key_type = np.int32 if (log.n_journeys + 1) * big < np.iinfo(np.int32).max else np.int64
    rank = np.array([0 if s.recurring else s.order + 1 for s in lc.stages], dtype=key_type)[log.stage]
    rev = np.subtract(log.n_journeys, log.jcode[::-1], dtype=key_type)
    rev *= big
    furthest = rev + rank[::-1]
    np.maximum.accumulate(furthest, out=furthest)
    furthest -= rev
    del rev
    furthest = furthest[::-1]  # from each event on, in its journey
    following = np.minimum(kept + 1, len(log.jcode) - 1)
    same_next = (kept + 1 < len(log.jcode)) & (log.jcode[following] == log.jcode[kept])
    progressed = np.where(same_next, furthest[following], 0) > rank[kept]
    del furthest, rank
    frame = pd.DataFrame({"j": log.jcode[kept], "touchpoint": name[kept],
                          "outcome": lowered_codes[event_outcome[kept]],  # a missing outcome (code -1) reads as ""
                          "bad": bad[kept], "progressed": progressed, "stage": log.stage[kept]})
    rows = []
    total = frame.groupby(["stage", "touchpoint"]).size()
    for (stage, tp, oc), part in frame[frame["bad"]].groupby(["stage", "touchpoint", "outcome"], sort=True):
        firsts = part.drop_duplicates("j")
        other = frame[(frame["stage"] == stage) & (frame["touchpoint"] == tp) & ~frame["bad"]].drop_duplicates("j")
        rows.append((int(stage), names[tp], outcome_names[oc], len(part), len(firsts), len(part) / total[(stage, tp)],
                     firsts["progressed"].mean(), other["progressed"].mean() if len(other) else np.nan))
    out = pd.DataFrame(rows, columns=list(cols)).sort_values(["stage", "touchpoint", "outcome"], kind="stable")
    out["stage"] = pd.Categorical.from_codes(out["stage"].to_numpy(), dtype=lc.dtype)
    out = out.reset_index(drop=True).astype({"events": "int64", "journeys": "int64"})
    out.attrs["note"] = ""
    return out


@document
def time_in_stage(log: "EventLog | JourneyData", *, segments: Any = None,
                  accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Days per visit of each stage, per segment when ``segments`` is given.

    A visit is a collapsed step: from entering a stage to entering the next one. A
    journey's last visit has no end yet and is left out.

    Parameters
    ----------
%(log)s
    segments : DataFrame or str, optional
        Group by segment: a frame with ``account_id`` and ``segment`` (or ``persona``),
        or the name of an ``accounts`` column (e.g. ``"region"``).
    accounts : DataFrame, optional
        For ``segments`` given as a column name; default: the log's JourneyData's.

    Returns
    -------
    DataFrame
        Sorted by segment and stage: ``segment`` ("(all)" without segments), ``stage``,
        ``visits``, ``journeys``, ``mean_days``, ``p10_days``, ``p25_days``,
        ``median_days``, ``p75_days``, ``p90_days``.
    """
    log = as_log(log)
    lc = log.lifecycle
    quant = ("p10_days", "p25_days", "median_days", "p75_days", "p90_days")
    cols = {"segment": object, "stage": lc.dtype, "visits": "int64", "journeys": "int64", "mean_days": float,
            **{q: float for q in quant}}
    if not log.n_journeys:
        return empty_result(cols, log.note)
    st = steps_of(log, True)
    closed = ~st.last
    if not closed.any():
        return empty_result(cols, "no journey has two steps, so no visit has ended")
    days = ((st.next_ts() - st.ts) / DAY_NS)[closed]
    seg_map = segment_map(segments, log.table("accounts", accounts))
    if seg_map is None:
        seg = np.full(log.n_journeys, "(all)", dtype=object)
    else:
        seg = pd.Series(log.journey_account).map(seg_map).fillna("(none)").to_numpy(dtype=object)
    frame = pd.DataFrame({"segment": seg[st.jcode[closed]], "stage": st.stage[closed], "j": st.jcode[closed],
                          "days": days})
    g = frame.groupby(["segment", "stage"], sort=True)
    q = g["days"].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack()
    out = pd.DataFrame({"visits": g.size(), "journeys": g["j"].nunique(), "mean_days": g["days"].mean()})
    out[list(quant)] = q.to_numpy()
    out = out.reset_index()
    out["stage"] = pd.Categorical.from_codes(out["stage"].to_numpy(), dtype=lc.dtype)
    out = out.astype({"visits": "int64", "journeys": "int64"})[list(cols)]
    out.attrs["note"] = ""
    return out
