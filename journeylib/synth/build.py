"""The public API: generate() a dataset and write() it as CSV.GZ, Parquet or DuckDB.

Part of :mod:`journeylib.synth`; import the public names from there.
"""
from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice
from ..schema import TABLE_ORDER

from .common import _Events
from .customers import _churn, _customers, _postsale_events, _surveys, _tickets, _usage
from .journeys import _context, _decide_wins, _plan_accounts, _presale_events, _schedule
from .params import FORMATS, SynthDataset, _DATE_ONLY
from .tables import _build, _finish_events

# =========================================================================== public API
def generate(n_accounts: int = 2000, seed: int = 7, end_date: str = "2026-10-31",
             start_date: str | None = None) -> SynthDataset:
    """Generate a deterministic synthetic B2B SaaS dataset with planted truth.

    Parameters
    ----------
    n_accounts : int
        Number of accounts (companies), child business units included.
    seed : int
        Seed of ``numpy.random.SeedSequence``; the same seed (and version) gives equal tables.
    end_date : str
        Last day of the history (``YYYY-MM-DD``); nothing at or after the end of that day
        (UTC) is emitted.
    start_date : str, optional
        First day of the history; default three years before ``end_date`` (the day after
        ``end_date`` minus three years).

    Returns
    -------
    SynthDataset
        ``tables`` with every contract table and ``truth`` with the planted ground truth
        (see the module docstring for the generative model and the truth's shapes).

    Raises
    ------
    ParameterError
        For a non-positive ``n_accounts``, a negative ``seed``, an unreadable date, or a
        history shorter than 60 days.

    Examples
    --------
    >>> ds = generate(100, seed=3)
    >>> int((ds.tables["accounts"]["name"] == XSS_ACCOUNT_NAME).sum())
    1
    """
    ctx = _context(n_accounts, seed, end_date, start_date)
    A = _plan_accounts(ctx)
    _schedule(ctx, A)
    ev = _Events()
    _presale_events(ctx, A, ev)
    _decide_wins(ctx, A, ev)
    C = _customers(ctx, A)
    _postsale_events(ctx, A, C, ev)
    U = _usage(ctx, A, C)
    T = _tickets(ctx, A, C, ev)
    S = _surveys(ctx, A, C, U, T, ev)
    E = _finish_events(ctx, A, ev, S)
    R = _churn(ctx, A, C, U, T, S, E)
    tables, truth = _build(ctx, A, C, U, T, S, E, R)
    return SynthDataset(tables=tables, truth=truth, end_date=str(ctx.end_day.date()), seed=int(seed),
                        start_date=str(ctx.start.date()))


def _round_floats(obj: Any, digits: int = 6) -> Any:
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: _round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v, digits) for v in obj]
    return obj


def _iso_strings(values: pd.Series, date_only: bool) -> np.ndarray:
    """tz-aware timestamps -> 'YYYY-MM-DDTHH:MM:SS+00:00' (or 'YYYY-MM-DD'); NaT -> ''."""
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    nat = np.isnat(naive)
    if date_only:
        s = np.datetime_as_string(naive.astype("datetime64[D]"), unit="D").astype(object)
    else:
        s = np.datetime_as_string(naive.astype("datetime64[s]"), unit="s").astype(object) + "+00:00"
    s[nat] = ""
    return s


def _csv_frame(name: str, df: pd.DataFrame, date_cols: set[str] | None = None) -> pd.DataFrame:
    out = {}
    for col in df.columns:
        v = df[col]
        if isinstance(v.dtype, pd.DatetimeTZDtype):
            date_only = (name, col) in _DATE_ONLY or (date_cols is not None and col in date_cols)
            out[col] = _iso_strings(v, date_only)
        else:
            out[col] = v
    return pd.DataFrame(out, columns=df.columns)


def _write_csv_gz(df: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    data = df.to_csv(index=False, lineterminator="\n", float_format=float_format).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def _arrow_table(df: pd.DataFrame):
    import pyarrow as pa

    schema = pa.Schema.from_pandas(df, preserve_index=False)
    for i, f in enumerate(schema):
        if pa.types.is_null(f.type):
            schema = schema.set(i, pa.field(f.name, pa.string()))
    return pa.Table.from_pandas(df, schema=schema, preserve_index=False)


def write(dataset: SynthDataset, out: str | Path, format: str = "csv") -> list[Path]:
    """Write a generated dataset's tables and its planted truth.

    Parameters
    ----------
    dataset : SynthDataset
        From :func:`generate`.
    out : str or Path
        Folder (created when missing); existing files of the same names are overwritten,
        other files are left alone.
    format : {"csv", "parquet", "duckdb"}
        ``csv``: ``TABLE.csv.gz`` per table (gzip with mtime 0: byte-identical for the same
        seed; timestamps ISO 8601 with ``+00:00``, date-only columns ``YYYY-MM-DD``).
        ``parquet``: ``TABLE.parquet`` (zstd, no index; byte-identical run to run).
        ``duckdb``: one ``journey.duckdb`` with a table per contract table.
        For every format the truth goes to ``out/truth/``: ``personas.csv``,
        ``time_to_value.json``, ``churn.csv``, ``churn_drivers.json``,
        ``channel_effects.json``, ``deal_cycles.json``, ``scenarios.csv`` (JSON with sorted keys,
        indent 2).

    Returns
    -------
    list of Path
        The files written, tables first, then the truth files.
    """
    format = check_choice(format, "format", FORMATS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = dataset.tables
    if format == "csv":
        for name in TABLE_ORDER:
            path = out / f"{name}.csv.gz"
            _write_csv_gz(_csv_frame(name, tables[name]), path)
            written.append(path)
    elif format == "parquet":
        import pyarrow.parquet as pq

        for name in TABLE_ORDER:
            path = out / f"{name}.parquet"
            pq.write_table(_arrow_table(tables[name]), path, compression="zstd")
            written.append(path)
    else:
        import duckdb

        path = out / "journey.duckdb"
        for stale in (path, path.with_name(path.name + ".wal")):
            if stale.exists():
                stale.unlink()
        con = duckdb.connect(str(path))
        try:
            for name in TABLE_ORDER:
                con.register("_synth_table", _arrow_table(tables[name]))
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _synth_table')
                con.unregister("_synth_table")
        finally:
            con.close()
        written.append(path)
    tdir = out / "truth"
    tdir.mkdir(exist_ok=True)
    truth = dataset.truth
    for name in ("personas", "churn", "scenarios"):
        df = truth[name]
        if name == "churn":
            df = _csv_frame(name, df, date_cols={"snapshot_date"})
        path = tdir / f"{name}.csv"
        path.write_bytes(df.to_csv(index=False, lineterminator="\n",
                                   float_format="%.6f" if name == "churn" else None).encode("utf-8"))
        written.append(path)
    for name in ("time_to_value", "churn_drivers", "channel_effects", "deal_cycles"):
        path = tdir / f"{name}.json"
        path.write_text(json.dumps(_round_floats(truth[name]), sort_keys=True, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
