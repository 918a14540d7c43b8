"""Figures from results: one theme, one stage order and palette.

Every function takes a result DataFrame and returns a ``plotly.graph_objects.Figure``.
"""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["use_offline_renderer", "stage_colors", "set_aside_bar", "coverage_lines", "stage_channel_bar",
           "THEME", "PALETTE"]

PALETTE = ["#1f4e79", "#2e75b6", "#5b9bd5", "#9dc3e6", "#70ad47", "#a9d18e", "#ffc000", "#ed7d31", "#c55a11",
           "#7030a0", "#8e8e8e", "#264478"]
THEME = go.layout.Template(layout=dict(
    font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", size=13),
    colorway=PALETTE, paper_bgcolor="white", plot_bgcolor="white",
    xaxis=dict(gridcolor="#e5e5e5", zeroline=False), yaxis=dict(gridcolor="#e5e5e5", zeroline=False),
    margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2),
))


def use_offline_renderer() -> str:
    """Set Plotly's renderer for notebooks that also export to offline HTML.

    ``plotly_mimetype`` keeps charts interactive in JupyterLab; ``notebook`` embeds
    plotly.js once so the exported HTML renders without a network.
    """
    pio.renderers.default = "plotly_mimetype+notebook"
    return pio.renderers.default


def stage_colors(stage_ids: list[str]) -> dict[str, str]:
    """One colour per stage id, in lifecycle order."""
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(stage_ids)}


def _fig(title: str) -> go.Figure:
    return go.Figure(layout=dict(template=THEME, title=title))


def set_aside_bar(by_reason) -> go.Figure:
    """Bar chart of set-aside rows by reason, one colour per table (from ``health.set_aside_by_reason``)."""
    fig = _fig("Rows set aside, by reason")
    for table, part in by_reason.groupby("table", sort=True):
        fig.add_bar(x=part["reason"], y=part["rows"], name=str(table))
    fig.update_layout(barmode="stack", xaxis_title="reason", yaxis_title="rows")
    return fig


def coverage_lines(coverage) -> go.Figure:
    """Rows per month of each table (from ``health.coverage_by_month``), log scale."""
    fig = _fig("Coverage: rows per month")
    for table, part in coverage.groupby("table", sort=False):
        fig.add_scatter(x=part["month"], y=part["rows"], mode="lines", name=str(table))
    fig.update_layout(xaxis_title="month", yaxis_title="rows (log)", yaxis_type="log")
    return fig


def stage_channel_bar(by_stage_channel, stage_labels: dict[str, str]) -> go.Figure:
    """Stacked bars of touchpoints per stage (lifecycle order), by channel."""
    fig = _fig("Touchpoints per stage and channel")
    order = [s for s in stage_labels if s in set(by_stage_channel["stage"].astype(str))]
    for channel, part in by_stage_channel.groupby("channel", sort=True):
        counts = part.set_index(part["stage"].astype(str))["rows"].reindex(order, fill_value=0)
        fig.add_bar(x=[stage_labels[s] for s in order], y=counts.to_numpy(), name=str(channel))
    fig.update_layout(barmode="stack", xaxis_title="stage", yaxis_title="touchpoints")
    return fig
