"""Time to value and retention as survival data.

Many accounts have not reached value yet, and most have not churned: their times
are *censored*. This module turns the journey tables into one row per account
(origin, event or censoring time, and why), then estimates Kaplan–Meier curves
per group, compares groups (log-rank tests, Cox proportional hazards) and builds
start-month cohort retention tables.

Durations
---------
:func:`value_durations` measures the time from an **origin** to the **value
event**:

* origin ``"subscription_start"`` (default: the first subscription's start, the
  day the customer can use the product) or ``"won_close"`` (the first won
  opportunity's close);
* value event :class:`UsageMilestone` (default: the first usage period with
  ``active_users >= ceil(0.25 * seats_purchased)``), :class:`TouchpointEvent`
  (the first touchpoint of given names, e.g. ``feature_activation``) or
  :class:`StageEvent` (the first touchpoint of a lifecycle stage, e.g.
  ``adoption``); :func:`parse_value_event` reads them from short strings.

A duration is censored at ``as_of`` or, for an account that churned first, at its
churn. :func:`churn_durations` measures the time from the first subscription's
start to churn, censored at ``as_of``. Subscriptions are merged into spans
(:func:`subscription_spans`): a gap of fewer than ``churn_gap_days`` days without
a subscription is not churn; churn is the end of the last span when no
subscription is active after it.

Time conventions: durations are in days (floats). ``end_date`` of a subscription
is its last day of service, so the churn time is the day after it (a one-year
subscription from 1 Jan to 31 Dec lasts 365 days) and a subscription ending on
``as_of`` has not churned yet. A duration censored at ``as_of`` runs to the end
of that day. Usage is reported per period (a week starting on ``date``): the
value was reached somewhere inside the first qualifying period, so the event
time is by default the middle of that period, cut to [origin, as_of]
(``UsageMilestone(at="start" | "end")`` for the bounds; ``event_lower`` and
``event_upper`` keep the interval).

Every table row says its ``status``: ``event``, ``censored`` (no event by
as_of), ``censored_churned`` (churned before the event), ``no_origin`` (never a
customer by as_of), ``origin_after_as_of`` and ``event_before_origin``. Only
rows with ``used`` true enter the curves; the others are reported by
:func:`status_counts`, never silently dropped. Nothing after ``as_of``
influences a duration.

Estimates
---------
:class:`SurvivalCurves` fits Kaplan–Meier curves per group (lifelines) with
log-log (exponential Greenwood) confidence bands, the median with its CI
("not reached" when the curve never crosses 0.5), and the share with the event
by 30/60/90 days with CI; groups smaller than ``min_group_size`` are reported in
``excluded_`` and left out. Durations computed from dates are recorded to the day
(``attrs["resolution_days"]``): the median is then read within the day where the
curve crosses 0.5 (the grouped-data median) instead of at the step, which would
bias it by up to half a day. A weekly usage milestone still carries a small bias
from not knowing where in the week value came (about +2% on the planted starter
median of 10 days; none on 30- and 60-day medians). :func:`logrank_tests` compares groups (overall and
pairwise with Holm correction); :class:`CoxModel` gives hazard ratios with CIs,
the concordance and the proportional-hazards check in plain words.
:func:`cohort_retention` and :func:`net_revenue_retention` give logo and revenue
retention from subscriptions.

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations. JASA 53.
Brookmeyer, R. & Crowley, J. (1982). A confidence interval for the median survival time. Biometrics 38.
Grambsch, P. & Therneau, T. (1994). Proportional hazards tests and diagnostics based on weighted residuals.
Biometrika 81.
"""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError, did_you_mean
from .schema import ACCOUNT_ID, STAGE, TABLES, TIMESTAMP, TOUCHPOINT, OUTCOME

__all__ = [
    "UsageMilestone", "TouchpointEvent", "StageEvent", "parse_value_event", "ORIGINS", "STATUS",
    "DEFAULT_SIZE_BANDS", "subscription_spans", "value_durations", "churn_durations", "status_counts",
    "SurvivalCurves", "logrank_tests", "CoxModel", "cohort_retention", "net_revenue_retention",
    "NOT_REACHED",
]


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
        if self.share is not None and not (0 < float(self.share) <= 1):
            raise ParameterError(f"UsageMilestone share must be in (0, 1]; received {self.share!r}")
        if int(self.period_days) < 1:
            raise ParameterError(f"UsageMilestone period_days must be a positive number of days; received {self.period_days!r}")
        if self.at not in ("midpoint", "start", "end"):
            raise ParameterError(f"UsageMilestone at={self.at!r}; allowed: 'midpoint', 'start', 'end'"
                                 f"{did_you_mean(str(self.at), ['midpoint', 'start', 'end'])}")

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
def _tables_of(tables: Any) -> Mapping[str, pd.DataFrame | None]:
    if hasattr(tables, "tables") and isinstance(tables.tables, Mapping):
        return tables.tables
    if not isinstance(tables, Mapping):
        raise ParameterError(f"tables must be a mapping of table name -> DataFrame (e.g. data.tables); "
                             f"received {type(tables).__name__}")
    return tables


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


def _cutoff(as_of: Any) -> pd.Timestamp:
    """The last instant of ``as_of``: a tz-aware instant is used as is; a day means its end in UTC."""
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise ParameterError(f"as_of {as_of!r} is not a date (e.g. '2026-10-31' or data.cutoff)") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ParameterError("as_of is required: give the analysis date (e.g. '2026-10-31' or data.cutoff)")
    if ts.tzinfo is not None:
        return ts.tz_convert("UTC")
    return (ts.normalize() + DAY - pd.Timedelta(1, "ns")).tz_localize("UTC")


def _utc(values: pd.Series) -> pd.Series:
    s = pd.to_datetime(values)
    if getattr(s.dt, "tz", None) is None:
        return s.dt.tz_localize("UTC")
    return s.dt.tz_convert("UTC")


def _days(delta: pd.Series) -> np.ndarray:
    return (delta / DAY).to_numpy(dtype=float)


def _check_gap(churn_gap_days: Any) -> int:
    try:
        gap = int(churn_gap_days)
    except (TypeError, ValueError):
        raise ParameterError(f"churn_gap_days must be a whole number of days; received {churn_gap_days!r}") from None
    if gap < 0 or gap != churn_gap_days:
        raise ParameterError(f"churn_gap_days must be a whole number of days >= 0; received {churn_gap_days!r}")
    return gap


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
    gap = _check_gap(churn_gap_days)
    cutoff = _cutoff(as_of)
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
    if origin not in ORIGINS:
        raise ParameterError(f"origin {origin!r} is not known{did_you_mean(str(origin), ORIGINS)}; "
                             f"allowed: {', '.join(ORIGINS)}")
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
    u = pd.DataFrame({ACCOUNT_ID: usage[ACCOUNT_ID].astype(str), "date": _utc(usage[USAGE_DATE]),
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


def value_durations(tables: Any, as_of: Any, *, origin: str = "subscription_start",
                    value: "ValueEvent | str | None" = None, churn_gap_days: int = 30,
                    segments: pd.DataFrame | None = None,
                    size_bands: Sequence[tuple[float, str]] = DEFAULT_SIZE_BANDS) -> pd.DataFrame:
    """Time from the origin to the value event, one row per account.

    Parameters
    ----------
    tables : mapping of table name -> DataFrame, or JourneyData
        ``data.tables`` (or ``data``): subscriptions (always, for churn censoring and
        the plan), usage / touchpoints / opportunities as the origin and event need.
        Touchpoints' ``stage`` is the lifecycle's (as ``journeylib.load`` assigns it).
    as_of : str, date or Timestamp
        Analysis date; a tz-aware Timestamp (``data.cutoff``) is the last instant used.
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
    tables = _tables_of(tables)
    ev = parse_value_event(value if value is not None else "usage")
    cutoff = _cutoff(as_of)
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


def churn_durations(tables: Any, as_of: Any, *, churn_gap_days: int = 30, segments: pd.DataFrame | None = None,
                    size_bands: Sequence[tuple[float, str]] = DEFAULT_SIZE_BANDS) -> pd.DataFrame:
    """Time from the first subscription's start to churn, one row per account.

    Subscriptions are merged into spans (:func:`subscription_spans`); the account has
    churned when no span is active at ``as_of``, at the churn time of its last span
    (the day after its last day of service). Active accounts are censored at as_of.

    Parameters
    ----------
    tables : mapping of table name -> DataFrame, or JourneyData
    as_of : str, date or Timestamp
    churn_gap_days : int, default 30
    segments, size_bands
        As in :func:`value_durations`.

    Returns
    -------
    DataFrame with the columns of :func:`value_durations` (status ``event`` = churned,
    ``censored`` = active at as_of; no event_lower/upper) plus spans (number of spans
    by as_of) and mrr_start (MRR of the rows in force at the origin, when MRR exists).
    """
    tables = _tables_of(tables)
    cutoff = _cutoff(as_of)
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


# =========================================================================== Kaplan–Meier
def _check_durations(durations: pd.DataFrame, what: str = "durations") -> pd.DataFrame:
    if not isinstance(durations, pd.DataFrame):
        raise ParameterError(f"{what} must be a DataFrame from value_durations() or churn_durations(); "
                             f"received {type(durations).__name__}")
    _need_columns(durations, ["duration", "event"], what)
    used = durations["used"].astype(bool) if "used" in durations else pd.Series(True, index=durations.index)
    rows = durations[used.to_numpy()]
    d = rows["duration"].to_numpy(dtype=float)
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise ParameterError(f"{what}: {int(bad.sum())} used rows have a missing or negative duration "
                             f"(first: {d[bad][0]!r}); durations must be >= 0 days")
    return rows


def _group_labels(rows: pd.DataFrame, group_by: str | None) -> pd.Series:
    if group_by is None:
        return pd.Series("all", index=rows.index, dtype=object)
    values = rows[group_by]
    labels = values.astype(object).where(values.notna(), UNKNOWN).map(str)
    return labels


def _check_group_by(durations: pd.DataFrame, group_by: str | None) -> None:
    if group_by is not None and group_by not in durations.columns:
        candidates = [c for c in durations.columns if c not in DURATION_COLUMNS]
        raise ParameterError(f"group_by {group_by!r} is not a column of the durations{did_you_mean(group_by, candidates)}; "
                             f"columns to group by: {', '.join(map(str, candidates))}")


def _group_order(labels: pd.Series, durations: pd.DataFrame, group_by: str | None, groups) -> list[str]:
    if groups is not None:
        return [str(g) for g in groups]
    if group_by is not None and isinstance(durations[group_by].dtype, pd.CategoricalDtype):
        cats = [str(c) for c in durations[group_by].cat.categories]
        return cats + sorted(set(labels) - set(cats))
    return sorted(set(labels), key=lambda s: (s == UNKNOWN, s))


def _quiet(fn, *args, **kwargs):
    """Call a lifelines routine; its warnings become notes (returned), never raised."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    notes = [str(w.message).strip().splitlines()[0] for w in caught
             if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, RuntimeWarning))]
    return result, notes


def _crossing(times: np.ndarray, values: np.ndarray, resolution: float) -> float:
    """The time a step curve first reaches 0.5 (inf when it never does).

    With ``resolution`` h > 0 a recorded time t stands for [t - h/2, t + h/2) and the
    crossing is interpolated within the step's cell (the grouped-data median); h = 0
    gives the step's own time (lifelines' and R's median).
    """
    hit = np.flatnonzero(values <= 0.5)
    if not len(hit):
        return np.inf
    i = int(hit[0])
    if resolution <= 0:
        return float(times[i])
    prev = float(values[i - 1]) if i > 0 else 1.0
    frac = (prev - 0.5) / (prev - float(values[i])) if prev > values[i] else 1.0
    return max(0.0, float(times[i]) - resolution / 2 + resolution * frac)


def _fmt(x: float) -> str:
    return f"{x:.1f}" if np.isfinite(x) else NOT_REACHED


class SurvivalCurves:
    """Kaplan–Meier curves per group with confidence bands, medians and event shares.

    Parameters
    ----------
    group_by : str or None
        A column of the durations table (plan, cohort, segment, persona, ...); None:
        one curve "all".
    groups : sequence of str, optional
        Fit exactly these groups, in this order (a listed group with no accounts is
        reported as empty); default: every group present.
    min_group_size : int, default 20
        Groups with fewer used accounts are reported in ``excluded_`` and left out.
    alpha : float, default 0.05
        1 - confidence level of the bands, the median CI and the share CIs.
    horizons : sequence of int, default (30, 60, 90)
        Days at which ``summary_`` gives the share with the event.
    resolution_days : float, optional
        How finely durations are recorded. A recorded duration t stands for
        [t - h/2, t + h/2), so the median (and its CI bounds) is interpolated within
        the step where the curve crosses 0.5, as for grouped data. 0 gives the usual
        step median (lifelines, R). Default: the durations table's
        ``attrs["resolution_days"]`` (1 day for :func:`value_durations` with a usage
        milestone and for :func:`churn_durations`, whose times come from dates), else 0.
        Without it a weekly usage milestone's half-day grid biases the median by up to
        half a day.

    Attributes
    ----------
    curves_ : DataFrame
        group, time, at_risk, events, censored, survival, lower, upper: one row per
        distinct time of each group (time 0 included); survival is the KM estimate
        just after ``time``, lower/upper its pointwise log-log band.
    summary_ : DataFrame
        group, n, events, censored, median, median_lower, median_upper (days; NaN =
        not reached), median_text ("23.5 (95% CI 20.0 to 27.5)", "not reached (95% CI 300.0
        to not reached)"),
        for each horizon h: event_share_{h}d, event_share_{h}d_lower,
        event_share_{h}d_upper (NaN when follow-up ends before h), max_time, note.
    excluded_ : DataFrame
        group, n, reason: groups left out (empty, or below min_group_size).
    notes_ : list of str
        What a reader should know (all censored, groups left out, estimator warnings).

    Examples
    --------
    >>> d = pd.DataFrame({"duration": [1.0, 2, 2, 3, 4, 5], "event": [1, 1, 0, 1, 0, 1]})
    >>> km = SurvivalCurves(min_group_size=1).fit(d)
    >>> km.summary_.loc[0, "median"]
    3.0
    """

    def __init__(self, group_by: str | None = None, *, groups: Sequence[str] | None = None,
                 min_group_size: int = 20, alpha: float = 0.05, horizons: Sequence[int] = (30, 60, 90),
                 resolution_days: float | None = None):
        self.group_by = group_by
        self.resolution_days = resolution_days
        self.groups = groups
        self.min_group_size = min_group_size
        self.alpha = alpha
        self.horizons = tuple(horizons)

    def _check(self) -> None:
        if not (isinstance(self.min_group_size, (int, np.integer)) and self.min_group_size >= 1):
            raise ParameterError(f"min_group_size must be a whole number >= 1; received {self.min_group_size!r}")
        if not (0 < float(self.alpha) < 1):
            raise ParameterError(f"alpha must be in (0, 1), e.g. 0.05 for 95% bands; received {self.alpha!r}")
        if any(not (np.isfinite(h) and h > 0) for h in self.horizons):
            raise ParameterError(f"horizons must be positive numbers of days; received {self.horizons!r}")
        if self.resolution_days is not None and not (np.isfinite(self.resolution_days) and self.resolution_days >= 0):
            raise ParameterError(f"resolution_days must be a number of days >= 0; received {self.resolution_days!r}")

    @property
    def level(self) -> int:
        """The confidence level in percent (95 for alpha 0.05)."""
        return int(round(100 * (1 - self.alpha)))

    def fit(self, durations: pd.DataFrame) -> "SurvivalCurves":
        """Fit one Kaplan–Meier curve per group of the used rows of ``durations``.

        Raises
        ------
        ParameterError
            ``group_by`` names no column, bad options, or no row is usable.
        """
        from lifelines import KaplanMeierFitter

        self._check()
        _check_group_by(durations, self.group_by)
        rows = _check_durations(durations)
        if rows.empty:
            counts = durations["status"].value_counts().to_dict() if "status" in durations else {}
            raise ParameterError(f"no usable durations: 0 of {len(durations)} rows can be used (statuses: {counts}); "
                                 "check as_of, the origin and that the subscriptions table has rows")
        labels = _group_labels(rows, self.group_by)
        order = _group_order(labels, durations, self.group_by, self.groups)
        if self.groups is not None:
            unknown = [g for g in order if g not in set(labels)]
            present = sorted(set(labels))
            if len(unknown) == len(order):
                raise ParameterError(f"none of groups {order} occurs in column {self.group_by!r}"
                                     f"{did_you_mean(order[0], present)}; groups: {', '.join(present)}")
        self.event_name_ = durations.attrs.get("event_name", "the event")
        res = self.resolution_days if self.resolution_days is not None else durations.attrs.get("resolution_days", 0.0)
        self.resolution_days_ = float(res)
        self.curves_, summary, excluded, notes = [], [], [], []
        self._fitted: dict[str, tuple[np.ndarray, np.ndarray, Any]] = {}
        for g in order:
            part = rows[(labels == g).to_numpy()]
            n = len(part)
            if n == 0:
                excluded.append({"group": g, "n": 0, "reason": "no accounts in this group"})
                continue
            if n < self.min_group_size:
                excluded.append({"group": g, "n": n, "reason": f"{n} accounts, below min_group_size={self.min_group_size}"})
                continue
            t = part["duration"].to_numpy(dtype=float)
            e = part["event"].to_numpy(dtype=bool)
            kmf, warn = _quiet(KaplanMeierFitter(alpha=self.alpha).fit, t, e, label=g)
            notes += [f"{g}: {w}" for w in warn]
            self._fitted[g] = (t, e, kmf)
            table = kmf.event_table
            ci = kmf.confidence_interval_
            self.curves_.append(pd.DataFrame({
                "group": g, "time": table.index.to_numpy(dtype=float),
                "at_risk": table["at_risk"].to_numpy(dtype="int64"),
                "events": table["observed"].to_numpy(dtype="int64"),
                "censored": table["censored"].to_numpy(dtype="int64"),
                "survival": kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
                "lower": ci.iloc[:, 0].to_numpy(dtype=float), "upper": ci.iloc[:, 1].to_numpy(dtype=float),
            }))
            grid = kmf.survival_function_.index.to_numpy(dtype=float)
            median = _crossing(grid, kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float), self.resolution_days_)
            m_lo = _crossing(grid, ci.iloc[:, 0].to_numpy(dtype=float), self.resolution_days_)
            m_hi = _crossing(grid, ci.iloc[:, 1].to_numpy(dtype=float), self.resolution_days_)
            row = {"group": g, "n": n, "events": int(e.sum()), "censored": int((~e).sum()),
                   "median": median if np.isfinite(median) else np.nan,
                   "median_lower": m_lo if np.isfinite(m_lo) else np.nan,
                   "median_upper": m_hi if np.isfinite(m_hi) else np.nan,
                   "median_text": f"{_fmt(median)} ({self.level}% CI {_fmt(m_lo)} to {_fmt(m_hi)})"}
            at = self._at(g, self.horizons)
            for h, r in zip(self.horizons, at.itertuples()):
                key = f"event_share_{h:g}d"
                row[key], row[key + "_lower"], row[key + "_upper"] = r.event_share, r.event_share_lower, r.event_share_upper
            row["max_time"] = float(t.max())
            note = []
            if not e.any():
                note.append(f"all {n} censored: no {self.event_name_} observed yet, median not reached")
            elif e.all():
                note.append("no censoring")
            elif not np.isfinite(median):
                note.append("the curve stays above 0.5: median not reached")
            if (t == 0).any() and e[t == 0].any():
                note.append(f"{int(e[t == 0].sum())} events at time 0")
            short = [f"{h:g}" for h, r in zip(self.horizons, at.itertuples()) if not r.estimable]
            if short:
                note.append(f"follow-up ends at {t.max():.1f} days: no estimate at {', '.join(short)} days")
            row["note"] = "; ".join(note)
            summary.append(row)
        share_cols = [f"event_share_{h:g}d{s}" for h in self.horizons for s in ("", "_lower", "_upper")]
        cols = ["group", "n", "events", "censored", "median", "median_lower", "median_upper", "median_text",
                *share_cols, "max_time", "note"]
        self.summary_ = pd.DataFrame(summary, columns=cols)
        self.curves_ = (pd.concat(self.curves_, ignore_index=True) if self.curves_ else
                        pd.DataFrame(columns=["group", "time", "at_risk", "events", "censored", "survival", "lower",
                                              "upper"]))
        self.excluded_ = pd.DataFrame(excluded, columns=["group", "n", "reason"])
        for r in self.excluded_.itertuples():
            notes.append(f"group {r.group!r} left out: {r.reason}")
        if self.summary_.empty:
            notes.append(f"no group has at least min_group_size={self.min_group_size} accounts: no curve")
        self.notes_ = notes
        return self

    def _fitted_check(self) -> None:
        if not hasattr(self, "summary_"):
            raise ParameterError("this SurvivalCurves is not fitted yet: call .fit(durations) first")

    def _at(self, g: str, times: Sequence[float]) -> pd.DataFrame:
        t, e, kmf = self._fitted[g]
        curve = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_
        grid = curve.index.to_numpy(dtype=float)
        rows = []
        for x in times:
            x = float(x)
            i = int(np.searchsorted(grid, x, side="right")) - 1
            s = float(curve.iloc[i]) if i >= 0 else 1.0
            lo = float(ci.iloc[i, 0]) if i >= 0 else 1.0
            hi = float(ci.iloc[i, 1]) if i >= 0 else 1.0
            estimable = x <= t.max() or s == 0.0
            if not estimable:
                s = lo = hi = np.nan
            rows.append({"group": g, "time": x, "at_risk": int((t >= x).sum()), "survival": s, "lower": lo,
                         "upper": hi, "event_share": 1 - s, "event_share_lower": 1 - hi, "event_share_upper": 1 - lo,
                         "estimable": estimable})
        return pd.DataFrame(rows, columns=["group", "time", "at_risk", "survival", "lower", "upper", "event_share",
                                           "event_share_lower", "event_share_upper", "estimable"])

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """The curves read at given days.

        Returns
        -------
        DataFrame with columns group, time, at_risk, survival, lower, upper,
        event_share (1 - survival: the share with the event by then), its lower and
        upper bounds, estimable (False past the last follow-up time of a group whose
        curve has not reached 0; the values are then NaN).
        """
        self._fitted_check()
        times = list(np.atleast_1d(times))
        parts = [self._at(g, times) for g in self._fitted]
        return pd.concat(parts, ignore_index=True) if parts else self._at_empty()

    @staticmethod
    def _at_empty() -> pd.DataFrame:
        return pd.DataFrame(columns=["group", "time", "at_risk", "survival", "lower", "upper", "event_share",
                                     "event_share_lower", "event_share_upper", "estimable"])

    def at_risk(self, times: Sequence[float]) -> pd.DataFrame:
        """Accounts still at risk (duration >= t) per group at given days: group, time, at_risk."""
        return self.survival_at(times)[["group", "time", "at_risk"]]

    def medians(self) -> dict[str, dict[str, Any]]:
        """Median per group for recording: ``{group: {median, lower, upper, n, events}}``,
        with the string "not reached" where a curve (or a CI bound) never crosses 0.5."""
        self._fitted_check()
        out = {}
        for r in self.summary_.itertuples():
            out[r.group] = {"median": NOT_REACHED if pd.isna(r.median) else float(r.median),
                            "lower": NOT_REACHED if pd.isna(r.median_lower) else float(r.median_lower),
                            "upper": NOT_REACHED if pd.isna(r.median_upper) else float(r.median_upper),
                            "n": int(r.n), "events": int(r.events)}
        return out

    def shares(self, days: float, of: str = "event") -> dict[str, dict[str, Any]]:
        """Share per group at ``days`` for recording: ``{group: {share, lower, upper}}``.

        ``of="event"``: the share with the event by then (e.g. reached value within 90
        days); ``of="survival"``: the share without it (e.g. 12-month logo retention).
        Values are None where the group's follow-up ends before ``days``.
        """
        if of not in ("event", "survival"):
            raise ParameterError(f"of={of!r}; allowed: 'event' (share with the event) or 'survival' (share without)")
        at = self.survival_at([days])
        cols = ("event_share", "event_share_lower", "event_share_upper") if of == "event" else \
            ("survival", "lower", "upper")
        return {r["group"]: {k: (float(r[c]) if r["estimable"] else None) for k, c in zip(("share", "lower", "upper"), cols)}
                for r in at.to_dict(orient="records")}


# =========================================================================== comparisons
def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def logrank_tests(durations: pd.DataFrame, group_by: str, *, min_group_size: int = 20, alpha: float = 0.05,
                  correction: str = "holm") -> pd.DataFrame:
    """Log-rank tests between the groups of ``group_by``: all groups at once, then each pair.

    Groups with fewer than ``min_group_size`` used accounts are left out (as in
    :class:`SurvivalCurves`).

    Parameters
    ----------
    correction : {"holm", "bonferroni", "none"}
        Multiple-testing correction of the pairwise p-values.

    Returns
    -------
    DataFrame with columns comparison ("all groups" or "a vs b"), group_a, group_b
    (empty for the overall test), statistic, dof, p_value, p_adjusted, differ (bool,
    p_adjusted < alpha), reading (a sentence).

    Raises
    ------
    ParameterError
        Fewer than two groups with at least ``min_group_size`` accounts, an unknown
        column or correction.
    """
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    corrections = ("holm", "bonferroni", "none")
    if correction not in corrections:
        raise ParameterError(f"correction {correction!r} is not known{did_you_mean(str(correction), corrections)}; "
                             f"allowed: {', '.join(corrections)}")
    _check_group_by(durations, group_by)
    if group_by is None:
        raise ParameterError("logrank_tests needs group_by: the column whose groups are compared")
    rows = _check_durations(durations)
    labels = _group_labels(rows, group_by)
    sizes = labels.value_counts()
    keep = [g for g in _group_order(labels, durations, group_by, None) if sizes.get(g, 0) >= min_group_size]
    if len(keep) < 2:
        raise ParameterError(f"a log-rank test needs at least two groups of {group_by!r} with >= {min_group_size} "
                             f"accounts; group sizes: {sizes.to_dict()}")
    mask = labels.isin(keep).to_numpy()
    t, e, g = rows["duration"].to_numpy(float)[mask], rows["event"].to_numpy(bool)[mask], labels.to_numpy()[mask]
    if not e.any():
        raise ParameterError(f"no {durations.attrs.get('event_name', 'event')} observed in these groups: "
                             "nothing to compare yet")
    res, _ = _quiet(multivariate_logrank_test, t, g, e)
    out = [{"comparison": "all groups", "group_a": "", "group_b": "", "statistic": float(res.test_statistic),
            "dof": int(res.degrees_of_freedom), "p_value": float(res.p_value), "p_adjusted": float(res.p_value)}]
    for a, b in itertools.combinations(keep, 2):
        ia, ib = g == a, g == b
        r, _ = _quiet(logrank_test, t[ia], t[ib], e[ia], e[ib])
        out.append({"comparison": f"{a} vs {b}", "group_a": a, "group_b": b, "statistic": float(r.test_statistic),
                    "dof": 1, "p_value": float(r.p_value), "p_adjusted": float(r.p_value)})
    table = pd.DataFrame(out)
    pair = table.index[1:]
    if len(pair):
        p = table.loc[pair, "p_value"].to_numpy(float)
        table.loc[pair, "p_adjusted"] = _holm(p) if correction == "holm" else (
            np.minimum(1.0, p * len(p)) if correction == "bonferroni" else p)
    table["differ"] = table["p_adjusted"] < alpha
    adj = "" if correction == "none" else f", {correction}-adjusted"
    readings = []
    for r in table.itertuples():
        if r.comparison == "all groups":
            readings.append((f"The curves of {group_by} differ ({_p_text(r.p_value)})." if r.differ else
                             f"No clear difference between the curves of {group_by} ({_p_text(r.p_value)})."))
        else:
            readings.append(f"{r.group_a} and {r.group_b} " + ("differ" if r.differ else "do not clearly differ")
                            + f" ({_p_text(r.p_adjusted)}{adj if r.comparison != 'all groups' else ''}).")
    table["reading"] = readings
    return table[["comparison", "group_a", "group_b", "statistic", "dof", "p_value", "p_adjusted", "differ", "reading"]]


class CoxModel:
    """Cox proportional-hazards model of a durations table.

    Categorical covariates are coded against a reference level (the largest, unless
    given); levels with fewer than ``min_group_size`` used accounts are left out
    with their rows (reported in ``notes_``); numeric covariates enter as they are.

    Parameters
    ----------
    covariates : sequence of str
        Columns of the durations table (e.g. ``["plan", "persona"]``).
    reference : dict, optional
        Covariate -> reference level.
    min_group_size : int, default 20
    alpha : float, default 0.05
        1 - confidence level of the hazard-ratio intervals.
    penalizer : float, default 0.0
        lifelines' ridge penalty (use a small one, e.g. 0.01, for nearly separated data).
    ph_alpha : float, default 0.05
        A proportional-hazards test below this p-value says the effect changes over time.

    Attributes
    ----------
    hazard_ratios_ : DataFrame
        covariate, level, reference, n, hazard_ratio, lower, upper, p_value, reading.
    concordance_ : float
        Harrell's C of the fitted model (0.5 = no better than chance).
    ph_check_ : DataFrame
        term, statistic, p_value, holds (bool), reading: the Grambsch–Therneau test
        on rank-transformed time for each term.
    ph_reading_ : str
        The proportional-hazards check in one or two sentences.
    n_, events_ : int
    notes_ : list of str
    """

    def __init__(self, covariates: Sequence[str], *, reference: Mapping[str, str] | None = None,
                 min_group_size: int = 20, alpha: float = 0.05, penalizer: float = 0.0, ph_alpha: float = 0.05):
        self.covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        self.reference = dict(reference or {})
        self.min_group_size = min_group_size
        self.alpha = alpha
        self.penalizer = penalizer
        self.ph_alpha = ph_alpha

    def fit(self, durations: pd.DataFrame) -> "CoxModel":
        """Fit the model to the used rows of ``durations``.

        Raises
        ------
        ParameterError
            No covariate, an unknown column, too few rows, no event, or no covariate
            left with two levels.
        """
        from lifelines import CoxPHFitter
        from lifelines.statistics import proportional_hazard_test

        if not self.covariates:
            raise ParameterError("CoxModel needs at least one covariate, e.g. CoxModel(['plan'])")
        for c in self.covariates:
            _check_group_by(durations, c)
        if not (0 < float(self.alpha) < 1):
            raise ParameterError(f"alpha must be in (0, 1); received {self.alpha!r}")
        rows = _check_durations(durations)
        event_name = durations.attrs.get("event_name", "the event")
        notes: list[str] = []
        keep = pd.Series(True, index=rows.index)
        design = pd.DataFrame(index=rows.index)
        levels: list[dict] = []
        for c in self.covariates:
            col = rows[c]
            if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
                missing = col.isna()
                if missing.any():
                    notes.append(f"{c}: {int(missing.sum())} rows without a value left out")
                keep &= ~missing
                design[c] = col.astype(float)
                levels.append({"covariate": c, "level": "", "reference": "", "term": c, "n": int((~missing).sum())})
                continue
            lab = _group_labels(rows, c)
            sizes = lab[keep].value_counts()
            small = [g for g, n in sizes.items() if n < self.min_group_size]
            if small:
                notes.append(f"{c}: levels {small} have fewer than {self.min_group_size} accounts; their rows are "
                             "left out")
                keep &= ~lab.isin(small)
            sizes = lab[keep].value_counts()
            if len(sizes) < 2:
                notes.append(f"{c}: fewer than two levels with enough accounts; not in the model")
                continue
            ref = self.reference.get(c)
            if ref is None:
                ref = sorted(sizes.index, key=lambda g: (-sizes[g], g))[0]
            elif ref not in sizes.index:
                raise ParameterError(f"reference level {ref!r} of {c!r} is not a level with enough accounts"
                                     f"{did_you_mean(ref, sizes.index)}; levels: {', '.join(sizes.index)}")
            for lev in sorted(sizes.index):
                if lev == ref:
                    continue
                term = f"{c}={lev}"
                design[term] = (lab == lev).astype(float)
                levels.append({"covariate": c, "level": lev, "reference": ref, "term": term, "n": int(sizes[lev])})
        terms = [lv["term"] for lv in levels if lv["term"] in design.columns]
        if not terms:
            raise ParameterError(f"no covariate of {self.covariates} is left to model: " + "; ".join(notes))
        frame = design.loc[keep, terms].assign(duration=rows.loc[keep, "duration"].astype(float),
                                               event=rows.loc[keep, "event"].astype(bool))
        frame = frame.reset_index(drop=True)
        if frame["event"].sum() == 0:
            raise ParameterError(f"no {event_name} observed among the {len(frame)} accounts: a Cox model needs events")
        if len(frame) < len(terms) + 2:
            raise ParameterError(f"too few accounts ({len(frame)}) for {len(terms)} model terms")
        cph, warn = _quiet(CoxPHFitter(alpha=self.alpha, penalizer=self.penalizer).fit, frame, "duration", "event")
        notes += warn
        coef = cph.params_
        ci = cph.confidence_intervals_
        p = cph.summary["p"]
        level = int(round(100 * (1 - self.alpha)))
        out = []
        for lv in levels:
            t = lv["term"]
            if t not in coef.index:
                continue
            hr, lo, hi = math.exp(coef[t]), math.exp(ci.loc[t].iloc[0]), math.exp(ci.loc[t].iloc[1])
            what = f"{lv['covariate']} {lv['level']} vs {lv['reference']}" if lv["level"] else f"each unit of {t}"
            faster = "higher" if hr > 1 else "lower"
            reading = (f"{what}: hazard of {event_name} {hr:.2f} times ({level}% CI {lo:.2f}-{hi:.2f}, "
                       f"{_p_text(float(p[t]))}), i.e. {faster} at any time")
            out.append({**{k: lv[k] for k in ("covariate", "level", "reference", "n")}, "hazard_ratio": hr,
                        "lower": lo, "upper": hi, "p_value": float(p[t]), "reading": reading})
        self.hazard_ratios_ = pd.DataFrame(out, columns=["covariate", "level", "reference", "n", "hazard_ratio",
                                                         "lower", "upper", "p_value", "reading"])
        self.concordance_ = float(cph.concordance_index_)
        test, warn = _quiet(proportional_hazard_test, cph, frame, time_transform="rank")
        notes += warn
        ph = test.summary
        checks = []
        for term in ph.index:
            pv = float(ph.loc[term, "p"])
            holds = pv >= self.ph_alpha
            checks.append({"term": str(term), "statistic": float(ph.loc[term, "test_statistic"]), "p_value": pv,
                           "holds": holds,
                           "reading": (f"{term}: no sign that its effect changes over time ({_p_text(pv)})" if holds else
                                       f"{term}: its effect changes over time ({_p_text(pv)}); its hazard ratio is an "
                                       "average over follow-up, so read the curves")})
        self.ph_check_ = pd.DataFrame(checks, columns=["term", "statistic", "p_value", "holds", "reading"])
        broken = self.ph_check_.loc[~self.ph_check_["holds"], "term"].tolist()
        self.ph_reading_ = ("The proportional-hazards assumption looks reasonable for every term: the hazard ratios "
                            "summarise the differences well." if not broken else
                            f"The proportional-hazards assumption does not hold for {', '.join(broken)}: the effect "
                            "changes over follow-up, so the hazard ratio is only an average; compare the curves and "
                            "medians instead.")
        self.n_ = int(len(frame))
        self.events_ = int(frame["event"].sum())
        self.notes_ = notes
        self._model = cph
        return self


# =========================================================================== cohorts
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


def cohort_retention(subscriptions: pd.DataFrame, as_of: Any, *, churn_gap_days: int = 30,
                     max_months: int = 24) -> pd.DataFrame:
    """Logo and revenue retention by start-month cohort.

    An account's cohort is the month of its first subscription start. At month k
    (its start plus k calendar months, on or before ``as_of``) it is retained when a
    span of service (:func:`subscription_spans`) covers that day; its MRR there is
    the sum of the rows in force. Only accounts whose month-k day is on or before
    as_of count at month k.

    Parameters
    ----------
    subscriptions : DataFrame
        ``account_id, start_date``, optionally ``end_date`` and ``mrr``.
    as_of : str, date or Timestamp
    churn_gap_days : int, default 30
    max_months : int, default 24

    Returns
    -------
    DataFrame with columns cohort (``YYYY-MM``), months (k), accounts (cohort size),
    observed (accounts whose month-k day is known), retained, logo_retention
    (retained / observed), mrr_start (their MRR at the start), mrr (at month k),
    revenue_retention (mrr / mrr_start: net revenue retention; NaN without an
    ``mrr`` column). Sorted by cohort and months; cells with nobody observed are left out.
    """
    if not (isinstance(max_months, (int, np.integer)) and max_months >= 0):
        raise ParameterError(f"max_months must be a whole number >= 0; received {max_months!r}")
    cutoff = _cutoff(as_of)
    sub = _subscriptions_at(subscriptions, cutoff)
    spans = subscription_spans(subscriptions, cutoff, churn_gap_days=churn_gap_days)
    cols = ["cohort", "months", "accounts", "observed", "retained", "logo_retention", "mrr_start", "mrr",
            "revenue_retention"]
    if spans.empty:
        return pd.DataFrame(columns=cols)
    first = spans.groupby("account_id")["start"].min()
    acc = pd.DataFrame({ACCOUNT_ID: first.index, "origin": first.to_numpy()})
    acc["cohort"] = acc["origin"].dt.tz_localize(None).dt.to_period("M").astype(str)
    size = acc.groupby("cohort").size()
    has_mrr = MRR in sub
    if has_mrr:
        mrr0 = _mrr_at(sub, acc[[ACCOUNT_ID]].assign(at=acc["origin"]))
    parts = []
    for k in range(int(max_months) + 1):
        at = acc["origin"] + pd.DateOffset(months=k)
        seen = (at <= cutoff).to_numpy()
        if not seen.any():
            break
        marks = acc.loc[seen, [ACCOUNT_ID, "cohort"]].assign(at=at[seen].to_numpy())
        cover = spans[[ACCOUNT_ID, "start", "churn_at"]].merge(marks, on=ACCOUNT_ID)
        inside = (cover["start"] <= cover["at"]) & (cover["churn_at"].isna() | (cover["at"] < cover["churn_at"]))
        kept = set(cover.loc[inside.to_numpy(), ACCOUNT_ID])
        marks["retained"] = marks[ACCOUNT_ID].isin(kept)
        if has_mrr:
            marks["mrr_start"] = mrr0[seen]
            marks["mrr"] = _mrr_at(sub, marks[[ACCOUNT_ID, "at"]])
        else:
            marks["mrr_start"] = np.nan
            marks["mrr"] = np.nan
        g = marks.groupby("cohort")
        part = pd.DataFrame({"observed": g.size(), "retained": g["retained"].sum(),
                             "mrr_start": g["mrr_start"].sum(min_count=1), "mrr": g["mrr"].sum(min_count=1)})
        part["months"] = k
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True)
    out["accounts"] = out["cohort"].map(size).astype("int64")
    out["observed"] = out["observed"].astype("int64")
    out["retained"] = out["retained"].astype("int64")
    out["logo_retention"] = out["retained"] / out["observed"]
    with np.errstate(all="ignore"):
        out["revenue_retention"] = (out["mrr"] / out["mrr_start"]).where(out["mrr_start"] > 0)
    return out.sort_values(["cohort", "months"], kind="stable").reset_index(drop=True)[cols]


def net_revenue_retention(subscriptions: pd.DataFrame, as_of: Any, *, months: int = 12) -> pd.DataFrame:
    """Trailing net and gross revenue retention over the ``months`` before ``as_of``.

    The accounts paying at the start (``as_of`` minus ``months``, the first instant
    after as_of minus that many calendar months) and their MRR then and at the end
    of as_of: NRR = MRR now / MRR then (expansions count), GRR caps each account's
    MRR now at its MRR then (expansions do not count).

    Returns
    -------
    One-row DataFrame with columns start, end, accounts, mrr_start, mrr_end,
    net_revenue_retention, gross_revenue_retention, logo_retention (share of those
    accounts still paying), note (why values are missing, else "").
    """
    if not (isinstance(months, (int, np.integer)) and months >= 1):
        raise ParameterError(f"months must be a whole number >= 1; received {months!r}")
    cutoff = _cutoff(as_of)
    end = cutoff + pd.Timedelta(1, "ns")
    start = end - pd.DateOffset(months=int(months))
    row = {"start": start, "end": end, "accounts": 0, "mrr_start": np.nan, "mrr_end": np.nan,
           "net_revenue_retention": np.nan, "gross_revenue_retention": np.nan, "logo_retention": np.nan, "note": ""}
    sub = _subscriptions_at(subscriptions, cutoff)
    if MRR not in sub:
        row["note"] = "subscriptions have no mrr column: revenue retention not computed"
        return pd.DataFrame([row])
    ids = pd.DataFrame({ACCOUNT_ID: sub[ACCOUNT_ID].unique()})
    then = _mrr_at(sub, ids.assign(at=start))
    now = _mrr_at(sub, ids.assign(at=cutoff))
    paying = then > 0
    if not paying.any():
        row["note"] = f"no account paid at {start.date()}: nothing to retain"
        return pd.DataFrame([row])
    row.update(accounts=int(paying.sum()), mrr_start=float(then[paying].sum()), mrr_end=float(now[paying].sum()),
               net_revenue_retention=float(now[paying].sum() / then[paying].sum()),
               gross_revenue_retention=float(np.minimum(now, then)[paying].sum() / then[paying].sum()),
               logo_retention=float((now[paying] > 0).mean()))
    return pd.DataFrame([row])
