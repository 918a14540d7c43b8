"""Journeys, steps, transitions and variants from an :class:`~journeylib.paths.EventLog`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..checks import check_bool, check_choice, check_days, check_int
from ..errors import ParameterError
from ..data import JourneyData
from ..schema import ACCOUNT_ID, CHANNEL, TOUCHPOINT
from ..stages import Lifecycle
from .log import DAY_NS, EventLog, Steps, as_log, build_log, document, empty_result, steps_of
from .table_log import TableLog

__all__ = ["event_log", "journey_steps", "journeys", "transitions", "variants", "variant_journeys", "DIRECTIONS",
           "REENTRY_DAYS"]

DIRECTIONS = ("forward", "backward", "self", "recurring")
REENTRY_DAYS = 270.0


@document
def event_log(source: "JourneyData | pd.DataFrame | str", lifecycle: Lifecycle | None = None, *,
              level: str | None = None, opportunities: pd.DataFrame | None = None, lookback_days: float = 180.0,
              accounts: pd.DataFrame | None = None, segments: Any = None, segment: Any = None, plan: Any = None,
              start: Any = None, end: Any = None, channel: Any = None, as_of: Any = None,
              engine: str = "auto") -> EventLog:
    """Select, check and order the journeys once; every path analysis takes the result.

    The filters are applied here, once, and the touchpoints sorted once, so several
    analyses of one selection share the work (docs/architecture.md, "One input
    convention"). Every analysis of :mod:`journeylib.paths` also takes a JourneyData,
    meaning ``event_log(data)``.

    Parameters
    ----------
    source : JourneyData, DataFrame or path
        A JourneyData (its touchpoints, lifecycle, accounts, opportunities, timezone and
        cut-off are the defaults of the arguments below), a touchpoints frame:
        ``account_id, timestamp, stage`` (``event_id, contact_id, channel, touchpoint``),
        or a validated contract folder (``reports/YYYY-MM/contract``) or Parquet touchpoints.
    lifecycle : Lifecycle, optional
        Stage order, labels and recurring flags; required with a frame.
%(levels)s
%(filters)s

    engine : {"auto", "pandas", "duckdb", "spark"}, default "auto"
        For a path: ``"duckdb"`` or ``"spark"`` keep the Parquet touchpoints in that engine
        (:func:`~journeylib.paths.parquet_log.table_log`; account level, the as_of, start and
        end filters): transitions, the step Sankey and the funnel run there as SQL, beyond
        memory, and other analyses fetch the log's arrays once. ``"pandas"`` loads the data
        first; ``"auto"`` picks DuckDB for touchpoints over 1 GB on disk. A JourneyData or a
        frame is in memory already.

    Returns
    -------
    EventLog, or TableLog for the DuckDB and Spark engines

    Examples
    --------
    >>> log = event_log(data, segments="region", segment="EMEA")  # doctest: +SKIP
    >>> journeys(log), transitions(log), step_sankey(log)  # doctest: +SKIP
    >>> big = event_log("reports/2026-10/contract", engine="duckdb")  # doctest: +SKIP
    """
    if isinstance(source, (str, Path)):
        from .parquet_log import choose_engine, table_log

        chosen = choose_engine(source, engine)
        if chosen != "pandas":
            unsupported = {k: v for k, v in dict(level=level, opportunities=opportunities, accounts=accounts,
                                                 segments=segments, segment=segment, plan=plan,
                                                 channel=channel).items() if v is not None}
            if unsupported:
                name = "DuckDB" if chosen == "duckdb" else "Spark"
                raise ParameterError(f"the {name} engine builds account journeys with the as_of, start and end "
                                     f"filters only; not {', '.join(unsupported)} (use engine='pandas')")
            return table_log(source, lifecycle, engine=chosen, as_of=as_of, start=start, end=end)
        from ..data import load

        source = load(str(source), as_of=as_of)
    else:
        from .parquet_log import ENGINES

        check_choice(engine, "engine", ENGINES)
    return build_log(source, lifecycle, level=level, opportunities=opportunities, lookback_days=lookback_days,
                     accounts=accounts, segments=segments, segment=segment, plan=plan, start=start, end=end,
                     channel=channel, as_of=as_of)


def _stage_cat(codes: np.ndarray, lifecycle: Lifecycle) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), dtype=lifecycle.dtype)


def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(ns, dtype=np.int64), utc=True)


def _linear_rank(lifecycle: Lifecycle) -> np.ndarray:
    """Per stage position: 1 + its position for linear stages, 0 for recurring ones."""
    return np.array([0 if s.recurring else s.order + 1 for s in lifecycle.stages], dtype=np.int64)


def _segmented_max(values: np.ndarray, jcode: np.ndarray, big: int) -> np.ndarray:
    """Running maximum of non-negative ``values`` (< big) restarting at every journey."""
    if not len(values):
        return values
    offset = jcode * big
    return np.maximum.accumulate(offset + values) - offset


def _flags(log: EventLog, st: Steps, reentry_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """backward, reentry and first_entry flags of every step."""
    lin = _linear_rank(log.lifecycle)[st.stage] if len(st.stage) else np.zeros(0, dtype=np.int64)
    big = len(log.lifecycle.ids) + 2
    running = _segmented_max(lin, st.jcode, big)
    prev_max = np.r_[0, running[:-1]] if len(running) else running
    prev_max = np.where(st.first, 0, prev_max)
    backward = (lin > 0) & (lin < prev_max)
    first_entry = np.zeros(len(st.stage), dtype=bool)
    for s in np.flatnonzero(np.bincount(st.stage, minlength=1)):
        at = np.flatnonzero(st.stage == s)
        j = st.jcode[at]
        first_entry[at[np.r_[True, j[1:] != j[:-1]]]] = True
    prev_stage = np.r_[-1, st.stage[:-1]] if len(st.stage) else st.stage
    candidate = (lin > 0) & ~first_entry & ~(~st.first & (prev_stage == st.stage))
    reentry = np.zeros(len(st.stage), dtype=bool)
    if candidate.any():
        last_ts = log.ts[st.pos + st.events - 1]  # the last event of each step: collapse makes no difference
        start_of = st.offsets[st.jcode]
        positions = np.arange(len(lin))
        gap = int(round(reentry_days * DAY_NS))
        for v in np.flatnonzero(np.bincount(lin[candidate])):
            last = np.maximum.accumulate(np.where(lin >= v, positions, -1))
            before = np.r_[-1, last[:-1]]
            ok = candidate & (lin == v) & (before >= start_of)
            hit = np.flatnonzero(ok)
            reentry[hit[(st.ts[hit] - last_ts[before[hit]]) >= gap]] = True
    return backward, reentry, first_entry


def _join_paths(stage: np.ndarray, offsets: np.ndarray, lifecycle: Lifecycle, chunk: int = 100_000) -> np.ndarray:
    """' > '-joined stage ids of each journey's steps (offsets into ``stage``), ``chunk`` journeys at a
    time (Arrow's intermediate texts stay small beside the result)."""
    ids = pa.array(lifecycle.ids, type=pa.string())
    out = np.empty(len(offsets) - 1, dtype=object)
    for lo in range(0, len(out), chunk):
        at = offsets[lo:min(lo + chunk, len(out)) + 1]
        values = pc.take(ids, pa.array(stage[at[0]:at[-1]].astype(np.int32)))
        lists = pa.ListArray.from_arrays(pa.array((at - at[0]).astype(np.int32)), values)
        out[lo:lo + len(at) - 1] = pc.binary_join(lists, " > ").to_numpy(zero_copy_only=False)
    return out


@document
def journey_steps(log: "EventLog | JourneyData", *, collapse: bool = False,
                  reentry_days: float = REENTRY_DAYS) -> pd.DataFrame:
    """Every step of every journey, in order.

    Parameters
    ----------
%(log)s
    collapse : bool, default False
        Merge consecutive events of one stage into one step.
    reentry_days : float, default 270
        Days away from a stage (and every later one) after which entering it again is a re-entry.

    Returns
    -------
    DataFrame
        One row per step, sorted by ``journey_id`` and ``step``: ``journey_id``, ``account_id``,
        ``step`` (1-based), ``stage`` (lifecycle categorical), ``entered_at`` (UTC), ``events``
        (events in the step), ``touchpoint`` and ``channel`` of its first event (when present),
        ``days_to_next`` (to the next step's entry; NaN on the last step), ``first_entry``
        (first time this journey enters the stage), ``backward`` and ``reentry`` flags.

    Examples
    --------
    >>> steps = journey_steps(event_log(data, segments='region', segment='EMEA'), collapse=True)  # doctest: +SKIP
    """
    collapse = check_bool(collapse, "collapse")
    reentry_days = check_days(reentry_days, "reentry_days")
    log = as_log(log)
    st = steps_of(log, collapse)
    backward, reentry, first_entry = _flags(log, st, reentry_days)
    nxt = st.next_ts()
    days = np.where(st.last, np.nan, (nxt - st.ts) / DAY_NS)
    out = {
        "journey_id": log.ids[st.jcode],
        ACCOUNT_ID: log.journey_account[st.jcode],
        "step": st.step + 1,
        "stage": _stage_cat(st.stage, log.lifecycle),
        "entered_at": _utc(st.ts),
        "events": st.events.astype(np.int64),
    }
    for col in (TOUCHPOINT, CHANNEL):
        if col in log.frame.columns:
            out[col] = log.frame[col].iloc[log.src[st.pos]].to_numpy(dtype=object)
    out.update(days_to_next=days, first_entry=first_entry, backward=backward, reentry=reentry)
    frame = pd.DataFrame(out)
    frame.attrs["note"] = log.note
    return frame


@document
def journeys(log: "EventLog | JourneyData", *, collapse: bool = True, reentry_days: float = REENTRY_DAYS,
             opportunities: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per journey: its ordered stage sequence and what happened on it.

    Parameters
    ----------
%(log)s
    collapse : bool, default True
        Build ``path`` and ``steps`` from collapsed steps (repeats of a stage merged).
    reentry_days : float, default 270
        See :func:`journey_steps`.
    opportunities, subscriptions : DataFrame, optional
        Give each account-level or contact-level journey its account's ``outcome`` (see
        :func:`account_outcomes`); default: the tables of the log's JourneyData.

    Returns
    -------
    DataFrame
        Sorted by ``journey_id``: ``journey_id``, ``account_id``; for opportunities their
        ``created_at, closed_at, status, type, amount``; ``started_at``, ``ended_at``,
        ``events``, ``steps``, ``path`` (stage ids joined by " > "), ``first_stage``,
        ``last_stage``, ``furthest_stage`` (furthest linear stage; missing when only
        recurring stages occur), ``furthest_at`` (its first entry), ``backward_moves``,
        ``has_backward``, ``reentries``, ``has_reentry``, ``outcome`` (account and contact
        level, when ``opportunities`` or ``subscriptions`` are given), and
        ``entered_<stage>`` for every stage: the first-entry time (NaT when never).
    """
    collapse = check_bool(collapse, "collapse")
    reentry_days = check_days(reentry_days, "reentry_days")
    if isinstance(log, TableLog):
        from .sql_paths import sql_journey_columns

        ids, columns, entered = sql_journey_columns(log, collapse, reentry_days)
        return journeys_frame(log, ids, ids, None, columns, entered, opportunities, subscriptions)
    log = as_log(log)
    columns, entered = _journey_columns(log, collapse, reentry_days)
    return journeys_frame(log, log.ids, log.journey_account, log.extra, columns, entered, opportunities,
                          subscriptions)


def _journey_columns(log: EventLog, collapse: bool, reentry_days: float) -> tuple[dict, dict]:
    """The per-journey columns of :func:`journeys` from the log's arrays (stage codes, nanoseconds) and
    each stage's first-entry time (int64's minimum when never)."""
    lc = log.lifecycle
    st = steps_of(log, collapse)
    backward, reentry, first_entry = _flags(log, st, reentry_days)
    J = log.n_journeys
    never = np.iinfo(np.int64).min
    entered = {}
    for s in lc.ids:
        col = np.full(J, never, dtype=np.int64)
        hit = np.flatnonzero(first_entry & (st.stage == lc.order[s]))
        col[st.jcode[hit]] = st.ts[hit]
        entered[s] = col
    if not J:
        return {}, entered
    ev_start = log.starts()
    first_i, last_i = st.offsets[:-1], st.offsets[1:] - 1
    top = _segmented_max(_linear_rank(lc)[st.stage], st.jcode, len(lc.ids) + 2)[last_i]
    columns = dict(started=log.ts[ev_start[:-1]], ended=log.ts[ev_start[1:] - 1],
                   events=np.diff(ev_start).astype(np.int64), steps=np.diff(st.offsets).astype(np.int64),
                   path=_join_paths(st.stage, st.offsets, lc), first=st.stage[first_i], last=st.stage[last_i],
                   top=top, backward_moves=np.bincount(st.jcode, weights=backward, minlength=J).astype(np.int64),
                   reentries=np.bincount(st.jcode, weights=reentry, minlength=J).astype(np.int64))
    return columns, entered


def journeys_frame(log: "EventLog | TableLog", ids: np.ndarray, accounts: np.ndarray, extra: pd.DataFrame | None,
                   columns: dict, entered: dict, opportunities: pd.DataFrame | None,
                   subscriptions: pd.DataFrame | None) -> pd.DataFrame:
    """The frame of :func:`journeys` from its per-journey columns (stage codes, nanoseconds, ``top``: the
    furthest linear rank; empty when there is no journey) and each stage's first entry (int64's minimum
    when never); shared by the engines (:mod:`.sql_paths`)."""
    lc = log.lifecycle
    out: dict[str, Any] = {"journey_id": ids, ACCOUNT_ID: accounts}
    if extra is not None:
        for col in extra.columns:
            out[col] = extra[col].to_numpy()
    if len(ids):
        # the furthest linear stage, and when the journey first entered it
        rank_to_stage = {s.order + 1: s.order for s in lc.stages if not s.recurring}
        furthest = np.array([rank_to_stage.get(r, -1) for r in range(len(lc.ids) + 2)])[columns["top"]]
        furthest_at = np.full(len(ids), np.iinfo(np.int64).min, dtype=np.int64)
        for code, stage in enumerate(lc.ids):
            furthest_at[furthest == code] = entered[stage][furthest == code]
        out.update(
            started_at=_utc(columns["started"]), ended_at=_utc(columns["ended"]), events=columns["events"],
            steps=columns["steps"], path=columns["path"], first_stage=_stage_cat(columns["first"], lc),
            last_stage=_stage_cat(columns["last"], lc), furthest_stage=_stage_cat(furthest, lc),
            furthest_at=_utc_or_nat(furthest_at), backward_moves=columns["backward_moves"],
            has_backward=columns["backward_moves"] > 0, reentries=columns["reentries"],
            has_reentry=columns["reentries"] > 0)
        frame = pd.DataFrame(out)
    else:
        frame = _journeysempty_result(lc, log, extra)
    opportunities, subscriptions = log.table("opportunities", opportunities), log.table("subscriptions", subscriptions)
    if log.level != "opportunity" and (opportunities is not None or subscriptions is not None):
        from .compare import account_outcomes

        outcomes = account_outcomes(opportunities, subscriptions, as_of=log.cutoff)
        frame["outcome"] = (frame[ACCOUNT_ID].map(outcomes.set_index(ACCOUNT_ID)["outcome"])
                            .fillna("none").astype(object))
    for s in lc.ids:
        frame[f"entered_{s}"] = _utc_or_nat(entered[s])
    frame.attrs["note"] = log.note
    return frame


def _utc_or_nat(ns: np.ndarray) -> pd.DatetimeIndex:
    """UTC times of nanoseconds, NaT where int64's minimum marks none."""
    return pd.to_datetime(np.asarray(ns, dtype=np.int64).astype("datetime64[ns]"), utc=True)


def _journeysempty_result(lc: Lifecycle, log: "EventLog | TableLog", extra: pd.DataFrame | None) -> pd.DataFrame:
    cols: dict[str, Any] = {"journey_id": object, ACCOUNT_ID: object}
    if extra is not None:
        cols.update({c: extra[c].dtype for c in extra.columns})
    cols.update({"started_at": "datetime64[ns, UTC]", "ended_at": "datetime64[ns, UTC]", "events": "int64",
                 "steps": "int64", "path": object, "first_stage": lc.dtype, "last_stage": lc.dtype,
                 "furthest_stage": lc.dtype, "furthest_at": "datetime64[ns, UTC]", "backward_moves": "int64",
                 "has_backward": bool, "reentries": "int64", "has_reentry": bool})
    return empty_result(cols, log.note)


def _pairs(log: EventLog, collapse: bool):
    """Steps and, for each two consecutive steps of one journey: from and to stage, journey, days between."""
    st = steps_of(log, collapse)
    if len(st.stage) < 2:
        z = np.zeros(0, dtype=np.int64)
        return st, z, z, z, np.zeros(0)
    inside = ~st.first[1:]  # the second step of the pair continues the same journey
    a, b = st.stage[:-1][inside], st.stage[1:][inside]
    days = (st.ts[1:] - st.ts[:-1])[inside] / DAY_NS
    return st, a, b, st.jcode[1:][inside], days


def _distinct(groups: np.ndarray, code: np.ndarray, n_codes: int, n_groups: int) -> np.ndarray:
    """For each code, the number of distinct groups it occurs in."""
    if not len(code):
        return np.zeros(n_codes, dtype=np.int64)
    if n_groups * n_codes <= 60_000_000:
        seen = np.zeros((n_groups, n_codes), dtype=bool)
        seen[groups, code] = True
        return seen.sum(axis=0).astype(np.int64)
    pair = np.unique(groups.astype(np.int64) * n_codes + code)
    return np.bincount(pair % n_codes, minlength=n_codes).astype(np.int64)


def _direction(lc: Lifecycle, a: str, b: str) -> str:
    if a == b:
        return "self"
    if a in lc.recurring or b in lc.recurring:
        return "recurring"
    return "backward" if lc.is_backward(a, b) else "forward"


@document
def transitions(log: "EventLog | JourneyData", *, collapse: bool = False) -> pd.DataFrame:
    """From-stage -> to-stage moves between consecutive steps of the same journey.

    Uncollapsed (the default) every pair of consecutive events counts, self-moves
    included, so ``transitions`` equals a directly-follows graph of the log and sums
    to events - journeys. Collapsed, repeats are merged first and there are no self-moves.

    Parameters
    ----------
%(log)s
    collapse : bool, default False
        Merge consecutive events of one stage first.

    Returns
    -------
    DataFrame
        Sorted by from_stage, to_stage (lifecycle order): ``from_stage``, ``to_stage``
        (lifecycle categoricals), ``direction`` (forward / backward / self / recurring),
        ``transitions``, ``journeys`` and ``accounts`` (distinct ones making the move),
        ``share`` (of the from-stage's exits; sums to 1 per from-stage), ``median_days``
        and ``p90_days`` (from entering the from-step to entering the to-step).
    """
    collapse = check_bool(collapse, "collapse")
    if isinstance(log, TableLog):
        from .sql_paths import sql_transitions

        return sql_transitions(log, collapse)
    log = as_log(log)
    lc = log.lifecycle
    K = len(lc.ids)
    st, a, b, jj, dt = _pairs(log, collapse)
    if not len(a):
        return transitions_empty(lc, log.note or "no journey has two steps")
    code = a * K + b
    counts = np.bincount(code, minlength=K * K)
    by_journey = _distinct(jj, code, K * K, log.n_journeys)
    if log.level == "account":
        by_account = by_journey
    else:
        acc = _account_codes(log)
        by_account = _distinct(acc[jj], code, K * K, int(acc.max()) + 1)
    order = np.argsort(code.astype(np.uint16) if K * K < 65536 else code, kind="stable")
    bounds = np.r_[0, np.cumsum(counts)]
    present = np.flatnonzero(counts)
    med = np.empty(len(present))
    p90 = np.empty(len(present))
    for n_, c in enumerate(present):
        vals = dt[order[bounds[c]:bounds[c + 1]]]
        med[n_], p90[n_] = np.quantile(vals, [0.5, 0.9])
    return transitions_frame(lc, counts, by_journey, by_account, med, p90)


def transitions_frame(lc: Lifecycle, counts: np.ndarray, by_journey: np.ndarray, by_account: np.ndarray,
                      median_days: np.ndarray, p90_days: np.ndarray) -> pd.DataFrame:
    """The :func:`transitions` table from its counts by move code ``from * K + to`` (length K*K) and the
    day quantiles of the moves present (in code order); shared by the engines (:mod:`.sql_paths`)."""
    K = len(lc.ids)
    present = np.flatnonzero(counts)
    exits = counts.reshape(K, K).sum(axis=1)
    fa, fb = present // K, present % K
    frame = pd.DataFrame({
        "from_stage": _stage_cat(fa, lc), "to_stage": _stage_cat(fb, lc),
        "direction": [_direction(lc, lc.ids[x], lc.ids[y]) for x, y in zip(fa, fb)],
        "transitions": counts[present].astype(np.int64), "journeys": by_journey[present].astype(np.int64),
        "accounts": by_account[present].astype(np.int64), "share": counts[present] / exits[fa],
        "median_days": median_days, "p90_days": p90_days,
    })
    frame.attrs["note"] = ""
    return frame


def transitions_empty(lc: Lifecycle, note: str) -> pd.DataFrame:
    """An empty :func:`transitions` table saying why."""
    return empty_result({"from_stage": lc.dtype, "to_stage": lc.dtype, "direction": object, "transitions": "int64",
                         "journeys": "int64", "accounts": "int64", "share": float, "median_days": float,
                         "p90_days": float}, note)


def _account_codes(log: EventLog) -> np.ndarray:
    """Per journey, a code of its account (accounts sorted)."""
    _, inverse = np.unique(log.journey_account.astype(str), return_inverse=True)
    return inverse.astype(np.int64)


@document
def variants(log: "EventLog | JourneyData", *, top: int | None = 10, max_steps: int | None = 6,
             collapse: bool = True, opportunities: pd.DataFrame | None = None,
             subscriptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The most frequent paths, with their outcomes.

    B2B journeys are long and nearly all distinct, so a variant is the first
    ``max_steps`` steps of a journey; a longer journey's variant ends in " > ...".

    Parameters
    ----------
%(log)s
    top : int or None, default 10
        Number of variants returned (None: all; their shares then sum to 1).
    max_steps : int or None, default 6
        Steps of a journey that make its variant (None: the whole path).
    collapse : bool, default True
        Merge consecutive events of one stage first.
    opportunities, subscriptions : DataFrame, optional
        The outcome columns (see :func:`account_outcomes`); default: the tables of the
        log's JourneyData. For ``level="opportunity"`` the outcome is the opportunity's status.

    Returns
    -------
    DataFrame
        Sorted by journeys (descending) then variant: ``variant``, ``steps`` (steps in
        it), ``journeys``, ``share`` (of all journeys), and when outcomes are known one
        count column per outcome in :data:`OUTCOMES` order and ``win_rate`` (won + churned
        + expanded, i.e. ever won, over all).
    """
    from .compare import OUTCOMES

    top = check_int(top, "top", minimum=1, none=True)
    log = as_log(log)
    frame = _variant_frame(log, max_steps, collapse, opportunities, subscriptions)
    with_outcome = "outcome" in frame
    columns = {"variant": object, "steps": "int64", "journeys": "int64", "share": float}
    if with_outcome:
        columns.update({o: "int64" for o in OUTCOMES}, win_rate=float)
    if not log.n_journeys:
        return empty_result(columns, log.note)
    if with_outcome:
        frame["outcome"] = pd.Categorical(frame["outcome"], categories=list(OUTCOMES))
        counts = pd.crosstab(frame["variant"], frame["outcome"], dropna=False).reindex(columns=list(OUTCOMES),
                                                                                       fill_value=0)
    grouped = frame.groupby("variant", sort=True).agg(steps=("steps", "first"), journeys=("steps", "size"))
    grouped["share"] = grouped["journeys"] / log.n_journeys
    if with_outcome:
        grouped = grouped.join(counts.astype(np.int64))
        grouped["win_rate"] = grouped[["won", "churned", "expanded"]].sum(axis=1) / grouped["journeys"]
    grouped = grouped.reset_index().sort_values(["journeys", "variant"], ascending=[False, True], kind="stable")
    if top is not None:
        grouped = grouped.head(int(top))
    grouped = grouped.reset_index(drop=True).astype({"steps": "int64", "journeys": "int64"})
    grouped.columns.name = None
    grouped.attrs["note"] = ""
    return grouped



def _variant_frame(log: EventLog, max_steps: int | None, collapse: bool, opportunities: pd.DataFrame | None,
                   subscriptions: pd.DataFrame | None) -> pd.DataFrame:
    """Per journey (in journey-code order): journey_id, account_id, variant, steps and, when known, outcome."""
    from .compare import account_outcomes

    max_steps = check_int(max_steps, "max_steps", minimum=1, none=True)
    collapse = check_bool(collapse, "collapse")
    opportunities, subscriptions = log.table("opportunities", opportunities), log.table("subscriptions", subscriptions)
    if log.level == "opportunity":
        with_outcome = log.extra is not None and "status" in log.extra.columns
    else:
        with_outcome = opportunities is not None or subscriptions is not None
    frame = pd.DataFrame({"journey_id": log.ids, ACCOUNT_ID: log.journey_account})
    if not log.n_journeys:
        return frame.assign(variant=np.zeros(0, object), steps=np.zeros(0, np.int64),
                            **({"outcome": np.zeros(0, object)} if with_outcome else {}))
    st = steps_of(log, collapse)
    n_steps = np.diff(st.offsets)
    keep = st.step < (max_steps if max_steps is not None else np.iinfo(np.int64).max)
    kept = np.bincount(st.jcode[keep], minlength=log.n_journeys)
    text = _join_paths(st.stage[keep], np.r_[0, np.cumsum(kept)], log.lifecycle)
    frame["variant"] = np.where(n_steps > kept, text + " > ...", text)
    frame["steps"] = kept.astype(np.int64)
    if with_outcome:
        if log.level == "opportunity":
            outcome = log.extra["status"].astype(object).fillna("none").to_numpy()
        else:
            table = account_outcomes(opportunities, subscriptions, as_of=log.cutoff).set_index(ACCOUNT_ID)["outcome"]
            outcome = pd.Series(log.journey_account).map(table).fillna("none").to_numpy()
        frame["outcome"] = outcome.astype(object)
    return frame


@document
def variant_journeys(log: "EventLog | JourneyData", variant: "str | int", *, max_steps: int | None = 6,
                     collapse: bool = True, opportunities: pd.DataFrame | None = None,
                     subscriptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The journeys that follow one variant: the way from the variants table to its accounts.

    Parameters
    ----------
%(log)s
    variant : str or int
        A variant as :func:`variants` writes it (``"awareness > research > ..."``), or its rank
        there (1: the most frequent, ties broken by the variant's text as in that table).
    max_steps, collapse, opportunities, subscriptions
        As in :func:`variants` (use the same values, or the variant is another one).

    Returns
    -------
    DataFrame
        Sorted by ``journey_id``: ``journey_id``, ``account_id``, ``variant``, ``steps`` and,
        when outcomes are known, ``outcome``. ``attrs["variant"]`` is the variant's text.
        An unknown variant or rank: ParameterError listing the most frequent ones.
    """
    log = as_log(log)
    frame = _variant_frame(log, max_steps, collapse, opportunities, subscriptions)
    counts = frame.groupby("variant").size().reset_index(name="journeys").sort_values(
        ["journeys", "variant"], ascending=[False, True], kind="stable")["variant"].tolist()
    shown = "; ".join(f"{i}: {v}" for i, v in enumerate(counts[:5], start=1)) or "(no journeys)"
    if isinstance(variant, (int, np.integer)) and not isinstance(variant, bool):
        if not 1 <= int(variant) <= len(counts):
            raise ParameterError(f"variant rank {variant} is not between 1 and {len(counts)}, the number of "
                                 f"variants; the most frequent are {shown}")
        variant = counts[int(variant) - 1]
    elif not isinstance(variant, str) or variant.strip() not in set(counts):
        raise ParameterError(f"variant {variant!r} is followed by no journey of this selection; give a variant as "
                             f"the variants table writes it, or its rank: {shown}")
    chosen = frame[frame["variant"] == variant.strip()].sort_values("journey_id", kind="stable")
    chosen = chosen.reset_index(drop=True)
    chosen.attrs.update(variant=variant.strip(), note=log.note)
    return chosen
