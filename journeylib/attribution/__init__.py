"""Multi-touch attribution at account level: which channels and campaigns bring pipeline and revenue.

* :mod:`.paths` - :func:`conversion_paths`: one row per buying journey, converting or not,
  with its channels in time order, its milestones and its value.
"""
from __future__ import annotations

from .paths import PATH_COLUMNS, conversion_paths

__all__ = ["conversion_paths", "PATH_COLUMNS"]
