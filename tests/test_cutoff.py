"""The one as-of cut-off (journeylib.data.timeparse.as_of_cutoff) and the modules that use it.

The convention: a date means the last nanosecond of that day in the data's timezone
(a row is in when its time is <= the cut-off); a naive date and time is that wall time;
a tz-aware Timestamp is an instant, used as is.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import journeylib
from journeylib import paths, survival
from journeylib.churn.prepared import _cutoff as churn_day_end
from journeylib.data.timeparse import as_of_cutoff
from journeylib.errors import ParameterError
from journeylib.segments import account_features
from tests.conftest import write_source

NS = pd.Timedelta(1, "ns")


@pytest.mark.parametrize("day, tz, expected", [
    # plain days
    ("2026-10-31", "UTC", "2026-10-31T23:59:59.999999999Z"),
    ("2026-10-31", "Europe/Berlin", "2026-10-31T22:59:59.999999999Z"),  # CET (+01) after the October change
    # New York springs forward on 2026-03-08 (a 23-hour day) and falls back on 2026-11-01 (25 hours)
    ("2026-03-07", "America/New_York", "2026-03-08T04:59:59.999999999Z"),
    ("2026-03-08", "America/New_York", "2026-03-09T03:59:59.999999999Z"),
    ("2026-10-31", "America/New_York", "2026-11-01T03:59:59.999999999Z"),
    ("2026-11-01", "America/New_York", "2026-11-02T04:59:59.999999999Z"),
    # Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25
    ("2026-03-29", "Europe/Berlin", "2026-03-29T21:59:59.999999999Z"),
    ("2026-10-25", "Europe/Berlin", "2026-10-25T22:59:59.999999999Z"),
])
def test_a_date_ends_one_nanosecond_before_the_next_local_midnight(day, tz, expected):
    got = as_of_cutoff(day, tz)
    assert got == pd.Timestamp(expected)
    assert str(got.tz) == "UTC"
    # the next instant is the next local day's first
    nxt = (got + NS).tz_convert(tz)
    assert (nxt.hour, nxt.minute, nxt.second, nxt.nanosecond) == (0, 0, 0, 0)
    assert nxt.date() == (pd.Timestamp(day) + pd.Timedelta(days=1)).date()


def test_day_lengths_at_dst_changes_are_23_and_25_hours():
    tz = "America/New_York"
    length = {d: as_of_cutoff(d, tz) - as_of_cutoff(pd.Timestamp(d) - pd.Timedelta(days=1), tz)
              for d in ("2026-03-08", "2026-06-15", "2026-11-01")}
    assert length == {"2026-03-08": pd.Timedelta(hours=23), "2026-06-15": pd.Timedelta(hours=24),
                      "2026-11-01": pd.Timedelta(hours=25)}


def test_a_day_whose_next_midnight_does_not_exist_ends_where_the_clocks_resume():
    # Santiago de Chile starts DST at midnight on 2026-09-06: 00:00 becomes 01:00 (-04 -> -03)
    got = as_of_cutoff("2026-09-05", "America/Santiago")
    assert got == pd.Timestamp("2026-09-06T03:59:59.999999999Z")
    assert (got + NS).tz_convert("America/Santiago") == pd.Timestamp("2026-09-06 01:00", tz="America/Santiago")


@pytest.mark.parametrize("value", ["2026-10-31", dt.date(2026, 10, 31), dt.datetime(2026, 10, 31),
                                   pd.Timestamp("2026-10-31"), np.datetime64("2026-10-31")])
def test_every_naive_form_of_a_date_means_the_same_day(value):
    assert as_of_cutoff(value, "Europe/Berlin") == pd.Timestamp("2026-10-31T22:59:59.999999999Z")


def test_naive_date_and_time_is_a_wall_time_and_aware_is_an_instant():
    assert as_of_cutoff("2026-10-31 12:30", "Europe/Berlin") == pd.Timestamp("2026-10-31T11:30Z")
    # an ambiguous wall time (the repeated hour) is read as the first, summer-time one
    assert as_of_cutoff("2026-10-25 02:30", "Europe/Berlin") == pd.Timestamp("2026-10-25T00:30Z")
    aware = pd.Timestamp("2026-10-31T23:59:59.999999999Z")
    assert as_of_cutoff(aware, "Europe/Berlin") == aware  # the timezone does not move an instant
    assert as_of_cutoff(pd.Timestamp("2026-10-31", tz="America/New_York")) == pd.Timestamp("2026-10-31T04:00Z")


@pytest.mark.parametrize("value, message", [
    (None, "as_of is missing"), ("", "as_of is missing"), ("soon", "as_of 'soon' is not a date"),
])
def test_a_missing_or_bad_as_of_names_the_parameter(value, message):
    with pytest.raises(ParameterError, match=message):
        as_of_cutoff(value)


# ----------------------------------------------------------------------------- every module uses it
TOUCHPOINTS = """event_id,account_id,timestamp,touchpoint,channel
E1,A1,2026-03-08T12:00:00-04:00,webinar,web
E2,A1,2026-03-09T03:30:00Z,demo,sales
E3,A1,2026-03-09T04:30:00Z,proposal,sales
"""
SUBSCRIPTIONS = """account_id,start_date,end_date,mrr,plan,seats_purchased
A1,2026-03-09T03:30:00Z,,100,pro,5
"""


def test_load_paths_features_survival_and_churn_share_one_cutoff_in_a_dst_timezone(tmp_path):
    """In New York, 2026-03-08 ends at 03:59:59.999999999Z: E2 (23:30 local) is in, E3 (00:30 on the 9th) out."""
    src = write_source(tmp_path / "src", {
        "accounts": "account_id,name,created_at\nA1,Acme,2026-01-01\n",
        "touchpoints": TOUCHPOINTS, "subscriptions": SUBSCRIPTIONS})
    data = journeylib.load(src, as_of="2026-03-08", tz="America/New_York")
    expected = as_of_cutoff("2026-03-08", "America/New_York")
    assert data.cutoff == expected == pd.Timestamp("2026-03-09T03:59:59.999999999Z")
    assert sorted(data.touchpoints["event_id"]) == ["E1", "E2"]  # E3 is out of the window

    # paths: a date as_of with the data's timezone, and the JourneyData's own cut-off, give the same log
    tp = data.touchpoints
    assert paths.event_log(data).cutoff == expected.value
    assert paths.event_log(tp, data.lifecycle, as_of=data.cutoff).cutoff == expected.value
    assert paths.journeys(paths.event_log(data))["events"].tolist() == [2]

    # survival: the subscription started 23:30 local on the 8th, so it is active at as_of
    churn = survival.churn_durations(data)
    assert churn["status"].tolist() == ["censored"]
    assert churn["end_at"].iloc[0] == expected + NS

    # features count touchpoints up to the same instant
    feats = account_features(data).set_index("account_id")
    assert feats.loc["A1", "touchpoints"] == 2

    # churn snapshots count days from the first instant after the day
    assert churn_day_end(pd.Timestamp("2026-03-08"), "America/New_York") == expected.value + 1


def test_a_window_starting_on_a_date_starts_one_nanosecond_after_the_previous_days_cutoff():
    from journeylib.data.timeparse import day_start

    assert day_start("2026-03-09", "America/New_York") == as_of_cutoff("2026-03-08", "America/New_York") + NS
    assert day_start("2026-03-09", "America/New_York") == pd.Timestamp("2026-03-09T04:00Z")  # EDT after the change
    assert day_start(pd.Timestamp("2026-03-09T12:00Z"), "America/New_York") == pd.Timestamp("2026-03-09T04:00Z")
