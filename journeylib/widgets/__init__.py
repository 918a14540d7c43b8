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

__all__ = ["HEADLESS_ENV", "headless"]

#: Environment variable the review sets for its kernels.
HEADLESS_ENV = "JOURNEYLIB_HEADLESS"


def headless() -> bool:
    """True inside a review kernel (no frontend to draw into)."""
    return os.environ.get(HEADLESS_ENV, "") not in ("", "0")
