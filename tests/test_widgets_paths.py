"""The drill-down from the variants table (notebook 02) to a variant's accounts and one account's history."""
from __future__ import annotations

import pytest

from journeylib import paths
from journeylib.errors import ParameterError
from journeylib.widgets import HEADLESS_ENV
from journeylib.widgets.paths import variant_explorer


@pytest.fixture
def emea(sample):
    log = paths.event_log(sample, segments="region", segment="EMEA")
    return log, paths.variants(log, top=10)


def test_the_variant_chosen_offers_its_accounts_and_shows_the_first(sample, emea, monkeypatch):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    log, table = emea
    explorer = variant_explorer(sample, log, table, variant=2)
    # the variant's journeys are those the table counted, with the same outcomes
    assert len(explorer.journeys) == table["journeys"].iloc[1] > 10
    outcomes = explorer.outcomes().iloc[0]
    for outcome in ("won", "lost", "open", "none"):
        assert outcomes.get(outcome, 0) == table[outcome].iloc[1]
    region = sample.accounts.set_index("account_id")["region"]
    assert set(region[explorer.journeys["account_id"]]) == {"EMEA"}
    first = explorer.journeys["account_id"].iloc[0]
    assert explorer.accounts.history.attrs["account_id"] == first
    assert explorer.accounts.account.value.endswith(f"({first})")
    assert len(explorer.accounts.account.options) == min(200, len(explorer.journeys))

    explorer.variant.value = 3  # another variant: its accounts offered, its first shown
    third = paths.variant_journeys(log, 3)
    assert explorer.journeys["account_id"].tolist() == third["account_id"].tolist()
    assert explorer.accounts.history.attrs["account_id"] == third["account_id"].iloc[0]
    assert explorer.accounts.account.value.endswith(f"({third['account_id'].iloc[0]})")
    # the history on show is that account's: its touchpoints are the account's
    touches = sample.touchpoints[sample.touchpoints["account_id"] == third["account_id"].iloc[0]]
    assert (explorer.accounts.history["kind"] == "touchpoint").sum() == len(touches) > 0


def test_an_account_parameter_is_shown_first_and_a_bad_rank_is_named(sample, emea):
    log, table = emea
    wanted = paths.variant_journeys(log, 1)["account_id"].iloc[-1]
    assert variant_explorer(sample, log, table, account=wanted).accounts.history.attrs["account_id"] == wanted
    with pytest.raises(ParameterError, match=r"variant 11 is not a rank of the variants table: 1 to 10"):
        variant_explorer(sample, log, table, variant=11)
