"""Windows of an account's touches: which touchpoints fall in each deal's or journey's time window.

The rows of an inner merge of the windows with their accounts' touchpoints, kept when the touch is inside
the window, found by positions and tested a chunk of pairs at a time: at 100,000 accounts the merge of the
deals with every touch of their account is 20M pairs, 2 GB more than the pairs kept.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PAIRS_PER_CHUNK", "naive_utc", "touches_in_windows", "in_order"]

#: Window-touch pairs tested at once (about 60 bytes each while tested).
PAIRS_PER_CHUNK = 1_000_000


def naive_utc(values: pd.Series) -> np.ndarray:
    """A datetime column's instants as naive UTC datetime64[ns] (NaT stays NaT), whether it has a timezone or not."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]")


def in_order(major: np.ndarray, minor: np.ndarray) -> bool:
    """Whether the rows are sorted by ``major``, then ``minor`` (equal pairs allowed): the pairs of
    :func:`touches_in_windows` come by window, then touchpoint row, which is time order in a contract, and
    then need no sort."""
    same = major[1:] == major[:-1]
    return bool(((major[1:] > major[:-1]) | (same & (minor[1:] >= minor[:-1]))).all())


def touches_in_windows(touch_account: np.ndarray, touch_time: np.ndarray, window_account: np.ndarray,
                       since: np.ndarray, until: np.ndarray, until_excluded: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The touches inside each window: ``since <= time`` and ``time < until`` (``until_excluded``) or
    ``time <= until``; a missing time or bound keeps nothing.

    Parameters
    ----------
    touch_account : ndarray of int
        Per touchpoint, its account's code (>= 0).
    touch_time : ndarray of datetime64[ns]
        Per touchpoint, its time.
    window_account : ndarray of int
        Per window (a deal, a journey), its account's code; -1 for an account without touchpoints.
    since, until : ndarray of datetime64[ns]
        Per window, its bounds.
    until_excluded : ndarray of bool
        Per window, whether a touch at ``until`` is outside.

    Returns
    -------
    window, row, pair : ndarray of int
        Per kept pair: the window's position, the touchpoint's row, and the pair's position in the merge of
        each window with all its account's touchpoints (windows in order, then touchpoints in row order),
        which is also the order of the kept pairs.
    """
    by_account = np.argsort(touch_account, kind="stable")
    n_accounts = int(touch_account.max()) + 1 if len(touch_account) else 0
    bounds = np.searchsorted(touch_account[by_account], np.arange(n_accounts + 1))
    known = (window_account >= 0) & (window_account < n_accounts)
    code = np.where(known, window_account, 0)
    lengths = np.where(known, bounds[code + 1] - bounds[code], 0) if n_accounts else np.zeros(len(code), np.int64)
    first_row = bounds[code] if n_accounts else np.zeros(len(code), np.int64)
    pairs_before = np.cumsum(lengths) - lengths
    firsts = np.unique(np.r_[0, np.searchsorted(pairs_before, np.arange(PAIRS_PER_CHUNK, lengths.sum(),
                                                                         PAIRS_PER_CHUNK), side="right"),
                             len(window_account)])
    parts = [(np.zeros(0, np.int64),) * 3]
    for a, b in zip(firsts[:-1], firsts[1:]):
        n = lengths[a:b]
        window = np.repeat(np.arange(a, b), n)
        offset = np.arange(len(window)) - np.repeat(pairs_before[a:b] - pairs_before[a], n)
        rows = by_account[np.repeat(first_row[a:b], n) + offset]
        t = touch_time[rows]
        inside = (t >= since[window]) & np.where(until_excluded[window], t < until[window], t <= until[window])
        keep = np.flatnonzero(inside)
        parts.append((window[keep], rows[keep], pairs_before[a] + keep))
    return tuple(np.concatenate(p).astype(np.int64, copy=False) for p in zip(*parts))
