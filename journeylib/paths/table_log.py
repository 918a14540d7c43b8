"""Event logs that stay in an engine: DuckDB on one machine beyond memory, Spark beyond one machine.

A :class:`TableLog` is the account-level event log of validated Parquet touchpoints, held as a
view in an engine instead of as arrays in Python. :func:`~journeylib.paths.transitions`,
:func:`~journeylib.paths.step_sankey` and :func:`~journeylib.paths.funnel` run on it as SQL
(:mod:`.sql_paths`): only their small results reach Python, so 50M touchpoints stay within
a few GB. Every other analysis (journeys, variants, stalls, time in stage) takes it too:
it then fetches the log's arrays once (:meth:`TableLog.event_log`, four integers per
touchpoint) and runs as on any :class:`~journeylib.paths.EventLog`.

One SQL text serves both engines (window functions, CASE, GROUP BY: the common dialect of
DuckDB and Spark SQL); a session object hides how each runs it:

* DuckDB: a database file in a temporary folder, ``memory_limit`` (default 2 GB) and spilling
  to that folder; intermediate tables are materialised there.
* Spark: an existing ``SparkSession`` (a cluster's) or a new ``local[2]`` one; intermediate
  tables are temporary views. Parquet nanosecond timestamps are read as integers
  (``spark.sql.legacy.parquet.nanosAsLong``), so no precision is lost.

The order is the library's (:mod:`.log`): journey, time, event id as text (missing last), then
the file and the row within it. Strings compare by code point in Python, DuckDB and Spark
alike (UTF-8 bytes), so the three engines give one order.
"""
from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..errors import ParameterError, SourceError
from ..schema import ACCOUNT_ID, EVENT_ID, STAGE, TIMESTAMP
from ..stages import Lifecycle
from .log import EventLog, empty_note

__all__ = ["TableLog", "DuckDBSession", "SparkSession", "spark_session", "ORDER"]

#: The library's order within a journey, in SQL over the events view.
ORDER = "ts, ev IS NULL, ev, f, r"
_LOGS = itertools.count()  # each log names its views apart: logs may share one Spark session


def quote(text: str) -> str:
    """A SQL string literal (DuckDB and Spark both read a doubled quote as one)."""
    return "'" + str(text).replace("'", "''") + "'"


class DuckDBSession:
    """DuckDB on a database file in a temporary folder, spilling there beyond ``memory_limit``."""

    engine = "duckdb"

    def __init__(self, memory_limit: str = "2GB", threads: int = 2):
        import duckdb

        self.folder = tempfile.mkdtemp(prefix="journeylib-duckdb-")
        self.con = duckdb.connect(str(Path(self.folder) / "work.duckdb"),
                                  config={"memory_limit": memory_limit, "threads": int(threads),
                                          "temp_directory": self.folder, "preserve_insertion_order": False})
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # a library prints nothing
        self._finalizer = weakref.finalize(self, DuckDBSession._cleanup, self.con, self.folder)

    @staticmethod
    def _cleanup(con, folder) -> None:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)

    def close(self, names: Any = ()) -> None:
        """Close the connection and delete its folder (``names`` go with it)."""
        self._finalizer()

    def read_parquet(self, name: str, files: list[Path]) -> dict[str, str]:
        """A view ``name`` of the files with ``_f`` (file) and ``_r`` (row in it); its column types."""
        listed = ", ".join(quote(str(f)) for f in files)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT *, filename AS _f, file_row_number AS _r "
                         f"FROM read_parquet([{listed}], file_row_number = true, filename = true)")
        return {r[0]: str(r[1]) for r in self.con.execute(f"DESCRIBE SELECT * FROM {name}").fetchall()}

    def timestamp_ns(self, column: str, kind: str) -> str:
        """SQL of a timestamp column as UTC nanoseconds, at its own precision (text is parsed)."""
        return f"epoch_ns({column})" if kind.startswith("TIMESTAMP") else f"epoch_ns(CAST({column} AS TIMESTAMPTZ))"

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def table(self, name: str, sql: str) -> None:
        """Materialise ``sql`` as ``name`` (on disk, so it may exceed memory)."""
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def small_table(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name + "_df", frame)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")
        self.con.unregister(name + "_df")

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def batches(self, sql: str, size: int = 1_000_000) -> Iterator[Any]:
        yield from self.con.sql(sql).to_arrow_reader(size)


def spark_session(master: str = "local[2]", app_name: str = "journeylib"):
    """A SparkSession as journeylib needs it: UTC, Parquet nanoseconds as integers, quiet.

    An existing session (``SparkSession.getActiveSession()``, e.g. a cluster's) is reused with
    those settings; otherwise one is started on ``master`` (``local[2]``, or a cluster URL such
    as ``spark://host:7077``).
    """
    try:
        from pyspark.sql import SparkSession as _Spark
    except ImportError:
        raise ParameterError("engine='spark' needs PySpark (pip install pyspark) and Java 17 or newer") from None
    settings = {"spark.sql.session.timeZone": "UTC", "spark.sql.legacy.parquet.nanosAsLong": "true"}
    spark = _Spark.getActiveSession()
    if spark is None:
        builder = (_Spark.builder.master(master).appName(app_name).config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false"))
        for key, value in settings.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    for key, value in settings.items():
        spark.conf.set(key, value)
    return spark


class SparkSession:
    """Spark SQL on a SparkSession; intermediate tables are temporary views."""

    engine = "spark"

    def __init__(self, spark: Any = None, master: str = "local[2]"):
        self.spark = spark_session(master) if spark is None else spark
        if spark is not None:
            spark_session()  # the settings, on the session given

    def close(self, names: Any = ()) -> None:
        """Drop these views; the session belongs to the caller (or to other logs) and keeps running."""
        for name in names:
            self.spark.catalog.dropTempView(name)

    def stored_files(self, url: str) -> tuple[list[str], dict]:
        """The touchpoints Parquet of a URL (a file, or a contract folder's), and its contract.json ({} if none)."""
        url = url.rstrip("/")
        if url.endswith(".parquet"):
            return [url], {}
        try:
            found = self.spark.sparkContext.wholeTextFiles(url + "/contract.json").collect()
        except Exception:  # noqa: BLE001 - no contract.json there (Hadoop's error types vary by file system)
            found = []
        return [url + "/touchpoints.parquet"], json.loads(found[0][1]) if found else {}

    def read_parquet(self, name: str, files: list[Path]) -> dict[str, str]:
        try:
            frame = self.spark.read.parquet(*[str(f) for f in files])
        except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException names the path
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SourceError(f"Spark cannot read {', '.join(map(str, files))}: {first}; give a validated "
                              "contract folder (with touchpoints.parquet) or Parquet touchpoints") from None
        frame = frame.select("*", frame["_metadata.file_path"].alias("_f"), frame["_metadata.row_index"].alias("_r"))
        frame.createOrReplaceTempView(name)
        return dict(frame.dtypes)

    def timestamp_ns(self, column: str, kind: str) -> str:
        if kind in ("bigint", "long"):  # a Parquet nanosecond timestamp, read as its integer
            return column
        if kind.startswith("timestamp"):
            return f"unix_micros({column}) * 1000"
        return f"unix_micros(CAST({column} AS TIMESTAMP)) * 1000"

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    table = view  # Spark plans the whole query; a view is recomputed where it is used

    def small_table(self, name: str, frame: pd.DataFrame) -> None:
        self.spark.createDataFrame(frame).createOrReplaceTempView(name)

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    def batches(self, sql: str, size: int = 1_000_000) -> Iterator[Any]:
        yield from self.spark.sql(sql).toArrow().to_batches(size)


class TableLog:
    """The account journeys of Parquet touchpoints, as a view in DuckDB or Spark.

    Built by :func:`~journeylib.paths.event_log` with ``engine="duckdb"`` or ``"spark"``.
    :func:`~journeylib.paths.transitions`, :func:`~journeylib.paths.step_sankey` and
    :func:`~journeylib.paths.funnel` run in the engine; other analyses use
    :meth:`event_log` (fetched once).

    Attributes
    ----------
    session : DuckDBSession or SparkSession
    lifecycle : Lifecycle
    level : str
        Always ``"account"``.
    cutoff : int or None
        The last nanosecond used (as_of).
    filters : dict
    note : str
        Why the log is empty ("" when it is not).
    """

    level = "account"

    def __init__(self, session: Any, files: list[Path], lifecycle: Lifecycle, cutoff: int | None,
                 start_ns: int | None, end_ns: int | None, filters: dict):
        self.session, self.lifecycle, self.cutoff, self.filters = session, lifecycle, cutoff, filters
        self.prefix = f"jl{next(_LOGS)}_"
        self.named: set[str] = set()
        self.events = self.name("events")
        self.made: set[str] = set()
        self._log: EventLog | None = None
        raw, coded = self.name("raw"), self.name("coded")
        columns = session.read_parquet(raw, files)
        missing = [c for c in (ACCOUNT_ID, TIMESTAMP, STAGE) if c not in columns]
        if missing:
            raise ParameterError(f"{files[0]} lacks column(s) {missing}; the {session.engine} engine reads validated "
                                 "touchpoints (account_id, timestamp, stage), e.g. a review's contract folder")
        names = {**{s.label: s.id for s in lifecycle.stages}, **{i: i for i in lifecycle.ids}}
        position = {s: i for i, s in enumerate(lifecycle.ids)}
        code = "CASE stage_text " + " ".join(f"WHEN {quote(k)} THEN {position[v]}" for k, v in names.items()) + " END"
        event = f"CAST({EVENT_ID} AS STRING)" if EVENT_ID in columns else "CAST(NULL AS STRING)"
        session.view(coded, f"""
            SELECT a, ts, stage_text, {code} AS code, ev, f, r FROM (
              SELECT CAST({ACCOUNT_ID} AS STRING) AS a, {session.timestamp_ns(TIMESTAMP, columns[TIMESTAMP])} AS ts,
                     CAST({STAGE} AS STRING) AS stage_text, {event} AS ev, _f AS f, _r AS r FROM {raw}) t""")
        bad = session.rows(f"""SELECT sum(CASE WHEN a IS NULL THEN 1 ELSE 0 END),
                                     sum(CASE WHEN ts IS NULL THEN 1 ELSE 0 END),
                                     sum(CASE WHEN code IS NULL THEN 1 ELSE 0 END),
                                     min(CASE WHEN code IS NULL THEN stage_text END) FROM {coded}""")[0]
        for count, what in ((bad[0], "account_id"), (bad[1], "timestamp")):
            if count:
                raise ParameterError(f"touchpoints.{what} has {count} missing values in {files[0]}")
        if bad[2]:
            raise ParameterError(f"touchpoints.stage has {bad[2]} value(s) that are not stages of the lifecycle, "
                                 f"e.g. {bad[3]!r}; stages: {', '.join(lifecycle.ids)}")
        where = [f"ts {op} {ns}" for op, ns in (("<=", cutoff), (">=", start_ns), ("<=", end_ns)) if ns is not None]
        session.view(self.events, f"SELECT a, ts, code, ev, f, r FROM {coded}" +
                     (" WHERE " + " AND ".join(where) if where else ""))
        self.n_events, self.n_journeys = (int(v or 0) for v in
                                          session.rows(f"SELECT count(*), count(DISTINCT a) FROM {self.events}")[0])
        self.note = "" if self.n_events else empty_note(filters)

    def name(self, what: str) -> str:
        """This log's name for one of its views or tables in the engine (recorded, for :meth:`close`)."""
        self.named.add(self.prefix + what)
        return self.prefix + what

    @property
    def engine(self) -> str:
        return self.session.engine

    def event_log(self) -> EventLog:
        """The same journeys as an :class:`~journeylib.paths.EventLog` (arrays in journey order; fetched once).

        Its ``frame`` holds no touchpoint columns: analyses that read touchpoint names,
        channels, outcomes or contacts say the log lacks them.
        """
        if self._log is None:
            self._log = self._fetch()
        return self._log

    def _fetch(self) -> EventLog:
        s, n = self.session, self.n_events
        ids = np.asarray([r[0] for r in s.rows(f"SELECT DISTINCT a FROM {self.events} ORDER BY a")], dtype=object)
        jcode, ts = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        stage, src = np.empty(n, dtype=np.int16), np.empty(n, dtype=np.int64)
        at = 0
        for batch in s.batches(f"""
                WITH journeys AS (SELECT a, (row_number() OVER (ORDER BY a)) - 1 AS j
                                  FROM (SELECT DISTINCT a FROM {self.events}) d)
                SELECT j, ts, code, r FROM {self.events} e JOIN journeys USING (a)
                ORDER BY a, {ORDER}"""):
            k = batch.num_rows
            for target, column in zip((jcode, ts, stage, src), batch.columns):
                target[at:at + k] = column.to_numpy()
            at += k
        frame = pd.DataFrame({ACCOUNT_ID: pd.Series(dtype=object), TIMESTAMP: pd.Series(dtype="datetime64[ns, UTC]"),
                              STAGE: pd.Series(dtype=object)})
        return EventLog(lifecycle=self.lifecycle, level="account", ids=ids, journey_account=ids.copy(), jcode=jcode,
                        ts=ts, stage=stage, src=src, frame=frame, cutoff=self.cutoff, note=self.note,
                        filters=self.filters)

    def close(self) -> None:
        """Release what the log holds in its engine: DuckDB's working files, or its Spark views (the Spark
        session itself is left to its owner)."""
        self.session.close(sorted(self.named))
