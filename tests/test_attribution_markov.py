"""Markov-chain attribution (attribution.markov_chain): hand-computed chains, an independent absorbing-chain
computation (matrix powers), exact path enumeration, credit totals and invariances, the choice of order, errors."""
from __future__ import annotations

import importlib
import math
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution.markov_chain import markov, removal_effects, transition_matrix
from journeylib.errors import ParameterError

# the module itself (the package's name `markov` is the function, which hides the module as an attribute)
markov_module = importlib.import_module("journeylib.attribution.markov_chain")

CHANNELS = list("ABCDE")


def frame(paths, converted, value=None):
    """A conversion-paths frame as conversion_paths() returns it (touch_times left out: not used)."""
    n = len(paths)
    value = [100.0 * (i + 1) * c for i, c in enumerate(converted)] if value is None else value
    return pd.DataFrame({"journey_id": [f"J{i:05d}" for i in range(n)], "account_id": [f"A{i}" for i in range(n)],
                         "path": [tuple(p) for p in paths], "converted": list(converted), "value": list(value)})


def by_channel(result, column):
    return dict(zip(result["channel"], result[column]))


def random_paths(seed, n=400, channels=CHANNELS, max_len=6):
    rng = np.random.default_rng(seed)
    paths = [tuple(rng.choice(channels, int(rng.integers(1, max_len + 1)))) for _ in range(n)]
    # conversion more likely with C and after D: the credits are not all alike
    p = [0.15 + 0.4 * ("C" in path) + 0.2 * (path[-1] == "D") for path in paths]
    converted = (rng.random(n) < p).astype(int)
    value = np.where(converted == 1, rng.gamma(2.0, 5000.0, n).round(2), 0.0)
    return frame(paths, converted, value)


# ---------------------------------------------------------------------------------------------- 1. by hand
HAND = frame([("A", "B"), ("A",), ("B",), ("B", "A")], [1, 0, 1, 0], [100.0, 0.0, 300.0, 0.0])


def test_first_order_by_hand():
    # transitions: start->A 2, start->B 2; A->B 1 (path 1), A->null 2 (paths 2, 4); B->conv 2 (paths 1, 3), B->A 1
    # so start: A 1/2, B 1/2; A: B 1/3, null 2/3; B: conv 2/3, A 1/3.
    # h_A = 1/3 h_B, h_B = 2/3 + 1/3 h_A  =>  h_B = 3/4, h_A = 1/4;  P = 1/2 (1/4 + 3/4) = 1/2
    # (the geometric series agrees: h_B = 2/3 (1 + 1/9 + 1/81 + ...) = 2/3 * 9/8 = 3/4)
    # without A: B->A goes to null, h_B = 2/3, start->A lost: P = 1/2 * 2/3 = 1/3, effect 1 - (1/3)/(1/2) = 1/3
    # without B: h_A = 0 (A->B goes to null), P = 0, effect 1
    # credits: 2 conversions * (1/3, 1) / (4/3) = A 1/2, B 3/2; value 400 -> A 100, B 300; share A 1/4, B 3/4
    result = markov(HAND)
    assert list(result["channel"]) == ["B", "A"]
    assert result.attrs["conversion_probability"] == pytest.approx(0.5, abs=1e-12)
    assert result.attrs["order"] == 1 and result.attrs["n_paths"] == 4 and result.attrs["note"] == ""
    expected = {"removal_effect": {"A": 1 / 3, "B": 1.0}, "credit": {"A": 0.5, "B": 1.5},
                "value_credit": {"A": 100.0, "B": 300.0}, "share": {"A": 0.25, "B": 0.75}}
    for column, values in expected.items():
        got = by_channel(result, column)
        for channel, want in values.items():
            assert got[channel] == pytest.approx(want, abs=1e-12), (column, channel)
    effects = removal_effects(HAND)
    assert by_channel(effects, "conversion_probability_without") == pytest.approx({"A": 1 / 3, "B": 0.0}, abs=1e-12)


def test_first_order_transition_matrix_by_hand():
    tm = transition_matrix(HAND)
    assert dict(zip(zip(tm["from_state"], tm["to_state"]), tm["count"])) == {
        ("start", "A"): 2, ("start", "B"): 2, ("A", "B"): 1, ("A", "null"): 2, ("B", "A"): 1, ("B", "conversion"): 2}
    assert tm["probability"].tolist() == pytest.approx([0.5, 0.5, 1 / 3, 2 / 3, 1 / 3, 2 / 3], abs=1e-12)
    assert tm.groupby("from_state")["probability"].sum().to_numpy() == pytest.approx(1.0, abs=1e-12)


def test_second_order_by_hand():
    # states (A), (B), (A,B), (B,A): start->(A) 2, start->(B) 2; (A)->(A,B) 1, (A)->null 1;
    # (B)->conv 1, (B)->(B,A) 1; (A,B)->conv 1; (B,A)->null 1
    # h(A,B) = 1, h(B,A) = 0, h(A) = 1/2, h(B) = 1/2: P = 1/2
    # without A: (A), (A,B), (B,A) gone: h(B) = 1/2, P = 1/4, effect 1/2; without B: h(A) = 0, P = 0, effect 1
    # credits: 2 * (1/2, 1) / (3/2) = A 2/3, B 4/3; value 400 -> A 400/3, B 800/3
    result = markov(HAND, order=2)
    assert result.attrs["conversion_probability"] == pytest.approx(0.5, abs=1e-12)
    assert by_channel(result, "removal_effect") == pytest.approx({"A": 0.5, "B": 1.0}, abs=1e-12)
    assert by_channel(result, "credit") == pytest.approx({"A": 2 / 3, "B": 4 / 3}, abs=1e-12)
    assert by_channel(result, "value_credit") == pytest.approx({"A": 400 / 3, "B": 800 / 3}, abs=1e-12)
    tm = transition_matrix(HAND, order=2)
    assert set(zip(tm["from_state"], tm["to_state"])) == {
        ("start", "A"), ("start", "B"), ("A", "A > B"), ("A", "null"), ("B", "conversion"), ("B", "B > A"),
        ("A > B", "conversion"), ("B > A", "null")}
    # an order above the longest path is the longest path's order
    longer = markov(HAND, order=5)
    assert longer.attrs["order"] == 5
    pd.testing.assert_frame_equal(longer, result)


def test_journeys_without_touches_are_left_out():
    extra = pd.concat([HAND, frame([(), ()], [1, 0], [50.0, 0.0]).assign(journey_id=["E1", "E2"])],
                      ignore_index=True)
    result = markov(extra)
    assert by_channel(result, "credit") == pytest.approx({"A": 0.5, "B": 1.5}, abs=1e-12)
    assert result["credit"].sum() == pytest.approx(2.0, abs=1e-12)  # the touchless conversion goes to no one
    assert result.attrs["n_paths"] == 4 and result.attrs["n_skipped"] == 2
    assert "2 journeys without a touch" in result.attrs["note"] and "1 converted" in result.attrs["note"]


def test_repeats_are_self_transitions_unless_collapsed():
    # one channel: A->A 3 (paths 2 and 3), A->conv 2, A->null 1: h_A = (1/3) / (1 - 1/2) = 2/3 = P
    single = frame([("A",), ("A", "A"), ("A", "A", "A")], [1, 0, 1])
    result = markov(single)
    assert result.attrs["conversion_probability"] == pytest.approx(2 / 3, abs=1e-12)
    assert result["removal_effect"].tolist() == [1.0]
    assert result["credit"].tolist() == pytest.approx([2.0], abs=1e-12)
    assert result["value_credit"].tolist() == pytest.approx([400.0], abs=1e-12)
    tm = transition_matrix(single, collapse_repeats=True)
    assert ("A", "A") not in set(zip(tm["from_state"], tm["to_state"]))
    collapsed = markov(frame([("A", "A", "B"), ("B", "B"), ("A",)], [1, 0, 1]), collapse_repeats=True)
    pd.testing.assert_frame_equal(collapsed, markov(frame([("A", "B"), ("B",), ("A",)], [1, 0, 1])))


# ---------------------------------------------------------------------------- 2. independent absorbing chain
def reference_probability(paths, converted, order, removed=None):
    """P(conversion from start) counted with dicts and read off P^(2^n) (matrix squaring, no linear solve)."""
    counts = defaultdict(Counter)
    for path, won in zip(paths, converted):
        states = ["start"] + [tuple(path[max(0, i - order + 1):i + 1]) for i in range(len(path))]
        states.append("conversion" if won else "null")
        for a, b in zip(states[:-1], states[1:]):
            counts[a][b] += 1
    names = sorted(set(counts) | {"conversion", "null"}, key=str)
    at = {name: i for i, name in enumerate(names)}
    p = np.zeros((len(names), len(names)))
    for a, row in counts.items():
        total = sum(row.values())
        for b, n in row.items():
            gone = removed is not None and isinstance(b, tuple) and removed in b
            p[at[a], at["null" if gone else b]] += n / total
    p[at["conversion"], at["conversion"]] = p[at["null"], at["null"]] = 1.0
    for _ in range(200):
        squared = p @ p
        if np.abs(squared - p).max() < 1e-16:
            break
        p = squared
    return p[at["start"], at["conversion"]]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_matches_an_independent_absorbing_chain(order):
    data = random_paths(seed=order, n=300)
    paths, converted = list(data["path"]), list(data["converted"])
    effects = removal_effects(data, order=order)
    p = reference_probability(paths, converted, order)
    assert 0.2 < p < 0.8
    assert effects.attrs["conversion_probability"] == pytest.approx(p, abs=1e-9)
    assert list(effects["channel"]) == CHANNELS
    for channel, without, effect in effects[["channel", "conversion_probability_without", "removal_effect"]].to_numpy():
        want = reference_probability(paths, converted, order, removed=channel)
        assert without == pytest.approx(want, abs=1e-9)
        assert effect == pytest.approx(1 - want / p, abs=1e-9)
    assert markov(data, order=order).attrs["conversion_probability"] == pytest.approx(p, abs=1e-9)


def test_the_sparse_solver_agrees_with_the_dense_one(monkeypatch):
    data = random_paths(seed=7, n=500)
    dense = markov(data, order=3)
    monkeypatch.setattr(markov_module, "_DENSE_LIMIT", 0)
    sparse = markov(data, order=3)
    assert sparse.attrs["conversion_probability"] == pytest.approx(dense.attrs["conversion_probability"], abs=1e-12)
    pd.testing.assert_frame_equal(sparse, dense, check_exact=False, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------ 3. path enumeration
def enumerate_probability(tm, removed=None, tolerance=1e-13):
    """Sum over every walk from start in the fitted chain (transition_matrix) of its probability of conversion.

    Walks into a state holding ``removed`` end there (they go to null). Stops when the mass still walking is
    below ``tolerance``; on a chain without cycles that is exact.
    """
    step = defaultdict(list)
    for f, t, p in tm[["from_state", "to_state", "probability"]].itertuples(False):
        step[f].append((t, p))
    walks, reached = [("start", 1.0)], 0.0
    while walks and sum(p for _, p in walks) >= tolerance:
        longer = []
        for state, mass in walks:
            for nxt, p in step[state]:
                if nxt == "conversion":
                    reached += mass * p
                elif nxt != "null" and not (removed and removed in nxt.split(" > ")):
                    longer.append((nxt, mass * p))
        walks = longer
    return reached


@pytest.mark.parametrize("order", [1, 2])
def test_matches_exact_enumeration_on_a_chain_without_cycles(order):
    # paths visit channels in alphabetical order, each at most once: the chain is acyclic, every walk finite
    rng = np.random.default_rng(10 + order)
    paths = [tuple(sorted(rng.choice(CHANNELS[:4], int(rng.integers(1, 5)), replace=False))) for _ in range(80)]
    converted = (rng.random(80) < [0.2 + 0.15 * len(p) for p in paths]).astype(int)
    data = frame(paths, converted)
    tm = transition_matrix(data, order=order)
    result = markov(data, order=order)
    p = enumerate_probability(tm, tolerance=0.0)
    assert result.attrs["conversion_probability"] == pytest.approx(p, abs=1e-12)
    for channel, effect in by_channel(result, "removal_effect").items():
        assert effect == pytest.approx(1 - enumerate_probability(tm, channel, tolerance=0.0) / p, abs=1e-12)


def test_matches_enumeration_on_the_hand_chain_with_a_cycle():
    # A -> B -> A ... loops with probability 1/9 a round: the walks left fall below 1e-13 after some 30 steps
    tm = transition_matrix(HAND)
    result = markov(HAND)
    p = enumerate_probability(tm)
    assert p == pytest.approx(0.5, abs=1e-12)
    assert result.attrs["conversion_probability"] == pytest.approx(p, abs=1e-12)
    for channel, effect in by_channel(result, "removal_effect").items():
        assert effect == pytest.approx(1 - enumerate_probability(tm, channel) / p, abs=1e-12)


# ------------------------------------------------------------------------------- 4. totals and invariances
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_credits_add_up_to_conversions_and_value(seed):
    data = random_paths(seed)
    for order in (1, 2, "auto"):
        result = markov(data, order=order)
        assert result["credit"].sum() == pytest.approx(data["converted"].sum(), abs=1e-9)
        assert result["value_credit"].sum() == pytest.approx(data["value"].sum(), abs=1e-9)
        assert result["share"].sum() == pytest.approx(1.0, abs=1e-12)
        assert result.attrs["conversions"] == data["converted"].sum()
        assert ((result["removal_effect"] >= 0) & (result["removal_effect"] <= 1)).all()
        assert list(result["credit"]) == sorted(result["credit"], reverse=True)


def test_the_row_order_changes_nothing():
    data = random_paths(4)
    shuffled = data.sample(frac=1.0, random_state=1).reset_index(drop=True)
    for order in (1, 2, "auto"):
        a, b = markov(data, order=order), markov(shuffled, order=order)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert a.attrs == b.attrs
    pd.testing.assert_frame_equal(transition_matrix(data, order=2), transition_matrix(shuffled, order=2))


def test_a_channel_that_only_leads_to_null_gets_no_credit():
    # A->conv 1/2, A->Z 1/2, Z->null always: h_Z = 0, so removing Z leaves P = 2/3 * 1/2 = 1/3: effect 0, credit 0
    data = frame([("A",), ("A", "Z"), ("Z",)], [1, 0, 0])
    for order in (1, 2):
        result = markov(data, order=order)
        assert result.attrs["conversion_probability"] == pytest.approx(1 / 3, abs=1e-12)
        assert by_channel(result, "removal_effect") == {"A": 1.0, "Z": 0.0}
        assert by_channel(result, "credit") == pytest.approx({"A": 1.0, "Z": 0.0}, abs=1e-12)
        assert list(result["channel"]) == ["A", "Z"]


def test_a_channel_never_on_a_converting_path_can_get_credit():
    # the chain is memoryless: X never converts, but X -> A and A converts half the time.
    # start: X 1/2, A 1/2; X->A 1; A->conv 1/2, A->null 1/2: P = 1/2; without X, P = 1/4: effect 1/2; without A 1
    # credit of the one conversion: X (1/2)/(3/2) = 1/3, A 2/3. At order 2, (X, A) only leads to null: X gets 0.
    data = frame([("X", "A"), ("A",)], [0, 1])
    result = markov(data)
    assert by_channel(result, "removal_effect") == pytest.approx({"A": 1.0, "X": 0.5}, abs=1e-12)
    assert by_channel(result, "credit") == pytest.approx({"A": 2 / 3, "X": 1 / 3}, abs=1e-12)
    assert by_channel(markov(data, order=2), "credit") == pytest.approx({"A": 1.0, "X": 0.0}, abs=1e-12)


def test_no_conversion_gives_no_credit_and_a_note():
    result = markov(frame([("A", "B"), ("B",)], [0, 0]))
    assert result["credit"].tolist() == [0.0, 0.0] and result["value_credit"].tolist() == [0.0, 0.0]
    assert result["removal_effect"].tolist() == [0.0, 0.0] and result.attrs["conversion_probability"] == 0.0
    assert "no journey with touches converted" in result.attrs["note"]
    empty = markov(frame([], []))
    assert empty.empty and list(empty.columns) == ["channel", "removal_effect", "credit", "value_credit", "share"]
    assert "no journey has a touch" in empty.attrs["note"]


def test_value_false_needs_no_value_column():
    result = markov(HAND.drop(columns="value"), value=False)
    assert list(result.columns) == ["channel", "removal_effect", "credit", "share"]
    assert result.attrs["value"] is None


# ---------------------------------------------------------------------------------------- 5. choosing the order
def first_order_paths(n, seed):
    """Paths of a known first-order chain over A..E (rows: start, A..E; columns A..E, conversion, null)."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(7, 0.7), size=6)
    p[0, 5:] = 0.0
    p[1:, 5:] += 0.15
    p /= p.sum(axis=1, keepdims=True)
    return walk(rng, n, lambda prev, cur: p[0 if cur is None else cur + 1])


def second_order_paths(n, seed):
    """Paths of a second-order chain whose next step depends strongly on the channel before the current one."""
    rng = np.random.default_rng(seed)
    first = np.r_[rng.dirichlet(np.ones(5)), 0.0, 0.0]
    p = rng.dirichlet(np.full(7, 0.15), size=(6, 5))  # (previous channel or none, current channel)
    p[..., 5:] += 0.12
    p /= p.sum(axis=-1, keepdims=True)
    return walk(rng, n, lambda prev, cur: first if cur is None else p[5 if prev is None else prev, cur])


def walk(rng, n, step):
    paths, converted = [], []
    for _ in range(n):
        prev = cur = None
        path = []
        while True:
            nxt = rng.choice(7, p=step(prev, cur))
            if nxt >= 5 or len(path) == 30:
                break
            path.append(CHANNELS[nxt])
            prev, cur = cur, nxt
        paths.append(path)
        converted.append(int(nxt == 5))
    return frame(paths, converted)


def test_auto_picks_order_one_for_a_first_order_chain_and_is_reproducible():
    data = first_order_paths(5000, seed=0)
    result = markov(data, order="auto")
    assert result.attrs["order"] == 1
    loglik = result.attrs["order_loglik"]
    assert sorted(loglik) == [1, 2, 3, 4] and max(loglik, key=loglik.get) == 1
    again = markov(data, order="auto")
    assert again.attrs["order_loglik"] == loglik
    pd.testing.assert_frame_equal(again, result, check_exact=True)
    pd.testing.assert_frame_equal(result, markov(data, order=1))  # then fitted on every journey
    other = markov(data, order="auto", random_state=1)
    assert other.attrs["order_loglik"] != loglik  # the seed does drive the split
    assert markov(data, order="auto", max_order=2).attrs["order_loglik"].keys() == {1, 2}


def test_auto_picks_order_two_for_a_second_order_chain():
    data = second_order_paths(5000, seed=0)
    result = markov(data, order="auto")
    assert result.attrs["order"] == 2
    loglik = result.attrs["order_loglik"]
    assert loglik[2] > loglik[1] + 100 and loglik[2] > loglik[3]


def reference_loglik(data, order, random_state=0, test_share=0.3):
    """The documented held-out score, with dicts: journeys with touches sorted by journey_id, the test share drawn
    with default_rng(random_state).permutation, every test step scored (count + alpha) / (total + alpha * outcomes)."""
    used = data[data["path"].map(len) > 0]
    ids = sorted(used["journey_id"])
    n_test = min(len(ids) - 1, max(1, round(test_share * len(ids))))
    test_ids = {ids[i] for i in np.random.default_rng(random_state).permutation(len(ids))[:n_test]}
    outcomes = len({c for path in used["path"] for c in path}) + 2  # channels, conversion, null
    counts, scored = defaultdict(Counter), []
    for journey_id, path, won in used[["journey_id", "path", "converted"]].itertuples(False):
        steps = [("start" if i == 0 else path[max(0, i - order):i], path[i]) for i in range(len(path))]
        steps.append((path[max(0, len(path) - order):], "conversion" if won else "null"))
        if journey_id in test_ids:
            scored += steps
        else:
            for context, nxt in steps:
                counts[context][nxt] += 1
    alpha = markov_module.SMOOTHING_ALPHA
    return sum(math.log((counts[c][n] + alpha) / (sum(counts[c].values()) + alpha * outcomes)) for c, n in scored)


def test_the_held_out_loglikelihood_is_the_documented_one():
    # paths of at most 2 touches: orders 2, 3 and 4 are the same chain, and a tie goes to the lowest order
    data = pd.concat([random_paths(seed=8, n=300, max_len=2), frame([()], [1]).assign(journey_id="E")],
                     ignore_index=True)
    for random_state, test_share in [(0, 0.3), (5, 0.5)]:
        result = markov(data, order="auto", random_state=random_state, test_share=test_share)
        loglik = result.attrs["order_loglik"]
        for order in (1, 2, 3, 4):
            want = reference_loglik(data, order, random_state, test_share)
            assert loglik[order] == pytest.approx(want, rel=1e-12, abs=1e-9)
        assert loglik[2] == loglik[3] == loglik[4]
        assert result.attrs["order"] == (1 if loglik[1] >= loglik[2] else 2)


def test_auto_with_a_single_journey_falls_back_to_order_one():
    result = markov(frame([("A",)], [1]), order="auto")
    assert result.attrs["order"] == 1 and "order 1 used" in result.attrs["note"]


# ---------------------------------------------------------------------------------------------- 6. errors
def test_missing_columns_are_named():
    with pytest.raises(ParameterError, match=r"paths has no column 'converted'"):
        markov(HAND.drop(columns="converted"))
    with pytest.raises(ParameterError, match=r"no column 'path' \(did you mean 'paths'\?\)"):
        markov(HAND.rename(columns={"path": "paths"}))
    with pytest.raises(ParameterError, match=r"no column 'value'"):
        markov(HAND.drop(columns="value"))
    with pytest.raises(ParameterError, match=r"no column 'journey_id'"):
        markov(HAND.drop(columns="journey_id"), order="auto")
    with pytest.raises(ParameterError, match=r"paths must be a conversion-paths DataFrame.*got list"):
        markov([("A",)])


@pytest.mark.parametrize("order, message", [
    (0, "order must be 'auto' or a whole number >= 1; got 0"),
    ("two", "order must be 'auto' or a whole number >= 1; got 'two'"),
    ("Auto", "got 'Auto' (did you mean 'auto'?)"),
    (True, "order must be 'auto' or a whole number >= 1; got True"),
    (1.5, "order must be 'auto' or a whole number >= 1; got 1.5"),
])
def test_bad_order(order, message):
    with pytest.raises(ParameterError) as error:
        markov(HAND, order=order)
    assert message in str(error.value)


def test_bad_options_and_values():
    cases = [
        (lambda: transition_matrix(HAND, order="auto"), "order must be a whole number >= 1; got 'auto'"),
        (lambda: removal_effects(HAND, order=0), "order must be a whole number >= 1; got 0"),
        (lambda: markov(HAND, order="auto", max_order=0), "max_order must be a whole number >= 1 and <= 10; got 0"),
        (lambda: markov(HAND, order="auto", test_share=1.0), "test_share must be a share in (0, 1); got 1.0"),
        (lambda: markov(HAND, random_state=-1), "random_state must be a whole number >= 0; got -1"),
        (lambda: markov(HAND, value=1), "value must be True or False; got 1"),
        (lambda: markov(HAND, collapse_repeats="yes"), "collapse_repeats must be True or False; got 'yes'"),
        (lambda: markov(HAND.assign(converted=[1, 0, 2, 0])), "paths['converted'] must be 0 or 1; got 2"),
        (lambda: markov(HAND.assign(path=["AB", ("A",), ("B",), ("B",)])),
         "paths['path'] must hold tuples of channel names; row 0 holds 'AB'"),
        (lambda: markov(HAND.assign(path=[("A", None), ("A",), ("B",), ("B",)])),
         "paths['path'] has a missing channel name in row 0"),
        (lambda: markov(HAND.assign(value=[np.nan, 0.0, 1.0, 0.0])),
         "paths['value'] must be a finite number for converted journeys; row 0 has nan"),
    ]
    for call, message in cases:
        with pytest.raises(ParameterError) as error:
            call()
        assert message in str(error.value)


@pytest.mark.slow
def test_a_hundred_thousand_journeys_at_every_order():
    rng = np.random.default_rng(5)
    names = np.array([f"channel_{i}" for i in range(10)])
    paths = [tuple(rng.choice(names, n)) for n in rng.integers(0, 12, 100_000)]
    data = frame(paths, (rng.random(100_000) < 0.2).astype(int))
    touched = data["path"].map(len) > 0
    for order in (1, 2, 3, 4, "auto"):
        result = markov(data, order=order)
        assert result["credit"].sum() == pytest.approx(data.loc[touched, "converted"].sum(), rel=1e-12)
        assert result["value_credit"].sum() == pytest.approx(data.loc[touched, "value"].sum(), rel=1e-12)
