"""A real PostgreSQL: the sample loaded into Debian's server on loopback, the review run from env:JOURNEY_DB_URL.

The server is a throw-away cluster (initdb in a temporary folder, password authentication, a free port on
127.0.0.1), started by the fixture and stopped after the module. `.ci/run` installs Debian's postgresql; without
it these tests are skipped locally.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import journeylib
from journeylib.errors import SourceError

from conftest import REPO

pytestmark = [pytest.mark.slow]
SAMPLE = REPO / "data" / "sample"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdb:
        pytest.skip("Debian's postgresql is not installed (.ci/run installs it with apt)")
    bin_dir = initdb[-1].parent
    root = Path(tempfile.mkdtemp(prefix="journeylib-pg-"))  # not under pytest's 0700 folders: postgres reads it
    password = secrets.token_urlsafe(18)
    (root / "pw").write_text(password)
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        shutil.chown(root / "pw", "postgres")
    port = _free_port()
    subprocess.run(as_postgres + [str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "journey",
                                  "--auth=scram-sha-256", f"--pwfile={root / 'pw'}", "-E", "UTF8",
                                  "--no-instructions"], check=True, capture_output=True)
    (root / "pw").unlink()
    subprocess.run(as_postgres + [str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w",
                                  "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    url = f"postgresql://journey:{password}@127.0.0.1:{port}/postgres"
    try:
        yield {"url": url, "password": password, "port": port}
    finally:
        subprocess.run(as_postgres + [str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def crm_database(postgres):
    """The sample's tables loaded into the server as an export would land there (pandas' own types)."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres["url"])
    with engine.begin() as con:
        for path in sorted(SAMPLE.glob("*.csv.gz")):
            pd.read_csv(path).to_sql(path.name.split(".")[0], con, index=False, chunksize=10_000)
    engine.dispose()
    return postgres


def test_the_review_runs_against_postgres_and_the_password_is_nowhere(crm_database, tmp_path):
    out = tmp_path / "reports"
    env = {**os.environ, "JOURNEY_DB_URL": crm_database["url"]}
    env.pop("JOURNEYLIB_HEADLESS", None)
    run = subprocess.run([sys.executable, "-m", "journeylib", "review", "--data", "env:JOURNEY_DB_URL", "--month",
                          "2026-10", "--out", str(out), "--jobs", "2", "--quiet"],
                         env=env, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((out / "2026-10" / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["parameters"]["data_path"] == "env:JOURNEY_DB_URL"
    assert manifest["data"]["source"] == "env:JOURNEY_DB_URL"
    # the same rows as the sample's files (a database has its own row order: compared as sorted rows), and
    # the same order on every read, so a second review gives the same fingerprint
    from_db = journeylib.load(crm_database["url"], as_of="2026-10-31")
    assert from_db.fingerprint() == manifest["data"]["fingerprint"]
    from_files = journeylib.load(str(SAMPLE), as_of="2026-10-31")
    for name, table in from_files.tables.items():
        if table is None:
            assert from_db.tables[name] is None, name
            continue
        a, b = (t.astype(str).sort_values(list(t.columns)).reset_index(drop=True)
                for t in (table, from_db.tables[name]))
        pd.testing.assert_frame_equal(a, b, obj=name)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) > 50 and any(p.suffix == ".parquet" for p in written)
    password = crm_database["password"].encode()
    leaks = [str(p) for p in written if password in p.read_bytes()]
    assert leaks == [], leaks
    assert crm_database["password"] not in run.stdout + run.stderr


def test_a_wrong_password_is_a_clear_error_without_the_password(crm_database):
    url = crm_database["url"].replace(crm_database["password"], "not-the-password-42")
    with pytest.raises(SourceError) as error:
        journeylib.load(url, as_of="2026-10-31")
    text = str(error.value)
    assert "cannot" in text and "127.0.0.1" in text and "not-the-password-42" not in text
    assert crm_database["password"] not in text
