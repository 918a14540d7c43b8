"""Temporal backtest and permutation drivers.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_days, check_int
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID
from .health import health_score

from .metrics import _auc, calibration_table, classification_metrics, lift_table, roc_points
from .model import ChurnModel, _check_snapshots, _frame, _threads
from .prepared import FEATURES, SNAPSHOT
from .snapshots import KNOWN, LABEL, _day, check_model

# =========================================================================== drivers
def permutation_drivers(model: ChurnModel, snapshots: pd.DataFrame, *, n_repeats: int = 5, random_state: int = 0,
                        groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Global drivers: the drop in ROC-AUC when a feature (or group) is shuffled across accounts.

    Parameters
    ----------
    model : ChurnModel
        Fitted.
    snapshots : DataFrame
        Rows with known outcomes of both classes (typically the test snapshot).
    groups : mapping name -> features, optional
        Shuffle these features together (one permutation for the group); default one
        group per model feature.

    Returns
    -------
    DataFrame with columns feature, label, importance (mean AUC drop), importance_std,
    rank (1 = strongest); empty when the rows hold a single class.
    """
    cols = ["feature", "label", "importance", "importance_std", "rank"]
    rows = snapshots[snapshots[KNOWN].astype(bool)]
    y = rows[LABEL].astype(int).to_numpy() if len(rows) else np.zeros(0)
    if not model.fitted_ or len(np.unique(y)) < 2:
        return pd.DataFrame(columns=cols)
    feats = model.features_ if model.kind_ != "health" else [f for f in model.features_ if f in _HEALTH_INPUTS]
    groups = dict(groups) if groups is not None else {f: [f] for f in feats}
    unknown = [f for fs in groups.values() for f in fs if f not in rows]
    if unknown:
        raise ParameterError(f"unknown features in groups: {unknown}{did_you_mean(unknown[0], FEATURES)}")
    rng = np.random.default_rng(random_state)
    out = []
    if model.kind_ == "health":
        base = _auc(y, model.predict_proba(rows))

        def shuffled_auc(fs, perm):
            return _auc(y, model.predict_proba(rows.assign(**{f: rows[f].to_numpy()[perm] for f in fs})))
    else:
        X = _frame(rows, model.features_)
        D = model._encode(X)
        with _threads(model.n_threads):
            base_p = model._proba(D)
        base = _auc(y, base_p)

        def shuffled_auc(fs, perm):
            values = {f: X[f].to_numpy()[perm] for f in fs}
            inside = [f for f in fs if f in model.features_]
            return _auc(y, model._rescored(D, model._with_values(D, inside, values), inside, base_p))
    with _threads(model.n_threads):
        for name, fs in groups.items():
            drops = [base - shuffled_auc(fs, rng.permutation(len(rows))) for _ in range(n_repeats)]
            out.append({"feature": name, "label": FEATURES.get(name, name), "importance": float(np.mean(drops)),
                        "importance_std": float(np.std(drops))})
    frame = pd.DataFrame(out, columns=cols[:-1]).sort_values("importance", ascending=False, kind="stable")
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame.reset_index(drop=True)


_HEALTH_INPUTS = ("seat_utilisation", "active_users_trend", "feature_breadth_90d", "tickets_90d",
                  "high_priority_tickets_90d", "open_tickets", "nps_latest", "csat_latest", "exec_engaged_180d",
                  "champion_quiet_days", "contacts_engaged_90d")


# =========================================================================== backtest
class ChurnBacktest:
    """Temporal backtest: train on snapshots whose outcome was known before T, test on T.

    For each test date ``T`` the training set holds the snapshots ``s`` with
    ``s + horizon_days <= T`` (every label it uses was observable at ``T``); the test
    set is snapshot ``T``'s accounts. The chosen model and the baselines (logistic
    regression, rule-based health score) are scored side by side.

    Parameters
    ----------
    model : {"gbm", "logistic", "health"}
        The model of record; drivers are computed for it.
    horizon_days : int
    n_tests : int
        Test on the latest ``n_tests`` snapshots whose outcome is known (month ends only).
    test_dates : list of dates, optional
        Explicit test dates instead.
    calibration, health_weights, random_state :
        As :class:`ChurnModel`.
    n_bins : int
        Bins of the calibration curve.
    n_repeats : int
        Permutations per feature for the drivers.

    Attributes
    ----------
    metrics_ : DataFrame
        One row per test date and model: test_date, model, role ("model"/"baseline"),
        train_snapshots, train_rows, train_churned, accounts, churned, base_rate,
        roc_auc, pr_auc, brier, brier_skill, calibration_slope, calibration_intercept,
        top_decile_lift, top_decile_capture, note.
    calibration_ : DataFrame
        test_date, model, bin, accounts, mean_predicted, observed_rate.
    lift_ : DataFrame
        test_date, model, group, accounts, churned, churn_rate, lift, capture.
    roc_ : DataFrame
        test_date, model, fpr, tpr.
    predictions_ : DataFrame
        test_date, account_id, model, probability, risk_score, churned.
    drivers_ : DataFrame
        :func:`permutation_drivers` of the model on the latest test date.
    messages_ : list of str
        Why something could not be computed (single class, too few snapshots...).
    latest_model_ : ChurnModel
        The model fitted for the latest test date.
    """

    def __init__(self, model: str = "gbm", *, horizon_days: int = 90, n_tests: int = 4,
                 test_dates: Sequence[Any] | None = None, calibration: str = "sigmoid",
                 health_weights: dict[str, float] | None = None, n_bins: int = 10, n_repeats: int = 5,
                 random_state: int = 0):
        self.model = check_model(model)
        self.horizon_days = check_days(horizon_days, "horizon_days", minimum=1, whole=True)
        self.n_tests = check_int(n_tests, "n_tests", minimum=1)
        self.test_dates = test_dates
        self.calibration = calibration
        self.health_weights = health_weights
        self.n_bins = n_bins
        self.n_repeats = n_repeats
        self.random_state = random_state

    @property
    def models(self) -> list[str]:
        """The model of record first, then the baselines."""
        return [self.model] + [m for m in ("logistic", "health") if m != self.model]

    def _dates(self, snapshots: pd.DataFrame) -> list[pd.Timestamp]:
        known = snapshots.loc[snapshots[KNOWN].astype(bool), SNAPSHOT]
        dates = sorted(pd.Timestamp(d) for d in known.unique())
        h = pd.Timedelta(days=self.horizon_days)
        if self.test_dates is not None:
            chosen = [_day(d, "test date") for d in self.test_dates]
            missing = [str(d.date()) for d in chosen if d not in set(dates)]
            if missing:
                raise ParameterError(f"test dates without a snapshot of known outcome: {', '.join(missing)}; "
                                     f"available: {', '.join(str(d.date()) for d in dates[-6:])}")
            return chosen
        month_ends = [d for d in dates if d.is_month_end]
        usable = [d for d in month_ends if any(s + h <= d for s in dates)]
        return usable[-self.n_tests:]

    def fit(self, snapshots: pd.DataFrame) -> "ChurnBacktest":
        """Run the backtest on :func:`build_snapshots` output."""
        _check_snapshots(snapshots)
        self.messages_: list[str] = []
        metrics, calib, lift, roc, preds = [], [], [], [], []
        dates = self._dates(snapshots)
        known_dates = sorted(snapshots.loc[snapshots[KNOWN].astype(bool), SNAPSHOT].unique())
        self.latest_model_ = None
        self.drivers_ = pd.DataFrame(columns=["feature", "label", "importance", "importance_std", "rank"])
        if not known_dates:
            self._say(f"no snapshot has a known {self.horizon_days}-day outcome (the history is shorter than the "
                      "horizon): nothing to backtest")
        elif not dates:
            self._say(f"too few snapshots for a temporal backtest: {len(known_dates)} snapshot(s) with a known "
                      f"outcome, and none has an earlier snapshot whose {self.horizon_days}-day outcome was known "
                      "by then; the health-score baseline is reported on the latest snapshot instead")
            latest = pd.Timestamp(known_dates[-1])
            test = snapshots[snapshots[SNAPSHOT] == latest]
            self._evaluate(latest, "health", None, test, metrics, calib, lift, roc, preds)
        for T in dates:
            test = snapshots[(snapshots[SNAPSHOT] == T) & snapshots[KNOWN].astype(bool)]
            y = test[LABEL].astype(int).to_numpy()
            if len(np.unique(y)) < 2:
                what = "no churn" if y.sum() == 0 else "all churned"
                self._say(f"test snapshot {T.date()} holds a single class ({what} among {len(y):,} accounts): "
                          "ROC-AUC, PR-AUC and lift are undefined there")
            for name in self.models:
                m = ChurnModel(name, horizon_days=self.horizon_days, calibration=self.calibration,
                               health_weights=self.health_weights, random_state=self.random_state)
                m.fit(snapshots, before=T)
                self._evaluate(T, name, m, test, metrics, calib, lift, roc, preds)
                if name == self.model and T == dates[-1]:
                    self.latest_model_ = m
                    if m.fitted_ and m.kind_ == name:
                        self.drivers_ = permutation_drivers(m, test, n_repeats=self.n_repeats,
                                                            random_state=self.random_state)
        self.metrics_ = pd.DataFrame(metrics, columns=_METRIC_COLUMNS)
        self.calibration_ = _concat(calib, ["test_date", "model", "bin", "accounts", "mean_predicted", "observed_rate"])
        self.lift_ = _concat(lift, ["test_date", "model", "group", "accounts", "churned", "churn_rate", "lift",
                                    "capture"])
        self.roc_ = _concat(roc, ["test_date", "model", "fpr", "tpr"])
        self.predictions_ = _concat(preds, ["test_date", ACCOUNT_ID, "model", "probability", "risk_score", LABEL])
        return self

    def _say(self, text: str) -> None:
        if text not in self.messages_:
            self.messages_.append(text)

    def _evaluate(self, T, name, m, test, metrics, calib, lift, roc, preds) -> None:
        y = test[LABEL].astype(int).to_numpy()
        if m is None:  # health score without a training set: a ranking only
            p = np.full(len(test), np.nan)
            risk = 1 - health_score(test, weights=self.health_weights)["health"].to_numpy() / 100
            note = "ranking only: no earlier snapshot to map the health score to a probability"
            train = (0, 0, 0)
        else:
            p = m.predict_proba(test)
            risk = m.risk_score(test)
            train = (m.train_snapshots_, m.train_rows_, m.train_churned_)
            note = ""
            if m.kind_ != name:
                note = f"not trained: {m.message_}"
                self._say(f"{T.date()}, {name}: {m.message_}")
                p = np.full(len(test), np.nan)
                risk = p if name != "health" else risk
            elif m.message_:
                note = m.message_
        res = classification_metrics(y, p if np.isfinite(p).any() else risk)
        if not np.isfinite(p).any():
            res.update(brier=float("nan"), brier_skill=float("nan"), calibration_slope=float("nan"),
                       calibration_intercept=float("nan"))
            if name != "health":
                res.update(roc_auc=float("nan"), pr_auc=float("nan"), top_decile_lift=float("nan"),
                           top_decile_capture=float("nan"))
        if len(np.unique(y)) < 2:
            note = "; ".join(x for x in (note, "single class in the test snapshot") if x)
        metrics.append({"test_date": T, "model": name, "role": "model" if name == self.model else "baseline",
                        "train_snapshots": train[0], "train_rows": train[1], "train_churned": train[2], **res,
                        "note": note})
        score = p if np.isfinite(p).any() else risk
        if np.isfinite(p).any():
            calib.append(calibration_table(y, p, self.n_bins).assign(test_date=T, model=name))
        if np.isfinite(score).any() and len(np.unique(y)) == 2:
            lift.append(lift_table(y, score).assign(test_date=T, model=name))
            roc.append(roc_points(y, score).assign(test_date=T, model=name))
        preds.append(pd.DataFrame({"test_date": T, ACCOUNT_ID: test[ACCOUNT_ID].to_numpy(), "model": name,
                                   "probability": p, "risk_score": score, LABEL: y}))

    def by_date(self, metric: str = "roc_auc") -> dict[str, dict[str, float]]:
        """``{test date: {model: metric}}`` (NaN where undefined), for recording."""
        metric = check_choice(metric, "metric", _METRIC_COLUMNS)
        out: dict[str, dict[str, float]] = {}
        for row in self.metrics_.itertuples(index=False):
            out.setdefault(str(pd.Timestamp(row.test_date).date()), {})[row.model] = float(getattr(row, metric))
        return out

    def summary(self) -> pd.DataFrame:
        """ROC-AUC and Brier score per test date (rows) and model (columns)."""
        m = self.metrics_
        if m.empty:
            return pd.DataFrame()
        wide = m.pivot_table(index="test_date", columns="model", values=["roc_auc", "brier"], dropna=False)
        wide.columns = [f"{a}_{b}" for a, b in wide.columns]
        return wide.reset_index()


_METRIC_COLUMNS = ["test_date", "model", "role", "train_snapshots", "train_rows", "train_churned", "accounts",
                   "churned", "base_rate", "roc_auc", "pr_auc", "brier", "brier_skill", "calibration_slope",
                   "calibration_intercept", "top_decile_lift", "top_decile_capture", "note"]


def _concat(parts: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


