"""The Spark engine (PySpark on local[2]): the same journeys, transitions, step Sankey, funnel and scorecard
as pandas.

Journeys, transitions, the step Sankey, the funnel and the scorecard's touchpoint counts run as
Spark SQL (the same SQL text as DuckDB's); the log's arrays are fetched from Spark for the other
analyses. Results must equal the pandas
engine's exactly, on the sample and on hypothesis-generated logs. Spark needs Java 17+
(``.ci/run`` installs Debian's JRE when it is missing); without it these tests are skipped.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from journeylib import kpis, paths
from journeylib.data.contract import write_contract
from journeylib.errors import ParameterError, SourceError
from journeylib.paths.parquet_log import table_log

from engine_cases import LC, WINDOWS, same_log, same_sql_analyses, touchpoint_frames

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17+ (.ci/run installs Debian's default-jre-headless)")
    from journeylib.paths.table_log import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def contract(sample, tmp_path_factory):
    return write_contract(sample, tmp_path_factory.mktemp("contract") / "contract")


@pytest.mark.parametrize("window", WINDOWS)
def test_the_sample_in_spark_equals_pandas(spark, sample, contract, window):
    table = paths.event_log(str(contract), engine="spark", **window)
    assert table.engine == "spark" and table.session.spark is spark
    frame = paths.event_log(sample.touchpoints, sample.lifecycle, as_of=window.get("as_of", "2026-10-31"),
                            start=window.get("start"), end=window.get("end"))
    assert table.n_journeys == frame.n_journeys > 1000 and table.n_events == len(frame.ts)
    same_sql_analyses(table, frame)
    same_log(table.event_log(), frame)
    for analysis in (paths.journeys, paths.variants, paths.stalls):
        pd.testing.assert_frame_equal(analysis(table), analysis(frame), obj=analysis.__name__)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=touchpoint_frames())
def test_any_log_in_spark_equals_pandas(spark, frame, tmp_path):
    path = tmp_path / "touchpoints.parquet"
    frame.to_parquet(path, index=False)
    table = table_log(path, LC, engine="spark", as_of="2025-10-09", spark=spark)
    pandas_log = paths.event_log(frame, LC, as_of="2025-10-09")
    fetched = table.event_log()
    same_log(fetched, pandas_log)
    assert np.array_equal(fetched.src, pandas_log.src)
    same_sql_analyses(table, pandas_log, threshold=0.2)


def test_spark_reads_nanoseconds_and_names_bad_stages(spark, tmp_path):
    ns = [1_760_000_000_000_000_001, 1_760_000_000_000_000_000]
    frame = pd.DataFrame({"account_id": ["A", "A"], "stage": ["research", "awareness"],
                          "timestamp": pd.to_datetime(ns, utc=True)})
    frame.to_parquet(tmp_path / "touchpoints.parquet", index=False)
    fetched = table_log(tmp_path, LC, engine="spark").event_log()
    assert fetched.ts.tolist() == sorted(ns) and fetched.stage.tolist() == [0, 1]
    frame.assign(stage=["research", "demo"]).to_parquet(tmp_path / "touchpoints.parquet", index=False)
    with pytest.raises(ParameterError, match=r"touchpoints.stage has 1 value\(s\) that are not stages.*'demo'"):
        table_log(tmp_path, LC, engine="spark")
    with pytest.raises(ParameterError, match="the Spark engine builds account journeys .* not plan"):
        paths.event_log(str(tmp_path), LC, plan="Pro", engine="spark")


def test_a_contract_at_a_url_is_read_with_its_metadata(spark, contract, sample, tmp_path):
    """A cluster reads shared storage by URL (s3a://, hdfs://); file:// is the local one: contract.json gives
    the lifecycle and the as_of, as for a local folder."""
    table = paths.event_log(contract.resolve().as_uri(), engine="spark")
    frame = paths.event_log(sample)
    assert table.n_journeys == frame.n_journeys and table.cutoff == frame.cutoff
    pd.testing.assert_frame_equal(paths.funnel(table), paths.funnel(frame), check_exact=True)
    with pytest.raises(SourceError, match="Spark cannot read .*nowhere/touchpoints.parquet"):
        paths.event_log((tmp_path / "nowhere").as_uri(), LC, engine="spark")
    with pytest.raises(ParameterError, match="is a URL: engine='spark' reads shared storage"):
        paths.event_log(contract.resolve().as_uri(), engine="duckdb")
    # the scorecard of a URL: the touchpoint metrics counted in Spark; the other tables are not read
    card = kpis.scorecard(contract.resolve().as_uri(), "2026-10", engine="spark")
    expected = kpis.scorecard(sample, "2026-10")
    touch = card["value"].notna()
    assert touch.sum() == 6
    pd.testing.assert_frame_equal(card[touch], expected[touch], check_exact=True)


def test_the_scorecard_counted_in_spark_equals_pandas(spark, sample, contract):
    for month in ("2026-10", "2025-07"):
        pd.testing.assert_frame_equal(kpis.scorecard(contract, month, engine="spark"),
                                      kpis.scorecard(sample, month), check_exact=True)


def test_two_logs_on_one_session_keep_their_own_journeys(spark, sample, contract):
    """Logs share the Spark session (a cluster's): each names its views apart, so an older log is not
    answered from a newer one's touchpoints."""
    early = paths.event_log(str(contract), engine="spark", as_of="2026-03-31")
    late = paths.event_log(str(contract), engine="spark")
    assert early.session.spark is late.session.spark and early.events != late.events
    for table, as_of in ((early, "2026-03-31"), (late, "2026-10-31")):
        frame = paths.event_log(sample.touchpoints, sample.lifecycle, as_of=as_of)
        pd.testing.assert_frame_equal(paths.funnel(table), paths.funnel(frame), check_exact=True)
        pd.testing.assert_frame_equal(paths.transitions(table), paths.transitions(frame), check_exact=True)
    # closing a log drops its views and leaves the other log's (and the session) alone
    early.close()
    views = {t.name for t in spark.catalog.listTables() if t.isTemporary}
    assert not [v for v in views if v.startswith(early.prefix)] and late.events in views
    assert paths.funnel(late)["reached"].sum() > 0
