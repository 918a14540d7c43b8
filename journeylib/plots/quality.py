"""Data-quality figures: set-aside rows, coverage, stages and channels."""
from __future__ import annotations

import plotly.graph_objects as go

from .theme import empty_figure
from .theme import new_figure as _fig

__all__ = ["set_aside_bar", "coverage_lines", "stage_channel_bar"]


def set_aside_bar(by_reason) -> go.Figure:
    """Bar chart of set-aside rows by reason, one colour per table (from ``journeylib.data.quality.set_aside_by_reason``)."""
    if by_reason.empty:
        return empty_figure("Rows set aside, by reason", "No row was set aside: every row read is used.")
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
