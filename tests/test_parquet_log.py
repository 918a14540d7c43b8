"""The DuckDB engine: event logs straight from Parquet equal the pandas ones, so every path analysis is unchanged."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylib import paths
from journeylib.data.contract import write_contract
from journeylib.errors import ParameterError, SourceError
from journeylib.paths import parquet_log
from journeylib.paths.parquet_log import choose_engine, parquet_event_log
from journeylib.stages import default_lifecycle

LC = default_lifecycle()
ARRAYS = ("ids", "journey_account", "jcode", "ts", "stage")


def _same_log(a, b) -> None:
    for name in ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.cutoff == b.cutoff and a.n_journeys == b.n_journeys


@pytest.fixture(scope="module")
def contract(sample, tmp_path_factory):
    return write_contract(sample, tmp_path_factory.mktemp("contract") / "contract")


@pytest.mark.parametrize("window", [{}, {"start": "2025-01-01", "end": "2025-12-31"}, {"as_of": "2026-03-31"}])
def test_the_sample_gives_the_same_journeys_transitions_sankey_and_funnel(sample, contract, window):
    duck = paths.event_log(str(contract), engine="duckdb", **window)
    frame = paths.event_log(sample.touchpoints, sample.lifecycle, as_of=window.get("as_of", "2026-10-31"),
                            start=window.get("start"), end=window.get("end"))
    _same_log(duck, frame)
    assert duck.n_journeys > 1000
    for analysis in (paths.transitions, paths.step_sankey, paths.funnel, paths.journeys, paths.variants,
                     paths.time_in_stage, paths.stalls):
        pd.testing.assert_frame_equal(analysis(duck), analysis(frame), obj=analysis.__name__)
    # the touchpoints' own columns are not in a DuckDB log: the analyses that need them say so
    drops = paths.drop_offs(duck)
    assert drops.empty and drops.attrs["note"] == "the touchpoints have no outcome column: drop-offs cannot be seen"
    assert not paths.drop_offs(frame).empty


STAGES = LC.ids + [s.label for s in LC.stages]


@st.composite
def touchpoint_frames(draw):
    n = draw(st.integers(0, 40))
    rows = [(draw(st.sampled_from(["A1", "A2", "b3", "A10", "É4"])),
             draw(st.integers(0, 6)),  # few distinct seconds: many ties
             draw(st.sampled_from(STAGES)),
             draw(st.one_of(st.none(), st.sampled_from(["E1", "E2", "e3", "E10"])))) for _ in range(n)]
    return pd.DataFrame({
        "account_id": pd.Series([r[0] for r in rows], dtype=object),
        "timestamp": pd.to_datetime([1_760_000_000 + r[1] for r in rows], unit="s", utc=True),
        "stage": pd.Series([r[2] for r in rows], dtype=object),
        "event_id": pd.Series([r[3] for r in rows], dtype=object)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=touchpoint_frames())
def test_any_log_sorts_as_pandas_sorts_it(frame, tmp_path):
    path = tmp_path / "touchpoints.parquet"
    frame.to_parquet(path, index=False)
    duck = parquet_event_log(path, LC, as_of="2025-10-09")
    pandas_log = paths.event_log(frame, LC, as_of="2025-10-09")
    _same_log(duck, pandas_log)
    assert np.array_equal(duck.src, pandas_log.src)
    pd.testing.assert_frame_equal(paths.transitions(duck), paths.transitions(pandas_log))
    pd.testing.assert_frame_equal(paths.step_sankey(duck, threshold=0), paths.step_sankey(pandas_log, threshold=0))


def test_nanoseconds_keep_their_order(tmp_path):
    """Two touchpoints one nanosecond apart, the later written first: both engines order them by time."""
    ns = [1_760_000_000_000_000_001, 1_760_000_000_000_000_000]
    frame = pd.DataFrame({"account_id": ["A", "A"], "stage": ["research", "awareness"],
                          "timestamp": pd.to_datetime(ns, utc=True)})
    frame.to_parquet(tmp_path / "touchpoints.parquet", index=False)
    duck = parquet_event_log(tmp_path, LC)
    _same_log(duck, paths.event_log(frame, LC))
    assert duck.ts.tolist() == [1_760_000_000_000_000_000, 1_760_000_000_000_000_001] and duck.stage.tolist() == [0, 1]


def test_bad_parquet_is_named(tmp_path):
    frame = pd.DataFrame({"account_id": ["A1", "A1"], "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"],
                                                                                   utc=True), "stage": ["demo", "x"]})
    frame.to_parquet(tmp_path / "touchpoints.parquet", index=False)
    with pytest.raises(ParameterError, match=r"touchpoints.stage has 2 value\(s\) that are not stages"):
        parquet_event_log(tmp_path, LC)
    frame.drop(columns="stage").to_parquet(tmp_path / "touchpoints.parquet", index=False)
    with pytest.raises(ParameterError, match=r"lacks column\(s\) \['stage'\]"):
        parquet_event_log(tmp_path, LC)
    with pytest.raises(ParameterError, match="is not a validated contract: give its lifecycle"):
        parquet_event_log(tmp_path)
    with pytest.raises(SourceError, match="no touchpoints Parquet here"):
        parquet_event_log(tmp_path / "nowhere", LC)
    with pytest.raises(ParameterError, match="the DuckDB engine builds account journeys .* not segment"):
        paths.event_log(str(tmp_path), LC, segment="EMEA", engine="duckdb")


def test_auto_picks_duckdb_by_size(contract, sample, monkeypatch):
    assert choose_engine(str(contract)) == "pandas" and choose_engine(sample) == "pandas"
    monkeypatch.setattr(parquet_log, "AUTO_DUCKDB_BYTES", 1000)  # the sample's touchpoints are ~2 MB
    assert choose_engine(str(contract)) == "duckdb"
    assert choose_engine(str(contract), "pandas") == "pandas"
    with pytest.raises(ParameterError, match="engine"):
        choose_engine(str(contract), "spark")
