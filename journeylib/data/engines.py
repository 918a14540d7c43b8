"""Validated touchpoints held in an engine: DuckDB on one machine beyond memory, Spark beyond one machine.

A :class:`TouchpointTable` is a view of validated Parquet touchpoints (a review's contract folder,
or Parquet files) in an engine, coded by stage and cut at as_of: the paths' :class:`TableLog`
(:mod:`journeylib.paths.table_log`) builds journeys on it, the scorecard counts touchpoints on it
(:func:`journeylib.kpis.sql_touchpoint_tally`). One SQL text serves both engines (window
functions, CASE, GROUP BY: the common dialect of DuckDB and Spark SQL); a session object hides
how each runs it:

* DuckDB: a database file in a temporary folder, ``memory_limit`` (default 2 GB) and spilling
  to that folder; intermediate tables are materialised there.
* Spark: an existing ``SparkSession`` (a cluster's) or a new ``local[2]`` one; intermediate
  tables are temporary views. Parquet nanosecond timestamps are read as integers
  (``spark.sql.legacy.parquet.nanosAsLong``), so no precision is lost.

:func:`choose_engine` picks DuckDB under ``engine="auto"`` for touchpoints over 1 GB on disk.
"""
from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from ..checks import check_choice
from ..errors import ParameterError, SourceError
from ..schema import ACCOUNT_ID, EVENT_ID, OUTCOME, STAGE, TIMESTAMP, TOUCHPOINT
from ..stages import Lifecycle, load_lifecycle
from .timeparse import window_ns

__all__ = ["TouchpointTable", "open_touchpoints", "DuckDBSession", "SparkSession", "spark_session", "quote",
           "touchpoints_files", "choose_engine", "ENGINES", "AUTO_DUCKDB_BYTES"]

ENGINES = ("auto", "pandas", "duckdb", "spark")
#: Touchpoints Parquet larger than this on disk (about 25M touchpoints) go to DuckDB under ``engine="auto"``.
AUTO_DUCKDB_BYTES = 1_000_000_000
_TABLES = itertools.count()  # each table names its views apart: tables may share one Spark session


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
                   .config("spark.ui.showConsoleProgress", "false")
                   # journeylib keeps no Spark tables: no spark-warehouse folder in the working directory
                   .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="journeylib-spark-")))
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


class TouchpointTable:
    """Validated touchpoints as views in DuckDB or Spark: ``events`` holds, per touchpoint within the
    as_of / start / end window, ``a`` (account id), ``ts`` (UTC nanoseconds), ``code`` (stage
    position), ``ev`` (event id), ``f`` and ``r`` (file and row: the read order), ``tp`` and ``oc``
    (touchpoint name and outcome, NULL when the files lack them).

    Attributes
    ----------
    session : DuckDBSession or SparkSession
    lifecycle : Lifecycle
    cutoff : int or None
        The last nanosecond used (as_of).
    filters : dict
    columns : dict
        The touchpoints' columns and their engine types.
    n_events, n_journeys : int
        Touchpoints and accounts in the window.
    """

    def __init__(self, session: Any, files: list[Path], lifecycle: Lifecycle, cutoff: int | None,
                 start_ns: int | None, end_ns: int | None, filters: dict):
        self.session, self.lifecycle, self.cutoff, self.filters = session, lifecycle, cutoff, filters
        self.prefix = f"jl{next(_TABLES)}_"
        self.named: set[str] = set()
        self.events = self.name("events")
        self.made: set[str] = set()
        raw, coded = self.name("raw"), self.name("coded")
        columns = session.read_parquet(raw, files)
        missing = [c for c in (ACCOUNT_ID, TIMESTAMP, STAGE) if c not in columns]
        if missing:
            raise ParameterError(f"{files[0]} lacks column(s) {missing}; the {session.engine} engine reads validated "
                                 "touchpoints (account_id, timestamp, stage), e.g. a review's contract folder")
        names = {**{s.label: s.id for s in lifecycle.stages}, **{i: i for i in lifecycle.ids}}
        position = {s: i for i, s in enumerate(lifecycle.ids)}
        code = "CASE stage_text " + " ".join(f"WHEN {quote(k)} THEN {position[v]}" for k, v in names.items()) + " END"
        self.columns = columns

        def text(column: str) -> str:
            return f"CAST({column} AS STRING)" if column in columns else "CAST(NULL AS STRING)"

        session.view(coded, f"""
            SELECT a, ts, stage_text, {code} AS code, ev, f, r, tp, oc FROM (
              SELECT CAST({ACCOUNT_ID} AS STRING) AS a, {session.timestamp_ns(TIMESTAMP, columns[TIMESTAMP])} AS ts,
                     CAST({STAGE} AS STRING) AS stage_text, {text(EVENT_ID)} AS ev, _f AS f, _r AS r,
                     {text(TOUCHPOINT)} AS tp, {text(OUTCOME)} AS oc FROM {raw}) t""")
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
        session.view(self.events, f"SELECT a, ts, code, ev, f, r, tp, oc FROM {coded}" +
                     (" WHERE " + " AND ".join(where) if where else ""))
        self.n_events, self.n_journeys = (int(v or 0) for v in
                                          session.rows(f"SELECT count(*), count(DISTINCT a) FROM {self.events}")[0])

    def name(self, what: str) -> str:
        """This table's name for one of its views or tables in the engine (recorded, for :meth:`close`)."""
        self.named.add(self.prefix + what)
        return self.prefix + what

    @property
    def engine(self) -> str:
        return self.session.engine

    def table(self, name: str, given: pd.DataFrame | None = None) -> pd.DataFrame | None:
        """The table an analysis was given (only the touchpoints are held here)."""
        return given

    def has_column(self, column: str) -> bool:
        """Whether the touchpoints have this column (``tp`` and ``oc`` of the events are the touchpoint
        name and outcome, NULL when absent)."""
        return column in self.columns

    def close(self) -> None:
        """Release what the table holds in its engine: DuckDB's working files, or its Spark views (the Spark
        session itself is left to its owner)."""
        self.session.close(sorted(self.named))


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


def open_touchpoints(source: "str | Path", lifecycle: Any = None, *, engine: str = "duckdb", as_of: Any = None,
                     start: Any = None, end: Any = None, tz: str | None = None, memory_limit: str = "2GB",
                     threads: int = 2, spark: Any = None, kind: type = TouchpointTable) -> Any:
    """Parquet touchpoints as a :class:`TouchpointTable` (or ``kind``, a subclass) in an engine.

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
    kind : type, default TouchpointTable
        The class made (:class:`~journeylib.paths.table_log.TableLog` for journeys).

    Returns
    -------
    TouchpointTable (or ``kind``)
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
        return kind(session, files, lifecycle, cutoff, start_ns, end_ns, filters)
    except BaseException:
        session.close()
        raise


