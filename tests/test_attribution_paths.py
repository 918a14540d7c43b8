"""attribution.conversion_paths on a hand-written account history: windows, milestones, values, levels."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylib
from journeylib import attribution
from journeylib.errors import ParameterError

ACCOUNTS = "account_id,name,created_at\nA1,Acme,2025-01-01\nA2,Beta,2025-01-01\nA3,Gamma,2025-01-01\n"
CONTACTS = "contact_id,account_id,role\nC1,A1,champion\nC2,A1,economic_buyer\nC3,A2,champion\n"
TOUCHPOINTS = """event_id,account_id,contact_id,timestamp,touchpoint,channel,campaign
E1,A1,C1,2026-03-01T10:00:00Z,paid_search_ad,paid_search,Spring search
E2,A1,C2,2026-04-01T10:00:00Z,newsletter_click,email,April news
E3,A1,,2026-04-20T10:00:00Z,demo,sales,
E4,A1,C1,2026-06-01T10:00:00Z,webinar,webinar,June webinar
E5,A2,C3,2026-02-01T10:00:00Z,webinar,webinar,Feb webinar
E6,A2,C3,2026-05-01T10:00:00Z,demo,,
E7,A3,,2025-01-15T10:00:00Z,website_visit,web,
E8,A2,,2026-10-20T10:00:00Z,website_visit,web,
"""
LEADS = "lead_id,created_at,account_id,contact_id\nL1,2026-03-15,A1,C1\nL2,2026-02-02,A2,C3\n"
OPPORTUNITIES = """opportunity_id,account_id,created_at,closed_at,status,amount,type
O1,A1,2026-04-10,2026-05-01,won,100,new
O2,A2,2026-04-25,2026-06-15,lost,50,new
O3,A1,2026-07-01,2026-08-01,won,70,expansion
"""


@pytest.fixture
def data(make_source):
    return journeylib.load(make_source(accounts=ACCOUNTS, contacts=CONTACTS, touchpoints=TOUCHPOINTS, leads=LEADS,
                                       opportunities=OPPORTUNITIES), as_of="2026-10-31")


def test_account_journeys_end_at_the_first_won_deal_and_keep_milestones(data):
    p = attribution.conversion_paths(data).set_index("journey_id")
    assert list(p.index) == ["A1", "A2"]  # A3's only touch is over 365 days before the cut-off
    assert p.attrs["no_touch"] == 1
    a1 = p.loc["A1"]
    # touches by both contacts and none, before the won close on 05-01; the June webinar is after it
    assert a1["path"] == ("paid_search", "email", "sales")
    assert a1["campaigns"] == ("Spring search", "April news", None)
    assert [t.strftime("%m-%d") for t in a1["touch_times"]] == ["03-01", "04-01", "04-20"]
    assert (a1["converted"], a1["value"]) == (1, 100.0)
    assert a1["conversion_at"] == pd.Timestamp("2026-05-01", tz="UTC")
    assert (a1["lead_touch"], a1["opportunity_touch"]) == (0, 1)  # lead 03-15 after E1; opportunity 04-10 after E2
    a2 = p.loc["A2"]
    assert a2["path"] == ("webinar", "(unknown)", "web") and (a2["converted"], a2["value"]) == (0, 0.0)
    assert pd.isna(a2["conversion_at"]) and (a2["lead_touch"], a2["opportunity_touch"]) == (0, 0)
    assert a1["decided"] and a2["decided"]  # A2 lost its deal: a known outcome
    created = attribution.conversion_paths(data, conversion="won", opportunity_types=["expansion"])
    assert created.set_index("journey_id")["decided"].to_dict() == {"A1": True, "A2": False}  # A2: no such deal
    assert list(p.reset_index().columns) == list(attribution.PATH_COLUMNS)


def test_other_conversions_and_windows(data):
    created = attribution.conversion_paths(data, conversion="opportunity_created").set_index("journey_id")
    assert created.loc["A1", "path"] == ("paid_search", "email")  # before the opportunity's creation on 04-10
    assert created.loc["A2", ["converted", "value"]].tolist() == [1, 50.0]  # pipeline: the lost deal's amount
    decision = attribution.conversion_paths(data, conversion="consideration").set_index("journey_id")
    assert decision.loc["A1", "path"] == ("paid_search", "email")  # the demo (consideration) converts
    assert decision.loc["A1", "value"] == 0.0
    short = attribution.conversion_paths(data, lookback_days=40).set_index("journey_id")
    assert short.loc["A1", "path"] == ("email", "sales")  # 40 days before 05-01: from 03-22
    everything = attribution.conversion_paths(data, lookback_days=1000, opportunity_types=None)
    assert "A3" in set(everything["journey_id"])
    # the first lead, with the touch at its instant: A1's lead 03-15 follows E1; A2's 02-02 follows E5 (02-01)
    leads = attribution.conversion_paths(data, conversion="lead_created").set_index("journey_id")
    assert leads["path"].to_dict() == {"A1": ("paid_search",), "A2": ("webinar",)}
    assert leads["converted"].tolist() == [1, 1] and leads["value"].tolist() == [0.0, 0.0]


def test_each_touch_keeps_its_stage_and_the_lifecycle_order_is_kept(data):
    p = attribution.conversion_paths(data).set_index("journey_id")
    stage_of = data.touchpoints.set_index("event_id")["stage"].astype(str)
    assert p.loc["A1", "stages"] == tuple(stage_of[["E1", "E2", "E3"]])
    assert p.attrs["stage_order"] == list(data.lifecycle.ids)


def test_opportunity_journeys(data):
    p = attribution.conversion_paths(data, level="opportunity", lookback_days=30,
                                     opportunity_types=None).set_index("journey_id")
    # O1: from 03-11 (30 days before creation) to its won close on 05-01
    assert p.loc["O1", ["account_id", "path", "converted", "value"]].tolist() == ["A1", ("email", "sales"), 1, 100.0]
    # O2 lost: its account's touches from 03-26 to its close on 06-15
    assert p.loc["O2", ["path", "converted", "value"]].tolist() == [("(unknown)",), 0, 0.0]
    assert p.loc["O3", "path"] == ("webinar",)  # the June webinar, 30 days before the expansion's creation
    with pytest.raises(ParameterError, match="level='opportunity': an opportunity's journey converts when it is won"):
        attribution.conversion_paths(data, level="opportunity", conversion="opportunity_created")


def test_bad_options_name_what_is_allowed(data):
    with pytest.raises(ParameterError, match=r"conversion must be one of won, opportunity_created, lead_created, awareness"):
        attribution.conversion_paths(data, conversion="signed")
    with pytest.raises(ParameterError, match="level must be one of account, opportunity; got 'contact'"):
        attribution.conversion_paths(data, level="contact")
    with pytest.raises(ParameterError, match="data must be a JourneyData"):
        attribution.conversion_paths(data.touchpoints)


def test_sample_paths_are_consistent(sample):
    p = attribution.conversion_paths(sample)
    assert p["journey_id"].is_unique and (p["path"].map(len) > 0).all()
    assert (p["path"].map(len) == p["touch_times"].map(len)).all()
    assert (p["touch_times"].map(lambda t: all(a <= b for a, b in zip(t, t[1:])))).all()
    conv = p[p["converted"] == 1]
    assert (conv.apply(lambda r: r["touch_times"][-1] < r["conversion_at"], axis=1)).all()
    assert (p["lead_touch"] < p["path"].map(len)).all() and (p["opportunity_touch"] >= -1).all()
    won_new = sample.opportunities.query("status == 'won' and type == 'new'")["account_id"].nunique()
    assert conv["account_id"].nunique() <= won_new and len(conv) > 0.8 * won_new


@pytest.mark.parametrize("level, conversion", [("account", "won"), ("account", "lead_created"),
                                               ("opportunity", "won")])
def test_converted_after_keeps_the_same_paths_of_the_later_conversions(sample, level, conversion):
    after = sample.cutoff - pd.Timedelta(days=120)
    full = attribution.conversion_paths(sample, level=level, conversion=conversion)
    expected = full[(full["converted"] == 1) & (full["conversion_at"] > after)].reset_index(drop=True)
    late = attribution.conversion_paths(sample, level=level, conversion=conversion, converted_after=after)
    assert 0 < len(late) < len(full)
    pd.testing.assert_frame_equal(late, expected)
    naive = attribution.conversion_paths(sample, level=level, conversion=conversion,
                                         converted_after=after.tz_localize(None))  # read as UTC
    pd.testing.assert_frame_equal(naive, expected)
    converting = attribution.conversion_paths(sample, level=level, conversion=conversion, converting_only=True)
    pd.testing.assert_frame_equal(converting, full[full["converted"] == 1].reset_index(drop=True))
    assert len(late) < len(converting) <= len(full)  # (every sample account has a lead)


def test_paths_do_not_depend_on_the_touchpoints_row_order(sample):
    """Each journey's touches are ordered by time, then event id (a missing one last), whatever the rows' order:
    touchpoints already in that order (kept as they are), in the sample's order with equal times, and shuffled
    (sorted) give the same paths."""
    import copy

    tp = sample.touchpoints.copy()
    tied = tp["account_id"].isin(tp["account_id"].unique()[:60])
    tp.loc[tied, "timestamp"] = tp.loc[tied, "timestamp"].dt.floor("30D")  # many touches at one instant
    tp.loc[tp[tied].groupby("account_id").head(1).index, "event_id"] = None  # one per account: no equal keys

    def paths_of(touchpoints, **kw):
        data = copy.copy(sample)
        data.tables = {**sample.tables, "touchpoints": touchpoints.reset_index(drop=True)}
        return attribution.conversion_paths(data, **kw)

    in_order = tp.sort_values(["timestamp", "event_id"], kind="stable", na_position="last")
    for kw in ({}, {"level": "opportunity"}):
        expected = paths_of(in_order, **kw)
        assert expected["converted"].sum() > 0
        for rows in (tp, tp.sample(frac=1, random_state=3)):
            pd.testing.assert_frame_equal(paths_of(rows, **kw), expected)
