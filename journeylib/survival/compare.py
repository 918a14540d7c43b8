"""Comparing groups: log-rank tests (Holm-adjusted) and the Cox model with its PH check.

Part of :mod:`journeylib.survival`; import the public names from there.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..checks import check_choice, check_number
from ..errors import ParameterError, did_you_mean
from .curves import _check_durations, _check_group_by, _group_labels, _group_order, _quiet

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
    check_choice(correction, "correction", corrections)
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
        check_number(self.alpha, "alpha", minimum=0, maximum=1, low_open=True, high_open=True,
                     what="a significance level")
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


