"""Notebook 05 under the review on the sample: its recorded credits and lift are what the library computes, and its
headline's previous value is recomputed from the data as of the previous month end."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from journeylib import attribution, review
from journeylib.data.history import data_as_of

pytestmark = pytest.mark.notebook


def test_attribution_notebook_records_the_library_values(tmp_path, sample):
    result = review.run_review(month="2026-10", data="", out=tmp_path, only=["05_attribution"], progress=False)
    assert not result.failed, result.failed
    rec = review.read_results(result.folder, "05_attribution")
    paths = attribution.conversion_paths(sample)
    assert rec["journeys"] == len(paths) and rec["converting"] == int(paths["converted"].sum())
    credits = attribution.compare_models(paths)
    recorded = pd.DataFrame(rec["credits"]["data"], columns=rec["credits"]["columns"])
    pd.testing.assert_frame_equal(recorded, credits, check_dtype=False)
    # every model credits exactly the converting journeys with a touch
    assert recorded.groupby("model")["conversions"].sum().round(9).eq(rec["converting"]).all()
    lift = attribution.channel_lift(paths, exclude=["sales"], n_boot=100)
    rec_lift = pd.DataFrame(rec["lift"]["data"], columns=rec["lift"]["columns"])
    pd.testing.assert_frame_equal(rec_lift, lift[["channel", "coefficient", "ci_low", "ci_high", "significant"]],
                                  check_dtype=False)
    scenario = attribution.what_if(paths, "event", 0.0, exclude=["sales"], n_boot=100)
    rec_what_if = pd.DataFrame(rec["what_if"]["data"], columns=rec["what_if"]["columns"])
    pd.testing.assert_frame_equal(rec_what_if, scenario, check_dtype=False)
    assert rec_what_if.loc[0, "ci_low"] <= rec_what_if.loc[0, "expected_change"] <= rec_what_if.loc[0, "ci_high"]
    spend = attribution.cost_per_outcome(sample, model="w_shaped", days=365, lookback_days=365)
    rec_spend = pd.DataFrame(rec["spend"]["data"], columns=rec["spend"]["columns"])
    pd.testing.assert_frame_equal(rec_spend, spend, check_dtype=False)
    assert rec_spend["cost"].sum() > 0  # the sample's paid channels carry costs
    assert rec_spend["cost_per_lead"].notna().any() and rec_spend["cost_per_opportunity"].notna().any()
    by_stage = pd.DataFrame(rec["shapley_by_stage"]["data"], columns=rec["shapley_by_stage"]["columns"])
    pd.testing.assert_frame_equal(by_stage, attribution.shapley(paths, by_stage=True), check_dtype=False)
    assert by_stage["conversions"].sum() == pytest.approx(rec["converting"])
    section = review.read_results(result.folder, "05_attribution")["sentences"]
    assert section == attribution.pipeline_sentences(credits, lift, model="w_shaped", currency=sample.currency)
    assert any("of won revenue" in s for s in section)
    # the headline's previous value: the same count on the data as known at the previous month end
    previous = int(attribution.conversion_paths(data_as_of(sample, "2026-09-30"))["converted"].sum())
    headlines = json.loads((result.folder / "sections" / "05_attribution.json").read_text())["headlines"]
    won = next(h for h in headlines if h["label"] == "Won deals attributed")
    assert won["value"] == rec["converting"]
    assert won["previous"] == previous != won["value"]
    assert rec["previous_day"] == "2026-09-30" and rec["previous_headlines"] == {"Won deals attributed": previous}
