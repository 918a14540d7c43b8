"""Planted data-quality problems: load() sets aside exactly the planted rows, for the planted
reasons, and accepts the harmless variations unchanged."""
from __future__ import annotations

import pandas as pd

import journeylib
from journeylib import synth
from journeylib.synth.corrupt import plant_problems, write_planted


def test_load_finds_exactly_the_planted_problems(tmp_path):
    dataset = synth.generate(150, seed=5, end_date="2026-10-31")
    tables, expected = plant_problems(dataset, per_kind=3, seed=1)
    assert len(expected) == 3 * 13 + 3  # 12 kinds + end before start, and 3 repeated event ids
    write_planted(tables, tmp_path)
    data = journeylib.load(str(tmp_path), as_of="2026-10-31")
    got = data.quarantine[["table", "row", "reasons"]].sort_values(["table", "row"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert data.report().balanced
    # the harmless variations (naive, other offset, epoch ms, padded ids) load as the clean data does
    used = data.touchpoints.set_index("event_id")
    truth = dataset.tables["touchpoints"].set_index("event_id")
    common = used.index.intersection(truth.index)
    assert len(common) == len(used)
    pd.testing.assert_series_equal(used.loc[common, "timestamp"], truth.loc[common, "timestamp"].dt.as_unit("ns"),
                                   check_names=False, check_freq=False)
    assert used.loc[common, "account_id"].equals(truth.loc[common, "account_id"])
