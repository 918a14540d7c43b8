"""An interactive time-to-value view: split the curves by a segment, keep the cohorts of a date window.

The controls mirror the notebook's ``split_by``, ``cohort_from`` and ``cohort_to`` parameters:
papermill renders the same curves headless; in JupyterLab another choice refits and redraws them.
"""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..errors import ParameterError
from ..plots import survival as survival_figures
from ..survival import SurvivalCurves
from . import show_in

__all__ = ["SurvivalExplorer", "survival_explorer", "SPLITS"]

#: Columns of the durations the curves can be split by, when present.
SPLITS = ("plan", "persona", "segment", "industry", "region")
_NONE = ""  # the dropdown value meaning one curve for all accounts


def _months(durations: pd.DataFrame) -> list[str]:
    """The cohort months of the durations (YYYY-MM), oldest first; accounts without one are not a month."""
    cohorts = durations["cohort"].dropna().astype(str)
    return sorted(cohorts[cohorts.str.fullmatch(r"\d{4}-\d{2}")].unique())


def _selection(durations: pd.DataFrame, split_by: str, first: str, last: str, months: list[str],
               min_group_size: int) -> SurvivalCurves:
    """The curves of the cohorts from ``first`` to ``last``; the whole range keeps accounts without a cohort too."""
    if months and (first, last) != (months[0], months[-1]):
        cohorts = durations["cohort"].astype(str)
        durations = durations[(cohorts >= first) & (cohorts <= last) & cohorts.str.fullmatch(r"\d{4}-\d{2}")]
    return SurvivalCurves(split_by or None, min_group_size=min_group_size).fit(durations)


class SurvivalExplorer(widgets.VBox):
    """A split dropdown and a cohort-month range over the time-to-value curves.

    Attributes
    ----------
    split_by : ipywidgets.Dropdown
    cohorts : ipywidgets.SelectionRangeSlider
    curves : SurvivalCurves
        The fit on show.
    figures : dict of str -> Figure
        ``value_curves``.
    """

    def __init__(self, durations: pd.DataFrame, *, split_by: str = "plan", cohort_from: str = "", cohort_to: str = "",
                 min_group_size: int = 20, max_days: float = 180):
        splits = [c for c in SPLITS if c in durations.columns and durations[c].notna().any()]
        if split_by and split_by not in splits:
            raise ParameterError(f"split_by {split_by!r} is not a column of the durations to split by; "
                                 f"choose one of: {', '.join(splits) or '(none)'} or '' for all accounts")
        months = _months(durations)
        for name, value in (("cohort_from", cohort_from), ("cohort_to", cohort_to)):
            if value and value not in months:
                raise ParameterError(f"{name} {value!r} is not a cohort month (YYYY-MM) of the data; "
                                     f"from {months[0]} to {months[-1]}" if months else f"{name}: no cohorts")
        self._durations, self._size, self._max_days, self._months = durations, min_group_size, max_days, months
        self.split_by = widgets.Dropdown(options=[("All accounts", _NONE)] + [(s, s) for s in splits],
                                         value=split_by or _NONE, description="Split by")
        self.cohorts = widgets.SelectionRangeSlider(options=months or ["-"], index=(
            months.index(cohort_from) if cohort_from else 0,
            months.index(cohort_to) if cohort_to else max(len(months) - 1, 0)),
            description="Cohorts", continuous_update=False, layout=widgets.Layout(width="520px"))
        self._output = widgets.Output()
        self.figures: dict[str, Any] = {}
        for control in (self.split_by, self.cohorts):
            control.observe(self._redraw, names="value")
        super().__init__([widgets.HBox([self.split_by, self.cohorts]), self._output])
        self._redraw()

    def _redraw(self, change: Any = None) -> None:
        first, last = self.cohorts.value
        self.curves = _selection(self._durations, self.split_by.value, first, last, self._months, self._size)
        fig = survival_figures.survival_curves(
            self.curves.curves_, self.curves.at_risk([0, 30, 60, 90, 120, 150, 180]), cumulative=True,
            title=f"Time to first value, cohorts {first} to {last}", y_title="reached value", max_days=self._max_days)
        self.figures = {"value_curves": fig}
        show_in(self._output, fig)


def survival_explorer(durations: pd.DataFrame, *, split_by: str = "plan", cohort_from: str = "",
                      cohort_to: str = "", min_group_size: int = 20, max_days: float = 180) -> SurvivalExplorer:
    """Build the interactive time-to-value curves for the notebook's parameters.

    Parameters
    ----------
    durations : DataFrame
        :func:`journeylib.survival.value_durations` (its ``cohort`` is the origin's month).
    split_by : str, default "plan"
        One of :data:`SPLITS` present in ``durations``, or "" for one curve.
    cohort_from, cohort_to : str
        The first and last cohort month (YYYY-MM) kept; "" for the first or last there is.
    min_group_size, max_days
        As in the notebook: the smallest group drawn, and the days shown.

    Returns
    -------
    SurvivalExplorer
    """
    return SurvivalExplorer(durations, split_by=split_by, cohort_from=cohort_from, cohort_to=cohort_to,
                            min_group_size=min_group_size, max_days=max_days)
