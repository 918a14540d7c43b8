"""Plant known data-quality problems into a synthetic dataset, with the expected
quarantine as ground truth.

Real exports are never clean. :func:`plant_problems` takes a dataset from
:func:`journeylib.synth.generate`, renders its tables as an export would (text),
and plants, on distinct random rows, problems of every kind validation must catch
(unparseable timestamps, unknown accounts, unmapped touchpoints, unknown stages,
repeated event ids, negative amounts and durations, end before start, unknown
status values, out-of-range scores, empty ids) plus harmless variations it must
accept unchanged (naive timestamps, other UTC offsets, epoch milliseconds,
padded ids). The expected set-aside rows come back as a DataFrame
``table, row, reasons`` — what ``journeylib.load`` must report, row for row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import TABLE_ORDER
from . import SynthDataset
from .build import _csv_frame

__all__ = ["plant_problems", "write_planted"]

# (table, reason, column, how) — how: a function (value, rng) -> new text
_PROBLEMS = [
    ("touchpoints", "bad_timestamp", "timestamp", lambda v: "31/02/2026 25:61"),
    ("touchpoints", "unknown_account", "account_id", lambda v: "ZZ" + v),
    ("touchpoints", "unmapped_touchpoint", "touchpoint", lambda v: v + "_x"),
    ("touchpoints", "unknown_stage", "stage", lambda v: "Desicion"),
    ("touchpoints", "negative_value", "cost", lambda v: "-12.5"),
    ("touchpoints", "missing_id", "account_id", lambda v: ""),
    ("opportunities", "negative_value", "amount", lambda v: "-100"),
    ("opportunities", "unknown_value", "status", lambda v: "closed won"),
    ("tickets", "negative_value", "first_response_minutes", lambda v: "-5"),
    ("tickets", "bad_timestamp", "opened_at", lambda v: "yesterday"),
    ("surveys", "out_of_range", "score", lambda v: "11"),
    ("usage", "unknown_account", "account_id", lambda v: "ZZ" + v),
]


def _benign_time(v: str, kind: int) -> str:
    ts = pd.Timestamp(v)
    if kind == 0:   # naive, read as UTC
        return ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")
    if kind == 1:   # another offset, same instant
        return ts.tz_convert("Europe/Berlin").isoformat()
    return str(int(ts.value // 1_000_000))  # epoch milliseconds


def plant_problems(dataset: SynthDataset, per_kind: int = 3, seed: int = 0
                   ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Render a dataset as text tables with planted problems.

    Parameters
    ----------
    dataset : SynthDataset
        From :func:`journeylib.synth.generate`.
    per_kind : int
        Rows planted for each problem kind (and for each harmless variation).
    seed : int
        Which rows are picked.

    Returns
    -------
    tables : dict of name -> DataFrame
        Every contract table as text, in read order, with the problems planted and,
        for touchpoints, ``per_kind`` repeated event ids appended at the end.
    expected : DataFrame
        ``table, row, reasons``: the rows validation must set aside (1-based rows).
        Rows with harmless variations are not in it: they must load unchanged.
    """
    rng = np.random.default_rng(seed)
    tables = {name: _csv_frame(name, dataset.tables[name]).astype(object) for name in TABLE_ORDER}
    taken: dict[str, set[int]] = {name: set() for name in TABLE_ORDER}
    expected = []

    def pick(table: str, ok: np.ndarray | None = None) -> list[int]:
        df = tables[table]
        pool = np.flatnonzero(ok) if ok is not None else np.arange(len(df))
        pool = np.array([i for i in pool if i not in taken[table]])
        rows = rng.choice(pool, size=min(per_kind, len(pool)), replace=False)
        taken[table].update(int(r) for r in rows)
        return sorted(int(r) for r in rows)

    for table, reason, column, how in _PROBLEMS:
        df = tables[table]
        ok = None
        if table == "touchpoints" and column == "cost":
            ok = df["cost"].notna().to_numpy()
        if table == "touchpoints" and column == "touchpoint":
            ok = df["stage"].isna().to_numpy()  # an explicit stage would win over the mapping
        if table == "opportunities":
            ok = (df["status"] != "open").to_numpy() if column == "status" else None
        if table == "tickets" and column == "first_response_minutes":
            ok = df[column].notna().to_numpy()
        if table == "surveys":
            ok = (df["kind"] == "nps").to_numpy()
        for r in pick(table, ok):
            df.iat[r, df.columns.get_loc(column)] = how(str(df.iat[r, df.columns.get_loc(column)]))
            expected.append((table, r + 1, reason))

    # opportunities closed before they were created
    opps = tables["opportunities"]
    for r in pick("opportunities", opps["closed_at"].notna().to_numpy()):
        created = pd.Timestamp(opps.iat[r, opps.columns.get_loc("created_at")])
        opps.iat[r, opps.columns.get_loc("closed_at")] = (created - pd.Timedelta(days=5)).isoformat()
        expected.append(("opportunities", r + 1, "end_before_start"))

    # harmless variations: other spellings of the same instant, padded ids
    tp = tables["touchpoints"]
    for kind in range(3):
        for r in pick("touchpoints"):
            tp.iat[r, tp.columns.get_loc("timestamp")] = _benign_time(tp.iat[r, tp.columns.get_loc("timestamp")], kind)
    for r in pick("touchpoints"):
        tp.iat[r, tp.columns.get_loc("account_id")] = f"  {tp.iat[r, tp.columns.get_loc('account_id')]} "

    # repeated event ids, appended: the first occurrence is kept
    untouched = np.array([i not in taken["touchpoints"] for i in range(len(tp))])
    dup_rows = pick("touchpoints", untouched)
    copies = tp.iloc[dup_rows].copy()
    copies["touchpoint"] = "demo"
    tables["touchpoints"] = pd.concat([tp, copies], ignore_index=True)
    for k in range(len(dup_rows)):
        expected.append(("touchpoints", len(tp) + k + 1, "duplicate_id"))

    exp = pd.DataFrame(expected, columns=["table", "row", "reasons"])
    exp = exp.sort_values(["table", "row"], kind="stable").reset_index(drop=True)
    return tables, exp


def write_planted(tables: dict[str, pd.DataFrame], out) -> None:
    """Write planted text tables as plain CSV files (one per table) into ``out``."""
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
