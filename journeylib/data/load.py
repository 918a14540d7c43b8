"""``journeylib.load``: read a source, map it, validate it, give a :class:`JourneyData`."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np
import pandas as pd

from ..config import load_config
from ..checks import given
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, PII_COLUMNS, ROW_COL, SOURCE_COL, TABLES
from ..stages import Lifecycle, load_lifecycle
from .diagnosis import diagnose
from .read import choose_source, read_source, resolve_source, source_label
from .report import LoadReport
from .validate import FINDING_COLUMNS, ValidationResult, validate

__all__ = ["JourneyData", "load"]


class JourneyData:
    """Validated journey tables with their quarantine and as_of date.

    Attributes
    ----------
    accounts, touchpoints, contacts, leads, opportunities, subscriptions, usage, tickets, surveys : DataFrame or None
        The used rows of each contract table (None when an optional table is absent).
        Timestamps are timezone-aware UTC; ``touchpoints.stage`` is an ordered categorical
        of the lifecycle's stage ids.
    quarantine : DataFrame
        One row per set-aside input row: table, source, row, reasons, message, severity, values.
    as_of : Timestamp
        The analysis date (timezone-naive day); ``cutoff`` is its last instant in UTC.
    lifecycle : Lifecycle
    source : str
        The source, passwords masked.
    """

    def __init__(self, result: ValidationResult, lifecycle: Lifecycle, source: str, tz: str = "UTC",
                 currency: str = "USD", notes: list[str] | None = None):
        self._result = result
        self.tables: dict[str, pd.DataFrame | None] = result.tables
        self.quarantine: pd.DataFrame = result.quarantine
        self.as_of: pd.Timestamp = result.as_of
        self.cutoff: pd.Timestamp = result.cutoff
        self.lifecycle = lifecycle
        self.source = source
        self.tz = tz
        self.currency = currency
        self.notes = list(notes or [])

    accounts = property(lambda self: self.tables["accounts"])
    touchpoints = property(lambda self: self.tables["touchpoints"])
    contacts = property(lambda self: self.tables["contacts"])
    leads = property(lambda self: self.tables["leads"])
    opportunities = property(lambda self: self.tables["opportunities"])
    subscriptions = property(lambda self: self.tables["subscriptions"])
    usage = property(lambda self: self.tables["usage"])
    tickets = property(lambda self: self.tables["tickets"])
    surveys = property(lambda self: self.tables["surveys"])

    def table(self, name: str) -> pd.DataFrame | None:
        """A table by name (clear error for a name outside the contract)."""
        if name not in TABLES:
            raise ParameterError(f"unknown table '{name}'{did_you_mean(name, TABLES)}; tables: {', '.join(TABLES)}")
        return self.tables[name]

    def report(self) -> LoadReport:
        """The load report: rows read/used/set aside per table, findings, unmapped touchpoints."""
        r = self._result
        return LoadReport(counts=r.counts, findings=r.findings, unmapped=r.unmapped, as_of=r.as_of,
                          as_of_inferred=r.as_of_inferred, source=self.source, notes=self.notes)

    def fingerprint(self) -> str:
        """A SHA-256 of the used tables and as_of: equal data gives an equal fingerprint,
        whichever format it was read from. Personal columns (contact names and e-mails,
        :data:`~journeylib.schema.PII_COLUMNS`) are left out: no analysis reads them, and the
        review's validated contract does not keep them."""
        h = hashlib.sha256(str(self.as_of.date()).encode())
        for name in TABLES:
            df = self.tables[name]
            if df is None:
                continue
            h.update(fingerprint_header(name, df.columns))
            h.update(row_hashes(name, df))
        return h.hexdigest()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}={len(df):,}" for n, df in self.tables.items() if df is not None)
        return (f"JourneyData(as_of={self.as_of.date()}, {sizes}, set_aside={len(self.quarantine):,}, "
                f"source={self.source!r})")


def _used_columns(name: str, columns) -> list[str]:
    return [c for c in columns if c not in PII_COLUMNS.get(name, [])]


def fingerprint_header(name: str, columns) -> bytes:
    """What a table adds to :meth:`JourneyData.fingerprint` before its rows: its name and (non-personal) columns."""
    return name.encode() + ",".join(map(str, _used_columns(name, columns))).encode()


def row_hashes(name: str, frame: pd.DataFrame, rows: int = 100_000) -> bytes:
    """What a table's rows add to :meth:`JourneyData.fingerprint`, row by row: the rows of a table read in
    parts give, part after part, the bytes of the whole table.

    Hashed ``rows`` at a time, and text by its distinct values: the same bytes as hashing every value as a
    Python object, without making one (at 100,000 accounts that took 27 s and 2.2 GB more). A part's text
    of distinct values (every event id) is made of Python objects, so parts are small: the fingerprint of the
    20,000-account contract peaked at +306 MB and took 2.0 s with parts of 1,000,000 rows, +81 MB and 1.6 s
    with 100,000 (100,000 accounts: +573 MB and 11.4 s, +392 MB and 9.6 s).
    """
    frame = frame[_used_columns(name, frame.columns)]
    parts = []
    for start in range(0, len(frame), rows):
        part = frame.iloc[start:start + rows]
        part = pd.DataFrame({col: _hashable(part[col]) for col in part.columns})
        parts.append(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
    return b"".join(parts)


def _hashable(column: pd.Series):
    """The column as pandas hashes it as objects: text and categories as a categorical of their distinct values
    as objects, which pandas hashes value by value, as it does an object column."""
    dtype = column.dtype
    if dtype == object or not (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)):
        return column
    codes, distinct = pd.factorize(column)
    return pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(distinct, dtype=object), dtype=object))


def _match_contract_names(raw: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    lowered = {name.lower(): name for name in raw}
    tables = {t: raw[lowered[t]] for t in TABLES if t in lowered}
    unused = [name for name in raw if name.lower() not in TABLES]
    return tables, unused


DERIVED_ACCOUNTS = "(derived from touchpoints)"


def _derive_accounts(tables: dict[str, pd.DataFrame], sources: dict[str, str]) -> dict | None:
    """Without an accounts table, one account per distinct ``touchpoints.account_id``: an event export alone
    is enough to see paths. Returns the finding that says so (None when nothing was derived)."""
    tp = tables.get("touchpoints")
    if tables.get("accounts") is not None or tp is None or ACCOUNT_ID not in tp.columns:
        return None
    ids = tp[ACCOUNT_ID].map(lambda v: str(v).strip() if pd.notna(v) and str(v).strip() else None).dropna()
    ids = pd.unique(ids)
    tables["accounts"] = pd.DataFrame({ACCOUNT_ID: pd.Series(ids, dtype=object), SOURCE_COL: DERIVED_ACCOUNTS,
                                       ROW_COL: range(1, len(ids) + 1)})
    sources["accounts"] = DERIVED_ACCOUNTS
    return {"table": "accounts", "column": ACCOUNT_ID, "code": "accounts_derived", "severity": "info",
            "rows": len(ids), "example_rows": "",
            "message": f"no accounts table: {len(ids):,} accounts derived from the touchpoints' account_id; they "
                       "have no name, industry, size, region or plan, so persona, firmographic and plan "
                       "analyses say what they lack",
            "suggestion": "export the accounts (or companies) table too"}


def _export_values(quarantine: pd.DataFrame, raw_tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Each set-aside row as the export wrote it (its own column names and text), found by source and row."""
    by_source = {str(frame[SOURCE_COL].iloc[0]): frame.set_index(ROW_COL) for frame in raw_tables.values()
                 if len(frame) and SOURCE_COL in frame}
    out = quarantine["values"].copy()
    for i, (source, row) in enumerate(zip(quarantine["source"], quarantine["row"])):
        frame = by_source.get(str(source))
        if frame is not None and row in frame.index:
            original = frame.loc[row].drop(labels=[SOURCE_COL], errors="ignore")
            out.iloc[i] = json.dumps({str(k): (None if pd.isna(v) else v) for k, v in original.items()},
                                     ensure_ascii=False, default=str)
    return out


def load(source: "str | os.PathLike | None" = None, *, mapping: Any = None, stages: Any = None, as_of: Any = None,
         tz: str | None = None, config: Any = None, dayfirst: bool | None = None,
         freshness_days: int | None = None) -> JourneyData:
    """Load journey data: read, map, validate, and set aside unusable rows.

    Parameters
    ----------
    source : str or path, optional
        A folder of CSV/CSV.GZ/Parquet files (table = file stem), a DuckDB file, a
        SQLAlchemy URL, or ``env:VAR`` naming an environment variable holding one of
        those. None or "" (how notebooks and the command line say "not given") loads
        the config's ``data``, else the bundled sample. A validated contract folder
        (written by the review, see :mod:`journeylib.data.contract`) is read back as it
        was written, without mapping or validating again.
    mapping : str, path or dict, optional
        A column mapping (YAML file, dict, or preset name ``"salesforce"`` /
        ``"hubspot"``) from the export's names to the data contract.
    stages : str, path, dict or Lifecycle, optional
        The lifecycle and touchpoint -> stage mapping; default: the ten-stage B2B lifecycle.
    as_of : str or date, optional
        Analysis date; nothing after the end of that day is used. Default: the last
        date in the data (the report says so).
    tz : str, default "UTC"
        Timezone of naive timestamps and of the as_of day.
    config : str, path, dict or Config, optional
        A ``journey.yml`` (or :func:`journeylib.config.load_config`'s result, not read
        again); explicit arguments override it.

    Returns
    -------
    JourneyData

    Raises
    ------
    JourneyDataError
        The source cannot be read, or a required table/column is missing (all listed).

    Examples
    --------
    >>> import journeylib
    >>> data = journeylib.load("data/sample", as_of="2026-10-31")  # doctest: +SKIP
    >>> data.report()  # doctest: +SKIP
    """
    cfg = load_config(given(config))
    source = choose_source(source, cfg)
    resolved = resolve_source(source)
    if os.path.isdir(resolved):
        from .contract import is_contract, read_contract

        if is_contract(resolved):  # validated once already (the review's contract): read it back as it was
            if given(mapping) is not None or given(stages) is not None:
                raise ParameterError(f"{resolved} is a validated contract: its mapping and stages were applied when "
                                     "it was written; load the original source to use other ones")
            return read_contract(resolved, as_of=given(as_of))
    mapping = given(mapping) if given(mapping) is not None else cfg.get("mapping")
    stages = given(stages) if given(stages) is not None else cfg.get("stages")
    as_of = given(as_of)
    tz = given(tz) or cfg.get("tz") or "UTC"
    dayfirst = bool(cfg.get("dayfirst", False)) if dayfirst is None else dayfirst
    freshness_days = int(cfg.get("freshness_days", 14)) if freshness_days is None else freshness_days
    try:
        pd.Timestamp("2026-01-01").tz_localize(tz)
    except Exception:
        raise ParameterError(f"tz {tz!r} is not a timezone name; use an IANA name such as 'UTC' or "
                             "'Europe/Berlin'") from None

    lifecycle = load_lifecycle(stages)
    # An env:VAR source is named by its variable, never by the URL it holds.
    where = source_label(source, resolved)
    notes: list[str] = []
    extra_findings: list[dict] = []
    if mapping is not None:
        from .mapping import load_mapping, read_mapped

        raw_source, raw_tables, tables = read_mapped(resolved, load_mapping(mapping), findings=extra_findings)
        sources = {}
        for t, df in tables.items():
            names = pd.unique(df["_source"]) if "_source" in df and len(df) else []
            sources[t] = "+".join(map(str, names)) or t
    else:
        raw_source = read_source(resolved)
        tables, unused = _match_contract_names(raw_source.tables)
        sources = {t: raw_source.names.get(name, name) for name in raw_source.tables
                   for t in [name.lower()] if t in TABLES}
        if unused:
            notes.append(f"not part of the data contract, not used: {', '.join(sorted(unused))}")
    notes = raw_source.notes + notes
    derived = _derive_accounts(tables, sources)
    if derived:
        extra_findings.append(derived)
    result = validate(tables, lifecycle=lifecycle, as_of=as_of, tz=tz, dayfirst=dayfirst,
                      freshness_days=freshness_days, sources=sources, where=where,
                      available=list(raw_source.tables))
    first = diagnose(result) + extra_findings  # likely causes first, then what mapping and derivation assumed
    if mapping is not None and len(result.quarantine):
        result.quarantine["values"] = _export_values(result.quarantine, raw_tables)
    if first:
        result.findings = pd.concat([pd.DataFrame(first, columns=FINDING_COLUMNS), result.findings], ignore_index=True)
    return JourneyData(result, lifecycle, source=where,
                       tz=tz, currency=str(cfg.get("currency", "USD")), notes=notes)
