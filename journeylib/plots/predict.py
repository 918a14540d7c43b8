"""Pipeline figures: the chance of winning and the days to decision from each stage, the backtest, the quarter."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .theme import PALETTE, empty_figure, new_figure

__all__ = ["stage_chain_figure", "calibration_figure", "forecast_figure"]


def _label(state: str) -> str:
    return str(state).replace("_", " ")


def stage_chain_figure(chain: pd.DataFrame, value: str = "p_won",
                       title: str = "Chance of winning from each stage (with interval)") -> go.Figure:
    """Points with intervals per stage, one colour per segment, from :func:`journeylib.predict.absorbing_chain`.

    ``value`` is ``p_won`` or ``expected_days`` (its ``_low``/``_high`` columns give the interval).
    """
    part = chain.dropna(subset=[value])
    if part.empty:
        return empty_figure(title, "no stage with a decided deal")
    fig = new_figure(title)
    for i, (segment, rows) in enumerate(part.groupby("segment", sort=True)):
        low, high = rows.get(f"{value}_low"), rows.get(f"{value}_high")
        error = None
        if low is not None and high is not None and low.notna().any():
            error = dict(type="data", symmetric=False, array=(high - rows[value]).clip(lower=0).fillna(0),
                         arrayminus=(rows[value] - low).clip(lower=0).fillna(0), color="#8e8e8e")
        fig.add_scatter(x=[_label(s) for s in rows["state"]], y=rows[value], mode="markers", name=str(segment),
                        marker=dict(size=11, color=PALETTE[i % len(PALETTE)]), error_y=error,
                        customdata=rows[["visits"]].to_numpy(),
                        hovertemplate="%{x}: %{y:" + (".0%" if value == "p_won" else ".0f") +
                                      "} (%{customdata[0]:,} visits)<extra>" + str(segment) + "</extra>")
    fig.update_layout(xaxis_title="stage the deal is in", height=420, legend_title_text="deals",
                      yaxis_title="chance of ending won" if value == "p_won" else "expected days to decision")
    if value == "p_won":
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def calibration_figure(calibration: pd.DataFrame, metrics: pd.DataFrame | None = None,
                       title: str = "Backtest: predicted chance of winning against the share won") -> go.Figure:
    """Predicted against observed per bin and model (:class:`journeylib.predict.Backtest`), with the diagonal."""
    if calibration.empty:
        return empty_figure(title, "no decided deal to score")
    fig = new_figure(title)
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="#8e8e8e"), name="perfect",
                    hoverinfo="skip")
    scores = metrics.set_index("model") if metrics is not None else None
    for i, (model, rows) in enumerate(calibration.groupby("model", sort=False)):
        name = str(model)
        if scores is not None and model in scores.index:
            name += f" (AUC {scores.loc[model, 'auc']:.2f}, Brier {scores.loc[model, 'brier']:.3f})"
        fig.add_scatter(x=rows["predicted"], y=rows["observed"], mode="lines+markers", name=name,
                        marker=dict(size=9, color=PALETTE[(2 * i) % len(PALETTE)]),
                        customdata=rows[["deals"]].to_numpy(),
                        hovertemplate="predicted %{x:.0%}, won %{y:.0%} of %{customdata[0]} deals<extra></extra>")
    fig.update_layout(xaxis_title="predicted chance of winning", yaxis_title="share won", height=420,
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig


def forecast_figure(forecast: pd.DataFrame, title: str = "Expected wins in the next 90 days (with interval)",
                    value: str = "wins") -> go.Figure:
    """Expected wins (or revenue) per segment with the interval; actual results as diamonds when present.

    ``forecast`` is :func:`journeylib.predict.pipeline_forecast` or :func:`~journeylib.predict.forecast_backtest`;
    ``value`` is ``wins`` or ``revenue``.
    """
    if forecast.empty:
        return empty_figure(title, "no open deal")
    rows = forecast[forecast["segment"] != "all"]
    expected, low, high = f"expected_{value}", f"{value}_low", f"{value}_high"
    fig = new_figure(title)
    fig.add_bar(x=rows["segment"], y=rows[expected], name="expected", marker_color=PALETTE[1],
                error_y=dict(type="data", symmetric=False, array=(rows[high] - rows[expected]).clip(lower=0),
                             arrayminus=(rows[expected] - rows[low]).clip(lower=0), color="#404040"),
                hovertemplate="%{x}: %{y:,.1f}<extra>expected</extra>")
    actual = f"actual_{value}"
    if actual in rows:
        fig.add_scatter(x=rows["segment"], y=rows[actual], mode="markers", name="actual",
                        marker=dict(symbol="diamond", size=13, color=PALETTE[7]),
                        hovertemplate="%{x}: %{y:,.0f}<extra>actual</extra>")
    fig.update_layout(xaxis_title="deals", yaxis_title=value, height=400, margin=dict(t=110),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig
