"""Journey-path figures: step and aggregated Sankeys, transition heat map, funnel,
drop-offs, variants, won vs lost, time in stage.

Every function takes a result of :mod:`journeylib.paths` (and the lifecycle for stage
order, labels and colours) and returns a ``plotly.graph_objects.Figure``; an empty
result gives :func:`~journeylib.plots.theme.empty_figure` with the result's note.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..paths import END, OTHER, sankey_nodes
from ..stages import Lifecycle
from .theme import empty_figure, new_figure, stage_colors

__all__ = ["step_sankey_figure", "aggregated_sankey_figure", "transition_heatmap", "funnel_figure",
           "drop_off_figure", "variants_figure", "won_lost_figure", "time_in_stage_figure"]

_GREY, _LIGHT = "#8e8e8e", "#d9d9d9"
_DIRECTION_COLORS = {"forward": "rgba(46,117,182,0.45)", "backward": "rgba(237,125,49,0.6)",
                     "recurring": "rgba(142,142,142,0.35)", "self": "rgba(142,142,142,0.2)"}
_OUTCOME_COLORS = {"won": "#70ad47", "expanded": "#2e75b6", "churned": "#c55a11", "lost": "#ed7d31",
                   "open": "#ffc000", "none": "#bfbfbf"}


def _note(result: pd.DataFrame, default: str) -> str:
    return str(result.attrs.get("note") or default)


def _names(lifecycle: Lifecycle) -> dict[str, str]:
    return {**lifecycle.labels, OTHER: "Other", END: "Journey ended"}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def _centers(values: np.ndarray) -> np.ndarray:
    """Vertical node centres (0 top, 1 bottom) stacking nodes by their values, with gaps."""
    share = np.asarray(values, dtype=float) / max(float(np.sum(values)), 1.0)
    gap = 0.12 / max(len(share), 1)
    share = share * (1 - 0.12)
    tops = np.r_[0, np.cumsum(share + gap)[:-1]]
    return np.clip(0.01 + tops + share / 2, 0.001, 0.999)


#: Step-Sankey nodes smaller than this share of all journeys are drawn without a label (hover shows it).
LABEL_MIN_SHARE = 0.04


def step_sankey_figure(links: pd.DataFrame, lifecycle: Lifecycle, title: str = "Journeys step by step") -> go.Figure:
    """The step Sankey of :func:`journeylib.paths.step_sankey`.

    Columns are steps; node labels carry the journeys (nodes under :data:`LABEL_MIN_SHARE` of
    all journeys have none), hovers both conversion views (share of the previous step, of all
    journeys at the start), links their share of the source node and of the start.
    """
    if links.empty:
        return empty_figure(title, _note(links, "no journeys to show"))
    nodes = sankey_nodes(links)
    names = _names(lifecycle)
    colors = {**stage_colors(lifecycle.ids), OTHER: _GREY, END: _LIGHT}
    rank = {s: i for i, s in enumerate(lifecycle.ids + [OTHER, END])}
    nodes = nodes.assign(_r=nodes["stage"].map(rank)).sort_values(["step", "_r"], kind="stable")
    index = {(int(k), s): i for i, (k, s) in enumerate(zip(nodes["step"], nodes["stage"]))}
    last = int(nodes["step"].max())
    x, y = [], []
    for k, part in nodes.groupby("step", sort=True):
        x.extend([0.001 + 0.998 * (int(k) - 1) / max(last - 1, 1)] * len(part))
        y.extend(_centers(part["journeys"].to_numpy()))
    # small nodes keep their hover but no label: stacked in a column, their labels would overlap
    # short labels (the shares are in the hover): a column's labels on the right and the next column's on
    # the left share the space between them
    label = [f"{names.get(s, s)} {n:,}" if q >= LABEL_MIN_SHARE else "" for s, n, q in
             zip(nodes["stage"], nodes["journeys"], nodes["share_of_start"])]
    node_hover = [f"step {k}: {names.get(s, s)}<br>{n:,} journeys<br>{p:.1%} of the previous step<br>"
                  f"{q:.1%} of all journeys" for k, s, n, p, q in
                  zip(nodes["step"], nodes["stage"], nodes["journeys"], nodes["share_of_previous_step"],
                      nodes["share_of_start"])]
    src = [index[(int(k), s)] for k, s in zip(links["step"], links["source"])]
    tgt = [index[(int(k) + 1, t)] for k, t in zip(links["step"], links["target"])]
    link_hover = [f"{names.get(a, a)} → {names.get(b, b)} (step {k} → {k + 1})<br>{n:,} journeys<br>"
                  f"{p:.1%} of the source<br>{q:.1%} of all journeys" for k, a, b, n, p, q in
                  zip(links["step"], links["source"], links["target"], links["journeys"], links["share_of_source"],
                      links["share_of_start"])]
    fig = new_figure(title)
    fig.add_trace(go.Sankey(
        arrangement="snap", textfont=dict(size=11),  # a column's labels and the next one's share the gap
        node=dict(label=label, color=[colors.get(s, _GREY) for s in nodes["stage"]], x=x, y=y, pad=8,
                  thickness=14, customdata=node_hover, hovertemplate="%{customdata}<extra></extra>"),
        link=dict(source=src, target=tgt, value=links["journeys"].tolist(),
                  color=[_rgba(colors.get(s, _GREY), 0.35) for s in links["source"]],
                  customdata=link_hover, hovertemplate="%{customdata}<extra></extra>"),
    ))
    fig.update_layout(height=520, margin=dict(l=20, r=20, t=60, b=20))
    return fig


def aggregated_sankey_figure(transitions: pd.DataFrame, lifecycle: Lifecycle,
                             title: str = "Moves between stages") -> go.Figure:
    """Stage -> stage flows of :func:`journeylib.paths.transitions` (from on the left, to
    on the right, lifecycle order top to bottom); backward moves in orange, moves into
    or out of a recurring stage in grey. Self-moves are left out."""
    moves = transitions[transitions["direction"] != "self"] if not transitions.empty else transitions
    if moves.empty:
        return empty_figure(title, _note(transitions, "no moves between stages"))
    names = _names(lifecycle)
    colors = stage_colors(lifecycle.ids)
    used_from = [s for s in lifecycle.ids if s in set(moves["from_stage"].astype(str))]
    used_to = [s for s in lifecycle.ids if s in set(moves["to_stage"].astype(str))]
    out_total = moves.groupby(moves["from_stage"].astype(str))["transitions"].sum()
    in_total = moves.groupby(moves["to_stage"].astype(str))["transitions"].sum()
    labels = [f"{names[s]} {int(out_total[s]):,}" for s in used_from] + \
        [f"→ {names[s]} {int(in_total[s]):,}" for s in used_to]
    x = [0.001] * len(used_from) + [0.999] * len(used_to)
    y = list(_centers(out_total[used_from].to_numpy())) + list(_centers(in_total[used_to].to_numpy()))
    fi = {s: i for i, s in enumerate(used_from)}
    ti = {s: len(used_from) + i for i, s in enumerate(used_to)}
    hover = [f"{names[a]} → {names[b]} ({d})<br>{n:,} moves by {j:,} journeys<br>{p:.1%} of the exits of {names[a]}"
             f"<br>median {m:.1f} days" for a, b, d, n, j, p, m in
             zip(moves["from_stage"].astype(str), moves["to_stage"].astype(str), moves["direction"],
                 moves["transitions"], moves["journeys"], moves["share"], moves["median_days"])]
    fig = new_figure(title)
    fig.add_trace(go.Sankey(
        arrangement="snap",
        node=dict(label=labels, x=x, y=y, pad=10, thickness=14,
                  color=[colors[s] for s in used_from] + [colors[s] for s in used_to]),
        link=dict(source=[fi[s] for s in moves["from_stage"].astype(str)],
                  target=[ti[s] for s in moves["to_stage"].astype(str)], value=moves["transitions"].tolist(),
                  color=[_DIRECTION_COLORS[d] for d in moves["direction"]], customdata=hover,
                  hovertemplate="%{customdata}<extra></extra>"),
    ))
    # a Sankey has no legend: say what the link colours mean under it
    key = "   ".join(f'<span style="color:{_DIRECTION_COLORS[d]}">■</span> {words}' for d, words in
                     (("forward", "forward"), ("backward", "back to an earlier stage"),
                      ("recurring", "into or out of a recurring stage (support)")) if d in _DIRECTION_COLORS)
    fig.add_annotation(text=key, x=0, y=-0.04, xref="paper", yref="paper", xanchor="left", yanchor="top",
                       showarrow=False, font=dict(size=12))
    fig.update_layout(height=540, margin=dict(l=20, r=20, t=60, b=50))
    return fig


def transition_heatmap(transitions: pd.DataFrame, lifecycle: Lifecycle,
                       title: str = "Transition matrix: share of each stage's exits") -> go.Figure:
    """Heat map of the share of each from-stage's exits going to each to-stage (text: counts)."""
    if transitions.empty:
        return empty_figure(title, _note(transitions, "no transitions"))
    names = _names(lifecycle)
    ids = [s for s in lifecycle.ids if s in set(transitions["from_stage"].astype(str))
           | set(transitions["to_stage"].astype(str))]
    frame = transitions.assign(f=transitions["from_stage"].astype(str), t=transitions["to_stage"].astype(str))
    share = frame.pivot(index="f", columns="t", values="share").reindex(index=ids, columns=ids)
    count = frame.pivot(index="f", columns="t", values="transitions").reindex(index=ids, columns=ids)
    text = [["" if pd.isna(v) else f"{int(v):,}" for v in row] for row in count.to_numpy()]
    fig = new_figure(title)
    fig.add_trace(go.Heatmap(z=share.to_numpy(), x=[names[s] for s in ids], y=[names[s] for s in ids], text=text,
                             texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
                             colorbar=dict(title="share", tickformat=".0%"),
                             hovertemplate="%{y} → %{x}<br>%{z:.1%} of exits<br>%{text} moves<extra></extra>"))
    fig.update_layout(xaxis_title="to stage", yaxis_title="from stage", yaxis_autorange="reversed", height=520,
                      yaxis_automargin=True)
    return fig


def funnel_figure(funnel: pd.DataFrame, lifecycle: Lifecycle, title: str = "Funnel and drop-off") -> go.Figure:
    """Journeys reaching each stage (ever, and in lifecycle order), with the in-order
    stage-to-stage conversion and the journeys lost at each step."""
    if funnel.empty:
        return empty_figure(title, _note(funnel, "no journeys"))
    names = _names(lifecycle)
    x = [names[s] for s in funnel["stage"].astype(str)]
    in_order = funnel["reached_in_order"].to_numpy()
    lost = np.r_[funnel["journeys"].iloc[0] - in_order[0], in_order[:-1] - in_order[1:]]
    fig = new_figure(title)
    fig.add_bar(x=x, y=funnel["reached"], name="reached (ever)", marker_color="#9dc3e6",
                hovertemplate="%{x}: %{y:,} reached<extra></extra>")
    fig.add_bar(x=x, y=in_order, name="reached in lifecycle order", marker_color="#1f4e79",
                text=[f"{c:.0%}" for c in funnel["conversion"]], textposition="outside",
                hovertemplate="%{x}: %{y:,} in order (%{text} of the previous stage)<extra></extra>")
    fig.add_scatter(x=x, y=lost, name="dropped before this stage (in order)", mode="lines+markers",
                    line=dict(color="#ed7d31"), hovertemplate="%{x}: %{y:,} dropped<extra></extra>")
    fig.update_layout(barmode="group", xaxis_title="stage", yaxis_title="journeys", margin=dict(t=110),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig


def drop_off_figure(drop_offs: pd.DataFrame, title: str = "Drop-off points: no-shows and abandoned forms") -> go.Figure:
    """Rate of each negative outcome, and how many of those journeys still moved on."""
    if drop_offs.empty:
        return empty_figure(title, _note(drop_offs, "no drop-off outcomes in the touchpoints"))
    y = [f"{t} ({o})" for t, o in zip(drop_offs["touchpoint"], drop_offs["outcome"])]
    fig = new_figure(title)
    fig.add_bar(y=y, x=drop_offs["rate"], orientation="h", name="share of the touchpoint's events",
                marker_color="#ed7d31", hovertemplate="%{y}: %{x:.1%} of its events<extra></extra>")
    fig.add_bar(y=y, x=1 - drop_offs["progressed_share"], orientation="h", name="journeys that never moved on after it",
                marker_color="#7030a0", hovertemplate="%{y}: %{x:.1%} never moved on<extra></extra>")
    fig.update_layout(barmode="group", xaxis_tickformat=".0%", yaxis_autorange="reversed",
                      height=max(300, 40 * len(y) + 120), yaxis_automargin=True)
    return fig


def variants_figure(variants: pd.DataFrame, title: str = "Most frequent paths") -> go.Figure:
    """Journeys per variant, stacked by outcome when outcomes are known."""
    if variants.empty:
        return empty_figure(title, _note(variants, "no journeys"))
    y = variants["variant"].tolist()
    fig = new_figure(title)
    outcomes = [o for o in _OUTCOME_COLORS if o in variants.columns]
    if outcomes:
        for o in outcomes:
            fig.add_bar(y=y, x=variants[o], orientation="h", name=o, marker_color=_OUTCOME_COLORS[o],
                        hovertemplate="%{y}<br>%{x:,} " + o + "<extra></extra>")
    else:
        fig.add_bar(y=y, x=variants["journeys"], orientation="h", name="journeys", marker_color="#2e75b6")
    fig.update_layout(barmode="stack", yaxis_autorange="reversed", xaxis_title="journeys",
                      height=max(320, 36 * len(y) + 140), yaxis_automargin=True)
    return fig


def won_lost_figure(won_vs_lost: pd.DataFrame, top: int = 15,
                    title: str = "Won vs lost: what differed before the close") -> go.Figure:
    """Share of won and of lost accounts with each feature (the ``top`` largest
    differences); features significant after the FDR correction are marked with *."""
    if won_vs_lost.empty:
        return empty_figure(title, _note(won_vs_lost, "no won and lost accounts to compare"))
    part = won_vs_lost.head(top)
    y = [f"{str(v).replace('_', ' ').capitalize()} ({d}){' *' if s else ''}" for d, v, s in
         zip(part["dimension"], part["value"], part["significant"])]
    fig = new_figure(title)
    fig.add_bar(y=y, x=part["share_won"], orientation="h", name=f"won ({won_vs_lost.attrs.get('won', '?')})",
                marker_color=_OUTCOME_COLORS["won"], hovertemplate="%{y}: %{x:.1%} of won accounts<extra></extra>")
    fig.add_bar(y=y, x=part["share_lost"], orientation="h", name=f"lost ({won_vs_lost.attrs.get('lost', '?')})",
                marker_color=_OUTCOME_COLORS["lost"], hovertemplate="%{y}: %{x:.1%} of lost accounts<extra></extra>")
    fig.update_layout(barmode="group", xaxis_tickformat=".0%", xaxis_title="share of accounts with it",
                      yaxis_autorange="reversed", height=max(360, 34 * len(y) + 180), yaxis_automargin=True,
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), margin=dict(t=110, b=130))
    if part["significant"].any():
        fig.add_annotation(text="* a real difference (significant, false discovery rate 5%)", x=0, y=-0.17,
                           xref="paper", yref="paper",
                           xanchor="left", yanchor="top", showarrow=False, font=dict(size=12))
    return fig


def time_in_stage_figure(time_in_stage: pd.DataFrame, lifecycle: Lifecycle,
                         title: str = "Days per visit of each stage") -> go.Figure:
    """Box per stage (whiskers p10-p90) and segment, from :func:`journeylib.paths.time_in_stage`."""
    if time_in_stage.empty:
        return empty_figure(title, _note(time_in_stage, "no finished stage visits"))
    names = _names(lifecycle)
    fig = new_figure(title)
    for seg, part in time_in_stage.groupby("segment", sort=True):
        x = [names[s] for s in part["stage"].astype(str)]
        fig.add_trace(go.Box(x=x, q1=part["p25_days"], median=part["median_days"], q3=part["p75_days"],
                             lowerfence=part["p10_days"], upperfence=part["p90_days"], mean=part["mean_days"],
                             name=str(seg), boxpoints=False))
    fig.update_layout(boxmode="group", yaxis_title="days (whiskers: 10th-90th percentile)", xaxis_title="stage")
    return fig
