"""The leadership deck: one self-contained HTML file built from what the notebooks recorded.

Each notebook contributes its part with :func:`journeylib.review.record_section`
(a title, a few sentences, headline numbers, the names of figures it recorded
with :func:`~journeylib.review.record_figure`, small tables). :func:`build_deck`
collects the sections of a review folder in order, so a new notebook joins the
deck without any change here; parts recorded under the same title (e.g. "What
changed since last month", filled by several notebooks) form one section.

The file opens offline: plotly.js, styles and fonts (system fonts only) are
inline, no MathJax, no widget loader, no external URL is requested. Every string
from the data is escaped; figures are embedded as JSON with ``</`` escaped so no
value can close the script. Contact names and e-mail addresses are redacted
unless ``include_pii`` is set.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["build_deck", "read_sections", "group_sections", "DECK_NAME"]

DECK_NAME = "deck.html"
_FIGURE_HEIGHT = 450  # px: Plotly's default height, for figures that set none
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PII_COLUMNS = {"email", "contact_name", "contact_email", "first_name", "last_name", "full_name"}
_CSS = """
:root { --ink:#1d2733; --muted:#5b6673; --line:#e3e7ec; --accent:#1f4e79; --good:#2e7d32; --bad:#c62828; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); background: #f6f8fa; line-height: 1.45; }
header.deck { background: var(--accent); color: white; padding: 18px 32px; }
header.deck h1 { margin: 0 0 4px 0; font-size: 24px; }
header.deck p { margin: 0; opacity: .9; }
nav.toc { padding: 8px 32px; background: white; border-bottom: 1px solid var(--line); font-size: 14px; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; white-space: nowrap; }
main { max-width: 1300px; margin: 0 auto; padding: 12px 24px 40px; }
section.deck-section { background: white; border: 1px solid var(--line); border-radius: 8px; margin: 16px 0;
                       padding: 16px 22px; break-inside: avoid; }
section.deck-section h2 { margin: 0 0 8px 0; font-size: 20px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 4px; }
.card { flex: 1 1 170px; max-width: 260px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
        background: #fbfcfd; }
.card .label { font-size: 13px; color: var(--muted); }
.card .value { font-size: 22px; font-weight: 600; }
.card .change { font-size: 13px; color: var(--muted); }
.card .change.up { color: var(--good); } .card .change.down { color: var(--bad); }
.figure { width: 100%; }
table.dataframe { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
table.dataframe th, table.dataframe td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; }
table.dataframe th { background: #f0f3f6; }
.note { color: var(--muted); font-size: 13px; }
.status-failed { color: var(--bad); font-weight: 600; }
@page { size: A4 portrait; margin: 12mm; }
@media print {
  body { background: white; font-size: 12px; }
  nav.toc { display: none; }
  header.deck { padding: 6px 0 10px; background: white; color: var(--ink); border-bottom: 2px solid var(--accent); }
  main { max-width: none; padding: 0; }
  section.deck-section { border: none; border-radius: 0; padding: 0; margin: 0 0 6mm; break-before: page;
                         break-inside: auto; }
  section.deck-section#headlines { break-before: auto; }
  h2, h3 { break-after: avoid; }
  .figure { width: 100% !important; break-inside: avoid; }
  .card, table.dataframe tr { break-inside: avoid; }
  .card { max-width: none; }
  table.dataframe { width: 100%; font-size: 10px; }
  table.dataframe td, table.dataframe th { overflow-wrap: anywhere; }
}
"""
# Charts are drawn at the screen's width; printing lays the page out narrower (A4), so each chart is
# redrawn at its container's width for print and back after (Chromium fires both events and the
# media-query change; the test's PDF comes from the media change). 24 px stay free on the right:
# Plotly draws some labels (a Sankey's last column, end ticks, annotations) past its own width.
_PRINT_JS = """(function(){
function charts(){return Array.prototype.slice.call(document.querySelectorAll('.figure.js-plotly-plot'));}
function fit(){charts().forEach(function(d){Plotly.relayout(d,{width:d.clientWidth-24});});}
function back(){charts().forEach(function(d){Plotly.relayout(d,{width:null,autosize:true});});}
window.addEventListener('beforeprint',fit);window.addEventListener('afterprint',back);
var m=window.matchMedia('print');if(m.addEventListener){m.addEventListener('change',function(e){e.matches?fit():back();});}
})();"""


def read_sections(folder: "str | Path") -> list[dict]:
    """The deck section parts a review folder holds, in deck order.

    Each part is one ``sections/*.json`` file (:func:`journeylib.review.record_section`);
    ``order`` (default 50) then the file name sort them.
    """
    folder = Path(folder)
    sections = []
    for path in sorted((folder / "sections").glob("*.json")):
        section = json.loads(path.read_text(encoding="utf-8"))
        section.setdefault("notebook", path.stem.split("--")[0])
        section["file"] = path.stem
        sections.append(section)
    return sorted(sections, key=lambda s: (s.get("order") if s.get("order") is not None else 50, s["file"]))


def group_sections(parts: list[dict]) -> list[dict]:
    """Parts with the same title joined into one section (in the order of their first part).

    Returns
    -------
    list of dict with ``title``, ``id`` (HTML id from the first part's file name) and ``parts``.
    """
    groups: dict[str, dict] = {}
    for part in parts:
        title = str(part.get("title", part["notebook"]))
        if title not in groups:
            groups[title] = {"title": title, "id": "section-" + re.sub(r"[^A-Za-z0-9_-]", "-", part["file"]),
                             "parts": []}
        groups[title]["parts"].append(part)
    return list(groups.values())


def _redact(text: str, include_pii: bool) -> str:
    return text if include_pii else _EMAIL.sub("[redacted]", text)


def _format(value: Any, unit: str = "") -> str:
    if value is None:
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.1%}" if unit == "%" else (f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}")
    else:
        text = str(value)
    return text + ("" if unit in ("", "%") else f" {unit}")


def _change(value: Any, previous: Any, unit: str, better: str) -> tuple[str, str]:
    if not isinstance(value, (int, float)) or not isinstance(previous, (int, float)) or isinstance(value, bool):
        return ("new this month" if previous is None and value is not None else "", "")
    delta = value - previous
    if delta == 0:
        return "no change vs last month", ""
    if unit == "%":
        text = f"{delta * 100:+.1f} pts vs last month"
    elif previous:
        text = f"{delta:+,.4g} ({delta / abs(previous):+.0%}) vs last month"
    else:
        text = f"{delta:+,.4g} vs last month"
    good = (delta > 0) == (better != "lower")
    return text, ("up" if good else "down") if better in ("higher", "lower") else ""


def _table_html(table: dict, include_pii: bool) -> str:
    frame = pd.DataFrame(table["data"]["data"], columns=table["data"]["columns"])
    if not include_pii:
        frame = frame.drop(columns=[c for c in frame.columns if str(c).lower() in _PII_COLUMNS])
        frame = frame.map(lambda v: _redact(v, False) if isinstance(v, str) else v)
    title = f"<h3>{html.escape(str(table.get('title', '')))}</h3>" if table.get("title") else ""
    return title + frame.to_html(index=False, escape=True, na_rep="", border=0)


def _figure_html(folder: Path, notebook: str, name: str, include_pii: bool) -> str:
    path = folder / "figures" / notebook / f"{name}.json"
    if not path.exists():
        return f'<p class="note">Figure {html.escape(name)} was not recorded.</p>'
    text = path.read_text(encoding="utf-8")
    height = json.loads(text).get("layout", {}).get("height") or _FIGURE_HEIGHT
    spec = _redact(text, include_pii).replace("</", "<\\/")
    div = f"fig-{re.sub(r'[^A-Za-z0-9_-]', '-', notebook)}-{re.sub(r'[^A-Za-z0-9_-]', '-', name)}"
    # an explicit height: a chart never collapses to nothing, on screen or in print
    return (f'<div id="{div}" class="figure" style="height:{int(height)}px"></div>\n'
            f'<script>(function(){{var f={spec};'
            f'Plotly.newPlot("{div}", f.data, f.layout, {{"displaylogo": false, "responsive": true}});}})();</script>')


def _previous_headlines(folder: Path, month: str | None) -> dict[tuple[str, str], Any]:
    if not month:
        return {}
    prev = str(pd.Period(month, freq="M") - 1)
    prev_folder = folder.parent / prev
    out = {}
    if prev_folder.is_dir():
        for section in read_sections(prev_folder):
            for h in section.get("headlines", []):
                out[(section["file"], h["label"])] = h.get("value")
    return out


def build_deck(folder: "str | Path", include_pii: bool = False, title: str = "Customer journey review") -> Path:
    """Write ``FOLDER/deck.html`` from the sections, figures and manifest of a review folder.

    Parameters
    ----------
    folder : path
        A review folder (``reports/YYYY-MM``) with ``sections/``, ``figures/`` and
        ``manifest.json``.
    include_pii : bool
        Keep contact names and e-mail addresses (default: redacted).
    title : str
        The deck's title.

    Returns
    -------
    Path of the deck.
    """
    from plotly.offline import get_plotlyjs

    folder = Path(folder)
    manifest = {}
    if (folder / "manifest.json").exists():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    month = manifest.get("month")
    sections = read_sections(folder)
    previous = _previous_headlines(folder, month)
    esc = html.escape
    month_label = pd.Period(month, freq="M").strftime("%B %Y") if month else ""
    parts = [f'<header class="deck"><h1>{esc(title)}{(" — " + esc(month_label)) if month_label else ""}</h1>'
             f'<p>Data as of {esc(str(manifest.get("as_of", "")))}</p></header>']
    groups = group_sections(sections)
    toc = ['<a href="#headlines">Headlines</a>'] + [
        f'<a href="#{esc(g["id"])}">{esc(g["title"])}</a>' for g in groups] + ['<a href="#methods">Methods</a>']
    parts.append(f'<nav class="toc">{" ".join(toc)}</nav><main>')  # spaces: the links wrap on a narrow screen

    cards = []
    for s in sections:
        for h in s.get("headlines", []):
            if not h.get("headline", True):
                continue
            change, cls = _change(h.get("value"), previous.get((s["file"], h["label"])), h.get("unit", ""),
                                  h.get("better", ""))
            cards.append(f'<div class="card"><div class="label">{esc(h["label"])}</div>'
                         f'<div class="value">{esc(_format(h.get("value"), h.get("unit", "")))}</div>'
                         f'<div class="change {cls}">{esc(change)}</div></div>')
    parts.append('<section class="deck-section" id="headlines"><h2>Headlines</h2>'
                 + (f'<div class="cards">{"".join(cards)}</div>' if cards else '<p class="note">No headline numbers were recorded.</p>')
                 + "</section>")

    for g in groups:
        body = [f'<h2>{esc(g["title"])}</h2>']
        for s in g["parts"]:
            for para in s.get("text", []):
                body.append(f"<p>{esc(_redact(para, include_pii))}</p>")
            body += [_figure_html(folder, s["notebook"], name, include_pii) for name in s.get("figures", [])]
            body += [_table_html(t, include_pii) for t in s.get("tables", [])]
        parts.append(f'<section class="deck-section" id="{esc(g["id"])}">{"".join(body)}</section>')

    nb_rows = "".join(
        f'<tr><td>{esc(n["notebook"])}</td><td class="{"" if n["status"] == "ok" else "status-failed"}">'
        f'{esc(n["status"])}</td><td>{esc(str(n.get("seconds", "")))}</td></tr>'
        for n in manifest.get("notebooks", []))
    versions = ", ".join(f"{esc(k)} {esc(str(v))}" for k, v in sorted(manifest.get("versions", {}).items()))
    data = manifest.get("data", {})
    parts.append(
        '<section class="deck-section" id="methods"><h2>Methods</h2>'
        f'<p>Review month {esc(str(month or ""))}; as of {esc(str(manifest.get("as_of", "")))}: nothing dated after '
        'it is used. Rows that could not be used are set aside and counted in the data health section.</p>'
        f'<p class="note">Data fingerprint {esc(str(data.get("fingerprint", ""))[:16])}; '
        f'git commit {esc(str(manifest.get("git_commit") or "unknown")[:12])}; {versions}.</p>'
        f'<table class="dataframe"><tr><th>notebook</th><th>status</th><th>seconds</th></tr>{nb_rows}</table>'
        "</section></main>")

    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} {esc(str(month or ''))}</title><style>{_CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        + "\n".join(parts) + f"<script>{_PRINT_JS}</script></body></html>\n"
    )
    out = folder / DECK_NAME
    out.write_text(document, encoding="utf-8")
    return out
