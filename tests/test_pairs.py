"""touches_in_windows: the rows of the merge of windows with their account's touches, kept inside each window."""
from __future__ import annotations

import numpy as np
import pytest

from journeylib.data import pairs


def _t(*days):
    return np.array([np.datetime64(d, "ns") if d else np.datetime64("NaT", "ns") for d in days], dtype="datetime64[ns]")


@pytest.mark.parametrize("chunk", [1_000_000, 3, 1])
def test_touches_in_windows_by_hand(chunk, monkeypatch):
    monkeypatch.setattr(pairs, "PAIRS_PER_CHUNK", chunk)
    # touches: rows 0..6 of accounts 1, 0, 1, 0, 1, 2, 1 (account 2's only touch has no time)
    account = np.array([1, 0, 1, 0, 1, 2, 1])
    time = _t("2026-01-05", "2026-01-01", "2026-01-10", "2026-02-01", "2026-01-20", None, "2026-01-10")
    # windows: account 1 [Jan 5, Jan 10) ; account 0 [Jan 1, Feb 1] ; no touches (-1) ; account 1 without a start ;
    # account 1 [Jan 10, Jan 20] ; account 2 [Jan 1, Dec 31]
    window_account = np.array([1, 0, -1, 1, 1, 2])
    since = _t("2026-01-05", "2026-01-01", "2026-01-01", None, "2026-01-10", "2026-01-01")
    until = _t("2026-01-10", "2026-02-01", "2026-12-31", "2026-12-31", "2026-01-20", "2026-12-31")
    excluded = np.array([True, False, False, False, False, False])
    window, row, pair = pairs.touches_in_windows(account, time, window_account, since, until, excluded)
    # the full merge, in window then row order: w0 rows 0 2 4 6 (pairs 0-3), w1 rows 1 3 (4-5), w3 rows 0 2 4 6
    # (6-9), w4 rows 0 2 4 6 (10-13), w5 row 5 (14)
    assert window.tolist() == [0, 1, 1, 4, 4, 4]
    assert row.tolist() == [0, 1, 3, 2, 4, 6]
    assert pair.tolist() == [0, 4, 5, 11, 12, 13]


def test_no_window_or_no_touch_gives_empty_integer_arrays():
    empty = pairs.touches_in_windows(np.zeros(0, np.int64), _t(), np.array([0, -1]), _t("2026-01-01", None),
                                     _t("2026-02-01", None), np.array([False, False]))
    assert [a.tolist() for a in empty] == [[], [], []] and all(a.dtype == np.int64 for a in empty)
    none = pairs.touches_in_windows(np.array([0]), _t("2026-01-01"), np.zeros(0, np.int64), _t(), _t(),
                                    np.zeros(0, bool))
    assert [a.tolist() for a in none] == [[], [], []]


def test_in_order_reads_rows_sorted_by_the_first_key_then_the_second():
    from journeylib.data.pairs import in_order

    major = np.array([0, 0, 0, 1, 1, 3])
    assert in_order(major, np.array([1, 2, 2, 0, 5, 5]))  # equal pairs allowed; the second key restarts
    assert not in_order(major, np.array([1, 3, 2, 0, 5, 5]))  # back in time within the first key
    assert not in_order(np.array([0, 1, 0]), np.array([1, 2, 3]))  # the first key goes back
    assert in_order(np.array([], dtype=int), np.array([], dtype=int)) and in_order(np.array([4]), np.array([9]))
