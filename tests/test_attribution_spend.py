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
