"""predict: deal visits on a hand-written history; the absorbing semi-Markov chain by hand and by an independent solve."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeylib
from journeylib import predict
from journeylib.errors import ParameterError

ACCOUNTS = "account_id,name,created_at\nA1,One,2025-01-01\nA2,Two,2025-01-01\nA3,Three,2025-01-01\nA4,Four,2025-01-01\n"
CONTACTS = "contact_id,account_id,role\nC1,A4,champion\nC2,A4,economic_buyer\n"
TOUCHPOINTS = """event_id,account_id,contact_id,timestamp,touchpoint,channel
E1,A1,,2026-03-01,webinar,event
E2,A1,,2026-03-15,demo,sales
E3,A1,,2026-03-20,knowledge_base_visit,support
E4,A1,,2026-03-25,demo,sales
E5,A1,,2026-04-01,proposal_sent,sales
E6,A1,,2026-04-10,contract_signed,sales
E7,A2,,2026-01-01,paid_search_ad,paid_search
E8,A2,,2026-05-11,demo,sales
E9,A3,,2026-05-20,qbr,customer_success
E10,A3,,2026-06-10,renewal_call,customer_success
E11,A4,C1,2026-09-20,demo,sales
E12,A4,C2,2026-10-20,proposal_sent,sales
"""
OPPORTUNITIES = """opportunity_id,account_id,created_at,closed_at,status,amount,type
O1,A1,2026-03-10,2026-04-10,won,100,new
O2,A2,2026-05-01,2026-06-01,lost,50,new
O3,A3,2026-06-01,2026-07-01,lost,80,renewal
O4,A4,2026-10-01,,open,70,new
"""
CUTOFF_DAYS_AFTER_1020 = 12 - 1e-9 / 86400  # the cut-off is 2026-10-31 23:59:59.999999999


@pytest.fixture
def data(make_source):
    return journeylib.load(make_source(accounts=ACCOUNTS, contacts=CONTACTS, touchpoints=TOUCHPOINTS,
                                       opportunities=OPPORTUNITIES), as_of="2026-10-31")


def test_deal_visits_by_hand(data):
    v = predict.deal_visits(data)
    got = [(r.opportunity_id, r.segment, r.state, r.entered_at.strftime("%m-%d"), round(r.days, 6), r.next_state,
            r.censored) for r in v.itertuples()]
    assert got == [
        # the webinar before the creation gives the first state; the support touch is no state; the signature at
        # the close is the outcome, not a visit
        ("O1", "new", "research", "03-10", 5.0, "consideration", False),
        ("O1", "new", "consideration", "03-15", 17.0, "decision", False),
        ("O1", "new", "decision", "04-01", 9.0, "won", False),
        # the only earlier touch is 120 days before the creation, beyond the 90-day lookback
        ("O2", "new", "no_touch_yet", "05-01", 10.0, "consideration", False),
        ("O2", "new", "consideration", "05-11", 21.0, "lost", False),
        # a lost renewal is a churned customer
        ("O3", "renewal", "adoption", "06-01", 9.0, "renewal", False),
        ("O3", "renewal", "renewal", "06-10", 21.0, "churned", False),
        ("O4", "new", "consideration", "10-01", 19.0, "decision", False),
        ("O4", "new", "decision", "10-20", round(CUTOFF_DAYS_AFTER_1020, 6), None, True),
    ]
    longer = predict.deal_visits(data, lookback_days=150)
    assert longer.loc[longer["opportunity_id"] == "O2", "state"].iloc[0] == "awareness"
    only_new = predict.deal_visits(data, opportunity_types=["new"])
    assert set(only_new["opportunity_id"]) == {"O1", "O2", "O4"}
    by_name = predict.deal_visits(data, segments=pd.Series({"A1": "big", "A2": "small"}))
    assert by_name.groupby("opportunity_id")["segment"].first().to_dict() == {
        "O1": "big", "O2": "small", "O3": "(none)", "O4": "(none)"}
    with pytest.raises(ParameterError, match="segments 'sizes' is not a column of accounts"):
        predict.deal_visits(data, segments="sizes")


def test_snapshots_see_only_what_was_known_that_day(data):
    v = predict.deal_visits(data)
    day = pd.Timestamp("2026-10-16", tz="UTC") - pd.Timedelta(1)  # the last instant of 10-15
    late = pd.Timestamp("2026-10-26", tz="UTC") - pd.Timedelta(1)
    s = predict.deal_snapshots(data, v, [day, late]).set_index(["opportunity_id", "snapshot_at"])
    assert list(s.index.get_level_values(0)) == ["O4", "O4"]  # O1-O3 were closed by then
    early, later = s.iloc[0], s.iloc[1]
    eps = 1e-9 / 86400
    assert early["state"] == "consideration" and early["days_in_stage"] == pytest.approx(15 - eps)
    assert early[["touches_14d", "contacts_engaged", "economic_buyer", "visits_so_far"]].tolist() == [0, 1, 0, 1]
    assert early["days_since_touch"] == pytest.approx(26 - eps)  # E11 on 09-20
    assert later["state"] == "decision" and later["days_in_stage"] == pytest.approx(6 - eps)
    assert later[["touches_14d", "contacts_engaged", "economic_buyer", "visits_so_far"]].tolist() == [1, 2, 1, 2]
    assert later["age_days"] == pytest.approx(25 - eps) and later["channels"] == ("sales",)
    assert np.isnan(later["won"])
    march = predict.deal_snapshots(data, v, [pd.Timestamp("2026-04-01", tz="UTC") - pd.Timedelta(1)]).iloc[0]
    assert (march["opportunity_id"], march["state"], march["visits_so_far"], march["won"]) == ("O1", "consideration",
                                                                                               2, 1.0)
    assert march["channels"] == ("event", "sales", "support")


# ---------------------------------------------------------------------------------------------- the chain by hand
def _visits(rows):
    frame = pd.DataFrame(rows, columns=["opportunity_id", "state", "days", "next_state"])
    frame["account_id"] = frame["opportunity_id"]
    frame["segment"] = "s"
    frame["visit"] = frame.groupby("opportunity_id").cumcount()
    frame["entered_at"] = pd.Timestamp("2026-01-01", tz="UTC")
    frame["censored"] = frame["next_state"].isna()
    frame.attrs["state_order"] = ["consideration", "decision"]
    return frame[list(predict.VISIT_COLUMNS)]


HAND = _visits([
    ("D1", "consideration", 10, "decision"), ("D1", "decision", 5, "won"),
    ("D2", "consideration", 4, "won"),
    ("D3", "consideration", 6, "decision"), ("D3", "decision", 2, "consideration"), ("D3", "consideration", 3, "lost"),
    ("D4", "decision", 8, "won"),
    ("D5", "consideration", 20, None),  # open: censored after 20 days
])


def test_holding_times_by_hand():
    # consideration: 3, 4, 6, 10 ended, 20 still going: S = 4/5, 3/5, 2/5, 1/5 after them
    h = predict.holding_times(HAND).set_index("state")
    assert h.loc["consideration", ["visits", "completed"]].tolist() == [5, 4]
    assert h.loc["consideration", "mean_days"] == pytest.approx(3 + 0.8 * 1 + 0.6 * 2 + 0.4 * 4 + 0.2 * 10)  # 8.6
    assert h.loc["consideration", ["median_days", "p80_days"]].tolist() == [6, 10]
    assert h.loc["decision", "mean_days"] == pytest.approx(5.0)
    km = predict.HoldingTime([10, 4, 6, 3, 20], [True, True, True, True, False])
    # after 5 days: S(5) = 3/5; area beyond 5 = 1 x 3/5 + 4 x 2/5 + 10 x 1/5 = 4.2
    assert km.residual_mean(5.0)[0] == pytest.approx(4.2 / 0.6)
    assert km.residual_mean(25.0)[0] == 0.0
    assert km.sample(np.array([0.9, 0.5, 0.1]), 0.0).tolist() == [3.0, 6.0, np.inf]


def test_the_chain_by_hand():
    # consideration: 4 ended -> decision 2/4, won 1/4, lost 1/4; decision: won 2/3, consideration 1/3
    # p_c = 1/4 + p_d/2, p_d = 2/3 + p_c/3 -> p_c = 7/10, p_d = 9/10
    # steps: s_c = 1 + s_d/2, s_d = 1 + s_c/3 -> 9/5, 8/5; days: t_c = 8.6 + t_d/2, t_d = 5 + t_c/3 -> 13.32, 9.44
    c = predict.absorbing_chain(HAND, n_boot=0).set_index("state")
    assert list(c.index) == ["consideration", "decision"]
    assert c["p_won"].tolist() == pytest.approx([0.7, 0.9], abs=1e-12)
    assert c["p_lost"].tolist() == pytest.approx([0.3, 0.1], abs=1e-12)
    assert c["expected_steps"].tolist() == pytest.approx([9 / 5, 8 / 5], abs=1e-12)
    assert c["expected_days"].tolist() == pytest.approx([13.32, 9.44], abs=1e-12)
    moves = c.attrs["transitions"].set_index(["from_state", "to_state"])["p"].to_dict()
    assert moves == pytest.approx({("consideration", "decision"): 0.5, ("consideration", "won"): 0.25,
                                   ("consideration", "lost"): 0.25, ("decision", "won"): 2 / 3,
                                   ("decision", "consideration"): 1 / 3})


def _absorption_by_matrix_power(visits):
    """Independent: the full transition matrix (absorbing rows = identity) raised to a large power."""
    done = visits[~visits["censored"]]
    open_deals = set(visits.loc[visits["censored"], "opportunity_id"])
    done = done[~done["opportunity_id"].isin(open_deals)]
    states = list(pd.unique(visits["state"]))
    every = states + list(predict.ABSORBING)
    P = np.zeros((len(every), len(every)))
    for (a, b), n in done.groupby(["state", "next_state"]).size().items():
        P[every.index(a), every.index(b)] = n
    for k in range(len(states), len(every)):
        P[k, k] = 1
    P = P / P.sum(axis=1, keepdims=True)
    limit = np.linalg.matrix_power(P, 4096)
    return {s: limit[i, len(states)] for i, s in enumerate(states)}


def test_the_chain_equals_an_independent_computation_on_random_deals():
    rng = np.random.default_rng(5)
    stages = ["research", "consideration", "decision"]
    rows = []
    for d in range(300):
        state = stages[rng.integers(3)]
        for _ in range(20):
            nxt = rng.choice(stages + ["won", "lost"], p=[0.2, 0.25, 0.25, 0.15, 0.15])
            rows.append((f"D{d}", state, float(rng.exponential(5)), nxt))
            if nxt in ("won", "lost"):
                break
            state = nxt
        else:
            rows.append((f"D{d}", state, 1.0, None))
    visits = _visits(rows)
    visits.attrs["state_order"] = stages
    chain = predict.absorbing_chain(visits, n_boot=0).set_index("state")
    independent = _absorption_by_matrix_power(visits)
    assert chain["p_won"].to_dict() == pytest.approx(independent, abs=1e-9)
    # expected steps: solve (I - Q) s = 1 with numpy's least squares as a second route
    fit = predict.chain_matrices(visits)
    Q = fit["counts"][:, :3] / fit["counts"].sum(axis=1, keepdims=True)
    steps = np.linalg.lstsq(np.eye(3) - Q, np.ones(3), rcond=None)[0]
    assert chain.loc[fit["states"], "expected_steps"].to_numpy() == pytest.approx(steps, abs=1e-9)


def test_bootstrap_intervals_hold_the_estimate_and_repeat_with_a_seed():
    rng = np.random.default_rng(2)
    rows = [(f"D{d}", "consideration", float(rng.exponential(7)), "won" if rng.random() < 0.6 else "lost")
            for d in range(400)]
    visits = _visits(rows)
    a = predict.absorbing_chain(visits, n_boot=100, random_state=4)
    b = predict.absorbing_chain(visits, n_boot=100, random_state=4)
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[0]
    assert row["p_won_low"] < row["p_won"] < row["p_won_high"]
    assert row["p_won_high"] - row["p_won_low"] == pytest.approx(2 * 1.645 * np.sqrt(0.6 * 0.4 / 400), rel=0.35)
    assert row["expected_days_low"] < row["expected_days"] < row["expected_days_high"]
