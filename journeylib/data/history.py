"""The data as it was known at an earlier cut-off: for backtests and month-on-month comparisons.

Each table keeps the rows whose own time is at or before the cut-off, and forgets what
happened after it (closes, ends, resolutions, answers), so a model fitted on the result
uses nothing a user could not have known that day.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import ParameterError
from ..schema import OPPORTUNITY_ID, TABLES
from .load import JourneyData
from .timeparse import as_of_cutoff

__all__ = ["tables_as_of", "data_as_of"]


def data_as_of(data: JourneyData, as_of: Any) -> JourneyData:
    """The loaded data as they were known at an earlier ``as_of`` (same timezone, lifecycle and source).

    Parameters
    ----------
    data : JourneyData
    as_of : date-like
        At or before ``data.as_of``; a date means its last instant in the data's timezone.

    Returns
    -------
    JourneyData
        Tables cut by :func:`tables_as_of`; ``as_of`` and ``cutoff`` the earlier ones. The
        quarantine and load report stay those of the full load.
    """
    cutoff = as_of_cutoff(as_of, data.tz)
    if cutoff > data.cutoff:
        raise ParameterError(f"as_of must be at or before the data's as_of {data.as_of.date()}; got {as_of}")
    earlier = copy.copy(data)
    earlier.tables = tables_as_of(data.tables, cutoff)
    earlier.cutoff = cutoff
    earlier.as_of = cutoff.tz_convert(data.tz).tz_localize(None).normalize()
    return earlier


def _utc(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s, utc=True, errors="coerce") if not isinstance(s.dtype, pd.DatetimeTZDtype) else s
    return s.dt.tz_convert("UTC")


def tables_as_of(tables: Mapping[str, pd.DataFrame | None], cutoff: pd.Timestamp) -> dict[str, pd.DataFrame | None]:
    """The tables as known at ``cutoff``: rows whose own time is after it dropped, later ends cleared.

    An opportunity closed after the cutoff is open (status ``open``), a subscription
    ending after it is active, a ticket resolved after it is unresolved (no csat yet),
    a lead's later MQL/SQL dates are unknown. Tables without a time column
    (contacts) are kept as they are.
    """
    out: dict[str, pd.DataFrame | None] = {}
    for name, df in tables.items():
        if df is None or name not in TABLES:
            out[name] = df
            continue
        spec = TABLES[name]
        frame = df.copy()
        for col in spec.columns:
            if col.kind == "time" and col.name in frame:
                frame[col.name] = _utc(frame[col.name])
        if spec.time and spec.time in frame:
            frame = frame.loc[~(frame[spec.time] > cutoff)]  # missing times kept (they are not "after")
        for col in spec.columns:
            if col.cut_at_as_of and col.name in frame:
                if col.kind == "time":
                    later = frame[col.name] > cutoff
                    frame[col.name] = frame[col.name].mask(later)
                    if name == "opportunities" and "status" in frame:
                        frame["status"] = frame["status"].mask(later, "open")
                    if name == "tickets" and "csat" in frame:
                        frame["csat"] = frame["csat"].mask(later)
        if name == "leads" and OPPORTUNITY_ID in frame and "sql_at" in frame:
            frame[OPPORTUNITY_ID] = frame[OPPORTUNITY_ID].mask(frame["sql_at"].isna())
        out[name] = frame.reset_index(drop=True)
    return out
