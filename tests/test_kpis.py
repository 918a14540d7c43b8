"""The stage scorecard: exact month-over-month values on a hand-built two-month dataset."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylib
from journeylib import kpis
from journeylib.errors import ParameterError

ACCOUNTS = "account_id,name\nA1,a\nA2,b\nA3,c\nA4,d\n"
TOUCHPOINTS = """account_id,timestamp,touchpoint,outcome
A1,2026-09-02,paid_search_ad,clicked
A2,2026-09-03,paid_social_ad,clicked
A1,2026-09-05,whitepaper_download,completed
A1,2026-09-10,webinar,attended
A2,2026-09-10,webinar,no_show
A3,2026-10-01,display_ad,clicked
A1,2026-10-02,paid_search_ad,clicked
A4,2026-10-03,paid_search_ad,clicked
A3,2026-10-04,case_study_download,completed
A3,2026-10-05,whitepaper_download,completed
A3,2026-10-06,webinar,attended
A4,2026-10-06,webinar,attended
A3,2026-10-07,demo_request,submitted
A2,2026-10-20,referral_given,completed
"""
LEADS = """lead_id,created_at,account_id,mql_at,sql_at,opportunity_id
L1,2026-08-20,A1,2026-09-01,2026-09-15,O1
L2,2026-08-21,A2,2026-09-03,,
L3,2026-09-25,A3,2026-10-02,2026-10-09,O3
L4,2026-09-26,A4,2026-10-03,2026-10-10,
L5,2026-09-27,A4,2026-10-04,,
"""
OPPS = """opportunity_id,account_id,created_at,closed_at,status,amount,type
O1,A1,2026-09-15,2026-09-25,won,1000,new
O2,A2,2026-08-01,2026-09-30,lost,500,new
O3,A3,2026-10-09,2026-10-19,won,3000,new
O4,A4,2026-10-01,2026-10-21,won,5000,new
O5,A2,2026-10-01,2026-10-11,lost,800,new
O6,A1,2026-10-05,2026-10-15,won,400,expansion
"""
SUBS = """account_id,start_date,end_date,mrr,seats_purchased
A1,2026-01-01,,100,10
A2,2026-01-01,2026-10-15,50,4
A3,2026-10-20,,300,8
"""
TICKETS = """ticket_id,account_id,opened_at,resolved_at,first_response_minutes
T1,A1,2026-09-01T10:00Z,2026-09-01T12:00Z,30
T2,A1,2026-09-02T10:00Z,2026-09-02T14:00Z,50
T3,A1,2026-10-01T10:00Z,2026-10-01T11:00Z,10
T4,A2,2026-10-02T10:00Z,2026-10-02T13:00Z,20
T5,A2,2026-10-03T10:00Z,2026-10-03T15:00Z,60
"""
SURVEYS = """account_id,date,kind,score
A1,2026-09-10,nps,10
A2,2026-09-11,nps,3
A1,2026-10-10,nps,9
A2,2026-10-11,nps,10
A3,2026-10-12,nps,7
A4,2026-10-13,nps,5
"""


@pytest.fixture
def two_months(make_source):
    src = make_source(accounts=ACCOUNTS, touchpoints=TOUCHPOINTS, leads=LEADS, opportunities=OPPS,
                      subscriptions=SUBS, tickets=TICKETS, surveys=SURVEYS)
    return journeylib.load(src, as_of="2026-10-31")


def test_month_over_month_values(two_months):
    sc = kpis.scorecard(two_months, "2026-10").set_index("metric")
    def row(name):
        r = sc.loc[name]
        return r["value"], r["last_month"]
    assert row("Awareness touchpoints") == (3.0, 2.0)
    assert row("New accounts reached") == (2.0, 2.0)      # A3, A4 first seen in October; A1, A2 in September
    assert row("Content downloads") == (2.0, 1.0)
    assert row("Webinar attendance") == (2.0, 1.0)        # the no-show does not count
    assert row("Demo requests") == (1.0, 0.0)
    assert row("MQL to SQL conversion") == (2 / 3, 1 / 2)  # Oct MQLs L3, L4, L5 -> L3, L4 SQL; Sep L1, L2 -> L1
    assert row("SQL to opportunity conversion") == (1 / 2, 1.0)
    assert row("Win rate (new business)") == (2 / 3, 1 / 2)  # Oct closed new: O3 won, O4 won, O5 lost
    assert row("Average deal size") == (4000.0, 1000.0)
    assert row("Sales cycle (median days)") == (15.0, 10.0)    # O3 10 days, O4 20 days; O1 10 days
    assert row("First response (median minutes)") == (20.0, 40.0)
    assert row("Resolution time (median hours)") == (3.0, 3.0)
    assert row("Logo retention (month)") == (1 / 2, 1.0)       # A1, A2 active on Oct 1; A2 ended Oct 15
    assert row("Upsell rate") == (1 / 2, 0.0)                   # A1 won an expansion; 2 active at Oct 1
    assert row("NPS") == (25.0, 0.0)   # Oct: 2 promoters, 1 passive, 1 detractor of 4; Sep: 1 and 1 of 2
    assert row("Referrals given") == (1.0, 0.0)
    assert sc.loc["Awareness touchpoints", "change_vs_last_month"] == 1.0


def test_missing_tables_say_no_data_not_zero(make_source):
    data = journeylib.load(make_source(accounts=ACCOUNTS, touchpoints=TOUCHPOINTS), as_of="2026-10-31")
    sc = kpis.scorecard(data, "2026-10").set_index("metric")
    assert pd.isna(sc.loc["Win rate (new business)", "value"])
    assert sc.loc["Win rate (new business)", "flag_vs_last_month"] == "no data"
    assert pd.isna(sc.loc["NPS", "value"]) and sc.loc["Demo requests", "value"] == 1.0
    assert pd.isna(sc.loc["Time to first value (median days)", "value"])


def test_significance_flags_and_bad_month(two_months):
    sc = kpis.scorecard(two_months, "2026-10").set_index("metric")
    assert sc.loc["Webinar attendance", "flag_vs_last_month"] == "up vs last month, within normal variation"
    assert sc.loc["Resolution time (median hours)", "flag_vs_last_month"] == "unchanged vs last month"
    assert sc.loc["Win rate (new business)", "flag_vs_last_year"] == "no data for the same month last year"
    with pytest.raises(ParameterError, match=r"month must be a month as YYYY-MM \(e.g. '2026-10'\); got '2026/10'$"):
        kpis.scorecard(two_months, "2026/10")


@pytest.mark.notebook
def test_scorecard_notebook_records_the_library_values(tmp_path, sample):
    from journeylib import review

    result = review.run_review(month="2026-10", data="", out=tmp_path, only=["06_stage_scorecard"], progress=False)
    assert not result.failed, result.failed
    rec = review.read_results(result.folder, "06_stage_scorecard")
    card = kpis.scorecard(sample, "2026-10")
    recorded = pd.DataFrame(rec["scorecard"]["data"], columns=rec["scorecard"]["columns"])
    assert recorded["metric"].tolist() == card["metric"].tolist()
    pd.testing.assert_series_equal(recorded["value"].astype(float), card["value"].astype(float), check_names=False)
    assert rec["significant_moves"] == card.loc[card["significant_vs_last_month"], "metric"].tolist()
    deck = (result.folder / "deck.html").read_text()
    assert "Stage scorecard" in deck and "Win rate (new business)" in deck
    # the cards' previous values are September's, recomputed as the scorecard of 2026-09 computes them
    september = kpis.scorecard(sample, "2026-09").set_index("metric")["value"]
    import json
    heads = json.loads((result.folder / "sections" / "06_stage_scorecard.json").read_text())["headlines"]
    assert {h["label"]: h["previous"] for h in heads} == pytest.approx(
        {label: float(september[label]) for label in ("Win rate (new business)", "Logo retention (month)", "NPS")})
    assert "since 30 Sep" in deck
