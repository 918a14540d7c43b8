"""Simplified Shapley credit against the Shapley value from every permutation; bootstrap intervals of credit."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from journeylib import attribution

PATHS = pd.DataFrame({
    "journey_id": ["J1", "J2", "J3", "J4", "J5"],
    "path": [("A", "B", "A"), ("B",), ("A", "C"), ("C", "B", "A"), ("A",)],
    "converted": [1, 1, 1, 0, 1], "value": [60.0, 30.0, 90.0, 0.0, 10.0]})


def test_simplified_shapley_by_hand():
    # J1 {A,B}: 1/2 each (value 30 each); J2 {B}: 1 to B (30); J3 {A,C}: 1/2 each (45 each); J5 {A}: 1 to A (10)
    s = attribution.shapley(PATHS).set_index("channel")
    assert s["conversions"].to_dict() == pytest.approx({"A": 2.0, "B": 1.5, "C": 0.5})
    assert s["value"].to_dict() == pytest.approx({"A": 85.0, "B": 60.0, "C": 45.0})
    assert s["conversions"].sum() == pytest.approx(4) and s["value"].sum() == pytest.approx(190)


def _exact_shapley(paths):
    """Shapley value of v(S) = conversions of converting journeys whose channel set lies in S, by permutations."""
    conv = paths[paths["converted"] == 1]
    sets = [frozenset(p) for p in conv["path"]]
    players = sorted(set().union(*sets))

    def v(coalition):
        return sum(1 for s in sets if s <= coalition)

    phi = dict.fromkeys(players, 0.0)
    for order in itertools.permutations(players):
        seen = set()
        for p in order:
            before = v(frozenset(seen))
            seen.add(p)
            phi[p] += v(frozenset(seen)) - before
    return {p: x / math.factorial(len(players)) for p, x in phi.items()}


def test_the_closed_form_equals_the_shapley_value_from_every_permutation():
    rng = np.random.default_rng(4)
    channels = list("ABCDEF")
    paths = pd.DataFrame({
        "journey_id": [f"J{i}" for i in range(60)],
        "path": [tuple(rng.choice(channels, size=rng.integers(1, 5))) for _ in range(60)],
        "converted": rng.integers(0, 2, 60), "value": rng.random(60)})
    exact = _exact_shapley(paths)
    closed = attribution.shapley(paths).set_index("channel")["conversions"].to_dict()
    assert closed == pytest.approx(exact, abs=1e-12)


def test_credit_intervals_hold_the_estimate_and_are_reproducible():
    rng = np.random.default_rng(1)
    paths = pd.DataFrame({
        "journey_id": [f"J{i}" for i in range(400)], "account_id": [f"A{i}" for i in range(400)],
        "path": [tuple(rng.choice(list("ABCD"), size=rng.integers(1, 6))) for _ in range(400)],
        "converted": rng.integers(0, 2, 400), "value": rng.random(400) * 100})
    paths["touch_times"] = paths["path"].map(lambda p: tuple(pd.Timestamp("2026-01-01", tz="UTC")
                                                             + pd.Timedelta(days=i) for i in range(len(p))))
    paths["campaigns"] = paths["path"].map(lambda p: (None,) * len(p))
    paths["lead_touch"], paths["opportunity_touch"] = -1, -1
    paths["value"] = paths["value"].where(paths["converted"] == 1, 0.0)
    for model in ("linear", "markov", "shapley"):
        out = attribution.credit_intervals(paths, model, n_boot=40, random_state=2)
        assert (out["conversions_low"] <= out["conversions"]).all()
        assert (out["conversions"] <= out["conversions_high"]).all()
        assert (out["value_low"] <= out["value"]).all() and (out["value"] <= out["value_high"]).all()
        again = attribution.credit_intervals(paths, model, n_boot=40, random_state=2)
        pd.testing.assert_frame_equal(out, again)
    assert out.attrs["model"] == "shapley"


def test_shapley_ordered_by_stage_by_hand_and_against_every_permutation():
    paths = PATHS.assign(stages=[("awareness", "decision", "decision"), ("research",), ("awareness", "research"),
                                 ("awareness", "awareness", "decision"), (None,)])
    paths.attrs["stage_order"] = ["awareness", "research", "decision"]
    s = attribution.shapley(paths, by_stage=True)
    # J1 {(aw,A),(de,B),(de,A)}: 1/3 each (20); J2 {(re,B)}: 1 (30); J3 {(aw,A),(re,C)}: 1/2 (45); J5 {(-,A)}: 1 (10)
    assert list(zip(s["stage"], s["channel"])) == [("awareness", "A"), ("research", "B"), ("research", "C"),
                                                   ("decision", "A"), ("decision", "B"), ("(no stage)", "A")]
    assert s["conversions"].tolist() == pytest.approx([1 / 3 + 1 / 2, 1, 1 / 2, 1 / 3, 1 / 3, 1])
    assert s["value"].tolist() == pytest.approx([20 + 45, 30, 45, 20, 20, 10])
    assert s["conversions"].sum() == pytest.approx(4)
    named = [tuple("(no stage)" if x is None else x for x in st) for st in paths["stages"]]
    exact = _exact_shapley(paths.assign(path=[tuple(zip(st, p)) for st, p in zip(named, paths["path"])]))
    assert dict(zip(zip(s["stage"], s["channel"]), s["conversions"])) == pytest.approx(exact, abs=1e-12)
    with pytest.raises(Exception, match="stages"):
        attribution.shapley(PATHS, by_stage=True)
