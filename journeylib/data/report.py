"""The load report: what was read, used and set aside, and why."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import pandas as pd

from ..schema import TABLES

__all__ = ["LoadReport"]


def _text_table(df: pd.DataFrame, max_width: int = 70) -> str:
    if df.empty:
        return "  (none)"
    cells = df.astype(str).map(lambda v: v if len(v) <= max_width else v[: max_width - 3] + "...")
    widths = [max(len(str(c)), cells[c].str.len().max()) for c in df.columns]
    line = "  " + "  ".join(str(c).ljust(w) for c, w in zip(df.columns, widths))
    rows = ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells.itertuples(index=False)]
    return "\n".join([line, "  " + "  ".join("-" * w for w in widths), *rows])


@dataclass
class LoadReport:
    """What :func:`journeylib.load` found.

    Attributes
    ----------
    counts : DataFrame
        Per table: source, rows_read, rows_used, rows_set_aside, errors, out_of_window.
    findings : DataFrame
        Problems by table, column and code, with counts, example rows, message and suggestion.
    unmapped : DataFrame
        Touchpoint names with no stage (touchpoint, rows, closest known names).
    """

    counts: pd.DataFrame
    findings: pd.DataFrame
    unmapped: pd.DataFrame
    as_of: pd.Timestamp
    as_of_inferred: bool
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def rows_set_aside(self) -> int:
        return int(self.counts["rows_set_aside"].sum())

    @property
    def error_rows(self) -> int:
        return int(self.counts["errors"].sum())

    @property
    def unusable(self) -> list[str]:
        """Required tables with no usable row: the data cannot be analysed (exit code 3)."""
        required = {name for name, spec in TABLES.items() if spec.required}
        c = self.counts
        missing = required - set(c["table"])
        return sorted(missing | set(c.loc[c["table"].isin(required) & (c["rows_used"] == 0), "table"]))

    @property
    def balanced(self) -> bool:
        """rows read = rows used + rows set aside, for every table."""
        c = self.counts
        return bool((c["rows_read"] == c["rows_used"] + c["rows_set_aside"]).all())

    def exit_code(self, strict: bool = False) -> int:
        """3 when a required table has no usable row; else 1 when ``strict`` and any row was set aside as an
        error; else 0."""
        if self.unusable:
            return 3
        return 1 if strict and self.error_rows > 0 else 0

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "as_of": str(self.as_of.date()),
            "as_of_inferred": self.as_of_inferred,
            "balanced": self.balanced,
            "unusable": self.unusable,
            "tables": self.counts.to_dict(orient="records"),
            "findings": self.findings.to_dict(orient="records"),
            "unmapped_touchpoints": self.unmapped.to_dict(orient="records"),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def __str__(self) -> str:
        as_of = f"{self.as_of.date()}" + (" (taken from the data)" if self.as_of_inferred else "")
        parts = [f"Source: {self.source}", f"As of:  {as_of}"]
        if self.unusable:
            parts.append(f"DATA UNUSABLE: no usable row in {', '.join(self.unusable)}")
        for f in self.findings[self.findings["code"] == "likely_cause"].itertuples(index=False):
            parts += [f"Likely cause ({f.table}): {f.message}", f"  -> {f.suggestion}"]
        parts += ["", "Tables", _text_table(self.counts)]
        problems = self.findings[self.findings["severity"] != "info"]
        parts += ["", "Findings", _text_table(problems[["table", "column", "code", "severity", "rows", "example_rows"]])]
        if not problems.empty:
            parts += ["", "Details"]
            for f in problems.itertuples(index=False):
                parts.append(f"  [{f.severity}] {f.table}.{f.column or '*'} {f.code}: {f.message}")
                if f.suggestion:
                    parts.append(f"      -> {f.suggestion}")
        info = self.findings[self.findings["severity"] == "info"]
        for f in info.itertuples(index=False):
            parts.append(f"  [info] {f.message}")
        if not self.unmapped.empty:
            parts += ["", "Unmapped touchpoints (add them to your stage file)", _text_table(self.unmapped)]
        for note in self.notes:
            parts.append(f"  note: {note}")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        esc = html.escape
        out = [f"<p><b>Source</b> {esc(self.source)} &middot; <b>as of</b> {esc(str(self.as_of.date()))}"
               + (" (taken from the data)" if self.as_of_inferred else "") + "</p>",
               self.counts.to_html(index=False, escape=True)]
        if not self.findings.empty:
            out += ["<p><b>Findings</b></p>", self.findings.to_html(index=False, escape=True)]
        if not self.unmapped.empty:
            out += ["<p><b>Unmapped touchpoints</b></p>", self.unmapped.to_html(index=False, escape=True)]
        out += [f"<p>note: {esc(n)}</p>" for n in self.notes]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)
