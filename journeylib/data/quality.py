"""Data quality (notebook 00, "Data health"): what was set aside and why, coverage over time, freshness,
touchpoints per stage and channel. Plain functions on DataFrames."""
from __future__ import annotations

import pandas as pd

from ..schema import CHANNEL, STAGE, TABLES
from .contract import filled_text

__all__ = ["set_aside_by_reason", "coverage_by_month", "freshness", "touchpoints_by_stage_channel"]


def set_aside_by_reason(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Count set-aside rows by table, reason code and severity.

    A row with several reasons counts once under each of them, so the ``rows``
    column can add up to more than the number of set-aside rows.

    Returns
    -------
    DataFrame with columns table, reason, severity, rows (most rows first).
    """
    cols = ["table", "reason", "severity", "rows"]
    if quarantine.empty:
        return pd.DataFrame(columns=cols).astype({"rows": "int64"})
    exploded = (quarantine.assign(reason=quarantine["reasons"].str.split(";"))
                .explode("reason")[["table", "reason", "severity"]])
    out = exploded.value_counts().rename("rows").reset_index()
    return out.sort_values(["rows", "table", "reason"], ascending=[False, True, True], kind="stable")[cols] \
        .reset_index(drop=True)


def coverage_by_month(tables: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Rows per calendar month (UTC) of every table with a time column.

    Returns
    -------
    DataFrame with columns table, month (``YYYY-MM``), rows; months without rows are
    included as 0 between each table's first and last month, so gaps show.
    """
    parts = []
    for name, df in tables.items():
        col = TABLES[name].time
        if df is None or col is None or col not in df or df[col].notna().sum() == 0:
            continue
        months = df[col].dropna().dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
        counts = months.value_counts()
        full = pd.period_range(counts.index.min(), counts.index.max(), freq="M")
        counts = counts.reindex(full, fill_value=0)
        parts.append(pd.DataFrame({"table": name, "month": counts.index.astype(str), "rows": counts.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["table", "month", "rows"])
    return pd.concat(parts, ignore_index=True).astype({"rows": "int64"})


def freshness(tables: dict[str, pd.DataFrame | None], cutoff: pd.Timestamp) -> pd.DataFrame:
    """First and last time of every table with a time column, and the days from the last to ``cutoff``.

    Returns
    -------
    DataFrame with columns table, first, last, days_before_as_of.
    """
    rows = []
    for name, df in tables.items():
        col = TABLES[name].time
        if df is None or col is None or col not in df or df[col].notna().sum() == 0:
            continue
        first, last = df[col].min(), df[col].max()
        rows.append({"table": name, "first": first, "last": last, "days_before_as_of": int((cutoff - last).days)})
    return pd.DataFrame(rows, columns=["table", "first", "last", "days_before_as_of"])


def touchpoints_by_stage_channel(touchpoints: pd.DataFrame) -> pd.DataFrame:
    """Touchpoints per stage (lifecycle order) and channel.

    Returns
    -------
    DataFrame with columns stage, channel, rows; missing channels show as ``(none)``.
    """
    channel = filled_text(touchpoints[CHANNEL], "(none)") if CHANNEL in touchpoints else pd.Series("(none)", index=touchpoints.index)
    frame = pd.DataFrame({"stage": touchpoints[STAGE], "channel": channel})
    out = frame.groupby(["stage", "channel"], observed=True).size().rename("rows").reset_index()
    return out[out["rows"] > 0].reset_index(drop=True)
