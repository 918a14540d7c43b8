"""Validation counts of Parquet touchpoints in chunks (duplicates in DuckDB) equal journeylib.load's report."""
from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylib import load
from journeylib.cli import main
from journeylib.data.chunked import validation_report, write_contract_in_chunks
from journeylib.data.contract import read_contract, write_contract
from journeylib.data.read import read_source
from journeylib.errors import JourneyDataError, ParameterError, SourceError

AS_OF = "2026-10-31"


def _messy(touchpoints: pd.DataFrame) -> pd.DataFrame:
    """The sample's touchpoints with every kind of problem, several of them across chunks."""
    tp = touchpoints.copy()
    tp.loc[10:19, "account_id"] = " "
    tp.loc[30:39, "timestamp"] = "not a date"
    tp.loc[50:59, "stage"] = "nonsense"
    tp.loc[70:79, "account_id"] = "ZZZ"
    tp.loc[90:99, "timestamp"] = "2027-01-05T10:00:00Z"
    tp.loc[110:119, "cost"] = "-5"
    tp.loc[130:139, "cost"] = "abc"
    tp.loc[150:154, ["stage", "touchpoint"]] = ["", "mystery_event"]
    tp.loc[170:179, "contact_id"] = "C-nobody"
    tp.loc[190:199, "timestamp"] = "03/04/2026"  # ambiguous; only a later chunk shows the day-first order
    tp.loc[150_000, "timestamp"] = "31/10/2025"
    tp.loc[150_010:150_019, "event_id"] = tp.loc[0:9, "event_id"].to_numpy()  # duplicate ids, chunks apart
    tp.loc[150_020:150_024, "event_id"] = tp.loc[30:34, "event_id"].to_numpy()  # first copy set aside: kept
    tp.loc[160_000:160_009, "event_id"] = None
    tp.loc[160_010:160_019] = tp.loc[160_000:160_009].to_numpy()  # whole rows repeated, without event id
    tp.loc[160_020:160_024, "event_id"] = "  "
    return tp


@pytest.fixture(scope="module")
def parquet_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet_source")
    for name, frame in read_source("data/sample").tables.items():
        frame = frame.drop(columns=["_source", "_row"])
        if name == "touchpoints":
            frame = _messy(frame)
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _report(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load(str(source), as_of=AS_OF, **kw).report()


def _by_key(findings: pd.DataFrame) -> pd.DataFrame:
    return findings.sort_values(["table", "column", "code"]).reset_index(drop=True)


@pytest.mark.parametrize("chunk_rows", [7_000, 1_000_000])
def test_chunks_give_loads_counts_and_findings(parquet_source, chunk_rows):
    expected = _report(parquet_source)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        got = validation_report(parquet_source, as_of=AS_OF, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    tp = got.counts.set_index("table").loc["touchpoints"]
    assert tp["rows_read"] == tp["rows_used"] + tp["rows_set_aside"] == 194_112
    assert (tp["rows_set_aside"], tp["errors"], tp["out_of_window"]) == (95, 85, 10)
    # load puts its diagnosis of likely causes first (none here: no reason sets much aside); every finding is the
    # same, rows, example rows and words
    assert "likely_cause" not in set(expected.findings["code"])
    pd.testing.assert_frame_equal(_by_key(got.findings), _by_key(expected.findings))
    codes = set(got.findings.loc[got.findings["table"] == "touchpoints", "code"])
    assert codes >= {"missing_id", "bad_timestamp", "unknown_stage", "unknown_account", "out_of_window",
                     "negative_value", "bad_number", "unmapped_touchpoint", "contact_cleared", "date_order",
                     "duplicate_id", "duplicate_row"}
    pd.testing.assert_frame_equal(got.unmapped.reset_index(drop=True), expected.unmapped.reset_index(drop=True),
                                  check_dtype=False)


def test_what_chunks_cannot_do_is_said(parquet_source, tmp_path):
    with pytest.raises(ParameterError, match="as_of is required"):
        validation_report(parquet_source)
    with pytest.raises(SourceError, match="needs a folder with touchpoints.parquet"):
        validation_report("data/sample", as_of=AS_OF)
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "touchpoints.parquet").write_bytes((parquet_source / "touchpoints.parquet").read_bytes())
    with pytest.raises(ParameterError, match="no accounts table"):
        validation_report(alone, as_of=AS_OF)
    pd.read_parquet(parquet_source / "touchpoints.parquet").drop(columns=["timestamp"]).to_parquet(
        alone / "touchpoints.parquet")
    (alone / "accounts.parquet").write_bytes((parquet_source / "accounts.parquet").read_bytes())
    with pytest.raises(JourneyDataError, match="required column 'timestamp' is missing"):
        validation_report(alone, as_of=AS_OF)


def test_journey_validate_with_the_duckdb_engine(parquet_source, capsys, tmp_path):
    assert main(["validate", str(parquet_source), "--as-of", AS_OF, "--json"]) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert main(["validate", str(parquet_source), "--as-of", AS_OF, "--json", "--engine", "duckdb"]) == 0
    chunked = json.loads(capsys.readouterr().out)
    assert chunked["tables"] == loaded["tables"]
    tp = [t for t in chunked["tables"] if t["table"] == "touchpoints"][0]
    # by hand: nine problems of 10 rows in separate rows, 5 unmapped; the 5 copies of set-aside rows are kept
    assert tp["rows_read"] == tp["rows_used"] + tp["rows_set_aside"] and tp["rows_set_aside"] == 9 * 10 + 5
    # the set-aside rows and the contract, from either engine: the same files
    for engine in ("duckdb", "pandas"):
        assert main(["validate", str(parquet_source), "--as-of", AS_OF, "--engine", engine, "--quarantine",
                     str(tmp_path / f"q-{engine}.csv"), "--contract", str(tmp_path / engine)]) == 0
        assert f"validated contract written to {tmp_path / engine}" in capsys.readouterr().out
    assert (tmp_path / "q-duckdb.csv").read_bytes() == (tmp_path / "q-pandas.csv").read_bytes()
    assert len(pd.read_csv(tmp_path / "q-duckdb.csv")) == 95
    assert load(str(tmp_path / "duckdb")).fingerprint() == load(str(tmp_path / "pandas")).fingerprint()
    # what the engine cannot do is refused with the flag to use instead
    assert main(["validate", str(parquet_source), "--as-of", AS_OF, "--engine", "duckdb", "--mapping",
                 "salesforce"]) == 2
    assert "--mapping needs --engine pandas" in capsys.readouterr().err


def _same_contract(source, chunk_rows, tmp_path):
    """The contract written in chunks reads back as the one written from ``load``: every table, the quarantine
    (reasons, messages, values), counts, findings but the diagnosis, and contract.json (fingerprint included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = read_contract(write_contract(load(str(source), as_of=AS_OF), tmp_path / "whole"))
        chunked_folder = write_contract_in_chunks(tmp_path / "chunked", source, as_of=AS_OF, chunk_rows=chunk_rows)
        chunked = read_contract(chunked_folder)
    for name, table in whole.tables.items():
        if table is None:
            assert chunked.tables[name] is None, name
        else:
            pd.testing.assert_frame_equal(table, chunked.tables[name], obj=name)
    pd.testing.assert_frame_equal(whole.quarantine, chunked.quarantine, obj="quarantine", check_dtype=False)
    a, b = whole.report(), chunked.report()
    pd.testing.assert_frame_equal(a.counts, b.counts)
    # the same findings; a problem first met in a later chunk is listed later, as validation_report lists it
    pd.testing.assert_frame_equal(_by_key(a.findings[a.findings["code"] != "likely_cause"]), _by_key(b.findings),
                                  check_dtype=False)
    assert json.loads((tmp_path / "whole" / "contract.json").read_text()) == \
        json.loads((chunked_folder / "contract.json").read_text())
    return chunked


def test_a_contract_written_in_chunks_is_the_one_load_writes(parquet_source, tmp_path):
    """Beyond the sample's problems: a duplicate id out of the window (set aside for both, in check order) and
    one with an unknown account (the duplicate is checked before the references)."""
    tp = pd.read_parquet(parquet_source / "touchpoints.parquet")
    tp.loc[150_030, ["event_id", "timestamp"]] = [tp.loc[40, "event_id"], "2027-01-05T10:00:00Z"]
    tp.loc[150_031, ["event_id", "account_id"]] = [tp.loc[41, "event_id"], "ZZZ"]
    source = tmp_path / "source"
    source.mkdir()
    for path in parquet_source.iterdir():
        (source / path.name).write_bytes(path.read_bytes())
    tp.to_parquet(source / "touchpoints.parquet", index=False)
    data = _same_contract(source, 7_000, tmp_path)
    q = data.quarantine.set_index("row")
    assert len(q) == 97 and len(data.touchpoints) == 194_112 - 97  # 95 as before, and these two
    assert q.loc[150_031, "reasons"] == "out_of_window;duplicate_id" and q.loc[150_031, "severity"] == "error"
    assert q.loc[150_032, "reasons"] == "duplicate_id;unknown_account"
    assert q.loc[150_011, "reasons"] == "duplicate_id" and '"event_id":' in q.loc[150_011, "values"]
    assert set(q["reasons"]) >= {"duplicate_row", "bad_timestamp", "out_of_window"}


@st.composite
def messy_touchpoints(draw):
    """Small touchpoint exports where most values can be wrong, and duplicates meet across chunks."""
    n = draw(st.integers(1, 25))
    pick = lambda values: draw(st.sampled_from(values))  # noqa: E731
    return pd.DataFrame({
        "account_id": [pick(["A1", "A2", " ", "ZZ", None]) for _ in range(n)],
        "timestamp": [pick(["2026-10-01", "2026-10-01T10:00:00Z", "bad", "2027-01-01", "03/04/2026", "31/10/2025",
                            None]) for _ in range(n)],
        "touchpoint": [pick(["webinar", "demo_request", "mystery", None]) for _ in range(n)],
        "event_id": [pick(["E1", "E2", "E3", " ", None]) for _ in range(n)],
        "contact_id": [pick(["C1", "C9", None]) for _ in range(n)],
        "stage": [pick([None, "", "decision", "Decision", "nonsense"]) for _ in range(n)],
        "cost": [pick([None, "5", "-1", "x", "1,000"]) for _ in range(n)],
    })


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(touchpoints=messy_touchpoints(), chunk_rows=st.integers(1, 7))
def test_any_export_in_any_chunks_gives_loads_report(touchpoints, chunk_rows, tmp_path):
    pd.DataFrame({"account_id": ["A1", "A2"]}).to_parquet(tmp_path / "accounts.parquet")
    pd.DataFrame({"contact_id": ["C1"], "account_id": ["A1"]}).to_parquet(tmp_path / "contacts.parquet")
    touchpoints.to_parquet(tmp_path / "touchpoints.parquet")
    try:
        expected = _report(tmp_path)
    except JourneyDataError as exc:  # no usable row at all: the chunks say the same
        with pytest.raises(JourneyDataError, match=re.escape(str(exc).splitlines()[0])):
            validation_report(tmp_path, as_of=AS_OF, chunk_rows=chunk_rows)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = validation_report(tmp_path, as_of=AS_OF, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    own = expected.findings[expected.findings["code"] != "likely_cause"]
    pd.testing.assert_frame_equal(_by_key(got.findings), _by_key(own))
    _same_contract(tmp_path, chunk_rows, tmp_path / "written")


def _validate_in_this_process(monkeypatch) -> None:
    """The review validates in a spawned process, which would not see the sizes patched here: these tests run it
    in this one (what it does is the same)."""
    from journeylib.review import runner

    monkeypatch.setattr(runner, "_in_child_process", lambda function, *args, env=None: function(*args))


def test_a_review_of_touchpoints_over_the_size_validates_them_in_chunks(parquet_source, tmp_path, monkeypatch):
    """Over AUTO_DUCKDB_BYTES (1 GB; here 1 byte) the review writes its contract in chunks: the notebooks read
    the same data (fingerprint) and the quarantine holds the same rows."""
    from journeylib import review
    from journeylib.data import engines

    monkeypatch.setattr(engines, "AUTO_DUCKDB_BYTES", 1)
    _validate_in_this_process(monkeypatch)
    with pytest.raises(ParameterError, match="give --month"):
        review.run_review(data=str(parquet_source), out=tmp_path / "reports", progress=False)
    result = review.run_review(month="2026-10", data=str(parquet_source), out=tmp_path / "reports", progress=False,
                               only=["00_data_health"])
    assert not result.failed
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["data"]["contract"]["validated"] == "in chunks, beyond memory (DuckDB)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert manifest["data"]["fingerprint"] == load(str(parquet_source), as_of=AS_OF).fingerprint()
    assert manifest["data"]["rows_set_aside"] == 95 == len(pd.read_csv(result.folder / "quarantine.csv"))
    assert "touchpoints" in (result.folder / "load_report.txt").read_text()


def test_a_review_with_its_month_validates_touchpoints_over_its_own_size_in_chunks(parquet_source, tmp_path,
                                                                                   monkeypatch):
    """With --month the review chunks from REVIEW_CHUNK_BYTES (50 MB; here the sample's size less one byte),
    below the engines' 1 GB: at 100,000 accounts a load at once peaks at 7.4 GB. Without --month it loads at
    once up to 1 GB, as the month is guessed from the data."""
    from journeylib.review import runner

    _validate_in_this_process(monkeypatch)
    size = (parquet_source / "touchpoints.parquet").stat().st_size
    for threshold, chunked in ((size - 1, True), (size, False)):
        monkeypatch.setattr(runner, "REVIEW_CHUNK_BYTES", threshold)
        result = runner.run_review(month="2026-10", data=str(parquet_source), out=tmp_path / str(threshold),
                                   progress=False, only=["00_data_health"])
        manifest = json.loads((result.folder / "manifest.json").read_text())
        assert manifest["data"]["contract"]["validated"] == ("in chunks, beyond memory (DuckDB)" if chunked
                                                             else "in memory (pandas)")
    assert runner._loads_in_chunks(str(parquet_source), {}, size - 1)
    assert not runner._loads_in_chunks(str(parquet_source), {}, None)  # no month: 1 GB
