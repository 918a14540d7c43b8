"""The validated contract on disk: load and validate once, read many times.

The monthly review loads its source once and writes what :func:`journeylib.load` made of it
into the report folder: one Parquet file per contract table (typed: UTC timestamps, the
stage as an ordered categorical), the quarantine and the load report, and ``contract.json``
(as_of, timezone, currency, lifecycle, the source as described, row counts and the data's
fingerprint). Every notebook of the review then reads that folder: ``journeylib.load`` of a
folder with a ``contract.json`` reads it back as the same :class:`JourneyData` (same
fingerprint) without mapping or validating again, and cuts it at an earlier ``as_of`` when
asked (:func:`journeylib.data.history.data_as_of`).
"""
from __future__ import annotations

import copy
import io
import json
import stat
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from ..errors import ParameterError, SourceError
from ..schema import ACCOUNT_ID, PII_COLUMNS, TABLES
from ..stages import load_lifecycle
from .load import JourneyData
from .report import LoadReport
from .timeparse import as_of_cutoff
from .validate import ValidationResult

__all__ = ["CONTRACT_FILE", "FORMAT", "is_contract", "write_contract", "read_contract", "read_meta", "contract_report",
           "quarantine_to_csv", "as_text", "filled_text", "text_codes", "is_text", "table_once", "has_table",
           "account_rows"]

CONTRACT_FILE = "contract.json"
FORMAT = "journeylib-contract/1"
#: The tables whose text columns are read as pandas' Arrow-backed ``str`` dtype (NaN for missing, as object
#: columns): at 20,000 accounts the touchpoints take 0.83 GB as Python strings; at 100,000 the other tables took
#: 0.53 GB as Python strings, 0.16 GB in Arrow.
ARROW_STRING_TABLES = ("touchpoints", "usage", "contacts", "tickets", "surveys", "leads", "opportunities", "accounts",
                       "subscriptions")
#: Text columns with far fewer distinct values than rows, read as categoricals (categories in text order): at
#: 100,000 accounts the first four took 620 MB of the touchpoints' 1.2 GB as Arrow strings, 48 MB as categories.
#: The account and contact ids too: at 20,000 accounts the touchpoints took 92 MB instead of 126, each kernel of
#: the review 0.03 to 0.05 GB less, for 0.2 s more to read them.
CATEGORY_COLUMNS = {"touchpoints": ("touchpoint", "channel", "campaign", "outcome", "account_id", "contact_id")}
_REPORT = {"quarantine": "quarantine", "findings": "findings", "counts": "counts", "unmapped": "unmapped"}


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype(str)``, the same Python strings, without its slow path for Arrow-backed text.

    The tables of a contract hold Arrow-backed strings (:data:`ARROW_STRING_TABLES`);
    ``astype(str)`` turns them into Python strings one value at a time (0.4-0.7 s per column of 1.9M
    touchpoints), three to six times slower than converting the array at once. Missing values become
    the same text as with ``astype(str)`` (``"nan"``, or ``"<NA>"`` for the ``string`` dtype).
    """
    if not isinstance(values.dtype, pd.StringDtype):
        return values.astype(str)
    na = "<NA>" if values.dtype.na_value is pd.NA else "nan"
    return pd.Series(values.to_numpy(dtype=object, na_value=na), index=values.index, name=values.name, dtype=object)


def filled_text(values: pd.Series, fill: str) -> pd.Series:
    """``values.fillna(fill)`` for text, categoricals included (as plain values, ``fill`` a value like the others)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.fillna(fill)
    texts = np.append(np.asarray(values.cat.categories, dtype=object), np.array([fill], dtype=object))
    codes = values.cat.codes.to_numpy()
    return pd.Series(texts[np.where(codes < 0, len(texts) - 1, codes)], index=values.index, name=values.name)


def text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(as_text(values))``: codes into the distinct texts, in order of appearance, with each
    distinct value turned into text once, not once per row (a missing value has a text, as in
    :func:`as_text`; values with one text, e.g. ``1`` and ``"1"``, share a code).

    Returns
    -------
    codes : ndarray of int
        Per row, its text's position in ``texts``.
    texts : ndarray of object
        The distinct texts.
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    same_text, texts = pd.factorize(as_text(pd.Series(distinct, dtype=values.dtype)).to_numpy(dtype=object))
    return same_text[codes], np.asarray(texts, dtype=object)


def is_text(values: pd.Series, text: str) -> np.ndarray:
    """``as_text(values) == text`` as a boolean array, without a Python string per row for Arrow-backed text (at
    100,000 accounts the touchpoints' account ids took 0.7 GB that way)."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # each category's text compared once; missing reads "nan"
        same = as_text(pd.Series(values.cat.categories.to_numpy(dtype=object), dtype=object)).to_numpy() == text
        return np.append(same, text == "nan")[values.cat.codes.to_numpy()]
    if not isinstance(values.dtype, pd.StringDtype):
        return (as_text(values) == text).to_numpy(dtype=bool)
    same = (values == text).to_numpy(dtype=bool, na_value=False)
    if text == ("<NA>" if values.dtype.na_value is pd.NA else "nan"):  # as_text's text of a missing value
        same |= values.isna().to_numpy()
    return same


def table_once(tables: "Mapping[str, pd.DataFrame | None]", name: str) -> "pd.DataFrame | None":
    """``tables.get(name)`` for one use: a contract's table not read yet is read without being kept
    (:meth:`ContractTables.read_once`), so it is freed with the caller's last reference.

    For an analysis that turns a table into something else at once (the churn snapshots): at 20,000
    accounts notebook 04 then held no touchpoints, usage and tickets (0.2 GB) through its 25-second
    backtest.
    """
    once = getattr(tables, "read_once", None)
    return once(name) if once is not None else tables.get(name)


def has_table(tables: "Mapping[str, pd.DataFrame | None]", name: str) -> bool:
    """Whether ``tables`` hold the table ``name`` (not None), without reading a contract's table."""
    has = getattr(tables, "has", None)
    return has(name) if has is not None else tables.get(name) is not None


def account_rows(tables: "Mapping[str, pd.DataFrame | None]", name: str, account_id: str) -> "pd.DataFrame | None":
    """The rows of one account (``as_text(account_id column) == account_id``) of the table ``name``, with
    positions 0..n-1 as index; None when there is no such table. Of a contract's table not read yet only
    those rows are read (:meth:`ContractTables.account_rows`): an account's drill-down does not hold the
    whole touchpoints."""
    rows = getattr(tables, "account_rows", None)
    if rows is not None:
        return rows(name, account_id)
    return _rows_in_memory(tables.get(name), name, account_id)


def _rows_in_memory(table: "pd.DataFrame | None", name: str, account_id: str) -> "pd.DataFrame | None":
    if table is None:
        return None
    if ACCOUNT_ID not in table:
        raise ParameterError(f"the {name} table has no {ACCOUNT_ID} column: its rows are no account's")
    return table[is_text(table[ACCOUNT_ID], account_id)].reset_index(drop=True)


def _category(values: pd.Series) -> pd.Series:
    """Text as a categorical whose categories are plain Python strings in sorted order."""
    codes, distinct = pd.factorize(values, sort=True)
    categories = pd.Index(np.asarray(distinct, dtype=object), dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=values.index, name=values.name)


def _read_long_table(path: "Path | BinaryIO", categories: "tuple[str, ...]") -> pd.DataFrame:
    """A long table read a column at a time: text stays in Arrow buffers (not one Python object per value), the
    ``categories`` columns become categoricals, and the read never holds more than one column twice (at
    100,000 accounts reading the touchpoints at once peaked 0.6 GB above the frame)."""
    import pyarrow.parquet as pq

    columns = {}
    for column in pq.ParquetFile(path).schema_arrow.names:
        with pd.option_context("future.infer_string", True):
            values = pd.read_parquet(path, columns=[column])[column]
        columns[column] = _category(values) if column in categories else values
    frame = pd.DataFrame(columns)
    frame.columns = pd.Index(list(columns), dtype=object)  # the column names stay plain
    return frame


class ContractTables(MutableMapping):
    """A contract's tables by name, each read from its Parquet file the first time it is asked for (a table
    the contract lacks is ``None``); a table set by name replaces it, as in a dict.

    A notebook of the review then holds only the tables its analyses read: the time-to-value notebook reads
    no touchpoints (0.13 GB at 20,000 accounts), the journey paths, attribution and predictive journeys no
    usage (0.04 GB); its kernel peaked at 0.57 GB instead of 0.72 at 20,000 accounts. Iterating
    the names reads nothing; ``dict(tables)`` reads them all. A :meth:`copy` shares the tables read, not the
    tables set. A table whose file changed after loading (the folder replaced by a review run again) is a
    :class:`~journeylib.errors.SourceError` when first used, not a table of another contract.
    """

    def __init__(self, folder: Path, present: "list[str]", lifecycle):
        self._folder, self._lifecycle = folder, lifecycle
        # each file as it was when loaded: a table read later from a file replaced since (a review of the
        # same month run again) would mix two contracts
        self._files = {}
        for name in present:
            path = folder / f"{name}.parquet"
            self._files[name] = _identity(path)
            if self._files[name] is None:
                raise SourceError(f"{path}: missing from the validated contract {folder}; load the original source "
                                  "again")
        self._read = {}  # shared by copies: a file is read once
        self._names, self._set = list(TABLES), {}

    def __getitem__(self, name: str) -> "pd.DataFrame | None":
        if name in self._set:
            return self._set[name]
        if name not in self._names:
            raise KeyError(name)
        if name not in self._files:
            return None
        if name not in self._read:
            self._read[name] = _read_table(self._unchanged(name), name, self._lifecycle)
        return self._read[name]

    def _unchanged(self, name: str) -> Path:
        """The file of the table ``name``, checked to be the one loaded."""
        path = self._folder / f"{name}.parquet"
        if _identity(path) != self._files[name]:
            raise SourceError(f"{path}: changed or removed since the contract was loaded (a review run again?); "
                              "load it again")
        return path

    def _unread(self, name: str) -> bool:
        """True when the table is in a file and has been neither read nor set."""
        if name not in self._names:
            raise KeyError(name)
        return name not in self._set and name in self._files and name not in self._read

    def has(self, name: str) -> bool:
        """Whether the table is there (not None), without reading it."""
        if name in self._set:
            return self._set[name] is not None
        return name in self._names and name in self._files

    def read_once(self, name: str) -> "pd.DataFrame | None":
        """The table, as ``self[name]``; a table not read yet is read from its file and not kept (reading it
        again reads the file again)."""
        if self._unread(name):
            return _read_table(self._unchanged(name), name, self._lifecycle)
        return self[name]

    def account_rows(self, name: str, account_id: str) -> "pd.DataFrame | None":
        """The rows of one account (:func:`account_rows`). Of a table not read yet only the account's rows
        are read, and not kept: the account ids first, then each column's rows of that account."""
        if not self._unread(name) or account_id in ("nan", "<NA>"):  # a missing id's text: as in memory
            return _rows_in_memory(self[name], name, account_id)
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        path = self._unchanged(name)
        try:
            schema = pq.ParquetFile(path).schema_arrow
            field = schema.field(ACCOUNT_ID) if ACCOUNT_ID in schema.names else None
            if field is None or not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
                return _rows_in_memory(self[name], name, account_id)  # no ids, or not written as text
            ids = pq.read_table(path, columns=[ACCOUNT_ID]).column(0)
            mask = pc.fill_null(pc.equal(ids, pa.scalar(account_id, ids.type)), False)
            columns, categories = [], {}
            for column in schema.names:
                values = pq.read_table(path, columns=[column]).column(0)
                if column in CATEGORY_COLUMNS.get(name, ()):  # the categories of the whole column, as read whole
                    categories[column] = sorted(v for v in pc.unique(values).to_pylist() if v is not None)
                columns.append(values.filter(mask))
            rows = pa.Table.from_arrays(columns, schema=schema)
        except (OSError, ValueError) as exc:
            raise SourceError(f"{path}: not readable as a table of the validated contract ({exc}); load the "
                              "original source again") from None
        buffer = io.BytesIO()  # the rows written as the file holds them, then read as a whole table is
        pq.write_table(rows, buffer)
        buffer.seek(0)
        table = _read_table(buffer, name, self._lifecycle)
        for column, texts in categories.items():
            texts = pd.Index(np.asarray(texts, dtype=object), dtype=object)
            table[column] = pd.Categorical(table[column].to_numpy(dtype=object), categories=texts)
        return table

    def __setitem__(self, name: str, table: "pd.DataFrame | None") -> None:
        self._set[name] = table
        if name not in self._names:
            self._names.append(name)

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        self._names.remove(name)
        self._set.pop(name, None)

    def __iter__(self):
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def copy(self) -> "ContractTables":
        """The same tables: those read shared (not read again), those set copied by reference."""
        other = copy.copy(self)  # the same files and tables read
        other._names, other._set = list(self._names), dict(self._set)
        return other

    def __repr__(self) -> str:
        return f"ContractTables({str(self._folder)!r}, read={sorted(self._read)}, set={sorted(self._set)})"


def _identity(path: Path) -> "tuple[int, int, int, int] | None":
    """A file's device, inode, size and modification time (None when it is no file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _read_table(path: "Path | BinaryIO", name: str, lifecycle) -> pd.DataFrame:
    """One table of a contract as written (touchpoints' stage the lifecycle's ordered categorical)."""
    try:
        if name in ARROW_STRING_TABLES:
            table = _read_long_table(path, CATEGORY_COLUMNS.get(name, ()))
        else:
            table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's errors are OSError or ValueError (ArrowInvalid)
        raise SourceError(f"{path}: not readable as a table of the validated contract ({exc}); load the original "
                          "source again") from None
    if "stage" in table and name == "touchpoints":
        stage = table["stage"]  # the lifecycle's categories (object, in order), recoded at once
        if isinstance(stage.dtype, pd.CategoricalDtype):
            stage = stage.cat.set_categories(list(lifecycle.dtype.categories))
        table["stage"] = stage.astype(lifecycle.dtype)
    return table


def is_contract(path: "str | Path") -> bool:
    """True when ``path`` is a folder written by :func:`write_contract`."""
    return (Path(path) / CONTRACT_FILE).is_file()


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns Parquet cannot type (mixed values) as text; missing stays missing."""
    import pyarrow as pa

    out = frame
    for col in frame.columns:
        if frame[col].dtype == object:
            try:
                pa.array(frame[col], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                out = out.copy() if out is frame else out
                out[col] = frame[col].map(lambda v: v if v is None or (isinstance(v, float) and pd.isna(v))
                                          else str(v))
    return out


def write_contract(data: JourneyData, folder: "str | Path", *, include_pii: bool = False) -> Path:
    """Write the loaded data as a validated contract folder.

    Parameters
    ----------
    data : JourneyData
    folder : path
        Created if needed; files of an earlier contract there are replaced.
    include_pii : bool, default False
        Keep the personal columns (contact names and e-mails, :data:`~journeylib.schema.PII_COLUMNS`).
        No analysis reads them, so by default they are left out and the report folder holds none;
        ``contract.json`` lists what was left out. The fingerprint does not depend on them.

    Returns
    -------
    Path
        The folder. ``contract.json`` is written last, so a folder without it is incomplete.
    """
    folder = begin_contract(folder)
    rows, left_out = write_tables(folder, data.tables, include_pii=include_pii)
    report = data.report()
    _parquet_safe(data.quarantine).to_parquet(folder / "report" / "quarantine.parquet", index=False)
    write_report(folder, report)
    finish_contract(folder, as_of=data.as_of, as_of_inferred=report.as_of_inferred, tz=data.tz,
                    currency=data.currency, source=data.source, notes=data.notes, lifecycle=data.lifecycle, rows=rows,
                    rows_set_aside=len(data.quarantine), left_out=left_out, fingerprint=data.fingerprint())
    return folder


def begin_contract(folder: "str | Path") -> Path:
    """Create a contract folder (and its ``report/``); an earlier ``contract.json`` there is removed first, so
    the folder counts as incomplete until :func:`finish_contract`."""
    folder = Path(folder)
    (folder / "report").mkdir(parents=True, exist_ok=True)
    (folder / CONTRACT_FILE).unlink(missing_ok=True)
    return folder


def write_tables(folder: Path, tables: "dict[str, pd.DataFrame | None]", *, include_pii: bool = False
                 ) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Write the given tables (None: absent, its file removed); their row counts and the personal columns left
    out. Tables not in ``tables`` are left alone."""
    rows, left_out = {}, {}
    for name in TABLES:
        if name not in tables:
            continue
        frame, target = tables[name], folder / f"{name}.parquet"
        if frame is None:
            target.unlink(missing_ok=True)
            continue
        personal = [] if include_pii else [c for c in PII_COLUMNS.get(name, []) if c in frame.columns]
        if personal:
            frame = frame.drop(columns=personal)
            left_out[name] = personal
        frame.to_parquet(target, index=False)
        rows[name] = len(frame)
    return rows, left_out


def write_report(folder: Path, report: Any) -> None:
    """The load report's findings, counts and unmapped touchpoints into ``report/`` (the quarantine is written
    by the caller: it may be too large for one frame)."""
    for name in ("findings", "counts", "unmapped"):
        _parquet_safe(getattr(report, name)).to_parquet(folder / "report" / f"{name}.parquet", index=False)


def finish_contract(folder: Path, *, as_of: pd.Timestamp, as_of_inferred: bool, tz: str, currency: str, source: str,
                    notes: list[str], lifecycle: Any, rows: dict[str, int], rows_set_aside: int,
                    left_out: dict[str, list[str]], fingerprint: str) -> None:
    """Write ``contract.json``, last: from then on the folder reads back as a contract."""
    meta = {
        "format": FORMAT,
        "as_of": str(as_of.date()),
        "as_of_inferred": bool(as_of_inferred),
        "tz": tz,
        "currency": currency,
        "source": source,
        "notes": list(notes),
        "lifecycle": lifecycle.to_dict(),
        "rows": rows,
        "rows_set_aside": int(rows_set_aside),
        "personal_columns_left_out": left_out,
        "fingerprint": fingerprint,
    }
    (folder / CONTRACT_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_meta(folder: Path) -> dict:
    """A contract folder's ``contract.json`` (a clear error when it is missing, unreadable or of another format)."""
    try:
        meta = json.loads((folder / CONTRACT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{folder}: not a readable validated contract ({exc})") from None
    if meta.get("format") != FORMAT:
        raise SourceError(f"{folder / CONTRACT_FILE}: format {meta.get('format')!r} is not {FORMAT!r}; load the "
                          "original source again (journey review writes a new contract)")
    return meta


def read_contract(folder: "str | Path", as_of: Any = None, tables: "list[str] | None" = None) -> JourneyData:
    """Read a contract folder back as the JourneyData it was written from.

    Parameters
    ----------
    folder : path
        A folder written by :func:`write_contract`.
    as_of : date-like, optional
        At or before the contract's as_of (the data as known then); default: the contract's.
    tables : list of str, optional
        Read only these tables (the others are ``None``, as a table the source lacks), e.g. all
        but the touchpoints when an engine reads those; default: every table.

    Returns
    -------
    JourneyData
        Equal tables (without the personal columns left out), quarantine and report;
        ``fingerprint()`` equals the one recorded. Each table is read when first used
        (:class:`ContractTables`).
    """
    folder = Path(folder)
    meta = read_meta(folder)
    lifecycle = load_lifecycle(meta["lifecycle"])
    if tables is not None:
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise ParameterError(f"tables {unknown} are not contract tables; tables: {', '.join(TABLES)}")
    present = [name for name in TABLES if name in meta["rows"] and (tables is None or name in tables)]
    tables = ContractTables(folder, present, lifecycle)  # each table read when first used
    report = {name: pd.read_parquet(folder / "report" / f"{name}.parquet") for name in _REPORT}
    tz = meta["tz"]
    written_as_of = pd.Timestamp(meta["as_of"])
    result = ValidationResult(tables=tables, quarantine=report["quarantine"], findings=report["findings"],
                              counts=report["counts"], as_of=written_as_of, as_of_inferred=meta["as_of_inferred"],
                              unmapped=report["unmapped"], cutoff=as_of_cutoff(meta["as_of"], tz))
    data = JourneyData(result, lifecycle, source=meta["source"], tz=tz, currency=meta["currency"],
                       notes=meta["notes"])
    if as_of is None or as_of_cutoff(as_of, tz) == data.cutoff:
        return data
    if as_of_cutoff(as_of, tz) > data.cutoff:
        raise ParameterError(f"as_of {as_of} is after the validated contract's as_of {meta['as_of']} ({folder}); "
                             "load the original source with that as_of")
    from .history import data_as_of

    return data_as_of(data, as_of)


def contract_report(folder: "str | Path") -> LoadReport:
    """The load report of a contract folder, without reading its tables or its quarantine (which may be larger
    than memory when the contract was written in chunks)."""
    folder = Path(folder)
    meta = read_meta(folder)
    report = {name: pd.read_parquet(folder / "report" / f"{name}.parquet") for name in ("findings", "counts",
                                                                                        "unmapped")}
    return LoadReport(counts=report["counts"], findings=report["findings"], unmapped=report["unmapped"],
                      as_of=pd.Timestamp(meta["as_of"]), as_of_inferred=meta["as_of_inferred"], source=meta["source"],
                      notes=meta["notes"])


def quarantine_to_csv(folder: "str | Path", csv: "str | Path") -> None:
    """A contract's set-aside rows as one CSV (as ``data.quarantine.to_csv(csv, index=False)`` writes them), batch
    after batch: the quarantine of a contract written in chunks can be larger than memory."""
    import pyarrow.parquet as pq

    parquet = Path(folder) / "report" / "quarantine.parquet"
    with open(csv, "w", encoding="utf-8", newline="") as out:
        for i, batch in enumerate(pq.ParquetFile(parquet).iter_batches(batch_size=500_000)):
            batch.to_pandas().to_csv(out, index=False, header=i == 0)
        if out.tell() == 0:  # no set-aside row: the header alone
            pd.DataFrame(columns=pq.read_schema(parquet).names).to_csv(out, index=False)
