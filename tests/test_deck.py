"""The leadership deck: escaping, redaction, changes since last month, what needs attention, and a real browser."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from journeylib import review
from journeylib.review.deck import build_deck
from journeylib.errors import ParameterError

from conftest import chromium_page

XSS = "<img src=x onerror=alert(1)>"


def _month(folder: Path, month: str, accounts: int, churn: float, name: str = "Acme", previous: tuple | None = None,
           attention: list | None = None) -> Path:
    out = folder / month
    review.configure(str(out), notebook="10_demo")
    fig = go.Figure(go.Bar(x=[name, "Beta"], y=[3, 1]))
    review.record_figure("bars", fig)
    before = previous or (None, None)
    review.record_section(
        f"Demo for {name}",
        text=[f"{name} leads; contact jane.doe@example.com asked for a demo."],
        figures=["bars"],
        tables={"Accounts": pd.DataFrame({"account": [name], "email": ["jane.doe@example.com"], "arr": [1200.5]})},
        headlines=[{"label": "Active accounts", "value": accounts, "better": "higher", "previous": before[0]},
                   {"label": "Churn rate", "value": churn, "unit": "%", "better": "lower", "previous": before[1]}],
        attention=attention,
    )
    (out / "manifest.json").write_text(json.dumps({"month": month, "as_of": str(pd.Period(month).end_time.date()),
                                                   "notebooks": [{"notebook": "10_demo", "status": "ok"}]}))
    return out


def test_cards_show_the_change_against_the_recomputed_previous_month(tmp_path):
    deck = build_deck(_month(tmp_path, "2026-10", accounts=110, churn=0.04, previous=(100, 0.05))).read_text()
    assert "Customer journey review — October 2026" in deck
    assert '<div class="value">110</div><div class="change up">▲ +10 (+10%) since 30 Sep</div>' in deck
    assert '<div class="value">4.0%</div><div class="change up">▼ -1.0 pts since 30 Sep</div>' in deck


def test_without_a_previous_value_a_card_shows_no_change_and_last_months_report_is_not_read(tmp_path):
    _month(tmp_path, "2026-09", accounts=100, churn=0.05)
    deck = build_deck(_month(tmp_path, "2026-10", accounts=110, churn=0.04)).read_text()
    assert '<div class="value">110</div><div class="change "></div>' in deck
    assert "since 30 Sep" not in deck and "new this month" not in deck


def test_what_needs_attention_comes_first_escaped_five_per_kind(tmp_path):
    items = [{"kind": "At risk", "name": f"{XSS} {i}", "value": f"{1000 * i:,} USD ARR", "why": "usage down 40%"}
             for i in range(7)] + [{"kind": "Stalled deals", "name": "O1 (Acme)", "value": "5,000 USD",
                                   "why": "no touch for 21 days"}]
    deck = build_deck(_month(tmp_path, "2026-10", accounts=1, churn=0.0, attention=items)).read_text()
    first = deck.split('id="headlines">', 1)[1].split("</section>", 1)[0]
    assert "<h2>What needs attention</h2>" in first
    assert "<h3>At risk</h3>" in first and "<h3>Stalled deals</h3>" in first
    assert first.count("<li>") == 6 and f"{XSS} 5" not in first and "&lt;img src=x onerror=alert(1)&gt; 4" in first
    assert "no touch for 21 days" in first and XSS not in first


def test_data_strings_are_escaped_and_personal_data_redacted(tmp_path):
    folder = _month(tmp_path, "2026-10", accounts=1, churn=0.0, name=XSS)
    deck = build_deck(folder).read_text()
    body = deck.split("</head>", 1)[1]
    assert XSS not in body.replace('"' + XSS, "")  # raw only as a JSON string inside the figure script
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "jane.doe@example.com" not in deck and "[redacted]" in deck
    assert "<th>email</th>" not in deck
    with_pii = build_deck(folder, include_pii=True).read_text()
    assert "jane.doe@example.com" in with_pii


def test_no_external_resources_in_the_markup(tmp_path):
    deck = build_deck(_month(tmp_path, "2026-10", accounts=1, churn=0.0)).read_text()
    head_tags = [t for t in deck.split("<")[1:200] if t.startswith(("script src", "link ", "img "))]
    assert head_tags == []
    assert "mathjax" not in deck.lower().split("</head>", 1)[1]


@pytest.mark.browser
def test_deck_in_headless_chromium_offline(tmp_path):
    deck = build_deck(_month(tmp_path, "2026-10", accounts=110, churn=0.04, name=XSS, previous=(100, 0.05)))
    with chromium_page(deck) as (page, seen):
        page.wait_for_selector("#fig-10_demo-bars .main-svg", timeout=20_000)
        assert page.locator("#fig-10_demo-bars .bars path").count() == 2  # two bars drawn with data
        assert page.locator("section#headlines .card").count() == 2
        assert XSS in page.locator("#section-10_demo").inner_text()  # shown as text
        page.screenshot(path=str(tmp_path / "deck.png"), full_page=True)
    assert seen["external"] == [] and seen["errors"] == [] and seen["dialogs"] == []
    assert (tmp_path / "deck.png").stat().st_size > 10_000


def test_parts_with_one_title_form_one_section(tmp_path):
    out = tmp_path / "2026-10"
    review.configure(str(out), notebook="20_risk")
    review.record_section("Risk", text=["Main risk section."])
    review.record_section(review.CHANGES_SECTION, text=["Risk moved."], order=5, part="changes",
                          tables={"Moves": pd.DataFrame({"status": ["saved"], "accounts": [3]})})
    review.configure(str(out), notebook="10_personas")
    review.record_section(review.CHANGES_SECTION, text=["Personas grew."], order=5, part="changes",
                          headlines=[{"label": "New accounts", "value": 4}])
    with pytest.raises(ParameterError, match="section part 'a b' must be letters"):
        review.record_section("x", part="a b")
    assert sorted(p.name for p in (out / "sections").iterdir()) == [
        "10_personas--changes.json", "20_risk--changes.json", "20_risk.json"]
    deck = build_deck(out).read_text()
    assert deck.count("<h2>What changed since last month</h2>") == 1
    assert deck.count('href="#section-10_personas--changes"') == 1 and 'id="section-10_personas--changes"' in deck
    changed = deck.split('id="section-10_personas--changes">', 1)[1].split("</section>", 1)[0]
    assert changed.index("Personas grew.") < changed.index("Risk moved.") < changed.index("<h3>Moves</h3>")
    assert "Main risk section." not in changed and 'id="section-20_risk"' in deck
    assert deck.index("What changed since last month</a>") < deck.index(">Risk</a>")
    assert '<div class="label">New accounts</div><div class="value">4</div>' in deck


def test_tables_get_human_labels_and_numbers_with_units():
    from journeylib.review.formatting import format_table

    frame = pd.DataFrame({"account": ["A_1"], "probability_before": [0.18402], "arr_at_risk": [111807.72],
                          "median_days": [3.456], "top_reasons": ["seat_use low"], "stage": ["research"],
                          "state": ["decision"], "segment": ["at_risk_low_adopter"], "transitions": [12345],
                          "p_win": [0.0451], "conversions": [81.0712], "amount": [None]})
    out = format_table(frame, "EUR")
    assert list(out.columns) == ["Account", "Risk last month", "ARR at risk", "Median days", "Why", "Stage",
                                 "Stage (state)", "Segment", "Moves", "Chance to win", "Deals credited", "Amount"]
    # names and reasons as written; labels of categories without underscores
    assert out.iloc[0].tolist() == ["A_1", "18%", "111,808 EUR", "3.5", "seat_use low", "research", "decision",
                                    "at risk low adopter", "12,345", "4.5%", "81.1", ""]
