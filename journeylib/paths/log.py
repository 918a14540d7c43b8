"""The event log behind :mod:`journeylib.paths`: input checks, filters, one order, steps.

Every path function builds an :class:`EventLog` from the touchpoints: the rows that
pass the filters, encoded as numpy arrays (journey codes, int64 nanoseconds, stage
positions) and sorted once into the one deterministic order of the library:

    journey, then timestamp, then ``event_id`` (as text; missing last), then input order

(input order is the row's position in the frame, not its index label). Journeys are
accounts, contacts or opportunities (``level``); an opportunity's journey is its
account's touchpoints from ``lookback_days`` before its creation to its close (or the
end of ``as_of``). DataFrames stay at the interface; inside, everything is numpy codes,
so the library's sort is one ``lexsort`` of two integer keys and the rest is linear.

This module is internal: use :mod:`journeylib.paths`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..checks import check_choice, check_days, check_names
from ..data import JourneyData
from ..data.timeparse import as_of_cutoff, cutoff_ns, window_ns
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, CHANNEL, CONTACT_ID, EVENT_ID, OPPORTUNITY_ID, STAGE, TIMESTAMP
from ..stages import Lifecycle, load_lifecycle

__all__ = ["EventLog", "Steps", "build_log", "as_log", "steps_of", "LEVELS", "DAY_NS", "FILTER_DOC", "LEVEL_DOC",
           "LOG_DOC", "document", "segment_map", "cutoff_ns", "window_ns", "empty_note", "empty_result"]

LEVELS = ("account", "contact", "opportunity")
DAY_NS = 86_400 * 10**9
SEGMENT = "segment"
PLAN = "plan"
# The opportunity columns an opportunity-level journey carries.
OPP_COLUMNS = ("created_at", "closed_at", "status", "type", "amount")

LEVEL_DOC = """
    level : {"account", "contact", "opportunity"}, optional
        Whose journeys (default "account"): one per account, per contact (touchpoints
        without a ``contact_id`` are left out) or per opportunity (its account's
        touchpoints from ``lookback_days`` before its creation to its close or
        ``as_of``; opportunities without touchpoints in that window have none; needs
        ``opportunities``).
    opportunities : DataFrame, optional
        ``opportunity_id, account_id, created_at`` (``closed_at, status, type``); for
        ``level="opportunity"``.
    lookback_days : float, default 180
        Days before an opportunity's creation that its journey starts."""
FILTER_DOC = """
    accounts : DataFrame, optional
        ``account_id`` and ``plan`` (and the column named by ``segments``); needed by
        ``plan`` and by ``segments`` given as a column name.
    segments : DataFrame or str, optional
        The account -> segment (or persona) assignment: a frame with ``account_id`` and
        a ``segment`` (or ``persona``) column, or the name of an ``accounts`` column
        (e.g. ``"region"``).
    segment, plan, channel : str or list of str, optional
        Keep only accounts in these segments, accounts on these plans, touchpoints
        through these channels. A value that occurs nowhere raises ParameterError
        (with "did you mean"); a combination that matches nothing gives an empty
        result whose ``attrs["note"]`` says why.
    start, end : date-like, optional
        Keep touchpoints from the start of ``start`` to the end of ``end`` (days in the
        data's timezone; UTC for a frame).
    as_of : date-like or Timestamp, optional
        The last instant used (:func:`~journeylib.data.timeparse.as_of_cutoff`): a date
        means the end of that day, a tz-aware Timestamp is used as is. Default: the
        JourneyData's own cut-off; none for a frame. Later touchpoints and
        opportunities are ignored, a close after it counts as open.
"""


LOG_DOC = """
    log : EventLog or JourneyData
        The journeys: an :func:`~journeylib.paths.event_log` (filters applied once), or a
        JourneyData, meaning ``event_log(data)`` (account journeys, all touchpoints up
        to its cut-off)."""


def document(func):
    """Fill a docstring's ``%(log)s``, ``%(levels)s`` and ``%(filters)s`` with the shared parameter docs."""
    func.__doc__ = (func.__doc__.replace("%(log)s", LOG_DOC.strip("\n")).replace("%(levels)s", LEVEL_DOC.strip("\n"))
                    .replace("%(filters)s", FILTER_DOC.strip("\n")))
    return func


def empty_result(columns: dict[str, Any], note: str) -> pd.DataFrame:
    """An empty result with its documented columns and ``attrs["note"]`` saying why it is empty."""
    out = pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
    out.attrs["note"] = note
    return out


def _check_known(values: list[str] | None, known: list[str], name: str) -> None:
    if values is None:
        return
    unknown = [v for v in values if v not in set(known)]
    if unknown:
        shown = ", ".join(repr(k) for k in known[:30]) + (" ..." if len(known) > 30 else "")
        raise ParameterError(
            f"{name} {unknown[0]!r} occurs nowhere in the data{did_you_mean(unknown[0], known)}; "
            f"known values: {shown or '(none)'}")


def segment_map(segments: Any, accounts: pd.DataFrame | None) -> pd.Series | None:
    """account_id -> segment (str; missing as "(none)") from a frame, a Series or an accounts column."""
    if segments is None:
        return None
    if isinstance(segments, str):
        if accounts is None:
            raise ParameterError(f"segments={segments!r} names an accounts column, but no accounts table was given; "
                                 "pass accounts=... or a frame with account_id and segment")
        if segments not in accounts.columns:
            raise ParameterError(f"segments={segments!r} is not a column of accounts"
                                 f"{did_you_mean(segments, accounts.columns)}; "
                                 f"columns: {', '.join(map(str, accounts.columns))}")
        frame = accounts[[ACCOUNT_ID, segments]].rename(columns={segments: SEGMENT})
    elif isinstance(segments, pd.Series):
        frame = pd.DataFrame({ACCOUNT_ID: segments.index.astype(str), SEGMENT: segments.to_numpy()})
    elif isinstance(segments, pd.DataFrame):
        if ACCOUNT_ID not in segments.columns:
            raise ParameterError(f"the segments frame has no '{ACCOUNT_ID}' column; columns: {list(segments.columns)}")
        others = [c for c in segments.columns if c != ACCOUNT_ID]
        col = (SEGMENT if SEGMENT in others else "persona" if "persona" in others
               else others[0] if len(others) == 1 else None)
        if col is None:
            raise ParameterError(f"the segments frame needs account_id and one 'segment' (or 'persona') column; "
                                 f"got columns {list(segments.columns)}")
        frame = segments[[ACCOUNT_ID, col]].rename(columns={col: SEGMENT})
    else:
        raise ParameterError("segments must be a DataFrame (account_id, segment), a Series or an accounts column "
                             f"name; got {type(segments).__name__}")
    ids = frame[ACCOUNT_ID].astype(str)
    if ids.duplicated().any():
        raise ParameterError(f"the segments frame lists account {ids[ids.duplicated()].iloc[0]!r} more than once; "
                             "give one segment per account")
    values = frame[SEGMENT].astype(object).where(frame[SEGMENT].notna(), "(none)").astype(str)
    return pd.Series(values.to_numpy(), index=ids.to_numpy(), name=SEGMENT)


def empty_note(parts: dict[str, Any]) -> str:
    """'no touchpoints match segment='x', plan='y'' for the filters that were set."""
    given = [f"{k}={v!r}" for k, v in parts.items() if v is not None]
    return "no touchpoints match " + (", ".join(given) if given else "(the log is empty)")


def _ns(series: pd.Series, name: str = "touchpoints.timestamp") -> np.ndarray:
    """int64 UTC nanoseconds of a timestamp column (naive values are taken as UTC)."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_timestamp(dtype.pyarrow_dtype):
        # Arrow timestamps hold UTC epochs whatever their zone: read them without a detour through objects
        chunked = series.array.__arrow_array__()
        ints = pc.cast(chunked.cast(pa.timestamp("ns", dtype.pyarrow_dtype.tz)), pa.int64())
        if ints.null_count:
            raise ParameterError(f"{name} has {ints.null_count} missing values; every row needs a time "
                                 "(journeylib.load sets such rows aside)")
        return ints.to_numpy()
    try:
        if not (isinstance(dtype, pd.DatetimeTZDtype) or str(dtype).startswith("datetime64")):
            series = pd.to_datetime(series, utc=True, format="ISO8601")
        elif not isinstance(dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_localize("UTC")
        if str(series.dtype) != "datetime64[ns, UTC]":
            series = series.astype("datetime64[ns, UTC]")
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{name} cannot be read as timestamps ({exc}); "
                             "load the data with journeylib.load() or give datetime values") from None
    values = series.array.asi8
    if len(values) and (values == np.iinfo(np.int64).min).any():
        raise ParameterError(f"{name} has {int((values == np.iinfo(np.int64).min).sum())} missing values; "
                             "every row needs a time (journeylib.load sets such rows aside)")
    return values


def _stage_index(series: pd.Series, lifecycle: Lifecycle) -> np.ndarray:
    """Position of each row's stage in the lifecycle (int16)."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                             or pa.types.is_large_string(dtype.pyarrow_dtype)):
        # fast path: look the values up among the stage ids and labels (others: the general path below)
        names = {**{s.label: s.id for s in lifecycle.stages}, **{i: i for i in lifecycle.ids}}
        chunked = series.array.__arrow_array__()
        found = pc.index_in(chunked, value_set=pa.array(list(names), type=dtype.pyarrow_dtype))
        if found.null_count == 0:
            lut = np.array([lifecycle.order[sid] for sid in names.values()], dtype=np.int16)
            return lut[found.to_numpy()] if len(found) else np.zeros(0, dtype=np.int16)
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        cats = [str(c) for c in series.cat.categories]
    elif isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype):
        chunked = series.array.__arrow_array__().unify_dictionaries()
        cats = [str(c) for c in (chunked.chunk(0).dictionary.to_pylist() if chunked.num_chunks else [])]
        indices = pa.chunked_array([c.indices for c in chunked.chunks], type=dtype.pyarrow_dtype.index_type)
        codes = pc.fill_null(indices.cast(pa.int64()), -1).to_numpy()
    else:
        codes, uniq = pd.factorize(series)
        cats = [str(c) for c in uniq]
    order = lifecycle.order
    lookup = {**{s.label.strip().lower(): s.id for s in lifecycle.stages}, **{i: i for i in lifecycle.ids}}
    lut = np.full(len(cats) + 1, -1, dtype=np.int16)
    used = np.bincount(codes.astype(np.int64) + 1, minlength=len(cats) + 1)[1:] > 0 if len(codes) else \
        np.zeros(len(cats), dtype=bool)
    unknown = []
    for i, c in enumerate(cats):
        sid = lookup.get(c, lookup.get(c.strip().lower()))
        if sid is None:
            if used[i]:
                unknown.append(c)
            continue
        lut[i] = order[sid]
    if unknown:
        raise ParameterError(f"touchpoints.stage has values that are not stages of the lifecycle: {unknown[:5]}"
                             f"{did_you_mean(unknown[0], lifecycle.ids)}; stages: {', '.join(lifecycle.ids)}")
    if (codes < 0).any():
        raise ParameterError(f"touchpoints.stage has {int((codes < 0).sum())} missing values; journeylib.load() "
                             "assigns every kept touchpoint a stage (map the touchpoint names in the stage file)")
    return lut[codes] if len(codes) else np.zeros(0, dtype=np.int16)


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes into sorted string uniques (missing: -1)."""
    codes, uniq = pd.factorize(series, sort=False)
    names = np.asarray(uniq.to_numpy(dtype=object) if hasattr(uniq, "to_numpy") else uniq, dtype=object)
    if not all(isinstance(u, str) for u in names):
        names = np.asarray([str(u) for u in names], dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    if not len(rank):
        return np.full(len(codes), -1, dtype=np.int64), names
    out = rank[codes]  # codes of -1 pick the last rank: put the sentinel back
    if (codes < 0).any():
        out[codes < 0] = -1
    return out, names[order]


def _order(key: np.ndarray, ts: np.ndarray, event_id: pd.Series | None,
           rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by key, timestamp, event_id (text, missing last), then input order.

    Returns the permutation and the sorted key and timestamps. ``rows`` are the events'
    positions in ``event_id`` (None: the identity); only tied events read it.
    """
    # Stable sorts only, so equal (key, ts) keep input order: by time first (timsort, fast on
    # the time-ordered exports usual for event logs), then by key in 16-bit radix passes.
    perm = np.argsort(ts, kind="stable")
    top = int(key.max()) if len(key) else 0
    shift = 0
    while True:
        digit = ((key[perm] >> shift) & 0xFFFF).astype(np.uint16)
        perm = perm[np.argsort(digit, kind="stable")]
        shift += 16
        if top >> shift == 0:
            break
    k, t = key[perm], ts[perm]
    if event_id is None or len(perm) < 2:
        return perm, k, t
    tie = (k[1:] == k[:-1]) & (t[1:] == t[:-1])
    if not tie.any():
        return perm, k, t
    inside = np.zeros(len(perm), dtype=bool)
    inside[1:] |= tie
    inside[:-1] |= tie
    pos = np.flatnonzero(inside)
    group = np.cumsum(np.r_[True, ~tie[pos[1:] - 1]])  # a new group where the tie chain breaks
    at = perm[pos] if rows is None else rows[perm[pos]]
    ev = event_id.iloc[at].to_numpy(dtype=object)
    missing = pd.isna(ev)
    text = np.where(missing, "", ev.astype(str))
    _, ev_rank = np.unique(text, return_inverse=True)
    sub = np.lexsort((perm[pos], ev_rank, missing, group))
    perm[pos] = perm[pos][sub]
    return perm, k, t  # ties share key and time: k and t are unchanged


@dataclass
class EventLog:
    """Filtered touchpoints in journey order, as arrays.

    Built once by :func:`journeylib.paths.event_log` (filters applied, sorted once) and
    passed to every path analysis (docs/architecture.md, "One input convention"). It
    keeps a reference to the input frame: build it again after changing that frame.

    Attributes
    ----------
    lifecycle : Lifecycle
    level : str
    ids : ndarray of str
        Journey ids (account, contact or opportunity ids) in sorted order; journey code j is ``ids[j]``.
    journey_account : ndarray of str
        The account id of each journey.
    jcode, ts, stage, src : ndarray
        Per event, in journey order: journey code, int64 UTC nanoseconds, stage position
        in the lifecycle, and the row's position in the input touchpoints.
    frame : DataFrame
        The input touchpoints (``src`` indexes it by position).
    extra : DataFrame or None
        Per journey (by code), the opportunity's created_at/closed_at/status/type/amount.
    cutoff : int or None
        The last nanosecond used (as_of), if given.
    note : str
        Why the log is empty ("" when it is not).
    data : JourneyData or None
        The data the log was built from.
    lookups : dict
        The accounts and opportunities tables the log was built with (a JourneyData's
        by default); with ``data``, where analyses find the other tables they need.
    """

    lifecycle: Lifecycle
    level: str
    ids: np.ndarray
    journey_account: np.ndarray
    jcode: np.ndarray
    ts: np.ndarray
    stage: np.ndarray
    src: np.ndarray
    frame: pd.DataFrame
    extra: pd.DataFrame | None = None
    cutoff: int | None = None
    note: str = ""
    filters: dict = field(default_factory=dict)
    data: Any = None
    lookups: dict = field(default_factory=dict)

    @property
    def n_journeys(self) -> int:
        return len(self.ids)

    def starts(self) -> np.ndarray:
        """Offsets of each journey's first event (length n_journeys + 1)."""
        return np.searchsorted(self.jcode, np.arange(self.n_journeys + 1), side="left")

    def table(self, name: str, given: pd.DataFrame | None = None) -> pd.DataFrame | None:
        """``given`` when not None, else the table the log was built with, else its JourneyData's (or None)."""
        if given is not None:
            return given
        if self.lookups.get(name) is not None:
            return self.lookups[name]
        return None if self.data is None else self.data.tables.get(name)


def as_log(source: Any) -> EventLog:
    """The event log an analysis works on: an :class:`EventLog` as is, a JourneyData's default log,
    a :class:`~journeylib.paths.table_log.TableLog`'s arrays (fetched once from its engine).

    Raises
    ------
    ParameterError
        For a touchpoints frame (filters belong to :func:`journeylib.paths.event_log`,
        applied once) or anything else.
    """
    from .table_log import TableLog

    if isinstance(source, EventLog):
        return source
    if isinstance(source, JourneyData):
        return build_log(source)
    if isinstance(source, TableLog):
        return source.event_log()
    if isinstance(source, pd.DataFrame):
        raise ParameterError("path analyses take an EventLog or a JourneyData, not a touchpoints frame: build the "
                             "log once with paths.event_log(touchpoints, lifecycle, ...) (filters and as_of go "
                             "there) and pass it to every analysis")
    raise ParameterError(f"expected an EventLog (paths.event_log) or a JourneyData (journeylib.load); "
                         f"got {type(source).__name__}")


def build_log(source: "pd.DataFrame | JourneyData", lifecycle: Any = None, *, level: str | None = None,
              opportunities: pd.DataFrame | None = None, lookback_days: float = 180.0,
              accounts: pd.DataFrame | None = None, segments: Any = None, segment: Any = None, plan: Any = None,
              start: Any = None, end: Any = None, channel: Any = None, as_of: Any = None) -> EventLog:
    """Check the inputs, apply the filters and sort the touchpoints into journeys (see ``event_log``)."""
    data, tz = None, "UTC"
    if isinstance(source, JourneyData):
        data, tz = source, source.tz
        lifecycle = source.lifecycle if lifecycle is None else lifecycle
        opportunities = source.opportunities if opportunities is None else opportunities
        accounts = source.accounts if accounts is None else accounts
        as_of = source.cutoff if as_of is None else min(as_of_cutoff(as_of, tz), source.cutoff)
        touchpoints = source.touchpoints
    elif isinstance(source, EventLog):
        raise ParameterError("this is already an EventLog: its filters were applied when it was built; pass it to "
                             "the analyses, or build a new log from the touchpoints or the JourneyData")
    else:
        touchpoints = source
    level = "account" if level is None else level
    if lifecycle is None:
        raise ParameterError("lifecycle is required with a touchpoints frame (e.g. data.lifecycle)")
    if not isinstance(lifecycle, Lifecycle):
        lifecycle = load_lifecycle(lifecycle)
    if not isinstance(touchpoints, pd.DataFrame):
        raise ParameterError(f"touchpoints must be a DataFrame, got {type(touchpoints).__name__}")
    missing = [c for c in (ACCOUNT_ID, TIMESTAMP, STAGE) if c not in touchpoints.columns]
    if missing:
        raise ParameterError(f"touchpoints lacks column(s) {missing}; it needs account_id, timestamp and stage "
                             "(journeylib.load() gives every touchpoint its stage)")
    level = check_choice(level, "level", LEVELS)
    if level == "contact" and CONTACT_ID not in touchpoints.columns:
        raise ParameterError("level='contact' needs a contact_id column in touchpoints")
    if level == "opportunity" and opportunities is None:
        raise ParameterError("level='opportunity' needs the opportunities table (opportunities=...)")
    lookback = check_days(lookback_days, "lookback_days")

    segs, plans, chans = check_names(segment, "segment"), check_names(plan, "plan"), check_names(channel, "channel")
    filters = {"segment": segment, "plan": plan, "channel": channel, "start": start, "end": end}
    n = len(touchpoints)
    ts = _ns(touchpoints[TIMESTAMP])
    stage = _stage_index(touchpoints[STAGE], lifecycle)
    acc_codes, acc_names = _codes(touchpoints[ACCOUNT_ID])
    if (acc_codes < 0).any():
        raise ParameterError(f"touchpoints.account_id has {int((acc_codes < 0).sum())} missing values")
    mask = np.ones(n, dtype=bool)
    cutoff, start_ns, end_ns = window_ns(as_of, start, end, tz)
    if cutoff is not None:
        mask &= ts <= cutoff
    if start_ns is not None:
        mask &= ts >= start_ns
    if end_ns is not None:
        mask &= ts <= end_ns
    if chans is not None:
        if CHANNEL not in touchpoints.columns:
            raise ParameterError("channel filter given but touchpoints has no channel column")
        known = sorted(str(c) for c in pd.unique(touchpoints[CHANNEL].dropna()))
        _check_known(chans, known, "channel")
        mask &= touchpoints[CHANNEL].isin(chans).to_numpy(dtype=bool, na_value=False)
    keep_acc = np.ones(len(acc_names), dtype=bool)
    seg_map = segment_map(segments, accounts)
    if segs is not None:
        if seg_map is None:
            raise ParameterError("segment filter given without segments: pass segments= (a frame with account_id "
                                 "and segment, or the name of an accounts column)")
        _check_known(segs, sorted(pd.unique(seg_map)), "segment")
        keep_acc &= np.isin(acc_names, seg_map.index[seg_map.isin(segs)].to_numpy())
    if plans is not None:
        if accounts is None or PLAN not in accounts.columns:
            raise ParameterError("plan filter given without an accounts table with a plan column (accounts=...)")
        known = sorted(str(p) for p in pd.unique(accounts[PLAN].dropna()))
        _check_known(plans, known, "plan")
        keep_acc &= np.isin(acc_names, accounts.loc[accounts[PLAN].isin(plans), ACCOUNT_ID].astype(str).to_numpy())
    if not keep_acc.all():
        mask &= keep_acc[acc_codes]

    filtered = not mask.all()
    idx = np.flatnonzero(mask) if filtered else None
    event_id = touchpoints[EVENT_ID] if EVENT_ID in touchpoints.columns else None
    ts_k, stage_k, acc_k = (ts[idx], stage[idx], acc_codes[idx]) if filtered else (ts, stage, acc_codes)
    extra = None
    if level == "account":
        key, ids = acc_k, acc_names
        if filtered:
            used = np.flatnonzero(np.bincount(acc_k, minlength=len(acc_names)))
            remap = np.full(len(acc_names), -1, dtype=np.int64)
            remap[used] = np.arange(len(used))
            key, ids = remap[acc_k], acc_names[used]
        perm, jcode, ts_s = _order(key, ts_k, event_id, idx)
        journey_account = ids
    elif level == "contact":
        c_codes, c_names = _codes(touchpoints[CONTACT_ID])
        rows = idx if filtered else np.arange(n)
        ck = c_codes[rows]
        has = ck >= 0
        rows, ts_k, stage_k, acc_k, ck = rows[has], ts_k[has], stage_k[has], acc_k[has], ck[has]
        idx = rows
        used = np.flatnonzero(np.bincount(ck, minlength=len(c_names))) if len(ck) else np.zeros(0, dtype=np.int64)
        remap = np.full(len(c_names), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        key, ids = remap[ck], c_names[used]
        perm, jcode, ts_s = _order(key, ts_k, event_id, idx)
        first = np.r_[True, jcode[1:] != jcode[:-1]] if len(jcode) else np.zeros(0, bool)
        journey_account = acc_names[acc_k[perm][first]] if len(jcode) else np.zeros(0, object)
    else:
        perm, acc_s, ts_s = _order(acc_k, ts_k, event_id, idx)
        sel, jcode, ids, journey_account, extra = _opportunity_windows(
            acc_s, ts_s, acc_names, opportunities, lookback, cutoff)
        perm, ts_s = perm[sel], ts_s[sel]
    src = perm if idx is None else idx[perm]
    return EventLog(lifecycle=lifecycle, level=level, ids=np.asarray(ids, dtype=object),
                    journey_account=np.asarray(journey_account, dtype=object), jcode=np.asarray(jcode, dtype=np.int64),
                    ts=ts_s, stage=stage_k[perm], src=src, frame=touchpoints, extra=extra, cutoff=cutoff,
                    note="" if len(perm) else empty_note(filters), filters=filters, data=data,
                    lookups={"accounts": accounts, "opportunities": opportunities})


def _opportunity_windows(acc: np.ndarray, ts: np.ndarray, acc_names: np.ndarray, opportunities: pd.DataFrame,
                         lookback_days: float, cutoff: int | None):
    """Select each opportunity's window of its account's (sorted) events.

    Returns the positions into the account-ordered events, their journey codes, the
    opportunity ids, their accounts and the per-opportunity extra columns.
    """
    need = [OPPORTUNITY_ID, ACCOUNT_ID, "created_at"]
    missing = [c for c in need if c not in opportunities.columns]
    if missing:
        raise ParameterError(f"opportunities lacks column(s) {missing}; it needs {', '.join(need)}")
    opp = opportunities.copy()
    opp[OPPORTUNITY_ID] = opp[OPPORTUNITY_ID].astype(str)
    opp[ACCOUNT_ID] = opp[ACCOUNT_ID].astype(str)
    created = pd.Series(_ns(opp["created_at"], "opportunities.created_at"), index=opp.index)
    closed_raw = opp["closed_at"] if "closed_at" in opp.columns else pd.Series(pd.NaT, index=opp.index)
    closed = pd.to_datetime(closed_raw, utc=True)
    status = opp["status"].astype(object) if "status" in opp.columns else pd.Series(None, index=opp.index, dtype=object)
    keep = np.ones(len(opp), dtype=bool) if cutoff is None else created.to_numpy() <= cutoff
    opp, created, closed, status = opp[keep], created[keep], closed[keep], status[keep]
    closed_ns = closed.array.asi8.copy()
    nat = closed.isna().to_numpy()
    late = np.zeros(len(opp), dtype=bool) if cutoff is None else (~nat) & (closed_ns > cutoff)
    status = status.where(~late, "open")
    closed = closed.where(~late)
    open_end = np.iinfo(np.int64).max if cutoff is None else cutoff
    hi = np.where(nat | late, open_end, closed_ns)
    lo = created.to_numpy() - int(round(lookback_days * DAY_NS))
    opp = opp.assign(closed_at=closed, status=status, _lo=lo, _hi=hi).sort_values(OPPORTUNITY_ID, kind="stable")
    # account code of each opportunity (accounts absent from the log get no events)
    pos = np.searchsorted(acc_names, opp[ACCOUNT_ID].to_numpy(dtype=object))
    pos = np.minimum(pos, max(len(acc_names) - 1, 0))
    known = (len(acc_names) > 0) & (acc_names[pos] == opp[ACCOUNT_ID].to_numpy(dtype=object)) if len(acc_names) else \
        np.zeros(len(opp), dtype=bool)
    bounds = np.searchsorted(acc, np.arange(len(acc_names) + 1), side="left")
    parts, codes, ids, accs, rows = [], [], [], [], []
    lo_v, hi_v = opp["_lo"].to_numpy(), opp["_hi"].to_numpy()
    opp_ids, opp_acc = opp[OPPORTUNITY_ID].to_numpy(dtype=object), opp[ACCOUNT_ID].to_numpy(dtype=object)
    for i in range(len(opp)):
        if not known[i]:
            continue
        a0, a1 = bounds[pos[i]], bounds[pos[i] + 1]
        seg = ts[a0:a1]
        s = a0 + np.searchsorted(seg, lo_v[i], side="left")
        e = a0 + np.searchsorted(seg, hi_v[i], side="right")
        if e <= s:
            continue
        code = len(ids)
        parts.append(np.arange(s, e))
        codes.append(np.full(e - s, code, dtype=np.int64))
        ids.append(opp_ids[i])
        accs.append(opp_acc[i])
        rows.append(i)
    sel = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    jcode = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    cols = [c for c in OPP_COLUMNS if c in opp.columns]
    extra = opp.iloc[rows][cols].reset_index(drop=True)
    return sel, jcode, np.asarray(ids, dtype=object), np.asarray(accs, dtype=object), extra


class Steps:
    """The steps of every journey: runs of one stage when collapsed, else single events.

    Attributes
    ----------
    pos : positions (into the log's arrays) of each step's first event
    jcode, ts, stage : journey code, entry time (ns) and stage position of each step
    events : number of events in the step (1 when not collapsed)
    first : True on each journey's first step
    offsets : per journey, the index of its first step (length n_journeys + 1)
    step : 0-based step number within the journey (computed on first use)
    """

    def __init__(self, pos, jcode, ts, stage, events, first, offsets):
        self.pos, self.jcode, self.ts, self.stage = pos, jcode, ts, stage
        self.events, self.first, self.offsets = events, first, offsets
        self._step = None

    @property
    def step(self) -> np.ndarray:
        if self._step is None:
            self._step = (np.arange(len(self.jcode)) - self.offsets[self.jcode] if len(self.jcode)
                          else np.zeros(0, dtype=np.int64))
        return self._step

    @property
    def last(self) -> np.ndarray:
        """True on each journey's last step."""
        if not len(self.first):
            return self.first
        return np.r_[self.first[1:], True]

    def next_ts(self) -> np.ndarray:
        """Entry time of the next step in the same journey (int64; meaningless on last steps)."""
        return np.r_[self.ts[1:], 0] if len(self.ts) else self.ts


def steps_of(log: EventLog, collapse: bool) -> Steps:
    """Steps of the log's journeys; ``collapse`` merges consecutive events of one stage."""
    n = len(log.jcode)
    first = np.r_[True, log.jcode[1:] != log.jcode[:-1]] if n else np.zeros(0, dtype=bool)
    if collapse and n:
        keep = first | np.r_[True, log.stage[1:] != log.stage[:-1]]
        pos = np.flatnonzero(keep)
        jcode, sfirst, ts, stage = log.jcode[pos], first[pos], log.ts[pos], log.stage[pos]
        events = np.diff(np.r_[pos, n])
    else:
        pos = np.arange(n)
        jcode, sfirst, ts, stage = log.jcode, first, log.ts, log.stage
        events = np.ones(n, dtype=np.int64)
    offsets = np.searchsorted(jcode, np.arange(log.n_journeys + 1), side="left")
    return Steps(pos=pos, jcode=jcode, ts=ts, stage=stage.astype(np.int64), events=events, first=sfirst,
                 offsets=offsets)
