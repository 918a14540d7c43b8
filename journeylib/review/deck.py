"""The leadership deck: one self-contained HTML file built from what the notebooks recorded.

Each notebook contributes its part with :func:`journeylib.review.record_section`
(a title, a few sentences, headline numbers, the names of figures it recorded
with :func:`~journeylib.review.record_figure`, small tables, items for "What needs
attention"). The first screen holds the headline cards, each with its change against
the value the notebook recomputed from the data as of the previous month end (never
read from last month's report), and what needs attention. :func:`build_deck`
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

from .formatting import GLOSSARY, format_table

__all__ = ["build_deck", "build_index", "read_sections", "group_sections", "DECK_NAME", "INDEX_NAME"]

DECK_NAME = "deck.html"
INDEX_NAME = "index.html"
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
.attention { display: flex; flex-wrap: wrap; gap: 18px; }
.attention-list { flex: 1 1 300px; }
.attention-list h3 { font-size: 15px; margin: 6px 0; }
.attention-list ol { margin: 0; padding-left: 20px; font-size: 14px; }
.attention-list li { margin-bottom: 6px; }
.attention-list .who { font-weight: 600; } .attention-list .what { color: var(--muted); }
.attention-list .why { color: var(--muted); font-size: 13px; }
.figure { width: 100%; }
table.dataframe { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
table.dataframe th, table.dataframe td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; }
table.dataframe th { background: #f0f3f6; }
.note { color: var(--muted); font-size: 13px; }
dl.glossary { font-size: 13px; columns: 2 360px; column-gap: 28px; }
dl.glossary dt { font-weight: 600; break-after: avoid; } dl.glossary dd { margin: 0 0 8px 0; break-inside: avoid; }
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
var m=window.matchMedia('print');
if(m.addEventListener){m.addEventListener('change',function(e){e.matches?fit():back();});}
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


def _change(value: Any, previous: Any, unit: str, better: str, since: str) -> tuple[str, str]:
    """The card's change line against the recorded previous value, and its class (up = good, down = bad)."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, previous))
    if not numbers:
        return "", ""
    delta = value - previous
    if delta == 0:
        return f"= no change since {since}", ""
    arrow = "▲" if delta > 0 else "▼"
    if unit == "%":
        text = f"{arrow} {delta * 100:+.1f} pts since {since}"
    else:
        size = _format(abs(delta) if isinstance(delta, int) else float(abs(delta)), "" if unit == "%" else unit)
        text = f"{arrow} {'+' if delta > 0 else '-'}{size}" + (f" ({delta / abs(previous):+.0%})" if previous else "") \
            + f" since {since}"
    good = (delta > 0) == (better != "lower")
    return text, ("up" if good else "down") if better in ("higher", "lower") else ""


def _attention_html(sections: list[dict], include_pii: bool) -> str:
    """The first screen's "What needs attention": each kind's first items, from every section."""
    kinds: dict[str, list[dict]] = {}
    for s in sections:
        for item in s.get("attention", []):
            kinds.setdefault(str(item.get("kind") or "Other"), []).append(item)
    if not kinds:
        return ""
    esc = html.escape
    blocks = []
    for kind, items in kinds.items():
        rows = "".join(
            f'<li><span class="who">{esc(_redact(str(i.get("name") or ""), include_pii))}</span>'
            + (f' <span class="what">{esc(_redact(str(i["value"]), include_pii))}</span>' if i.get("value") else "")
            + (f'<div class="why">{esc(_redact(str(i["why"]), include_pii))}</div>' if i.get("why") else "")
            + "</li>" for i in items[:5])
        blocks.append(f'<div class="attention-list"><h3>{esc(kind)}</h3><ol>{rows}</ol></div>')
    return f'<h2>What needs attention</h2><div class="attention">{"".join(blocks)}</div>'


def _table_html(table: dict, include_pii: bool, currency: str) -> str:
    frame = pd.DataFrame(table["data"]["data"], columns=table["data"]["columns"])
    if not include_pii:
        frame = frame.drop(columns=[c for c in frame.columns if str(c).lower() in _PII_COLUMNS])
        frame = frame.map(lambda v: _redact(v, False) if isinstance(v, str) else v)
    title = f"<h3>{html.escape(str(table.get('title', '')))}</h3>" if table.get("title") else ""
    return title + format_table(frame, currency).to_html(index=False, escape=True, na_rep="", border=0)


def _glossary_html() -> str:
    terms = "".join(f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in GLOSSARY.items())
    return f'<h3>Glossary</h3><dl class="glossary">{terms}</dl>'


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
    currency = str(manifest.get("currency") or "USD")
    esc = html.escape
    as_of = manifest.get("as_of")
    previous_end = (pd.Timestamp(as_of).to_period("M") - 1).end_time if as_of else None
    since = f"{previous_end.day} {previous_end:%b}" if previous_end is not None else "last month"
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
            change, cls = _change(h.get("value"), h.get("previous"), h.get("unit", ""), h.get("better", ""), since)
            cards.append(f'<div class="card"><div class="label">{esc(h["label"])}</div>'
                         f'<div class="value">{esc(_format(h.get("value"), h.get("unit", "")))}</div>'
                         f'<div class="change {cls}">{esc(change)}</div></div>')
    parts.append('<section class="deck-section" id="headlines"><h2>Headlines</h2>'
                 + (f'<div class="cards">{"".join(cards)}</div>' if cards
                    else '<p class="note">No headline numbers were recorded.</p>')
                 + _attention_html(sections, include_pii) + "</section>")

    for g in groups:
        body = [f'<h2>{esc(g["title"])}</h2>']
        for s in g["parts"]:
            for para in s.get("text", []):
                body.append(f"<p>{esc(_redact(para, include_pii))}</p>")
            body += [_figure_html(folder, s["notebook"], name, include_pii) for name in s.get("figures", [])]
            body += [_table_html(t, include_pii, currency) for t in s.get("tables", [])]
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
        f'<table class="dataframe"><tr><th>Notebook</th><th>Status</th><th>Seconds</th></tr>{nb_rows}</table>'
        + _glossary_html() + "</section></main>")

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


def build_index(reports: "str | Path", title: str = "Customer journey reviews") -> Path:
    """Write ``REPORTS/index.html``: every month's review in the folder, newest first, with its deck and manifest.

    A month is a ``YYYY-MM`` folder holding a ``manifest.json``; the page shows its as-of date,
    status and failed notebooks, and links to its deck, manifest and notebook pages (relative
    links: the folder can be moved or served as it is).
    """
    reports = Path(reports)
    esc = html.escape
    rows = []
    for folder in sorted((p for p in reports.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}", p.name)),
                         reverse=True):
        path = folder / "manifest.json"
        if not path.exists():
            continue
        manifest = json.loads(path.read_text(encoding="utf-8"))
        failed = [n["notebook"] for n in manifest.get("notebooks", []) if n.get("status") != "ok"]
        pages = " ".join(f'<a href="{esc(folder.name)}/{esc(Path(n["notebook"]).name)}.html">'
                         f'{esc(n["notebook"])}</a>' for n in manifest.get("notebooks", []))
        deck = (f'<a href="{esc(folder.name)}/{DECK_NAME}">deck</a>' if (folder / DECK_NAME).exists()
                else "no deck")
        status = "ok" if not failed else "failed: " + ", ".join(failed)
        rows.append(f"<tr><td>{esc(pd.Period(folder.name, freq='M').strftime('%B %Y'))}</td>"
                    f"<td>{esc(str(manifest.get('as_of', '')))}</td>"
                    f'<td class="{"" if not failed else "status-failed"}">{esc(status)}</td><td>{deck}</td>'
                    f'<td><a href="{esc(folder.name)}/manifest.json">manifest</a></td><td>{pages}</td></tr>')
    table = ('<table class="dataframe"><tr><th>Month</th><th>As of</th><th>Status</th><th>Deck</th>'
             f'<th>Manifest</th><th>Notebooks</th></tr>{"".join(rows)}</table>' if rows
             else '<p class="note">No review has been written here yet.</p>')
    document = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
                f'<header class="deck"><h1>{esc(title)}</h1><p>{len(rows)} monthly reviews</p></header><main>'
                f'<section class="deck-section">{table}</section></main></body></html>\n')
    out = reports / INDEX_NAME
    out.write_text(document, encoding="utf-8")
    return out
