"""Event logs straight from Parquet with DuckDB: journeys of more touchpoints than memory holds.

:func:`parquet_event_log` builds the same :class:`~journeylib.paths.EventLog` as
:func:`~journeylib.paths.event_log` (account level), but DuckDB reads the validated touchpoints
from Parquet, selects the as_of / start / end window and sorts them (spilling to disk beyond
its memory limit); Python only receives four integer arrays per event (journey code, UTC
nanoseconds, stage position, row), about 26 bytes per touchpoint instead of the whole table.
Journeys, transitions, the step Sankey, the funnel, variants, stalls and time in stage then
run on it unchanged, with identical results (tests compare them with the pandas log).

Its ``frame`` holds no touchpoint columns: the analyses that read touchpoint names, channels,
outcomes or contacts (won vs lost, drop-offs after demo no-shows) say so, as they do for a
table without those columns. The source is a validated contract folder (``journey review``
writes one per month; its lifecycle, timezone and as_of are used) or a Parquet file or folder
of validated touchpoints (``account_id``, ``timestamp``, ``stage``; ``event_id`` breaks ties).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice
from ..errors import ParameterError, SourceError
from ..schema import ACCOUNT_ID, EVENT_ID, STAGE, TIMESTAMP
from ..stages import Lifecycle, load_lifecycle
from .log import EventLog, empty_note, window_ns

__all__ = ["parquet_event_log", "touchpoints_files", "ENGINES", "choose_engine", "AUTO_DUCKDB_BYTES"]

ENGINES = ("auto", "pandas", "duckdb")
#: Touchpoints Parquet larger than this on disk (about 25M touchpoints) go to DuckDB under ``engine="auto"``.
AUTO_DUCKDB_BYTES = 1_000_000_000


def touchpoints_files(source: "str | Path") -> tuple[list[Path], dict]:
    """The touchpoints Parquet file(s) of a source, and its contract metadata ({} when not a contract)."""
    path = Path(source)
    meta: dict = {}
    if path.is_dir():
        if (path / "contract.json").is_file():
            meta = json.loads((path / "contract.json").read_text(encoding="utf-8"))
        files = sorted(path.glob("touchpoints.parquet")) or sorted(path.glob("touchpoints/*.parquet"))
    else:
        files = [path] if path.suffix == ".parquet" and path.is_file() else []
    if not files:
        raise SourceError(f"{path}: no touchpoints Parquet here; give a validated contract folder "
                          "(reports/YYYY-MM/contract), a folder with touchpoints.parquet (or touchpoints/*.parquet), "
                          "or a .parquet file")
    return files, meta


def choose_engine(source: Any, engine: str = "auto") -> str:
    """``"duckdb"`` for a Parquet source over :data:`AUTO_DUCKDB_BYTES` under ``"auto"``, else ``"pandas"``."""
    engine = check_choice(engine, "engine", ENGINES)
    if engine != "auto":
        return engine
    if not isinstance(source, (str, Path)):
        return "pandas"
    try:
        files, _ = touchpoints_files(source)
    except SourceError:
        return "pandas"
    return "duckdb" if sum(f.stat().st_size for f in files) > AUTO_DUCKDB_BYTES else "pandas"


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def parquet_event_log(source: "str | Path", lifecycle: Any = None, *, as_of: Any = None, start: Any = None,
                      end: Any = None, tz: str | None = None, memory_limit: str = "2GB",
                      threads: int = 2) -> EventLog:
    """The account-level event log of Parquet touchpoints, filtered and sorted by DuckDB.

    Parameters
    ----------
    source : str or Path
        A validated contract folder, a folder with ``touchpoints.parquet``, or a Parquet file.
    lifecycle : Lifecycle, dict or path, optional
        Default: the contract's.
    as_of, start, end
        As in :func:`~journeylib.paths.event_log` (as_of defaults to the contract's).
    tz : str, optional
        Timezone of the as_of, start and end days; default the contract's, else UTC.
    memory_limit : str, default "2GB"
        DuckDB's memory limit; beyond it the sort spills to a temporary folder.
    threads : int, default 2

    Returns
    -------
    EventLog
        Equal arrays to ``event_log(touchpoints, lifecycle, as_of=..., start=..., end=...)``.
    """
    import duckdb

    files, meta = touchpoints_files(source)
    if lifecycle is None:
        if "lifecycle" not in meta:
            raise ParameterError(f"{source} is not a validated contract: give its lifecycle (lifecycle=...)")
        lifecycle = meta["lifecycle"]
    lifecycle = lifecycle if isinstance(lifecycle, Lifecycle) else load_lifecycle(lifecycle)
    tz = tz or meta.get("tz", "UTC")
    if as_of is None and meta.get("as_of"):
        as_of = meta["as_of"]
    cutoff, start_ns, end_ns = window_ns(as_of, start, end, tz)
    where = [f"ts {op} {ns}" for op, ns in (("<=", cutoff), (">=", start_ns), ("<=", end_ns)) if ns is not None]
    names = {**{s.label: s.id for s in lifecycle.stages}, **{i: i for i in lifecycle.ids}}
    position = {s: i for i, s in enumerate(lifecycle.ids)}

    with tempfile.TemporaryDirectory(prefix="journeylib-duckdb-") as spill:
        con = duckdb.connect(config={"memory_limit": memory_limit, "threads": int(threads),
                                     "temp_directory": spill})
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # a library prints nothing
            listed = _sql_list([str(f) for f in files])
            columns = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet([{listed}])").fetchall()}
            missing = [c for c in (ACCOUNT_ID, TIMESTAMP, STAGE) if c not in columns]
            if missing:
                raise ParameterError(f"{files[0]} lacks column(s) {missing}; the DuckDB engine reads validated "
                                     "touchpoints (account_id, timestamp, stage), e.g. a review's contract folder")
            event = f"CAST({EVENT_ID} AS VARCHAR)" if EVENT_ID in columns else "NULL"
            # a timestamp column is read at its own precision (nanoseconds stay nanoseconds); text is parsed
            when = TIMESTAMP if str(columns[TIMESTAMP]).startswith("TIMESTAMP") else f"CAST({TIMESTAMP} AS TIMESTAMPTZ)"
            con.execute(f"""
                CREATE TEMP VIEW raw AS
                SELECT CAST({ACCOUNT_ID} AS VARCHAR) AS a, epoch_ns({when}) AS ts,
                       CAST({STAGE} AS VARCHAR) AS stage_text, {event} AS ev, filename AS f, file_row_number AS r
                FROM read_parquet([{listed}], file_row_number = true, filename = true)""")
            con.execute("CREATE TEMP TABLE stage_codes (stage_text VARCHAR, code SMALLINT)")
            con.executemany("INSERT INTO stage_codes VALUES (?, ?)",
                            [[k, position[v]] for k, v in names.items()])
            bad = con.execute("""SELECT count(*) FILTER (WHERE a IS NULL), count(*) FILTER (WHERE ts IS NULL),
                                        count(*) FILTER (WHERE s.code IS NULL),
                                        any_value(raw.stage_text) FILTER (WHERE s.code IS NULL)
                                 FROM raw LEFT JOIN stage_codes s USING (stage_text)""").fetchall()[0]
            for count, what in ((bad[0], "account_id"), (bad[1], "timestamp")):
                if count:
                    raise ParameterError(f"touchpoints.{what} has {count} missing values in {files[0]}")
            if bad[2]:
                raise ParameterError(f"touchpoints.stage has {bad[2]} value(s) that are not stages of the lifecycle, "
                                     f"e.g. {bad[3]!r}; stages: {', '.join(lifecycle.ids)}")
            filtered = "SELECT raw.*, s.code FROM raw JOIN stage_codes s USING (stage_text)" + \
                (" WHERE " + " AND ".join(where) if where else "")
            con.execute(f"CREATE TEMP VIEW kept AS {filtered}")
            ids = np.asarray([r[0] for r in con.execute("SELECT DISTINCT a FROM kept ORDER BY a").fetchall()],
                             dtype=object)
            n = con.execute("SELECT count(*) FROM kept").fetchall()[0][0]
            jcode = np.empty(n, dtype=np.int64)
            ts = np.empty(n, dtype=np.int64)
            stage = np.empty(n, dtype=np.int16)
            src = np.empty(n, dtype=np.int64)
            reader = con.sql("""
                WITH journeys AS (SELECT a, row_number() OVER (ORDER BY a) - 1 AS j FROM (SELECT DISTINCT a FROM kept))
                SELECT j, ts, code, r FROM kept JOIN journeys USING (a)
                ORDER BY a, ts, ev IS NULL, ev, f, r""").to_arrow_reader(1_000_000)
            at = 0
            for batch in reader:
                k = batch.num_rows
                jcode[at:at + k] = batch.column(0).to_numpy()
                ts[at:at + k] = batch.column(1).to_numpy()
                stage[at:at + k] = batch.column(2).to_numpy()
                src[at:at + k] = batch.column(3).to_numpy()
                at += k
        finally:
            con.close()
    filters = {"segment": None, "plan": None, "channel": None, "start": start, "end": end}
    frame = pd.DataFrame({ACCOUNT_ID: pd.Series(dtype=object), TIMESTAMP: pd.Series(dtype="datetime64[ns, UTC]"),
                          STAGE: pd.Series(dtype=object)})
    return EventLog(lifecycle=lifecycle, level="account", ids=ids, journey_account=ids.copy(), jcode=jcode, ts=ts,
                    stage=stage, src=src, frame=frame, cutoff=cutoff, note="" if n else empty_note(filters),
                    filters=filters)
