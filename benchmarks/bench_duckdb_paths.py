"""Benchmark of the DuckDB engine on touchpoints beyond memory: peak memory and time of the path analyses.

Goal (issue #16): 50M touchpoints with peak memory < 4 GB.

A Parquet file of N touchpoints (``--millions``, default 50) is generated once with DuckDB into
``benchmarks/.data/`` (never committed): 100 touchpoints per account on average, timestamps over
three years, stages drawn from the default lifecycle, an event id per row. Each measurement runs
in a fresh subprocess (so its peak resident memory is its own): the event log with
``engine="duckdb"`` and the transitions, step Sankey and funnel on it (SQL in DuckDB); and, at a
size that fits, the pandas engine (read the Parquet into pandas, then the same analyses) and, with
``--spark``, Spark on ``local[2]``; their frames must be identical.

Usage::

    python benchmarks/bench_duckdb_paths.py [--millions 50] [--compare-millions 5] [--spark]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / ".data"

_MEASURE = r"""
import json, pickle, resource, sys, time
import pandas as pd
from journeylib import paths
from journeylib.stages import default_lifecycle
engine, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
lc = default_lifecycle()
t0 = time.perf_counter()
if engine == "pandas":
    frame = pd.read_parquet(path)
    log = paths.event_log(frame, lc, as_of="2026-10-31")
    events = len(log.ts)
else:
    log = paths.event_log(path, lc, engine=engine, as_of="2026-10-31")
    events = log.n_events
t_log = time.perf_counter() - t0
moves = paths.transitions(log, collapse=True)
links = paths.step_sankey(log, max_steps=6)
funnel = paths.funnel(log)
seconds = time.perf_counter() - t0
with open(out, "wb") as f:
    pickle.dump((moves, links, funnel), f)
print(json.dumps({"engine": engine, "events": int(events), "journeys": int(log.n_journeys),
                  "log_seconds": round(t_log, 1), "seconds": round(seconds, 1),
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""


def dataset(millions: float) -> Path:
    """``touchpoints.parquet`` with that many million rows (written once)."""
    import duckdb

    from journeylib.stages import default_lifecycle

    n = int(millions * 1_000_000)
    path = DATA / f"touchpoints-{n}" / "touchpoints.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    stages = ", ".join(f"'{s}'" for s in default_lifecycle().ids)
    print(f"writing {n:,} touchpoints (once) to {path} ...", flush=True)
    con = duckdb.connect(config={"memory_limit": "3GB", "threads": 2})
    con.execute(f"""
        COPY (SELECT 'A' || lpad(CAST(hash(i // 100) % {max(n // 100, 1)} AS VARCHAR), 8, '0') AS account_id,
                     TIMESTAMPTZ '2023-11-01 00:00:00+00' + to_seconds(CAST(hash(i, 7) % 94608000 AS BIGINT))
                         AS timestamp,
                     list_element([{stages}], CAST(1 + hash(i, 11) % 10 AS INTEGER)) AS stage,
                     'E' || CAST(i AS VARCHAR) AS event_id
              FROM range({n}) t(i))
        TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    con.close()
    return path


def measure(engine: str, path: Path) -> dict:
    """Run the analyses in a fresh process; its result frames are read back into ``frames``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "frames.pickle"
        run = subprocess.run([sys.executable, "-c", _MEASURE, engine, str(path), str(out)], capture_output=True,
                             text=True)
        if run.returncode:
            return {"engine": engine, "error": run.stderr.strip().splitlines()[-1][:300]}
        result = json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])
        result["frames"] = pd.read_pickle(out)
    return result


def same_frames(a: dict, b: dict) -> bool:
    """True when transitions, the step Sankey and the funnel are equal exactly."""
    try:
        for x, y in zip(a["frames"], b["frames"]):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
    except AssertionError as exc:
        print(f"{a['engine']} and {b['engine']} differ: {exc}")
        return False
    return True


def show(result: dict) -> None:
    print(json.dumps({k: v for k, v in result.items() if k != "frames"}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=float, default=50, help="size run by DuckDB alone (0: skip)")
    parser.add_argument("--compare-millions", type=float, default=5, help="size run by every engine (0: skip)")
    parser.add_argument("--spark", action="store_true", help="also run Spark (local[2]) at the compare size")
    args = parser.parse_args(argv)
    if args.compare_millions:
        small = dataset(args.compare_millions)
        runs = [measure(e, small) for e in ("duckdb", "pandas") + (("spark",) if args.spark else ())]
        for r in runs:
            show(r)
        ok = [r for r in runs if "error" not in r]
        if len(ok) == len(runs):
            duck, pandas_ = runs[0], runs[1]
            same = all(same_frames(r, pandas_) for r in runs if r is not pandas_)
            print(f"{args.compare_millions:g}M touchpoints: duckdb {duck['seconds']} s, {duck['peak_gb']:.2f} GB; "
                  f"pandas {pandas_['seconds']} s, {pandas_['peak_gb']:.2f} GB; time ratio "
                  f"{pandas_['seconds'] / duck['seconds']:.1f}x, "
                  f"memory ratio {pandas_['peak_gb'] / duck['peak_gb']:.1f}x"
                  + (f"; spark {runs[2]['seconds']} s (the JVM's memory is not counted)" if args.spark else "")
                  + f"; identical frames: {same}")
    if not args.millions:
        return 0
    big = measure("duckdb", dataset(args.millions))
    show(big)
    if "error" not in big:
        print(f"{args.millions:g}M touchpoints with duckdb: {big['seconds']} s, peak {big['peak_gb']:.2f} GB "
              f"(goal < 4 GB: {'met' if big['peak_gb'] < 4 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
