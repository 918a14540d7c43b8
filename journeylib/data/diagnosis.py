"""When much of a table is set aside for one reason, say the likely cause and the fix first.

A load that sets aside most touchpoints for ``unknown_account`` is rarely a data-quality
problem of every row: it is usually one cause (ids in two forms, a spreadsheet that dropped
leading zeros, touchpoint names from another lifecycle, day-first dates). :func:`diagnose`
looks at the set-aside rows of each table and returns one ``likely_cause`` finding per table
where one reason dominates, with what to do; the load report shows these first.
"""
from __future__ import annotations

import json
import re

import pandas as pd

from ..schema import TABLES
from .record_ids import salesforce_id18

__all__ = ["diagnose", "SHARE"]

#: A table is diagnosed when at least this share of its rows is set aside.
SHARE = 0.5
_REFERENCE = {"unknown_account": ("account_id", "accounts"), "unknown_contact": ("contact_id", "contacts"),
              "unknown_opportunity": ("opportunity_id", "opportunities")}
_DAY_FIRST = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\b")


def _values(quarantine: pd.DataFrame, column: str) -> pd.Series:
    """The original values of ``column`` in these set-aside rows (text; missing dropped)."""
    out = []
    for text in quarantine["values"]:
        try:
            v = json.loads(text).get(column)
        except (TypeError, ValueError, AttributeError):
            v = None
        if v is not None and str(v).strip():
            out.append(str(v).strip())
    return pd.Series(out, dtype=object)


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(v) for v in values.drop_duplicates().head(n))


def _reference_cause(orphans: pd.Series, keys: pd.Series, column: str, ref: str) -> tuple[str, str]:
    """Why these ids name no row of ``ref``, judged from the ids themselves."""
    keyset = set(keys.dropna().astype(str))
    if orphans.empty or not keyset:
        return (f"{ref} has no row in use for them", f"export {ref} too, from the same system and date")
    half = len(orphans) / 2
    if salesforce_id18(orphans).isin(set(salesforce_id18(pd.Series(sorted(keyset), dtype=object)))).sum() >= half:
        return ("the ids are in two forms: Salesforce's 15-character ids (reports, the user interface) on one side "
                "and its 18-character ids (API, Data Loader) on the other",
                "load with --mapping salesforce, which brings every id to the 18-character form, or add "
                "'ids: salesforce' to your mapping")
    folded = {k.strip().casefold() for k in keyset}
    if orphans.map(lambda v: v.strip().casefold() in folded).sum() >= half:
        return (f"the {column} values differ from the {ref} ids only in upper/lower case or spaces",
                "export the ids unchanged (a spreadsheet or a report may have changed them)")
    unpadded = {k.lstrip("0") for k in keyset}
    if orphans.map(lambda v: v.lstrip("0") in unpadded).sum() >= half:
        return (f"the {column} values and the {ref} ids differ in leading zeros (a spreadsheet read them as "
                "numbers)", "export the ids as text, with their leading zeros")
    return (f"{ref} holds none of these {column} values (e.g. {_examples(orphans)}): the {ref} export may be "
            "filtered, partial or from another system", f"export {ref} unfiltered, from the same system and date")


def _timestamp_cause(values: pd.Series, column: str) -> tuple[str, str]:
    days = values.str.extract(_DAY_FIRST)
    if len(days.dropna()) and (days[0].dropna().astype(int) > 12).any():
        return (f"the {column} values are dates with the day first (e.g. {_examples(values)})",
                "set 'dayfirst: true' in journey.yml (or pass dayfirst=True to journeylib.load)")
    return (f"the {column} values are in a form that is not read as a time (e.g. {_examples(values)})",
            "export ISO 8601 times (2026-10-31T09:00:00Z), epoch seconds, or set dayfirst for 31/10/2026")


def diagnose(result, share: float = SHARE) -> list[dict]:
    """One ``likely_cause`` finding per table where one reason set aside at least ``share`` of the rows.

    Parameters
    ----------
    result : ValidationResult
        What :func:`journeylib.data.validate.validate` returned.
    share : float
        The share of a table's rows set aside (for one main reason) that calls for a diagnosis.

    Returns
    -------
    list of dict
        Findings (``journeylib.data.validate.FINDING_COLUMNS``), severity ``error`` when a
        required table has no usable row left, else ``warning``.
    """
    out = []
    q = result.quarantine
    for row in result.counts.itertuples(index=False):
        read, aside = int(row.rows_read), int(row.rows_set_aside)
        unusable = TABLES[row.table].required and int(row.rows_used) == 0
        if not aside or (aside < share * read and not unusable):
            continue
        rows = q[q["table"] == row.table]
        codes = rows["reasons"].str.split(";").explode()
        code, n = codes.value_counts().index[0], int(codes.value_counts().iloc[0])
        if n < aside / 2:
            continue
        with_code = rows[rows["reasons"].str.split(";").map(lambda cs: code in cs)]
        column = ""
        if code in _REFERENCE:
            column, ref = _REFERENCE[code]
            ref_table = result.tables.get(ref)
            keys = ref_table[TABLES[ref].key] if ref_table is not None else pd.Series(dtype=object)
            cause, fix = _reference_cause(_values(with_code, column), keys, column, ref)
        elif code == "unmapped_touchpoint":
            column = "touchpoint"
            top = result.unmapped.head(5)
            names = ", ".join(f"'{t}' ({int(r):,})" for t, r in zip(top["touchpoint"], top["rows"]))
            cause = f"the touchpoint names fit no stage of the lifecycle; the most frequent: {names}"
            fix = ("write a stage file for them: journey stages init SOURCE --out stages.yml, decide the guessed "
                   "stages, then load with --stages stages.yml")
        elif code == "bad_timestamp":
            column = TABLES[row.table].time or ""
            cause, fix = _timestamp_cause(_values(with_code, column), column)
        elif code == "out_of_window":
            cause = f"most {row.table} rows are dated after as_of {result.as_of.date()}"
            fix = "check --as-of (and that the timestamps' timezone and epoch unit are right)"
        else:
            continue
        out.append({"table": row.table, "column": column, "code": "likely_cause",
                    "severity": "error" if unusable else "warning", "rows": n, "example_rows": "",
                    "message": f"{aside:,} of {read:,} {row.table} rows set aside ({n:,} for {code}): likely cause: "
                               f"{cause}", "suggestion": fix})
    return out
