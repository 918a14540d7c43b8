"""One control shared by the explorers: an accounts column that makes segments, and one of its values."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..data import JourneyData
from ..data.subset import segment_accounts, segment_columns
from ..errors import ParameterError

__all__ = ["SegmentPicker"]

ALL = ""  # the value meaning every account


class SegmentPicker(widgets.HBox):
    """Two dropdowns, ``segment_by`` (a column) and ``segment`` (its value); ``on_change()`` after each choice.

    The parameters are checked here: a column that makes no segments or a value no account has is a
    ParameterError naming them. With ``allow_all`` the column can be "" (every account).
    """

    def __init__(self, data: JourneyData, segment_by: str, segment: str, on_change: Callable[[], None], *,
                 allow_all: bool):
        columns = segment_columns(data.accounts)
        if segment_by not in columns and not (allow_all and segment_by == ALL):
            raise ParameterError(f"segment_by {segment_by!r} is not an accounts column with 2 to 30 values; choose "
                                 f"one of: {', '.join(columns) or '(none)'}" + (" or '' for all accounts"
                                                                                 if allow_all else ""))
        if segment and not segment_by:
            raise ParameterError(f"segment {segment!r} needs segment_by, the accounts column it is a value of")
        if segment:
            segment_accounts(data, segment_by, segment)  # an unknown value is named here
        self._data, self._on_change, self._filling = data, on_change, False
        self.segment_by = widgets.Dropdown(options=([("All accounts", ALL)] if allow_all else []) +
                                           [(c, c) for c in columns], value=segment_by, description="Segment by")
        self.segment = widgets.Dropdown(description="Segment")
        self._fill(segment)
        self.segment_by.observe(self._column_changed, names="value")
        self.segment.observe(self._value_changed, names="value")
        super().__init__([self.segment_by, self.segment])

    def accounts(self) -> pd.Series | None:
        """The ids of the chosen segment's accounts; None for every account."""
        if not self.segment_by.value:
            return None
        return segment_accounts(self._data, self.segment_by.value, self.segment.value)

    def _fill(self, value: str = "") -> None:
        column = self.segment_by.value
        values = sorted(self._data.accounts[column].dropna().astype(str).unique()) if column else []
        self._filling = True
        try:
            self.segment.options = values or [("All accounts", ALL)]
            self.segment.value = value or (values[0] if values else ALL)
        finally:
            self._filling = False

    def _column_changed(self, change: Any) -> None:
        self._fill()
        self._on_change()

    def _value_changed(self, change: Any) -> None:
        if not self._filling:
            self._on_change()
