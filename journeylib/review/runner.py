"""The monthly review runner (``journey review``): every notebook with papermill, then the deck.

:func:`run_review` executes ``notebooks/*.ipynb`` into ``reports/YYYY-MM/`` (each
executed notebook and its HTML, the quarantine CSV, ``manifest.json``, the deck). It
writes into a temporary folder first and moves it into place at the end, so a partial
run never leaves a half-written report (docs/architecture.md, "The monthly review").
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (JourneyDataError, JourneyWarning, ParameterError, SourceError, did_you_mean, given,
                      mask_secrets)
from ..widgets import HEADLESS_ENV
from .memory import KERNEL_MEMORY, PEAK_MEMORY_ENV, collect_and_release

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["run_review", "ReviewResult", "COMMON_PARAMETERS", "NOTEBOOKS_DIR", "last_complete_month", "month_end",
           "check_notebook_parameters", "notebook_needs", "export_html", "tidy_outputs", "WIDGET_NOTE", "CELL_TIMEOUT"]

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
# Every notebook declares these in its `parameters` cell; the review passes them.
COMMON_PARAMETERS = ("data_path", "as_of", "month", "output_dir", "config")
_PACKAGES = ("journeylib", "pandas", "numpy", "pyarrow", "duckdb", "plotly", "papermill", "nbconvert", "lifelines",
             "scikit-learn", "ipykernel")
CONTRACT_DIR = "contract"  # the validated contract in the month's folder, read by every notebook
CELL_TIMEOUT = 900  # seconds one notebook cell may run before the notebook counts as failed (no silent hang)


# --------------------------------------------------------------------------- months
def month_end(month: str) -> "pd.Timestamp":
    """The last day of ``YYYY-MM``."""
    import pandas as pd

    if not re.match(r"^\d{4}-\d{2}$", str(month)):
        raise ParameterError(f"month {month!r} is not YYYY-MM (e.g. 2026-10)")
    try:
        return pd.Period(str(month), freq="M").end_time.normalize()
    except ValueError:
        raise ParameterError(f"month {month!r} is not a valid month (e.g. 2026-10)") from None


def last_complete_month(last_day: "pd.Timestamp") -> str:
    """The last month that ``last_day`` (the data's last date) completes."""
    import pandas as pd

    day = pd.Timestamp(last_day).normalize()
    period = day.to_period("M")
    if day != period.end_time.normalize():
        period = period - 1
    return str(period)


# --------------------------------------------------------------------------- runner
@dataclass
class ReviewResult:
    """What :func:`run_review` did: the report folder and each notebook's status."""

    folder: Path
    month: str
    as_of: str
    notebooks: list[dict] = field(default_factory=list)
    deck: Path | None = None

    @property
    def failed(self) -> list[dict]:
        return [n for n in self.notebooks if n["status"] != "ok"]


def check_notebook_parameters(path: Path, passed: dict[str, Any]) -> str | None:
    """Check a notebook declares every parameter we pass; return a message or None."""
    papermill = _papermill()

    try:
        declared = papermill.inspect_notebook(str(path))
    except Exception as exc:  # unreadable notebook JSON
        return f"cannot read the notebook's parameters ({type(exc).__name__}: {exc})"
    missing = [p for p in passed if p not in declared]
    if not declared:
        return "has no cell tagged 'parameters'; add one declaring " + ", ".join(passed)
    if missing:
        return ("its parameters cell does not declare " + ", ".join(repr(m) + did_you_mean(m, declared) for m in missing)
                + f"; declared: {', '.join(declared)}")
    return None


def _notebooks(folder: Path, only: list[str] | None, config: dict) -> list[Path]:
    names = config.get("notebooks")
    if names:
        paths = [folder / (n if n.endswith(".ipynb") else f"{n}.ipynb") for n in names]
        absent = [p.name for p in paths if not p.is_file()]
        if absent:
            raise ParameterError(f"notebooks listed in the config do not exist in {folder}: {', '.join(absent)}")
    else:
        paths = sorted(folder.glob("*.ipynb"))
    if only:
        stems = {p.stem: p for p in paths}
        chosen = []
        for o in only:
            key = o[:-6] if o.endswith(".ipynb") else o
            if key not in stems:
                raise ParameterError(f"--only {o!r}: no such notebook{did_you_mean(key, stems)}; "
                                     f"notebooks: {', '.join(stems)}")
            chosen.append(stems[key])
        paths = chosen
    if not paths:
        raise ParameterError(f"no notebooks found in {folder}")
    return paths


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_commit(folder: Path) -> str | None:
    try:
        res = subprocess.run(["git", "-C", str(folder), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


_CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*(?:mathjax|require\.js|require\.min\.js)[^\"]*\"[^>]*>\s*</script>",
                         re.IGNORECASE)


#: What an exported notebook shows where a widget was: exported HTML cannot run it.
WIDGET_NOTE = "Interactive view: open this notebook in JupyterLab to use it (its parameters set where it starts)."
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_PATH_REPR = re.compile(r"^(?:Posix|Windows)?Path\('[^']*'\)$")


def tidy_outputs(nb, replace: dict[str, str] | None = None):
    """Make an executed notebook fit to read: no review internals, no widget or path reprs.

    Every text in sources and outputs has each ``replace`` key swapped for its value (the
    review's temporary folder for the final one); a widget's output becomes :data:`WIDGET_NOTE`;
    a cell's result that is only a path (``record_section`` returns one) is dropped.
    Returns the notebook, changed in place.
    """
    def swap(text):
        if isinstance(text, list):
            return [swap(t) for t in text]
        if isinstance(text, str):
            for old, new in (replace or {}).items():
                text = text.replace(old, new)
        return text

    for cell in nb.cells:
        cell.source = swap(cell.source)
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None and _WIDGET_MIME in data:
                data = output["data"] = {"text/plain": WIDGET_NOTE, "text/html": f"<p><em>{WIDGET_NOTE}</em></p>"}
            elif (output.get("output_type") == "execute_result" and data is not None and set(data) == {"text/plain"}
                  and _PATH_REPR.match("".join(data["text/plain"]).strip())):
                continue
            if "text" in output:
                output["text"] = swap(output["text"])
            if data is not None:
                output["data"] = {k: swap(v) for k, v in data.items()}
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
    return nb


def export_html(notebook_path: Path, html_path: Path, replace: dict[str, str] | None = None) -> None:
    """Export an executed notebook to HTML that renders offline (plotly.js inline, no CDN loaders).

    The notebook is tidied first (:func:`tidy_outputs`, with ``replace``) and written back.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata.pop("widgets", None)  # else nbconvert adds a widget loader script from a CDN
    tidy_outputs(nb, replace)
    nbformat.write(nb, str(notebook_path))
    exporter = HTMLExporter(mathjax_url="", require_js_url="")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body, _ = exporter.from_notebook_node(nb)
    body = _CDN_SCRIPT.sub("", body)
    html_path.write_text(body, encoding="utf-8")


def run_review(month: str | None = None, data: str = "", out: "str | Path" = "reports",
               only: list[str] | None = None, config: Any = None, notebooks_dir: "str | Path | None" = None,
               progress: bool = True, kernel_name: str = "python3", include_pii: bool = False,
               jobs: int = 1) -> ReviewResult:
    """Run the monthly review.

    Parameters
    ----------
    month : str, optional
        ``YYYY-MM``; default: the last complete month in the data (never the clock).
    data : str
        Data source passed to every notebook as ``data_path`` ("" or None: the config's ``data``,
        else the bundled sample).
        ``env:VAR`` is passed through as is, so no secret reaches a notebook.
    out : path
        Reports folder; the review goes to ``OUT/YYYY-MM/``.
    only : list of str, optional
        Run only these notebooks (names without ``.ipynb``).
    include_pii : bool
        Keep contact names and e-mails in the deck (default: redacted).
    jobs : int
        Notebooks run at once (each in its own kernel).
    config : path or dict, optional
        A ``journey.yml``, passed on to the notebooks.

    Returns
    -------
    ReviewResult
    """
    from tqdm.auto import tqdm

    from ..config import load_config

    # The edge: empty parameters become None here, the config is read once.
    config, month = given(config), given(month)
    cfg = load_config(config)
    config_param = str(Path(config).resolve()) if isinstance(config, (str, Path)) else ""
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    paths = _in_need_order(_notebooks(folder, only, cfg))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Loaded and validated once, in a process of its own: every notebook reads the validated contract, not the
    # source again, and the memory of the validation is the system's again before the kernels start (this
    # process kept 0.25 GB of it at 20,000 accounts, 0.5 GB at 100,000, through the whole review). That process
    # allocates as the kernels do (KERNEL_MEMORY): at 20,000 accounts it peaked at 0.94 GB instead of 1.22.
    # The source is chosen and read there: this process imports no pandas, pyarrow or numpy until its kernels
    # are done (at 20,000 accounts it held 0.19 to 0.23 GB at the review's peak, 0.10 GB now).
    loaded = _in_child_process(_validate_source, data, cfg, month, out, os.getpid(), env=KERNEL_MEMORY)
    month, as_of, tmp, contract = loaded["month"], loaded["as_of"], loaded["tmp"], loaded["contract"]
    final = out / month
    if loaded["unusable"]:  # nothing to review: say why instead of failing every notebook
        shutil.rmtree(tmp, ignore_errors=True)
        raise JourneyDataError(loaded["unusable"])
    params = {"data_path": str(contract.resolve()), "as_of": as_of, "month": month,
              "output_dir": str(tmp.resolve()), "config": config_param}
    result = ReviewResult(folder=final, month=month, as_of=as_of)
    collect_and_release()

    bar = tqdm(total=len(paths), desc=f"review {month}", unit="notebook", disable=not progress, file=sys.stderr)
    # kernels inherit these: explorers draw nothing (see widgets); one thread per numeric library; the
    # allocators' settings (KERNEL_MEMORY)
    try:
        with _environment({HEADLESS_ENV: "1", PEAK_MEMORY_ENV: "1"}, defaults={**KERNEL_THREADS, **KERNEL_MEMORY}):
            if jobs > 1:
                entries = _run_parallel(paths, jobs, tmp, final, folder, params, kernel_name, lambda: bar.update(1),
                                        expected_seconds(paths, out, month))
                result.notebooks.extend(entries[p.stem] for p in paths)
            else:
                for path in paths:
                    result.notebooks.append(_run_notebook(path, tmp, final, folder, params, kernel_name))
                    collect_and_release()
                    bar.update(1)
        bar.close()
        _finish(result, tmp, final, out, month, as_of, {**params, "data_path": loaded["data_param"]},
                loaded["summary"], loaded["currency"], include_pii)
    except BaseException:
        # never leave a half-written report: the previous complete one (if any) stays in place
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


#: A review with ``--month`` validates touchpoints Parquet over this size in chunks: loaded at once, the
#: source takes about 68 times its size on disk at the peak (7.4 GB for the 109 MB of 100,000 accounts; 3.1 GB
#: in chunks, and 2 s slower), and in chunks it is never more than about 3 GB.
REVIEW_CHUNK_BYTES = 50_000_000


def _loads_in_chunks(data_param: str, cfg: dict, threshold: int | None = None) -> bool:
    """True when the source's touchpoints are a Parquet file larger than ``threshold`` bytes (default: too large
    to load at once, :data:`~journeylib.data.engines.AUTO_DUCKDB_BYTES`) and no column mapping applies: the
    review then validates them in chunks (:func:`~journeylib.data.chunked.write_contract_in_chunks`)."""
    from ..data.contract import is_contract
    from ..data.engines import AUTO_DUCKDB_BYTES, touchpoints_files
    from ..data.read import resolve_source

    if cfg.get("mapping") or not data_param or "://" in data_param or data_param.startswith("env:"):
        return False
    resolved = Path(resolve_source(data_param))
    if not resolved.is_dir() or is_contract(resolved) or \
            not any(p.name.lower() == "touchpoints.parquet" and p.is_file() for p in resolved.iterdir()):
        return False
    try:
        files, _ = touchpoints_files(resolved)
    except SourceError:
        return False  # loaded at once, where the problem gets its own message
    limit = AUTO_DUCKDB_BYTES if threshold is None else min(threshold, AUTO_DUCKDB_BYTES)
    return sum(f.stat().st_size for f in files) > limit


def _in_child_process(function, *args, env: dict[str, str] | None = None):
    """``function(*args)`` in a new (spawned) Python process, with the environment variables ``env`` that this
    process's environment does not set; its exceptions are raised here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with _environment({}, defaults=env or {}), \
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _validate_source(data: str, cfg: dict, month: str | None, out: Path, tag: int) -> dict:
    """In the validation's process: the source chosen, loaded and validated into a new partial folder
    ``out/.MONTH.partial-TAG`` (with ``load_report.txt``), and what the review's process needs of it, in
    plain values (it imports no pandas while its kernels run): ``month`` (the last complete month in the data
    when not given), ``as_of``, ``tmp``, ``contract`` (folders), ``data_param`` (the source as passed on),
    ``currency``, ``summary`` (for the manifest) and ``unusable`` (the error's message when no table has a
    usable row, else None)."""
    from ..data import load
    from ..data.contract import FORMAT as CONTRACT_FORMAT
    from ..data.contract import read_meta
    from ..data.read import choose_source

    source = choose_source(data, cfg)  # the source chosen once
    data_param = "" if source is None else str(source)
    if data_param and "://" not in data_param and not data_param.startswith("env:"):
        data_param = str(Path(data_param).resolve())  # notebooks run in another folder
    in_chunks = _loads_in_chunks(data_param, cfg, REVIEW_CHUNK_BYTES if month else None)
    if in_chunks and month is None:
        raise ParameterError("give --month: the source's touchpoints are validated in chunks (over 1 GB of Parquet), "
                             "and the last date of that many touchpoints is not guessed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyWarning)
        if month is None:
            month = last_complete_month(load(data_param, config=cfg).as_of)
        as_of = str(month_end(month).date())
        tmp = out / f".{month}.partial-{tag}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        try:
            contract, report = _write_contract(data_param, cfg, as_of, tmp, in_chunks)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    (tmp / "load_report.txt").write_text(str(report) + "\n", encoding="utf-8")
    unusable = None
    if report.unusable:
        causes = [f"{f.message}; {f.suggestion}" for f in report.findings.itertuples() if f.code == "likely_cause"]
        unusable = (f"data unusable: no usable row in {', '.join(report.unusable)}"
                    + "".join(f"\n  - {c}" for c in causes) + "\nRun journey validate for the full report.")
    written = read_meta(contract)
    summary = {"source": written["source"], "fingerprint": written["fingerprint"],
               "tables": report.counts.to_dict(orient="records"), "rows_set_aside": int(written["rows_set_aside"]),
               "contract": {"folder": CONTRACT_DIR, "format": CONTRACT_FORMAT,
                            "validated": "in chunks, beyond memory (DuckDB)" if in_chunks else "in memory (pandas)",
                            "note": "the validated tables every notebook read (Parquet, without contact names "
                                    "and e-mails; its report/quarantine.parquet is internal, like quarantine.csv)"}}
    return {"month": month, "as_of": as_of, "tmp": tmp, "contract": contract, "data_param": data_param,
            "currency": written["currency"], "summary": _plain(summary), "unusable": unusable}


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python ones (what unpickles without numpy's types)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") and type(value).__module__ == "numpy" else value


def _write_contract(data_param: str, cfg: dict, as_of: str, tmp: Path, in_chunks: bool):
    """Load and validate the source once into ``tmp``: the contract folder and its load report; the set-aside
    rows go to ``tmp/quarantine.csv``."""
    from ..data import load
    from ..data.contract import write_contract

    if in_chunks:
        from ..data.chunked import write_contract_in_chunks
        from ..data.contract import contract_report, quarantine_to_csv

        contract = write_contract_in_chunks(tmp / CONTRACT_DIR, data_param, as_of=as_of, config=cfg)
        quarantine_to_csv(contract, tmp / "quarantine.csv")
        return contract, contract_report(contract)
    journey = load(data_param, as_of=as_of, config=cfg)
    contract = write_contract(journey, tmp / CONTRACT_DIR)
    journey.quarantine.to_csv(tmp / "quarantine.csv", index=False)
    return contract, journey.report()


def notebook_needs(path: Path) -> list[str]:
    """Notebooks whose outputs this one reads: ``metadata.journeylib.needs`` (names without ``.ipynb``)."""
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {}).get("journeylib", {})
    except (OSError, ValueError, AttributeError):
        return []  # an unreadable notebook fails later, with its own message
    needs = meta.get("needs", []) if isinstance(meta, dict) else []
    return [needs] if isinstance(needs, str) else [str(n) for n in needs]


def _needs_in_run(paths: list[Path]) -> dict[str, list[str]]:
    """Each notebook's needs among the notebooks of this run."""
    names = {p.stem for p in paths}
    return {p.stem: [n for n in notebook_needs(p) if n in names] for p in paths}


def _in_need_order(paths: list[Path]) -> list[Path]:
    """``paths`` reordered so each notebook comes after those it needs (stable otherwise)."""
    needs = _needs_in_run(paths)
    ordered: list[Path] = []
    done: set[str] = set()
    pending = list(paths)
    while pending:
        ready = [p for p in pending if all(n in done for n in needs[p.stem])]
        if not ready:
            raise ParameterError("notebooks need each other in a cycle: " + ", ".join(
                f"{p.stem} needs {', '.join(needs[p.stem])}" for p in pending))
        ordered.append(ready[0])
        done.add(ready[0].stem)
        pending.remove(ready[0])
    return ordered


def expected_seconds(paths: list[Path], out: Path, month: str) -> dict[str, float]:
    """How long each notebook is expected to run: its time in the latest earlier review under ``out``
    (that month's manifest), else its ``metadata.journeylib.expected_seconds``, else 1."""
    seconds: dict[str, float] = {}
    for path in paths:
        try:
            meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("journeylib", {})
            seconds[path.stem] = float(meta.get("expected_seconds", 1.0))
        except (OSError, ValueError, AttributeError, TypeError):
            seconds[path.stem] = 1.0
    earlier = sorted(p for p in out.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]/manifest.json") if p.parent.name < month)
    if earlier:
        try:
            for entry in json.loads(earlier[-1].read_text(encoding="utf-8")).get("notebooks", []):
                if entry.get("notebook") in seconds and entry.get("status") == "ok":
                    seconds[entry["notebook"]] = float(entry["seconds"])
        except (OSError, ValueError, TypeError, KeyError):
            pass  # an unreadable old manifest only loses the hint
    return seconds


def _critical_paths(paths: list[Path], seconds: dict[str, float]) -> dict[str, float]:
    """Per notebook, its expected seconds plus the longest chain of notebooks that need it."""
    needs = _needs_in_run(paths)
    longest: dict[str, float] = {}
    for path in reversed(_in_need_order(paths)):  # dependents first
        after = [longest[p.stem] for p in paths if path.stem in needs[p.stem]]
        longest[path.stem] = seconds.get(path.stem, 1.0) + max(after, default=0.0)
    return longest


def _run_parallel(paths: list[Path], jobs: int, tmp: Path, final: Path, folder: Path, params: dict,
                  kernel_name: str, done_one, seconds: dict[str, float] | None = None) -> dict[str, dict]:
    """Run notebooks ``jobs`` at a time, each after the notebooks it needs (when they are in this run).

    Among the notebooks ready to start, the one heading the longest expected chain goes first
    (``seconds``: :func:`expected_seconds`), so the two workers finish close together.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    _engine()  # papermill imported and the engine registered once here, not by two threads at once
    from nbconvert import HTMLExporter  # noqa: F401

    needs = _needs_in_run(paths)
    priority = _critical_paths(paths, seconds or {})
    pending = sorted(paths, key=lambda p: -priority[p.stem])  # stable: need order among equals
    running, entries = {}, {}
    # Threads, not processes: a notebook's time is spent in its kernel, and a worker process importing papermill,
    # nbconvert and pandas held 0.2 GB for nothing. Each thread's kernel client has its own event loop and
    # sockets; nothing here changes the working directory or the environment while they run.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            for path in [p for p in pending if all(n in entries for n in needs[p.stem])][:jobs - len(running)]:
                pending.remove(path)
                running[pool.submit(_run_notebook_in_thread, path, tmp, final, folder, params, kernel_name)] = path.stem
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                entries[running.pop(fut)] = fut.result()
                collect_and_release()  # the executed notebook and its HTML export, freed but held by the allocator
                done_one()
    return entries


#: Numeric libraries in a review's kernels run one thread each, unless the environment says otherwise. Two
#: kernels with two OpenMP/BLAS threads each on two cores spin against each other (notebook 01 took 62 s
#: instead of 33 s at 20,000 accounts), and one thread gives the same numbers whatever --jobs and the machine.
KERNEL_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
@contextlib.contextmanager
def _environment(values: dict[str, str], defaults: dict[str, str] | None = None):
    """Set environment variables for the duration of the block, then restore them: ``values``, and those of
    ``defaults`` that the environment does not set."""
    values = {**{k: v for k, v in (defaults or {}).items() if k not in os.environ}, **values}
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_notebook_in_thread(*args) -> dict:
    """:func:`_run_notebook` in a worker thread, closing the event loop its kernel client made for the thread."""
    import asyncio

    try:
        return _run_notebook(*args)
    finally:
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_event_loop_policy().get_event_loop()
            if not loop.is_running():
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
            asyncio.set_event_loop(None)


def _papermill():
    """papermill, imported without pyarrow when pyarrow is not imported yet: papermill's handler for HDFS (a file
    system the review never reads notebooks from) imports pyarrow, and numpy with it, when installed. The
    review's process then held 0.04 GB more while its kernels ran. pyarrow imports as usual afterwards."""
    if "papermill" not in sys.modules and "pyarrow" not in sys.modules:
        sys.modules["pyarrow"] = None  # papermill's `from pyarrow.fs import ...` then fails: no HDFS handler
        try:
            import papermill  # noqa: F401
        finally:
            if sys.modules.get("pyarrow", 0) is None:
                del sys.modules["pyarrow"]
    import papermill

    return papermill


@functools.cache
def _engine() -> str:
    """The papermill engine the review runs notebooks with (registered on first use): papermill's nbclient
    engine, with two changes.

    - The executed notebook is written once, at its end, not before and after every cell. A notebook's
      outputs carry plotly.js (4.8 MB), so every cell cost this process a 5 MB write while the two kernels
      needed both cores: at 20,000 accounts it used 18 s of CPU, 6.5 s now (the review took 81 s, 74 s
      now, one run each). A notebook that stops early (a kernel's death, a cell over :data:`CELL_TIMEOUT`) is
      still written, as far as it ran; papermill writes one with a failed cell itself.
    - A kernel is shut down without the interrupt (SIGINT) that jupyter_client sends first. Papermill asks
      for the kernel's info after the last cell and shuts the kernel down as soon as the reply comes: the
      interrupt then often caught the kernel still in that request's handler, which logged
      ``KeyboardInterrupt caught in kernel`` as an ERROR. The shutdown request alone ends an idle kernel; a
      busy one (a cell over its time) is killed after the manager's ``shutdown_wait_time``.
    """
    from jupyter_client import AsyncKernelManager

    _papermill()
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class NoInterruptAtShutdown(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    class ReviewEngine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, **kwargs):
            try:
                return super().execute_notebook(nb, kernel_name, output_path=None, **kwargs)
            except BaseException:
                if output_path:
                    write_ipynb(nb, output_path)
                raise

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            return super().execute_managed_notebook(nb_man, kernel_name, kernel_manager_class=NoInterruptAtShutdown,
                                                    **kwargs)

    papermill_engines.register(_ENGINE, ReviewEngine)
    return _ENGINE


_ENGINE = "journeylib"


def _run_notebook(path: Path, tmp: Path, final: Path, folder: Path, params: dict, kernel_name: str) -> dict:
    """Execute one notebook into ``tmp`` and export its HTML; return its manifest entry."""
    papermill = _papermill()

    out_nb = tmp / path.name
    entry = {"notebook": path.stem, "status": "ok", "seconds": 0.0, "output": str(final / path.name),
             "html": str(final / f"{path.stem}.html"), "error": None}
    problem = check_notebook_parameters(path, params)
    start = time.perf_counter()
    if problem:
        entry.update(status="bad_parameters", error=problem)
        shutil.copy(path, out_nb)
    else:
        try:
            # the kernel starts in the notebooks' folder (nbclient's resources): papermill's cwd= would chdir
            # this whole process, which threads running side by side cannot share
            papermill.execute_notebook(str(path), str(out_nb), parameters=params, kernel_name=kernel_name,
                                       engine_name=_engine(),
                                       progress_bar=False, log_output=False,
                                       resources={"metadata": {"path": str(folder.resolve())}},
                                       execution_timeout=CELL_TIMEOUT, start_timeout=120,
                                       extra_arguments=["--IPKernelApp.log_level=ERROR"])
        except papermill.PapermillExecutionError as exc:
            entry.update(status="failed", error=f"{exc.ename}: {mask_secrets(str(exc.evalue))[:300]} "
                                                f"(cell {exc.exec_count})")
        except Exception as exc:  # kernel death, unreadable notebook
            entry.update(status="failed", error=f"{type(exc).__name__}: {mask_secrets(str(exc))[:300]}")
        if out_nb.exists():
            try:
                export_html(out_nb, tmp / f"{path.stem}.html", replace={str(tmp.resolve()): str(final.resolve())})
            except Exception as exc:
                if entry["status"] == "ok":
                    entry.update(status="failed", error=f"HTML export failed: {type(exc).__name__}: {exc}")
    entry["seconds"] = round(time.perf_counter() - start, 2)
    peak = tmp / ".kernels" / f"{path.stem}.json"  # written by its kernel after every cell (review.configure)
    try:
        entry["peak_memory_gb"] = round(json.loads(peak.read_text(encoding="utf-8"))["peak_rss_bytes"] / 1e9, 3)
        peak.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        entry["peak_memory_gb"] = None  # a notebook that never called review.configure
    return entry


def _finish(result: "ReviewResult", tmp: Path, final: Path, out: Path, month: str, as_of: str, params: dict,
            data_summary: dict, currency: str, include_pii: bool) -> None:
    """Write the manifest and the deck into ``tmp``, then move it into place."""
    manifest = {
        "month": month,
        "as_of": as_of,
        "currency": currency,
        "parameters": {k: (mask_secrets(v) if k == "data_path" else v) for k, v in params.items()
                       if k != "output_dir"},
        "data": data_summary,
        "versions": _versions(),
        "git_commit": _git_commit(Path(__file__).resolve().parent),
        "notebooks": result.notebooks,
        "status": "ok" if not result.failed else "failed",
    }
    from .record import _atomic_write, _json_value

    _atomic_write(tmp / "manifest.json", json.dumps(_json_value(manifest), indent=2, sort_keys=True))
    shutil.rmtree(tmp / ".kernels", ignore_errors=True)
    from .deck import build_deck

    build_deck(tmp, include_pii=include_pii)  # the reports' index.html is rewritten once the month is in place
    result.deck = final / "deck.html"
    old = out / f".{month}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)
    from .deck import build_index

    build_index(out)
