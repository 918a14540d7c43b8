"""journeylib.widgets.attribution: the drill-down tables by hand, the dropdowns' cascade, the what-if sentence and
the what-if explorer's recomputation (no frontend: nothing is drawn, the figures and results are kept)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib import attribution
from journeylib.errors import ParameterError
from journeylib.widgets import HEADLESS_ENV
from journeylib.widgets.attribution import NO_CAMPAIGN, attribution_explorer, drill_down, what_if_explorer, \
    what_if_sentence

DAY = pd.Timestamp("2026-06-01", tz="UTC")

# three converting journeys: a1 (value 100), a2 (300), a3 (40)
#   a1: email/c1 0.6, event/- 0.4     a2: email/c2 0.25, email/c1 0.25, event/e1 0.5     a3: email/c1 1.0
TOUCHES = [("a1", "email", "c1", 0.6), ("a1", "event", None, 0.4),
           ("a2", "email", "c2", 0.25), ("a2", "email", "c1", 0.25), ("a2", "event", "e1", 0.5),
           ("a3", "email", "c1", 1.0)]
VALUES = {"a1": 100.0, "a2": 300.0, "a3": 40.0}


@pytest.fixture(autouse=True)
def frontend_free(monkeypatch):
    """Outside the review: explorers compute (there is no IPython kernel, so they draw nothing)."""
    monkeypatch.delenv(HEADLESS_ENV, raising=False)


@pytest.fixture
def credited():
    rows = [{"journey_id": f"j-{a}", "account_id": a, "position": i, "channel": ch, "campaign": cp,
             "touch_time": DAY + pd.Timedelta(days=i), "credit": c, "value_credit": c * VALUES[a]}
            for i, (a, ch, cp, c) in enumerate(TOUCHES)]
    return pd.DataFrame(rows)


def _records(frame):
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
            for row in frame.itertuples(index=False, name=None)]


def test_drill_down_by_hand(credited):
    every = drill_down(credited)
    # email 0.6 + 0.25 + 0.25 + 1.0 = 2.1 conversions, 60 + 75 + 75 + 40 = 250; event 0.4 + 0.5, 40 + 150
    assert _records(every.channels) == [("email", 2.1, 250.0, 4), ("event", 0.9, 190.0, 2)]
    assert _records(every.campaigns) == [("c1", 1.85, 175.0, 3), ("e1", 0.5, 150.0, 1), (NO_CAMPAIGN, 0.4, 40.0, 1),
                                         ("c2", 0.25, 75.0, 1)]
    assert _records(every.accounts) == [("a2", 1.0, 300.0), ("a1", 1.0, 100.0), ("a3", 1.0, 40.0)]
    email = drill_down(credited, "email")
    assert list(email.campaigns.columns) == ["campaign", "conversions", "value", "touches"]
    assert _records(email.campaigns) == [("c1", 1.85, 175.0, 3), ("c2", 0.25, 75.0, 1)]
    assert _records(email.accounts) == [("a2", 0.5, 150.0), ("a1", 0.6, 60.0), ("a3", 1.0, 40.0)]
    assert _records(drill_down(credited, "email", "c1").accounts) == [("a2", 0.25, 75.0), ("a1", 0.6, 60.0),
                                                                      ("a3", 1.0, 40.0)]
    event = drill_down(credited, "event")
    assert _records(event.campaigns) == [("e1", 0.5, 150.0, 1), (NO_CAMPAIGN, 0.4, 40.0, 1)]
    assert _records(drill_down(credited, "event", NO_CAMPAIGN).accounts) == [("a1", 0.4, 40.0)]


def test_unknown_names_raise_with_the_valid_ones(credited):
    with pytest.raises(ParameterError, match=r"channel 'web' has no credited touch; channels with credit: email, "
                                             r"event$"):
        drill_down(credited, "web")
    with pytest.raises(ParameterError, match=r"channel 'emial' has no credited touch \(did you mean 'email'\?\); "):
        drill_down(credited, "emial")
    with pytest.raises(ParameterError, match=r"campaign 'c3' has no credited touch in channel 'email'; "
                                             r"campaigns with credit: c1, c2$"):
        drill_down(credited, "email", "c3")
    with pytest.raises(ParameterError, match=r"account 'a3' has no credited touch in event; accounts with credit: "
                                             r"a2, a1$"):
        attribution_explorer(credited, channel="event", account="a3")
    many = pd.concat([credited.assign(channel=f"ch{i:02d}") for i in range(12)], ignore_index=True)
    with pytest.raises(ParameterError, match=r"channels with credit: ch00, .*, ch09 \.\.\. \(12 in all\)$"):
        drill_down(many, "email")


def test_the_explorer_starts_from_the_parameters(credited):
    explorer = attribution_explorer(credited)
    assert explorer.channel.options == (("All channels", ""), ("email", "email"), ("event", "event"))
    assert [v for _, v in explorer.campaign.options] == ["", "c1", "e1", NO_CAMPAIGN, "c2"]
    assert explorer.account.options == (("a2 (300)", "a2"), ("a1 (100)", "a1"), ("a3 (40)", "a3"))
    assert explorer.account.value == "a2"
    assert explorer.figures["account_touches"].layout.title.text == "Credited touches of account a2"
    chosen = attribution_explorer(credited, channel="email", campaign="c1", account="a3")
    assert (chosen.channel.value, chosen.campaign.value, chosen.account.value) == ("email", "c1", "a3")


def test_changing_the_channel_then_the_campaign_refreshes_the_options_and_the_figure(credited):
    explorer = attribution_explorer(credited, channel="email", campaign="c2")
    assert explorer.account.options == (("a2 (75)", "a2"),)
    explorer.channel.value = "event"
    assert explorer.campaign.options == (("All campaigns", ""), ("e1", "e1"), (NO_CAMPAIGN, NO_CAMPAIGN))
    assert explorer.campaign.value == ""
    assert explorer.account.options == (("a2 (150)", "a2"), ("a1 (40)", "a1"))
    fig = explorer.figures["account_touches"]
    assert fig.layout.title.text == "Credited touches of account a2 (event highlighted)"
    # every touch of a2 is drawn (one trace per channel, sorted); its event touch stands out
    assert [(t.name, len(t.x), list(t.marker.opacity)) for t in fig.data] == [("email", 2, [0.25, 0.25]),
                                                                              ("event", 1, [1.0])]
    explorer.campaign.value = NO_CAMPAIGN
    assert explorer.account.options == (("a1 (40)", "a1"),) and explorer.account.value == "a1"
    fig = explorer.figures["account_touches"]
    assert fig.layout.title.text == f"Credited touches of account a1 (event, {NO_CAMPAIGN} highlighted)"
    assert [pd.Timestamp(x, tz="UTC") for t in fig.data for x in t.x] == [DAY, DAY + pd.Timedelta(days=1)]
    explorer.account.value = "a1"
    explorer.channel.value = ""
    assert explorer.account.value == "a2" and len(explorer.campaign.options) == 5
    assert explorer.figures["account_touches"].layout.title.text == "Credited touches of account a2"


def _result(channel="event", scale=0.0, change=-12.4, low=-20.2, high=-4.3, value=-350_000.0):
    return pd.DataFrame([{"channel": channel, "scale": scale, "journeys": 50, "conversions": 30,
                          "expected_change": change, "ci_low": low, "ci_high": high, "value_change": value,
                          "value_ci_low": np.nan, "value_ci_high": np.nan}])


def test_what_if_sentence():
    assert what_if_sentence(_result()) == ("Removing event: about -12 won deals (interval -20 to -4) and "
                                           "-350,000 USD in value.")
    assert what_if_sentence(_result("web", 1.5, 2.44, 0.5, 4.0, 1234.4), "EUR", "conversions") == (
        "Reaching 50% more journeys with web: about +2.4 conversions (interval +0.5 to +4.0) and +1,234 EUR in value.")
    # no bootstrap: no interval
    assert what_if_sentence(_result("web", 0.25, -3.0, np.nan, np.nan, -900.0)) == (
        "Reaching 75% fewer journeys with web: about -3.0 won deals and -900 USD in value.")
    assert what_if_sentence(_result("web", 1.0, 0.0, 0.0, 0.0, 0.0)) == "Keeping web at its reach: no change."


@pytest.fixture
def paths():
    """24 decided journeys: webinar mostly with wins, ads evenly, email everywhere, one journey without touch."""
    rows = []
    for i in range(24):
        won = i % 2 == 0
        path = ("email",) + (("webinar",) if (i % 4 != 3 if won else i % 4 == 1) else ()) + \
            (("ads",) if i % 3 == 0 else ())
        rows.append({"journey_id": f"j{i:02d}", "account_id": f"a{i:02d}", "path": path, "converted": int(won),
                     "decided": True, "value": 100.0 + 10 * i if won else 0.0})
    rows.append({"journey_id": "j99", "account_id": "a99", "path": (), "converted": 0, "decided": True, "value": 0.0})
    return pd.DataFrame(rows)


def test_what_if_explorer_recomputes_when_a_control_changes(paths):
    explorer = what_if_explorer(paths, "webinar", 0.0, exclude="email", n_boot=20)
    assert explorer.channel.options == ("ads", "webinar")  # the lift model's channels, email excluded
    assert (explorer.scale.min, explorer.scale.max, explorer.scale.step) == (0.0, 3.0, 0.1)
    assert not explorer.scale.continuous_update
    pd.testing.assert_frame_equal(explorer.result, attribution.what_if(paths, "webinar", 0.0, exclude="email",
                                                                       n_boot=20))
    explorer.scale.value = 1.5
    expected = attribution.what_if(paths, "webinar", 1.5, exclude="email", n_boot=20)
    pd.testing.assert_frame_equal(explorer.result, expected)
    assert explorer.sentence.value == what_if_sentence(expected, "USD", "conversions")
    assert explorer.sentence.value.startswith("Reaching 50% more journeys with webinar: about +")
    explorer.channel.value = "ads"
    pd.testing.assert_frame_equal(explorer.result, attribution.what_if(paths, "ads", 1.5, exclude="email",
                                                                       n_boot=20))


def test_what_if_explorer_checks_its_parameters(paths):
    with pytest.raises(ParameterError, match=r"channel 'email' is not among the channels of the lift model; "
                                             r"channels: ads, webinar$"):
        what_if_explorer(paths, "email", 0.0, exclude=["email"])
    with pytest.raises(ParameterError, match=r"scale must be a multiple of the journeys the channel reaches >= 0; "
                                             r"got -1"):
        what_if_explorer(paths, "ads", -1)
    assert what_if_explorer(paths, "ads", 4.0, n_boot=0).scale.max == 4.0


def test_under_the_review_explorers_are_built_and_checked_but_compute_nothing(paths, credited, monkeypatch):
    monkeypatch.setenv(HEADLESS_ENV, "1")
    explorer = what_if_explorer(paths, "webinar", 0.0, n_boot=20)
    assert explorer.result is None and explorer.sentence.value == ""
    with pytest.raises(ParameterError, match="channel 'web' is not among"):
        what_if_explorer(paths, "web", 0.0)
    with pytest.raises(ParameterError, match="channel 'web' has no credited touch"):
        attribution_explorer(credited, channel="web")
    assert attribution_explorer(credited, channel="event").account.value == "a2"
