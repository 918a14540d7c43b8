"""Property: whatever the corruption, rows read = rows used + rows set aside, for every table."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylib

BAD_VALUES = ["", "   ", "garbage", "-5", "2026-13-45", "2099-01-01", "1793440800000", "A404", "C404", "bogus_stage",
              "webinr", "Decision", "<img src=x>", "1e400", "NaN", "0", "007", " A1 "]

BASE = {
    "accounts": pd.DataFrame({"account_id": [f"A{i}" for i in range(1, 7)],
                              "created_at": ["2025-01-0%d" % i for i in range(1, 7)],
                              "employees": ["10", "20", "30", "40", "50", "60"],
                              "parent_account_id": ["", "A1", "", "", "A4", ""]}),
    "contacts": pd.DataFrame({"contact_id": [f"C{i}" for i in range(1, 7)],
                              "account_id": ["A1", "A1", "A2", "A3", "A5", "A6"],
                              "role": ["champion"] * 6}),
    "touchpoints": pd.DataFrame({"event_id": [f"E{i}" for i in range(1, 13)],
                                 "account_id": [f"A{(i % 6) + 1}" for i in range(12)],
                                 "contact_id": ["C1", "", "C3", "C4", "", "C6"] * 2,
                                 "timestamp": [f"2026-10-{(i % 28) + 1:02d}T10:00:00Z" for i in range(12)],
                                 "touchpoint": ["demo", "webinar", "qbr", "support_ticket"] * 3,
                                 "stage": [""] * 12, "cost": ["1.5"] * 12}),
    "opportunities": pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "account_id": ["A1", "A2", "A3"],
                                   "created_at": ["2026-01-01", "2026-02-01", "2026-03-01"],
                                   "closed_at": ["2026-02-01", "", "2026-12-01"], "status": ["won", "open", "lost"],
                                   "amount": ["100", "200", "300"]}),
}

corruption = st.tuples(st.sampled_from(sorted(BASE)), st.integers(0, 11), st.integers(0, 6), st.sampled_from(BAD_VALUES))
duplication = st.tuples(st.sampled_from(sorted(BASE)), st.integers(0, 11))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corruptions=st.lists(corruption, max_size=12), duplicates=st.lists(duplication, max_size=4))
def test_rows_balance_under_random_corruption(corruptions, duplicates):
    frames = {name: df.copy() for name, df in BASE.items()}
    for table, row, col, value in corruptions:
        df = frames[table]
        df.iloc[row % len(df), col % df.shape[1]] = value
    for table, row in duplicates:
        df = frames[table]
        frames[table] = pd.concat([df, df.iloc[[row % len(df)]]], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, df in frames.items():
            df.to_csv(Path(tmp) / f"{name}.csv", index=False)
        data = journeylib.load(tmp, as_of="2026-10-31", freshness_days=100_000)
    counts = data.report().counts.set_index("table")
    for name, df in frames.items():
        read = len(df)
        used = len(data.table(name))
        q = data.quarantine[data.quarantine["table"] == name]
        assert counts.loc[name, "rows_read"] == read
        assert used + len(q) == read, (name, used, len(q), read)
        assert q["row"].is_unique and q["row"].between(1, read).all()
        assert (q["reasons"].str.len() > 0).all() and q["severity"].isin(["error", "out_of_window"]).all()
    # everything used is typed and in window
    assert (data.touchpoints["timestamp"] <= data.cutoff).all()
    assert data.touchpoints["account_id"].isin(data.accounts["account_id"]).all()
    assert data.touchpoints["stage"].notna().all()
