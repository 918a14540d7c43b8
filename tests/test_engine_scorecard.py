"""The stage scorecard with the touchpoints counted in DuckDB equals the pandas scorecard exactly."""
from __future__ import annotations

import pandas as pd
import pytest

from journeylib import kpis
from journeylib.data.contract import write_contract
from journeylib.errors import ParameterError
from journeylib.paths.parquet_log import table_log

MONTHS = ["2026-10", "2026-03", "2025-07"]


@pytest.fixture(scope="module")
def contract(sample, tmp_path_factory):
    return write_contract(sample, tmp_path_factory.mktemp("contract") / "contract")


def _windows(month):
    period = pd.Period(month, freq="M")
    return [kpis.month_window(str(p)) for p in (period, period - 1, period - 12)]


def _sorted(counts):
    return counts.sort_values(["w", "stage", "name", "outcome"], na_position="first").reset_index(drop=True)


@pytest.mark.parametrize("month", MONTHS)
def test_the_duckdb_tally_equals_the_pandas_tally(sample, contract, month):
    log = table_log(contract, engine="duckdb")
    sql = kpis.sql_touchpoint_tally(log, _windows(month))
    log.close()
    frame = kpis.touchpoint_tally(sample.touchpoints, _windows(month))
    pd.testing.assert_frame_equal(_sorted(sql.counts), _sorted(frame.counts), check_exact=True)
    assert sql.first_touches == frame.first_touches and sql.names == frame.names
    assert sql.has_outcome and frame.has_outcome
    # every touchpoint of the three months is counted once
    in_months = sum(((sample.touchpoints["timestamp"] >= s) & (sample.touchpoints["timestamp"] < e)).sum()
                    for s, e in _windows(month))
    assert sql.counts["n"].sum() == in_months > 1000


@pytest.mark.parametrize("month", MONTHS)
def test_the_scorecard_of_a_contract_in_duckdb_equals_pandas(sample, contract, month):
    card = kpis.scorecard(contract, month, engine="duckdb")
    expected = kpis.scorecard(sample, month)
    pd.testing.assert_frame_equal(card, expected, check_exact=True)
    assert card["value"].notna().sum() >= 18  # the sample has every table: nearly every metric has a value


def test_touchpoints_alone_give_the_touchpoint_metrics(sample, tmp_path):
    path = tmp_path / "touchpoints.parquet"
    sample.touchpoints.to_parquet(path, index=False)
    with pytest.raises(ParameterError, match="not a validated contract: give its lifecycle"):
        kpis.scorecard(path, "2026-10", engine="duckdb")
    card = kpis.scorecard(path, "2026-10", engine="duckdb", lifecycle=sample.lifecycle)
    expected = kpis.scorecard(sample, "2026-10")
    touch = card["metric"].isin(["Awareness touchpoints", "New accounts reached", "Content downloads",
                                 "Webinar attendance", "Demo requests", "Referrals given"])
    assert touch.sum() == 6 and (card.loc[touch, "value"] > 0).all()
    pd.testing.assert_frame_equal(card[touch], expected[touch], check_exact=True)
    # without the other tables their metrics have no data (not zero)
    assert card.loc[~touch, "value"].isna().all()
    assert set(card.loc[~touch, "flag_vs_last_month"]) == {"no data"}


def test_engine_and_lifecycle_are_checked(sample):
    with pytest.raises(ParameterError, match="engine"):
        kpis.scorecard(sample, "2026-10", engine="polars")
    with pytest.raises(ParameterError, match="a JourneyData carries its own"):
        kpis.scorecard(sample, "2026-10", lifecycle=sample.lifecycle)
