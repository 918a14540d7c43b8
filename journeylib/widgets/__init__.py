"""Interactive views for JupyterLab (ipywidgets), one submodule per topic.

Widgets only decorate: every control has a notebook parameter behind it, so
papermill renders the same view headless from the parameter values. Builders
here take results or data plus the parameter values and return a widget; the
notebooks never define functions themselves.

Under the review (``journey review``), :data:`HEADLESS_ENV` is set: explorers are built
(their parameters checked) but draw nothing into their output areas. Nobody can use a
widget there, the exported HTML drops widget state, and figures drawn inside Output
widgets under papermill can leave the execution waiting on a message that never comes
(nbclient issue #312: seen here twice in about fifteen reviews).
"""
from __future__ import annotations

import os
from typing import Any

__all__ = ["HEADLESS_ENV", "headless", "show_in"]

#: Environment variable the review sets for its kernels.
HEADLESS_ENV = "JOURNEYLIB_HEADLESS"


def headless() -> bool:
    """True inside a review kernel (no frontend to draw into)."""
    return os.environ.get(HEADLESS_ENV, "") not in ("", "0")


def show_in(output: Any, *items: Any) -> None:
    """Show figures and tables in an Output widget, replacing what it showed.

    Nothing is drawn without a frontend (plain Python, or :func:`headless`). A Plotly figure goes
    out as its mimetype only: JupyterLab draws it, while the "notebook" renderer's first activation
    inside an Output widget hangs a headless kernel (papermill), and exported HTML drops widget
    state anyway. Anything else is displayed as it is.
    """
    from IPython import get_ipython
    from IPython.display import display
    from plotly.basedatatypes import BaseFigure

    if get_ipython() is None or headless():
        return
    output.clear_output(wait=True)
    with output:
        for item in items:
            if isinstance(item, BaseFigure):
                item.show(renderer="plotly_mimetype")
            else:
                display(item)
