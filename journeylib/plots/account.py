"""One account on one timeline (:func:`journeylib.data.account.account_history`)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..stages import Lifecycle
from .theme import empty_figure, new_figure, stage_colors

__all__ = ["account_timeline_figure"]

_OUTCOME = {"created": "#8e8e8e", "won": "#2e7d32", "lost": "#c62828", "open": "#ffc000", "started": "#2e75b6",
            "ended": "#c55a11", "opened": "#ed7d31", "resolved": "#70ad47"}
_SYMBOL = {"opportunity": "diamond", "subscription": "square", "ticket": "triangle-up", "survey": "star"}
_LANE = {"opportunity": "opportunities", "subscription": "subscription", "ticket": "tickets", "survey": "surveys"}


def account_timeline_figure(history: pd.DataFrame, lifecycle: Lifecycle, *, subtitle: str = "") -> go.Figure:
    """Touchpoints by contact (coloured by stage), then opportunities, subscription, tickets and surveys.

    ``subtitle`` (e.g. the account's churn risk and health) goes under the title.
    """
    name = history.attrs.get("name", "")
    account_id = history.attrs.get("account_id", "")
    title = f"{name} ({account_id})" if name and name != account_id else str(account_id or "Account")
    if subtitle:
        title += f"<br><sup>{subtitle}</sup>"
    if history.empty:
        return empty_figure(title, "no event of this account up to the analysis date")
    fig = new_figure(title)
    colors = stage_colors(lifecycle.ids)
    touches = history[history["kind"] == "touchpoint"]
    lanes = list(dict.fromkeys(touches["who"].astype(str)))
    for stage in [s for s in lifecycle.ids if s in set(touches["stage"].astype(str))]:
        part = touches[touches["stage"].astype(str) == stage]
        fig.add_scatter(x=part["time"], y=part["who"].astype(str), mode="markers", name=lifecycle.labels[stage],
                        marker=dict(size=9, color=colors[stage], line=dict(width=0.5, color="white")),
                        customdata=part[["event", "channel", "detail"]].astype(object).where(part[
                            ["event", "channel", "detail"]].notna(), "").to_numpy(),
                        hovertemplate="%{x|%Y-%m-%d}: %{customdata[0]} (%{customdata[1]}) %{customdata[2]}"
                                      "<extra>" + lifecycle.labels[stage] + "</extra>")
    for kind in ("opportunity", "subscription", "ticket", "survey"):
        part = history[history["kind"] == kind]
        if part.empty:
            continue
        lanes.append(_LANE[kind])
        first_word = part["event"].astype(str).str.split().str[0]
        fig.add_scatter(x=part["time"], y=[_LANE[kind]] * len(part), mode="markers", name=_LANE[kind],
                        marker=dict(size=11, symbol=_SYMBOL[kind], color=[_OUTCOME.get(e, "#5b9bd5") for e in
                                                                          first_word]),
                        customdata=part[["event", "detail"]].astype(object).where(part[["event", "detail"]]
                                                                                  .notna(), "").to_numpy(),
                        hovertemplate="%{x|%Y-%m-%d}: %{customdata[0]} %{customdata[1]}<extra></extra>")
    fig.update_layout(height=max(360, 34 * len(lanes) + 200), legend_title_text="stage / event",
                      yaxis=dict(categoryorder="array", categoryarray=lanes[::-1], automargin=True),
                      margin=dict(t=90))
    return fig
