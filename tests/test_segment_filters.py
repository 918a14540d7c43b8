"""Segment filters: the stage scorecard (notebook 06) and the personas (notebook 01) of one segment's accounts."""
from __future__ import annotations

import pandas as pd
import pytest

from journeylib import kpis
from journeylib.data.subset import data_for_accounts, segment_accounts
from journeylib.errors import ParameterError
from journeylib.widgets import HEADLESS_ENV
from journeylib.widgets.scorecard import scorecard_explorer

COUNTS = ["Awareness touchpoints", "New accounts reached", "Content downloads", "Demo requests", "Referrals given"]


def test_counts_of_the_regions_add_up_to_all_accounts(sample):
    whole = kpis.scorecard(sample, "2026-09").set_index("metric")
    regions = sorted(sample.accounts["region"].dropna().unique())
    assert sample.accounts["region"].notna().all() and len(regions) >= 3
    parts = [kpis.scorecard(data_for_accounts(sample, segment_accounts(sample, "region", r)), "2026-09")
             .set_index("metric") for r in regions]
    for metric in COUNTS:
        assert sum(p.loc[metric, "value"] for p in parts) == whole.loc[metric, "value"] > 0, metric
    # every table with an account id keeps exactly the segment's rows; spend has none and stays whole
    emea = data_for_accounts(sample, segment_accounts(sample, "region", "EMEA"))
    ids = set(sample.accounts.loc[sample.accounts["region"] == "EMEA", "account_id"])
    for name, table in emea.tables.items():
        full = sample.tables[name]
        if table is not None and "account_id" in table.columns:
            assert len(table) == full["account_id"].isin(ids).sum() and set(table["account_id"]) <= ids, name


def test_the_explorer_shows_the_chosen_segment_stage_and_month(sample, monkeypatch):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    explorer = scorecard_explorer(sample, "2026-10", segment_by="region", segment="EMEA", stage="decision")
    expected = kpis.scorecard(data_for_accounts(sample, segment_accounts(sample, "region", "EMEA")), "2026-10")
    pd.testing.assert_frame_equal(explorer.card, expected)
    assert explorer.shown["metric"].tolist() == ["Win rate (new business)", "Average deal size",
                                                 "Sales cycle (median days)"]
    explorer.month.value = "2026-08"
    explorer.segment_by.value = ""  # all accounts, August
    pd.testing.assert_frame_equal(explorer.card, kpis.scorecard(sample, "2026-08"))
    explorer.stage.value = ""
    assert len(explorer.shown) == len(explorer.card) > 15
    explorer.segment_by.value = "plan"  # a column's first value is chosen
    assert explorer.segment.value == sorted(sample.accounts["plan"].dropna().astype(str).unique())[0]


def test_the_explorer_shows_a_given_scorecard_only_for_every_account_and_its_month(sample, monkeypatch):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    october = kpis.scorecard(sample, "2026-10")
    given = october.assign(note="given")  # marked: shown only where it applies
    explorer = scorecard_explorer(sample, "2026-10", card=given)
    assert explorer.card is given
    explorer.month.value = "2026-09"  # another month: computed
    pd.testing.assert_frame_equal(explorer.card, kpis.scorecard(sample, "2026-09"))
    explorer.month.value = "2026-10"
    assert explorer.card is given
    explorer.segment_by.value = "region"  # a segment: computed
    pd.testing.assert_frame_equal(explorer.card, kpis.scorecard(
        data_for_accounts(sample, segment_accounts(sample, "region", explorer.segment.value)), "2026-10"))
    segmented = scorecard_explorer(sample, "2026-10", segment_by="region", segment="EMEA", card=given)
    assert "note" not in segmented.card


def test_parameters_outside_the_data_are_named(sample):
    with pytest.raises(ParameterError, match=r"segment_by 'colour' is not an accounts column"):
        scorecard_explorer(sample, "2026-10", segment_by="colour")
    with pytest.raises(ParameterError, match=r"no account has region = 'Mars'"):
        scorecard_explorer(sample, "2026-10", segment_by="region", segment="Mars")
    with pytest.raises(ParameterError, match=r"stage 'closing' is not a stage"):
        scorecard_explorer(sample, "2026-10", stage="closing")


def test_personas_within_each_region_add_up_to_all_accounts(sample, monkeypatch):
    from journeylib import segments
    from journeylib.widgets.segments import persona_segment_explorer

    monkeypatch.setenv(HEADLESS_ENV, "1")
    assigned = segments.PersonaModel(k=3, random_state=0, n_bootstrap=2).fit(segments.account_features(sample)) \
        .assign(segments.account_features(sample))
    whole = segments.persona_outcomes(sample, assigned).set_index("persona_id")
    explorer = persona_segment_explorer(sample, assigned, segment_by="region")
    sizes, won, customers = 0, 0, 0
    for region in explorer.segment.options:
        explorer.segment.value = region
        assert explorer.sizes["persona_id"].tolist() == [0, 1, 2]  # every persona, 0 where a region has none
        n = (sample.accounts["region"] == region).sum()
        assert explorer.sizes["accounts"].sum() == n and abs(explorer.sizes["share_in_segment"].sum() - 1) < 1e-12
        sizes = sizes + explorer.sizes.set_index("persona_id")["accounts"]
        won = won + explorer.outcomes.set_index("persona_id")["won"].reindex([0, 1, 2], fill_value=0)
        customers = customers + explorer.outcomes.set_index("persona_id")["customers"].reindex([0, 1, 2], fill_value=0)
    assert sizes.tolist() == assigned.groupby("persona_id").size().tolist()
    assert won.tolist() == whole["won"].tolist() and customers.tolist() == whole["customers"].tolist()
    assert whole["won"].sum() > 100
    with pytest.raises(ParameterError, match=r"segment_by 'colour' is not an accounts column"):
        persona_segment_explorer(sample, assigned, segment_by="colour")
