"""Sources: CSV, CSV.GZ, Parquet, DuckDB and SQLite give equal tables; env:VAR; secrets masked."""
from __future__ import annotations

import gzip
import sqlite3

import duckdb
import pandas as pd
import pytest

import journeylib
from journeylib.errors import SourceError, mask_secrets
from journeylib.data.read import read_source

ACCOUNTS = pd.DataFrame({
    "account_id": ["007", "A2", "A3"],
    "name": ["Bond Ltd", "Beta GmbH", "Gamma"],
    "employees": [12, 250, 4000],
    "created_at": ["2025-01-01T00:00:00+00:00", "2025-02-01T10:30:00+00:00", "2025-03-01T00:00:00+00:00"],
    "parent_account_id": [None, "007", None],
})
TOUCHPOINTS = pd.DataFrame({
    "event_id": ["E1", "E2", "E3", "E4", "E5"],
    "account_id": ["007", "007", "A2", "A3", "A9"],
    "timestamp": ["2026-10-01T10:00:00+00:00", "2026-10-02T11:00:00+00:00", "2026-10-03T12:00:00+00:00",
                  "2026-10-30T08:00:00+00:00", "2026-10-30T09:00:00+00:00"],
    "touchpoint": ["webinar", "demo", "paid_search_ad", "qbr", "demo"],
    "channel": ["web", "sales", "paid_search", "customer_success", "sales"],
    "cost": [None, None, 12.5, None, None],
})
OPPS = pd.DataFrame({
    "opportunity_id": ["O1", "O2"], "account_id": ["007", "A2"],
    "created_at": ["2026-05-01T00:00:00+00:00", "2026-06-01T00:00:00+00:00"],
    "closed_at": ["2026-06-01T00:00:00+00:00", None], "status": ["won", "open"], "amount": [12000.0, 5000.0],
})
FRAMES = {"accounts": ACCOUNTS, "touchpoints": TOUCHPOINTS, "opportunities": OPPS}


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in ("created_at", "timestamp", "closed_at"):
        if c in out:
            out[c] = pd.to_datetime(out[c], utc=True)
    return out


@pytest.fixture
def sources(tmp_path):
    csv = tmp_path / "csv"; csv.mkdir()
    gz = tmp_path / "gz"; gz.mkdir()
    pq = tmp_path / "parquet"; pq.mkdir()
    for name, df in FRAMES.items():
        df.to_csv(csv / f"{name}.csv", index=False)
        with gzip.open(gz / f"{name}.csv.gz", "wt", encoding="utf-8") as fh:
            df.to_csv(fh, index=False)
        _typed(df).to_parquet(pq / f"{name}.parquet", index=False)
    ddb = tmp_path / "journey.duckdb"
    con = duckdb.connect(str(ddb))
    for name, df in FRAMES.items():
        t = _typed(df)
        con.register("frame", t)
        con.execute(f"create table {name} as select * from frame")
        con.unregister("frame")
    con.close()
    sqlite_path = tmp_path / "journey.sqlite"
    with sqlite3.connect(sqlite_path) as con:
        for name, df in FRAMES.items():
            df.to_sql(name, con, index=False)
    return {"csv": str(csv), "csv.gz": str(gz), "parquet": str(pq), "duckdb": str(ddb),
            "sqlite-url": f"sqlite:///{sqlite_path}", "sqlite-file": str(sqlite_path)}


def test_every_format_gives_equal_tables(sources):
    loaded = {k: journeylib.load(v, as_of="2026-10-31") for k, v in sources.items()}
    ref = loaded["csv"]
    assert len(ref.accounts) == 3 and len(ref.touchpoints) == 4 and len(ref.quarantine) == 1
    assert ref.accounts["employees"].tolist() == [12.0, 250.0, 4000.0]
    assert ref.accounts["account_id"].tolist() == ["007", "A2", "A3"]
    for kind, data in loaded.items():
        for table in ("accounts", "touchpoints", "opportunities"):
            pd.testing.assert_frame_equal(data.table(table), ref.table(table), check_dtype=True, obj=f"{kind}.{table}")
        assert data.quarantine[["table", "row", "reasons"]].values.tolist() == [["touchpoints", 5, "unknown_account"]]
        assert data.fingerprint() == ref.fingerprint(), kind


def test_env_var_source(sources, monkeypatch):
    monkeypatch.setenv("JOURNEY_DB", sources["sqlite-url"])
    data = journeylib.load("env:JOURNEY_DB", as_of="2026-10-31")
    assert len(data.touchpoints) == 4
    monkeypatch.delenv("JOURNEY_DB")
    with pytest.raises(SourceError, match=r"environment variable 'JOURNEY_DB' is not set"):
        journeylib.load("env:JOURNEY_DB")


def test_passwords_never_appear_in_messages(monkeypatch):
    url = "postgresql://analyst:s3cr3t-P4ss@db.invalid:5432/crm"
    with pytest.raises(SourceError) as exc:
        journeylib.load(url)
    assert "s3cr3t-P4ss" not in str(exc.value)
    assert "analyst:***@db.invalid" in str(exc.value)
    monkeypatch.setenv("CRM_URL", url)
    with pytest.raises(SourceError) as exc:
        journeylib.load("env:CRM_URL")
    assert "s3cr3t-P4ss" not in str(exc.value)
    assert mask_secrets("password=hunter2;user=x") == "password=***;user=x"


def test_source_errors_are_clear(tmp_path):
    with pytest.raises(SourceError, match=r"does not exist \(did you mean 'exports'\?\)"):
        (tmp_path / "exports").mkdir()
        journeylib.load(str(tmp_path / "exprots"))
    with pytest.raises(SourceError, match=r"no \.csv, \.csv\.gz or \.parquet files found"):
        journeylib.load(str(tmp_path / "exports"))
    one = tmp_path / "exports" / "accounts.csv"
    one.write_text("account_id\nA1\n")
    with pytest.raises(SourceError, match=r"a single file is not a source; give the folder"):
        journeylib.load(str(one))
    (tmp_path / "exports" / "accounts.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match=r"more than one file for the same table: accounts\.csv and accounts\.parquet"):
        journeylib.load(str(tmp_path / "exports"))


def test_provenance_and_truth_folder_ignored(sources, tmp_path):
    raw = read_source(sources["csv"])
    assert raw.tables["touchpoints"]["_row"].tolist() == [1, 2, 3, 4, 5]
    assert set(raw.tables["touchpoints"]["_source"]) == {"touchpoints.csv"}
    folder = tmp_path / "withtruth"
    folder.mkdir()
    for name, df in FRAMES.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    (folder / "truth").mkdir()
    (folder / "truth" / "personas.csv").write_text("account_id,persona\n007,x\n")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    data = journeylib.load(str(folder), as_of="2026-10-31")
    assert "not used: notes" in " ".join(data.report().notes)


def test_the_source_is_chosen_in_one_place_and_the_config_read_once(tmp_path, make_source):
    from journeylib.config import Config, load_config
    from journeylib.data.read import SAMPLE_DATA, choose_source, resolve_source

    src = make_source()
    (tmp_path / "journey.yml").write_text(f"data: {src.name}\ntz: Europe/Berlin\n", encoding="utf-8")
    (tmp_path / src.name).mkdir(exist_ok=True)
    cfg = load_config(tmp_path / "journey.yml")
    assert isinstance(cfg, Config) and load_config(cfg) is cfg  # a checked config is not read again
    assert choose_source("other", cfg) == "other"  # an explicit source wins
    assert choose_source("", cfg) == choose_source(None, cfg) == str(tmp_path / src.name)  # then the config's
    assert choose_source(" ", Config()) is None and resolve_source(None) == str(SAMPLE_DATA)  # then the sample
    data = journeylib.load(src, config=cfg)
    assert data.tz == "Europe/Berlin" and len(data.accounts) == 3
