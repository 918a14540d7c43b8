"""Timestamp parsing for the data contract.

All timestamps become timezone-aware UTC: naive values are taken in the
configured timezone, offsets (mixed ones too) are converted, epoch numbers are
read as seconds or milliseconds by magnitude, date-only values are midnight in
the configured timezone, and ISO 8601 is assumed unless ``dayfirst`` is set for
other layouts (``31/10/2026``).

It also owns the **as-of cut-off** (:func:`as_of_cutoff`): every module that needs
"the end of the as_of day" calls it (docs/architecture.md, "One as-of cut-off").
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_date
from ..errors import ParameterError

__all__ = ["parse_times", "as_of_cutoff", "day_start", "date_order_conflict", "date_order_parts", "cutoff_ns",
           "window_ns"]

# An offset follows a time of day (a date's "-01" is no offset).
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_NUMBER = r"^[+-]?\d+(?:\.\d+)?$"
_EPOCH_MS = 1e11  # above this an epoch number is milliseconds (1e11 s would be year 5138)


def _epoch(values: pd.Series) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce").astype(float)
    ms = num.abs() >= _EPOCH_MS
    seconds = num.where(~ms, num / 1000.0)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    ok = seconds.notna() & (seconds.abs() < 9.2e9)
    if ok.any():
        out[ok] = pd.to_datetime((seconds[ok] * 1e6).round().astype("int64"), unit="us", utc=True)
    return out


def day_start(value: Any, tz: str = "UTC", *, name: str = "start") -> pd.Timestamp:
    """The first instant (UTC) of the day of ``value`` in ``tz``: one nanosecond after the previous day's
    :func:`as_of_cutoff` (a window that starts on a date starts here)."""
    ts = check_date(value, name)
    day = (ts.tz_convert(tz).tz_localize(None) if ts.tzinfo is not None else ts).normalize()
    return as_of_cutoff(day - pd.Timedelta(days=1), tz) + pd.Timedelta(1, "ns")


_SLASH_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?:\D|$)"


def date_order_conflict(values: pd.Series, dayfirst: bool) -> np.ndarray:
    """Values read in the wrong day/month order: ambiguous ``03/04/2026`` dates in a column
    whose other dates can only be read the other way (``31/10/2026`` is day-first).

    ``dateutil`` reads an impossible month as a day (``31/10/2026`` is 31 October even without
    ``dayfirst``), so a day-first column loaded without ``dayfirst`` mixes two orders silently:
    these are the values that took the wrong one. Empty when the column shows one order.
    """
    ambiguous, other_order = date_order_parts(values, dayfirst)
    return ambiguous if other_order else np.zeros(len(values), dtype=bool)


def date_order_parts(values: pd.Series, dayfirst: bool) -> tuple[np.ndarray, bool]:
    """The ambiguous slash dates of ``values``, and whether any of them can only be read the other way
    (:func:`date_order_conflict` of a column read in parts is the parts' ambiguous dates when any part
    has such a date)."""
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        # datetimes and epoch numbers have no day/month order (and writing them as text took half of a load)
        return np.zeros(len(values), dtype=bool), False
    text = values.astype("string")
    parts = text.str.extract(_SLASH_DATE)
    first, second = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[1], errors="coerce")
    ambiguous = ((first <= 12) & (second <= 12) & (first != second)).fillna(False).to_numpy(dtype=bool)
    other_order = ((second > 12) if dayfirst else (first > 12)).fillna(False)
    return ambiguous, bool(other_order.any())


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    # DST-ambiguous wall times are read as standard time; times skipped by DST move forward.
    return naive.dt.tz_localize(tz, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward").dt.tz_convert("UTC")


def _parse_text(text: pd.Series, tz: str, dayfirst: bool) -> pd.Series:
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if text.empty:
        return out
    numeric = text.str.match(_NUMBER)
    compact = numeric & (text.str.len() == 8)  # 20261031
    if compact.any():
        d = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
        out[compact] = _localize(d, tz)
    epoch = numeric & ~compact
    if epoch.any():
        out[epoch] = _epoch(text[epoch])
    rest = ~numeric
    aware = rest & text.str.contains(_OFFSET, regex=True)
    naive = rest & ~aware
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format" for the fallback parser
        if aware.any():
            out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        if naive.any():
            parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            out[naive] = _localize(parsed, tz)
        failed = rest & out.isna()
        if failed.any():
            out[failed] = _fallback(text[failed], tz, dayfirst)
    return out


def _fallback(text: pd.Series, tz: str, dayfirst: bool) -> pd.Series:
    """Non-ISO layouts (``10/31/2026 2:05 PM``), element by element through dateutil."""
    values = []
    for v in text:
        try:
            ts = pd.Timestamp(pd.to_datetime(v, dayfirst=dayfirst))
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            values.append(pd.NaT)
            continue
        if ts is pd.NaT:
            values.append(pd.NaT)
        elif ts.tzinfo is None:
            try:
                values.append(ts.tz_localize(tz, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC"))
            except Exception:
                values.append(pd.NaT)
        else:
            values.append(ts.tz_convert("UTC"))
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True).values, index=text.index,
                     dtype="datetime64[ns, UTC]")


def parse_times(values: pd.Series, tz: str = "UTC", dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse a column of timestamps to timezone-aware UTC.

    Parameters
    ----------
    values : Series
        Strings, numbers (epoch seconds or milliseconds) or datetimes.
    tz : str
        Timezone of naive values.
    dayfirst : bool
        Read ambiguous non-ISO dates as day first (``03/04/2026`` = 3 April).

    Returns
    -------
    parsed : Series of datetime64[ns, UTC]
        NaT where missing or unparseable.
    bad : Series of bool
        True where a value was present but could not be read.

    Examples
    --------
    >>> parsed, bad = parse_times(pd.Series(["2026-10-31T10:00:00+02:00", "2026-10-31 08:00", "1793440800"]))
    >>> parsed.dt.hour.tolist(), bad.tolist()
    ([8, 8, 8], [False, False, False])
    """
    index = values.index
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]"), pd.Series(False, index=index)
    if pd.api.types.is_datetime64_dtype(values):
        return _localize(values.astype("datetime64[ns]"), tz), pd.Series(False, index=index)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        parsed = _epoch(values)
        return parsed, values.notna() & parsed.isna()
    present = values.notna()
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if not present.any():
        return out, pd.Series(False, index=index)
    # Values may be datetime objects (from a database driver) mixed with text.
    objs = values[present]
    if pd.api.types.infer_dtype(objs, skipna=True) != "string":
        objs = objs.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    text = objs.astype(str).str.strip()
    empty = text == ""
    out[text.index] = _parse_text(text, tz, dayfirst)
    bad = present.copy()
    bad[present] = ~empty.values & out[present].isna().values
    return out, bad


def as_of_cutoff(as_of: Any, tz: str = "UTC", *, name: str = "as_of") -> pd.Timestamp:
    """The last instant that ``as_of`` lets in, in UTC: a row is used when its time is ``<=`` this.

    The one definition of the as-of cut-off in journeylib:

    * a **date** (``"2026-10-31"``, a ``datetime.date``, a naive Timestamp at midnight)
      means the end of that day in timezone ``tz``: one nanosecond before the next
      local midnight. Days have 23 or 25 hours at DST changes; when the next midnight
      does not exist (clocks jump from 00:00), the day ends where the clocks resume;
    * a **naive date and time** is that wall time in ``tz``;
    * a **tz-aware Timestamp** is an instant and is used as is (e.g. ``JourneyData.cutoff``).

    The first instant after the window is ``as_of_cutoff(...) + 1 ns``.

    Parameters
    ----------
    as_of : str, date, datetime or Timestamp
    tz : str, default "UTC"
        Timezone of the day (the data's configured timezone).
    name : str
        The parameter's name, for the error message.

    Returns
    -------
    Timestamp (tz-aware, UTC)

    Raises
    ------
    ParameterError
        When ``as_of`` is missing or not a date.

    Examples
    --------
    >>> str(as_of_cutoff("2026-03-08", "America/New_York"))  # a 23-hour day
    '2026-03-09 03:59:59.999999999+00:00'
    """
    ts = check_date(as_of, name)
    if ts.tzinfo is not None:
        return ts.tz_convert("UTC")
    if ts != ts.normalize():
        return ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
    next_midnight = (ts + pd.Timedelta(days=1)).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return next_midnight.tz_convert("UTC") - pd.Timedelta(1, "ns")


def cutoff_ns(as_of: Any, tz: str = "UTC") -> int | None:
    """:func:`~journeylib.data.timeparse.as_of_cutoff` as int64 UTC nanoseconds (None for None)."""
    return None if as_of is None else int(as_of_cutoff(as_of, tz).value)


def window_ns(as_of: Any, start: Any, end: Any, tz: str = "UTC") -> tuple[int | None, int | None, int | None]:
    """The as_of cut-off, the start of ``start``'s day and the end of ``end``'s day, as UTC nanoseconds
    (None where not given); an end before the start is a ParameterError."""
    cutoff = cutoff_ns(as_of, tz)
    start_ns = None if start is None else int(day_start(start, tz).value)
    end_ns = None if end is None else int(as_of_cutoff(end, tz, name="end").value)  # a date: its end, as for as_of
    if start_ns is not None and end_ns is not None and end_ns < start_ns:
        raise ParameterError(f"end {end!r} is before start {start!r}")
    return cutoff, start_ns, end_ns
