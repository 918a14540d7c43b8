"""Figures from results (Plotly): one theme, one stage order and palette.

Every function takes a result DataFrame and returns a ``plotly.graph_objects.Figure``.
Figures live in one submodule per topic and are all importable from here
(``journeylib.plots.set_aside_bar``); the shared theme is in :mod:`.theme`.
"""
from .quality import coverage_lines, set_aside_bar, stage_channel_bar
from .theme import PALETTE, THEME, empty_figure, new_figure, stage_colors, use_offline_renderer

__all__ = ["use_offline_renderer", "stage_colors", "new_figure", "empty_figure", "THEME", "PALETTE",
           "set_aside_bar", "coverage_lines", "stage_channel_bar"]
