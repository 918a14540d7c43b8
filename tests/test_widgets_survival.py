"""The time-to-value explorer: the curves of the chosen split and cohort window, refitted when a control changes."""
from __future__ import annotations

import pandas as pd
import pytest

from journeylib import survival
from journeylib.errors import ParameterError
from journeylib.widgets import HEADLESS_ENV
from journeylib.widgets.survival import survival_explorer


@pytest.fixture
def durations(sample):
    return survival.value_durations(sample.tables, sample.cutoff, origin="subscription_start",
                                    value=survival.parse_value_event("usage"), churn_gap_days=30)


def test_the_curves_are_those_of_the_chosen_cohorts_and_split(durations, monkeypatch):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    explorer = survival_explorer(durations, split_by="plan", cohort_from="2025-01", cohort_to="2025-06")
    window = durations[durations["cohort"].astype(str).between("2025-01", "2025-06")]
    expected = survival.SurvivalCurves("plan").fit(window).summary_
    pd.testing.assert_frame_equal(explorer.curves.summary_, expected)
    assert explorer.curves.summary_["n"].sum() == len(window[window["plan"].notna()]) > 100
    explorer.split_by.value = ""  # one curve, same window
    assert explorer.curves.summary_["group"].tolist() == ["all"]
    assert int(explorer.curves.summary_["n"].iloc[0]) == int(expected["n"].sum())
    explorer.cohorts.value = (explorer.cohorts.options[0], explorer.cohorts.options[-1])  # every cohort again
    assert int(explorer.curves.summary_["n"].iloc[0]) == int(survival.SurvivalCurves().fit(durations).summary_["n"][0])
    assert "cohorts 2023-11 to 2026-10" in explorer.figures["value_curves"].layout.title.text


def test_parameters_outside_the_data_are_named(durations):
    with pytest.raises(ParameterError, match=r"split_by 'colour' is not a column of the durations to split by"):
        survival_explorer(durations, split_by="colour")
    with pytest.raises(ParameterError, match=r"cohort_from '2019-01' is not a cohort month \(YYYY-MM\) of the data; "
                                             r"from 2023-11 to 2026-10"):
        survival_explorer(durations, cohort_from="2019-01")
