"""The stage scorecard: the metrics of each lifecycle stage, this month vs last month
and vs the same month last year, with direction and significance.

Metrics follow the stage metrics of B2B journey practice (awareness reach,
content and webinar engagement, demo requests, MQL -> SQL -> opportunity
conversion, win rate, deal size and sales cycle, onboarding time to first value,
active users and feature breadth, support response and resolution times and
CSAT, logo retention, net revenue retention and upsell rate, NPS and referrals).
Each is computed for a calendar month (UTC) from the tables that exist; a metric
whose table or touchpoints are missing is ``None`` ("no data"), never zero.

Significance compares this month with the other period: two proportions with a
two-sided z-test, counts with a conditional binomial (Poisson rates) test, means
and medians with a Mann-Whitney U test on the underlying values. ``significant``
means p < ``alpha`` (default 0.05); the flag says it in plain words.

The touchpoint metrics read one small tally of the three months compared (counts by stage,
touchpoint name and outcome; first touches), built once from the touchpoints in pandas, or
as SQL in DuckDB or Spark for a validated contract whose touchpoints exceed memory
(``scorecard(folder, month, engine="duckdb")``): the same counts, so the same scorecard.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_choice, fail
from .errors import ParameterError
from .schema import ACCOUNT_ID, OUTCOME, STAGE, TIMESTAMP, TOUCHPOINT

__all__ = ["scorecard", "scorecard_display", "month_window", "METRICS", "Metric", "TouchpointTally",
           "touchpoint_tally", "sql_touchpoint_tally"]


@dataclass(frozen=True)
class _Value:
    """One metric in one month: the value and what a test needs."""

    value: float | None
    kind: str = "count"          # count | proportion | sample
    successes: int = 0           # proportion: numerator
    trials: int = 0              # proportion: denominator
    sample: tuple = ()           # sample: the values behind a mean/median


@dataclass(frozen=True)
class Metric:
    """A scorecard metric: stage, name, unit, which direction is better, and how to compute it."""

    stage: str
    name: str
    unit: str
    better: str
    compute: Callable[["object", pd.Timestamp, pd.Timestamp], _Value]


def month_window(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a calendar month in UTC."""
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise fail("month", "a month as YYYY-MM (e.g. '2026-10')", month)
    period = pd.Period(month, freq="M")
    start = period.start_time.tz_localize("UTC")
    return start, (period + 1).start_time.tz_localize("UTC")


def _in(df: pd.DataFrame | None, col: str, start, end) -> pd.DataFrame | None:
    if df is None or col not in df:
        return None
    t = df[col]
    return df[(t >= start) & (t < end)]


class TouchpointTally:
    """What the touchpoint metrics read: per compared month, touchpoints counted by stage, name and
    outcome, and the accounts first touched then; the lower-case names ever seen.

    Built by :func:`touchpoint_tally` (pandas) or :func:`sql_touchpoint_tally` (DuckDB, Spark) from
    the same definitions, so both give the same scorecard.
    """

    def __init__(self, windows: list[tuple[pd.Timestamp, pd.Timestamp]], counts: pd.DataFrame,
                 first_touches: dict[int, int], names: set[str], has_outcome: bool):
        self.windows, self.counts, self.first_touches = windows, counts, first_touches
        self.names, self.has_outcome = names, has_outcome

    def _window(self, start) -> int:
        return [s for s, _ in self.windows].index(start)

    def count(self, start, stage: str | None = None, names=None, outcome=None) -> int:
        """Touchpoints in the month starting at ``start`` of that stage, lower-case name and outcome
        (an outcome is not asked when the touchpoints have no outcome column)."""
        c = self.counts[self.counts["w"] == self._window(start)]
        if stage is not None:
            c = c[c["stage"] == stage]
        if names is not None:
            c = c[c["name"].isin(names)]
        if outcome is not None and self.has_outcome:
            c = c[c["outcome"].isin(outcome)]
        return int(c["n"].sum())

    def reached(self, start) -> int:
        """Accounts whose first touchpoint falls in the month starting at ``start``."""
        return int(self.first_touches.get(self._window(start), 0))


def _tally_frame(w, stage, name, outcome, n) -> pd.DataFrame:
    return pd.DataFrame({"w": np.asarray(w, dtype=np.int64), "stage": pd.Series(stage, dtype=object),
                         "name": pd.Series(name, dtype=object), "outcome": pd.Series(outcome, dtype=object),
                         "n": np.asarray(n, dtype=np.int64)})


def _lower_names(raw) -> dict:
    """Each distinct touchpoint name and its lower case (Python's, as the metrics' names are)."""
    return {v: str(v).lower() for v in raw if v is not None and not pd.isna(v)}


def touchpoint_tally(touchpoints: pd.DataFrame | None, windows: list) -> TouchpointTally | None:
    """The :class:`TouchpointTally` of a touchpoints frame for the months ``windows`` ([start, end) in UTC)."""
    if touchpoints is None:
        return None
    ts = touchpoints[TIMESTAMP]
    w = np.full(len(touchpoints), -1, dtype=np.int64)
    for i, (start, end) in enumerate(windows):
        w[((ts >= start) & (ts < end)).to_numpy()] = i
    sel = touchpoints[w >= 0]
    has_name = TOUCHPOINT in touchpoints
    lower = _lower_names(pd.unique(touchpoints[TOUCHPOINT].dropna())) if has_name else {}
    has_outcome = OUTCOME in touchpoints
    in_months = pd.DataFrame({
        "w": w[w >= 0], "stage": sel[STAGE].astype(str).to_numpy(dtype=object),
        "name": sel[TOUCHPOINT].map(lower).to_numpy(dtype=object) if has_name else None,
        "outcome": sel[OUTCOME].to_numpy(dtype=object) if has_outcome else None})
    counts = in_months.groupby(["w", "stage", "name", "outcome"], dropna=False).size()
    counts = _tally_frame(*(counts.index.get_level_values(i) for i in range(4)), counts.to_numpy())
    first = touchpoints.groupby(ACCOUNT_ID, observed=True)[TIMESTAMP].min()
    first_touches = {i: int(((first >= s) & (first < e)).sum()) for i, (s, e) in enumerate(windows)}
    return TouchpointTally(windows, counts, first_touches, set(lower.values()), has_outcome)


def sql_touchpoint_tally(log: Any, windows: list) -> TouchpointTally:
    """The :class:`TouchpointTally` of a :class:`~journeylib.data.engines.TouchpointTable` (or a paths
    ``TableLog``), counted in its engine (only the counts and the distinct names reach Python)."""
    bounds = [(int(s.value), int(e.value)) for s, e in windows]
    which = "CASE " + " ".join(f"WHEN ts >= {s} AND ts < {e} THEN {i}" for i, (s, e) in enumerate(bounds)) + " END"
    rows = log.session.rows(f"""
        SELECT w, code, tp, oc, count(*) FROM (SELECT {which} AS w, code, tp, oc FROM {log.events}) t
        WHERE w IS NOT NULL GROUP BY w, code, tp, oc""")
    lower = _lower_names(r[0] for r in log.session.rows(f"SELECT DISTINCT tp FROM {log.events}"))
    ids = log.lifecycle.ids
    counts = _tally_frame([r[0] for r in rows], [ids[int(r[1])] for r in rows], [lower.get(r[2]) for r in rows],
                          [r[3] for r in rows], [r[4] for r in rows])
    counts = counts.groupby(["w", "stage", "name", "outcome"], dropna=False, as_index=False)["n"].sum()
    first = log.session.rows(f"""
        SELECT w, count(*) FROM (SELECT {which} AS w FROM (SELECT a, min(ts) AS ts FROM {log.events} GROUP BY a) f) t
        WHERE w IS NOT NULL GROUP BY w""")
    return TouchpointTally(windows, counts, {int(w): int(n) for w, n in first}, set(lower.values()),
                           log.has_column(OUTCOME))


def _count(n: int | None) -> _Value:
    return _Value(None if n is None else float(n), "count")


def _prop(k: int, n: int) -> _Value:
    return _Value(k / n if n else None, "proportion", int(k), int(n))


def _sample(values, how: str = "median") -> _Value:
    arr = np.asarray(pd.Series(values, dtype=float).dropna(), dtype=float)
    if not len(arr):
        return _Value(None, "sample")
    value = float(np.median(arr) if how == "median" else np.mean(arr))
    return _Value(value, "sample", sample=tuple(arr.tolist()))


# ---------------------------------------------------------------------------- metrics
def _stage_touchpoints(stage):
    def compute(data, start, end):
        if stage not in data.lifecycle.ids or data.tally is None:
            return _Value(None)
        return _count(data.tally.count(start, stage=stage))
    return compute


def _new_accounts_reached(data, start, end):
    return _Value(None) if data.tally is None else _count(data.tally.reached(start))


def _touchpoint_count(names, outcome=None):
    def compute(data, start, end):
        if data.tally is None or not data.tally.names & names:
            return _Value(None)
        return _count(data.tally.count(start, names=names, outcome=outcome))
    return compute


def _lead_conversion(frm: str, to: str):
    def compute(data, start, end):
        leads = data.leads
        if leads is None or frm not in leads or (to not in leads):
            return _Value(None)
        cohort = leads[(leads[frm] >= start) & (leads[frm] < end)]
        return _prop(int(cohort[to].notna().sum()), len(cohort))
    return compute


def _closed(data, start, end, type_=None):
    opps = data.opportunities
    if opps is None or "closed_at" not in opps or "status" not in opps:
        return None
    closed = opps[(opps["closed_at"] >= start) & (opps["closed_at"] < end) & opps["status"].isin(["won", "lost"])]
    if type_ is not None and "type" in closed:
        closed = closed[closed["type"].fillna("new") == type_]
    return closed


def _win_rate(data, start, end):
    closed = _closed(data, start, end, "new")
    if closed is None:
        return _Value(None)
    return _prop(int((closed["status"] == "won").sum()), len(closed))


def _deal_size(data, start, end):
    closed = _closed(data, start, end, "new")
    if closed is None or "amount" not in closed:
        return _Value(None)
    return _sample(closed.loc[closed["status"] == "won", "amount"], how="mean")


def _sales_cycle(data, start, end):
    closed = _closed(data, start, end, "new")
    if closed is None:
        return _Value(None)
    won = closed[closed["status"] == "won"]
    return _sample((won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400)


def _first_value_days(data) -> pd.DataFrame | None:
    """Days from each account's first subscription start to its first usage week with
    active users >= 25% of seats purchased (the value milestone)."""
    subs, usage = data.subscriptions, data.usage
    if subs is None or usage is None or "active_users" not in usage or "seats_purchased" not in subs:
        return None
    first = subs.sort_values("start_date").groupby(ACCOUNT_ID, as_index=False).first()[
        [ACCOUNT_ID, "start_date", "seats_purchased"]]
    u = usage.merge(first, on=ACCOUNT_ID)
    u = u[(u["date"] >= u["start_date"]) & (u["active_users"] >= np.ceil(0.25 * u["seats_purchased"]))]
    reached = u.groupby(ACCOUNT_ID)["date"].min().rename("value_at")
    out = first.merge(reached, on=ACCOUNT_ID, how="left")
    out["days"] = (out["value_at"] - out["start_date"]).dt.total_seconds() / 86400
    return out


def _value_within_90(data, start, end):
    fv = _first_value_days(data)
    if fv is None:
        return _Value(None)
    # accounts whose first 90 days ended within this month: did they reach value in time?
    due = fv[(fv["start_date"] + pd.Timedelta(days=90) >= start) & (fv["start_date"] + pd.Timedelta(days=90) < end)]
    return _prop(int((due["days"] <= 90).sum()), len(due))


def _time_to_value(data, start, end):
    fv = _first_value_days(data)
    if fv is None:
        return _Value(None)
    return _sample(fv.loc[(fv["value_at"] >= start) & (fv["value_at"] < end), "days"])


def _active_users(data, start, end):
    u = _in(data.usage, "date", start, end)
    if u is None or "active_users" not in u:
        return _Value(None)
    if u.empty:
        return _count(0)
    last_week = u[u["date"] == u["date"].max()].groupby(ACCOUNT_ID)["active_users"].sum()
    # value: all active users of the month's last usage week; the test compares accounts' values
    return _Value(float(last_week.sum()), "sample", sample=tuple(last_week.astype(float).tolist()))


def _feature_breadth(data, start, end):
    u = _in(data.usage, "date", start, end)
    if u is None or "feature" not in u:
        return _Value(None)
    return _sample(u.dropna(subset=["feature"]).groupby(ACCOUNT_ID)["feature"].nunique(), how="mean")


def _ticket_metric(column, scale=1.0, how="median"):
    def compute(data, start, end):
        t = _in(data.tickets, "opened_at", start, end)
        if t is None or (column not in t and column != "resolution"):
            return _Value(None)
        if column == "resolution":
            if "resolved_at" not in t:
                return _Value(None)
            values = (t["resolved_at"] - t["opened_at"]).dt.total_seconds() / 3600
        else:
            values = t[column] * scale
        return _sample(values, how=how)
    return compute


def _active_accounts(subs: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    end = subs["end_date"] if "end_date" in subs else pd.Series(pd.NaT, index=subs.index)
    return subs[(subs["start_date"] <= at) & (end.isna() | (end > at))]


def _logo_retention(data, start, end):
    subs = data.subscriptions
    if subs is None:
        return _Value(None)
    before = set(_active_accounts(subs, start)[ACCOUNT_ID])
    after = set(_active_accounts(subs, end - pd.Timedelta(1, "ns"))[ACCOUNT_ID])
    return _prop(len(before & after), len(before))


def _nrr(data, start, end):
    subs = data.subscriptions
    if subs is None or "mrr" not in subs:
        return _Value(None)
    at_start = _active_accounts(subs, start)
    base = at_start.groupby(ACCOUNT_ID)["mrr"].sum()
    later = _active_accounts(subs, end - pd.Timedelta(1, "ns"))
    kept = later[later[ACCOUNT_ID].isin(base.index)].groupby(ACCOUNT_ID)["mrr"].sum()
    if base.sum() <= 0:
        return _Value(None)
    return _Value(float(kept.sum() / base.sum()), "ratio")


def _upsell_rate(data, start, end):
    subs = data.subscriptions
    closed = _closed(data, start, end, "expansion")
    if closed is None or subs is None:
        return _Value(None)
    active = set(_active_accounts(subs, start)[ACCOUNT_ID])
    upsold = set(closed.loc[closed["status"] == "won", ACCOUNT_ID]) & active
    return _prop(len(upsold), len(active))


def _nps(data, start, end):
    s = _in(data.surveys, "date", start, end)
    if s is None:
        return _Value(None)
    scores = s.loc[s["kind"] == "nps", "score"]
    if scores.empty:
        return _Value(None, "sample")
    nps = 100.0 * ((scores >= 9).mean() - (scores <= 6).mean())
    # the test compares the per-response contributions (+100 promoter, -100 detractor, 0 passive)
    contrib = np.where(scores >= 9, 100.0, np.where(scores <= 6, -100.0, 0.0))
    return _Value(float(nps), "sample", sample=tuple(contrib.tolist()))


def _csat(data, start, end):
    s = _in(data.surveys, "date", start, end)
    if s is None:
        return _Value(None)
    return _sample(s.loc[s["kind"] == "csat", "score"], how="mean")


METRICS: list[Metric] = [
    Metric("awareness", "Awareness touchpoints", "", "higher", _stage_touchpoints("awareness")),
    Metric("awareness", "New accounts reached", "", "higher", _new_accounts_reached),
    Metric("research", "Content downloads", "", "higher",
           _touchpoint_count({"whitepaper_download", "case_study_download"})),
    Metric("research", "Webinar attendance", "", "higher", _touchpoint_count({"webinar"}, outcome=["attended"])),
    Metric("consideration", "Demo requests", "", "higher", _touchpoint_count({"demo_request"})),
    Metric("consideration", "MQL to SQL conversion", "%", "higher", _lead_conversion("mql_at", "sql_at")),
    Metric("consideration", "SQL to opportunity conversion", "%", "higher",
           _lead_conversion("sql_at", "opportunity_id")),
    Metric("decision", "Win rate (new business)", "%", "higher", _win_rate),
    Metric("decision", "Average deal size", "USD", "higher", _deal_size),
    Metric("decision", "Sales cycle (median days)", "days", "lower", _sales_cycle),
    Metric("onboarding", "Time to first value (median days)", "days", "lower", _time_to_value),
    Metric("onboarding", "Reached value within 90 days", "%", "higher", _value_within_90),
    Metric("adoption", "Active users (last week)", "", "higher", _active_users),
    Metric("adoption", "Features used per account", "", "higher", _feature_breadth),
    Metric("support", "First response (median minutes)", "minutes", "lower",
           _ticket_metric("first_response_minutes")),
    Metric("support", "Resolution time (median hours)", "hours", "lower", _ticket_metric("resolution")),
    Metric("support", "CSAT (mean, 1-5)", "", "higher", _csat),
    Metric("renewal", "Logo retention (month)", "%", "higher", _logo_retention),
    Metric("renewal", "Net revenue retention (month)", "%", "higher", _nrr),
    Metric("expansion", "Upsell rate", "%", "higher", _upsell_rate),
    Metric("advocacy", "NPS", "", "higher", _nps),
    Metric("advocacy", "Referrals given", "", "higher", _touchpoint_count({"referral_given", "referral_intro"})),
]


# ---------------------------------------------------------------------------- tests
def _p_value(a: _Value, b: _Value) -> float | None:
    """Two-sided p-value of the difference between this month (a) and another period (b)."""
    if a.value is None or b.value is None:
        return None
    if a.kind == "proportion" and a.trials and b.trials:
        pooled = (a.successes + b.successes) / (a.trials + b.trials)
        se = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
        if se == 0:
            return 1.0
        z = (a.value - b.value) / se
        return float(2 * stats.norm.sf(abs(z)))
    if a.kind == "count":
        n = int(a.value + b.value)
        if n == 0:
            return 1.0
        return float(stats.binomtest(int(a.value), n, 0.5).pvalue)
    if a.kind == "sample" and len(a.sample) and len(b.sample):
        if len(set(a.sample) | set(b.sample)) == 1:
            return 1.0
        return float(stats.mannwhitneyu(a.sample, b.sample, alternative="two-sided").pvalue)
    return None


def _flag(name: str, this: _Value, other: _Value, p: float | None, alpha: float, label: str, better: str) -> str:
    if this.value is None:
        return "no data"
    if other.value is None:
        return f"no data for {label}"
    if this.value == other.value:
        return f"unchanged vs {label}"
    direction = "up" if this.value > other.value else "down"
    if p is None:
        return f"{direction} vs {label} (no significance test for this metric)"
    if p >= alpha:
        return f"{direction} vs {label}, within normal variation"
    good = (direction == "up") == (better == "higher")
    return f"significantly {'higher' if direction == 'up' else 'lower'} than {label} ({'good' if good else 'watch'})"


def scorecard(data, month: str, alpha: float = 0.05, metrics: list[Metric] | None = None, *,
              engine: str = "auto", lifecycle: Any = None) -> pd.DataFrame:
    """The stage scorecard of ``month``.

    Parameters
    ----------
    data : JourneyData or path
        Loaded data (nothing after its as_of is in it), or a validated contract folder
        (``reports/YYYY-MM/contract``) or Parquet touchpoints, counted by ``engine``.
    month : str
        ``YYYY-MM``; compared with the month before and the same month a year before.
    alpha : float
        Significance level of the plain-words flags.
    metrics : list of Metric, optional
        Default :data:`METRICS`. A metric's ``compute(data, start, end)`` gets the data, and
        ``data.tally``, the :class:`TouchpointTally` of the three months.
    engine : {"auto", "pandas", "duckdb", "spark"}, default "auto"
        For a path: ``"duckdb"`` or ``"spark"`` count the touchpoints in that engine (the data
        may exceed memory) and read the contract's other tables with pandas; Parquet
        touchpoints that are not a contract give the touchpoint metrics only (no other
        tables), and so does a Spark URL. ``"pandas"`` loads the data; ``"auto"`` picks DuckDB
        for touchpoints over 1 GB on disk. The metrics are the same in every engine. With an
        engine, ``data.touchpoints`` is ``None`` in a metric's ``compute``: use ``data.tally``.
    lifecycle : Lifecycle, dict or path, optional
        The stages of Parquet touchpoints that are not a validated contract (a contract and a
        JourneyData carry their own).

    Returns
    -------
    DataFrame, one row per metric in lifecycle order, with columns stage, metric,
    unit, better, value, last_month, last_year, change_vs_last_month,
    change_vs_last_year, p_vs_last_month, p_vs_last_year, significant_vs_last_month,
    flag_vs_last_month, flag_vs_last_year. Values are ``None`` where the data do not
    allow the metric ("no data"). Stages of a company's own lifecycle without
    metrics here are simply absent.

    Examples
    --------
    >>> card = scorecard(data, "2026-10")  # doctest: +SKIP
    >>> big = scorecard("reports/2026-10/contract", "2026-10", engine="duckdb")  # doctest: +SKIP
    """
    start, end = month_window(month)
    period = pd.Period(month, freq="M")
    prev_start, prev_end = month_window(str(period - 1))
    ly_start, ly_end = month_window(str(period - 12))
    windows = [(start, end), (prev_start, prev_end), (ly_start, ly_end)]
    if isinstance(data, (str, Path)):
        data = _engine_inputs(data, windows, engine, lifecycle)
    else:
        from .data.engines import ENGINES

        check_choice(engine, "engine", ENGINES)
        if lifecycle is not None:
            raise ParameterError("lifecycle is for Parquet touchpoints that are not a contract; a JourneyData "
                                 "carries its own")
        data = _Inputs(data, touchpoint_tally(data.touchpoints, windows))
    rows = []
    order = {s: i for i, s in enumerate(data.lifecycle.ids)}
    for m in metrics or METRICS:
        if m.stage not in order:
            continue
        this = m.compute(data, start, end)
        prev = m.compute(data, prev_start, prev_end)
        ly = m.compute(data, ly_start, ly_end)
        p_prev, p_ly = _p_value(this, prev), _p_value(this, ly)
        rows.append({
            "stage": m.stage, "metric": m.name, "unit": m.unit, "better": m.better,
            "value": this.value, "last_month": prev.value, "last_year": ly.value,
            "change_vs_last_month": None if this.value is None or prev.value is None else this.value - prev.value,
            "change_vs_last_year": None if this.value is None or ly.value is None else this.value - ly.value,
            "p_vs_last_month": p_prev, "p_vs_last_year": p_ly,
            "significant_vs_last_month": bool(p_prev is not None and p_prev < alpha),
            "flag_vs_last_month": _flag(m.name, this, prev, p_prev, alpha, "last month", m.better),
            "flag_vs_last_year": _flag(m.name, this, ly, p_ly, alpha, "the same month last year", m.better),
        })
    out = pd.DataFrame(rows)
    if not out.empty:
        out = out.sort_values("stage", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return out


class _Inputs:
    """The data as the metrics see it: the JourneyData's tables and lifecycle, and ``tally``."""

    def __init__(self, data: Any, tally: TouchpointTally | None):
        self._data, self.tally = data, tally

    def __getattr__(self, name: str) -> Any:
        return getattr(self._data, name)


def _engine_inputs(source: "str | Path", windows: list, engine: str, lifecycle: Any) -> _Inputs:
    """A path's inputs: the touchpoints counted by the chosen engine, the contract's other tables."""
    from .data.contract import read_contract
    from .data.engines import choose_engine, open_touchpoints
    from .schema import TABLES

    chosen = choose_engine(source, engine)
    if chosen == "pandas":
        from .data import load

        data = load(str(source))
        return _Inputs(data, touchpoint_tally(data.touchpoints, windows))
    touchpoints = open_touchpoints(source, lifecycle, engine=chosen)
    try:
        tally = sql_touchpoint_tally(touchpoints, windows)
    finally:
        touchpoints.close()
    if "://" not in str(source) and (Path(source) / "contract.json").is_file():
        return _Inputs(read_contract(source, tables=[n for n in TABLES if n != "touchpoints"]), tally)
    return _Inputs(SimpleNamespace(lifecycle=touchpoints.lifecycle, **{n: None for n in TABLES}), tally)


def _fmt(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if unit == "%":
        return f"{value:.1%}"
    if unit == "USD":
        return f"${value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def scorecard_display(card: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The scorecard as readable text: stage label, metric, this month, last month,
    same month last year, and the plain-words flag vs last month."""
    labels = labels or {}
    return pd.DataFrame({
        "stage": card["stage"].map(lambda s: labels.get(s, s)),
        "metric": card["metric"],
        "this month": [_fmt(v, u) for v, u in zip(card["value"], card["unit"])],
        "last month": [_fmt(v, u) for v, u in zip(card["last_month"], card["unit"])],
        "last year": [_fmt(v, u) for v, u in zip(card["last_year"], card["unit"])],
        "vs last month": card["flag_vs_last_month"],
    })
