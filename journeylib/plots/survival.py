"""Survival figures: Kaplan–Meier curves with bands and an at-risk table, a
hazard-ratio forest plot, a cohort retention heat map."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .theme import PALETTE, empty_figure, new_figure

__all__ = ["survival_curves", "hazard_ratio_forest", "cohort_heatmap"]


# distinct colours of the shared palette for groups (dark blue, orange, green, purple, ...)
_GROUP_COLOURS = [PALETTE[i] for i in (0, 7, 4, 9, 6, 2, 8, 5, 11, 10)]


def _group_colour(i: int) -> str:
    return _GROUP_COLOURS[i % len(_GROUP_COLOURS)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _steps(time: np.ndarray, values: np.ndarray, end: float | None) -> tuple[np.ndarray, np.ndarray]:
    """A step curve as points (x, y) for ``line_shape='hv'``, extended to ``end``."""
    if end is not None and len(time) and end > time[-1]:
        return np.r_[time, end], np.r_[values, values[-1]]
    return time, values


def survival_curves(curves: pd.DataFrame, at_risk: pd.DataFrame | None = None, *, title: str = "Survival curves",
                    cumulative: bool = False, y_title: str | None = None, x_title: str = "days since origin",
                    max_days: float | None = None, level: int = 95) -> go.Figure:
    """Kaplan–Meier curves per group with confidence bands, and the numbers at risk below.

    Parameters
    ----------
    curves : DataFrame
        ``SurvivalCurves.curves_`` (group, time, survival, lower, upper).
    at_risk : DataFrame, optional
        ``SurvivalCurves.at_risk(times)`` (group, time, at_risk): shown as a table
        under the curves, one row per group.
    cumulative : bool
        Show the share with the event (1 - survival, rising), e.g. "reached value".
    max_days : float, optional
        Cut the x axis there.
    level : int
        Confidence level of the bands, for the legend.

    Returns
    -------
    plotly Figure (an empty figure with a note when ``curves`` is empty).
    """
    if curves is None or curves.empty:
        return empty_figure(title, "no group has enough accounts for a curve")
    groups = list(dict.fromkeys(curves["group"].astype(str)))
    with_table = at_risk is not None and not at_risk.empty
    fig = new_figure(title)
    if with_table:
        fig.set_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.08)
    end = float(max_days) if max_days is not None else float(curves["time"].max())
    x_range = [-0.03 * end, 1.03 * end]
    kw = dict(row=1, col=1) if with_table else {}
    for i, g in enumerate(groups):
        part = curves[curves["group"].astype(str) == g].sort_values("time", kind="stable")
        if max_days is not None:
            part = part[part["time"] <= max_days]
        t = part["time"].to_numpy(float)
        s, lo, hi = (part[c].to_numpy(float) for c in ("survival", "lower", "upper"))
        if cumulative:
            s, lo, hi = 1 - s, 1 - hi, 1 - lo
        colour = _group_colour(i)
        x, yhi = _steps(t, hi, end)
        _, ylo = _steps(t, lo, end)
        _, ys = _steps(t, s, end)
        fig.add_scatter(x=x, y=yhi, mode="lines", line=dict(width=0, shape="hv"), legendgroup=g, showlegend=False,
                        hoverinfo="skip", **kw)
        fig.add_scatter(x=x, y=ylo, mode="lines", line=dict(width=0, shape="hv"), fill="tonexty",
                        fillcolor=_rgba(colour, 0.18), legendgroup=g, showlegend=False, hoverinfo="skip", **kw)
        fig.add_scatter(x=x, y=ys, mode="lines", name=g, legendgroup=g, line=dict(color=colour, width=2, shape="hv"),
                        hovertemplate=f"{g}<br>day %{{x:.1f}}: %{{y:.1%}}<extra></extra>", **kw)
    y_title = y_title or ("share with the event" if cumulative else "share without the event")
    if with_table:
        fig.update_yaxes(title_text=y_title, range=[0, 1.02], tickformat=".0%", row=1, col=1)
        fig.update_xaxes(title_text=x_title, row=2, col=1)
        fig.update_xaxes(range=x_range, row=1, col=1)
        for i, g in enumerate(groups):
            part = at_risk[at_risk["group"].astype(str) == g]
            if max_days is not None:
                part = part[part["time"] <= max_days]
            fig.add_scatter(x=part["time"], y=[g] * len(part), mode="text", text=part["at_risk"].astype(int).astype(str),
                            textfont=dict(color=_group_colour(i)), showlegend=False,
                            hovertemplate=f"{g}: %{{text}} at risk at day %{{x}}<extra></extra>", row=2, col=1)
        # categories from the top, with half a row of room above the first and below the last
        fig.update_yaxes(title_text="at risk", type="category", categoryorder="array", categoryarray=groups,
                         range=[len(groups) - 0.5, -0.5], showgrid=False, row=2, col=1)
        fig.update_xaxes(range=x_range, showgrid=False, row=2, col=1)
        label = max(len(g) for g in groups)
        fig.update_layout(height=560, margin=dict(l=max(60, 7 * label + 40)))
    else:
        fig.update_yaxes(title_text=y_title, range=[0, 1.02], tickformat=".0%")
        fig.update_xaxes(title_text=x_title, range=x_range)
    fig.update_layout(legend_title_text=f"(bands: {level}% CI)")
    return fig


def hazard_ratio_forest(hazard_ratios: pd.DataFrame, *, title: str = "Hazard ratios") -> go.Figure:
    """Forest plot of a Cox model's hazard ratios with their CIs (log scale, 1 = no difference).

    Parameters
    ----------
    hazard_ratios : DataFrame
        ``CoxModel.hazard_ratios_`` (covariate, level, reference, hazard_ratio, lower, upper, p_value).
    """
    if hazard_ratios is None or hazard_ratios.empty:
        return empty_figure(title, "no hazard ratio to show")
    hr = hazard_ratios.reset_index(drop=True)
    labels = [f"{r.covariate}: {r.level} vs {r.reference}" if r.level else str(r.covariate) for r in hr.itertuples()]
    fig = new_figure(title)
    colours = [PALETTE[0] if p < 0.05 else PALETTE[10] for p in hr["p_value"]]
    fig.add_scatter(
        x=hr["hazard_ratio"], y=labels, mode="markers", marker=dict(size=10, color=colours), showlegend=False,
        error_x=dict(type="data", symmetric=False, array=(hr["upper"] - hr["hazard_ratio"]).to_numpy(),
                     arrayminus=(hr["hazard_ratio"] - hr["lower"]).to_numpy(), color="#555555"),
        customdata=np.c_[hr["lower"], hr["upper"], hr["p_value"]],
        hovertemplate="%{y}<br>HR %{x:.2f} (%{customdata[0]:.2f}-%{customdata[1]:.2f}), p %{customdata[2]:.3g}"
                      "<extra></extra>")
    fig.add_vline(x=1, line=dict(color="#888888", dash="dash"))
    lo = float(np.nanmin(np.r_[hr["lower"].to_numpy(float), 1.0]))
    hi = float(np.nanmax(np.r_[hr["upper"].to_numpy(float), 1.0]))
    ticks = [2.0 ** k for k in range(int(np.floor(np.log2(max(lo, 1e-6)))), int(np.ceil(np.log2(min(hi, 1e6)))) + 1)]
    fig.update_xaxes(type="log", title_text="hazard ratio (log scale; > 1: the event comes sooner)", tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(260, 90 + 45 * len(hr)), margin=dict(l=max(60, 7 * max(map(len, labels)) + 20)))
    return fig


def cohort_heatmap(cohorts: pd.DataFrame, *, value: str = "logo_retention",
                   title: str = "Retention by start-month cohort") -> go.Figure:
    """Heat map of retention by start-month cohort (rows) and months since start (columns).

    Parameters
    ----------
    cohorts : DataFrame
        ``survival.cohort_retention`` output.
    value : {"logo_retention", "revenue_retention"}
    """
    allowed = ("logo_retention", "revenue_retention")
    if value not in allowed:
        from ..errors import ParameterError, did_you_mean

        raise ParameterError(f"value {value!r} is not a retention column{did_you_mean(value, allowed)}; "
                             f"allowed: {', '.join(allowed)}")
    if cohorts is None or cohorts.empty or cohorts[value].notna().sum() == 0:
        return empty_figure(title, "no cohort to show" if cohorts is None or cohorts.empty else f"no {value} values")
    z = cohorts.pivot(index="cohort", columns="months", values=value).sort_index()
    n = cohorts.pivot(index="cohort", columns="months", values="observed").reindex_like(z)
    text = z.map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
    fig = new_figure(title)
    zmax = 1.0 if value == "logo_retention" else max(1.0, float(np.nanmax(z.to_numpy(float))))
    fig.add_heatmap(z=z.to_numpy(float), x=[str(c) for c in z.columns], y=list(z.index), text=text.to_numpy(),
                    texttemplate="%{text}", textfont=dict(size=9), customdata=n.to_numpy(float),
                    colorscale="Blues", zmin=0, zmax=zmax, colorbar=dict(title="", tickformat=".0%"),
                    hovertemplate="cohort %{y}, month %{x}: %{z:.1%} of %{customdata:.0f}<extra></extra>")
    fig.update_xaxes(title_text="months since start", type="category")
    fig.update_yaxes(title_text="start month", autorange="reversed", type="category")
    fig.update_layout(height=max(360, 60 + 18 * len(z)), margin=dict(l=90))
    return fig
