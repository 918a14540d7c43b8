"""Reading sources into raw tables.

A source is a folder of CSV / CSV.GZ / Parquet files (table = file stem), a
DuckDB database file, any SQLAlchemy URL, or ``env:VAR`` naming an environment
variable that holds one of those. Every raw row carries its provenance
(:data:`~journeylib.schema.SOURCE_COL`, :data:`~journeylib.schema.ROW_COL`) so a
set-aside row can be traced back. Passwords never appear in messages: see
:func:`describe_source`.
"""
from __future__ import annotations

import fnmatch
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..checks import given
from ..errors import SourceError, did_you_mean, mask_secrets
from ..schema import ROW_COL, SOURCE_COL

__all__ = ["RawSource", "read_source", "choose_source", "resolve_source", "describe_source", "source_label",
           "SAMPLE_DATA", "strings_only"]

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "data" / "sample"
_SUFFIXES = (".csv.gz", ".csv", ".parquet")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class RawSource:
    """Raw tables as read, before mapping and validation.

    Attributes
    ----------
    tables : dict of name -> DataFrame
        Source table name (file stem or database table) -> its rows, with the
        provenance columns ``_source`` and ``_row``.
    description : str
        Where the data came from, with any password masked.
    kind : str
        ``folder``, ``duckdb`` or ``sql``.
    notes : list of str
        Things worth reporting about the read (e.g. a file read as latin-1).
    """

    tables: dict[str, pd.DataFrame]
    description: str
    kind: str
    notes: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # table -> file or table name


def choose_source(source: "str | os.PathLike | None", config: dict) -> "str | os.PathLike | None":
    """The source a run reads: ``source`` when given, else the config's ``data``, else None (the sample).

    The one place this choice is made (docs/architecture.md, "The source path");
    ``env:VAR`` is kept as is, so no secret leaves this function.
    """
    return source if given(source) is not None else given(config.get("data"))


def resolve_source(source: "str | os.PathLike | None") -> str:
    """Resolve ``env:VAR`` and the default (None: the bundled sample) to a source string."""
    if given(source) is None:
        return str(SAMPLE_DATA)
    text = str(source).strip()
    if text.startswith("env:"):
        var = text[4:]
        value = os.environ.get(var)
        if not value:
            raise SourceError(
                f"environment variable {var!r} is not set or empty; set it to a folder, a DuckDB file or a "
                f"database URL (e.g. export {var}='postgresql://user:PASSWORD@host/db')"
            )
        return value.strip()
    return text


def source_label(source: "str | os.PathLike | None", resolved: str) -> str:
    """How reports name a source: an ``env:VAR`` by its variable, never by the URL it holds; anything else
    described with passwords masked (``resolved`` is :func:`resolve_source`'s result)."""
    text = str(source or "").strip()
    return text if text.startswith("env:") else describe_source(resolved)


def describe_source(source: str) -> str:
    """A description of ``source`` safe to print: passwords masked."""
    return mask_secrets(source)


def by_position(df: pd.DataFrame) -> bool:
    """Whether ``df``'s index is its rows' positions (0, 1, ...), as ``reset_index(drop=True)`` would make it."""
    index = df.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _add_provenance(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """``df`` (a frame just read, changed in place) with its columns' names trimmed and the provenance columns."""
    if not by_position(df):
        df = df.reset_index(drop=True)
    df.columns = [str(c).strip().lstrip("\ufeff").strip() for c in df.columns]
    df[SOURCE_COL] = name
    df[ROW_COL] = pd.RangeIndex(1, len(df) + 1)
    return df


def _read_csv(path: Path, notes: list[str]) -> pd.DataFrame:
    name = path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror})") from None
    if name.endswith(".gz"):
        import gzip

        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(4096)
        except (OSError, EOFError) as exc:
            raise SourceError(f"{path}: not a readable gzip file ({exc}); expected a gzip-compressed CSV") from None
    if not head.strip():
        raise SourceError(
            f"{path}: the file is empty; expected a CSV with a header line (e.g. account_id,...) and one row per record"
        )
    if b"\x00" in head:
        raise SourceError(
            f"{path}: not a CSV text file (it contains binary data); export the table as CSV (UTF-8 or latin-1) "
            "or Parquet"
        )
    kw = dict(dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=True, index_col=False)
    try:
        with warnings.catch_warnings():
            # more fields than the header: pandas only warns and drops data; we refuse the file
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = _read_csv_encoded(path, kw, notes)
    except pd.errors.ParserWarning:
        raise SourceError(
            f"{path}: not a well-formed CSV (a row has more fields than the header); check the delimiter "
            "(a comma is expected) and quoting"
        ) from None
    except pd.errors.EmptyDataError:
        raise SourceError(f"{path}: the file has no header line; expected a CSV with column names") from None
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise SourceError(
            f"{path}: not a well-formed CSV ({msg}); check the delimiter (a comma is expected) and quoting"
        ) from None
    return df.astype(object).where(df.notna(), None)


def _read_csv_encoded(path: Path, kw: dict, notes: list[str]) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **kw)
    except UnicodeDecodeError:
        notes.append(f"{path.name}: not valid UTF-8; read as latin-1")
        return pd.read_csv(path, encoding="latin-1", **kw)


def _is_wanted(name: str, wanted: set[str] | None) -> bool:
    """Whether table ``name`` is among ``wanted`` (lower-case names or glob patterns such as ``deals-*``)."""
    return wanted is None or any(fnmatch.fnmatchcase(name.lower(), w) for w in wanted)


def _read_folder(folder: Path, wanted: set[str] | None) -> RawSource:
    files: dict[str, Path] = {}
    clashes: list[str] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        for suffix in _SUFFIXES:
            if path.name.lower().endswith(suffix):
                stem = path.name[: -len(suffix)]
                if stem in files:
                    clashes.append(f"{files[stem].name} and {path.name}")
                files[stem] = path
                break
    if clashes:
        raise SourceError(
            f"{folder}: more than one file for the same table: {'; '.join(clashes)}; keep one file per table"
        )
    if not files:
        raise SourceError(
            f"{folder}: no .csv, .csv.gz or .parquet files found; expected one file per table "
            "(accounts.csv, touchpoints.csv, ...)"
        )
    tables: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    notes: list[str] = []
    for stem, path in files.items():
        if not _is_wanted(stem, wanted):
            continue
        if path.name.lower().endswith(".parquet"):
            try:
                df = pd.read_parquet(path)
            except Exception as exc:  # pyarrow raises several types for a bad file
                raise SourceError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
        else:
            df = _read_csv(path, notes)
        tables[stem] = _add_provenance(df, path.name)
        names[stem] = path.name
    return RawSource(tables, str(folder), "folder", notes, names)


def _read_duckdb(path: Path, wanted: set[str] | None) -> RawSource:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SourceError(f"{path}: not a readable DuckDB database ({exc})") from None
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by table_name"
        ).fetchall()]
        tables = {}
        for name in names:
            if not _is_wanted(name, wanted):
                continue
            df = con.execute(f'select * from "{name}"').df()
            tables[name] = _add_provenance(df, name)
    finally:
        con.close()
    return RawSource(tables, str(path), "duckdb", [], {n: n for n in tables})


def _read_sql(url: str, wanted: set[str] | None) -> RawSource:
    import sqlalchemy as sa

    safe = describe_source(url)
    try:
        engine = sa.create_engine(url)
    except Exception as exc:  # bad URL, missing driver
        raise SourceError(f"cannot open database {safe}: {mask_secrets(str(exc))}") from None
    try:
        with engine.connect() as con:
            inspector = sa.inspect(con)
            tables = {}
            for name in inspector.get_table_names():
                if not _is_wanted(name, wanted):
                    continue
                # A database returns rows in no set order (PostgreSQL's parallel scans interleave them): ordered
                # by every column, a read gives the same rows in the same order each time, so results repeat.
                width = len(inspector.get_columns(name))
                order = f" order by {', '.join(str(i) for i in range(1, width + 1))}" if width else ""
                df = pd.read_sql_query(sa.text(f'select * from "{name}"{order}'), con)
                tables[name] = _add_provenance(df, name)
    except sa.exc.SQLAlchemyError as exc:
        detail = mask_secrets(str(getattr(exc, "orig", exc) or exc)).splitlines()[0]
        raise SourceError(f"cannot read database {safe}: {detail}") from None
    finally:
        engine.dispose()
    return RawSource(tables, engine.url.render_as_string(hide_password=True), "sql", [], {n: n for n in tables})


def read_source(source: "str | os.PathLike | None", tables: "set[str] | None" = None) -> RawSource:
    """Read every table of a source.

    Parameters
    ----------
    source : str or path
        A folder of CSV/Parquet files, a DuckDB file, a SQLAlchemy URL, ``env:VAR``,
        or "" / None for the bundled sample.
    tables : set of str, optional
        Read only these table names (case-insensitive); None reads all.

    Returns
    -------
    RawSource

    Raises
    ------
    SourceError
        The source does not exist, or a file cannot be read as a table.
    """
    text = resolve_source(source)
    wanted = {t.lower() for t in tables} if tables is not None else None
    if _URL.match(text):
        if text.startswith("duckdb:///"):
            return _read_duckdb(Path(text[len("duckdb:///"):]), wanted)
        return _read_sql(text, wanted)
    path = Path(text).expanduser()
    if path.is_dir():
        return _read_folder(path, wanted)
    if path.is_file():
        with open(path, "rb") as fh:
            magic = fh.read(16)
        if magic == _SQLITE_MAGIC:
            return _read_sql(f"sqlite:///{path.resolve()}", wanted)
        if path.suffix.lower() in (".duckdb", ".db", ".ddb"):
            return _read_duckdb(path, wanted)
        raise SourceError(
            f"{path}: a single file is not a source; give the folder that holds one file per table "
            f"('{path.parent}'), a DuckDB file, or a database URL"
        )
    hint = ""
    if path.parent.is_dir():
        hint = did_you_mean(path.name, [p.name for p in path.parent.iterdir()])
    raise SourceError(
        f"data source '{describe_source(text)}' does not exist{hint}; give a folder of CSV/Parquet files, a DuckDB "
        "file, a database URL (sqlite:///file.db, postgresql://...) or env:VAR"
    )


def strings_only(df: pd.DataFrame) -> pd.DataFrame:
    """Every column but provenance as strings (missing stays None), as a CSV export would give.

    Used before a column mapping, whose rules compare text.
    """
    out = df.copy()
    for col in out.columns:
        if col in (SOURCE_COL, ROW_COL) or out[col].dtype == object:
            continue
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            text = s.map(lambda v: v.isoformat() if pd.notna(v) else None)
        elif pd.api.types.is_float_dtype(s):
            text = s.map(lambda v: (str(int(v)) if float(v).is_integer() else repr(float(v))) if pd.notna(v) else None)
        else:
            text = s.map(lambda v: str(v) if pd.notna(v) else None)
        out[col] = text.astype(object)
    return out
