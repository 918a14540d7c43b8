"""Journeys straight from Parquet: DuckDB beyond memory, Spark beyond one machine.

:func:`table_log` holds the account journeys of validated Parquet touchpoints in an engine
(:class:`~journeylib.paths.table_log.TableLog`): DuckDB reads the files, selects the as_of /
start / end window, and transitions, the step Sankey and the funnel run there as SQL
(spilling to disk beyond its memory limit); Spark does the same on a cluster.
:func:`parquet_event_log` fetches the same journeys as an :class:`~journeylib.paths.EventLog`:
four integer arrays per touchpoint (journey code, UTC nanoseconds, stage position, row), about
26 bytes per touchpoint instead of the whole table. Every analysis gives identical results on
either (tests compare them with the pandas log).

The source is a validated contract folder (``journey review`` writes one per month; its
lifecycle, timezone and as_of are used) or a Parquet file or folder of validated touchpoints
(``account_id``, ``timestamp``, ``stage``; ``event_id`` breaks ties).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..checks import check_choice
from ..errors import ParameterError, SourceError
from ..stages import Lifecycle, load_lifecycle
from .log import EventLog, window_ns
from .table_log import DuckDBSession, SparkSession, TableLog

__all__ = ["table_log", "parquet_event_log", "touchpoints_files", "ENGINES", "choose_engine", "AUTO_DUCKDB_BYTES"]

ENGINES = ("auto", "pandas", "duckdb", "spark")
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


def table_log(source: "str | Path", lifecycle: Any = None, *, engine: str = "duckdb", as_of: Any = None,
              start: Any = None, end: Any = None, tz: str | None = None, memory_limit: str = "2GB", threads: int = 2,
              spark: Any = None) -> TableLog:
    """The account journeys of Parquet touchpoints as a :class:`~journeylib.paths.table_log.TableLog` in an engine.

    Parameters
    ----------
    source : str or Path
        A validated contract folder, a folder with ``touchpoints.parquet`` (or ``touchpoints/*.parquet``),
        or a Parquet file. With ``engine="spark"`` also a URL of shared storage (``s3a://``,
        ``hdfs://``, ``abfss://``, ``file://``) to a contract folder or Parquet touchpoints.
    lifecycle : Lifecycle, dict or path, optional
        Default: the contract's.
    engine : {"duckdb", "spark"}, default "duckdb"
    as_of, start, end
        As in :func:`~journeylib.paths.event_log` (as_of defaults to the contract's).
    tz : str, optional
        Timezone of the as_of, start and end days; default the contract's, else UTC.
    memory_limit : str, default "2GB"
        DuckDB's memory limit; beyond it DuckDB spills to a temporary folder.
    threads : int, default 2
        DuckDB's threads.
    spark : pyspark.sql.SparkSession, optional
        The Spark session to use (a cluster's); default the active one, else a new ``local[2]``.

    Returns
    -------
    TableLog
    """
    engine = check_choice(engine, "engine", ("duckdb", "spark"))
    session = None
    if "://" in str(source):  # shared storage (s3a://, hdfs://, abfss://, file://): Spark reads it
        if engine != "spark":
            raise ParameterError(f"{source} is a URL: engine='spark' reads shared storage; DuckDB and pandas "
                                 "read local files")
        session = SparkSession(spark)
        files, meta = session.stored_files(str(source))
    else:
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
    if session is None:
        session = DuckDBSession(memory_limit, threads) if engine == "duckdb" else SparkSession(spark)
    filters = {"segment": None, "plan": None, "channel": None, "start": start, "end": end}
    try:
        return TableLog(session, files, lifecycle, cutoff, start_ns, end_ns, filters)
    except BaseException:
        session.close()
        raise


def parquet_event_log(source: "str | Path", lifecycle: Any = None, *, as_of: Any = None, start: Any = None,
                      end: Any = None, tz: str | None = None, memory_limit: str = "2GB",
                      threads: int = 2) -> EventLog:
    """The account-level event log of Parquet touchpoints, filtered and sorted by DuckDB, as arrays.

    The arguments are those of :func:`table_log`; the result equals
    ``event_log(touchpoints, lifecycle, as_of=..., start=..., end=...)`` array for array.
    """
    log = table_log(source, lifecycle, as_of=as_of, start=start, end=end, tz=tz, memory_limit=memory_limit,
                    threads=threads)
    try:
        return log.event_log()
    finally:
        log.close()
