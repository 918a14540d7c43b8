"""An interactive stage scorecard: one segment's accounts, one month, the metrics of one stage.

The controls mirror notebook 06's ``segment_by``, ``segment``, ``stage`` and ``month`` parameters:
papermill checks them headless; in JupyterLab another choice recomputes the scorecard.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from .. import kpis
from ..data import JourneyData
from ..data.subset import data_for_accounts
from ..errors import ParameterError
from . import show_in
from .picker import SegmentPicker

__all__ = ["ScorecardExplorer", "scorecard_explorer"]

_ALL = ""  # the dropdown value meaning every account / every stage


def _month_options(month: str) -> list[str]:
    """The 24 months up to the review month's, newest first."""
    last = pd.Period(month, freq="M")
    return [str(last - i) for i in range(24)]


class ScorecardExplorer(widgets.VBox):
    """Segment, stage and month controls over the stage scorecard.

    Attributes
    ----------
    segment_by, segment, stage, month : ipywidgets.Dropdown
    card : DataFrame
        :func:`journeylib.kpis.scorecard` of the selection (every stage).
    shown : DataFrame
        Its readable rows for the chosen stage, as displayed.
    """

    def __init__(self, data: JourneyData, month: str, *, segment_by: str = "", segment: str = "", stage: str = "",
                 alpha: float = 0.05, card: pd.DataFrame | None = None):
        lifecycle = data.lifecycle
        if stage and stage not in lifecycle.ids:
            raise ParameterError(f"stage {stage!r} is not a stage of the lifecycle; stages: {', '.join(lifecycle.ids)}")
        self._data, self._alpha, self._labels = data, alpha, lifecycle.labels
        self._given = (month, card)  # a scorecard already computed for every account that month
        self.picker = SegmentPicker(data, segment_by, segment, self._recompute, allow_all=True)
        self.segment_by, self.segment = self.picker.segment_by, self.picker.segment
        self.stage = widgets.Dropdown(options=[("All stages", _ALL)] + [(lifecycle.labels.get(s, s), s)
                                                                        for s in lifecycle.ids],
                                      value=stage or _ALL, description="Stage")
        self.month = widgets.Dropdown(options=_month_options(month), value=month, description="Month")
        self._output = widgets.Output()
        self.month.observe(self._recompute, names="value")
        self.stage.observe(self._show, names="value")
        super().__init__([self.picker, widgets.HBox([self.stage, self.month]), self._output])
        self._recompute()

    def _recompute(self, change: Any = None) -> None:
        ids = self.picker.accounts()
        given_month, given = self._given
        if ids is None and given is not None and self.month.value == given_month:
            self.card = given
        else:
            data = self._data if ids is None else data_for_accounts(self._data, ids)
            self.card = kpis.scorecard(data, self.month.value, alpha=self._alpha)
        self._show()

    def _show(self, change: Any = None) -> None:
        rows = (self.card["stage"] == self.stage.value).to_numpy() if self.stage.value else slice(None)
        self.shown = kpis.scorecard_display(self.card[rows], self._labels).reset_index(drop=True)
        show_in(self._output, self.shown)


def scorecard_explorer(data: JourneyData, month: str, *, segment_by: str = "", segment: str = "",
                       stage: str = "", alpha: float = 0.05, card: pd.DataFrame | None = None) -> ScorecardExplorer:
    """Build the interactive scorecard for notebook 06's parameters.

    Parameters
    ----------
    data : JourneyData
    month : str
        The month shown first (YYYY-MM); the box offers the 24 months up to it.
    segment_by : str, default ""
        An accounts column that makes segments (see :func:`journeylib.data.subset.segment_columns`);
        "" for all accounts.
    segment : str, default ""
        The value of ``segment_by`` shown first; "" for its first value.
    stage : str, default ""
        A stage id whose metrics are shown; "" for every stage.
    alpha : float
        Significance level of the flags.
    card : DataFrame, optional
        ``kpis.scorecard(data, month, alpha=alpha)`` when the notebook has it already: shown whenever every
        account and that month are chosen, instead of being computed again.

    Returns
    -------
    ScorecardExplorer
    """
    return ScorecardExplorer(data, month, segment_by=segment_by, segment=segment, stage=stage, alpha=alpha,
                             card=card)
