"""The DuckDB engine: event logs straight from Parquet equal the pandas ones, and every path analysis gives the
same frame (transitions, the step Sankey and the funnel computed as SQL in DuckDB, the others on the fetched arrays)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylib import paths
from journeylib.data.contract import write_contract
from journeylib.errors import ParameterError, SourceError
from journeylib.data import engines
from journeylib.paths.parquet_log import choose_engine, parquet_event_log
from journeylib.paths.table_log import TableLog
from journeylib.paths.sql_paths import linear_quantile, median_of

from engine_cases import LC, WINDOWS, same_log, same_sql_analyses, touchpoint_frames

@pytest.fixture(scope="module")
def contract(sample, tmp_path_factory):
    return write_contract(sample, tmp_path_factory.mktemp("contract") / "contract")


@pytest.mark.parametrize("window", WINDOWS)
def test_the_sample_gives_the_same_journeys_transitions_sankey_and_funnel(sample, contract, window):
    table = paths.event_log(str(contract), engine="duckdb", **window)
    assert isinstance(table, TableLog) and table.engine == "duckdb"
    frame = paths.event_log(sample.touchpoints, sample.lifecycle, as_of=window.get("as_of", "2026-10-31"),
                            start=window.get("start"), end=window.get("end"))
    assert table.n_journeys == frame.n_journeys > 1000 and table.n_events == len(frame.ts)
    same_sql_analyses(table, frame)  # in DuckDB, before any array was fetched
    assert table._log is None
    tables = {"opportunities": sample.opportunities, "subscriptions": sample.subscriptions}
    in_duckdb = paths.journeys(table, reentry_days=30, **tables)
    pd.testing.assert_frame_equal(in_duckdb, paths.journeys(frame, reentry_days=30, **tables), check_exact=True)
    assert table._log is None
    # the sample moves back and re-enters: the flags are exercised, not all zero
    assert in_duckdb["has_backward"].mean() > 0.8 and in_duckdb["has_reentry"].mean() > 0.5  # 86-96%, 62-82%
    assert set(in_duckdb["outcome"]) >= {"won", "lost", "churned"}
    duck = table.event_log()
    same_log(duck, frame)
    for analysis in (paths.transitions, paths.step_sankey, paths.funnel, paths.journeys, paths.variants,
                     paths.time_in_stage, paths.stalls):
        pd.testing.assert_frame_equal(analysis(table), analysis(frame), obj=analysis.__name__)
    # the touchpoints' own columns are not in a DuckDB log: the analyses that need them say so
    drops = paths.drop_offs(duck)
    assert drops.empty and drops.attrs["note"] == "the touchpoints have no outcome column: drop-offs cannot be seen"
    assert not paths.drop_offs(frame).empty


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=touchpoint_frames())
def test_any_log_sorts_as_pandas_sorts_it(frame, tmp_path):
    path = tmp_path / "touchpoints.parquet"
    frame.to_parquet(path, index=False)
    table = paths.event_log(str(path), LC, as_of="2025-10-09", engine="duckdb")
    pandas_log = paths.event_log(frame, LC, as_of="2025-10-09")
    duck = table.event_log()
    same_log(duck, pandas_log)
    assert np.array_equal(duck.src, pandas_log.src)
    same_sql_analyses(table, pandas_log, threshold=0.2)  # a 5-journey log: 0.2 folds the single-journey nodes
    table.close()


def test_nanoseconds_keep_their_order(tmp_path):
    """Two touchpoints one nanosecond apart, the later written first: both engines order them by time."""
    ns = [1_760_000_000_000_000_001, 1_760_000_000_000_000_000]
    frame = pd.DataFrame({"account_id": ["A", "A"], "stage": ["research", "awareness"],
                          "timestamp": pd.to_datetime(ns, utc=True)})
    frame.to_parquet(tmp_path / "touchpoints.parquet", index=False)
    duck = parquet_event_log(tmp_path, LC)
    same_log(duck, paths.event_log(frame, LC))
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
    monkeypatch.setattr(engines, "AUTO_DUCKDB_BYTES", 1000)  # the sample's touchpoints are ~2 MB
    assert choose_engine(str(contract)) == "duckdb"
    assert choose_engine(str(contract), "pandas") == "pandas"
    assert choose_engine(str(contract), "spark") == "spark"
    with pytest.raises(ParameterError, match="engine"):
        choose_engine(str(contract), "polars")


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.integers(-10**15, 10**15), min_size=1, max_size=60),
       q=st.sampled_from([0.5, 0.9, 0.1, 0.25, 0.75, 0.99, 1 / 3]))
def test_quantiles_from_order_statistics_are_numpys_bit_for_bit(values, q):
    """The engines return order statistics; interpolating them gives np.quantile and np.median exactly."""
    from journeylib.paths.sql_paths import _median_positions, _numpy_positions

    days = np.sort(np.asarray(values, dtype=np.int64)) / paths.log.DAY_NS
    n = len(days)
    lo, hi, gamma = _numpy_positions(n, q)
    assert linear_quantile(days[lo], days[hi], gamma) == np.quantile(days, q)
    assert median_of([days[p] for p in _median_positions(n)], n) == np.median(days)


def test_an_empty_window_gives_empty_frames_with_the_reason(contract):
    table = paths.event_log(str(contract), engine="duckdb", start="2030-01-01", end="2030-01-31")
    assert table.n_journeys == 0
    for result in (paths.transitions(table), paths.step_sankey(table), paths.funnel(table)):
        assert result.empty and result.attrs["note"].startswith("no touchpoints match")


def test_paths_are_joined_the_same_in_chunks_of_journeys():
    from journeylib.paths.journeys import _join_paths

    codes = np.array([0, 1, 2, 3, 1, 4, 0], dtype=np.int16)  # journeys of 2, 1, 3 and 1 steps
    offsets = np.array([0, 2, 3, 6, 7])
    expected = ["awareness > research", "consideration", "decision > research > onboarding", "awareness"]
    for chunk in (1, 2, 3, 100_000):
        assert _join_paths(codes, offsets, LC, chunk=chunk).tolist() == expected
