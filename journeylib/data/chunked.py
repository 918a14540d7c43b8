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
diagnosis of likely causes that ``load`` puts first (it reads the set-aside rows), column mappings
(map the export first), and accounts derived from the touchpoints (give an accounts table).

:func:`write_contract_in_chunks` goes on to write the validated contract (loading beyond memory):
the used and set-aside rows of each chunk pass through Parquet parts on disk and are streamed into
the contract once the duplicates are known, so the folder equals the one written from ``load``.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import given
from ..config import load_config
from ..errors import ParameterError, SourceError
from ..schema import EVENT_ID, ROW_COL, TABLES
from ..stages import load_lifecycle
from .load import _match_contract_names, fingerprint_header, row_hashes
from .read import _add_provenance, choose_source, read_source, resolve_source, source_label
from .report import LoadReport
from .timeparse import as_of_cutoff, date_order_parts
from .engines import DuckDBSession
from .validate import (_ORDER, DUPLICATE_ROW_MESSAGE, FINDING_COLUMNS, QUARANTINE_COLUMNS, _as_of_day,
                       _closing_findings, _coerce_table, _count_row, _duplicates, _references, _set_aside, _settle,
                       _stages, _window, check_structure, counts_frame, date_order_finding, duplicate_id_messages,
                       problem_finding, quarantine_values, reasons_and_messages)

__all__ = ["validation_report", "write_contract_in_chunks"]

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
    run = _validate_in_chunks(source, as_of=as_of, stages=stages, tz=tz, config=config, dayfirst=dayfirst,
                              freshness_days=freshness_days, chunk_rows=chunk_rows, memory_limit=memory_limit)
    return run.report


def write_contract_in_chunks(folder: "str | Path", source: "str | Path | None" = None, *, as_of: Any = None,
                             stages: Any = None, tz: str | None = None, config: Any = None,
                             dayfirst: bool | None = None, freshness_days: int | None = None,
                             chunk_rows: int = 1_000_000, memory_limit: str = "2GB", include_pii: bool = False) -> Path:
    """Load beyond memory: validate as :func:`validation_report` does and write the validated contract.

    The folder is what :func:`~journeylib.data.contract.write_contract` writes for
    ``journeylib.load(source, ...)``, and ``journeylib.load(folder)`` reads it back: the same used rows
    in every table (the touchpoints in file order, duplicates removed as ``load`` removes them), the same
    quarantine (every set-aside row with its reasons, messages and read values), counts and fingerprint.
    The touchpoints never are in memory at once: each chunk's used and set-aside rows go to temporary
    Parquet parts, and once DuckDB has found the duplicates across chunks the parts are streamed into
    ``touchpoints.parquet`` and ``report/quarantine.parquet``. The findings lack only the diagnosis
    ``load`` puts first (see :func:`validation_report`).

    Parameters
    ----------
    folder : path
        The contract folder to write (created; an earlier contract there is replaced).
    source, as_of, stages, tz, config, dayfirst, freshness_days, chunk_rows, memory_limit
        As for :func:`validation_report`.
    include_pii : bool, default False
        As for :func:`~journeylib.data.contract.write_contract`.

    Returns
    -------
    Path
        The folder; ``contract.json`` is written last.

    Examples
    --------
    >>> write_contract_in_chunks("contract/", "exports/2026-10", as_of="2026-10-31")  # doctest: +SKIP
    >>> data = journeylib.load("contract/")  # doctest: +SKIP
    """
    import tempfile

    from .contract import begin_contract, finish_contract, write_report, write_tables

    folder = begin_contract(folder)
    with tempfile.TemporaryDirectory(prefix="journeylib-parts-") as parts:
        run = _validate_in_chunks(source, as_of=as_of, stages=stages, tz=tz, config=config, dayfirst=dayfirst,
                                  freshness_days=freshness_days, chunk_rows=chunk_rows, memory_limit=memory_limit,
                                  parts=Path(parts))
        try:
            rows, left_out = write_tables(folder, {**run.used, TOUCHPOINTS: None}, include_pii=include_pii)
            hashes = Path(parts) / "touchpoint-hashes.bin"
            with open(hashes, "wb") as out:
                rows[TOUCHPOINTS] = run.touchpoints.write(folder / f"{TOUCHPOINTS}.parquet", out)
            set_aside = _write_quarantine(folder / "report" / "quarantine.parquet", run)
        finally:
            run.touchpoints.close()
        write_report(folder, run.report)
        finish_contract(folder, as_of=run.report.as_of, as_of_inferred=False, tz=run.tz, currency=run.currency,
                        source=run.report.source, notes=run.report.notes, lifecycle=run.lifecycle, rows=rows,
                        rows_set_aside=set_aside, left_out=left_out,
                        fingerprint=_fingerprint(run.report.as_of, run.used, hashes, run.touchpoints.columns))
    return folder


@dataclass
class _Run:
    """What validating in chunks found: the report, the other tables' used rows and quarantine, and the
    touchpoints (with their parts when written)."""
    report: LoadReport
    used: dict[str, pd.DataFrame | None]
    quarantine: dict[str, pd.DataFrame]
    touchpoints: "_Touchpoints"
    lifecycle: Any
    tz: str
    currency: str


def _validate_in_chunks(source, *, as_of, stages, tz, config, dayfirst, freshness_days, chunk_rows, memory_limit,
                        parts: Path | None = None) -> _Run:
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
    kept_used: dict[str, pd.DataFrame | None] = {name: None for name in TABLES if name != TOUCHPOINTS}
    kept_quarantine: dict[str, pd.DataFrame] = {}
    unmapped = pd.DataFrame(columns=["touchpoint", "rows", "closest"])
    for name in _ORDER:
        if name == TOUCHPOINTS:
            chunked = _Touchpoints(lifecycle, cutoff, tz, dayfirst, memory_limit, path, parts)
            try:
                for chunk in itertools.chain([] if first is None else [first], chunks):
                    chunked.add(chunk, used_keys, late_keys)
                count, fnd, last_used = chunked.settle(sources)
            except BaseException:
                chunked.close()
                raise
            if parts is None:  # written contracts still read the duplicates found
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
        kept_used[name], kept_quarantine[name] = (used, quarantine) if parts is not None else (None, None)
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
    report = LoadReport(counts=counts_frame(counts), findings=pd.DataFrame(findings, columns=FINDING_COLUMNS),
                        unmapped=unmapped, as_of=as_of_day, as_of_inferred=False, source=where, notes=notes)
    return _Run(report, kept_used, kept_quarantine, chunked, lifecycle, tz, str(cfg.get("currency", "USD")))


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

    def __init__(self, lifecycle, cutoff: pd.Timestamp, tz: str, dayfirst: bool, memory_limit: str, path: Path,
                 parts: Path | None = None):
        self.lifecycle, self.cutoff, self.tz, self.dayfirst = lifecycle, cutoff, tz, dayfirst
        self.path, self.parts = path, parts  # parts: where each chunk's used and set-aside rows go (when written)
        self.chunk_rows: list[tuple[int, int]] = []  # first and last row number of each chunk written
        self.columns: list[str] | None = None
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
        if self.parts is not None and len(raw):  # (a file without rows is refused by check_structure)
            self._write_part(w, before)

    def _write_part(self, w, before: int) -> None:
        """This chunk's used rows (with their row numbers) and set-aside rows, as Parquet parts. A usable row set
        aside (out of window) may still turn out a duplicate: its reasons and messages are kept split at the
        place where ``validate`` checks duplicates, to put that reason in its place later."""
        used, quarantine, _ = _set_aside(w)
        self.columns = self.columns or list(used.columns)
        used[ROW_COL] = w.raw[ROW_COL].to_numpy()[~w.probs.any_mask()].astype(np.int64)
        idx = np.flatnonzero(w.probs.any_mask())
        for half, entries in (("before", w.probs.entries[:before]), ("after", w.probs.entries[before:])):
            reasons, messages = reasons_and_messages(entries, idx)
            quarantine[f"_reasons_{half}"], quarantine[f"_message_{half}"] = reasons.to_numpy(), messages.to_numpy()
        n = len(self.chunk_rows)
        used.to_parquet(self.parts / f"used-{n:06d}.parquet", index=False)
        quarantine.to_parquet(self.parts / f"quarantine-{n:06d}.parquet", index=False)
        rows = w.raw[ROW_COL].to_numpy()
        self.chunk_rows.append((int(rows[0]), int(rows[-1])))

    def write(self, target: Path, hashes) -> int:
        """Stream the used rows of every part, duplicates left out, into ``target``; write each row's
        fingerprint hash to ``hashes``. Returns the rows written."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        schemas = []  # of the rows kept: a column whose only values were in duplicates stays without a type
        for n, (first, last) in enumerate(self.chunk_rows):
            part, dups = self.parts / f"used-{n:06d}.parquet", self._dups(first, last)
            if dups.empty:
                schemas.append(pq.read_schema(part))
            else:
                used = pd.read_parquet(part)
                kept = used.loc[~used[ROW_COL].isin(dups["row"]).to_numpy()]
                schemas.append(pa.Table.from_pandas(kept, preserve_index=False).schema)
        schema = _common_schema(schemas, drop=ROW_COL)
        written = 0
        with pq.ParquetWriter(target, schema) as writer:
            for n, (first, last) in enumerate(self.chunk_rows):
                used = pd.read_parquet(self.parts / f"used-{n:06d}.parquet")
                dup = used[ROW_COL].isin(self._dups(first, last)["row"]).to_numpy()
                kept = used.loc[~dup].drop(columns=ROW_COL).reset_index(drop=True)
                if "stage" in kept:
                    kept["stage"] = kept["stage"].astype(self.lifecycle.dtype)
                writer.write_table(pa.Table.from_pandas(kept, preserve_index=False).cast(schema))
                hashes.write(row_hashes(TOUCHPOINTS, kept))
                written += len(kept)
        return written

    def quarantine_parts(self):
        """The set-aside touchpoints, part after part in row order, duplicates found across chunks included."""
        import pyarrow.parquet as pq

        spec = TABLES[TOUCHPOINTS]
        groups = pq.ParquetFile(self.path)
        starts = np.cumsum([0] + [groups.metadata.row_group(i).num_rows for i in range(groups.num_row_groups)])
        for n, (first, last) in enumerate(self.chunk_rows):
            q = pd.read_parquet(self.parts / f"quarantine-{n:06d}.parquet")
            dups = self._dups(first, last)
            if dups.empty:
                yield q[QUARANTINE_COLUMNS]
                continue
            message = pd.Series(DUPLICATE_ROW_MESSAGE, index=dups.index, dtype=object)
            keyed = dups["code"] == "duplicate_id"
            message[keyed] = duplicate_id_messages(spec.key, dups.loc[keyed, "k"]).to_numpy()
            dups = dups.assign(message=message).set_index("row")
            known = q["row"].isin(dups.index).to_numpy()  # set aside already (out of window): one more reason
            hit = dups.loc[q.loc[known, "row"]]
            q.loc[known, "reasons"] = [";".join(dict.fromkeys(c for c in (rb, code, *ra.split(";")) if c))
                                       for rb, code, ra in zip(q.loc[known, "_reasons_before"], hit["code"],
                                                               q.loc[known, "_reasons_after"])]
            q.loc[known, "message"] = ["; ".join(m for m in (mb, msg, ma) if m)
                                       for mb, msg, ma in zip(q.loc[known, "_message_before"], hit["message"],
                                                              q.loc[known, "_message_after"])]
            q.loc[known, "severity"] = "error"
            new = dups.loc[~dups.index.isin(q["row"])]
            raw = _raw_rows(groups, starts, new.index.to_numpy())
            added = pd.DataFrame({"table": TOUCHPOINTS, "source": self.path.name, "row": new.index.to_numpy(),
                                  "reasons": new["code"].to_numpy(), "message": new["message"].to_numpy(),
                                  "severity": "error", "values": quarantine_values(raw)}, columns=QUARANTINE_COLUMNS)
            yield pd.concat([q[QUARANTINE_COLUMNS], added], ignore_index=True).sort_values("row", kind="stable")

    def _dups(self, first: int, last: int) -> pd.DataFrame:
        return self.con.execute("SELECT row, code, k FROM dups WHERE row BETWEEN ? AND ? ORDER BY row",
                                [first, last]).df()

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


def _raw_rows(groups, starts: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
    """Rows of the touchpoints file by row number (1-based), read again from their row groups."""
    frames = []
    for g in np.unique(np.searchsorted(starts, rows - 1, side="right") - 1):
        table = groups.read_row_group(int(g)).to_pandas()
        inside = rows[(rows - 1 >= starts[g]) & (rows - 1 < starts[g + 1])]
        frames.append(table.iloc[inside - 1 - starts[g]])
    return pd.concat(frames) if frames else pd.DataFrame()


def _common_schema(schemas: list, drop: str):
    """One Arrow schema for parts written apart: each column's type is its first non-null one."""
    import pyarrow as pa

    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for field in schema:
            if field.name != drop and (field.name not in fields or pa.types.is_null(fields[field.name].type)):
                fields[field.name] = field
    return pa.schema(list(fields.values()))


def _write_quarantine(target: Path, run: _Run) -> int:
    """The quarantine of every table, in ``load``'s order (table, then row), streamed into one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("table", pa.string()), ("source", pa.string()), ("row", pa.int64()),
                        ("reasons", pa.string()), ("message", pa.string()), ("severity", pa.string()),
                        ("values", pa.string())])
    written = 0
    with pq.ParquetWriter(target, schema) as writer:
        for name in _ORDER:
            frames = run.touchpoints.quarantine_parts() if name == TOUCHPOINTS else [run.quarantine.get(name)]
            for frame in frames:
                if frame is not None and len(frame):
                    frame = frame.assign(source=frame["source"].astype(str))
                    writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
                    written += len(frame)
    return written


def _fingerprint(as_of: pd.Timestamp, used: dict, hashes: Path, tp_columns: list[str] | None) -> str:
    """:meth:`JourneyData.fingerprint` of the contract, the touchpoints' row hashes read back from ``hashes``."""
    import hashlib

    h = hashlib.sha256(str(as_of.date()).encode())
    for name in TABLES:
        if name == TOUCHPOINTS:
            h.update(fingerprint_header(name, tp_columns or []))
            with open(hashes, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        elif used.get(name) is not None:
            h.update(fingerprint_header(name, used[name].columns))
            h.update(row_hashes(name, used[name]))
    return h.hexdigest()


def _exact_text(values: pd.Series) -> pd.Series:
    """Values as text that is equal exactly when the values are (missing stays missing): times as
    nanoseconds, numbers by ``repr``, the rest by ``str``."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.Series(np.where(values.isna(), None, values.array.asi8.astype(str)), index=values.index, dtype=object)
    out = values.astype(object)
    return out.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else
                   (repr(v) if isinstance(v, (float, np.floating)) else str(v)))
