"""The monthly review: run every notebook with papermill, record what they found.

Notebooks call :func:`configure` once, then :func:`record` for headline numbers
and :func:`record_figure` for the figures the deck shows; both write into the
notebook's ``output_dir`` so tests and the deck read numbers, not screenshots::

    journeylib.review.configure(output_dir, notebook="00_data_health")
    journeylib.review.record(rows_used=1234, rows_set_aside=5)
    journeylib.review.record_figure("coverage", fig)

:func:`run_review` (``journey review``) executes ``notebooks/*.ipynb`` into
``reports/YYYY-MM/`` (each executed notebook and its HTML, the quarantine CSV,
``manifest.json``). It writes into a temporary folder first and moves it into
place at the end, so a partial run never leaves a half-written report.
"""
from __future__ import annotations

import contextlib
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
from typing import Any

import numpy as np
import pandas as pd

from .errors import JourneyWarning, ParameterError, did_you_mean, mask_secrets
from .widgets import HEADLESS_ENV

__all__ = [
    "configure", "record", "record_figure", "read_results", "read_figure", "run_review", "ReviewResult",
    "COMMON_PARAMETERS", "NOTEBOOKS_DIR", "last_complete_month", "month_end", "check_notebook_parameters",
    "models_dir", "record_section", "CHANGES_SECTION",
]

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
#: Title of the deck section that notebooks fill with what changed since last month.
CHANGES_SECTION = "What changed since last month"
# Every notebook declares these in its `parameters` cell; the review passes them.
COMMON_PARAMETERS = ("data_path", "as_of", "month", "output_dir", "config")
_PACKAGES = ("journeylib", "pandas", "numpy", "pyarrow", "duckdb", "plotly", "papermill", "nbconvert", "lifelines",
             "scikit-learn", "ipykernel")
_CONTEXT: dict[str, Any] = {"output_dir": None, "notebook": None}
CELL_TIMEOUT = 900  # seconds one notebook cell may run before the notebook counts as failed (no silent hang)


# --------------------------------------------------------------------------- recording
def _json_value(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return {"columns": [str(c) for c in value.columns],
                "data": [[_json_value(v) for v in row] for row in value.itertuples(index=False)]}
    if isinstance(value, pd.Series):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if value is pd.NaT or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return str(value)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def configure(output_dir: str = "", notebook: str = "notebook") -> Path:
    """Set where :func:`record` and :func:`record_figure` write.

    Parameters
    ----------
    output_dir : str
        Folder of the recorded results; "" means ``./recorded`` beside the notebook
        (the kernel's working directory).
    notebook : str
        The notebook's name (the results file is ``results/NOTEBOOK.json``).

    Returns
    -------
    Path of the output folder.
    """
    if not re.match(r"^[A-Za-z0-9_.\-]+$", notebook):
        raise ParameterError(f"notebook name {notebook!r} must be letters, digits, '_', '-' or '.'")
    folder = Path(output_dir) if output_dir else Path.cwd() / "recorded"
    folder.mkdir(parents=True, exist_ok=True)
    _CONTEXT.update(output_dir=folder, notebook=notebook)
    results = folder / "results" / f"{notebook}.json"
    if results.exists():
        results.unlink()  # a fresh run records afresh
    return folder


def models_dir(output_dir: str = "") -> Path:
    """Where fitted models that later months reuse are kept (DESIGN §5).

    In the review, ``output_dir`` is ``REPORTS/YYYY-MM`` (or its temporary twin), so
    models go to ``REPORTS/models/``; run by hand with ``output_dir=""`` they go to
    ``./recorded/models``.
    """
    folder = Path(output_dir).resolve().parent / "models" if output_dir else Path.cwd() / "recorded" / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _where() -> tuple[Path, str]:
    if _CONTEXT["output_dir"] is None:
        raise ParameterError("call journeylib.review.configure(output_dir, notebook=...) before record()")
    return _CONTEXT["output_dir"], _CONTEXT["notebook"]


def record(**values: Any) -> dict:
    """Record headline numbers (numbers, strings, lists, dicts or small DataFrames).

    Values accumulate across calls in ``OUTPUT_DIR/results/NOTEBOOK.json``.
    Returns everything recorded so far.
    """
    folder, notebook = _where()
    path = folder / "results" / f"{notebook}.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update({k: _json_value(v) for k, v in values.items()})
    _atomic_write(path, json.dumps(current, indent=2, sort_keys=True, allow_nan=False))
    return current


def record_figure(name: str, fig) -> Path:
    """Record a Plotly figure as JSON in ``OUTPUT_DIR/figures/NOTEBOOK/NAME.json``."""
    if not re.match(r"^[A-Za-z0-9_\-]+$", name):
        raise ParameterError(f"figure name {name!r} must be letters, digits, '_' or '-'")
    folder, notebook = _where()
    path = folder / "figures" / notebook / f"{name}.json"
    _atomic_write(path, fig.to_json(pretty=False))
    return path


def record_section(title: str, text: "str | list[str]" = (), figures: "list[str]" = (),
                   tables: "dict[str, pd.DataFrame] | None" = None, headlines: "list[dict] | dict | None" = None,
                   order: int | None = None, part: str = "") -> Path:
    """Record this notebook's section of the leadership deck.

    Sections with the same title are shown as one, their parts in ``order``: a notebook
    adds to a shared section (e.g. :data:`CHANGES_SECTION`) by recording a ``part``
    under its title.

    Parameters
    ----------
    title : str
        Section title.
    text : str or list of str
        A few plain sentences (escaped in the deck; no HTML).
    figures : list of str
        Names of figures recorded with :func:`record_figure`, in display order.
    tables : dict of title -> DataFrame, optional
        Small tables (a few dozen rows at most). Never put personal data here.
    headlines : dict or list of dict, optional
        Headline numbers: ``{"label": value}`` or dicts with ``label``, ``value``,
        ``unit`` ("%" for shares in [0, 1], or a unit word), ``better``
        ("higher"/"lower", colours the change vs last month) and ``headline``
        (False keeps it out of the deck's top cards).
    order : int, optional
        Position among sections (default 50; the section file name breaks ties).
    part : str, optional
        Name of a second (third, ...) section of the same notebook, letters, digits,
        '_' or '-'; default: the notebook's main section.

    Returns
    -------
    Path of the section file (``OUTPUT_DIR/sections/NOTEBOOK.json``, or
    ``NOTEBOOK--PART.json`` for a part).
    """
    folder, notebook = _where()
    if part and not re.match(r"^[A-Za-z0-9_\-]+$", part):
        raise ParameterError(f"section part {part!r} must be letters, digits, '_' or '-'")
    if isinstance(text, str):
        text = [text]
    if isinstance(headlines, dict):
        headlines = [{"label": k, "value": v} for k, v in headlines.items()]
    section = {
        "notebook": notebook, "title": str(title), "text": [str(t) for t in text], "figures": list(figures),
        "tables": [{"title": name, "data": _json_value(df)} for name, df in (tables or {}).items()],
        "headlines": [{k: _json_value(v) for k, v in h.items()} for h in (headlines or [])],
        "order": order,
    }
    missing = [f for f in section["figures"] if not (folder / "figures" / notebook / f"{f}.json").exists()]
    if missing:
        raise ParameterError(f"record_section: figures {missing} were not recorded; call record_figure first")
    path = folder / "sections" / (f"{notebook}--{part}.json" if part else f"{notebook}.json")
    _atomic_write(path, json.dumps(section, indent=2, sort_keys=True, allow_nan=False))
    return path


def read_results(output_dir: "str | Path", notebook: str) -> dict:
    """The numbers a notebook recorded."""
    path = Path(output_dir) / "results" / f"{notebook}.json"
    if not path.exists():
        raise ParameterError(f"no recorded results for notebook '{notebook}' in {output_dir}")
    return json.loads(path.read_text(encoding="utf-8"))


def read_figure(output_dir: "str | Path", notebook: str, name: str):
    """A recorded figure, as a ``plotly.graph_objects.Figure``."""
    import plotly.io as pio

    return pio.from_json((Path(output_dir) / "figures" / notebook / f"{name}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- months
def month_end(month: str) -> pd.Timestamp:
    """The last day of ``YYYY-MM``."""
    if not re.match(r"^\d{4}-\d{2}$", str(month)):
        raise ParameterError(f"month {month!r} is not YYYY-MM (e.g. 2026-10)")
    try:
        return pd.Period(str(month), freq="M").end_time.normalize()
    except ValueError:
        raise ParameterError(f"month {month!r} is not a valid month (e.g. 2026-10)") from None


def last_complete_month(last_day: pd.Timestamp) -> str:
    """The last month that ``last_day`` (the data's last date) completes."""
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
    import papermill

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


def export_html(notebook_path: Path, html_path: Path) -> None:
    """Export an executed notebook to HTML that renders offline (plotly.js inline, no CDN loaders)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook_path), as_version=4)
    nb.metadata.pop("widgets", None)  # else nbconvert adds a widget loader script from a CDN
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
        Data source passed to every notebook as ``data_path`` ("" = bundled sample).
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

    from .config import load_config
    from .data import load

    cfg = load_config(config)
    config_param = str(Path(config).resolve()) if isinstance(config, (str, Path)) and config else ""
    data_param = str(data or cfg.get("data") or "")
    if data_param and "://" not in data_param and not data_param.startswith("env:"):
        data_param = str(Path(data_param).resolve())
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    paths = _in_need_order(_notebooks(folder, only, cfg))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JourneyWarning)
        if month is None:
            probe = load(data_param or None, config=config)
            month = last_complete_month(probe.as_of)
        as_of = str(month_end(month).date())
        journey = load(data_param or None, as_of=as_of, config=config)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    final = out / month
    tmp = out / f".{month}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    params = {"data_path": data_param, "as_of": as_of, "month": month, "output_dir": str(tmp.resolve()),
              "config": config_param}
    result = ReviewResult(folder=final, month=month, as_of=as_of)
    journey.quarantine.to_csv(tmp / "quarantine.csv", index=False)
    (tmp / "load_report.txt").write_text(str(journey.report()) + "\n", encoding="utf-8")

    bar = tqdm(total=len(paths), desc=f"review {month}", unit="notebook", disable=not progress, file=sys.stderr)
    try:
        if jobs > 1:
            entries = _run_parallel(paths, jobs, tmp, final, folder, params, kernel_name, lambda: bar.update(1))
            result.notebooks.extend(entries[p.stem] for p in paths)
        else:
            for path in paths:
                result.notebooks.append(_run_notebook(path, tmp, final, folder, params, kernel_name))
                bar.update(1)
        bar.close()
        _finish(result, tmp, final, out, month, as_of, params, journey, include_pii)
    except BaseException:
        # never leave a half-written report: the previous complete one (if any) stays in place
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


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


def _run_parallel(paths: list[Path], jobs: int, tmp: Path, final: Path, folder: Path, params: dict,
                  kernel_name: str, done_one) -> dict[str, dict]:
    """Run notebooks ``jobs`` at a time, each after the notebooks it needs (when they are in this run)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    needs = _needs_in_run(paths)
    pending, running, entries = list(paths), {}, {}
    # processes, not threads: each kernel client keeps its own event loop and sockets
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        while pending or running:
            for path in [p for p in pending if all(n in entries for n in needs[p.stem])][:jobs - len(running)]:
                pending.remove(path)
                running[pool.submit(_run_notebook, path, tmp, final, folder, params, kernel_name)] = path.stem
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                entries[running.pop(fut)] = fut.result()
                done_one()
    return entries


@contextlib.contextmanager
def _environment(name: str, value: str):
    """Set an environment variable for the duration of the block, then restore it."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _run_notebook(path: Path, tmp: Path, final: Path, folder: Path, params: dict, kernel_name: str) -> dict:
    """Execute one notebook into ``tmp`` and export its HTML; return its manifest entry."""
    import papermill

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
            with _environment(HEADLESS_ENV, "1"):  # kernels inherit it: explorers draw nothing (see widgets)
                papermill.execute_notebook(str(path), str(out_nb), parameters=params, kernel_name=kernel_name,
                                           progress_bar=False, log_output=False, cwd=str(folder),
                                           execution_timeout=CELL_TIMEOUT, start_timeout=120,
                                           extra_arguments=["--IPKernelApp.log_level=ERROR"])
        except papermill.PapermillExecutionError as exc:
            entry.update(status="failed", error=f"{exc.ename}: {mask_secrets(str(exc.evalue))[:300]} "
                                                f"(cell {exc.exec_count})")
        except Exception as exc:  # kernel death, unreadable notebook
            entry.update(status="failed", error=f"{type(exc).__name__}: {mask_secrets(str(exc))[:300]}")
        if out_nb.exists():
            try:
                export_html(out_nb, tmp / f"{path.stem}.html")
            except Exception as exc:
                if entry["status"] == "ok":
                    entry.update(status="failed", error=f"HTML export failed: {type(exc).__name__}: {exc}")
    entry["seconds"] = round(time.perf_counter() - start, 2)
    return entry


def _finish(result: "ReviewResult", tmp: Path, final: Path, out: Path, month: str, as_of: str, params: dict,
            journey, include_pii: bool) -> None:
    """Write the manifest and the deck into ``tmp``, then move it into place."""
    manifest = {
        "month": month,
        "as_of": as_of,
        "parameters": {k: (mask_secrets(v) if k == "data_path" else v) for k, v in params.items()
                       if k != "output_dir"},
        "data": {"source": journey.source, "fingerprint": journey.fingerprint(),
                 "tables": journey.report().counts.to_dict(orient="records"),
                 "rows_set_aside": int(len(journey.quarantine))},
        "versions": _versions(),
        "git_commit": _git_commit(Path(__file__).resolve().parent),
        "notebooks": result.notebooks,
        "status": "ok" if not result.failed else "failed",
    }
    _atomic_write(tmp / "manifest.json", json.dumps(_json_value(manifest), indent=2, sort_keys=True))
    from .deck import build_deck

    build_deck(tmp, include_pii=include_pii)
    result.deck = final / "deck.html"
    old = out / f".{month}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)
