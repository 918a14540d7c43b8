"""Attribution figures: credit by channel under every model, channel lift, one account's credited touches."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .theme import PALETTE, empty_figure, new_figure

__all__ = ["credit_comparison_figure", "lift_figure", "touch_timeline_figure", "stage_credit_figure", "MODEL_LABELS"]

MODEL_LABELS = {"first": "First touch", "last": "Last touch", "linear": "Linear", "time_decay": "Time decay",
                "u_shaped": "U-shaped", "w_shaped": "W-shaped", "full_path": "Full path", "markov": "Markov chain",
                "shapley": "Shapley"}


def _words(name: object) -> str:
    """A channel id as words on an axis ("paid_search" -> "paid search")."""
    return str(name).replace("_", " ")


def credit_comparison_figure(credits: pd.DataFrame, title: str = "Conversions credited to each channel, by model",
                             value: str = "conversions") -> go.Figure:
    """Grouped bars: one group per channel, one bar per model.

    ``credits`` is long: ``model``, ``channel`` and the ``value`` column (conversions or value).
    """
    if credits.empty:
        return empty_figure(title, "no converting journey with a touch")
    order = (credits.groupby("channel")[value].mean().sort_values(ascending=False).index.tolist())
    fig = new_figure(title)
    for i, (model, part) in enumerate(credits.groupby("model", sort=False)):
        part = part.set_index("channel").reindex(order)
        fig.add_bar(x=[_words(c) for c in order], y=part[value].fillna(0.0), name=MODEL_LABELS.get(model, model),
                    marker_color=PALETTE[i % len(PALETTE)],
                    hovertemplate="%{x}: %{y:,.1f}<extra>" + MODEL_LABELS.get(model, model) + "</extra>")
    fig.update_layout(barmode="group", xaxis_title="channel", yaxis_title=value.replace("_", " "), height=460)
    return fig


def lift_figure(lift: pd.DataFrame, title: str = "Effect of each channel on winning (log-odds, with interval)") \
        -> go.Figure:
    """Points with interval bars from :func:`journeylib.attribution.channel_lift`, largest effect on top."""
    if lift.empty:
        return empty_figure(title, lift.attrs.get("note") or "no channel lift")
    part = lift.iloc[::-1]
    colors = ["#70ad47" if (s and c > 0) else "#c55a11" if s else "#8e8e8e"
              for s, c in zip(part["significant"], part["coefficient"])]
    fig = new_figure(title)
    fig.add_scatter(x=part["coefficient"], y=[_words(c) for c in part["channel"]], mode="markers",
                    marker=dict(size=10, color=colors),
                    error_x=dict(type="data", symmetric=False, array=part["ci_high"] - part["coefficient"],
                                 arrayminus=part["coefficient"] - part["ci_low"], color="#8e8e8e"),
                    customdata=part[["odds_ratio", "journeys_exposed"]].to_numpy(),
                    hovertemplate="%{y}: log-odds %{x:.2f} (odds x%{customdata[0]:.2f}), "
                                  "%{customdata[1]:,} journeys exposed<extra></extra>", showlegend=False)
    fig.add_vline(x=0, line_dash="dot", line_color="#8e8e8e")
    fig.update_layout(xaxis_title="effect on the odds of winning (log-odds; 0 = none)", yaxis_automargin=True,
                      height=max(320, 34 * len(part) + 140))
    return fig


def touch_timeline_figure(touches: pd.DataFrame, title: str = "The touches that got credit") -> go.Figure:
    """One account's touches on a timeline, sized by credit (:func:`journeylib.attribution.touch_credits`)."""
    if touches.empty:
        return empty_figure(title, "this journey has no credited touch")
    fig = new_figure(title)
    for i, (channel, part) in enumerate(touches.groupby("channel", sort=True)):
        fig.add_scatter(x=part["touch_time"], y=[channel] * len(part), mode="markers", name=str(channel),
                        marker=dict(size=8 + 40 * part["credit"], color=PALETTE[i % len(PALETTE)]),
                        customdata=np.column_stack([part["credit"].to_numpy(dtype=float), part["campaign"]
                                                    .astype(object).where(part["campaign"].notna(), "").to_numpy()]),
                        hovertemplate="%{x|%Y-%m-%d}: %{y} %{customdata[1]}<br>credit %{customdata[0]:.0%}"
                                      "<extra></extra>")
    fig.update_layout(xaxis_title="time", yaxis_title="channel", showlegend=False, height=360)
    return fig


def stage_credit_figure(by_stage: pd.DataFrame, title: str = "Where in the journey each channel earns its credit",
                        value: str = "conversions") -> go.Figure:
    """Heatmap of :func:`journeylib.attribution.shapley` with ``by_stage=True``: channels by stage, in stage order."""
    if by_stage.empty:
        return empty_figure(title, "no converting journey with a touch")
    grid = by_stage.pivot_table(index="channel", columns="stage", values=value, aggfunc="sum", sort=False)
    grid = grid.loc[grid.sum(axis=1).sort_values(ascending=True).index]  # largest at the top
    fig = new_figure(title)
    fig.add_heatmap(z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), colorscale="Blues",
                    colorbar=dict(title=value.replace("_", " ")), hoverongaps=False,
                    hovertemplate="%{y} in %{x}: %{z:,.1f}<extra></extra>")
    fig.update_layout(xaxis_title="stage of the touch", yaxis_title="channel", yaxis_automargin=True,
                      height=max(320, 28 * len(grid) + 160))
    return fig
