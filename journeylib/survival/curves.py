"""Kaplan–Meier curves with confidence intervals, medians, at-risk tables and milestones.

Part of :mod:`journeylib.survival`; import the public names from there.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_days, check_int, check_number
from ..errors import ParameterError, did_you_mean
from .durations import DURATION_COLUMNS, NOT_REACHED, UNKNOWN, _need_columns

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
        # checked, not converted: the parameters keep the values given (scikit-learn convention)
        check_int(self.min_group_size, "min_group_size", minimum=1)
        check_number(self.alpha, "alpha", minimum=0, maximum=1, low_open=True, high_open=True,
                     what="a significance level")
        for h in self.horizons:
            check_number(h, "horizons", minimum=0, low_open=True, what="numbers of days")
        if self.resolution_days is not None:
            check_days(self.resolution_days, "resolution_days")

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
        check_choice(of, "of", ("event", "survival"))
        at = self.survival_at([days])
        cols = ("event_share", "event_share_lower", "event_share_upper") if of == "event" else \
            ("survival", "lower", "upper")
        return {r["group"]: {k: (float(r[c]) if r["estimable"] else None) for k, c in zip(("share", "lower", "upper"), cols)}
                for r in at.to_dict(orient="records")}


