"""An interactive view of journey paths: pick a segment, the Sankey's steps and its threshold.

Every control mirrors a notebook parameter (``segment``, ``max_steps``, ``threshold``),
so papermill renders the same view headless from the parameter values; the widget
only redraws the same figures for other values in JupyterLab.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython import get_ipython

from .. import paths
from ..data import JourneyData
from ..errors import ParameterError
from ..paths.log import segment_map
from ..plots import paths as path_figures
from ..stages import Lifecycle
from . import headless

__all__ = ["PathsExplorer", "paths_explorer"]

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
        if get_ipython() is None or headless():  # no frontend to draw into (see journeylib.widgets)
            return
        for name, out in self._outputs.items():
            out.clear_output(wait=True)
            with out:
                # mimetype only: JupyterLab draws it; the "notebook" renderer's first activation
                # inside an Output widget hangs a headless kernel (papermill), and exported HTML
                # drops widget state anyway (the static figures carry the view there)
                self.figures[name].show(renderer="plotly_mimetype")


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
