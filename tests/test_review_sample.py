"""The whole monthly review on the bundled sample, run once: every section, what changed, no personal data, a browser."""
from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

import journeylib
from journeylib import churn, review, segments
from journeylib.segments import features
from journeylib.review import changes
from journeylib.synth import XSS_ACCOUNT_NAME

from conftest import REPO, chromium_page

SECTIONS = ["Headlines", "What needs attention", "What changed since last month", "Stage scorecard", "Pipeline outlook",
            "Journey paths", "Where pipeline comes from", "Personas", "Time to value and retention",
            "Churn risk and expansion", "Data health", "Methods"]
pytestmark = pytest.mark.notebook
PRINT_WIDTH = 703  # CSS px of A4 portrait (210 mm) less the deck's 12 mm print margins


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory):
    """The sample with every account named like an HTML injection, so every name in the deck tests the escaping."""
    folder = tmp_path_factory.mktemp("sample") / "sample"
    shutil.copytree(REPO / "data" / "sample", folder)
    accounts = pd.read_csv(folder / "accounts.csv.gz", dtype=str, keep_default_na=False)
    accounts["name"] = [f"{XSS_ACCOUNT_NAME} {i}" for i in range(len(accounts))]
    accounts.to_csv(folder / "accounts.csv.gz", index=False, compression="gzip")
    return folder


@pytest.fixture(scope="module")
def sample_review(tmp_path_factory, sample_copy):
    out = tmp_path_factory.mktemp("reports")
    result = review.run_review(month="2026-10", data=str(sample_copy), out=out, progress=False, jobs=2)
    assert not result.failed, result.failed
    return result


def test_every_section_in_order(sample_review):
    deck = sample_review.deck.read_text(encoding="utf-8")
    titles = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<h2>(.*?)</h2>", deck)]
    assert titles == SECTIONS
    manifest = json.loads((sample_review.folder / "manifest.json").read_text())
    assert [n["notebook"] for n in manifest["notebooks"]] == [
        "00_data_health", "01_personas", "02_journey_paths", "03_time_to_value", "04_churn_risk",
        "05_attribution", "06_stage_scorecard", "07_predictive_journeys"]


def test_notebook_pages_show_no_review_internals(sample_review):
    from journeylib.review.runner import WIDGET_NOTE

    pages = {p.stem: p.read_text(encoding="utf-8") for p in sample_review.folder.glob("*.html") if p.name != "deck.html"}
    assert len(pages) == 8
    for name, page in pages.items():
        assert not re.search(r"\.\d{4}-\d{2}\.partial-\d+", page), name  # the review's temporary folder
        assert "PosixPath(" not in page and "(children=(" not in page, name
    for name in ("02_journey_paths", "05_attribution"):
        assert WIDGET_NOTE in pages[name], name
    assert str(sample_review.folder.resolve()) in pages["04_churn_risk"]  # the final output_dir


def test_what_changed_is_what_the_library_computes(sample_review, sample_copy):
    folder = sample_review.folder
    data = journeylib.load(sample_copy, as_of="2026-10-31")
    snaps = churn.build_snapshots(data)
    day = changes.previous_month_end(data.as_of)
    moves = changes.risk_moves(changes.previous_scores(snaps, day),
                               churn.ChurnModel("gbm").fit(snaps).score(churn.latest_snapshot(snaps), reasons=False))
    summary = changes.risk_move_summary(moves)
    rec = review.read_results(folder, "04_churn_risk")
    assert rec["previous_day"] == "2026-09-30"
    recorded = pd.DataFrame(rec["risk_moves"]["data"], columns=rec["risk_moves"]["columns"])
    assert recorded["accounts"].tolist() == summary["accounts"].tolist()
    assert sorted(rec["newly_at_risk"]) == sorted(moves.loc[moves["status"] == "newly at risk", "account_id"])
    assert sorted(rec["saved"]) == sorted(moves.loc[moves["status"] == "saved", "account_id"])
    # churned since last month: customers at September's end without a subscription at October's end
    churned = changes.churned_since(data, day)
    assert int(summary.set_index("status").loc["churned", "accounts"]) == int(churned["churned"].sum()) > 0
    previous_risk = churn.risk_headline(churn.risk_list(changes.previous_scores(snaps, day), data.accounts))
    heads = {h["label"]: h for h in json.loads((folder / "sections" / "04_churn_risk.json").read_text())["headlines"]}
    previous_at_risk = previous_risk["accounts_at_risk"]
    assert heads["Customers at risk"]["previous"] == previous_at_risk == rec["previous_accounts_at_risk"]
    assert heads["ARR at risk"]["previous"] == pytest.approx(previous_risk["arr_at_risk"])
    check = pd.DataFrame(rec["prediction_check"]["data"], columns=rec["prediction_check"]["columns"])
    assert check.set_index("band").loc["all", "churned"] == int(churned["churned"].sum())

    # personas: the saved model applied to features as of last month and now
    model = segments.PersonaModel.load(review.models_dir(str(folder)))
    now = model.assign(features.account_features(data))
    before = model.assign(features.account_features(data, as_of=day))
    expected = changes.persona_moves(before, now)
    got = review.read_results(folder, "01_personas")["persona_changes"]
    got = pd.DataFrame(got["data"], columns=got["columns"])
    assert got["accounts_now"].tolist() == expected["accounts_now"].tolist()
    assert got["accounts_before"].tolist() == expected["accounts_before"].tolist()
    assert got["new_accounts"].sum() == len(set(now["account_id"]) - set(before["account_id"])) > 0

    deck = sample_review.deck.read_text(encoding="utf-8")
    part = deck.split("<h2>What changed since last month</h2>", 1)[1].split("</section>", 1)[0]
    assert part.index("customers are newly at risk") < part.index("Persona sizes now")
    assert "Last month&#x27;s predictions against what happened" in part


def test_no_personal_data_in_any_output(sample_review, sample_copy):
    """No contact name or e-mail in the deck, the notebooks, their HTML, the manifest, the logs or the lists."""
    contacts = journeylib.load(sample_copy, as_of="2026-10-31").tables["contacts"]
    names = set(contacts["name"].dropna()) - {""}
    emails = set(contacts["email"].dropna()) - {""}
    assert len(names) > 500 and len(emails) > 5000
    assert all(len(n.split()) == 2 for n in names)
    # quarantine.csv holds the rows set aside, as read, for the analyst to fix (none in the sample)
    outputs = [p for p in sample_review.folder.rglob("*") if p.is_file() and p.name != "quarantine.csv"]
    assert {p.suffix for p in outputs} >= {".html", ".ipynb", ".json", ".csv", ".txt"}
    for path in outputs:
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not names & set(re.findall(r"(?=\b([A-Z][\w'-]+ [A-Z][\w'-]+))", text)), path  # every name is two words
        assert not emails & set(re.findall(r"[\w.%+-]+@[\w.-]+", text)), path
        assert not re.search(r"[\w.%+-]+@[\w.-]+\.example\b", text), path
        if path.suffix == ".csv":
            assert not {"name", "email"} & set(pd.read_csv(path, nrows=0).columns), path
    assert len(pd.read_csv(sample_review.folder / "quarantine.csv")) == 0


@pytest.mark.browser
def test_the_sample_deck_in_headless_chromium(sample_review, tmp_path):
    with chromium_page(sample_review.deck) as (page, seen):
        assert [t.strip() for t in page.locator("section.deck-section > h2").all_inner_texts()] == SECTIONS
        page.wait_for_selector("#fig-02_journey_paths-step_sankey .main-svg", timeout=30_000)
        assert page.locator("#fig-02_journey_paths-step_sankey .sankey-link").count() > 10
        assert page.locator("#fig-02_journey_paths-step_sankey .sankey-node").count() > 5
        boxes = page.evaluate("""() => Array.from(document.querySelectorAll(
            '#fig-02_journey_paths-step_sankey .sankey-node text')).filter(t => t.textContent)
            .map(t => { const r = t.getBoundingClientRect();
                        return [t.textContent, r.left, r.top, r.right, r.bottom]; })""")
        assert len(boxes) >= 10
        overlapping = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                       if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]
        assert overlapping == [], overlapping  # step-Sankey labels readable at 1366 px
        page.wait_for_selector("#fig-03_time_to_value-value_by_plan .main-svg", timeout=30_000)
        assert page.locator("#fig-03_time_to_value-value_by_plan .scatterlayer .trace").count() >= 3
        shown = page.locator("#section-04_churn_risk").inner_text()
        assert shown.count(XSS_ACCOUNT_NAME) >= 10  # the risk and expansion lists' names, shown as text
        assert page.locator("img").count() == 0
        # the first screen: the headline cards with their change since last month, then what needs attention
        changes_shown = page.locator("#headlines .card .change").all_inner_texts()
        assert sum("since 30 Sep" in c for c in changes_shown) >= 8, changes_shown
        kinds = page.locator("#headlines .attention-list h3").all_inner_texts()
        assert set(kinds) == {"Stalled deals", "Customers at risk", "Ready to expand"}, kinds
        assert page.locator("#headlines .attention-list li").count() >= 12
        headers = page.locator("table.dataframe th").all_inner_texts()
        assert len(headers) > 50 and [h for h in headers if "_" in h] == []  # human labels, no raw column names
        assert page.locator("dl.glossary dt").count() >= 20
        page.screenshot(path=str(tmp_path / "sample_deck.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, width  # no horizontal scrolling on a 1366x768 laptop
        # printed on A4 portrait with 12 mm margins: 186 mm = 703 CSS px of content
        page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
        page.emulate_media(media="print")
        page.wait_for_timeout(2000)  # the charts redraw at the print width
        charts = page.evaluate("""() => Array.from(document.querySelectorAll('.figure')).map(d => {
            const svg = d.querySelector('.main-svg'), r = d.getBoundingClientRect();
            return [d.id, r.height, svg ? svg.getBoundingClientRect().height : 0,
                    svg ? svg.getBoundingClientRect().right : 1e9];})""")
        assert len(charts) >= 15
        assert [c[0] for c in charts if c[1] < 150 or c[2] < 150] == []  # every chart drawn, none collapsed
        assert [c[0] for c in charts if c[3] > PRINT_WIDTH + 1] == []  # none cut at the right edge
        wide = page.evaluate(f"""() => Array.from(document.querySelectorAll('main *'))
            .filter(e => e.getBoundingClientRect().right > {PRINT_WIDTH + 1})
            .map(e => e.tagName + '.' + e.className.baseVal + e.className)""")
        assert wide == [], wide[:10]
        page.screenshot(path=str(tmp_path / "sample_deck_print.png"), full_page=True)
        page.pdf(path=str(tmp_path / "sample_deck.pdf"), format="A4", print_background=True)
    assert seen["external"] == [] and seen["errors"] == [] and seen["dialogs"] == []
    assert (tmp_path / "sample_deck.png").stat().st_size > 50_000
    pdf = (tmp_path / "sample_deck.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 5  # printed, several pages
