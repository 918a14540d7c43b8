"""Churn-risk figures: backtest metrics, ROC, calibration, lift, drivers, health vs model, ARR at risk.

Every function takes a result of :mod:`journeylib.churn` / :mod:`journeylib.churn.health`
and returns a ``plotly.graph_objects.Figure`` (an explanatory empty figure when the
result is empty).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .theme import PALETTE, empty_figure, new_figure

__all__ = ["backtest_lines", "roc_figure", "calibration_figure", "lift_figure", "drivers_bar", "health_vs_risk",
           "arr_at_risk_bar", "MODEL_LABELS"]

#: Display names of the models.
MODEL_LABELS = {"gbm": "Gradient boosting", "logistic": "Logistic regression", "health": "Health score (rules)"}
_METRIC_LABELS = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier score", "brier_skill": "Brier skill score",
                  "top_decile_lift": "Top-decile lift", "top_decile_capture": "Top-decile capture",
                  "calibration_slope": "Calibration slope"}
_BAND_COLORS = {"healthy": PALETTE[4], "watch": PALETTE[6], "at_risk": PALETTE[8]}


def _color(model: str, models: list[str]) -> str:
    return PALETTE[models.index(model) % len(PALETTE)] if model in models else PALETTE[-1]


def _models(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["model"].astype(str)))


def _one_test_date(frame: pd.DataFrame, test_date, title: str,
                   empty_note: str) -> tuple[pd.DataFrame, go.Figure, list]:
    """The rows of one test date (default the latest), the figure titled with it, and its models.

    With no rows the figure is the empty one saying ``empty_note``.
    """
    when = None
    if not frame.empty:
        when = pd.Timestamp(test_date) if test_date is not None else pd.Timestamp(frame["test_date"].max())
        frame = frame[pd.to_datetime(frame["test_date"]) == when]
    title += f" on {when.date()}" if when is not None else ""
    if frame.empty:
        return frame, empty_figure(title, empty_note), []
    return frame, new_figure(title), _models(frame)


def backtest_lines(metrics: pd.DataFrame, metric: str = "roc_auc") -> go.Figure:
    """One line per model of a backtest metric over the test dates (``ChurnBacktest.metrics_``)."""
    label = _METRIC_LABELS.get(metric, metric)
    title = f"Backtest: {label} by test date"
    if metrics.empty or metrics[metric].notna().sum() == 0:
        return empty_figure(title, "no backtest result (see the messages above)")
    fig = new_figure(title)
    models = _models(metrics)
    for model in models:
        part = metrics[metrics["model"] == model].sort_values("test_date")
        fig.add_scatter(x=pd.to_datetime(part["test_date"]).dt.strftime("%Y-%m-%d"), y=part[metric],
                        mode="lines+markers", name=MODEL_LABELS.get(model, model),
                        line=dict(color=_color(model, models)))
    fig.update_layout(xaxis_title="test snapshot", yaxis_title=label)
    return fig


def roc_figure(roc: pd.DataFrame, test_date=None) -> go.Figure:
    """ROC curves of every model on one test date (default the latest; ``ChurnBacktest.roc_``)."""
    part, fig, models = _one_test_date(roc, test_date, "ROC curve",
                                       "no test snapshot with both churners and non-churners")
    if part.empty:
        return fig
    for model in models:
        p = part[part["model"] == model]
        fig.add_scatter(x=p["fpr"], y=p["tpr"], mode="lines", name=MODEL_LABELS.get(model, model),
                        line=dict(color=_color(model, models)))
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="random", line=dict(color="#8e8e8e", dash="dot"))
    fig.update_layout(xaxis_title="false positive rate", yaxis_title="true positive rate (share of churners found)")
    return fig


def calibration_figure(calibration: pd.DataFrame, test_date=None) -> go.Figure:
    """Observed churn rate against mean predicted probability per bin (``ChurnBacktest.calibration_``)."""
    part, fig, models = _one_test_date(calibration, test_date, "Calibration", "no probabilities to calibrate")
    if part.empty:
        return fig
    top = float(np.nanmax(part[["mean_predicted", "observed_rate"]].to_numpy())) if len(part) else 1.0
    for model in models:
        p = part[part["model"] == model]
        fig.add_scatter(x=p["mean_predicted"], y=p["observed_rate"], mode="lines+markers",
                        name=MODEL_LABELS.get(model, model), line=dict(color=_color(model, models)),
                        customdata=p["accounts"], hovertemplate="predicted %{x:.1%}<br>observed %{y:.1%}"
                                                                "<br>%{customdata} accounts<extra></extra>")
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="perfect", line=dict(color="#8e8e8e", dash="dot"))
    fig.update_layout(xaxis_title="predicted churn probability (bin mean)", yaxis_title="observed churn rate",
                      xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    return fig


def lift_figure(lift: pd.DataFrame, test_date=None) -> go.Figure:
    """Lift per risk decile (decile 1 = riskiest), one bar group per model (``ChurnBacktest.lift_``)."""
    part, fig, models = _one_test_date(lift, test_date, "Lift by risk decile", "no test snapshot with churners")
    if part.empty:
        return fig
    for model in models:
        p = part[part["model"] == model]
        fig.add_bar(x=p["group"], y=p["lift"], name=MODEL_LABELS.get(model, model), marker_color=_color(model, models),
                    customdata=np.stack([p["capture"], p["churned"]], axis=1),
                    hovertemplate="decile %{x}: lift %{y:.2f}<br>cumulative capture %{customdata[0]:.0%}"
                                  "<br>%{customdata[1]} churners<extra></extra>")
    fig.add_hline(y=1, line_dash="dot", line_color="#8e8e8e")
    fig.update_layout(barmode="group", xaxis_title="risk decile (1 = highest predicted risk)",
                      yaxis_title="churn rate / overall rate", xaxis=dict(dtick=1))
    return fig


def drivers_bar(drivers: pd.DataFrame, top: int = 15) -> go.Figure:
    """Permutation importance of the top drivers (``ChurnBacktest.drivers_``), strongest on top."""
    title = "What drives churn risk (drop in ROC-AUC when shuffled)"
    if drivers.empty:
        return empty_figure(title, "no drivers: the model could not be trained or tested")
    d = drivers.sort_values("importance", ascending=False).head(top).iloc[::-1]
    fig = new_figure(title)
    fig.add_bar(x=d["importance"], y=d["label"], orientation="h", marker_color=PALETTE[1],
                error_x=dict(type="data", array=d["importance_std"], color="#8e8e8e"), name="importance",
                hovertemplate="%{y}: %{x:.4f}<extra></extra>")
    fig.update_layout(xaxis_title="ROC-AUC drop", yaxis_title="", showlegend=False,
                      margin=dict(l=260, r=20, t=50, b=50), height=max(350, 28 * len(d) + 120))
    return fig


def health_vs_risk(scored: pd.DataFrame, health: pd.DataFrame) -> go.Figure:
    """Health score against the model's churn probability, one point per account, coloured by band."""
    title = "Health score vs model risk"
    if scored.empty:
        return empty_figure(title, "no accounts to score")
    m = scored[["account_id", "probability", "risk_score"]].merge(health[["account_id", "health", "band"]],
                                                                 on="account_id", how="inner")
    y = m["probability"] if m["probability"].notna().any() else m["risk_score"]
    fig = new_figure(title)
    for band, color in _BAND_COLORS.items():
        p = m[m["band"] == band]
        fig.add_scatter(x=p["health"], y=y[p.index], mode="markers", name=band.replace("_", " "),
                        marker=dict(color=color, size=6, opacity=0.7), text=p["account_id"],
                        hovertemplate="%{text}<br>health %{x:.0f}<br>risk %{y:.1%}<extra></extra>")
    fig.update_layout(xaxis_title="health score (0-100)", yaxis_title="churn probability (model)",
                      yaxis_tickformat=".0%")
    return fig


def arr_at_risk_bar(by_segment: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """ARR of accounts at risk and expected ARR loss per segment (``churn.arr_at_risk_by_segment``)."""
    title = "ARR at risk by segment"
    seg = by_segment[by_segment["segment"] != "(all)"] if not by_segment.empty else by_segment
    if seg.empty:
        return empty_figure(title, "no active accounts")
    fig = new_figure(title)
    fig.add_bar(x=seg["segment"], y=seg["arr_at_risk"], name="ARR of accounts at risk", marker_color=PALETTE[8],
                customdata=seg["at_risk_accounts"],
                hovertemplate="%{x}: %{y:,.0f} " + currency + "<br>%{customdata} accounts<extra></extra>")
    fig.add_bar(x=seg["segment"], y=seg["expected_arr_loss"], name="expected ARR loss (probability x ARR)",
                marker_color=PALETTE[6], hovertemplate="%{x}: %{y:,.0f} " + currency + "<extra></extra>")
    fig.update_layout(barmode="group", xaxis_title="segment", yaxis_title=f"ARR ({currency})")
    return fig
