"""Deck figures as image files for slides: ``journey export-figures --month M``.

Every figure a deck section shows is written as PNG (for slides) and SVG (for print and
editing) into ``REPORTS/M/figures-export/``, named ``NOTEBOOK--FIGURE.png``. Rendering is
kaleido's, in the machine's Chromium (``chromium`` on PATH, or ``BROWSER_PATH``), one browser
for all figures; no MathJax and nothing fetched from the network.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..checks import check_int, check_names
from ..errors import ParameterError
from .deck import read_sections

__all__ = ["export_figures", "EXPORT_DIR", "FORMATS"]

EXPORT_DIR = "figures-export"
FORMATS = ("png", "svg")


def export_figures(folder: "str | Path", *, formats: "list[str] | tuple[str, ...]" = FORMATS, width: int = 1200,
                   scale: int = 2) -> list[Path]:
    """Write every deck figure of a review folder as image files.

    Parameters
    ----------
    folder : path
        A review folder (``reports/YYYY-MM``).
    formats : list of str, default ("png", "svg")
    width : int, default 1200
        Width in CSS pixels; the height is the figure's own (450 when it sets none).
    scale : int, default 2
        Pixel density of the PNG (2: sharp on slides and high-resolution screens).

    Returns
    -------
    list of Path
        The files written, in deck order.
    """
    import kaleido

    folder = Path(folder)
    formats = check_names(list(formats), "formats") or []
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ParameterError(f"formats must be among {', '.join(FORMATS)}; got {', '.join(formats) or 'none'}")
    width, scale = check_int(width, "width", minimum=200), check_int(scale, "scale", minimum=1, maximum=4)
    if not (folder / "sections").is_dir():
        raise ParameterError(f"{folder} holds no review (no sections/ folder); run journey review first")
    out = folder / EXPORT_DIR
    out.mkdir(exist_ok=True)
    jobs, written = [], []
    for section in read_sections(folder):
        for name in section.get("figures", []):
            source = folder / "figures" / section["notebook"] / f"{name}.json"
            if not source.exists():
                continue
            fig = json.loads(source.read_text(encoding="utf-8"))
            height = fig.get("layout", {}).get("height") or 450
            for fmt in formats:
                path = out / f"{section['notebook']}--{name}.{fmt}"
                jobs.append({"fig": fig, "path": str(path),
                             "opts": {"format": fmt, "width": width, "height": height, "scale": scale}})
                written.append(path)
    if jobs:
        errors = kaleido.write_fig_from_object_sync(jobs, kopts={"mathjax": False})
        if errors:
            raise ParameterError(f"figure export failed: {errors[0]}")
    return written
