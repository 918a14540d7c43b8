"""Benchmark of journeylib.paths against pm4py, retentioneering and a DuckDB floor.

For 1M and 5M touchpoints generated with :mod:`journeylib.synth` (stages assigned as
``journeylib.load`` would, written to Parquet in (timestamp, event_id) order), it times,
each from reading the Parquet file to its result:

* journeylib: ``paths.event_log`` (filter, encode, sort once) + ``paths.journeys`` +
  ``paths.transitions`` + ``paths.step_sankey`` (10 steps) on a pandas frame read with
  Arrow-backed dtypes; ``journeylib_per_call``: each of the three given its own event log (the
  filters and the sort repeated, as when every analysis started from the frame);
* pm4py: ``format_dataframe`` + ``discover_dfg`` (the directly-follows graph);
* retentioneering: ``Eventstream`` + ``collapse_events(loops=True)`` +
  ``transition_graph_data(edge_weight="count")``;
* the floor: DuckDB reading the same columns and ordering them by account, time and
  event id (``duckdb``), and reading only account and time ordered by them
  (``duckdb_keys``).

Every measurement runs in its own subprocess (imports excluded from the time), the
tools interleaved, and the median of ``--repeat`` runs is reported with each run's
peak resident memory (``VmHWM`` of that subprocess). The benchmark checks that
pm4py's directly-follows counts equal journeylib's uncollapsed transitions, and
compares retentioneering's collapsed transition counts with journeylib's collapsed
ones. Goals at 5M: >= 4x faster than pm4py, >= 2x faster than retentioneering,
within 4x of the floor, journeylib's peak memory under 2 GB.

pm4py (AGPL) and retentioneering are benchmark-only dependencies
(``benchmarks/requirements-bench.txt``, installed by ``make bench`` into
``.venv-bench``); journeylib never imports them. retentioneering runs with
``RETENTIONEERING_NO_TRACK=1``.

Usage::

    python benchmarks/bench_paths.py [--sizes 1000000,5000000] [--repeat 5] [--tools ...]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ["account_id", "timestamp", "event_id", "stage"]
TOOLS = ("journeylib", "journeylib_per_call", "pm4py", "retentioneering", "duckdb", "duckdb_keys")
GOALS = {"pm4py": 4.0, "retentioneering": 2.0, "floor": 4.0, "memory_mb": 2048.0}
MAX_STEPS = 10


# --------------------------------------------------------------------------- data
def make_log(target: int, seed: int, folder: Path) -> tuple[Path, int, int]:
    """Generate at least ``target`` touchpoints, assign stages, write Parquet; return path, rows, accounts."""
    import pandas as pd

    from journeylib import synth
    from journeylib.stages import default_lifecycle

    probe = synth.generate(2000, seed=seed)
    per_account = len(probe.tables["touchpoints"]) / 2000
    n = int(math.ceil(target / per_account * 1.02 / 100.0) * 100)
    while True:
        tp = synth.generate(n, seed=seed).tables["touchpoints"]
        if len(tp) >= target:
            break
        n = int(math.ceil(n * target / len(tp) * 1.02 / 100.0) * 100)
    lifecycle = default_lifecycle()
    stage, problem = lifecycle.assign(tp["touchpoint"], tp["channel"], tp["stage"])
    if (problem != "").any():
        raise SystemExit(f"{int((problem != '').sum())} touchpoints have no stage")
    log = pd.DataFrame({"account_id": tp["account_id"].astype(str), "timestamp": tp["timestamp"],
                        "event_id": tp["event_id"].astype(str), "stage": stage.astype(str)})
    log = log.sort_values(["timestamp", "event_id"], kind="stable").reset_index(drop=True)
    path = folder / f"touchpoints_{target // 1_000_000}m.parquet"
    log.to_parquet(path, index=False)
    return path, len(log), n


# --------------------------------------------------------------------------- one measurement
def _pairs_json(pairs: dict) -> list:
    return sorted([[str(a), str(b), int(c)] for (a, b), c in pairs.items()])


def run_one(tool: str, path: str, detail: str) -> dict:
    """Time one tool on one file in this process; return seconds, peak memory and results."""
    out: dict = {"tool": tool}
    if tool in ("journeylib", "journeylib_per_call"):
        import pandas as pd

        from journeylib import paths
        from journeylib.stages import default_lifecycle

        lifecycle = default_lifecycle()
        t0 = time.perf_counter()
        frame = pd.read_parquet(path, columns=COLUMNS, dtype_backend="pyarrow")
        if tool == "journeylib":  # filter, encode and sort once, then the three analyses
            log = paths.event_log(frame, lifecycle)
            journeys, moves = paths.journeys(log), paths.transitions(log)
            links = paths.step_sankey(log, max_steps=MAX_STEPS)
        else:  # each analysis with its own log (each filters and sorts again)
            journeys = paths.journeys(paths.event_log(frame, lifecycle))
            moves = paths.transitions(paths.event_log(frame, lifecycle))
            links = paths.step_sankey(paths.event_log(frame, lifecycle), max_steps=MAX_STEPS)
        out["seconds"] = time.perf_counter() - t0
        out["journeys"] = len(journeys)
        out["backward_share"] = float(journeys["has_backward"].mean())
        out["sankey_links"] = len(links)
        if detail:
            collapsed = paths.transitions(paths.event_log(frame, lifecycle), collapse=True)
            out["transitions"] = _pairs_json(dict(zip(zip(moves["from_stage"], moves["to_stage"]),
                                                      moves["transitions"])))
            out["collapsed"] = _pairs_json(dict(zip(zip(collapsed["from_stage"], collapsed["to_stage"]),
                                                    collapsed["transitions"])))
    elif tool == "pm4py":
        import pandas as pd
        import pm4py

        t0 = time.perf_counter()
        frame = pd.read_parquet(path, columns=COLUMNS)
        log = pm4py.format_dataframe(frame, case_id="account_id", activity_key="stage", timestamp_key="timestamp")
        dfg, _, _ = pm4py.discover_dfg(log)
        out["seconds"] = time.perf_counter() - t0
        if detail:
            out["transitions"] = _pairs_json(dfg)
    elif tool == "retentioneering":
        import pandas as pd
        from retentioneering import Eventstream

        t0 = time.perf_counter()
        frame = pd.read_parquet(path, columns=COLUMNS)
        stream = Eventstream(frame, schema={"path_cols": ["account_id"], "event_col": "stage",
                                            "timestamp_col": "timestamp"})
        collapsed = stream.collapse_events(loops=True)
        matrix = collapsed.transition_graph_data(edge_weight="count")
        out["seconds"] = time.perf_counter() - t0
        if detail:
            stacked = matrix.stack()
            ends = {"path_start", "path_end"}  # retentioneering's synthetic start and end events
            out["collapsed"] = _pairs_json({k: v for k, v in stacked.items()
                                            if v and k[0] != k[1] and not ends & {k[0], k[1]}})
    elif tool in ("duckdb", "duckdb_keys"):
        import duckdb

        # the floor: the columns journeylib reads (duckdb_keys: account and time only), in journey order
        columns, order = (COLUMNS, "account_id, timestamp, event_id") if tool == "duckdb" else \
            (COLUMNS[:2], "account_id, timestamp")
        t0 = time.perf_counter()
        table = duckdb.sql(f"SELECT {', '.join(columns)} FROM read_parquet('{path}') ORDER BY {order}").to_arrow_table()
        out["seconds"] = time.perf_counter() - t0
        out["rows"] = table.num_rows
    else:
        raise SystemExit(f"unknown tool {tool!r}; tools: {', '.join(TOOLS)}")
    out["peak_mb"] = peak_mb()
    return out


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    ``VmHWM`` is reset when the process execs, so the parent's size (inherited through
    fork) does not count; ``ru_maxrss`` survives exec and would include it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(tool: str, path: Path, detail: bool, timeout: float) -> dict:
    """Run one measurement in a fresh subprocess."""
    env = dict(os.environ, RETENTIONEERING_NO_TRACK="1", PYTHONWARNINGS="ignore")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result_file = fh.name
    try:
        proc = subprocess.run([sys.executable, __file__, "--run", tool, "--file", str(path), "--result", result_file]
                              + (["--detail"] if detail else []), env=env, capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            return {"tool": tool, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
        result = json.loads(Path(result_file).read_text())
        return result
    except subprocess.TimeoutExpired:
        return {"tool": tool, "error": [f"timed out after {timeout:.0f} s"]}
    finally:
        Path(result_file).unlink(missing_ok=True)


# --------------------------------------------------------------------------- report
def compare(a: list, b: list) -> str:
    da, db = {(x, y): c for x, y, c in a}, {(x, y): c for x, y, c in b}
    if da == db:
        return f"identical ({len(da)} pairs, {sum(da.values()):,} moves)"
    diff = [k for k in set(da) | set(db) if da.get(k) != db.get(k)]
    return f"DIFFERENT on {len(diff)} pairs, e.g. {sorted(diff)[:3]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000", help="touchpoint counts, comma separated")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per tool (the median is reported)")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed for one run")
    parser.add_argument("--data", default="", help="folder for the Parquet logs (default: a temporary folder)")
    parser.add_argument("--json", default="benchmarks/out/bench_paths.json", help="where the results are written")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--detail", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:  # child process: one measurement
        Path(args.result).write_text(json.dumps(run_one(args.run, args.file, args.detail)))
        return 0

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s) {unknown}; tools: {', '.join(TOOLS)}")
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    repeat = max(args.repeat, 1)
    report: dict = {"repeat": repeat, "python": sys.version.split()[0], "cpus": os.cpu_count(), "sizes": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.data) if args.data else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            t = time.perf_counter()
            path, rows, accounts = make_log(size, args.seed, folder)
            print(f"\n== {rows:,} touchpoints, {accounts:,} accounts ({path.stat().st_size / 1e6:.0f} MB Parquet, "
                  f"generated in {time.perf_counter() - t:.0f} s)", flush=True)
            runs: dict[str, list[dict]] = {tool: [] for tool in tools}
            details = {tool: measure(tool, path, True, args.timeout) for tool in tools
                       if tool not in ("duckdb", "journeylib_per_call")}
            for i in range(repeat):
                for tool in tools:
                    r = measure(tool, path, False, args.timeout)
                    runs[tool].append(r)
                    shown = f"{r['seconds']:.2f} s, {r['peak_mb']:.0f} MB" if "seconds" in r else r["error"]
                    print(f"  run {i + 1}/{repeat} {tool:18s} {shown}", flush=True)
            summary: dict = {"touchpoints": rows, "accounts": accounts, "tools": {}}
            for tool, rs in runs.items():
                ok = [r for r in rs if "seconds" in r]
                if ok:
                    summary["tools"][tool] = {"median_s": statistics.median(r["seconds"] for r in ok),
                                              "runs_s": [round(r["seconds"], 3) for r in ok],
                                              "peak_mb": max(r["peak_mb"] for r in ok)}
                else:
                    summary["tools"][tool] = {"error": rs[0].get("error")}
            checks = {}
            jl = details.get("journeylib", {})
            if "transitions" in jl and "transitions" in details.get("pm4py", {}):
                checks["pm4py DFG vs journeylib uncollapsed transitions"] = compare(jl["transitions"],
                                                                                   details["pm4py"]["transitions"])
            if "collapsed" in jl and "collapsed" in details.get("retentioneering", {}):
                checks["retentioneering collapsed graph vs journeylib collapsed transitions"] = compare(
                    jl["collapsed"], details["retentioneering"]["collapsed"])
            summary["checks"] = checks
            report["sizes"].append(summary)
            print_summary(summary)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nresults: {args.json}")
    return 0


def print_summary(summary: dict) -> None:
    tools = summary["tools"]
    print(f"\n  {'tool':18s} {'median s':>9s} {'peak MB':>8s}  runs")
    for tool, s in tools.items():
        if "median_s" in s:
            print(f"  {tool:18s} {s['median_s']:9.2f} {s['peak_mb']:8.0f}  {s['runs_s']}")
        else:
            print(f"  {tool:18s} failed: {s['error']}")
    jl = tools.get("journeylib", {}).get("median_s")
    if jl:
        for other, goal in (("pm4py", GOALS["pm4py"]), ("retentioneering", GOALS["retentioneering"])):
            t = tools.get(other, {}).get("median_s")
            if t:
                ratio = t / jl
                print(f"  journeylib is {ratio:.1f}x faster than {other} (goal >= {goal:.0f}x: "
                      f"{'met' if ratio >= goal else 'NOT met'})")
        for floor_tool, what in (("duckdb", "the columns it reads"), ("duckdb_keys", "account and time only")):
            floor = tools.get(floor_tool, {}).get("median_s")
            if floor:
                ratio = jl / floor
                print(f"  journeylib takes {ratio:.1f}x the DuckDB floor on {what} (goal <= {GOALS['floor']:.0f}x: "
                      f"{'met' if ratio <= GOALS['floor'] else 'NOT met'})")
        per_call = tools.get("journeylib_per_call", {}).get("median_s")
        if per_call:
            print(f"  journeylib with a log per analysis (sorting three times): {per_call:.2f} s")
        mem = tools["journeylib"]["peak_mb"]
        print(f"  journeylib peak memory {mem:.0f} MB (goal < {GOALS['memory_mb']:.0f} MB: "
              f"{'met' if mem < GOALS['memory_mb'] else 'NOT met'})")
    for name, verdict in summary.get("checks", {}).items():
        print(f"  check: {name}: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
