"""Validation counts of touchpoints beyond memory: the load report without loading the touchpoints.

:func:`validation_report` gives the :class:`~journeylib.data.report.LoadReport` that
``journeylib.load(source).report()`` would give, for a folder whose touchpoints are a Parquet
file too large to load. The other tables are validated as :func:`~journeylib.data.load` does
(they are small). The touchpoints are read in chunks of ``chunk_rows`` rows and each chunk
goes through the same validation code (types, the as_of window, stages, references to the
accounts and contacts in use), so every row-level rule is the library's own, not a copy.
What spans chunks is done in DuckDB, on disk: duplicate event ids and repeated rows (the
first usable occurrence is kept, in read order, as :mod:`.validate` keeps it), and the last
used touchpoint (the freshness warning). The ambiguous day/month warning is summed over the
chunks and raised when any chunk shows the other order, as for the whole column.

Counts and findings (rows, example rows, messages) equal ``load``'s. Not given here: the
set-aside rows themselves (``load`` keeps them in ``data.quarantine``), the diagnosis of likely
causes that ``load`` puts first (it reads those rows), column mappings (map the export first),
and accounts derived from the touchpoints (give an accounts table).
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import given
from ..config import load_config
from ..errors import ParameterError, SourceError
from ..schema import EVENT_ID, ROW_COL, TABLES
from ..stages import load_lifecycle
from .load import _match_contract_names
from .read import _add_provenance, choose_source, read_source, resolve_source, source_label
from .report import LoadReport
from .timeparse import as_of_cutoff, date_order_parts
from .engines import DuckDBSession
from .validate import (_ORDER, DUPLICATE_ROW_MESSAGE, FINDING_COLUMNS, _as_of_day, _closing_findings, _coerce_table,
                       _count_row, _duplicates, _references, _settle, _stages, _window, check_structure, counts_frame,
                       date_order_finding, duplicate_id_messages, problem_finding)

__all__ = ["validation_report"]

TOUCHPOINTS = "touchpoints"


def validation_report(source: "str | Path | None" = None, *, as_of: Any = None, stages: Any = None,
                      tz: str | None = None, config: Any = None, dayfirst: bool | None = None,
                      freshness_days: int | None = None, chunk_rows: int = 1_000_000,
                      memory_limit: str = "2GB") -> LoadReport:
    """The load report of a source whose Parquet touchpoints are validated in chunks (beyond memory).

    Parameters
    ----------
    source : str or path, optional
        A folder of CSV/Parquet files (table = file stem) whose ``touchpoints`` is a Parquet file;
        ``env:VAR`` or the config's ``data`` as for :func:`~journeylib.data.load`.
    as_of : str or date
        Analysis date (required: the last date of 50M touchpoints is not guessed).
    stages, tz, config, dayfirst, freshness_days
        As for :func:`~journeylib.data.load`.
    chunk_rows : int, default 1,000,000
        Touchpoints validated at a time (peak memory grows with it).
    memory_limit : str, default "2GB"
        DuckDB's memory for the duplicate checks; beyond it DuckDB spills to a temporary folder.

    Returns
    -------
    LoadReport
        Its counts and findings equal those of ``load(source, ...).report()`` except the
        diagnosis findings ``load`` puts first.

    Raises
    ------
    ParameterError
        No as_of, a column mapping, or no accounts table.
    SourceError, JourneyDataError
        As :func:`~journeylib.data.load`: the source cannot be read, a required table or column is
        missing.

    Examples
    --------
    >>> validation_report("exports/2026-10", as_of="2026-10-31").counts  # doctest: +SKIP
    """
    cfg = load_config(given(config))
    if given(as_of) is None:
        raise ParameterError("as_of is required to validate touchpoints in chunks (e.g. as_of='2026-10-31')")
    if cfg.get("mapping"):
        raise ParameterError("validating in chunks reads tables already in the data contract's names; a column "
                             "mapping is not applied here (load the mapped source with journeylib.load)")
    source = choose_source(source, cfg)
    resolved = resolve_source(source)
    folder = Path(resolved)
    parquet = [p for p in sorted(folder.iterdir()) if p.is_file() and p.name.lower() == "touchpoints.parquet"] \
        if folder.is_dir() else []
    if not parquet:
        raise SourceError(f"{resolved}: validating in chunks needs a folder with touchpoints.parquet; for CSV "
                          "touchpoints or a database use journeylib.load")
    path = parquet[0]
    tz = given(tz) or cfg.get("tz") or "UTC"
    dayfirst = bool(cfg.get("dayfirst", False)) if dayfirst is None else dayfirst
    freshness_days = int(cfg.get("freshness_days", 14)) if freshness_days is None else freshness_days
    lifecycle = load_lifecycle(given(stages) if given(stages) is not None else cfg.get("stages"))
    where = source_label(source, resolved)

    raw_source = read_source(resolved, tables={name for name in TABLES if name != TOUCHPOINTS})
    tables, unused = _match_contract_names(raw_source.tables)
    sources = {t: raw_source.names.get(name, name) for name in raw_source.tables for t in [name.lower()]
               if t in TABLES}
    sources[TOUCHPOINTS] = path.name
    if tables.get("accounts") is None:
        raise ParameterError(f"{where} has no accounts table: validating in chunks needs one (journeylib.load "
                             "derives the accounts from the touchpoints' account_id)")
    chunks = _chunks(path, chunk_rows)
    first = next(chunks, None)
    head = first if first is not None else _add_provenance(_empty_frame(path), path.name)
    check_structure({**tables, TOUCHPOINTS: head}, sources, where, [*raw_source.tables, path.stem])
    works = {name: _coerce_table(name, tables[name], tz, dayfirst) for name in _ORDER
             if name != TOUCHPOINTS and tables.get(name) is not None}
    as_of_day, _ = _as_of_day(as_of, works, tz)
    cutoff = as_of_cutoff(as_of_day, tz)
    for w in works.values():
        _window(w, cutoff)
        _duplicates(w)

    used_keys: dict[str, set] = {}
    late_keys: dict[str, set] = {}
    findings, counts, last = [], [], {}
    unmapped = pd.DataFrame(columns=["touchpoint", "rows", "closest"])
    for name in _ORDER:
        if name == TOUCHPOINTS:
            chunked = _Touchpoints(lifecycle, cutoff, tz, dayfirst, memory_limit)
            try:
                for chunk in itertools.chain([] if first is None else [first], chunks):
                    chunked.add(chunk, used_keys, late_keys)
                count, fnd, last_used = chunked.settle(sources)
            finally:
                chunked.close()
            counts.append(count)
            findings.extend(fnd)
            unmapped = chunked.unmapped_table()
            if last_used is not None:
                last[TOUCHPOINTS] = last_used
            continue
        w = works.get(name)
        if w is None:
            continue
        used, quarantine, fnd = _settle(w, used_keys, late_keys)
        findings.extend(fnd)
        counts.append(_count_row(name, sources, len(w.raw), len(used), len(quarantine),
                                 int((quarantine["severity"] == "error").sum())))
        if name == "usage" and not used.empty:
            last["usage"] = used[TABLES["usage"].time].max()
    findings.extend(_closing_findings(False, as_of_day, cutoff, freshness_days,
                                      {name: last[name] for name in (TOUCHPOINTS, "usage") if name in last}))
    notes = list(raw_source.notes)
    if unused:
        notes.append(f"not part of the data contract, not used: {', '.join(sorted(unused))}")
    return LoadReport(counts=counts_frame(counts), findings=pd.DataFrame(findings, columns=FINDING_COLUMNS),
                      unmapped=unmapped, as_of=as_of_day, as_of_inferred=False, source=where, notes=notes)


def _empty_frame(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_schema(path).empty_table().to_pandas()


def _chunks(path: Path, chunk_rows: int):
    """The touchpoints in chunks, as :func:`~journeylib.data.read.read_source` reads a Parquet file (provenance:
    the file name and the 1-based row in it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if int(chunk_rows) < 1:
        raise ParameterError(f"chunk_rows must be at least 1, got {chunk_rows}")
    try:
        reader = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise SourceError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    read = 0
    for batch in reader.iter_batches(batch_size=int(chunk_rows)):
        frame = _add_provenance(pa.Table.from_batches([batch]).to_pandas(), path.name)
        frame[ROW_COL] += read
        read += len(frame)
        yield frame


class _Touchpoints:
    """The touchpoints' validation, chunk by chunk: row-level problems counted in Python, what spans
    chunks (duplicates, the last used time) in DuckDB on disk."""

    def __init__(self, lifecycle, cutoff: pd.Timestamp, tz: str, dayfirst: bool, memory_limit: str):
        self.lifecycle, self.cutoff, self.tz, self.dayfirst = lifecycle, cutoff, tz, dayfirst
        self.session = DuckDBSession(memory_limit)  # a database file in a temporary folder, spilling there
        self.con = self.session.con
        self.con.execute("CREATE TABLE usable (row BIGINT, k VARCHAR, bad BOOLEAN, err BOOLEAN, ts BIGINT)")
        self.keyless_columns: list[str] | None = None
        self.read = self.bad = self.errors = 0
        self.problems: dict[tuple, list] = {}  # (column, code, severity) -> [rows, example rows, messages]
        self.before, self.after = [], []  # keys in the order validate adds them: before and after duplicates
        self.info: dict[tuple, dict] = {}
        self.unmapped: Counter = Counter()
        self.dates: dict[str, list] = {}  # column -> [ambiguous rows, example rows, first example, other order]

    def close(self) -> None:
        self.session.close()

    def add(self, raw: pd.DataFrame, used_keys: dict[str, set], late_keys: dict[str, set]) -> None:
        """Validate one chunk (rows numbered in the file) against the accounts and contacts in use."""
        w = _coerce_table(TOUCHPOINTS, raw, self.tz, self.dayfirst)
        w.info = [f for f in w.info if f["code"] != "date_order"]  # a column-wide warning: summed below
        for col in w.spec.columns:
            if col.kind == "time" and col.name in raw.columns:
                self._dates(col.name, raw)
        _window(w, self.cutoff)
        names = _stages(w, self.lifecycle)
        self.unmapped.update(dict(zip(names["touchpoint"], names["rows"].astype(int))))
        usable = ~w.probs.errors_mask()
        before = len(w.probs.entries)
        keys = w.typed[EVENT_ID] if EVENT_ID in w.typed else pd.Series(None, index=w.typed.index, dtype=object)
        keyless = usable & keys.isna().to_numpy()
        self._keyless(w.typed.loc[keyless], w.raw[ROW_COL].to_numpy()[keyless])
        _references(w, used_keys, late_keys)
        for i, (code, column, mask, messages, severity) in enumerate(w.probs.entries):
            key = (column, code, severity)
            if key not in self.problems:
                (self.before if i < before else self.after).append(key)
            seen = self.problems.setdefault(key, [0, [], []])
            seen[0] += int(mask.sum())
            seen[1].extend(w.raw[ROW_COL].to_numpy()[mask][:5 - len(seen[1])])
            seen[2].extend(messages.head(3 - len(seen[2])).tolist())
        for f in w.info:
            key = (f["column"], f["code"], f["severity"])
            if key in self.info:  # the message counts the first chunk's rows: it is rewritten with the total
                self.info[key]["rows"] += f["rows"]
                rows = [r for r in f"{self.info[key]['example_rows']}, {f['example_rows']}".split(", ") if r]
                self.info[key]["example_rows"] = ", ".join(rows[:5])
            else:
                self.info[key] = dict(f)
        bad, err = w.probs.any_mask(), w.probs.errors_mask()
        self.read += len(raw)
        self.bad += int(bad.sum())
        self.errors += int(err.sum())
        ts = w.typed[TABLES[TOUCHPOINTS].time]
        stored = pd.DataFrame({"row": w.raw[ROW_COL].to_numpy()[usable].astype(np.int64),
                               "k": keys[usable].to_numpy(dtype=object), "bad": bad[usable], "err": err[usable],
                               "ts": ts[usable].array.asi8 if len(ts) else np.zeros(0, dtype=np.int64)})
        self.con.register("chunk", stored)
        self.con.execute("INSERT INTO usable SELECT row, k, bad, err, ts FROM chunk")
        self.con.unregister("chunk")

    def _dates(self, column: str, raw: pd.DataFrame) -> None:
        ambiguous, other = date_order_parts(raw[column], self.dayfirst)
        seen = self.dates.setdefault(column, [0, [], None, False])
        seen[0] += int(ambiguous.sum())
        seen[1].extend(raw[ROW_COL].to_numpy()[ambiguous][:5 - len(seen[1])])
        if seen[2] is None and ambiguous.any():
            seen[2] = str(raw[column][ambiguous].iloc[0]).strip()
        seen[3] = seen[3] or other

    def _keyless(self, typed: pd.DataFrame, rows: np.ndarray) -> None:
        """Store usable rows without an event id, every value as exact text, for the repeated-row check."""
        columns = [c for c in typed.columns if c != EVENT_ID]
        if self.keyless_columns is None:
            self.keyless_columns = columns
            listed = ", ".join(f'c{i} VARCHAR' for i in range(len(columns)))
            self.con.execute(f"CREATE TABLE keyless (row BIGINT{', ' + listed if listed else ''})")
        if not len(typed):
            return
        frame = pd.DataFrame({"row": rows.astype(np.int64)})
        for i, c in enumerate(columns):
            frame[f"c{i}"] = _exact_text(typed[c]).to_numpy()
        self.con.register("chunk", frame)
        self.con.execute("INSERT INTO keyless SELECT * FROM chunk")
        self.con.unregister("chunk")

    def settle(self, sources: dict[str, str]) -> tuple[dict, list[dict], pd.Timestamp | None]:
        """The touchpoints' count row, findings and last used time, once every chunk was added."""
        cols = ", ".join(f"c{i}" for i in range(len(self.keyless_columns or [])))
        whole_row = (f"""UNION ALL SELECT row, 'duplicate_row' AS code, NULL AS k FROM (
                           SELECT row, row_number() OVER (PARTITION BY {cols} ORDER BY row) AS i FROM keyless) t
                         WHERE i > 1""" if cols else "")
        self.con.execute(f"""
            CREATE TABLE dups AS
            SELECT row, 'duplicate_id' AS code, k FROM (
              SELECT row, k, row_number() OVER (PARTITION BY k ORDER BY row) AS i FROM usable WHERE k IS NOT NULL) t
            WHERE i > 1 {whole_row}""")
        extra_bad, extra_err = self.con.execute(
            "SELECT count(*) FILTER (WHERE NOT u.bad), count(*) FILTER (WHERE NOT u.err) "
            "FROM dups d JOIN usable u USING (row)").fetchone()
        findings = [self._problem(key) for key in self.before]
        spec = TABLES[TOUCHPOINTS]
        for code, column in (("duplicate_id", spec.key), ("duplicate_row", "")):
            n = self.con.execute("SELECT count(*) FROM dups WHERE code = ?", [code]).fetchone()[0]
            if n:
                first = self.con.execute("SELECT row, k FROM dups WHERE code = ? ORDER BY row LIMIT 5",
                                         [code]).fetchall()
                examples = (duplicate_id_messages(column, pd.Series([k for _, k in first[:3]])).tolist()
                            if column else [DUPLICATE_ROW_MESSAGE] * len(first[:3]))
                findings.append(problem_finding(TOUCHPOINTS, column, code, "error", n, [r for r, _ in first],
                                                examples))
        findings += [self._problem(key) for key in self.after]
        for column, (n, rows, example, other) in self.dates.items():
            if other and n:
                findings.append(date_order_finding(TOUCHPOINTS, column, self.dayfirst, n, rows, example))
        for f in self.info.values():
            f["message"] = re.sub(r"^\d+", str(f["rows"]), f["message"])
            findings.append(f)
        set_aside, errors = self.bad + int(extra_bad), self.errors + int(extra_err)
        last = self.con.execute("SELECT max(ts) FROM usable WHERE NOT bad AND row NOT IN (SELECT row FROM dups)"
                                ).fetchone()[0]
        count = _count_row(TOUCHPOINTS, sources, self.read, self.read - set_aside, set_aside, errors)
        return count, findings, None if last is None else pd.Timestamp(int(last), tz="UTC")

    def _problem(self, key: tuple) -> dict:
        n, rows, messages = self.problems[key]
        column, code, severity = key
        return problem_finding(TOUCHPOINTS, column, code, severity, n, rows, messages)

    def unmapped_table(self) -> pd.DataFrame:
        """Touchpoint names with no stage, most rows first, as ``load`` reports them."""
        if not self.unmapped:
            return pd.DataFrame(columns=["touchpoint", "rows", "closest"])
        counts = pd.Series(self.unmapped).sort_values(ascending=False, kind="stable")
        return pd.DataFrame({"touchpoint": counts.index, "rows": counts.to_numpy(),
                             "closest": [", ".join(self.lifecycle.closest_touchpoints(n)) for n in counts.index]})


def _exact_text(values: pd.Series) -> pd.Series:
    """Values as text that is equal exactly when the values are (missing stays missing): times as
    nanoseconds, numbers by ``repr``, the rest by ``str``."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(np.where(values.isna(), None, values.array.asi8.astype(str)), index=values.index, dtype=object)
    out = values.astype(object)
    return out.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else
                   (repr(v) if isinstance(v, (float, np.floating)) else str(v)))
