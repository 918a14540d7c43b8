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


def test_the_tables_of_an_earlier_month_are_cut_when_read_and_once():
    """data_as_of / tables_as_of cut a table the first time it is read: an analysis of last month's touchpoints
    does not pay for cutting the usage (here a table that cannot be cut at all)."""
    from journeylib.data.history import tables_as_of

    class Uncuttable:
        def __getattr__(self, name):
            raise AssertionError("the usage table was read")

        def __getitem__(self, key):
            raise AssertionError("the usage table was read")

        def __contains__(self, key):
            raise AssertionError("the usage table was read")

    touchpoints = pd.DataFrame({"account_id": ["a", "a", "b"], "timestamp": pd.to_datetime(
        ["2026-09-30 23:00", "2026-10-01 00:00", "2026-09-02 08:00"], utc=True), "touchpoint": ["web", "demo", "web"]})
    cut = tables_as_of({"touchpoints": touchpoints, "usage": Uncuttable(), "contacts": None},
                       pd.Timestamp("2026-09-30 23:59:59.999999999", tz="UTC"))
    assert list(cut) == ["touchpoints", "usage", "contacts"] and len(cut) == 3 and cut["contacts"] is None
    assert cut["touchpoints"]["touchpoint"].tolist() == ["web", "web"] and cut["touchpoints"] is cut["touchpoints"]
    with pytest.raises(AssertionError, match="usage table was read"):
        cut["usage"]


def test_a_time_sorted_table_is_cut_by_a_slice_that_shares_its_arrays():
    """Rows sorted by their time are cut by keeping the first ones without copying them: the same frame as the
    unsorted table's cut, a fresh index, and a later change of a column leaves the loaded table as it was."""
    import numpy as np

    from journeylib.data.history import tables_as_of

    cutoff = pd.Timestamp("2026-09-30 23:59:59.999999999", tz="UTC")
    opened = pd.to_datetime(["2026-08-01 00:00", "2026-09-01 00:00", "2026-09-20 00:00", "2026-09-30 23:59", "2026-10-01 00:00",
                             "2026-10-05 00:00"],
                            utc=True)
    tickets = pd.DataFrame({"ticket_id": list("KLMNOP"), "account_id": list("aabbcc"), "opened_at": opened,
                            "resolved_at": opened + pd.Timedelta(days=3), "csat": [5.0, 4.0, 3.0, 2.0, 1.0, 5.0],
                            "first_response_minutes": np.arange(6.0)})
    shuffled = tickets.iloc[[4, 2, 0, 5, 3, 1]].reset_index(drop=True)
    assert tickets["opened_at"].is_monotonic_increasing and not shuffled["opened_at"].is_monotonic_increasing
    cut = tables_as_of({"tickets": tickets}, cutoff)["tickets"]
    expected = tables_as_of({"tickets": shuffled}, cutoff)["tickets"].sort_values("ticket_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(cut, expected)
    assert cut["ticket_id"].tolist() == list("KLMN") and isinstance(cut.index, pd.RangeIndex)
    # resolved after the cut-off: unresolved, no csat yet (those two columns are new arrays) ...
    assert cut["resolved_at"].isna().tolist() == [False, False, False, True] and cut["csat"].isna().sum() == 1
    # ... the others are the loaded table's own, not copies
    assert np.shares_memory(cut["first_response_minutes"].to_numpy(), tickets["first_response_minutes"].to_numpy())
    cut["first_response_minutes"] = 0.0
    assert tickets["first_response_minutes"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert tickets["csat"].notna().all() and len(tickets) == 6
