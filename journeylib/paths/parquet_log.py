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

from pathlib import Path
from typing import Any

from ..data.engines import AUTO_DUCKDB_BYTES, ENGINES, choose_engine, open_touchpoints, touchpoints_files
from .log import EventLog
from .table_log import TableLog

__all__ = ["table_log", "parquet_event_log", "touchpoints_files", "ENGINES", "choose_engine", "AUTO_DUCKDB_BYTES"]


def table_log(source: "str | Path", lifecycle: Any = None, *, engine: str = "duckdb", as_of: Any = None,
              start: Any = None, end: Any = None, tz: str | None = None, memory_limit: str = "2GB", threads: int = 2,
              spark: Any = None) -> TableLog:
    """The account journeys of Parquet touchpoints as a :class:`~journeylib.paths.table_log.TableLog` in an engine.

    The arguments are those of :func:`journeylib.data.engines.open_touchpoints` (a validated
    contract folder, Parquet touchpoints, or with Spark a URL of shared storage; the as_of,
    start and end window; DuckDB's memory limit and threads; a Spark session).
    """
    return open_touchpoints(source, lifecycle, engine=engine, as_of=as_of, start=start, end=end, tz=tz,
                            memory_limit=memory_limit, threads=threads, spark=spark, kind=TableLog)


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
