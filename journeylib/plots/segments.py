"""Persona figures: k selection, persona map, profiles, outcomes, journeys, committee, rules."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .theme import PALETTE, THEME, empty_figure, new_figure, stage_colors

__all__ = ["k_selection_figure", "persona_map", "profile_heatmap", "outcomes_figure", "journey_timeline",
           "committee_heatmap", "rule_summary_bar", "persona_colors"]


_PERSONA_ORDER = (1, 7, 4, 9, 6, 0, 8, 2, 10, 5, 3, 11)  # palette positions far apart in hue first


def persona_colors(names) -> dict[str, str]:
    """One colour per persona name, in the given order (distinct hues first)."""
    return {n: PALETTE[_PERSONA_ORDER[i % len(_PERSONA_ORDER)]] for i, n in enumerate(dict.fromkeys(names))}


def _themed(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(template=THEME, title=title)
    return fig


def k_selection_figure(k_scores: pd.DataFrame) -> go.Figure:
    """Silhouette (higher is better) and BIC (lower is better) per k, side by side; the chosen k marked.

    ``k_scores``: ``PersonaModel.k_scores_`` (k, silhouette, bic, chosen).
    """
    title = "Choosing the number of personas"
    if k_scores is None or k_scores.empty:
        return empty_figure(title, "no k could be scored")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Silhouette (higher is better)", "BIC (lower is better)"))
    for col, metric in ((1, "silhouette"), (2, "bic")):
        fig.add_scatter(x=k_scores["k"], y=k_scores[metric], mode="lines+markers", name=metric, row=1, col=col,
                        line=dict(color=PALETTE[1]), showlegend=False)
        chosen = k_scores.loc[k_scores["chosen"]]
        fig.add_scatter(x=chosen["k"], y=chosen[metric], mode="markers", name="chosen k", row=1, col=col,
                        marker=dict(size=14, color=PALETTE[7], symbol="circle-open", line=dict(width=3)),
                        showlegend=col == 1)
    fig.update_xaxes(title_text="k (personas)", dtick=1)
    return _themed(fig, title)


def persona_map(projection: pd.DataFrame) -> go.Figure:
    """Accounts on the first two principal components of the clustering features, by persona.

    ``projection``: ``PersonaModel.projection(features)`` (x, y, persona_id, persona).
    """
    title = "Persona map (2-D projection of the clustering features)"
    if projection is None or projection.empty:
        return empty_figure(title, "no account is assigned to a persona")
    fig = new_figure(title)
    order = projection.sort_values("persona_id").drop_duplicates("persona_id")["persona"]
    colors = persona_colors(order)
    for name in order:
        part = projection.loc[projection["persona"] == name]
        fig.add_scattergl(x=part["x"], y=part["y"], mode="markers", name=f"{name} ({len(part)})",
                          marker=dict(size=5, opacity=0.6, color=colors[name]))
    explained = projection.attrs.get("explained", [])
    labels = [f"component {i + 1}" + (f" ({explained[i]:.0%} of variance)" if i < len(explained) else "")
              for i in range(2)]
    fig.update_layout(xaxis_title=labels[0], yaxis_title=labels[1], height=520)
    return fig


def profile_heatmap(traits: pd.DataFrame, names: dict, features: list[str] | None = None) -> go.Figure:
    """Standardised difference of each persona from all accounts, per feature (red above, blue below).

    ``traits``: :func:`journeylib.segments.persona_traits`; ``names``: persona id -> name.
    """
    title = "What distinguishes each persona (standardised difference from all accounts)"
    num = traits.loc[traits["std_diff"].notna()] if traits is not None else pd.DataFrame()
    if features is not None and not num.empty:
        num = num.loc[num["feature"].isin(features)]
    if num.empty:
        return empty_figure(title, "no numeric feature to compare")
    grid = num.pivot_table(index="persona_id", columns="feature", values="std_diff", aggfunc="first")
    if features is not None:
        grid = grid[[f for f in features if f in grid.columns]]
    z = grid.to_numpy(dtype=float)
    fig = new_figure(title)
    fig.add_heatmap(z=z, x=list(grid.columns), y=[names.get(int(i), str(i)) for i in grid.index], zmid=0,
                    colorscale="RdBu_r", zmin=-2, zmax=2, colorbar=dict(title="sd"),
                    text=np.round(z, 2), texttemplate="%{text}", hovertemplate="%{y}<br>%{x}: %{z:.2f} sd<extra></extra>")
    # the axes make room for their labels (persona names, feature names) instead of a fixed margin
    fig.update_layout(height=200 + 60 * len(grid), yaxis=dict(autorange="reversed", automargin=True),
                      xaxis=dict(tickangle=-30, automargin=True))
    return fig


_OUTCOMES = (("win_rate", "Win rate", ".0%"), ("sales_cycle_days", "Sales cycle (median days)", ".0f"),
             ("time_to_value_days", "Time to value (median days)", ".0f"), ("churn_rate", "Churn rate", ".0%"),
             ("expansion_rate", "Expansion rate", ".0%"), ("nrr", "Net revenue retention", ".0%"))


def outcomes_figure(outcomes: pd.DataFrame, title: str = "Outcomes per persona") -> go.Figure:
    """Small multiples: one bar chart per outcome, one bar per persona (metrics that are all missing are left out).

    ``outcomes``: :func:`journeylib.segments.persona_outcomes`.
    """
    if outcomes is None or outcomes.empty:
        return empty_figure(title, "no persona to compare")
    metrics = [m for m in _OUTCOMES if m[0] in outcomes and outcomes[m[0]].notna().any()]
    if not metrics:
        return empty_figure(title, "no outcome can be computed from the tables present")
    cols = 3 if len(metrics) > 2 else len(metrics)
    rows = int(np.ceil(len(metrics) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[m[1] for m in metrics], vertical_spacing=0.18)
    colors = persona_colors(outcomes["persona"])
    for i, (col, _, fmt) in enumerate(metrics):
        r, c = i // cols + 1, i % cols + 1
        fig.add_bar(x=outcomes["persona_id"].astype(str), y=outcomes[col],
                    marker_color=[colors[p] for p in outcomes["persona"]], showlegend=False,
                    customdata=outcomes["persona"], texttemplate=f"%{{y:{fmt}}}",
                    hovertemplate="%{customdata}<br>%{y:" + fmt + "}<extra></extra>", row=r, col=c)
        if fmt.endswith("%"):
            fig.update_yaxes(tickformat=".0%", row=r, col=c)
    fig.update_xaxes(type="category")
    legend = "<br>".join(f"persona {pid}: {name}" for pid, name in zip(outcomes["persona_id"], outcomes["persona"]))
    fig.add_annotation(text=legend, xref="paper", yref="paper", x=0, y=-0.06, showarrow=False,
                       align="left", xanchor="left", yanchor="top", font=dict(size=12))
    fig.update_layout(height=300 * rows + 100 + 18 * len(outcomes), margin=dict(b=60 + 18 * len(outcomes)))
    return _themed(fig, title)


def journey_timeline(stage_times: pd.DataFrame, stage_labels: dict[str, str]) -> go.Figure:
    """The average journey per persona: median days in each stage, stacked in lifecycle order.

    ``stage_times``: :func:`journeylib.segments.persona_stage_times`; ``stage_labels``:
    ``lifecycle.labels`` (its order is the lifecycle order).
    """
    title = "Average journey per persona: median days in each stage"
    if stage_times is None or stage_times.empty:
        return empty_figure(title, "no account has moved between stages yet")
    fig = new_figure(title)
    colors = stage_colors(list(stage_labels))
    personas = stage_times.sort_values("persona_id").drop_duplicates("persona_id")["persona"].tolist()
    for sid, label in stage_labels.items():
        part = stage_times.loc[stage_times["stage"] == sid].set_index("persona")
        if part.empty:
            continue
        days = part["median_days"].reindex(personas)
        fig.add_bar(y=personas, x=days, orientation="h", name=label, marker_color=colors[sid],
                    customdata=part["accounts"].reindex(personas),
                    hovertemplate="%{y}<br>" + label + ": %{x:.0f} days (%{customdata} accounts)<extra></extra>")
    fig.update_layout(barmode="stack", xaxis_title="median days", yaxis=dict(autorange="reversed", automargin=True),
                      height=160 + 50 * len(personas))
    return fig


def committee_heatmap(engagement: pd.DataFrame, stage_labels: dict[str, str]) -> go.Figure:
    """Share of each persona's accounts where a committee role engaged in a stage (one panel per persona).

    ``engagement``: :func:`journeylib.segments.committee_engagement`.
    """
    title = "Which buying-committee roles engage in which stages"
    if engagement is None or engagement.empty:
        return empty_figure(title, "no touchpoint is linked to a contact with a role")
    personas = engagement.sort_values("persona_id").drop_duplicates("persona_id")["persona"].tolist()
    stages = [s for s in stage_labels if s in set(engagement["stage"])]
    roles = sorted(engagement["role"].unique())
    fig = make_subplots(rows=len(personas), cols=1, shared_xaxes=True, subplot_titles=personas,
                        vertical_spacing=min(0.08, 0.4 / max(len(personas), 1)))
    for i, name in enumerate(personas, 1):
        grid = engagement.loc[engagement["persona"] == name].pivot_table(index="role", columns="stage", values="share",
                                                                         aggfunc="first")
        grid = grid.reindex(index=roles, columns=stages)
        fig.add_heatmap(z=grid.to_numpy(dtype=float), x=[stage_labels[s] for s in stages],
                        y=[str(r).replace("_", " ") for r in roles], zmin=0, zmax=1,
                        colorscale="Blues", showscale=i == 1, colorbar=dict(title="accounts", tickformat=".0%"),
                        hovertemplate="%{y} in %{x}: %{z:.0%} of accounts<extra></extra>", row=i, col=1)
    fig.update_layout(height=140 + 170 * len(personas))
    fig.update_yaxes(automargin=True)
    return _themed(fig, title)


def rule_summary_bar(summary: pd.DataFrame) -> go.Figure:
    """Accounts per rule-based persona (first match), with the overlapping and unmatched ones.

    ``summary``: :func:`journeylib.segments.rule_summary`.
    """
    title = "Rule-based personas: accounts assigned, overlaps, unmatched"
    if summary is None or summary.empty:
        return empty_figure(title, "no rules")
    fig = new_figure(title)
    fig.add_bar(x=summary["persona"], y=summary["assigned"], name="assigned (first match)", marker_color=PALETTE[1])
    fig.add_bar(x=summary["persona"], y=summary["overlapping"], name="match another rule too", marker_color=PALETTE[6])
    fig.update_layout(barmode="group", yaxis_title="accounts")
    return fig
