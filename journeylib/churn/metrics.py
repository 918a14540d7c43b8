"""Classification metrics of churn probabilities: ROC, calibration, lift and capture.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd



# =========================================================================== metrics
def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(p)
    if ok.sum() == 0 or len(np.unique(y[ok])) < 2:
        return float("nan")
    return float(roc_auc_score(y[ok], p[ok]))


def calibration_slope(y: Any, p: Any) -> tuple[float, float]:
    """Slope and intercept of the logistic recalibration ``logit P(y) = a + b logit(p)``.

    A well-calibrated model has slope 1 and intercept 0; a slope below 1 means
    overconfident predictions. Fitted by Newton's method (no penalty).

    Returns
    -------
    (slope, intercept); NaN when y holds a single class.
    """
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    x = np.log(p / (1 - p))
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 1.0])
    for _ in range(100):
        eta = np.clip(X @ beta, -30, 30)
        mu = 1 / (1 + np.exp(-eta))
        w = np.maximum(mu * (1 - mu), 1e-12)
        step = np.linalg.solve(X.T @ (X * w[:, None]) + 1e-9 * np.eye(2), X.T @ (y - mu))
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[1]), float(beta[0])


def lift_table(y: Any, p: Any, n_groups: int = 10) -> pd.DataFrame:
    """Churn by risk group (group 1 = the highest predicted risk).

    Returns
    -------
    DataFrame with columns group, accounts, churned, churn_rate, lift (group rate /
    overall rate), capture (cumulative share of all churners in groups 1..k).
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = len(y)
    order = np.argsort(-np.nan_to_num(p, nan=-np.inf), kind="stable")
    group = np.minimum((np.arange(n) * n_groups) // max(n, 1), n_groups - 1) + 1
    frame = pd.DataFrame({"group": group, "y": y[order]})
    out = frame.groupby("group").agg(accounts=("y", "size"), churned=("y", "sum")).reset_index()
    rate = y.mean() if n else float("nan")
    out["churn_rate"] = out["churned"] / out["accounts"]
    out["lift"] = out["churn_rate"] / rate if rate > 0 else np.nan
    total = y.sum()
    out["capture"] = out["churned"].cumsum() / total if total > 0 else np.nan
    return out.astype({"accounts": "int64", "churned": "int64"})


def calibration_table(y: Any, p: Any, n_bins: int = 10) -> pd.DataFrame:
    """Observed churn against predicted probability, in bins of equal size (quantiles of p).

    Returns
    -------
    DataFrame with columns bin, accounts, mean_predicted, observed_rate.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    y, p = y[ok], p[ok]
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "accounts", "mean_predicted", "observed_rate"])
    order = np.argsort(p, kind="stable")
    b = np.minimum((np.arange(len(y)) * n_bins) // len(y), n_bins - 1) + 1
    frame = pd.DataFrame({"bin": b, "p": p[order], "y": y[order]})
    out = frame.groupby("bin").agg(accounts=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    return out.reset_index().astype({"accounts": "int64"})


def roc_points(y: Any, p: Any) -> pd.DataFrame:
    """The ROC curve: false and true positive rates at every threshold (empty for one class)."""
    from sklearn.metrics import roc_curve

    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    if len(np.unique(y[ok])) < 2:
        return pd.DataFrame(columns=["fpr", "tpr"])
    fpr, tpr, _ = roc_curve(y[ok], p[ok])
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})


def classification_metrics(y: Any, p: Any, top: float = 0.1) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier score and skill, calibration slope, top-decile lift and capture.

    ``brier_skill`` is ``1 - brier / (r (1 - r))`` with ``r`` the observed churn rate
    (the Brier score of always predicting the base rate). ROC-AUC, PR-AUC and the
    slope are NaN when ``y`` holds a single class; Brier values are NaN when ``p`` is
    missing (a ranking without probabilities).
    """
    from sklearn.metrics import average_precision_score

    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = len(y)
    rate = float(y.mean()) if n else float("nan")
    out = {"accounts": int(n), "churned": int(y.sum()), "base_rate": rate}
    two = n > 0 and len(np.unique(y)) == 2
    probs = n > 0 and bool(np.isfinite(p).all()) and bool(((p >= 0) & (p <= 1)).all())
    out["roc_auc"] = _auc(y, p)
    out["pr_auc"] = float(average_precision_score(y, np.nan_to_num(p, nan=-1.0))) if two else float("nan")
    brier = float(np.mean((p - y) ** 2)) if probs else float("nan")
    ref = rate * (1 - rate) if n else float("nan")
    out["brier"] = brier
    out["brier_skill"] = 1 - brier / ref if probs and ref > 0 else float("nan")
    slope, intercept = calibration_slope(y, p) if probs and two else (float("nan"), float("nan"))
    out["calibration_slope"], out["calibration_intercept"] = slope, intercept
    if n and y.sum() > 0:
        k = max(int(math.ceil(top * n)), 1)
        order = np.argsort(-np.nan_to_num(p, nan=-np.inf), kind="stable")[:k]
        out["top_decile_lift"] = float(y[order].mean() / rate)
        out["top_decile_capture"] = float(y[order].sum() / y.sum())
    else:
        out["top_decile_lift"] = out["top_decile_capture"] = float("nan")
    return out


