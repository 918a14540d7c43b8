"""Interactive persona explorer: choose k and the feature groups, refit, see the map and profiles.

Each control mirrors a notebook parameter (``k``, ``feature_groups``); the notebook
renders the same view headless from the parameter values, the widget lets a reader
try other values in JupyterLab. The status line shows the parameter values to put
in the notebook to keep a choice.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

import ipywidgets as widgets

from ..data import JourneyData
from ..data.subset import data_for_accounts
from ..plots import segments as persona_plots
from ..schema import ACCOUNT_ID
from ..segments import PersonaModel, parse_groups, persona_outcomes, persona_sizes
from ..segments.features import FEATURE_GROUPS
from . import show_in
from .picker import SegmentPicker

__all__ = ["persona_explorer", "k_value", "PersonaSegmentExplorer", "persona_segment_explorer"]


def k_value(k: int) -> "int | str":
    """The notebook's ``k`` parameter as a PersonaModel ``k``: 0 means "auto"."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        from ..errors import ParameterError

        raise ParameterError(f"k must be 0 (choose by BIC) or a number of personas >= 1; got {k!r}")
    return "auto" if k == 0 else k


def persona_explorer(features: pd.DataFrame, k: int = 0, feature_groups: "str | Sequence[str] | None" = None,
                     k_max: int = 8, **model_params: Any):
    """A widget with a k slider (0 = auto), feature-group checkboxes, a Fit button, figures and a status line.

    Parameters
    ----------
    features : DataFrame from ``account_features``
    k, feature_groups
        The notebook parameters' values: the controls start there.
    k_max : int
        The slider's largest k.
    **model_params
        Other :class:`~journeylib.segments.PersonaModel` parameters (random_state, method, ...).

    Returns
    -------
    ipywidgets.VBox with attributes ``k_slider``, ``group_boxes`` (dict group -> Checkbox),
    ``fit_button``, ``status`` (Label), ``output`` (Output) and ``model`` (the last fitted
    PersonaModel, None before the first fit). Clicking Fit refits and redraws.
    """
    import ipywidgets as w
    from IPython.display import display

    from ..plots import segments as seg_plots

    chosen = parse_groups(feature_groups)
    k_value(k)
    slider = w.IntSlider(value=k, min=0, max=max(k_max, k), description="k (0 = auto)",
                         style={"description_width": "initial"}, continuous_update=False)
    boxes = {g: w.Checkbox(value=g in chosen, description=g, indent=False, layout=w.Layout(width="130px"))
             for g in FEATURE_GROUPS}
    button = w.Button(description="Fit personas", button_style="primary", icon="refresh")
    status = w.Label(value="Press Fit to refit the personas with these settings.")
    output = w.Output()
    box = w.VBox([w.HBox([slider, button]), w.HBox(list(boxes.values())), status, output])
    box.k_slider, box.group_boxes, box.fit_button, box.status, box.output, box.model = \
        slider, boxes, button, status, output, None

    def fit(_=None):
        groups = [g for g, cb in boxes.items() if cb.value]
        params = f'k = {slider.value}, feature_groups = "{",".join(groups)}"'
        if not groups:
            status.value = "Choose at least one feature group."
            return
        status.value = f"Fitting ({params}) ..."
        try:
            model = PersonaModel(k=k_value(slider.value), feature_groups=groups, **model_params).fit(features)
        except ValueError as exc:  # ParameterError: too few accounts for k, no usable feature ...
            status.value = f"Cannot fit: {exc}"
            return
        box.model = model
        status.value = (f"{params}: k={model.k_}, silhouette {model.silhouette_:.2f}, "
                        f"stability ARI {model.stability_:.2f}; put these values in the parameters cell to keep them")
        output.clear_output(wait=True)
        with output:
            display(seg_plots.k_selection_figure(model.k_scores_))
            display(seg_plots.persona_map(model.projection(features, model.personas_)))
            display(model.profiles_[["persona_id", "persona", "accounts", "share", "traits"]])

    button.on_click(fit)
    return box


class PersonaSegmentExplorer(widgets.VBox):
    """The personas within one segment (a region, an industry, a plan): how many, and how they do there.

    Attributes
    ----------
    segment_by, segment : ipywidgets.Dropdown
    sizes : DataFrame
        The segment's accounts per persona, with ``share_in_segment``, ``share_overall`` and
        ``lift`` (share in the segment over share among all accounts).
    outcomes : DataFrame
        :func:`journeylib.segments.persona_outcomes` on the segment's data.
    figures : dict of str -> Figure
        ``outcomes``.
    """

    def __init__(self, data: JourneyData, assigned: pd.DataFrame, *, segment_by: str = "region", segment: str = ""):
        self._data, self._assigned = data, assigned
        overall = persona_sizes(assigned).set_index("persona_id")
        self._overall, self._names = overall["share"], overall["persona"]
        self.picker = SegmentPicker(data, segment_by, segment, self._redraw, allow_all=False)
        self.segment_by, self.segment = self.picker.segment_by, self.picker.segment
        self._output = widgets.Output()
        super().__init__([self.picker, self._output])
        self._redraw()

    def _redraw(self) -> None:
        ids = self.picker.accounts()
        chosen = self._assigned[self._assigned[ACCOUNT_ID].astype(str).isin(set(ids.astype(str)))]
        counts = chosen.groupby("persona_id").size()
        sizes = self._overall.rename("share_overall").reset_index()  # every persona, 0 where the segment has none
        sizes.insert(1, "persona", sizes["persona_id"].map(self._names))
        sizes.insert(2, "accounts", sizes["persona_id"].map(counts).fillna(0).astype("int64"))
        sizes.insert(3, "share_in_segment", sizes["accounts"] / max(len(chosen), 1))
        sizes["lift"] = sizes["share_in_segment"] / sizes["share_overall"]
        self.sizes = sizes
        self.outcomes = persona_outcomes(data_for_accounts(self._data, ids), chosen)
        where = f"{self.segment_by.value} = {self.segment.value}"
        title = f"Outcomes per persona, {where}"
        self.figures = {"outcomes": persona_plots.outcomes_figure(self.outcomes, title=title)}
        show_in(self._output, self.figures["outcomes"], self.sizes)


def persona_segment_explorer(data: JourneyData, assigned: pd.DataFrame, *, segment_by: str = "region",
                             segment: str = "") -> PersonaSegmentExplorer:
    """Build the personas-within-a-segment view for notebook 01's parameters.

    Parameters
    ----------
    data : JourneyData
    assigned : DataFrame
        The personas of the accounts (``model.assign(features)``).
    segment_by : str, default "region"
        An accounts column that makes segments (see :func:`journeylib.data.subset.segment_columns`).
    segment : str, default ""
        Its value shown first; "" for the first value.

    Returns
    -------
    PersonaSegmentExplorer
    """
    return PersonaSegmentExplorer(data, assigned, segment_by=segment_by, segment=segment)
