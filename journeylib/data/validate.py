"""Validation of the data contract, in one place: structure checks, type
coercion, and the quarantine of rows that cannot be used.

Rules (README, "The data contract in short"):

* A missing required table or column is one :class:`~journeylib.errors.JourneyDataError`
  listing everything missing, with "did you mean" for near names.
* Every other problem sets the row aside: one quarantine row per unused input
  row, whatever the number of problems in it, with ``table``, ``source``, ``row``
  (1-based, read order), ``reasons`` (codes joined by ``;``), ``message``,
  ``severity`` (``error`` or ``out_of_window``) and the original ``values`` (JSON).
  ``rows read = rows used + rows set aside`` for every table.
* Duplicates keep the first usable occurrence. Touchpoints are duplicates when their
  ``event_id`` repeats, or, without one, when the whole row repeats.
* Rows whose own time is after ``as_of`` are out of window. Later values inside a
  used row (a close date, an end date, a resolution) are not known at ``as_of`` and
  are cleared: an opportunity closed after ``as_of`` is open.
* References are checked in dependency order against the rows actually used, so a
  touchpoint of an account that was set aside is set aside too.

Reason codes: ``missing_id``, ``missing_value``, ``bad_timestamp``, ``bad_number``,
``negative_value``, ``out_of_range``, ``unknown_value``, ``end_before_start``,
``duplicate_id``, ``duplicate_row``, ``unknown_account``, ``unknown_contact``,
``unknown_opportunity``, ``unknown_stage``, ``unmapped_touchpoint``, ``out_of_window``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import FreshnessWarning, JourneyDataError, did_you_mean
from ..schema import (ACCOUNT_ID, CHANNEL, PARENT_ACCOUNT_ID, ROW_COL, SOURCE_COL, STAGE, SURVEY_SCORE_BOUNDS, TABLES,
                      TOUCHPOINT, Column, Table)
from ..stages import Lifecycle
from .read import by_position
from .timeparse import as_of_cutoff, date_order_conflict, parse_times

__all__ = ["validate", "check_structure", "ValidationResult", "QUARANTINE_COLUMNS", "FINDING_COLUMNS", "SUGGESTIONS"]

QUARANTINE_COLUMNS = ["table", "source", "row", "reasons", "message", "severity", "values"]
FINDING_COLUMNS = ["table", "column", "code", "severity", "rows", "example_rows", "message", "suggestion"]
# Reference checks run in this order, so set-aside rows cascade to the rows that refer to them.
_ORDER = ["accounts", "contacts", "opportunities", "leads", "touchpoints", "subscriptions", "usage", "tickets", "surveys"]
_REF_CODE = {"accounts": "unknown_account", "contacts": "unknown_contact", "opportunities": "unknown_opportunity"}

SUGGESTIONS = {
    "missing_id": "every row needs its identifier; fill it in the export or remove the row",
    "missing_value": "the column is required; fill it in the export",
    "bad_timestamp": "use ISO 8601 (2026-10-31T14:05:00+00:00), a date (2026-10-31) or epoch seconds/milliseconds; "
                     "for 31/10/2026 set dayfirst: true in journey.yml",
    "bad_number": "use plain numbers with a dot as decimal separator (1234.5)",
    "negative_value": "amounts, costs, counts and durations cannot be negative; check the export",
    "out_of_range": "check the scale of the column (NPS 0-10, CSAT 1-5, CES 1-7)",
    "unknown_value": "map the export's values to the allowed ones in your column mapping (values:)",
    "end_before_start": "an end before its start usually means swapped or mis-mapped columns",
    "duplicate_id": "the first row with this id is kept; deduplicate the export",
    "duplicate_row": "the first copy is kept; deduplicate the export",
    "unknown_account": "export every account the other tables refer to (or it was itself set aside: see accounts)",
    "unknown_contact": "export every contact the other tables refer to (or it was itself set aside: see contacts)",
    "contact_cleared": "export every contact the touchpoints refer to, to keep who was engaged",
    "date_order": "set dayfirst in journey.yml (dayfirst: true for 31/10/2026), or export ISO dates (2026-10-31)",
    "unknown_opportunity": "export every opportunity the leads refer to",
    "unknown_stage": "use a stage id or label of the lifecycle, or leave stage empty to map by touchpoint",
    "unmapped_touchpoint": "add the touchpoint name to the 'touchpoints:' section of your stage file (journey stages "
                           "init SOURCE writes a starter file with every name)",
    "out_of_window": "rows after as_of are not used; pass a later as_of to include them",
    "stale_data": "the export may be incomplete for recent weeks; re-export, or review an earlier month",
    "as_of_inferred": "pass as_of explicitly for reproducible results",
    "unknown_parent_account": "the parent is not among the accounts used; the link is cleared",
    "cut_at_as_of": "these values lie after as_of and are not yet known then",
    "unused_table": "not part of the data contract; map it with a column mapping if it holds journey data",
    "read_note": "",
}


@dataclass
class ValidationResult:
    """What :func:`validate` returns.

    Attributes
    ----------
    tables : dict of name -> DataFrame or None
        The used rows of every contract table, typed; None for absent optional tables.
    quarantine : DataFrame
        One row per set-aside input row (:data:`QUARANTINE_COLUMNS`).
    findings : DataFrame
        Every problem found, aggregated by table, column and code (:data:`FINDING_COLUMNS`).
    counts : DataFrame
        Per table: source, rows_read, rows_used, rows_set_aside, errors, out_of_window.
    as_of : Timestamp
        The analysis date (a date, timezone-naive).
    as_of_inferred : bool
        True when as_of was not given and was taken from the data.
    unmapped : DataFrame
        Touchpoint names with no stage: touchpoint, rows, closest.
    """

    tables: dict[str, pd.DataFrame | None]
    quarantine: pd.DataFrame
    findings: pd.DataFrame
    counts: pd.DataFrame
    as_of: pd.Timestamp
    as_of_inferred: bool
    unmapped: pd.DataFrame
    cutoff: pd.Timestamp = field(default=None)  # last instant of as_of, UTC


# --------------------------------------------------------------------------- structure
def check_structure(raw: dict[str, pd.DataFrame], sources: dict[str, str] | None = None,
                    where: str = "the source", available: list[str] | None = None) -> None:
    """Raise one :class:`JourneyDataError` listing every missing required table and column.

    Parameters
    ----------
    raw : dict of name -> DataFrame
        Contract table name -> raw rows.
    sources : dict, optional
        Table -> file or table name, for messages.
    where : str
        Description of the source, for messages.
    available : list of str, optional
        Every table name the source holds (for "did you mean").
    """
    sources = sources or {}
    available = list(available) if available is not None else list(raw)
    problems: list[str] = []
    for name, spec in TABLES.items():
        df = raw.get(name)
        if df is None:
            if spec.required:
                problems.append(
                    f"table '{name}' is missing from {where}{did_you_mean(name, available)}: expected a file "
                    f"{name}.csv / {name}.parquet or a database table '{name}' with columns "
                    f"{', '.join(spec.required_columns)}"
                )
            continue
        present = [c for c in df.columns if c not in (SOURCE_COL, ROW_COL)]
        missing = [c for c in spec.required_columns if c not in present]
        for col in missing:
            problems.append(
                f"table '{name}' ({sources.get(name, name)}): required column '{col}' is missing"
                f"{did_you_mean(col, present)}; columns found: {', '.join(present) or '(none)'}"
            )
        if spec.required and not missing and len(df) == 0:
            problems.append(f"table '{name}' ({sources.get(name, name)}) has a header but no rows")
    if problems:
        err = JourneyDataError(
            "the data cannot be used:\n  - " + "\n  - ".join(problems)
            + "\nRename the columns in the export or give a column mapping (--mapping, e.g. the 'salesforce' preset)."
        )
        err.problems = problems
        raise err


# --------------------------------------------------------------------------- problems
class _Problems:
    """Collects (code, column, mask, message fragments, severity) for one table."""

    def __init__(self, table: str, n: int):
        self.table = table
        self.n = n
        self.entries: list[tuple[str, str, np.ndarray, pd.Series, str]] = []

    def add(self, code: str, column: str, mask, messages, severity: str = "error") -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if isinstance(messages, str):
            messages = pd.Series(messages, index=np.flatnonzero(mask), dtype=object)
        else:  # a function of the mask, so messages are only built for the flagged rows
            messages = pd.Series(np.asarray(messages(mask), dtype=object), index=np.flatnonzero(mask), dtype=object)
        self.entries.append((code, column, mask, messages, severity))

    def errors_mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for _code, _col, mask, _msg, sev in self.entries:
            if sev == "error":
                m |= mask
        return m

    def any_mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for entry in self.entries:
            m |= entry[2]
        return m


def _quote(values: pd.Series) -> pd.Series:
    return "'" + values.astype(str).str.slice(0, 60) + "'"


def _text(s: pd.Series) -> pd.Series:
    """Strings, trimmed; empty and missing become None."""
    if s.dtype != object and not pd.api.types.is_string_dtype(s):
        if pd.api.types.is_float_dtype(s):
            whole = s.notna() & (s == s.round())
            out = s.astype(object).where(s.notna(), None)
            out[whole] = s[whole].astype("int64").astype(str)
            out[s.notna() & ~whole] = s[s.notna() & ~whole].astype(str)
            return out
        return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
    t = s.astype("string")
    try:
        return _trimmed(t)
    except (pa.ArrowException, UnicodeError):  # text Arrow cannot hold (lone surrogates): element by element
        t = t.str.strip()
        return t.astype(object).where(t.notna() & (t != ""), None)


#: Every character ``str.strip()`` removes (Python's whitespace, which is wider than ASCII's).
_SPACES = pa.array(sorted(c for c in map(chr, range(0x3001)) if c.isspace()))


def _trimmed(t: pd.Series) -> pd.Series:
    """``t.str.strip()`` with empty and missing as None, as objects; only values that start or end with
    whitespace are stripped one by one (Arrow finds them: a value-by-value strip took a fifth of a load)."""
    arr = pa.array(t.array)
    ends = pc.or_(pc.is_in(pc.utf8_slice_codeunits(arr, 0, 1), value_set=_SPACES),
                  pc.is_in(pc.utf8_slice_codeunits(arr, -1), value_set=_SPACES))
    out = t.to_numpy(dtype=object, na_value=None)
    for i in np.flatnonzero(ends.fill_null(False).to_numpy(zero_copy_only=False)):
        out[i] = out[i].strip() or None
    out[pc.equal(arr, "").fill_null(False).to_numpy(zero_copy_only=False)] = None
    return pd.Series(out, index=t.index, dtype=object)


def _numbers(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float), np.zeros(len(s), dtype=bool)
    t = _text(s)
    cleaned = t.astype("string").str.replace(r"^([+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?)$", lambda m: m.group(1).replace(",", ""),
                                             regex=True)
    num = pd.to_numeric(cleaned, errors="coerce").astype(float)
    bad = (t.notna() & num.isna()).to_numpy()
    return num, bad


def _coerce_column(df: pd.DataFrame, col: Column, probs: _Problems, tz: str, dayfirst: bool) -> pd.Series:
    raw = df[col.name]
    name = col.name
    if col.kind == "time":
        parsed, bad = parse_times(raw, tz=tz, dayfirst=dayfirst)
        probs.add("bad_timestamp", name, bad, lambda m: f"{name} " + _quote(raw[m]) + " is not a date/time")
        if col.required:
            probs.add("missing_value", name, (parsed.isna() & ~bad).to_numpy(), f"{name} is empty")
        return parsed
    if col.kind in ("number", "count", "money"):
        num, bad = _numbers(raw)
        probs.add("bad_number", name, bad, lambda m: f"{name} " + _quote(raw[m]) + " is not a number")
        if col.nonnegative:
            probs.add("negative_value", name, (num < 0).to_numpy(), lambda m: f"{name} " + num[m].astype(str) + " is negative")
        if col.bounds:
            lo, hi = col.bounds
            probs.add("out_of_range", name, ((num < lo) | (num > hi)).to_numpy(),
                      lambda m: f"{name} " + num[m].astype(str) + f" is outside {lo:g}-{hi:g}")
        if col.required:
            probs.add("missing_value", name, (num.isna() & ~bad).to_numpy(), f"{name} is empty")
        return num
    text = _text(raw)
    if col.kind == "label":
        codes, names = pd.factorize(text)  # few distinct labels: lower each once
        text = pd.Series(np.array([None, *(v.lower() for v in names)], dtype=object)[codes + 1], index=text.index)
        if col.allowed:
            unknown = text.notna() & ~text.isin(col.allowed)
            if unknown.any():
                msgs = text[unknown].map(
                    lambda v: f"{name} '{v}' is not one of {', '.join(col.allowed)}{did_you_mean(v, col.allowed)}")
                full = pd.Series(None, index=text.index, dtype=object)
                full[unknown] = msgs
                probs.add("unknown_value", name, unknown.to_numpy(), lambda m: full[m])
    if col.required:
        code = "missing_id" if col.kind == "id" else "missing_value"
        probs.add(code, name, text.isna().to_numpy(), f"{name} is empty")
    return text


# --------------------------------------------------------------------------- per table
@dataclass
class _Work:
    name: str
    spec: Table
    raw: pd.DataFrame
    typed: pd.DataFrame
    probs: _Problems
    info: list[dict]


def _coerce_table(name: str, raw: pd.DataFrame, tz: str, dayfirst: bool) -> _Work:
    spec = TABLES[name]
    if not by_position(raw):  # a table as read is used as it is: validation writes nothing into it
        raw = raw.reset_index(drop=True)
    probs = _Problems(name, len(raw))
    typed = pd.DataFrame(index=raw.index)
    for col in spec.columns:
        if col.name in raw.columns:
            typed[col.name] = _coerce_column(raw, col, probs, tz, dayfirst)
    extra = [c for c in raw.columns if c not in typed.columns and c not in (SOURCE_COL, ROW_COL)]
    for c in extra:  # columns outside the contract are kept, as text
        typed[c] = _text(raw[c])
    info = []
    for col in spec.columns:
        if col.kind == "time" and col.name in raw.columns:
            wrong = date_order_conflict(raw[col.name], dayfirst)
            if wrong.any():
                info.append(date_order_finding(name, col.name, dayfirst, int(wrong.sum()),
                                               raw[ROW_COL].to_numpy()[wrong][:5],
                                               str(raw[col.name][wrong].iloc[0]).strip()))
    for start, end in spec.intervals:
        if start in typed and end in typed:
            bad = (typed[end] < typed[start]).to_numpy()
            probs.add("end_before_start", end, bad,
                      lambda m: f"{end} " + typed[end][m].astype(str) + f" is before {start} "
                      + typed[start][m].astype(str))
    if name == "surveys" and "kind" in typed and "score" in typed:
        lo = typed["kind"].map(lambda k: SURVEY_SCORE_BOUNDS.get(k, (np.nan, np.nan))[0]).astype(float)
        hi = typed["kind"].map(lambda k: SURVEY_SCORE_BOUNDS.get(k, (np.nan, np.nan))[1]).astype(float)
        bad = ((typed["score"] < lo) | (typed["score"] > hi)).to_numpy()
        probs.add("out_of_range", "score", bad,
                  lambda m: "score " + typed["score"][m].astype(str) + " is outside " + typed["kind"][m].astype(str)
                  + "'s range " + lo[m].map("{:g}".format) + "-" + hi[m].map("{:g}".format))
    return _Work(name, spec, raw, typed, probs, info)


def _window(w: _Work, cutoff: pd.Timestamp) -> None:
    spec, typed = w.spec, w.typed
    if spec.time and spec.time in typed:
        late = (typed[spec.time] > cutoff).to_numpy()
        w.probs.add("out_of_window", spec.time, late,
                    lambda m: f"{spec.time} " + typed[spec.time][m].astype(str) + " is after as_of",
                    severity="out_of_window")
    for col in spec.columns:
        if col.cut_at_as_of and col.kind == "time" and col.name in typed:
            late = typed[col.name] > cutoff
            n = int(late.sum())
            if n:
                if w.name == "opportunities" and "status" in typed:
                    typed.loc[late & typed["status"].isin(["won", "lost"]), "status"] = "open"
                if w.name == "tickets" and col.name == "resolved_at" and "csat" in typed:
                    typed.loc[late, "csat"] = np.nan
                typed.loc[late, col.name] = pd.NaT
                w.info.append(_finding(w.name, col.name, "cut_at_as_of", "info", n, late.to_numpy(), w.raw,
                                       f"{n} {col.name} value(s) after as_of cleared (not yet known at as_of)"))
    if w.name == "tickets" and {"opened_at", "first_response_minutes"} <= set(typed):
        answered = typed["opened_at"] + pd.to_timedelta(typed["first_response_minutes"], unit="m")
        late = answered > cutoff
        if late.any():
            typed.loc[late, "first_response_minutes"] = np.nan
            w.info.append(_finding(w.name, "first_response_minutes", "cut_at_as_of", "info", int(late.sum()),
                                   late.to_numpy(), w.raw, f"{int(late.sum())} first responses after as_of cleared"))


def _duplicates(w: _Work) -> None:
    typed, probs, spec = w.typed, w.probs, w.spec
    usable = ~probs.errors_mask()
    if spec.key and spec.key in typed:
        keys = typed[spec.key]
        has = usable & keys.notna().to_numpy()
        dup = np.zeros(len(typed), dtype=bool)
        dup[has] = keys[has].duplicated(keep="first").to_numpy()
        probs.add("duplicate_id", spec.key, dup, lambda m: duplicate_id_messages(spec.key, keys[m]))
        without_key = usable & keys.isna().to_numpy()
    else:
        without_key = usable if w.name == "touchpoints" else np.zeros(len(typed), dtype=bool)
    if w.name == "touchpoints" and without_key.any():
        cols = [c for c in typed.columns if c != spec.key]
        dup = np.zeros(len(typed), dtype=bool)
        dup[without_key] = typed.loc[without_key, cols].duplicated(keep="first").to_numpy()
        probs.add("duplicate_row", "", dup, DUPLICATE_ROW_MESSAGE)


DUPLICATE_ROW_MESSAGE = "the whole row repeats an earlier row"


def duplicate_id_messages(key: str, values: pd.Series) -> pd.Series:
    """The message of each row whose ``key`` value repeats an earlier row's."""
    return f"{key} " + _quote(values) + " repeats an earlier row"


def _references(w: _Work, used_keys: dict[str, set], late_keys: dict[str, set]) -> None:
    typed, probs = w.typed, w.probs
    for col in w.spec.columns:
        ref = col.references
        if not ref or col.name not in typed or ref not in used_keys:
            continue
        values = typed[col.name]
        present = values.notna()
        known = values.isin(used_keys[ref])
        late = values.isin(late_keys.get(ref, set()))
        if col.name == PARENT_ACCOUNT_ID or col.cut_at_as_of:
            # A link to a row outside the window or outside the export is cleared, not the row.
            clear = present & ~known
            n = int(clear.sum())
            if n:
                code = "cut_at_as_of" if col.cut_at_as_of else "unknown_parent_account"
                sev = "info" if col.cut_at_as_of else "warning"
                w.info.append(_finding(w.name, col.name, code, sev, n, clear.to_numpy(), w.raw,
                                       f"{n} {col.name} value(s) name no {ref[:-1]} in use; the link is cleared"))
                typed.loc[clear, col.name] = None
            continue
        code = _REF_CODE[ref]
        if ref == "contacts" and ACCOUNT_ID in typed and "accounts" in used_keys:
            # B2B: a touch by an unknown person of a known account still belongs to the account
            at_account = present & ~known & ~late & typed[ACCOUNT_ID].isin(used_keys["accounts"])
            n = int(at_account.sum())
            if n:
                w.info.append(_finding(w.name, col.name, "contact_cleared", "warning", n, at_account.to_numpy(), w.raw,
                                       f"{n} row(s) name a contact that is not in contacts but an account that is: "
                                       "kept at account level, contact cleared"))
                typed.loc[at_account, col.name] = None
                values, present = typed[col.name], typed[col.name].notna()
                known = values.isin(used_keys[ref])
        orphan = (present & ~known & ~late).to_numpy()
        probs.add(code, col.name, orphan, lambda m: f"{col.name} " + _quote(values[m]) + f" is not in {ref}")
        after = (present & late).to_numpy()
        probs.add("out_of_window", col.name, after,
                  lambda m: f"{col.name} " + _quote(values[m]) + f" is set aside as out of window in {ref} (after as_of)",
                  severity="out_of_window")


def _stages(w: _Work, lifecycle: Lifecycle) -> pd.DataFrame:
    typed, probs = w.typed, w.probs
    stage, problem = lifecycle.assign(typed[TOUCHPOINT], typed.get(CHANNEL), typed.get(STAGE))
    unknown = (problem == "unknown_stage").to_numpy()
    if unknown.any():
        msgs = pd.Series(None, index=typed.index, dtype=object)
        msgs[unknown] = typed.loc[unknown, STAGE].map(
            lambda v: f"stage '{v}' is not a stage of the lifecycle{did_you_mean(str(v), lifecycle.ids)}")
        probs.add("unknown_stage", STAGE, unknown, lambda m: msgs[m])
    unmapped = ((problem == "unmapped_touchpoint") & typed[TOUCHPOINT].notna()).to_numpy()
    table = pd.DataFrame(columns=["touchpoint", "rows", "closest"])
    if unmapped.any():
        names = typed.loc[unmapped, TOUCHPOINT]
        counts = names.value_counts()
        near = {n: ", ".join(lifecycle.closest_touchpoints(n)) for n in counts.index}
        table = pd.DataFrame({"touchpoint": counts.index, "rows": counts.to_numpy(),
                              "closest": [near[n] for n in counts.index]})
        msgs = pd.Series(None, index=typed.index, dtype=object)
        msgs[unmapped] = names.map(lambda n: f"touchpoint '{n}' has no stage in the mapping"
                                   + (f" (closest: {near[n]})" if near[n] else ""))
        probs.add("unmapped_touchpoint", TOUCHPOINT, unmapped, lambda m: msgs[m])
    typed[STAGE] = pd.Categorical(stage, dtype=lifecycle.dtype)
    return table


def date_order_finding(table: str, column: str, dayfirst: bool, n: int, rows, example: str) -> dict:
    """The warning that ``n`` ambiguous dates of a column were probably read in the wrong day/month order."""
    return {"table": table, "column": column, "code": "date_order", "severity": "warning", "rows": int(n),
            "example_rows": ", ".join(str(int(r)) for r in rows),
            "message": f"{column} holds dates that can only be read {'month' if dayfirst else 'day'} first, so {n} "
                       f"ambiguous date(s) such as '{example}' were probably read in the wrong order",
            "suggestion": SUGGESTIONS["date_order"]}


def problem_finding(table: str, column: str, code: str, severity: str, n: int, rows, examples: list) -> dict:
    """The finding of ``n`` rows set aside for one problem: its first rows and first three messages."""
    return {"table": table, "column": column, "code": code, "severity": severity, "rows": int(n),
            "example_rows": ", ".join(str(int(r)) for r in rows[:5]),
            "message": f"{n} row(s): " + "; ".join(str(e) for e in examples[:3]) + (" ..." if n > 3 else ""),
            "suggestion": SUGGESTIONS.get(code, "")}


def _finding(table, column, code, severity, n, mask, raw, message) -> dict:
    rows = raw[ROW_COL].to_numpy()[np.asarray(mask, dtype=bool)][:5] if mask is not None else []
    return {"table": table, "column": column, "code": code, "severity": severity, "rows": int(n),
            "example_rows": ", ".join(str(int(r)) for r in rows), "message": message,
            "suggestion": SUGGESTIONS.get(code, "")}


def reasons_and_messages(entries: list, idx: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Per row of ``idx`` (positions), the codes of the problems ``entries`` found in it, each once in check
    order and joined by ";", and their messages joined by "; " (as the quarantine lists them)."""
    reasons = pd.Series("", index=idx, dtype=object)
    messages = pd.Series("", index=idx, dtype=object)
    seen: dict[str, np.ndarray] = {}
    for code, _column, mask, msgs, _severity in entries:
        sub = mask[idx]
        new_code = sub & ~seen.get(code, np.zeros(len(idx), dtype=bool))
        seen[code] = seen.get(code, np.zeros(len(idx), dtype=bool)) | sub
        if new_code.any():
            reasons[new_code] = reasons[new_code] + ";" + code
        m = msgs.reindex(idx[sub]).to_numpy()
        messages[sub] = messages[sub] + "; " + m
    return reasons.str.lstrip(";"), messages.str.slice(2)


def quarantine_values(raw: pd.DataFrame) -> list[str]:
    """The read values of set-aside rows, one JSON object per row (the quarantine's ``values``)."""
    values = raw.drop(columns=[c for c in (SOURCE_COL, ROW_COL) if c in raw.columns])
    return values.to_json(orient="records", lines=True, date_format="iso", force_ascii=False).splitlines() \
        if len(values) else []


def _set_aside(w: _Work) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Split a table into used rows and quarantine rows; aggregate its findings."""
    probs, raw = w.probs, w.raw
    bad = probs.any_mask()
    errors = probs.errors_mask()
    idx = np.flatnonzero(bad)
    reasons, messages = reasons_and_messages(probs.entries, idx)
    findings = [problem_finding(w.name, column, code, sev, int(mask.sum()), raw[ROW_COL].to_numpy()[mask][:5],
                                msgs.head(3).tolist()) for code, column, mask, msgs, sev in probs.entries]
    quarantine = pd.DataFrame({
        "table": w.name,
        "source": raw[SOURCE_COL].to_numpy()[idx] if len(idx) else np.array([], dtype=object),
        "row": raw[ROW_COL].to_numpy()[idx].astype("int64") if len(idx) else np.array([], dtype="int64"),
        "reasons": reasons.to_numpy(),
        "message": messages.to_numpy(),
        "severity": np.where(errors[idx], "error", "out_of_window"),
        "values": quarantine_values(raw.iloc[idx]),
    }, columns=QUARANTINE_COLUMNS)
    # no row set aside (the usual case): the typed table itself, not a copy of it (+0.36 GB at 1.9M touchpoints)
    used = w.typed.loc[~bad].reset_index(drop=True) if len(idx) else w.typed
    return used, quarantine, findings


# --------------------------------------------------------------------------- entry point
def validate(raw: dict[str, pd.DataFrame], *, lifecycle: Lifecycle, as_of=None, tz: str = "UTC",
             dayfirst: bool = False, freshness_days: int = 14, sources: dict[str, str] | None = None,
             where: str = "the source", available: list[str] | None = None) -> ValidationResult:
    """Validate contract tables, coerce their types and set aside unusable rows.

    Parameters
    ----------
    raw : dict of name -> DataFrame
        Contract table name -> raw rows with provenance columns (``_source``, ``_row``).
    lifecycle : Lifecycle
        Stages and the touchpoint mapping.
    as_of : str, date or None
        Analysis date; rows after the end of that day (in ``tz``) are out of window.
        None takes the last timestamp in the data (reported as a finding).
    tz : str
        Timezone of naive timestamps and of the as_of day.
    dayfirst : bool
        Read non-ISO dates day first.
    freshness_days : int
        Warn when touchpoints or usage end more than this many days before as_of.

    Returns
    -------
    ValidationResult

    Raises
    ------
    JourneyDataError
        A required table or column is missing (all listed at once).
    """
    sources = sources or {}
    check_structure(raw, sources, where, available)
    works = {name: _coerce_table(name, raw[name], tz, dayfirst) for name in _ORDER if raw.get(name) is not None}
    as_of_day, inferred = _as_of_day(as_of, works, tz)
    cutoff = as_of_cutoff(as_of_day, tz)

    unmapped = pd.DataFrame(columns=["touchpoint", "rows", "closest"])
    for w in works.values():
        _window(w, cutoff)
        if w.name == "touchpoints":
            unmapped = _stages(w, lifecycle)
        _duplicates(w)

    used_keys: dict[str, set] = {}
    late_keys: dict[str, set] = {}
    tables: dict[str, pd.DataFrame | None] = {name: None for name in TABLES}
    quarantines, findings, counts = [], [], []
    for name in _ORDER:
        w = works.get(name)
        if w is None:
            continue
        used, quarantine, fnd = _settle(w, used_keys, late_keys)
        tables[name] = used
        quarantines.append(quarantine)
        findings.extend(fnd)
        counts.append(_count_row(name, sources, len(w.raw), len(used), len(quarantine),
                                 int((quarantine["severity"] == "error").sum())))
    findings.extend(_closing_findings(inferred, as_of_day, cutoff, freshness_days,
                                      {name: tables[name][TABLES[name].time].max() for name in ("touchpoints", "usage")
                                       if tables.get(name) is not None and not tables[name].empty}))
    quarantine = pd.concat(quarantines, ignore_index=True) if quarantines else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    order = {name: i for i, name in enumerate(_ORDER)}
    quarantine = (quarantine.assign(_t=quarantine["table"].map(order)).sort_values(["_t", "row"], kind="stable")
                  .drop(columns="_t").reset_index(drop=True))
    return ValidationResult(
        tables=tables, quarantine=quarantine, findings=pd.DataFrame(findings, columns=FINDING_COLUMNS),
        counts=counts_frame(counts), as_of=as_of_day, as_of_inferred=inferred, unmapped=unmapped, cutoff=cutoff,
    )


def _as_of_day(as_of, works: dict[str, _Work], tz: str) -> tuple[pd.Timestamp, bool]:
    """The as_of day (timezone-naive) and whether it was inferred from the data's last timestamp."""
    inferred = as_of is None or str(as_of).strip() == ""
    if inferred:
        last = [w.typed[w.spec.time].max() for w in works.values() if w.spec.time and w.spec.time in w.typed]
        last = [t for t in last if pd.notna(t)]
        if not last:
            raise JourneyDataError("as_of was not given and the data holds no valid timestamp to take it from; "
                                   "pass as_of (e.g. --as-of 2026-10-31)")
        return max(last).tz_convert(tz).tz_localize(None).normalize(), True
    try:
        return pd.Timestamp(str(as_of)).tz_localize(None).normalize(), False
    except (ValueError, TypeError):
        raise JourneyDataError(f"as_of {as_of!r} is not a date; expected YYYY-MM-DD, e.g. 2026-10-31") from None


def _settle(w: _Work, used_keys: dict[str, set], late_keys: dict[str, set]) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                    list[dict]]:
    """Check a table's references against the rows used before it, set its rows aside, and record its
    used and out-of-window keys for the tables after it. Returns used rows, quarantine and findings."""
    if w.name != "accounts":  # the parent link is checked after accounts are settled, below
        _references(w, used_keys, late_keys)
    used, quarantine, findings = _set_aside(w)
    if w.name == "accounts":
        used_keys["accounts"] = set(used[w.spec.key])
        parent_work = _Work(w.name, w.spec, w.raw.loc[~w.probs.any_mask()].reset_index(drop=True), used, w.probs,
                            w.info)
        _references(parent_work, used_keys, late_keys)
        used = parent_work.typed
    if w.spec.key and w.spec.key in used:
        used_keys[w.name] = set(used[w.spec.key].dropna())
        late = w.probs.any_mask() & ~w.probs.errors_mask()
        late_keys[w.name] = set(w.typed.loc[late, w.spec.key].dropna())
    return used, quarantine, findings + w.info


def _count_row(name: str, sources: dict[str, str], read: int, used: int, set_aside: int, errors: int) -> dict:
    return {"table": name, "source": sources.get(name, name), "rows_read": read, "rows_used": used,
            "rows_set_aside": set_aside, "errors": errors, "out_of_window": set_aside - errors}


def counts_frame(counts: list[dict]) -> pd.DataFrame:
    """The per-table counts in contract order."""
    return pd.DataFrame(sorted(counts, key=lambda c: list(TABLES).index(c["table"])),
                        columns=["table", "source", "rows_read", "rows_used", "rows_set_aside", "errors",
                                 "out_of_window"])


def _closing_findings(inferred: bool, as_of_day: pd.Timestamp, cutoff: pd.Timestamp, freshness_days: int,
                      last: dict[str, pd.Timestamp]) -> list[dict]:
    """The as_of note when it was inferred, and a stale-data warning for touchpoints or usage whose last used
    time (``last``) lies more than ``freshness_days`` before as_of."""
    findings = []
    if inferred:
        findings.append({"table": "", "column": "", "code": "as_of_inferred", "severity": "info", "rows": 0,
                         "example_rows": "", "message": f"as_of not given: using the last date in the data, "
                         f"{as_of_day.date()}", "suggestion": SUGGESTIONS["as_of_inferred"]})
    for name, when in last.items():
        gap = (cutoff - when).days
        if gap > freshness_days:
            msg = (f"{name} end on {when.date()}, {gap} days before as_of {as_of_day.date()}: "
                   "recent periods are undercounted")
            findings.append({"table": name, "column": TABLES[name].time, "code": "stale_data", "severity": "warning",
                             "rows": 0, "example_rows": "", "message": msg, "suggestion": SUGGESTIONS["stale_data"]})
            warnings.warn(msg, FreshnessWarning, stacklevel=4)
    return findings
