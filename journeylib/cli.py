"""The ``journey`` command line: ``validate``, ``synth``, ``review``, ``stages init``.

Exit codes (all commands): 0 success; 1 success with findings under ``--strict``;
2 command-line usage error; 3 data unusable; 4 a notebook of the review failed.
No traceback for any user error.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import warnings
from pathlib import Path

from . import __version__
from .errors import JourneyDataError, JourneyWarning, MappingError, ParameterError, StageConfigError, mask_secrets

__all__ = ["main", "EXIT_OK", "EXIT_FINDINGS", "EXIT_USAGE", "EXIT_DATA", "EXIT_NOTEBOOK"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_DATA, EXIT_NOTEBOOK = 0, 1, 2, 3, 4


def _config_path(args) -> str | None:
    if getattr(args, "config", None):
        return args.config
    default = Path("journey.yml")
    return str(default) if default.is_file() else None


def _iso_date(value: str | None, flag: str) -> str | None:
    """A date given on the command line: ISO ``YYYY-MM-DD`` only (``03/04/2026`` could be either order)."""
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ParameterError(f"{flag} {value!r} is not a date as YYYY-MM-DD (e.g. 2026-10-31); other forms such as "
                             "03/04/2026 are refused because the day and month order cannot be known")
    try:
        import pandas as pd

        return str(pd.Timestamp(value.strip()).date())
    except ValueError:
        raise ParameterError(f"{flag} {value!r} is not a valid date (e.g. 2026-10-31)") from None


def _settings(args) -> dict:
    """The files named by flags, read before any data: a missing or broken one is a usage error (exit 2)."""
    from .config import load_config
    from .data.mapping import load_mapping
    from .stages import load_lifecycle

    out = {"config": load_config(_config_path(args))}
    try:
        out["mapping"] = load_mapping(args.mapping) if getattr(args, "mapping", None) else None
    except MappingError as exc:
        raise ParameterError(f"--mapping: {exc}") from None
    out["stages"] = load_lifecycle(args.stages) if getattr(args, "stages", None) else None
    return out


def _cmd_validate(args) -> int:
    from .data import load

    as_of = _iso_date(args.as_of, "--as-of")
    settings = _settings(args)
    engine = _validation_engine(args, settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JourneyWarning)
        with tempfile.TemporaryDirectory(prefix="journeylib-contract-") as tmp:
            if engine == "duckdb":
                from .data.chunked import validation_report, write_contract_in_chunks
                from .data.contract import contract_report, quarantine_to_csv

                kw = dict(as_of=as_of, stages=settings["stages"], tz=args.tz, config=settings["config"])
                if args.contract or args.quarantine:  # the set-aside rows are in the contract written in chunks
                    contract = write_contract_in_chunks(args.contract or Path(tmp) / "contract", args.source, **kw)
                    report = contract_report(contract)
                else:
                    report = validation_report(args.source, **kw)
            else:
                from .data.contract import write_contract

                data = load(args.source, mapping=settings["mapping"], stages=settings["stages"], as_of=as_of,
                            tz=args.tz, config=settings["config"])
                report = data.report()
                if args.contract:
                    write_contract(data, args.contract)
            if args.quarantine:
                if engine == "duckdb":
                    quarantine_to_csv(contract, args.quarantine)
                else:
                    data.quarantine.to_csv(args.quarantine, index=False)
    if args.json:
        print(report.to_json())
    else:
        print(report)
        for w in caught:
            if issubclass(w.category, JourneyWarning):
                print(f"warning: {w.message}", file=sys.stderr)
        if args.quarantine:
            print(f"\nset-aside rows written to {args.quarantine}")
        if args.contract:
            print(f"validated contract written to {args.contract} (journeylib.load reads it without validating again)")
    return report.exit_code(strict=args.strict)


def _validation_engine(args, settings: dict) -> str:
    """``duckdb`` (touchpoints validated in chunks, their duplicates in DuckDB) or ``pandas`` (load)."""
    from .data.read import choose_source, resolve_source
    from .paths.parquet_log import choose_engine

    engine = choose_engine(resolve_source(choose_source(args.source, settings["config"])), args.engine)
    if engine == "duckdb":
        if settings["mapping"]:
            raise ParameterError("--mapping needs --engine pandas: the DuckDB engine validates tables already in the "
                                 "data contract's names (map the export with --engine pandas)")
    return engine


def _cmd_synth(args) -> int:
    from .synth import generate, write

    if args.accounts < 1:
        raise ParameterError(f"--accounts must be at least 1, got {args.accounts}")
    dataset = generate(n_accounts=args.accounts, seed=args.seed, end_date=_iso_date(args.end_date, "--end-date"))
    paths = write(dataset, args.out, format=args.format)
    n_tp = len(dataset.tables["touchpoints"])
    print(f"wrote {len(paths)} files for {args.accounts:,} accounts and {n_tp:,} touchpoints to {args.out}")
    return EXIT_OK


def _cmd_review(args) -> int:
    from .review import run_review
    from .review.memory import allocate_as_the_kernels

    if args.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {args.jobs}")
    allocate_as_the_kernels()
    result = run_review(month=args.month, data=args.data, out=args.out, only=args.only,
                        config=_config_path(args), progress=not args.quiet, jobs=args.jobs,
                        include_pii=args.include_pii)
    for nb in result.failed:
        print(f"notebook failed: {nb['notebook']} ({nb['error']}); kept at {nb['output']}", file=sys.stderr)
    print(result.folder)
    return EXIT_NOTEBOOK if result.failed else EXIT_OK


def _cmd_export_figures(args) -> int:
    from .review.export import export_figures
    from .review.runner import month_end

    month_end(args.month)  # a clear error for a month not written YYYY-MM
    folder = Path(args.out) / args.month
    paths = export_figures(folder, formats=[f.strip() for f in args.format.split(",") if f.strip()],
                           width=args.width)
    print(f"wrote {len(paths)} files to {folder / 'figures-export'}")
    return EXIT_OK


def _cmd_stages_init(args) -> int:
    import shlex

    from .data.stage_starter import stage_starter, starter_summary

    out = Path(args.out) if args.out else None
    exists = f"--out {out} already exists; give --force to overwrite it, or another file name"
    if out is not None and out.is_dir():
        raise ParameterError(f"--out {out} is a folder; give a file name such as {out / 'stages.yml'}")
    if out is not None and out.exists() and not args.force:  # before reading the data
        raise ParameterError(exists)
    text, table = stage_starter(args.source, mapping=args.mapping, config=_config_path(args))
    summary = starter_summary(table)
    if out is None:  # the file on stdout, the summary on stderr: `journey stages init SRC > stages.yml` works
        sys.stdout.write(text)
        print(summary, file=sys.stderr)
        return EXIT_OK
    try:
        with open(out, "w" if args.force else "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:  # created since the check above
        raise ParameterError(exists) from None
    except OSError as exc:
        raise ParameterError(f"--out {out}: cannot write the stage file ({exc.strerror})") from None
    command = ["journey", "validate", args.source, "--stages", str(out)]
    for flag, value in (("--mapping", args.mapping), ("--config", args.config)):
        if value:
            command += [flag, value]
    print(f"{summary} Wrote {out}; edit it, then check it with: {shlex.join(command)}")
    return EXIT_OK


class _UsageError(Exception):
    """A command line argparse refused (reported by :func:`main`, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: exit 2 with the usage line, no traceback
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="journey", description="B2B customer-journey analysis: validate data, make sample data, "
                                            "run the monthly review, start a stage file.")
    p.add_argument("--version", action="version", version=f"journeylib {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, required=True)

    v = sub.add_parser("validate", help="load a source and report what is used and set aside")
    v.add_argument("source", help="folder of CSV/Parquet files, DuckDB file, database URL, or env:VAR")
    v.add_argument("--mapping", help="column mapping YAML or preset (salesforce, hubspot)")
    v.add_argument("--stages", help="lifecycle / touchpoint stage mapping YAML")
    v.add_argument("--as-of", dest="as_of", help="analysis date YYYY-MM-DD (default: last date in the data)")
    v.add_argument("--tz", help="timezone of naive timestamps (default UTC)")
    v.add_argument("--config", help="journey.yml (default: ./journey.yml if present)")
    v.add_argument("--strict", action="store_true", help="exit 1 when any row is set aside as an error")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument("--quarantine", help="also write the set-aside rows to this CSV (may hold personal data)")
    v.add_argument("--engine", choices=("auto", "pandas", "duckdb"), default="auto",
                   help="duckdb: validate touchpoints.parquet in chunks, beyond memory (needs --as-of and an "
                        "accounts table; findings without the diagnosis of likely causes); auto: duckdb for "
                        "touchpoints over 1 GB (default)")
    v.add_argument("--contract", help="also write the validated contract (Parquet) to this folder: journeylib.load "
                                      "and journey review read it without validating again")
    v.set_defaults(func=_cmd_validate)

    s = sub.add_parser("synth", help="write a deterministic synthetic B2B dataset with planted truth")
    s.add_argument("--accounts", type=int, default=2000)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", required=True, help="output folder (truth goes to OUT/truth/)")
    s.add_argument("--format", choices=["csv", "parquet", "duckdb"], default="csv")
    s.add_argument("--end-date", dest="end_date", default="2026-10-31", help="last day of the data (fixed default)")
    s.set_defaults(func=_cmd_synth)

    r = sub.add_parser("review", help="run every notebook of the monthly review with papermill")
    r.add_argument("--month", help="review month YYYY-MM (default: last complete month in the data)")
    r.add_argument("--data", default="", help="data source (default: the bundled sample)")
    r.add_argument("--out", default="reports", help="reports folder (default: reports)")
    r.add_argument("--only", action="append", help="run only this notebook (repeatable)")
    r.add_argument("--config", help="journey.yml (default: ./journey.yml if present)")
    r.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    r.add_argument("--include-pii", dest="include_pii", action="store_true",
                   help="keep contact names and e-mails in the deck (default: redacted)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_review)

    e = sub.add_parser("export-figures", help="write the deck's figures of a month as PNG and SVG files for slides")
    e.add_argument("--month", required=True, help="review month YYYY-MM")
    e.add_argument("--out", default="reports", help="reports folder (default: reports)")
    e.add_argument("--format", default="png,svg", help="comma-separated: png, svg (default: both)")
    e.add_argument("--width", type=int, default=1200, help="width in pixels (default 1200)")
    e.set_defaults(func=_cmd_export_figures)

    st = sub.add_parser("stages", help="stage files: the lifecycle and the touchpoint -> stage mapping")
    st_sub = st.add_subparsers(dest="stages_command", metavar="{init}", parser_class=_Parser, required=True)
    si = st_sub.add_parser("init", help="write a starter stage file: every touchpoint name, its count and a "
                                        "guessed stage")
    si.add_argument("source", help="folder of CSV/Parquet files, DuckDB file, database URL, or env:VAR")
    si.add_argument("--mapping", help="column mapping YAML or preset (salesforce, hubspot)")
    si.add_argument("--config", help="journey.yml (default: ./journey.yml if present)")
    si.add_argument("--out", help="write the stage file here (default: print it)")
    si.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    si.set_defaults(func=_cmd_stages_init)
    return p


def _error(message: str, code: int, as_json: bool) -> int:
    """Report an error: plain text on stderr, or with --json a JSON object on stdout."""
    message = mask_secrets(message)
    if as_json:
        kind = {EXIT_USAGE: "usage", EXIT_DATA: "data_unusable"}.get(code, "error")
        print(json.dumps({"error": {"exit_code": code, "kind": kind, "message": message}}, indent=2))
    else:
        print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the ``journey`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        return _error(str(exc), EXIT_USAGE, as_json)
    try:
        return args.func(args)
    except JourneyDataError as exc:
        return _error(str(exc), EXIT_DATA, as_json)
    except (ParameterError, StageConfigError) as exc:
        return _error(str(exc), EXIT_USAGE, as_json)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
