"""Time to value and retention (journeylib.survival, journeylib.plots.survival).

Exact values on tiny hand-written tables, Kaplan–Meier agreement with scikit-survival
(an independent implementation) on the sample, planted truth from the generator, and
the notebook's recorded numbers.
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

import journeylib
from journeylib import review, survival, synth
from journeylib.errors import ParameterError
from journeylib.plots import survival as psurv

from conftest import REPO

UTC = "UTC"


def ts(*days):
    return pd.to_datetime(list(days), utc=True, format="ISO8601")


def frame(**cols):
    return pd.DataFrame(cols)


@pytest.fixture(scope="module")
def personas():
    return pd.read_csv(REPO / "data" / "sample" / "truth" / "personas.csv", dtype=str)


@pytest.fixture(scope="module")
def sample_value(sample, personas):
    return survival.value_durations(sample.tables, sample.cutoff, segments=personas)


@pytest.fixture(scope="module")
def sample_churn(sample, personas):
    return survival.churn_durations(sample.tables, sample.cutoff, segments=personas)


# --------------------------------------------------------------------------- Kaplan–Meier, exact
HAND = pd.DataFrame({"duration": [2.0, 2, 2, 3, 5, 5, 7, 8], "event": [1, 1, 0, 1, 0, 1, 1, 0]})


def test_kaplan_meier_hand_computed_with_ties_and_censoring():
    # t=2: 8 at risk, 2 events (+1 censored at 2, still at risk then): S = 6/8
    # t=3: 5 at risk, 1 event: S = .75 * 4/5 = .6;  t=5: 4 at risk, 1 event (+1 censored): S = .6 * 3/4 = .45
    # t=7: 2 at risk, 1 event: S = .225;  t=8: censored
    km = survival.SurvivalCurves(min_group_size=1, horizons=(2, 7.5, 9)).fit(HAND)
    c = km.curves_
    assert c["time"].tolist() == [0, 2, 3, 5, 7, 8]
    assert c["at_risk"].tolist() == [8, 8, 5, 4, 2, 1]
    assert c["events"].tolist() == [0, 2, 1, 1, 1, 0]
    assert c["censored"].tolist() == [0, 1, 0, 1, 0, 1]
    np.testing.assert_allclose(c["survival"], [1, 0.75, 0.6, 0.45, 0.225, 0.225], rtol=0, atol=1e-12)
    # log-log band from Greenwood's sum d / (n (n - d)), by hand
    greenwood = np.cumsum([0, 2 / (8 * 6), 1 / (5 * 4), 1 / (4 * 3), 1 / (2 * 1), 0])
    s = np.array([1, 0.75, 0.6, 0.45, 0.225, 0.225])
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.exp(1.959963984540054 * np.sqrt(greenwood) / np.abs(np.log(s)))
    np.testing.assert_allclose(c["lower"][1:], (s ** k)[1:], atol=1e-9)
    np.testing.assert_allclose(c["upper"][1:], (s ** (1 / k))[1:], atol=1e-9)
    row = km.summary_.iloc[0]
    assert (row["n"], row["events"], row["censored"]) == (8, 5, 3)
    assert row["median"] == 5.0  # the first time S <= 0.5 (step median, no resolution given)
    # the lower band is below 0.5 from t=2 (0.315); the upper band never gets there (0.602 at the end)
    assert row["median_lower"] == 2.0
    assert np.isnan(row["median_upper"]) and "not reached" in row["median_text"]
    assert row["event_share_2d"] == pytest.approx(0.25) and row["event_share_7.5d"] == pytest.approx(0.775)
    assert np.isnan(row["event_share_9d"]) and "no estimate at 9 days" in row["note"]
    assert km.medians() == {"all": {"median": 5.0, "lower": 2.0, "upper": "not reached", "n": 8, "events": 5}}
    assert km.shares(9) == {"all": {"share": None, "lower": None, "upper": None}}
    assert km.shares(3, of="survival")["all"]["share"] == pytest.approx(0.6)


def test_median_interpolated_within_the_recorded_day():
    # With resolution 1 day a time t stands for [t - 0.5, t + 0.5): the curve falls from
    # 0.6 to 0.45 inside [4.5, 5.5), so it crosses 0.5 at 4.5 + (0.6 - 0.5) / 0.15.
    km = survival.SurvivalCurves(min_group_size=1, resolution_days=1).fit(HAND)
    assert km.summary_.loc[0, "median"] == pytest.approx(4.5 + 0.1 / 0.15, abs=1e-12)
    # the durations' attrs carry the resolution when not given
    d = HAND.copy()
    d.attrs["resolution_days"] = 2.0
    km2 = survival.SurvivalCurves(min_group_size=1).fit(d)
    assert km2.summary_.loc[0, "median"] == pytest.approx(4 + 2 * 0.1 / 0.15, abs=1e-12)


def test_kaplan_meier_agrees_with_scikit_survival_on_the_sample(sample_value, sample_churn):
    from sksurv.nonparametric import kaplan_meier_estimator

    checked = 0
    for durations, group_by in ((sample_value, "plan"), (sample_value, "persona"), (sample_churn, "plan"),
                                (sample_churn, None)):
        km = survival.SurvivalCurves(group_by, min_group_size=1).fit(durations)
        used = durations[durations["used"]]
        labels = used[group_by].astype(str) if group_by else pd.Series("all", index=used.index)
        for g in km.summary_["group"]:
            part = used[(labels == g).to_numpy()]
            t, p, ci = kaplan_meier_estimator(part["event"].to_numpy(bool), part["duration"].to_numpy(float),
                                              conf_type="log-log")
            ours = km.curves_[km.curves_["group"] == g].set_index("time").reindex(t)
            assert ours["survival"].notna().all()
            np.testing.assert_allclose(ours["survival"].to_numpy(), p, rtol=0, atol=1e-9)
            finite = (p > 0) & (p < 1)
            np.testing.assert_allclose(ours["lower"].to_numpy()[finite], ci[0][finite], rtol=0, atol=1e-9)
            np.testing.assert_allclose(ours["upper"].to_numpy()[finite], ci[1][finite], rtol=0, atol=1e-9)
            checked += 1
    assert checked == 3 + 5 + 3 + 1


# --------------------------------------------------------------------------- edge cases
def test_all_censored_none_censored_time_zero_one_and_empty_groups():
    d = pd.DataFrame({
        "duration": [3.0, 5, 8, 1, 2, 2, 4, 0, 0, 0, 6, 9],
        "event": [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1],
        "grp": ["cens"] * 3 + ["full"] * 4 + ["zero"] * 4 + ["one"],
    })
    km = survival.SurvivalCurves("grp", groups=["cens", "full", "zero", "one", "ghost"], min_group_size=2,
                                 horizons=(4, 30)).fit(d)
    s = km.summary_.set_index("group")
    assert list(s.index) == ["cens", "full", "zero"]
    assert np.isnan(s.loc["cens", "median"]) and s.loc["cens", "median_text"].startswith("not reached")
    assert "all 3 censored" in s.loc["cens", "note"]
    assert km.medians()["cens"]["median"] == "not reached"
    assert s.loc["full", "median"] == 2.0 and s.loc["full", "note"] == "no censoring"
    assert s.loc["full", "event_share_30d"] == 1.0  # the curve reached 0: known beyond follow-up
    assert s.loc["zero", "median"] == 0.0 and "2 events at time 0" in s.loc["zero", "note"]
    assert km.curves_.query("group == 'zero' and time == 0")["survival"].item() == pytest.approx(0.5)
    ex = km.excluded_.set_index("group")
    assert ex.loc["one", "n"] == 1 and "below min_group_size=2" in ex.loc["one", "reason"]
    assert ex.loc["ghost", "n"] == 0 and ex.loc["ghost", "reason"] == "no accounts in this group"
    assert any("'ghost' left out" in n for n in km.notes_)
    one = survival.SurvivalCurves("grp", groups=["one"], min_group_size=1).fit(d)
    assert one.summary_.loc[0, "median"] == 9.0 and one.summary_.loc[0, "n"] == 1


def test_bad_input_gets_clear_errors():
    with pytest.raises(ParameterError, match="group_by 'plam'.*did you mean 'plan'"):
        survival.SurvivalCurves("plam").fit(HAND.assign(plan="x"))
    with pytest.raises(ParameterError, match="no usable durations: 0 of 2 rows"):
        survival.SurvivalCurves().fit(pd.DataFrame({"duration": [1.0, 2], "event": [1, 0], "used": [False, False]}))
    with pytest.raises(ParameterError, match="negative duration"):
        survival.SurvivalCurves().fit(pd.DataFrame({"duration": [-1.0], "event": [1]}))
    with pytest.raises(ParameterError, match="none of groups"):
        survival.SurvivalCurves("plan", groups=["nope"]).fit(HAND.assign(plan="x"))
    with pytest.raises(ParameterError, match="min_group_size must be a whole number >= 1; got 0$"):
        survival.SurvivalCurves(min_group_size=0).fit(HAND)
    with pytest.raises(ParameterError, match="has no column 'event'"):
        survival.SurvivalCurves().fit(pd.DataFrame({"duration": [1.0]}))
    with pytest.raises(ParameterError, match="not fitted"):
        survival.SurvivalCurves().medians()
    # every group too small: a documented empty result, not an error
    km = survival.SurvivalCurves(min_group_size=50).fit(HAND)
    assert km.summary_.empty and km.curves_.empty and "no group has at least" in km.notes_[-1]
    assert psurv.survival_curves(km.curves_).layout.annotations[0].text.startswith("no group")


def test_parse_value_event_and_bad_specs():
    assert survival.parse_value_event("usage") == survival.UsageMilestone()
    assert survival.parse_value_event("usage:0.5").share == 0.5
    assert survival.parse_value_event("stage:adoption") == survival.StageEvent("adoption")
    assert survival.parse_value_event("touchpoint:Feature_Activation, qbr").touchpoints == ("feature_activation", "qbr")
    with pytest.raises(ParameterError, match="did you mean 'usage'"):
        survival.parse_value_event("usag")
    with pytest.raises(ParameterError, match=r"UsageMilestone share must be a share in \(0, 1\]; got 1.5$"):
        survival.UsageMilestone(share=1.5)
    with pytest.raises(ParameterError, match="UsageMilestone at must be one of midpoint, start, end; got 'middle'"):
        survival.UsageMilestone(at="middle")


# --------------------------------------------------------------------------- durations, hand-written
def tiny_tables():
    """A1..A8 (see the test for what each one shows); as_of 2026-03-31."""
    accounts = frame(account_id=[f"A{i}" for i in range(1, 9)], plan=["growth"] * 8,
                     employees=[50, 500, 5000, np.nan, 10, 10, 10, 10])
    subs = frame(
        account_id=["A1", "A2", "A3", "A4", "A6", "A7", "A8", "A8"],
        start_date=ts("2026-01-05", "2026-01-07", "2026-01-05", "2026-01-05", "2026-04-10", "2026-01-05",
                      "2026-01-05", "2026-02-01"),
        end_date=ts(None, None, "2026-06-30", "2026-02-01", None, None, "2026-01-31", None),
        plan=["starter", "growth", "growth", "growth", "growth", "growth", "enterprise", "starter"],
        seats_purchased=[8.0, 10, 4, 4, 4, 4, 40, 4], mrr=[100.0, 200, 50, 50, 50, 50, 400, 40])
    usage = frame(
        account_id=["A1", "A1", "A2", "A3", "A4", "A4", "A8", "A8", "A3"],
        date=ts("2026-01-05", "2026-01-12", "2026-01-05", "2026-01-05", "2026-01-05", "2026-01-26",
                "2026-01-26", "2026-02-02", "2026-04-06"),
        active_users=[1.0, 2, 5, 0, 0, 0, 5, 1, 4])
    tp = frame(account_id=["A7", "A7", "A1"], timestamp=ts("2026-01-01 10:00", "2026-02-01", "2026-01-20 06:00"),
               touchpoint=["feature_activation", "feature_activation", "Feature_Activation"])
    opp = frame(opportunity_id=["O1", "O2"], account_id=["A1", "A2"], created_at=ts("2025-11-01", "2025-11-01"),
                closed_at=ts("2025-12-20", "2026-04-02"), status=["won", "won"])
    return {"accounts": accounts, "subscriptions": subs, "usage": usage, "touchpoints": tp, "opportunities": opp}


def test_value_durations_hand_computed():
    d = survival.value_durations(tiny_tables(), "2026-03-31").set_index("account_id")
    # A1: seats 8 -> threshold 2; week of Jan 12 qualifies: [Jan 12, Jan 19), midpoint Jan 15 12:00 -> 10.5 days
    assert d.loc["A1", ["status", "duration"]].tolist() == ["event", 10.5]
    assert d.loc["A1", "event_lower"] == pd.Timestamp("2026-01-12", tz=UTC)
    # A2: starts on Wednesday Jan 7; the week of Monday Jan 5 overlaps it and qualifies (5 >= ceil(2.5)):
    # the interval is cut to [Jan 7, Jan 12): midpoint 2.5 days
    assert d.loc["A2", ["status", "duration"]].tolist() == ["event", 2.5]
    # A3: never reaches 1 of 4 seats by as_of (the qualifying week after as_of is not seen): censored at the
    # end of as_of (an end_date after as_of is not known yet)
    assert d.loc["A3", ["status", "duration"]].tolist() == ["censored", 86.0]
    # A4: last day of service Feb 1 -> churn on Feb 2, 28 days after the start, before value
    assert d.loc["A4", ["status", "duration"]].tolist() == ["censored_churned", 28.0]
    assert d.loc["A5", "status"] == "no_origin" and not d.loc["A5", "used"]
    assert d.loc["A6", "status"] == "origin_after_as_of" and np.isnan(d.loc["A6", "duration"])
    # A8: in January 40 seats are in force (threshold 10, 5 active is short); from Feb 1, 4 seats (threshold 1)
    assert d.loc["A8", ["status", "duration"]].tolist() == ["event", 31.5]
    assert d.loc["A8", "plan"] == "enterprise"  # the plan at the origin
    assert d.loc["A1", "plan"] == "starter" and d.loc["A5", "plan"] == "growth"  # accounts' plan as fallback
    assert d.loc["A1", "cohort"] == "2026-01" and d.loc["A5", "cohort"] == "(unknown)"
    assert d.loc[["A1", "A2", "A3", "A4"], "segment"].tolist() == ["small (<100)", "mid-market (100-999)",
                                                                   "large (1000+)", "(unknown)"]
    counts = survival.status_counts(d.reset_index()).set_index("status")["accounts"]
    assert counts.sum() == len(d) == 8 and counts["event_before_origin"] == 0
    # at="start": A2's value falls on its first day: an event at time 0
    start = survival.value_durations(tiny_tables(), "2026-03-31", value=survival.UsageMilestone(at="start"))
    assert start.set_index("account_id").loc["A2", "duration"] == 0.0


def test_value_durations_touchpoint_event_origin_and_cutoff():
    t = tiny_tables()
    d = survival.value_durations(t, "2026-03-31", value="touchpoint:feature_activation").set_index("account_id")
    assert d.loc["A7", "status"] == "event_before_origin" and not d.loc["A7", "used"]
    assert d.loc["A1", "duration"] == pytest.approx(15.25)  # Jan 20 06:00, case-insensitive name
    assert d.loc["A2", "status"] == "censored"
    # origin: the won deal's close. A1 closed Dec 20 -> the same usage week, 26.5 days later;
    # A2's deal closes after as_of: reported, not used
    w = survival.value_durations(t, "2026-03-31", origin="won_close").set_index("account_id")
    assert w.loc["A1", "duration"] == 26.5 and w.loc["A2", "status"] == "origin_after_as_of"
    with pytest.raises(ParameterError, match=r"origin must be one of subscription_start, won_close; got 'won_clos' "
                                             r"\(did you mean 'won_close'\?\)"):
        survival.value_durations(t, "2026-03-31", origin="won_clos")
    with pytest.raises(ParameterError, match="needs the 'usage' table"):
        survival.value_durations({k: v for k, v in t.items() if k != "usage"}, "2026-03-31")
    with pytest.raises(ParameterError, match="clash"):
        survival.value_durations(t, "2026-03-31", segments=frame(account_id=["A1"], plan=["x"]))


def test_nothing_after_as_of_changes_a_duration():
    base = survival.value_durations(tiny_tables(), "2026-03-31")
    t = tiny_tables()
    late = ts("2026-04-06", "2026-05-04")
    t["usage"] = pd.concat([t["usage"], frame(account_id=["A3", "A4"], date=late, active_users=[99.0, 99])])
    t["subscriptions"] = t["subscriptions"].assign(end_date=t["subscriptions"]["end_date"].where(
        t["subscriptions"]["account_id"] != "A1", pd.Timestamp("2026-04-15", tz=UTC)))
    t["touchpoints"] = pd.concat([t["touchpoints"], frame(account_id=["A2"], timestamp=ts("2026-04-01"),
                                                          touchpoint=["feature_activation"])])
    again = survival.value_durations(t, "2026-03-31")
    pd.testing.assert_frame_equal(base, again)


def test_stage_event_uses_the_lifecycle_stage(make_source):
    src = make_source(
        touchpoints="account_id,timestamp,touchpoint\nA1,2026-10-15,kickoff_call\nA1,2026-10-25,qbr\n"
                    "A2,2026-10-19,feature_activation\n",
        subscriptions="account_id,start_date,end_date\nA1,2026-10-15,\nA2,2026-10-15,\n")
    data = journeylib.load(str(src), as_of="2026-10-31")
    d = survival.value_durations(data.tables, data.cutoff, value="stage:adoption").set_index("account_id")
    assert d.loc["A1", "duration"] == 10.0 and d.loc["A2", "duration"] == 4.0 and d.loc["A3", "status"] == "no_origin"
    with pytest.raises(ParameterError, match="stage 'adopton'.*did you mean 'adoption'"):
        survival.value_durations(data.tables, data.cutoff, value="stage:adopton")


# --------------------------------------------------------------------------- spans, churn, cohorts
def churn_tables():
    subs = frame(
        account_id=["A", "A", "A", "B", "B", "C", "D", "E"],
        start_date=ts("2025-01-01", "2025-07-01", "2025-08-10", "2025-01-01", "2025-09-01", "2025-01-15",
                      "2025-03-01", "2025-01-01"),
        end_date=ts("2025-06-30", "2025-08-20", None, "2025-05-31", "2025-12-31", "2025-12-31", "2026-05-31",
                    "2025-03-31"),
        mrr=[100.0, 150, 150, 80, 80, 50, 60, 10])
    return {"accounts": frame(account_id=list("ABCDE")), "subscriptions": subs}


def test_subscription_spans_merge_gaps_and_cut_at_as_of():
    sp = survival.subscription_spans(churn_tables()["subscriptions"], "2025-12-31")
    a = sp[sp["account_id"] == "A"]
    # contiguous expansion (gap 0) and an overlapping row merge into one span, still active
    assert a[["span", "rows", "active"]].values.tolist() == [[1, 3, True]] and pd.isna(a["end"].item())
    b = sp[sp["account_id"] == "B"]
    # 92 days without a subscription (Jun 1 - Aug 31) split B into two spans; the second ends on as_of:
    # its churn (the next day) is not known yet, so it is still active
    assert b[["span", "gap_before_days", "active"]].values.tolist()[1] == [2, 92.0, True]
    assert b["churn_at"].iloc[0] == pd.Timestamp("2025-06-01", tz=UTC)
    d = sp[sp["account_id"] == "D"]
    assert d["active"].item()  # ends after as_of: cleared
    # with a 100-day churn gap B's pause is not churn
    assert (survival.subscription_spans(churn_tables()["subscriptions"], "2025-12-31", churn_gap_days=100)
            .query("account_id == 'B'")["rows"].tolist() == [2])
    with pytest.raises(ParameterError, match="churn_gap_days must be a whole number of days >= 0; got -1$"):
        survival.subscription_spans(churn_tables()["subscriptions"], "2025-12-31", churn_gap_days=-1)


def test_churn_durations_hand_computed():
    c = survival.churn_durations(churn_tables(), "2026-01-31").set_index("account_id")
    # B: last span ends Dec 31 -> churned on Jan 1 2026, 365 days after its first start
    assert c.loc["B", ["status", "duration", "spans"]].tolist() == ["event", 365.0, 2]
    # C: Jan 15 - Dec 31: 351 days; E: Jan 1 - Mar 31: 90 days
    assert c.loc["C", "duration"] == 351.0 and c.loc["E", "duration"] == 90.0
    # A and D are active: censored at the end of as_of
    assert c.loc["A", ["status", "duration"]].tolist() == ["censored", 396.0]
    assert c.loc["D", "status"] == "censored"
    assert c.loc["A", "mrr_start"] == 100.0
    km = survival.SurvivalCurves(min_group_size=1).fit(c.reset_index())
    # churn at 90 (5 at risk), D censored at 337, churn at 351 (3 at risk) and 365 (2 at risk)
    assert c.loc["D", "duration"] == 337.0
    assert km.survival_at([365])["survival"].item() == pytest.approx(0.8 * (2 / 3) * (1 / 2))


def test_cohort_retention_and_net_revenue_retention_by_hand():
    subs = frame(account_id=["A", "A", "B", "C"],
                 start_date=ts("2026-01-01", "2026-03-01", "2026-01-10", "2026-01-20"),
                 end_date=ts("2026-02-28", None, "2026-02-14", None),
                 mrr=[100.0, 150, 40, 60])
    co = survival.cohort_retention(subs, "2026-04-30", max_months=4).set_index("months")
    assert set(co["cohort"]) == {"2026-01"}
    # month 1: all three (B ends Feb 14, after its Feb 10 mark); month 2: B gone; A expanded to 150 on Mar 1
    assert co.loc[1, ["observed", "retained"]].tolist() == [3, 3]
    assert co.loc[2, ["observed", "retained", "mrr"]].tolist() == [3, 2, 210.0]
    assert co.loc[2, "logo_retention"] == pytest.approx(2 / 3)
    assert co.loc[2, "revenue_retention"] == pytest.approx(210 / 200)
    # month 3: A's mark is Apr 1, B's Apr 10, C's Apr 20 (all on or before as_of)
    assert co.loc[3, "observed"] == 3
    assert 4 not in co.index  # no month-4 mark (May) is on or before Apr 30
    nrr = survival.net_revenue_retention(subs, "2026-04-30", months=3).iloc[0]
    # the first instant after as_of (May 1) minus 3 months is Feb 1: A 100, B 40, C 60 paying; now A 150, C 60
    assert nrr["accounts"] == 3 and nrr["mrr_start"] == 200 and nrr["mrr_end"] == 210
    assert nrr["net_revenue_retention"] == pytest.approx(1.05)
    assert nrr["gross_revenue_retention"] == pytest.approx(160 / 200)
    assert nrr["logo_retention"] == pytest.approx(2 / 3)
    no_mrr = survival.net_revenue_retention(subs.drop(columns="mrr"), "2026-04-30").iloc[0]
    assert np.isnan(no_mrr["net_revenue_retention"]) and "no mrr column" in no_mrr["note"]
    assert survival.cohort_retention(subs.drop(columns="mrr"), "2026-04-30")["revenue_retention"].isna().all()


def test_churn_planted_scenarios(sample_churn):
    """Planted: churned_after_one_year accounts cancel 300-365 days after the start; the
    cross-sell families never churn and their upsell row continues the same span."""
    scen = pd.read_csv(REPO / "data" / "sample" / "truth" / "scenarios.csv", dtype=str).set_index("account_id")["scenario"]
    c = sample_churn.assign(scenario=sample_churn["account_id"].map(scen))
    one_year = c[(c["scenario"] == "churned_after_one_year") & c["used"]]
    old = one_year[one_year["origin"] <= pd.Timestamp("2025-10-31", tz=UTC)]
    assert len(old) >= 30
    assert old["event"].all() and old["duration"].between(300, 366).all()
    family = c[(c["scenario"] == "cross_sell_upsell_referral") & c["used"]]
    assert len(family) >= 30 and not family["event"].any() and (family["spans"] == 1).all()


# --------------------------------------------------------------------------- comparisons
def test_logrank_matches_scikit_survival_and_holm_by_hand(sample_value):
    from sksurv.compare import compare_survival
    from sksurv.util import Surv

    table = survival.logrank_tests(sample_value, "persona", min_group_size=20)
    used = sample_value[sample_value["used"]]
    y = Surv.from_arrays(used["event"].to_numpy(bool), used["duration"].to_numpy(float))
    chisq, p = compare_survival(y, used["persona"].to_numpy())
    assert table.loc[0, "statistic"] == pytest.approx(chisq, rel=1e-9)
    assert table.loc[0, "p_value"] == pytest.approx(p, rel=1e-6, abs=1e-300)
    pairs = table.iloc[1:]
    assert len(pairs) == 10
    for r in pairs.itertuples():  # each pair against scikit-survival too
        part = used[used["persona"].isin([r.group_a, r.group_b])]
        yy = Surv.from_arrays(part["event"].to_numpy(bool), part["duration"].to_numpy(float))
        assert r.statistic == pytest.approx(compare_survival(yy, part["persona"].to_numpy())[0], rel=1e-9)
    p = pairs["p_value"].to_numpy()
    order = np.argsort(p)
    holm = np.maximum.accumulate(np.minimum(1, (len(p) - np.arange(len(p))) * p[order]))
    np.testing.assert_allclose(pairs["p_adjusted"].to_numpy()[order], holm, rtol=1e-12)
    with pytest.raises(ParameterError, match="at least two groups"):
        survival.logrank_tests(sample_value, "plan", min_group_size=10_000)
    with pytest.raises(ParameterError, match=r"correction must be one of holm, bonferroni, none; got 'hlm' "
                                             r"\(did you mean 'holm'\?\)"):
        survival.logrank_tests(sample_value, "plan", correction="hlm")


def test_cox_matches_scikit_survival(sample_value):
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.metrics import concordance_index_censored
    from sksurv.util import Surv

    cox = survival.CoxModel(["plan"]).fit(sample_value)
    hr = cox.hazard_ratios_.set_index("level")
    assert set(hr["reference"]) == {"growth"}  # the largest plan
    used = sample_value[sample_value["used"]]
    X = pd.DataFrame({"enterprise": (used["plan"] == "enterprise").astype(float),
                      "starter": (used["plan"] == "starter").astype(float)})
    y = Surv.from_arrays(used["event"].to_numpy(bool), used["duration"].to_numpy(float))
    ref = CoxPHSurvivalAnalysis(ties="efron").fit(X, y)
    # lifelines and scikit-survival stop their iterations at different tolerances: max difference 1.1e-5 on the sample
    np.testing.assert_allclose(np.log(hr.loc[["enterprise", "starter"], "hazard_ratio"]), ref.coef_, atol=3e-5)
    c = concordance_index_censored(y["event"], y["time"], ref.predict(X))[0]
    assert cox.concordance_ == pytest.approx(c, abs=1e-6)
    assert (hr["lower"] < hr["hazard_ratio"]).all() and (hr["hazard_ratio"] < hr["upper"]).all()
    assert cox.n_ == len(used) and cox.events_ == int(used["event"].sum())
    assert set(cox.ph_check_["term"]) == {"plan=enterprise", "plan=starter"}


def test_cox_bad_input_and_dropped_levels(sample_value):
    with pytest.raises(ParameterError, match="'persna'.*did you mean 'persona'"):
        survival.CoxModel(["persna"]).fit(sample_value)
    with pytest.raises(ParameterError, match="no covariate"):
        survival.CoxModel(["plan"], min_group_size=10_000).fit(sample_value)
    none = sample_value.assign(event=False)
    with pytest.raises(ParameterError, match="no reaching value observed"):
        survival.CoxModel(["plan"]).fit(none)
    cox = survival.CoxModel(["plan"], min_group_size=200).fit(sample_value)  # enterprise (148) left out
    assert list(cox.hazard_ratios_["level"]) == ["starter"] and "enterprise" in cox.notes_[0]


# --------------------------------------------------------------------------- planted truth
@pytest.fixture(scope="module")
def big_synthetic():
    return synth.generate(10_000, seed=1)


def test_time_to_value_recovers_the_planted_medians(big_synthetic):
    """Planted time to value per plan (truth/time_to_value.json): the planted median lies in
    the 99% CI and the estimate is within 10%. Measured from the subscription start to the
    first week with active_users >= ceil(0.25 x seats_purchased), as the generator defines it."""
    ds = big_synthetic
    d = survival.value_durations(ds.tables, ds.end_date, origin="subscription_start",
                                 value=survival.UsageMilestone(column="active_users", share=0.25, period_days=7))
    km = survival.SurvivalCurves("plan", alpha=0.01).fit(d)
    s = km.summary_.set_index("group")
    truth = ds.truth["time_to_value"]
    assert set(s.index) == set(truth)
    for plan, t in truth.items():
        row = s.loc[plan]
        assert row["n"] >= 500, plan
        assert row["median_lower"] <= t["median_days"] <= row["median_upper"], (plan, row["median_text"], t)
        assert abs(row["median"] / t["median_days"] - 1) <= 0.10, (plan, row["median"], t["median_days"])
    # the plans' curves differ, and their hazards are not proportional (lognormal, Weibull and
    # log-logistic times): the model says so in words
    assert survival.logrank_tests(d, "plan").loc[0, "p_value"] < 1e-10
    cox = survival.CoxModel(["plan"], reference={"plan": "growth"}).fit(d)
    hr = cox.hazard_ratios_.set_index("level")["hazard_ratio"]
    assert hr["starter"] > 1 > hr["enterprise"]
    assert not cox.ph_check_["holds"].any() and "does not hold" in cox.ph_reading_


def test_sample_results_do_not_depend_on_rows_after_as_of(sample):
    """The full sample analysed at 2026-06-30 equals the sample loaded at 2026-06-30."""
    cut = journeylib.load(None, as_of="2026-06-30")
    for fn in (survival.value_durations, survival.churn_durations):
        full = fn(sample.tables, cut.cutoff).set_index("account_id")
        part = fn(cut.tables, cut.cutoff).set_index("account_id")
        assert part["used"].sum() > 500
        # the only difference allowed: an account whose origin lies after as_of is named as such
        # when those rows are at hand, and is simply not a customer when they were cut away
        common = part.index
        differ = full.loc[common, "status"] != part["status"]
        assert set(full.loc[common[differ], "status"]) <= {"origin_after_as_of"}
        pd.testing.assert_frame_equal(full[full["used"]], part[part["used"]])
    a = survival.cohort_retention(sample.subscriptions, cut.cutoff)
    b = survival.cohort_retention(cut.subscriptions, cut.cutoff)
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- figures
def test_figures_show_what_the_results_hold():
    km = survival.SurvivalCurves(min_group_size=1).fit(HAND.assign(g=["a"] * 4 + ["b"] * 4))
    km2 = survival.SurvivalCurves("g", min_group_size=1).fit(HAND.assign(g=["a"] * 4 + ["b"] * 4))
    fig = psurv.survival_curves(km2.curves_, km2.at_risk([0, 3, 6]), title="t", cumulative=True)
    lines = [t for t in fig.data if t.showlegend is not False and t.mode == "lines"]
    assert [t.name for t in lines] == ["a", "b"]
    a = km2.curves_[km2.curves_["group"] == "a"]
    np.testing.assert_allclose(lines[0].y[:len(a)], 1 - a["survival"].to_numpy())
    table = [t for t in fig.data if t.mode == "text"]
    assert [list(t.text) for t in table] == [["4", "1", "0"], ["4", "4", "2"]]
    assert len(psurv.survival_curves(km.curves_).data) == 3  # band (2 traces) + curve, no table
    hr = pd.DataFrame({"covariate": ["plan"], "level": ["x"], "reference": ["y"], "hazard_ratio": [2.0],
                       "lower": [1.5], "upper": [3.0], "p_value": [0.01]})
    f = psurv.hazard_ratio_forest(hr)
    assert list(f.data[0].error_x.array) == [1.0] and list(f.data[0].error_x.arrayminus) == [0.5]
    subs = frame(account_id=["A", "B"], start_date=ts("2026-01-01", "2026-01-10"), end_date=ts(None, "2026-02-14"))
    co = survival.cohort_retention(subs, "2026-04-30", max_months=3)
    h = psurv.cohort_heatmap(co)
    assert h.data[0].z.shape == (1, 4)
    np.testing.assert_allclose(h.data[0].z[0], co["logo_retention"].to_numpy())
    with pytest.raises(ParameterError, match="did you mean 'logo_retention'"):
        psurv.cohort_heatmap(co, value="logo_retension")
    assert psurv.hazard_ratio_forest(hr.iloc[:0]).layout.annotations[0].text == "no hazard ratio to show"


# --------------------------------------------------------------------------- notebook
@pytest.mark.notebook
def test_time_to_value_notebook_records_the_library_results(tmp_path, sample, personas):
    out = tmp_path / "reports"
    result = review.run_review(month="2026-10", data="", out=out, only=["03_time_to_value"], progress=False)
    assert not result.failed, result.failed
    rec = review.read_results(out / "2026-10", "03_time_to_value")
    d = survival.value_durations(sample.tables, sample.cutoff, segments=personas)
    by_plan = survival.SurvivalCurves("plan", min_group_size=20).fit(d)
    overall = survival.SurvivalCurves(min_group_size=20).fit(d)
    assert rec["median_days_to_value"] == by_plan.medians()
    assert rec["share_value_within_90d"] == by_plan.shares(90)
    assert rec["share_value_within_90d_all"] == overall.shares(90)
    assert set(rec["median_days_to_value"]) == {"starter", "growth", "enterprise"}
    m = {p: v["median"] for p, v in rec["median_days_to_value"].items()}
    assert m["starter"] < m["growth"] < m["enterprise"]  # planted medians 10, 29.8, 60 days
    c = survival.churn_durations(sample.tables, sample.cutoff, segments=personas)
    ret = survival.SurvivalCurves(min_group_size=20, horizons=(90, 180, 365)).fit(c)
    assert rec["logo_retention_12m"] == ret.shares(365, of="survival")
    assert 0 < rec["logo_retention_12m"]["all"]["share"] < 1
    nrr = survival.net_revenue_retention(sample.subscriptions, sample.cutoff, months=12)
    assert rec["net_revenue_retention_12m"] == nrr.loc[0, "net_revenue_retention"]
    assert rec["accounts_by_status"] == survival.status_counts(d).set_index("status")["accounts"].to_dict()
    for name in ("value_by_plan", "value_by_persona", "value_hazard_ratios", "retention_by_plan", "cohort_retention"):
        assert (out / "2026-10" / "figures" / "03_time_to_value" / f"{name}.json").exists()
    html = (out / "2026-10" / "03_time_to_value.html").read_text()
    emails = sample.contacts["email"].dropna().head(50)
    assert len(emails) == 50 and not any(e in html for e in emails)  # no personal data


@pytest.mark.notebook
def test_time_to_value_notebook_without_personas_and_with_a_touchpoint_event(tmp_path, sample, monkeypatch):
    import papermill

    from journeylib.review.runner import CELL_TIMEOUT
    from journeylib.widgets import HEADLESS_ENV

    # as the review runs notebooks: explorers draw nothing under papermill (journeylib.widgets), cells time out
    monkeypatch.setenv(HEADLESS_ENV, "1")
    out = tmp_path / "rec"
    papermill.execute_notebook(
        str(review.NOTEBOOKS_DIR / "03_time_to_value.ipynb"), str(tmp_path / "nb.ipynb"), kernel_name="python3",
        parameters={"output_dir": str(out), "personas_csv": "", "value_event": "touchpoint:feature_activation"},
        progress_bar=False, cwd=str(tmp_path), execution_timeout=CELL_TIMEOUT)
    rec = review.read_results(out, "03_time_to_value")
    d = survival.value_durations(sample.tables, sample.cutoff, value="touchpoint:feature_activation")
    assert rec["median_days_to_value"] == survival.SurvivalCurves("plan").fit(d).medians()
    assert rec["value_event"] == "first touchpoint feature_activation"
