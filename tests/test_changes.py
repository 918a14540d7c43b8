"""What changed since last month: exact values on tiny frames, and last month recomputed as last month saw it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeylib
from journeylib import churn
from journeylib.review import changes
from journeylib.errors import ParameterError


def _scored(probabilities: dict[str, float], mrr: dict[str, float]) -> pd.DataFrame:
    ids = list(probabilities)
    return pd.DataFrame({"account_id": ids, "snapshot": pd.Timestamp("2026-09-30"),
                         "probability": [probabilities[i] for i in ids], "mrr": [mrr[i] for i in ids]})


PREVIOUS = _scored({"A": 0.30, "B": 0.10, "C": 0.25, "D": 0.05, "E": 0.50, "G": np.nan},
                   {"A": 100, "B": 200, "C": 300, "D": 400, "E": 500, "G": 50})
CURRENT = _scored({"A": 0.10, "B": 0.40, "C": 0.30, "D": 0.02, "F": 0.60, "G": 0.2},
                  {"A": 110, "B": 200, "C": 300, "D": 400, "F": 700, "G": 50})


def test_previous_month_end():
    assert str(changes.previous_month_end("2026-10-31").date()) == "2026-09-30"
    assert str(changes.previous_month_end("2026-03-01").date()) == "2026-02-28"
    assert str(changes.previous_month_end(pd.Timestamp("2026-01-15", tz="Europe/Berlin")).date()) == "2025-12-31"
    with pytest.raises(ParameterError, match="as_of .last month. is not a date or timestamp"):
        changes.previous_month_end("last month")


def test_risk_moves_by_hand():
    moves = changes.risk_moves(PREVIOUS, CURRENT, threshold=0.2).set_index("account_id")
    assert moves["status"].astype(str).to_dict() == {
        "B": "newly at risk", "G": "newly at risk",  # G had no probability last month: not at risk then
        "A": "saved", "C": "still at risk", "E": "churned", "F": "new customer", "D": "not at risk"}
    assert moves.loc["A", "arr"] == 1320.0 and moves.loc["E", "arr"] == 6000.0  # this month's, else last month's
    assert moves.loc["F", "probability_before"] != moves.loc["F", "probability_before"]  # NaN: not a customer then
    assert list(moves.index[:2]) == ["B", "G"]  # riskiest first within a status
    summary = changes.risk_move_summary(moves.reset_index()).set_index("status")
    assert summary["accounts"].to_dict() == {"newly at risk": 2, "saved": 1, "still at risk": 1, "churned": 1,
                                             "new customer": 1, "not at risk": 1}
    assert summary.loc["newly at risk", "arr"] == 12 * 250.0 and summary.loc["churned", "arr"] == 6000.0
    empty = changes.risk_move_summary(changes.risk_moves(PREVIOUS.iloc[:0], PREVIOUS.iloc[:0]))
    assert empty["accounts"].tolist() == [0] * 6


def test_risk_moves_bad_input():
    with pytest.raises(ParameterError, match="previous must be ChurnModel.score.. output .* got account_id, snapshot, p, mrr"):
        changes.risk_moves(PREVIOUS.rename(columns={"probability": "p"}), CURRENT)
    with pytest.raises(ParameterError, match=r"threshold must be a share in \(0, 1\]; got 20$"):
        changes.risk_moves(PREVIOUS, CURRENT, threshold=20)
    two = pd.concat([CURRENT, CURRENT.assign(snapshot=pd.Timestamp("2026-10-31"))])
    with pytest.raises(ParameterError, match="current holds several snapshots"):
        changes.risk_moves(PREVIOUS, two)


def test_prediction_check_by_hand():
    outcomes = pd.DataFrame({"account_id": ["A", "B", "C", "D", "E", "G"],
                             "churned": [False, False, True, False, True, False]})
    check = changes.prediction_check(PREVIOUS, outcomes, horizon_days=90, elapsed_days=30, threshold=0.2,
                                     bands=(0, 0.2, 1)).set_index("band")
    assert check.index.tolist() == ["0%–20%", "20%–100%", "at risk", "all"]
    assert check["accounts"].tolist() == [2, 3, 3, 5]  # G has no probability
    assert check["churned"].tolist() == [0, 2, 2, 2]
    third = lambda p: 1 - (1 - p) ** (1 / 3)  # noqa: E731 - constant hazard over 30 of 90 days
    assert check.loc["0%–20%", "expected_churned"] == pytest.approx(third(0.10) + third(0.05))
    assert check.loc["all", "expected_churned"] == pytest.approx(sum(map(third, (0.3, 0.1, 0.25, 0.05, 0.5))))
    assert check.loc["20%–100%", "mean_probability"] == pytest.approx(0.35)
    assert check.loc["20%–100%", "churn_share"] == pytest.approx(2 / 3)
    outcomes.attrs["days"] = 30
    again = changes.prediction_check(PREVIOUS, outcomes, horizon_days=90, threshold=0.2, bands=(0, 0.2, 1))
    pd.testing.assert_frame_equal(again.set_index("band"), check)
    with pytest.raises(ParameterError, match=r"bands must be increasing edges from 0 to 1; got \[0.1, 0.5\]$"):
        changes.prediction_check(PREVIOUS, outcomes, horizon_days=90, bands=(0.1, 0.5))


def test_persona_moves_by_hand():
    before = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "persona_id": [0, 0, 1, -1],
                           "persona": ["Big", "Big", "Small", "(unassigned)"]})
    now = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e", "f"], "persona_id": [0, 1, 1, 1, 0, -1],
                        "persona": ["Big", "Small", "Small", "Small", "Big", "(unassigned)"]})
    out = changes.persona_moves(before, now)
    assert out["persona"].tolist() == ["Big", "Small", "(unassigned)"]
    assert out[["accounts_before", "accounts_now", "change", "new_accounts", "moved_in", "moved_out"]].values.tolist() \
        == [[2, 2, 0, 1, 0, 1], [1, 3, 2, 0, 2, 0], [1, 1, 0, 1, 0, 1]]
    text = changes.persona_change_sentences(out, "2026-09-30")
    assert text[0] == ("Persona sizes now, and the change since 2026-09-30 under the same persona model: "
                       "Big: 2 (+0); Small: 3 (+2).")
    assert text[1].startswith("2 accounts are new since then; 2 moved to another persona")


def test_churned_since_matches_the_subscriptions(sample):
    out = changes.churned_since(sample, "2026-09-30")
    assert out.attrs["days"] == 31
    subs = sample.tables["subscriptions"]
    start, end = subs["start_date"], subs["end_date"]
    at = lambda day: set(subs.loc[(start < day) & (end.isna() | (end >= day)), "account_id"])  # noqa: E731
    sept, octo = pd.Timestamp("2026-10-01", tz="UTC"), pd.Timestamp("2026-11-01", tz="UTC")
    assert set(out["account_id"]) == at(sept)
    assert set(out.loc[out["churned"], "account_id"]) == at(sept) - at(octo)
    assert out["churned"].sum() > 0
    with pytest.raises(ParameterError, match=r"since \(2026-10-31\) must be before as_of \(2026-10-31\)"):
        changes.churned_since(sample, "2026-10-31")


def test_last_month_is_recomputed_as_last_month_saw_it(sample):
    """Scores recomputed from this month's data equal those of a review run on data as of last month."""
    day = changes.previous_month_end(sample.as_of)
    recomputed = changes.previous_scores(churn.build_snapshots(sample), day)
    then = journeylib.load(None, as_of=str(day.date()))
    snaps_then = churn.build_snapshots(then)
    original = churn.ChurnModel("gbm").fit(snaps_then).score(churn.latest_snapshot(snaps_then), reasons=False)
    assert len(recomputed) == len(original) > 500
    pd.testing.assert_frame_equal(recomputed.reset_index(drop=True), original.reset_index(drop=True))
    assert recomputed.attrs["note"] == ""
    early = changes.previous_scores(churn.build_snapshots(sample), "2020-01-31")
    assert early.empty and early.attrs["note"] == "no customer at 2020-01-31: nothing to compare with last month"


def test_accounts_with_status_by_hand():
    moves = changes.risk_moves(PREVIOUS, CURRENT, threshold=0.2)
    risk = pd.DataFrame({"account_id": ["B", "G", "A"], "account": ["Beta", "Gamma", "Alpha"],
                         "plan": ["growth", "starter", "growth"], "top_reasons": ["low use", "", "renewal"]})
    newly = changes.accounts_with_status(moves, risk, "newly at risk")
    assert newly["account"].tolist() == ["Beta", "Gamma"]  # largest ARR first: 2,400 then 600
    assert newly[["probability_now", "arr"]].values.tolist() == [[0.4, 2400.0], [0.2, 600.0]]
    assert changes.accounts_with_status(moves, risk, "saved")["top_reasons"].tolist() == ["renewal"]
    assert changes.accounts_with_status(moves, risk, "churned")["account"].isna().all()  # not on this month's list
    with pytest.raises(ParameterError, match="status must be one of .*; got 'safed' \\(did you mean 'saved'\\?\\)"):
        changes.accounts_with_status(moves, risk, "safed")
