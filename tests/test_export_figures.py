"""journey export-figures: every deck figure of a month as PNG and SVG (kaleido in the system's Chromium)."""
from __future__ import annotations

import struct
from pathlib import Path

import plotly.graph_objects as go
import pytest

from journeylib import review
from journeylib.cli import main

from conftest import CHROMIUM


def _review(folder):
    out = folder / "2026-10"
    review.configure(str(out), notebook="10_demo")
    review.record_figure("bars", go.Figure(go.Bar(x=["Acme", "Beta"], y=[3, 1])).update_layout(height=300))
    review.record_figure("unused", go.Figure(go.Bar(x=["x"], y=[1])))  # recorded, not in the deck
    review.record_section("Demo", figures=["bars"])
    return out


@pytest.mark.browser
def test_deck_figures_become_png_and_svg(tmp_path, capsys):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    folder = _review(tmp_path)
    assert main(["export-figures", "--month", "2026-10", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in (folder / "figures-export").iterdir())
    assert files == ["10_demo--bars.png", "10_demo--bars.svg"]  # only what the deck shows
    png = (folder / "figures-export" / "10_demo--bars.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (2400, 600)  # 1200 x 300 at scale 2
    svg = (folder / "figures-export" / "10_demo--bars.svg").read_text()
    assert svg.lstrip().startswith("<svg") and "Acme" in svg and "Beta" in svg
    assert "wrote 2 files" in capsys.readouterr().out


def test_export_needs_a_review_and_known_formats(tmp_path, capsys):
    assert main(["export-figures", "--month", "2026-10", "--out", str(tmp_path)]) == 2
    assert "holds no review (no sections/ folder); run journey review first" in capsys.readouterr().err
    _review(tmp_path)
    assert main(["export-figures", "--month", "2026-10", "--out", str(tmp_path), "--format", "gif"]) == 2
    assert "formats must be among png, svg; got gif" in capsys.readouterr().err
    assert main(["export-figures", "--month", "2026/10", "--out", str(tmp_path)]) == 2
    assert "month '2026/10' is not YYYY-MM" in capsys.readouterr().err
