"""attribution spend: costs per channel and campaign, cost per won deal and ROI, influenced value."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeylib
from journeylib import attribution

TOUCHPOINTS = """event_id,account_id,timestamp,touchpoint,channel,campaign,cost
E1,A1,2026-09-01,paid_search_ad,paid_search,Search Q3,120
E2,A1,2026-09-10,webinar,webinar,Webinar Sept,300
E3,A2,2026-09-05,paid_search_ad,paid_search,Search Q3,80
E4,A2,2026-10-01,demo,sales,,
E5,A3,2026-10-30,paid_search_ad,paid_search,Search Q4,50
"""


def test_costs_cac_roi_and_influence_by_hand(make_source):
    data = journeylib.load(make_source(touchpoints=TOUCHPOINTS), as_of="2026-10-31")
    costs = attribution.channel_costs(data).set_index("channel")
    assert costs.to_dict("index") == {"paid_search": {"cost": 250.0, "touches": 3},
                                      "webinar": {"cost": 300.0, "touches": 1}}
    october = attribution.channel_costs(data, start="2026-10-01")
    assert october.to_dict("records") == [{"channel": "paid_search", "cost": 50.0, "touches": 1}]
    last_days = attribution.channel_costs(data, days=55)  # after the cut-off minus 55 days (09-06 23:59:59): E2, E5
    assert last_days.set_index("channel")["cost"].to_dict() == {"webinar": 300.0, "paid_search": 50.0}
    by_campaign = attribution.channel_costs(data, by="campaign").set_index("campaign")["cost"].to_dict()
    assert by_campaign == {"Webinar Sept": 300.0, "Search Q3": 200.0, "Search Q4": 50.0}
    credits = pd.DataFrame({"channel": ["paid_search", "webinar", "sales"], "conversions": [1.5, 0.5, 0.0],
                            "value": [3000.0, 100.0, 0.0]})
    roi = attribution.return_on_spend(credits, costs.reset_index()).set_index("channel")
    assert roi.loc["paid_search", "cost_per_conversion"] == pytest.approx(250 / 1.5)
    assert roi.loc["paid_search", "roi"] == pytest.approx((3000 - 250) / 250)
    assert roi.loc["webinar", "roi"] == pytest.approx((100 - 300) / 300)
    assert np.isnan(roi.loc["sales", "roi"]) and np.isnan(roi.loc["sales", "cost_per_conversion"])
    paths = pd.DataFrame({"journey_id": ["A1", "A2", "A3"], "path": [("paid_search", "webinar", "paid_search"),
                                                                     ("paid_search", "sales"), ("webinar",)],
                          "campaigns": [("S", "W", "S"), ("S", None), ("W",)], "converted": [1, 1, 0],
                          "value": [100.0, 50.0, 0.0]})
    inf = attribution.influence(paths).set_index("channel")
    assert inf.to_dict("index") == {
        "paid_search": {"journeys": 2, "converting": 2, "value_influenced": 150.0, "share_of_value": 1.0},
        "sales": {"journeys": 1, "converting": 1, "value_influenced": 50.0, "share_of_value": 50 / 150},
        "webinar": {"journeys": 2, "converting": 1, "value_influenced": 100.0, "share_of_value": 100 / 150}}
    assert attribution.influence(paths, by="campaign").set_index("campaign")["value_influenced"].to_dict() == {
        "S": 150.0, "W": 100.0}


def test_no_cost_column_gives_an_empty_table_with_a_note(make_source):
    data = journeylib.load(make_source(), as_of="2026-10-31")
    out = attribution.channel_costs(data)
    assert out.empty and "no cost" in out.attrs["note"]


def test_cost_per_lead_opportunity_and_won_deal_by_hand(make_source):
    touchpoints = TOUCHPOINTS + "E6,A4,2026-01-05,newsletter_click,email,Jan news,\n"
    leads = ("lead_id,created_at,account_id\nL1,2026-09-01,A1\nL2,2026-09-06,A2\nL3,2026-10-30,A3\n"
             "L4,2026-01-05,A4\nL5,2026-10-20,A1\n")  # L4 before the period; L5 is not A1's first lead
    opportunities = ("opportunity_id,account_id,created_at,closed_at,status,amount,type\n"
                     "O1,A1,2026-09-15,2026-10-15,won,1000,new\nO2,A2,2026-10-02,,open,400,new\n")
    data = journeylib.load(make_source(accounts=None, touchpoints=touchpoints, leads=leads,
                                       opportunities=opportunities), as_of="2026-10-31")
    out = attribution.cost_per_outcome(data, days=90).set_index("channel")
    # leads: each account's first lead, with the touch that created it: A1 (E1), A2 (E3: 09-05), A3 (E5)
    # opportunities (linear): A1 E1,E2 -> 1/2 each; A2 E3,E4 -> 1/2 paid_search, 1/2 sales
    # won: A1 (1000) -> paid_search 1/2 (500), webinar 1/2 (500)
    assert out[["cost", "leads", "opportunities", "won", "won_value"]].to_dict("index") == {
        "paid_search": {"cost": 250.0, "leads": 3.0, "opportunities": 1.0, "won": 0.5, "won_value": 500.0},
        "webinar": {"cost": 300.0, "leads": 0.0, "opportunities": 0.5, "won": 0.5, "won_value": 500.0},
        "sales": {"cost": 0.0, "leads": 0.0, "opportunities": 0.5, "won": 0.0, "won_value": 0.0}}
    assert out.loc["paid_search", "cost_per_lead"] == pytest.approx(250 / 3)
    assert out.loc["paid_search", "cost_per_opportunity"] == pytest.approx(250)
    assert out.loc["webinar", "cost_per_opportunity"] == pytest.approx(600)
    assert out.loc["paid_search", "cost_per_won"] == pytest.approx(500)
    assert out.loc["webinar", "roi"] == pytest.approx((500 - 300) / 300)
    assert np.isnan(out.loc["webinar", "cost_per_lead"])  # no lead credited
    assert out.loc["sales", ["cost_per_opportunity", "roi"]].isna().all()  # no recorded cost
    assert out.attrs["outcomes"] == {"leads": 3, "opportunities": 2, "won": 1}
    assert list(out.index) == ["webinar", "paid_search", "sales"]  # by cost
    first = attribution.cost_per_outcome(data, days=90, model="first").set_index("channel")
    assert first.loc["paid_search", ["opportunities", "won"]].tolist() == [2.0, 1.0]
    whole = attribution.cost_per_outcome(data, days=400).set_index("channel")  # A4's lead and January email count
    assert whole.loc["email", "leads"] == 1.0 and whole.attrs["outcomes"]["leads"] == 4
