"""One theme, one palette, one stage order for every figure."""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["THEME", "PALETTE", "use_offline_renderer", "stage_colors", "new_figure", "empty_figure"]

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


def new_figure(title: str) -> go.Figure:
    """An empty figure with the shared theme and a title."""
    return go.Figure(layout=dict(template=THEME, title=title))


def empty_figure(title: str, note: str) -> go.Figure:
    """A themed figure with no data and a centred note (e.g. "no accounts match this filter")."""
    fig = new_figure(title)
    fig.add_annotation(text=note, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=15))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
