"""Benchmark of the DuckDB engine on touchpoints beyond memory: peak memory and time of the path analyses
and the scorecard.

Goal (issue #16): 50M touchpoints with peak memory < 4 GB.

A Parquet file of N touchpoints (``--millions``, default 50) is generated once with DuckDB into
``benchmarks/.data/`` (never committed): 100 touchpoints per account on average, timestamps over
three years, stages drawn from the default lifecycle, a touchpoint name (some the scorecard counts),
an outcome and an event id per row. Each measurement runs in a fresh subprocess (so its peak
resident memory is its own): the event log with ``engine="duckdb"``, the journeys, transitions,
step Sankey and funnel on it, and the scorecard of 2026-10 (SQL in DuckDB); and, at a size that
fits, the pandas engine (read the Parquet into pandas, then the same analyses) and, with
``--spark``, Spark on ``local[2]``; their frames must be identical.

With ``--validate`` an accounts table (each account id once) is written beside the touchpoints and
the folder is validated: by ``journeylib.load`` and in chunks (``journey validate --engine duckdb``)
at the compare size, where their counts and findings must be equal, and in chunks at the big size.
With ``--contract`` the validated contract is also written, by ``write_contract`` of the loaded data and
by ``write_contract_in_chunks``, whose fingerprints must be equal.

Usage::

    python benchmarks/bench_duckdb_paths.py [--millions 50] [--compare-millions 5] [--spark] [--validate [--contract]]
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
#: Touchpoint names of the generated data: the scorecard counts some (any case), not others.
NAMES = ["webinar", "Webinar", "demo_request", "whitepaper_download", "case_study_download", "referral_given",
         "paid_search_ad", "email_open", "sales_call", "support_ticket"]

_MEASURE = r"""
import json, pickle, resource, sys, time
from types import SimpleNamespace
import pandas as pd
from journeylib import kpis, paths
from journeylib.schema import TABLES
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
trips = paths.journeys(log)
if engine == "pandas":
    tables = {name: None for name in TABLES}
    card = kpis.scorecard(SimpleNamespace(**{**tables, "touchpoints": frame, "lifecycle": lc}), "2026-10")
else:
    card = kpis.scorecard(path, "2026-10", engine=engine, lifecycle=lc)
seconds = time.perf_counter() - t0
with open(out, "wb") as f:
    pickle.dump((moves, links, funnel, trips, card), f)
print(json.dumps({"engine": engine, "events": int(events), "journeys": int(log.n_journeys),
                  "log_seconds": round(t_log, 1), "seconds": round(seconds, 1),
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
"""


def dataset(millions: float) -> Path:
    """``touchpoints.parquet`` with that many million rows (written once)."""
    import duckdb

    from journeylib.stages import default_lifecycle

    n = int(millions * 1_000_000)
    path = DATA / f"touchpoints-{n}-named" / "touchpoints.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    stages = ", ".join(f"'{s}'" for s in default_lifecycle().ids)
    names = ", ".join(f"'{s}'" for s in NAMES)
    print(f"writing {n:,} touchpoints (once) to {path} ...", flush=True)
    con = duckdb.connect(config={"memory_limit": "3GB", "threads": 2})
    con.execute(f"""
        COPY (SELECT 'A' || lpad(CAST(hash(i // 100) % {max(n // 100, 1)} AS VARCHAR), 8, '0') AS account_id,
                     TIMESTAMPTZ '2023-11-01 00:00:00+00' + to_seconds(CAST(hash(i, 7) % 94608000 AS BIGINT))
                         AS timestamp,
                     list_element([{stages}], CAST(1 + hash(i, 11) % 10 AS INTEGER)) AS stage,
                     list_element([{names}], CAST(1 + hash(i, 13) % {len(NAMES)} AS INTEGER)) AS touchpoint,
                     CASE WHEN hash(i, 17) % 3 = 0 THEN 'attended' END AS outcome,
                     'E' || CAST(i AS VARCHAR) AS event_id
              FROM range({n}) t(i))
        TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
    con.close()
    return path


_VALIDATE = r"""
import json, resource, sys, time, warnings
from journeylib import load
from journeylib.data.chunked import validation_report, write_contract_in_chunks
from journeylib.data.contract import contract_report, write_contract
engine, folder, contract = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
t0 = time.perf_counter()
fingerprint = None
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    if engine == "pandas":
        data = load(folder, as_of="2026-10-31")
        report = data.report()
        if contract:
            write_contract(data, contract)
    elif contract:
        report = contract_report(write_contract_in_chunks(contract, folder, as_of="2026-10-31"))
    else:
        report = validation_report(folder, as_of="2026-10-31")
if contract:
    fingerprint = json.load(open(contract + "/contract.json"))["fingerprint"]
    report.findings = report.findings[report.findings["code"] != "likely_cause"]
counts = report.counts.set_index("table").loc["touchpoints"]
print(json.dumps({"engine": engine, "rows_read": int(counts["rows_read"]), "rows_used": int(counts["rows_used"]),
                  "seconds": round(time.perf_counter() - t0, 1), "fingerprint": fingerprint,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "counts": report.counts.to_json(), "findings": report.findings.drop(
                      columns=["message", "example_rows"]).to_json()}))
"""


def validation_source(path: Path) -> Path:
    """The touchpoints' folder with an accounts table (each account id once), as a source to validate."""
    import duckdb

    accounts = path.parent / "accounts.parquet"
    if not accounts.exists():
        duckdb.connect().execute(f"COPY (SELECT DISTINCT account_id FROM '{path}' ORDER BY 1) TO '{accounts}' "
                                 "(FORMAT parquet)")
    return path.parent


def measure_validation(engine: str, folder: Path, contract: bool = False) -> dict:
    """Validate the source in a fresh process: ``load`` (pandas) or in chunks (DuckDB); with ``contract`` also
    write the validated contract (``write_contract`` of the loaded data, or ``write_contract_in_chunks``)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run([sys.executable, "-c", _VALIDATE, engine, str(folder)]
                             + ([str(Path(tmp) / "contract")] if contract else []), capture_output=True, text=True)
    if run.returncode:
        return {"engine": engine, "error": run.stderr.strip().splitlines()[-1][:300]}
    return json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])


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
    """True when transitions, the step Sankey, the funnel, the journeys and the scorecard are equal exactly."""
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
    parser.add_argument("--validate", action="store_true",
                        help="also validate the touchpoints in chunks (DuckDB engine): pandas and chunks at the "
                             "compare size (same counts and findings), chunks alone at the big size")
    parser.add_argument("--contract", action="store_true",
                        help="with --validate: also write the validated contract both ways (same fingerprint); the "
                             "big size writes it in chunks")
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
        for contract in ([False] + ([True] if args.contract else [])) if args.validate else []:
            runs = [measure_validation(e, validation_source(small), contract) for e in ("pandas", "duckdb")]
            for r in runs:
                print(json.dumps({k: v for k, v in r.items() if k not in ("counts", "findings")}))
            if all("error" not in r for r in runs):
                same = all(runs[0][k] == runs[1][k] for k in ("counts", "findings", "fingerprint"))
                print(f"{'writing the contract of' if contract else 'validating'} {args.compare_millions:g}M "
                      f"touchpoints: pandas {runs[0]['seconds']} s, {runs[0]['peak_gb']:.2f} GB; chunks "
                      f"{runs[1]['seconds']} s, {runs[1]['peak_gb']:.2f} GB; same counts, findings"
                      f"{' and fingerprint' if contract else ''}: {same}")
    if not args.millions:
        return 0
    big = measure("duckdb", dataset(args.millions))
    show(big)
    if "error" not in big:
        print(f"{args.millions:g}M touchpoints with duckdb: {big['seconds']} s, peak {big['peak_gb']:.2f} GB "
              f"(goal < 4 GB: {'met' if big['peak_gb'] < 4 else 'NOT met'})")
    if args.validate:
        checked = measure_validation("duckdb", validation_source(dataset(args.millions)), args.contract)
        print(json.dumps({k: v for k, v in checked.items() if k not in ("counts", "findings")}))
        if "error" not in checked:
            print(f"{'writing the contract of' if args.contract else 'validating'} {args.millions:g}M touchpoints "
                  f"in chunks: {checked['seconds']} s, peak "
                  f"{checked['peak_gb']:.2f} GB (goal < 4 GB: {'met' if checked['peak_gb'] < 4 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
