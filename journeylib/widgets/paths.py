"""An interactive view of journey paths: pick a segment, the Sankey's steps and its threshold.

Every control mirrors a notebook parameter (``segment``, ``max_steps``, ``threshold``),
so papermill renders the same view headless from the parameter values; the widget
only redraws the same figures for other values in JupyterLab.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd
from .. import paths
from ..data import JourneyData
from ..errors import ParameterError
from ..paths.log import segment_map
from ..plots import paths as path_figures
from ..stages import Lifecycle
from . import show_in
from .account import AccountExplorer

__all__ = ["PathsExplorer", "paths_explorer", "VariantExplorer", "variant_explorer"]

ALL = ""  # the dropdown value meaning every account


class PathsExplorer(widgets.VBox):
    """Segment, steps and threshold controls over the step and aggregated Sankeys.

    Attributes
    ----------
    segment, steps, threshold : ipywidgets controls (Dropdown, IntSlider, FloatSlider)
    figures : dict of str -> Figure
        The figures on show: ``step_sankey`` and ``aggregated_sankey``.
    """

    def __init__(self, source: Any, lifecycle: Lifecycle | None = None, *, segments: Any = None,
                 accounts: pd.DataFrame | None = None, segment: str | None = None, max_steps: int = 6,
                 threshold: float = 0.01, filters: dict | None = None):
        if accounts is None and isinstance(source, JourneyData):
            accounts = source.accounts
        seg_map = segment_map(segments, accounts)
        values = sorted(pd.unique(seg_map)) if seg_map is not None else []
        options = [("All accounts", ALL)] + [(s, s) for s in values]
        value = segment or ALL
        if value not in [v for _, v in options]:
            raise ParameterError(f"segment {segment!r} is not one of the segments: "
                                 f"{', '.join(v for _, v in options[1:]) or '(no segments given)'}")
        self._data = dict(source=source, lifecycle=lifecycle, segments=segments, accounts=accounts,
                          filters=dict(filters or {}))
        self.segment = widgets.Dropdown(options=options, value=value, description="Segment")
        self.steps = widgets.IntSlider(value=int(max_steps), min=2, max=max(12, int(max_steps)), description="Steps")
        self.threshold = widgets.FloatSlider(value=float(threshold), min=0.0, max=max(0.2, float(threshold)),
                                             step=0.005, readout_format=".1%", description="Threshold")
        self._outputs = {"step_sankey": widgets.Output(), "aggregated_sankey": widgets.Output()}
        self.figures: dict[str, Any] = {}
        for control in (self.segment, self.steps, self.threshold):
            control.observe(self._redraw, names="value")
        super().__init__([widgets.HBox([self.segment, self.steps, self.threshold]), *self._outputs.values()])
        self._redraw()

    def _redraw(self, change: Any = None) -> None:
        d = self._data
        segment = self.segment.value or None
        log = paths.event_log(d["source"], d["lifecycle"], accounts=d["accounts"],
                              segments=d["segments"] if segment else None, segment=segment, **d["filters"])
        links = paths.step_sankey(log, max_steps=int(self.steps.value), threshold=float(self.threshold.value))
        moves = paths.transitions(log, collapse=True)
        where = f" ({segment})" if segment else ""
        self.figures = {
            "step_sankey": path_figures.step_sankey_figure(links, log.lifecycle,
                                                           title=f"Journeys step by step{where}"),
            "aggregated_sankey": path_figures.aggregated_sankey_figure(moves, log.lifecycle,
                                                                       title=f"Moves between stages{where}"),
        }
        for name, out in self._outputs.items():
            show_in(out, self.figures[name])


def paths_explorer(source: Any, lifecycle: Lifecycle | None = None, *, segments: Any = None,
                   accounts: pd.DataFrame | None = None, segment: str | None = None, max_steps: int = 6,
                   threshold: float = 0.01, **filters: Any) -> PathsExplorer:
    """Build the interactive paths view for the given parameter values.

    Parameters
    ----------
    source, lifecycle
        A JourneyData, or a touchpoints frame and its lifecycle, as in
        :func:`journeylib.paths.event_log`.
    segments, accounts
        The segment assignment (a frame, or an accounts column name; ``accounts``
        defaults to the JourneyData's).
    segment : str, optional
        The segment shown first ("" or None: all accounts).
    max_steps, threshold
        The step Sankey's initial steps and folding threshold.
    **filters
        Further filters of the event log (plan, start, end, channel, as_of, level).

    Returns
    -------
    PathsExplorer
        A widget: controls above the step Sankey and the aggregated Sankey.
    """
    return PathsExplorer(source, lifecycle, segments=segments, accounts=accounts, segment=segment,
                         max_steps=max_steps, threshold=threshold, filters=filters)


class VariantExplorer(widgets.VBox):
    """A variant of the variants table, its accounts by outcome, and one of them on the account timeline.

    Attributes
    ----------
    variant : ipywidgets.Dropdown
        The variant's rank in the variants table (1: most frequent).
    journeys : DataFrame
        :func:`journeylib.paths.variant_journeys` of the variant on show.
    accounts : AccountExplorer
        The drill-down, offering the variant's accounts.
    """

    def __init__(self, data: JourneyData, log: Any, table: pd.DataFrame, *, variant: int = 1, account: str = "",
                 max_steps: int | None = 6):
        if not len(table):
            raise ParameterError("the variants table is empty: no journey to drill into (see its note)")
        ranks = list(range(1, len(table) + 1))
        if variant not in ranks:
            raise ParameterError(f"variant {variant!r} is not a rank of the variants table: 1 to {len(table)}")
        self._log, self._max_steps = log, max_steps
        self.variant = widgets.Dropdown(
            options=[(f"{i}. {v} ({n:,} journeys)", i) for i, v, n in zip(ranks, table["variant"], table["journeys"])],
            value=variant, description="Variant", layout=widgets.Layout(width="70%"))
        self._table_out = widgets.Output()
        self.journeys = self._journeys(variant)
        self.accounts = AccountExplorer(data, account or str(self.journeys["account_id"].iloc[0]),
                                        offered=self.journeys["account_id"].head(200))
        self.variant.observe(self._changed, names="value")
        super().__init__([self.variant, self._table_out, self.accounts])
        show_in(self._table_out, self.outcomes())

    def _journeys(self, rank: int) -> pd.DataFrame:
        return paths.variant_journeys(self._log, int(rank), max_steps=self._max_steps)

    def outcomes(self) -> pd.DataFrame:
        """The variant's journeys by outcome (one row), as shown above the drill-down."""
        if "outcome" not in self.journeys:
            return pd.DataFrame({"journeys": [len(self.journeys)]})
        return self.journeys["outcome"].value_counts().rename_axis(None).to_frame("journeys").T

    def _changed(self, change: Any) -> None:
        self.journeys = self._journeys(change["new"])
        self.accounts.offer(self.journeys["account_id"].head(200))
        show_in(self._table_out, self.outcomes())


def variant_explorer(data: JourneyData, log: Any, table: pd.DataFrame, *, variant: int = 1, account: str = "",
                     max_steps: int | None = 6) -> VariantExplorer:
    """Build the drill-down from the variants table to one account's timeline.

    Parameters
    ----------
    data : JourneyData
    log : EventLog
        The log the variants table was built from (same segment).
    table : DataFrame
        :func:`journeylib.paths.variants` of that log.
    variant : int, default 1
        The variant shown first, by its rank in ``table``.
    account : str, default ""
        The account shown first (id or name); empty: the variant's first account.
    max_steps : int or None, default 6
        The variants' ``max_steps`` (the table's default).

    Returns
    -------
    VariantExplorer
    """
    return VariantExplorer(data, log, table, variant=variant, account=account, max_steps=max_steps)
