"""Notebooks 02 and 03 under the review on the sample: each headline's ``previous`` is the same number recomputed by
the library from the data as of the previous month end (not a copy of this month's value)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from journeylib import paths, review, survival
from journeylib.data.history import data_as_of

pytestmark = pytest.mark.notebook

PREVIOUS_DAY = "2026-09-30"


@pytest.fixture(scope="module")
def review_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("previous_headlines")
    result = review.run_review(month="2026-10", data="", out=out, only=["02_journey_paths", "03_time_to_value"],
                               progress=False)
    assert not result.failed, result.failed
    return result.folder


@pytest.fixture(scope="module")
def before(sample):
    return data_as_of(sample, PREVIOUS_DAY)


def _headlines(folder, notebook: str) -> dict[str, dict]:
    section = json.loads((folder / "sections" / f"{notebook}.json").read_text(encoding="utf-8"))
    return {h["label"]: h for h in section["headlines"]}


def _check(folder, notebook: str, expected: dict[str, float]) -> None:
    headlines = _headlines(folder, notebook)
    assert set(headlines) == set(expected)
    for label, value in expected.items():
        assert headlines[label]["previous"] == pytest.approx(value), label
    assert any(h["previous"] != pytest.approx(h["value"]) for h in headlines.values())  # recomputed, not copied
    rec = review.read_results(folder, notebook)
    assert rec["previous_day"] == PREVIOUS_DAY
    assert rec["previous_headlines"] == pytest.approx(expected)


def test_journey_paths_headlines_carry_last_months_values(review_folder, before):
    # the notebook's defaults: segments by region, no segment chosen (all accounts)
    journeys = paths.journeys(paths.event_log(before, segments="region", segment=None))
    assert len(journeys)
    _check(review_folder, "02_journey_paths", {
        "Accounts analysed": len(journeys),
        "Journeys with a backward move": float(journeys["has_backward"].mean()),
        "Journeys with a re-entry": float(journeys["has_reentry"].mean()),
    })


def test_time_to_value_headlines_carry_last_months_values(review_folder, before):
    # the notebook's defaults: subscription start, usage value event, 30-day churn gap, groups of 20, no personas
    personas = pd.DataFrame(columns=["account_id", "persona"])
    durations = survival.value_durations(before.tables, before.cutoff, origin="subscription_start",
                                         value=survival.parse_value_event("usage"), churn_gap_days=30,
                                         segments=personas)
    value_all = survival.SurvivalCurves(min_group_size=20).fit(durations)
    churn = survival.churn_durations(before.tables, before.cutoff, churn_gap_days=30, segments=personas)
    retention_all = survival.SurvivalCurves(min_group_size=20, horizons=(90, 180, 365)).fit(churn)
    _check(review_folder, "03_time_to_value", {
        "Median days to first value": value_all.medians()["all"]["median"],
        "12-month logo retention": retention_all.shares(365, of="survival")["all"]["share"],
    })
