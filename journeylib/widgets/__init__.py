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

__all__ = ["HEADLESS_ENV", "headless", "show_in", "show_table"]

#: Environment variable the review sets for its kernels.
HEADLESS_ENV = "JOURNEYLIB_HEADLESS"


def headless() -> bool:
    """True inside a review kernel (no frontend to draw into)."""
    return os.environ.get(HEADLESS_ENV, "") not in ("", "0")


def show_in(output: Any, fig: Any, *more: Any) -> None:
    """Draw a figure (then any further objects) into an Output widget, replacing what it showed.

    Nothing is drawn without a frontend (plain Python, or :func:`headless`). The figure goes out
    as its mimetype only: JupyterLab draws it, while the "notebook" renderer's first activation
    inside an Output widget hangs a headless kernel (papermill), and exported HTML drops widget
    state anyway.
    """
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None or headless():
        return
    output.clear_output(wait=True)
    with output:
        fig.show(renderer="plotly_mimetype")
        for item in more:
            display(item)


def show_table(output: Any, table: Any) -> None:
    """Show a table in an Output widget, replacing what it showed (nothing without a frontend)."""
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None or headless():
        return
    output.clear_output(wait=True)
    with output:
        display(table)
