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

from ..segments import PersonaModel, parse_groups
from ..segments.features import FEATURE_GROUPS

__all__ = ["persona_explorer", "k_value"]


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
