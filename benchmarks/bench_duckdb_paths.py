"""Benchmark of the DuckDB engine on touchpoints beyond memory: peak memory and time of the path analyses.

Goal (issue #16): 50M touchpoints with peak memory < 4 GB.

A Parquet file of N touchpoints (``--millions``, default 50) is generated once with DuckDB into
``benchmarks/.data/`` (never committed): 100 touchpoints per account on average, timestamps over
three years, stages drawn from the default lifecycle, an event id per row. Each measurement runs
in a fresh subprocess (so its peak resident memory is its own): the event log with
``engine="duckdb"`` and the transitions, step Sankey and funnel on it; and, for comparison at a
size that fits, the pandas engine (read the Parquet into pandas, then the same analyses).

Usage::

    python benchmarks/bench_duckdb_paths.py [--millions 50] [--compare-millions 5]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"

_MEASURE = r"""
import json, resource, sys, time
import pandas as pd
from journeylib import paths
from journeylib.stages import default_lifecycle
engine, path = sys.argv[1], sys.argv[2]
lc = default_lifecycle()
t0 = time.perf_counter()
if engine == "duckdb":
    log = paths.event_log(path, lc, engine="duckdb", as_of="2026-10-31")
else:
    frame = pd.read_parquet(path)
    log = paths.event_log(frame, lc, as_of="2026-10-31")
t_log = time.perf_counter() - t0
moves = paths.transitions(log, collapse=True)
links = paths.step_sankey(log, max_steps=6)
funnel = paths.funnel(log)
seconds = time.perf_counter() - t0
print(json.dumps({"engine": engine, "events": int(len(log.ts)), "journeys": int(log.n_journeys),
                  "log_seconds": round(t_log, 1), "seconds": round(seconds, 1),
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "transitions": int(moves["transitions"].sum()), "sankey_links": int(len(links)),
                  "reached_decision": int(funnel.set_index("stage").loc["decision", "reached"])}))
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
    run = subprocess.run([sys.executable, "-c", _MEASURE, engine, str(path)], capture_output=True, text=True)
    if run.returncode:
        return {"engine": engine, "error": run.stderr.strip().splitlines()[-1][:300]}
    return json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=float, default=50)
    parser.add_argument("--compare-millions", type=float, default=5, help="size run by both engines (0: skip)")
    args = parser.parse_args(argv)
    if args.compare_millions:
        small = dataset(args.compare_millions)
        both = [measure("duckdb", small), measure("pandas", small)]
        for r in both:
            print(json.dumps(r))
        if all("error" not in r for r in both):
            same = all(both[0][k] == both[1][k] for k in ("events", "journeys", "transitions", "sankey_links",
                                                           "reached_decision"))
            print(f"{args.compare_millions:g}M touchpoints: duckdb {both[0]['seconds']} s, "
                  f"{both[0]['peak_gb']:.2f} GB; pandas {both[1]['seconds']} s, {both[1]['peak_gb']:.2f} GB; memory ratio "
                  f"{both[1]['peak_gb'] / both[0]['peak_gb']:.1f}x; same results: {same}")
    big = measure("duckdb", dataset(args.millions))
    print(json.dumps(big))
    if "error" not in big:
        print(f"{args.millions:g}M touchpoints with duckdb: {big['seconds']} s, peak {big['peak_gb']:.2f} GB "
              f"(goal < 4 GB: {'met' if big['peak_gb'] < 4 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
