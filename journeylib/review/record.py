"""In-kernel recording: what a notebook of the review found, written for the deck and tests.

Notebooks call :func:`configure` once, then :func:`record` for headline numbers,
:func:`record_figure` for the figures the deck shows and :func:`record_section` for
their deck section; all write into the notebook's ``output_dir`` so tests and the deck
read numbers, not screenshots (docs/architecture.md, "The monthly review")::

    journeylib.review.configure(output_dir, notebook="00_data_health")
    journeylib.review.record(rows_used=1234, rows_set_aside=5)
    journeylib.review.record_figure("coverage", fig)

This module imports nothing heavier than pandas, and pandas only when it writes: it runs inside every
notebook kernel, and the review's own process imports it.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from .memory import PEAK_MEMORY_ENV, collect_and_release, release_memory

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["configure", "record", "record_figure", "record_section", "read_results", "read_figure", "models_dir",
           "release_memory", "CHANGES_SECTION"]

#: Title of the deck section that notebooks fill with what changed since last month.
CHANGES_SECTION = "What changed since last month"
_CONTEXT: dict[str, Any] = {"output_dir": None, "notebook": None}


# --------------------------------------------------------------------------- recording
def _json_value(value: Any) -> Any:
    import numpy as np
    import pandas as pd

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
    _release_memory_after_each_cell()
    return folder


def _release_after_cell(result: Any = None) -> None:
    collect_and_release()  # frames left in reference cycles: the collector's own schedule can hold them for many cells
    if os.environ.get(PEAK_MEMORY_ENV) and _CONTEXT.get("output_dir"):
        try:
            import resource
        except ImportError:  # not on Windows
            return
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        _atomic_write(Path(_CONTEXT["output_dir"]) / ".kernels" / f"{_CONTEXT['notebook']}.json",
                      json.dumps({"peak_rss_bytes": int(peak)}))


def _release_memory_after_each_cell() -> None:
    """In an IPython kernel, :func:`release_memory` after every cell (registered once)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and _release_after_cell not in shell.events.callbacks["post_run_cell"]:
        import gc

        # what exists now (libraries, the loaded data) is left out of the collections after each cell, which
        # then cost milliseconds instead of 0.1 s a cell
        gc.collect()
        gc.freeze()
        shell.events.register("post_run_cell", _release_after_cell)


def models_dir(output_dir: str = "") -> Path:
    """Where fitted models that later months reuse are kept (docs/architecture.md, "The monthly review").

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
                   order: int | None = None, part: str = "", attention: "list[dict] | None" = None) -> Path:
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
        ("higher"/"lower", colours the change), ``previous`` (the same number
        recomputed from the data as of the previous month end; the card shows the
        change against it, and nothing without it) and ``headline`` (False keeps it
        out of the deck's top cards).
    order : int, optional
        Position among sections (default 50; the section file name breaks ties).
    part : str, optional
        Name of a second (third, ...) section of the same notebook, letters, digits,
        '_' or '-'; default: the notebook's main section.
    attention : list of dict, optional
        Items for the deck's first screen, "What needs attention": dicts with ``kind``
        (the list it belongs to, e.g. "At risk"), ``name`` (an account or deal, shown as
        text), ``value`` (e.g. "12,400 USD ARR") and ``why`` (one line). Give the few that
        matter most, most important first; the deck shows the first five of each kind.

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
        "attention": [{k: _json_value(item.get(k)) for k in ("kind", "name", "value", "why")}
                      for item in (attention or [])],
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


