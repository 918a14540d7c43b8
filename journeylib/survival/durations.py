"""Value events and censored durations: time to first value and time to churn, per account.

Part of :mod:`journeylib.survival`; import the public names from there.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_days, check_share
from ..data.timeparse import as_of_cutoff
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, STAGE, TABLES, TIMESTAMP, TOUCHPOINT, OUTCOME
from ..data.contract import as_text

def _col(table: str, name: str) -> str:
    """A contract column name, checked against the schema once at import."""
    return TABLES[table].column(name).name


START = _col("subscriptions", "start_date")
END = _col("subscriptions", "end_date")
MRR = _col("subscriptions", "mrr")
PLAN = _col("subscriptions", "plan")
SEATS = _col("subscriptions", "seats_purchased")
USAGE_DATE = _col("usage", "date")
ACTIVE_USERS = _col("usage", "active_users")
FEATURE = _col("usage", "feature")
OPP_CLOSED = _col("opportunities", "closed_at")
OPP_STATUS = _col("opportunities", "status")
EMPLOYEES = _col("accounts", "employees")
ACCOUNT_PLAN = _col("accounts", "plan")
ACCOUNT_ATTRIBUTES = (_col("accounts", "industry"), _col("accounts", "region"))

DAY = pd.Timedelta(days=1)
NOT_REACHED = "not reached"
UNKNOWN = "(unknown)"
ORIGINS = ("subscription_start", "won_close")
#: status -> what it means (the ``status`` column of a durations table)
STATUS: dict[str, str] = {
    "event": "the event happened by as_of",
    "censored": "no event by as_of (censored at as_of)",
    "censored_churned": "churned before the event (censored at churn)",
    "no_origin": "no origin by as_of (not a customer): not used",
    "origin_after_as_of": "the origin lies after as_of: not used",
    "event_before_origin": "the first event precedes the origin: not used",
}
_USED = ("event", "censored", "censored_churned")
#: employee-count bands of the ``segment`` column: (lowest employees, label)
DEFAULT_SIZE_BANDS: tuple[tuple[int, str], ...] = ((0, "small (<100)"), (100, "mid-market (100-999)"),
                                                    (1000, "large (1000+)"))
DURATION_COLUMNS = ["account_id", "origin", "end_at", "duration", "event", "status", "used"]


# =========================================================================== value events
@dataclass(frozen=True)
class UsageMilestone:
    """Value = the first usage period where ``column`` reaches a threshold.

    Parameters
    ----------
    column : str
        Usage column compared with the threshold (``active_users``).
    share : float or None
        Threshold as a share of the seats purchased in the subscription in force:
        ``column >= ceil(share * seats_purchased)``. None: only ``minimum``.
    minimum : float or None
        An absolute threshold (both given: the larger one applies).
    feature : str or None
        Only usage rows of this ``feature``.
    period_days : int
        Length of a usage period starting at ``date`` (7 for weekly rows).
    at : {"midpoint", "start", "end"}
        Where in the first qualifying period the event is placed (the period is first
        cut to [origin, as_of]).
    """

    column: str = ACTIVE_USERS
    share: float | None = 0.25
    minimum: float | None = None
    feature: str | None = None
    period_days: int = 7
    at: str = "midpoint"

    def __post_init__(self):
        if self.share is None and self.minimum is None:
            raise ParameterError("UsageMilestone needs a threshold: give share (of seats purchased) or minimum")
        # checked, not converted: the fields keep the values given (equality, describe())
        if self.share is not None:
            check_share(self.share, "UsageMilestone share", low_open=True)
        check_days(self.period_days, "UsageMilestone period_days", minimum=1, whole=True)
        check_choice(self.at, "UsageMilestone at", ("midpoint", "start", "end"))

    def describe(self) -> str:
        parts = []
        if self.share is not None:
            parts.append(f"{self.column} >= ceil({self.share:g} x {SEATS})")
        if self.minimum is not None:
            parts.append(f"{self.column} >= {self.minimum:g}")
        feat = f" of feature '{self.feature}'" if self.feature else ""
        return f"first {self.period_days}-day usage period{feat} with " + " and ".join(parts)


@dataclass(frozen=True)
class TouchpointEvent:
    """Value = the first touchpoint named one of ``touchpoints`` (case-insensitive),
    optionally with a given ``outcome`` (e.g. ``completed``)."""

    touchpoints: tuple[str, ...] = ("feature_activation",)
    outcome: str | None = None

    def __post_init__(self):
        names = (self.touchpoints,) if isinstance(self.touchpoints, str) else tuple(self.touchpoints)
        names = tuple(str(n).strip().lower() for n in names if str(n).strip())
        if not names:
            raise ParameterError("TouchpointEvent needs at least one touchpoint name, e.g. 'feature_activation'")
        object.__setattr__(self, "touchpoints", names)

    def describe(self) -> str:
        out = f" with outcome '{self.outcome}'" if self.outcome else ""
        return f"first touchpoint {' / '.join(self.touchpoints)}{out}"


@dataclass(frozen=True)
class StageEvent:
    """Value = the first touchpoint of lifecycle stage ``stage`` (e.g. ``adoption``)."""

    stage: str = "adoption"

    def describe(self) -> str:
        return f"first touchpoint of stage '{self.stage}'"


ValueEvent = UsageMilestone | TouchpointEvent | StageEvent


def parse_value_event(text: "str | ValueEvent") -> ValueEvent:
    """Read a value event from a short string (a notebook parameter).

    ``"usage"`` (default milestone), ``"usage:0.5"`` (share of seats),
    ``"stage:adoption"``, ``"touchpoint:feature_activation"`` (several names
    separated by ``,``). A value-event object is returned as is.

    Examples
    --------
    >>> parse_value_event("usage:0.5").share
    0.5
    >>> parse_value_event("touchpoint:feature_activation").touchpoints
    ('feature_activation',)
    """
    if isinstance(text, (UsageMilestone, TouchpointEvent, StageEvent)):
        return text
    raw = str(text).strip()
    kind, _, arg = raw.partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    kinds = ["usage", "stage", "touchpoint"]
    if kind == "usage":
        if not arg:
            return UsageMilestone()
        try:
            return UsageMilestone(share=float(arg))
        except ValueError:
            raise ParameterError(f"value event {raw!r}: 'usage:' takes a share of seats such as usage:0.25") from None
    if kind == "stage" and arg:
        return StageEvent(arg)
    if kind == "touchpoint" and arg:
        return TouchpointEvent(tuple(a for a in arg.split(",")))
    raise ParameterError(f"value event {raw!r} is not understood{did_you_mean(kind, kinds)}; allowed: 'usage', "
                         "'usage:<share>', 'stage:<stage id>', 'touchpoint:<name>[,<name>...]'")


# =========================================================================== helpers
def _inputs(data: Any, as_of: Any) -> tuple[Mapping[str, pd.DataFrame | None], pd.Timestamp]:
    """(tables, cut-off) from a JourneyData (as_of defaults to its own; dates in its timezone) or a dict of tables."""
    if hasattr(data, "tables") and isinstance(data.tables, Mapping):
        if as_of is None:
            return data.tables, data.cutoff
        return data.tables, min(as_of_cutoff(as_of, getattr(data, "tz", "UTC")), data.cutoff)
    if not isinstance(data, Mapping):
        raise ParameterError(f"data must be a JourneyData (journeylib.load) or a mapping of table name -> DataFrame "
                             f"(e.g. data.tables); received {type(data).__name__}")
    if as_of is None:
        raise ParameterError("as_of is required with a dict of tables: give the analysis date (e.g. '2026-10-31')")
    return data, as_of_cutoff(as_of)


def _need(tables: Mapping, name: str, why: str) -> pd.DataFrame:
    df = tables.get(name)
    if df is None:
        raise ParameterError(f"{why} needs the '{name}' table, which is absent; tables present: "
                             f"{', '.join(k for k, v in tables.items() if v is not None)}")
    return df


def _need_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ParameterError(f"{what} has no column {', '.join(repr(m) + did_you_mean(m, df.columns) for m in missing)}; "
                             f"columns: {', '.join(map(str, df.columns))}")


def _utc(values: pd.Series) -> pd.Series:
    s = pd.to_datetime(values)
    if getattr(s.dt, "tz", None) is None:
        return s.dt.tz_localize("UTC")
    return s.dt.tz_convert("UTC")


def _days(delta: pd.Series) -> np.ndarray:
    return (delta / DAY).to_numpy(dtype=float)


def _subscriptions_at(subscriptions: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Subscription rows known at ``cutoff``: started by then; an end after it is not yet known (active)."""
    _need_columns(subscriptions, [ACCOUNT_ID, START], "subscriptions")
    cols = [c for c in (ACCOUNT_ID, START, END, MRR, PLAN, SEATS) if c in subscriptions.columns]
    sub = subscriptions[cols].copy()
    sub[START] = _utc(sub[START])
    sub[END] = _utc(sub[END]) if END in sub else pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns, UTC]")
    sub[ACCOUNT_ID] = sub[ACCOUNT_ID].astype(str)
    sub = sub[sub[START].notna() & (sub[START] <= cutoff)]
    # the churn time is the day after the last day of service; not yet happened at cutoff -> active
    stop = sub[END] + DAY
    sub[END] = sub[END].where(stop <= cutoff)
    return sub.sort_values([ACCOUNT_ID, START], kind="stable").reset_index(drop=True)


def _mrr_at(sub: pd.DataFrame, marks: pd.DataFrame) -> np.ndarray:
    """Sum of MRR of the subscription rows in force at ``marks['at']`` per row of ``marks`` (account_id, at)."""
    m = marks.reset_index(drop=True).reset_index().rename(columns={"index": "_i"})
    rows = sub[[ACCOUNT_ID, START, END, MRR]].merge(m, on=ACCOUNT_ID)
    stop = rows[END] + DAY
    inside = (rows[START] <= rows["at"]) & (stop.isna() | (rows["at"] < stop))
    total = rows.loc[inside.to_numpy()].groupby("_i")[MRR].sum()
    out = np.zeros(len(m))
    out[total.index.to_numpy()] = total.to_numpy(dtype=float)
    out[marks["at"].isna().to_numpy()] = np.nan
    return out


# =========================================================================== spans
def subscription_spans(subscriptions: pd.DataFrame, as_of: Any, *, churn_gap_days: int = 30) -> pd.DataFrame:
    """Merge each account's subscription rows into spans of continuous service.

    Rows are taken as known at ``as_of``: rows starting later are ignored and an
    ``end_date`` whose next day is after ``as_of`` is cleared (still active). A gap
    of fewer than ``churn_gap_days`` days without a subscription (the days between
    one row's ``end_date`` and the next row's ``start_date``, exclusive; an
    expansion starting the day after the old row ends has a gap of 0) is not churn.

    Parameters
    ----------
    subscriptions : DataFrame
        ``account_id, start_date`` and optionally ``end_date``.
    as_of : str, date or Timestamp
        Analysis date (a day, or the tz-aware last instant such as ``data.cutoff``).
    churn_gap_days : int, default 30

    Returns
    -------
    DataFrame with columns account_id, span (1-based), start, end (the last day of
    service; NaT while active), churn_at (the day after ``end``; NaT while active),
    rows (subscription rows merged), gap_before_days (days without a subscription
    before the span; NaN for the first), active (bool, the span is running at as_of).

    Examples
    --------
    >>> subs = pd.DataFrame({"account_id": ["A", "A", "A"],
    ...                      "start_date": pd.to_datetime(["2025-01-01", "2025-07-01", "2026-03-01"], utc=True),
    ...                      "end_date": pd.to_datetime(["2025-06-30", "2025-12-31", None], utc=True)})
    >>> subscription_spans(subs, "2026-10-31")[["span", "rows", "gap_before_days", "active"]].values.tolist()
    [[1, 2, nan, False], [2, 1, 59.0, True]]
    """
    gap = check_days(churn_gap_days, "churn_gap_days", whole=True)
    cutoff = as_of_cutoff(as_of)
    sub = _subscriptions_at(subscriptions, cutoff)
    cols = ["account_id", "span", "start", "end", "churn_at", "rows", "gap_before_days", "active"]
    if sub.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(cols, [
            object, "int64", "datetime64[ns, UTC]", "datetime64[ns, UTC]", "datetime64[ns, UTC]", "int64",
            "float64", "bool"])})
    start = sub[START].to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
    stop = (sub[END] + DAY).to_numpy(dtype="datetime64[ns]")
    stop = np.where(np.isnat(stop), np.inf, stop.astype("int64").astype(float))
    acc = sub[ACCOUNT_ID].to_numpy()
    new_acc = np.r_[True, acc[1:] != acc[:-1]]
    # running latest stop within each account, before each row
    run = pd.Series(stop).groupby(acc, sort=False).cummax().to_numpy()
    prev_stop = np.r_[np.nan, run[:-1]]
    day_ns = float(DAY.value)
    gap_days = (start - prev_stop) / day_ns
    new_span = new_acc | (gap_days >= gap)
    span_id = np.cumsum(new_span)
    frame = pd.DataFrame({"account_id": acc, "span_id": span_id, "start": sub[START], "stop": stop,
                          "gap": np.where(new_acc, np.nan, gap_days)})
    g = frame.groupby("span_id", sort=True)
    out = pd.DataFrame({
        "account_id": g["account_id"].first(),
        "start": g["start"].min(),
        "stop": g["stop"].max(),
        "rows": g.size().astype("int64"),
        "gap_before_days": g["gap"].first(),
    }).reset_index(drop=True)
    out["span"] = out.groupby("account_id", sort=False).cumcount().astype("int64") + 1
    finite = np.isfinite(out["stop"].to_numpy())
    stop_ts = pd.to_datetime(np.where(finite, out["stop"].to_numpy(), 0).astype("int64"), utc=True)
    out["churn_at"] = pd.Series(stop_ts, index=out.index).where(finite)
    out["end"] = out["churn_at"] - DAY
    out["active"] = ~finite
    return out[cols]


# =========================================================================== durations
def _accounts_frame(tables: Mapping, extra_ids: Sequence[pd.Series]) -> pd.DataFrame:
    accounts = tables.get("accounts")
    if accounts is not None:
        _need_columns(accounts, [ACCOUNT_ID], "accounts")
        ids = accounts[ACCOUNT_ID].astype(str)
        frame = accounts.assign(**{ACCOUNT_ID: ids}).drop_duplicates(ACCOUNT_ID)
    else:
        frame = pd.DataFrame({ACCOUNT_ID: pd.Series(dtype=object)})
    known = set(frame[ACCOUNT_ID])
    others = sorted({str(a) for s in extra_ids for a in s.dropna().unique()} - known)
    if others:
        frame = pd.concat([frame, pd.DataFrame({ACCOUNT_ID: others})], ignore_index=True)
    return frame.reset_index(drop=True)


def _size_segment(employees: pd.Series, bands: Sequence[tuple[float, str]]) -> pd.Series:
    bands = sorted(bands, key=lambda b: b[0])
    values = pd.to_numeric(employees, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(values), UNKNOWN, dtype=object)
    for low, label in bands:
        out[values >= low] = label
    return pd.Series(out, index=employees.index, dtype=object)


def _attributes(base: pd.DataFrame, accounts_frame: pd.DataFrame, sub: pd.DataFrame,
                segments: pd.DataFrame | None, size_bands) -> pd.DataFrame:
    """plan at origin, start-month cohort, size segment, industry, region, and the segments' columns."""
    out = base
    # the plan of the subscription in force at the origin, else the first one after it, else the account's plan
    plan = pd.Series(np.nan, index=out.index, dtype=object)
    if PLAN in sub and len(sub):
        has = out["origin"].notna()
        left = out.loc[has, [ACCOUNT_ID, "origin"]].reset_index().sort_values("origin", kind="stable")
        right = sub[[ACCOUNT_ID, START, PLAN]].dropna(subset=[PLAN]).sort_values(START, kind="stable")
        back = pd.merge_asof(left, right, left_on="origin", right_on=START, by=ACCOUNT_ID, direction="backward")
        fwd = pd.merge_asof(left, right, left_on="origin", right_on=START, by=ACCOUNT_ID, direction="forward")
        got = back[PLAN].where(back[PLAN].notna(), fwd[PLAN])
        plan.loc[back["index"].to_numpy()] = got.to_numpy()
    attrs = accounts_frame.set_index(ACCOUNT_ID)
    if ACCOUNT_PLAN in attrs:
        fallback = out[ACCOUNT_ID].map(attrs[ACCOUNT_PLAN])
        plan = plan.where(plan.notna(), fallback)
    out["plan"] = plan.where(plan.notna(), UNKNOWN).astype(object)
    out["cohort"] = out["origin"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").astype(str) \
        .where(out["origin"].notna(), UNKNOWN)
    if EMPLOYEES in attrs:
        out["segment"] = _size_segment(out[ACCOUNT_ID].map(attrs[EMPLOYEES]), size_bands)
    else:
        out["segment"] = UNKNOWN
    for col in ACCOUNT_ATTRIBUTES:
        if col in attrs:
            out[col] = out[ACCOUNT_ID].map(attrs[col]).astype(object)
            out[col] = out[col].where(out[col].notna(), UNKNOWN)
    if segments is not None:
        if not isinstance(segments, pd.DataFrame):
            raise ParameterError(f"segments must be a DataFrame with account_id and segment columns; "
                                 f"received {type(segments).__name__}")
        _need_columns(segments, [ACCOUNT_ID], "segments")
        extra = [c for c in segments.columns if c != ACCOUNT_ID]
        clash = [c for c in extra if c in out.columns]
        if clash:
            raise ParameterError(f"segments columns {clash} clash with the durations table's own columns; "
                                 f"rename them (own columns: {', '.join(out.columns)})")
        seg = segments.assign(**{ACCOUNT_ID: segments[ACCOUNT_ID].astype(str).str.strip()}) \
            .drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)
        for col in extra:
            values = out[ACCOUNT_ID].map(seg[col]).astype(object)
            out[col] = values.where(values.notna(), UNKNOWN)
    return out


def _origins(tables: Mapping, origin: str, cutoff: pd.Timestamp, sub_all: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """(origin known at cutoff, first origin later than cutoff) per account id."""
    check_choice(origin, "origin", ORIGINS)
    if origin == "subscription_start":
        starts = _utc(sub_all[START]).rename("t")
        frame = pd.DataFrame({ACCOUNT_ID: sub_all[ACCOUNT_ID].astype(str), "t": starts}).dropna()
    else:
        opp = _need(tables, "opportunities", "origin 'won_close'")
        _need_columns(opp, [ACCOUNT_ID, OPP_CLOSED, OPP_STATUS], "opportunities")
        won = opp[opp[OPP_STATUS].astype("string").str.strip().str.lower() == "won"]
        frame = pd.DataFrame({ACCOUNT_ID: won[ACCOUNT_ID].astype(str), "t": _utc(won[OPP_CLOSED])}).dropna()
    known = frame[frame["t"] <= cutoff].groupby(ACCOUNT_ID)["t"].min()
    later = frame[frame["t"] > cutoff].groupby(ACCOUNT_ID)["t"].min()
    return known, later


def _first_usage_value(tables: Mapping, ev: UsageMilestone, cutoff: pd.Timestamp, sub: pd.DataFrame) -> pd.DataFrame:
    """First qualifying usage period per account: account_id, period_start."""
    usage = _need(tables, "usage", f"value event '{ev.describe()}'")
    _need_columns(usage, [ACCOUNT_ID, USAGE_DATE, ev.column] + ([FEATURE] if ev.feature else []), "usage")
    if ev.share is not None:
        _need_columns(sub, [SEATS], "subscriptions (for the seat share of the usage milestone)")
    u = pd.DataFrame({ACCOUNT_ID: as_text(usage[ACCOUNT_ID]), "date": _utc(usage[USAGE_DATE]),
                      "value": pd.to_numeric(usage[ev.column], errors="coerce")})
    if ev.feature:
        u = u[usage[FEATURE].astype("string").str.strip().str.lower().to_numpy() == ev.feature.strip().lower()]
    u = u[u["date"].notna() & (u["date"] <= cutoff)].reset_index(drop=True)
    threshold = pd.Series(-np.inf, index=u.index)
    if ev.share is not None:
        left = u.reset_index().sort_values("date", kind="stable")
        right = sub[[ACCOUNT_ID, START, SEATS]].sort_values(START, kind="stable")
        back = pd.merge_asof(left, right, left_on="date", right_on=START, by=ACCOUNT_ID, direction="backward")
        # a period that starts before the first subscription but overlaps it uses that subscription's seats
        fwd = pd.merge_asof(left, right, left_on="date", right_on=START, by=ACCOUNT_ID, direction="forward",
                            tolerance=pd.Timedelta(days=ev.period_days) - pd.Timedelta(1, "ns"))
        seats = back[SEATS].where(back[SEATS].notna(), fwd[SEATS]).to_numpy(dtype=float)
        need = np.ceil(np.round(float(ev.share) * seats, 9))
        threshold.loc[back["index"].to_numpy()] = need
    if ev.minimum is not None:
        threshold = np.maximum(threshold, float(ev.minimum))
    hit = u[(u["value"] >= threshold).to_numpy()]
    first = hit.groupby(ACCOUNT_ID)["date"].min().rename("period_start").reset_index()
    return first


def _first_touchpoint(tables: Mapping, ev: TouchpointEvent | StageEvent, cutoff: pd.Timestamp) -> pd.DataFrame:
    tp = _need(tables, "touchpoints", f"value event '{ev.describe()}'")
    if isinstance(ev, StageEvent):
        _need_columns(tp, [ACCOUNT_ID, TIMESTAMP, STAGE], "touchpoints")
        stages = tp[STAGE]
        known = list(stages.cat.categories) if isinstance(stages.dtype, pd.CategoricalDtype) else \
            sorted(stages.dropna().astype(str).unique())
        if ev.stage not in known:
            raise ParameterError(f"stage {ev.stage!r} is not a stage of the touchpoints{did_you_mean(ev.stage, known)}; "
                                 f"stages: {', '.join(map(str, known))}")
        mask = (stages.astype(object) == ev.stage).to_numpy()
    else:
        _need_columns(tp, [ACCOUNT_ID, TIMESTAMP, TOUCHPOINT] + ([OUTCOME] if ev.outcome else []), "touchpoints")
        names = tp[TOUCHPOINT].astype("string").str.strip().str.lower()
        mask = names.isin(ev.touchpoints).fillna(False).to_numpy(dtype=bool)
        if ev.outcome:
            mask &= (tp[OUTCOME].astype("string").str.strip().str.lower() == ev.outcome.strip().lower()) \
                .fillna(False).to_numpy(dtype=bool)
    hits = pd.DataFrame({ACCOUNT_ID: tp.loc[mask, ACCOUNT_ID].astype(str), "t": _utc(tp.loc[mask, TIMESTAMP])})
    hits = hits[hits["t"].notna() & (hits["t"] <= cutoff)]
    return hits.groupby(ACCOUNT_ID)["t"].min().rename("event_time").reset_index()


def _base(accounts_frame: pd.DataFrame, known: pd.Series, later: pd.Series) -> pd.DataFrame:
    ids = accounts_frame[ACCOUNT_ID]
    base = pd.DataFrame({ACCOUNT_ID: ids})
    base["origin"] = ids.map(known).astype("datetime64[ns, UTC]")
    base["_later"] = ids.map(later).astype("datetime64[ns, UTC]")
    return base


def _finish(base: pd.DataFrame, event_time: pd.Series, stop_time: pd.Series, stop_status: pd.Series,
            censor_at: pd.Timestamp, before_origin: pd.Series) -> pd.DataFrame:
    """Fill end_at, duration, event, status, used from the event time and the censoring time per row."""
    origin = base["origin"]
    status = pd.Series("no_origin", index=base.index, dtype=object)
    status[origin.isna() & base["_later"].notna()] = "origin_after_as_of"
    has = origin.notna()
    ev_ok = has & event_time.notna() & ~before_origin & (event_time <= stop_time)
    status[has & before_origin] = "event_before_origin"
    status[ev_ok] = "event"
    rest = has & ~before_origin & ~ev_ok
    status[rest] = stop_status[rest]
    end_at = pd.Series(pd.NaT, index=base.index, dtype="datetime64[ns, UTC]")
    end_at[ev_ok] = event_time[ev_ok]
    end_at[rest] = stop_time[rest]
    used = status.isin(_USED)
    duration = pd.Series(_days(end_at - origin), index=base.index).where(used)
    base = base.drop(columns="_later")
    base["end_at"] = end_at
    base["duration"] = duration.astype(float)
    base["event"] = (status == "event").astype(bool)
    base["status"] = status
    base["used"] = used.astype(bool)
    return base


def value_durations(data: Any, as_of: Any = None, *, origin: str = "subscription_start",
                    value: "ValueEvent | str | None" = None, churn_gap_days: int = 30,
                    segments: pd.DataFrame | None = None,
                    size_bands: Sequence[tuple[float, str]] = DEFAULT_SIZE_BANDS) -> pd.DataFrame:
    """Time from the origin to the value event, one row per account.

    Parameters
    ----------
    data : JourneyData, or mapping of table name -> DataFrame
        ``data`` (or ``data.tables``): subscriptions (always, for churn censoring and
        the plan), usage / touchpoints / opportunities as the origin and event need.
        Touchpoints' ``stage`` is the lifecycle's (as ``journeylib.load`` assigns it).
    as_of : str, date or Timestamp, optional
        Analysis date (:func:`~journeylib.data.timeparse.as_of_cutoff`); default: the
        JourneyData's own; required with a dict of tables.
    origin : {"subscription_start", "won_close"}
        The clock starts at the account's first subscription start, or its first won
        opportunity's close.
    value : UsageMilestone, TouchpointEvent, StageEvent or str, optional
        The value event (see :func:`parse_value_event`); default ``UsageMilestone()``:
        the first week with ``active_users >= ceil(0.25 * seats_purchased)``.
    churn_gap_days : int, default 30
        See :func:`subscription_spans`; an account churned before value is censored
        at its churn.
    segments : DataFrame, optional
        ``account_id`` plus columns to group by (e.g. ``persona``); accounts it does not
        list get ``(unknown)``.
    size_bands : sequence of (lowest employees, label)
        Bands of the ``segment`` column.

    Returns
    -------
    DataFrame, one row per account (accounts table, plus accounts only seen in
    subscriptions), with columns account_id, origin, end_at (event or censoring time),
    duration (days; NaN when not used), event (bool), status (see :data:`STATUS`),
    used (bool), event_lower and event_upper (usage milestones: the interval holding
    the event), plan (at the origin), cohort (origin month ``YYYY-MM``), segment
    (size band), industry, region (when present) and the ``segments`` columns.

    Raises
    ------
    ParameterError
        An unknown origin or value event, a missing table or column.
    """
    tables, cutoff = _inputs(data, as_of)
    ev = parse_value_event(value if value is not None else "usage")
    censor_at = cutoff + pd.Timedelta(1, "ns")
    sub_all = _need(tables, "subscriptions", "time to value")
    sub = _subscriptions_at(sub_all, cutoff)
    known, later = _origins(tables, origin, cutoff, sub_all)
    acc_frame = _accounts_frame(tables, [sub_all[ACCOUNT_ID].astype(str)])
    base = _base(acc_frame, known, later)

    # churn before value: the end of the first span that stops after the origin
    spans = subscription_spans(sub_all, cutoff, churn_gap_days=churn_gap_days)
    sp = spans[spans["churn_at"].notna()].merge(base[[ACCOUNT_ID, "origin"]], on=ACCOUNT_ID)
    sp = sp[sp["churn_at"] > sp["origin"]]
    churn_at = base[ACCOUNT_ID].map(sp.groupby(ACCOUNT_ID)["churn_at"].min()).astype("datetime64[ns, UTC]")
    churned = churn_at.notna() & (churn_at < censor_at)
    stop_time = churn_at.where(churned, censor_at).astype("datetime64[ns, UTC]")
    stop_status = pd.Series(np.where(churned, "censored_churned", "censored"), index=base.index, dtype=object)

    lower = upper = None
    if isinstance(ev, UsageMilestone):
        first = _first_usage_value(tables, ev, cutoff, sub)
        period = base[ACCOUNT_ID].map(first.set_index(ACCOUNT_ID)["period_start"]).astype("datetime64[ns, UTC]")
        period_end = period + pd.Timedelta(days=int(ev.period_days))
        before = (period_end <= base["origin"]).fillna(False).astype(bool)
        lower = period.where(period > base["origin"], base["origin"])
        upper = period_end.where(period_end < censor_at, censor_at)
        lower = lower.where(period.notna())
        upper = upper.where(period.notna())
        if ev.at == "start":
            event_time = lower
        elif ev.at == "end":
            event_time = upper
        else:
            event_time = lower + (upper - lower) / 2
    else:
        first = _first_touchpoint(tables, ev, cutoff)
        event_time = base[ACCOUNT_ID].map(first.set_index(ACCOUNT_ID)["event_time"]).astype("datetime64[ns, UTC]")
        before = (event_time < base["origin"]).fillna(False).astype(bool)
    out = _finish(base, event_time, stop_time, stop_status, censor_at, before)
    if lower is not None:
        keep = out["status"].isin(["event", "event_before_origin"])
        out["event_lower"] = lower.where(keep)
        out["event_upper"] = upper.where(keep)
    out = _attributes(out, acc_frame, sub, segments, size_bands)
    out.attrs.update(kind="value", event_name="reaching value", value_event=ev.describe(), origin=origin,
                     as_of=str(cutoff), resolution_days=1.0 if isinstance(ev, UsageMilestone) else 0.0)
    return out


def churn_durations(data: Any, as_of: Any = None, *, churn_gap_days: int = 30, segments: pd.DataFrame | None = None,
                    size_bands: Sequence[tuple[float, str]] = DEFAULT_SIZE_BANDS) -> pd.DataFrame:
    """Time from the first subscription's start to churn, one row per account.

    Subscriptions are merged into spans (:func:`subscription_spans`); the account has
    churned when no span is active at ``as_of``, at the churn time of its last span
    (the day after its last day of service). Active accounts are censored at as_of.

    Parameters
    ----------
    data : JourneyData, or mapping of table name -> DataFrame
    as_of : str, date or Timestamp, optional
        As in :func:`value_durations`.
    churn_gap_days : int, default 30
    segments, size_bands
        As in :func:`value_durations`.

    Returns
    -------
    DataFrame with the columns of :func:`value_durations` (status ``event`` = churned,
    ``censored`` = active at as_of; no event_lower/upper) plus spans (number of spans
    by as_of) and mrr_start (MRR of the rows in force at the origin, when MRR exists).
    """
    tables, cutoff = _inputs(data, as_of)
    censor_at = cutoff + pd.Timedelta(1, "ns")
    sub_all = _need(tables, "subscriptions", "retention")
    sub = _subscriptions_at(sub_all, cutoff)
    known, later = _origins(tables, "subscription_start", cutoff, sub_all)
    acc_frame = _accounts_frame(tables, [sub_all[ACCOUNT_ID].astype(str)])
    base = _base(acc_frame, known, later)
    spans = subscription_spans(sub_all, cutoff, churn_gap_days=churn_gap_days)
    last = spans.groupby("account_id").agg(n=("span", "max"), active=("active", "any"), churn_at=("churn_at", "max"))
    churn_at = base[ACCOUNT_ID].map(last["churn_at"].where(~last["active"])).astype("datetime64[ns, UTC]")
    no_event = pd.Series(pd.NaT, index=base.index, dtype="datetime64[ns, UTC]")
    before = pd.Series(False, index=base.index)
    stop_status = pd.Series("censored", index=base.index, dtype=object)
    censor = pd.Series(censor_at, index=base.index).astype("datetime64[ns, UTC]")
    # churn is the event: an event time at the churn, the censoring time at as_of
    out = _finish(base, churn_at.where(churn_at.notna(), no_event), censor, stop_status, censor_at, before)
    out["spans"] = out[ACCOUNT_ID].map(last["n"]).fillna(0).astype("int64")
    if MRR in sub:
        out["mrr_start"] = _mrr_at(sub, out[[ACCOUNT_ID]].assign(at=out["origin"]))
    out = _attributes(out, acc_frame, sub, segments, size_bands)
    out.attrs.update(kind="churn", event_name="churning", origin="subscription_start", as_of=str(cutoff),
                     resolution_days=1.0)
    return out


def status_counts(durations: pd.DataFrame) -> pd.DataFrame:
    """Accounts per status of a durations table, with what each status means.

    Returns
    -------
    DataFrame with columns status, accounts, used (bool), meaning; every status of
    :data:`STATUS` is listed (0 when none), so the counts add up to the table's rows.
    """
    _need_columns(durations, ["status"], "durations")
    counts = durations["status"].value_counts()
    rows = [{"status": s, "accounts": int(counts.get(s, 0)), "used": s in _USED, "meaning": m} for s, m in STATUS.items()]
    return pd.DataFrame(rows, columns=["status", "accounts", "used", "meaning"])
