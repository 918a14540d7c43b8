"""Benchmark of the monthly review at scale: wall time and peak memory of ``journey review``.

Goals (issue #16): 20,000 accounts in <= 90 s and <= 1.5 GB; 100,000 accounts (~10M
touchpoints) in <= 8 min and <= 6 GB, on 2 cores.

The dataset is synthesised once per size and seed into ``benchmarks/.data/`` (Parquet;
never committed) and reused. The review runs as a subprocess (``--jobs 2``); memory is the
peak of the summed resident memory (RSS) of the review and every kernel it starts, sampled every
0.2 s: the goal's measure. That sum counts a page shared by several of these processes (the
libraries' code) once per process; the peak of the summed proportional set size (PSS, each
shared page split among the processes that map it) is printed beside it, as the physical memory
the review needs. Besides the whole review, the time of each notebook and its kernel's peak memory
come from the manifest.

Usage::

    python benchmarks/bench_review.py [--accounts 20000] [--seed 7] [--jobs 2] [--only 02_journey_paths ...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

DATA = Path(__file__).resolve().parent / ".data"
GOALS = {20_000: (90.0, 1.5), 100_000: (480.0, 6.0)}  # seconds, GB


def dataset(accounts: int, seed: int) -> Path:
    """The synthetic source of that size, written once (Parquet)."""
    folder = DATA / f"synth-{accounts}-{seed}"
    if not (folder / "touchpoints.parquet").exists():
        print(f"synthesising {accounts:,} accounts (once) into {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "journeylib", "synth", "--accounts", str(accounts), "--seed", str(seed),
                        "--end-date", "2026-10-31", "--format", "parquet", "--out", str(folder)], check=True)
    return folder


def _tree_memory(proc: psutil.Process) -> tuple[int, int]:
    """(summed RSS, summed PSS) of ``proc`` and its descendants, in bytes."""
    rss = pss = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:  # a kernel ended while being listed: the next sample counts the others
        family = [proc]
    for p in family:
        try:
            with open(f"/proc/{p.pid}/smaps_rollup") as f:
                fields = dict(line.split()[:2] for line in f if line.split()[0] in ("Rss:", "Pss:"))
            rss += int(fields["Rss:"]) * 1024
            pss += int(fields["Pss:"]) * 1024
        except (OSError, KeyError, ValueError):
            try:
                rss += p.memory_info().rss  # no smaps_rollup (not Linux): RSS only
            except psutil.Error:
                pass
    return rss, pss


def run_review(source: Path, jobs: int, only: list[str]) -> dict:
    """Run ``journey review`` on the source; wall seconds, peak summed RSS and PSS, and the manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "journeylib", "review", "--data", str(source), "--month", "2026-10",
                "--out", tmp, "--jobs", str(jobs), "--quiet"] + sum((["--only", o] for o in only), [])
        start = time.perf_counter()
        proc = psutil.Popen(args)
        peak = [0, 0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                rss, pss = _tree_memory(proc)
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
                time.sleep(0.2)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        code = proc.wait()
        seconds = time.perf_counter() - start
        done.set()
        watcher.join()
        manifest = json.loads((Path(tmp) / "2026-10" / "manifest.json").read_text()) \
            if (Path(tmp) / "2026-10" / "manifest.json").exists() else {}
    return {"exit": code, "seconds": seconds, "peak_gb": peak[0] / 1e9, "peak_pss_gb": peak[1] / 1e9,
            "manifest": manifest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", action="append", default=[], help="run only this notebook (repeatable)")
    args = parser.parse_args(argv)

    source = dataset(args.accounts, args.seed)
    result = run_review(source, args.jobs, args.only)
    touchpoints = json.loads((source / "truth" / "summary.json").read_text()).get("touchpoints") \
        if (source / "truth" / "summary.json").exists() else None
    print(f"accounts          {args.accounts:>10,}" + (f"   touchpoints {touchpoints:,}" if touchpoints else ""))
    print(f"review            {result['seconds']:>10.1f} s   peak {result['peak_gb']:.2f} GB (RSS; PSS "
          f"{result['peak_pss_gb']:.2f} GB)   exit {result['exit']}")
    for entry in result["manifest"].get("notebooks", []):
        peak = entry.get("peak_memory_gb")
        print(f"  {entry['notebook']:<24} {entry['seconds']:>8.1f} s   "
              + (f"kernel peak {peak:.2f} GB   " if peak is not None else "") + entry["status"])
    goal = GOALS.get(args.accounts)
    if goal:
        ok = result["seconds"] <= goal[0] and result["peak_gb"] <= goal[1] and result["exit"] == 0
        print(f"goal              <= {goal[0]:.0f} s and <= {goal[1]} GB (RSS): {'met' if ok else 'NOT met'} "
              f"(time {result['seconds'] / goal[0]:.2f} of the goal, memory {result['peak_gb'] / goal[1]:.2f})")
    return 0 if result["exit"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
