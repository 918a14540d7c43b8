"""Interactive views for JupyterLab (ipywidgets), one submodule per topic.

Widgets only decorate: every control has a notebook parameter behind it, so
papermill renders the same view headless from the parameter values. Builders
here take results or data plus the parameter values and return a widget; the
notebooks never define functions themselves.
"""
