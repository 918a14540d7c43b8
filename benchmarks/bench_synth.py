"""Benchmark of journeylib.synth: generate >= 1M touchpoints, then write them as Parquet.

Target: 1M touchpoints generated in under 30 s on 2 cores.

Usage::

    python benchmarks/bench_synth.py [--accounts N] [--seed S] [--repeat R]

Without ``--accounts`` the account count is sized from a small calibration run so
that the dataset holds at least one million touchpoints.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from journeylib.synth import generate, write

TARGET_TOUCHPOINTS = 1_000_000
TARGET_SECONDS = 30.0


def _accounts_for_target(seed: int) -> int:
    probe = generate(2000, seed=seed)
    per_account = len(probe.tables["touchpoints"]) / 2000
    return int(math.ceil(TARGET_TOUCHPOINTS / per_account * 1.05 / 100.0) * 100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=0, help="account count (default: sized for >= 1M touchpoints)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3, help="timed generate() runs (the median is reported)")
    args = parser.parse_args(argv)

    n = args.accounts or _accounts_for_target(args.seed)
    while True:
        times = []
        for _ in range(max(args.repeat, 1)):
            t = time.perf_counter()
            ds = generate(n, seed=args.seed)
            times.append(time.perf_counter() - t)
        n_tp = len(ds.tables["touchpoints"])
        if args.accounts or n_tp >= TARGET_TOUCHPOINTS:
            break
        n = int(math.ceil(n * TARGET_TOUCHPOINTS / n_tp * 1.02 / 100.0) * 100)
    gen = statistics.median(times)
    rows = sum(len(df) for df in ds.tables.values())
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write(ds, Path(tmp) / "parquet", "parquet")
        pq_s = time.perf_counter() - t
        size = sum(p.stat().st_size for p in (Path(tmp) / "parquet").glob("*.parquet"))

    print(f"accounts            {n:>12,}")
    print(f"touchpoints         {n_tp:>12,}")
    print(f"rows (all tables)   {rows:>12,}")
    print(f"generate() seconds  {gen:>12.2f}   (median of {len(times)}: {', '.join(f'{x:.2f}' for x in times)})")
    print(f"touchpoints/second  {n_tp / gen:>12,.0f}")
    print(f"write parquet s     {pq_s:>12.2f}   ({size / 1e6:.1f} MB)")
    ok = n_tp >= TARGET_TOUCHPOINTS and gen < TARGET_SECONDS
    print(f"target (>= {TARGET_TOUCHPOINTS:,} touchpoints in < {TARGET_SECONDS:.0f} s): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
