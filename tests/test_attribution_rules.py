"""journeylib.attribution.rules: rule-based multi-touch attribution, every model's credits computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution.rules import MODELS, rule_based, touch_credits
from journeylib.errors import ParameterError

CONVERSION = pd.Timestamp("2026-06-30 12:00", tz="UTC")


def _times(*days_before):
    return tuple(CONVERSION - pd.Timedelta(days=d) for d in days_before)


def _journey(jid, path, days=None, *, lead=-1, opp=-1, converted=1, value=100.0, campaigns=None, account=None):
    days = days if days is not None else tuple(range(len(path) - 1, -1, -1))
    return {"journey_id": jid, "account_id": account or f"acc-{jid}", "path": tuple(path), "touch_times": _times(*days),
            "campaigns": tuple(campaigns) if campaigns is not None else (None,) * len(path),
            "converted": converted, "value": value if converted else 0.0,
            "conversion_at": CONVERSION if converted else pd.NaT, "lead_touch": lead, "opportunity_touch": opp}


def _frame(*journeys):
    return pd.DataFrame(list(journeys))


def _credits(model, path, days=None, *, lead=-1, opp=-1, **weights):
    out = touch_credits(_frame(_journey("j", path, days, lead=lead, opp=opp)), model, **weights)
    assert out["position"].tolist() == list(range(len(path)))
    return out["credit"].tolist()


# 1. The module docstring's example: 6 touches, lead at 1, opportunity at 3, 35..0 days before the conversion
SIX = ("ads", "webinar", "email", "demo", "email", "call")
SIX_DAYS = (35, 28, 21, 14, 7, 0)
SIX_EXPECTED = {
    "first": [1, 0, 0, 0, 0, 0],
    "last": [0, 0, 0, 0, 0, 1],
    "linear": [1 / 6] * 6,
    # 2^(-35/7) .. 2^0 = 1/32, 1/16, 1/8, 1/4, 1/2, 1; sum 63/32 -> 1/63, 2/63, 4/63, 8/63, 16/63, 32/63
    "time_decay": [1 / 63, 2 / 63, 4 / 63, 8 / 63, 16 / 63, 32 / 63],
    # first 0.4, lead (1) 0.4, no touch between 0 and 1 for the 0.2: renormalise 0.4/0.8 each; after the lead: 0
    "u_shaped": [0.5, 0.5, 0, 0, 0, 0],
    # 0.3 to touches 0, 1, 3; the 0.1 rest over touches 2, 4, 5: 0.1/3 = 1/30 each
    "w_shaped": [0.3, 0.3, 1 / 30, 0.3, 1 / 30, 1 / 30],
    # 0.225 to 0, 1, 3, 5 (close); the 0.1 rest over touches 2, 4: 0.05 each
    "full_path": [0.225, 0.225, 0.05, 0.225, 0.05, 0.225],
}


@pytest.mark.parametrize("model", MODELS)
def test_the_documented_six_touch_example(model):
    assert _credits(model, SIX, SIX_DAYS, lead=1, opp=3) == pytest.approx(SIX_EXPECTED[model], abs=1e-12)


def test_every_model_is_in_the_example():
    assert set(SIX_EXPECTED) == set(MODELS)


@pytest.mark.parametrize("lead, expected", [
    # U anchor at 4: 0.4 first, 0.4 touch 4, 0.2 over touches 1, 2, 3 (0.2/3 each), touch 5 after the anchor: 0
    (4, [0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4, 0]),
    # lead unknown: the anchor is the closing touch 5; 0.2 over touches 1..4 = 0.05 each
    (-1, [0.4, 0.05, 0.05, 0.05, 0.05, 0.4]),
    # lead at the first touch: the same as unknown (classic position-based)
    (0, [0.4, 0.05, 0.05, 0.05, 0.05, 0.4]),
    # lead at the closing touch
    (5, [0.4, 0.05, 0.05, 0.05, 0.05, 0.4]),
])
def test_u_shaped_anchor(lead, expected):
    assert _credits("u_shaped", SIX, SIX_DAYS, lead=lead, opp=3) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("model, lead, opp, weights, expected", [
    # W, lead and opportunity unknown: 0.3 first; 0.1 rest + 0.3 + 0.3 unknown = 0.7 over touches 1..5 = 0.14 each
    ("w_shaped", -1, -1, {}, [0.3, 0.14, 0.14, 0.14, 0.14, 0.14]),
    # W, lead = opportunity = 2: touch 2 gets 0.3 + 0.3 = 0.6; first 0.3; 0.1 over 1, 3, 4, 5 = 0.025 each
    ("w_shaped", 2, 2, {}, [0.3, 0.025, 0.6, 0.025, 0.025, 0.025]),
    # W, lead at 0, opportunity at 5: touch 0 gets 0.6, touch 5 0.3, 0.1 over 1..4 = 0.025 each
    ("w_shaped", 0, 5, {}, [0.6, 0.025, 0.025, 0.025, 0.025, 0.3]),
    # W, opportunity before lead (not reordered): 0.3 at 0, 4 (lead), 2 (opp); 0.1 over 1, 3, 5
    ("w_shaped", 4, 2, {}, [0.3, 0.1 / 3, 0.3, 0.1 / 3, 0.3, 0.1 / 3]),
    # full path, opportunity on the closing touch: 0.225 at 0, 1; 0.45 at 5; 0.1 over 2, 3, 4
    ("full_path", 1, 5, {}, [0.225, 0.225, 0.1 / 3, 0.1 / 3, 0.1 / 3, 0.45]),
    # full path, both unknown: 0.225 at 0 and 5; 0.1 + 0.45 = 0.55 over 1..4 = 0.1375 each
    ("full_path", -1, -1, {}, [0.225, 0.1375, 0.1375, 0.1375, 0.1375, 0.225]),
    # custom weights: U (0.5, 0.3), anchor 4: 0.2 over 1, 2, 3
    ("u_shaped", 4, -1, {"u_weights": (0.5, 0.3)}, [0.5, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.3, 0]),
    # W (0.2, 0.2, 0.2): 0.4 rest over touches 2, 4, 5
    ("w_shaped", 1, 3, {"w_weights": (0.2, 0.2, 0.2)}, [0.2, 0.2, 0.4 / 3, 0.2, 0.4 / 3, 0.4 / 3]),
    # full path (0.25 x 4): nothing left for touches 2 and 4
    ("full_path", 1, 3, {"full_path_weights": (0.25,) * 4}, [0.25, 0.25, 0, 0.25, 0, 0.25]),
    # U (0, 0), lead unknown: the whole 1 over touches 1..4
    ("u_shaped", -1, -1, {"u_weights": (0, 0)}, [0, 0.25, 0.25, 0.25, 0.25, 0]),
])
def test_milestone_conventions(model, lead, opp, weights, expected):
    assert _credits(model, SIX, SIX_DAYS, lead=lead, opp=opp, **weights) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("lead, opp", [(0, 0), (-1, -1), (0, -1), (-1, 0)])
def test_one_touch_gets_everything(model, lead, opp):
    assert _credits(model, ("ads",), (3,), lead=lead, opp=opp) == pytest.approx([1.0], abs=1e-12)


@pytest.mark.parametrize("weights", [{"w_weights": (0, 0, 0)}, {"full_path_weights": (0, 0, 0, 0)},
                                     {"u_weights": (0, 0)}])
def test_zero_weights_on_one_touch_still_give_it_everything(weights):
    model = {"w_weights": "w_shaped", "full_path_weights": "full_path", "u_weights": "u_shaped"}[next(iter(weights))]
    assert _credits(model, ("ads",), (3,), **weights) == pytest.approx([1.0], abs=1e-12)
    # two touches, both milestones of U with zero weights, nothing between: linear fallback
    if model == "u_shaped":
        assert _credits(model, ("ads", "demo"), (3, 0), **weights) == pytest.approx([0.5, 0.5], abs=1e-12)


TWO = ("ads", "demo")
TWO_DAYS = (7, 0)
# (lead, opp) -> model -> credits of the two touches
TWO_EXPECTED = {
    (0, 1): {"first": [1, 0], "last": [0, 1], "linear": [0.5, 0.5],
             # 2^-1, 2^0 -> 1/3, 2/3
             "time_decay": [1 / 3, 2 / 3],
             # lead at the first touch: anchor = close; 0.4, 0.4, nothing between -> 1/2, 1/2
             "u_shaped": [0.5, 0.5],
             # touch 0: first + lead = 0.6, touch 1: opp 0.3, no rest touch -> 0.6/0.9, 0.3/0.9
             "w_shaped": [2 / 3, 1 / 3],
             # touch 0: 0.45, touch 1: opp + close 0.45 -> 1/2, 1/2
             "full_path": [0.5, 0.5]},
    (1, 1): {"first": [1, 0], "last": [0, 1], "linear": [0.5, 0.5], "time_decay": [1 / 3, 2 / 3],
             "u_shaped": [0.5, 0.5],
             # 0.3 vs lead + opp 0.6 -> 1/3, 2/3
             "w_shaped": [1 / 3, 2 / 3],
             # 0.225 vs lead + opp + close 0.675 -> 1/4, 3/4
             "full_path": [0.25, 0.75]},
    (-1, -1): {"first": [1, 0], "last": [0, 1], "linear": [0.5, 0.5], "time_decay": [1 / 3, 2 / 3],
               # lead unknown: anchor = close -> 1/2, 1/2
               "u_shaped": [0.5, 0.5],
               # first 0.3; touch 1 is no milestone: rest 0.1 + unknown 0.3 + 0.3 = 0.7
               "w_shaped": [0.3, 0.7],
               # 0.225 and 0.225 (close); the 0.55 has no touch to go to -> renormalised 1/2, 1/2
               "full_path": [0.5, 0.5]},
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("milestones", list(TWO_EXPECTED))
def test_two_touches(model, milestones):
    lead, opp = milestones
    expected = TWO_EXPECTED[milestones][model]
    assert _credits(model, TWO, TWO_DAYS, lead=lead, opp=opp) == pytest.approx(expected, abs=1e-12)


# 3. time decay
def test_time_decay_with_two_half_lives():
    days = (14, 7, 0)
    # half-life 7: 2^-2, 2^-1, 2^0 = 1/4, 1/2, 1; sum 7/4 -> 1/7, 2/7, 4/7
    assert _credits("time_decay", "abc", days) == pytest.approx([1 / 7, 2 / 7, 4 / 7], abs=1e-12)
    # half-life 14: 2^-1, 2^-0.5, 1 = 0.5, 1/sqrt(2), 1; sum 1.5 + 1/sqrt(2)
    raw = [0.5, 1 / math.sqrt(2), 1.0]
    expected = [r / sum(raw) for r in raw]
    assert _credits("time_decay", "abc", days, half_life_days=14) == pytest.approx(expected, abs=1e-12)
    # half-life 3.5: 2^-4, 2^-2, 1 = 1/16, 4/16, 16/16 -> 1/21, 4/21, 16/21
    assert _credits("time_decay", "abc", days, half_life_days=3.5) == pytest.approx([1 / 21, 4 / 21, 16 / 21],
                                                                                    abs=1e-12)


def test_time_decay_depends_on_gaps_not_on_when_the_journey_is():
    # 3 days between the last touch and the conversion, or 400 (2^-57 raw weights): the same credits
    assert _credits("time_decay", "abc", (17, 10, 3)) == pytest.approx([1 / 7, 2 / 7, 4 / 7], abs=1e-12)
    assert _credits("time_decay", "abc", (414, 407, 400)) == pytest.approx([1 / 7, 2 / 7, 4 / 7], abs=1e-12)


# 2. a small multi-journey frame
def _small():
    return _frame(
        # J1: 14, 7, 0 days; lead 1, opp 2
        _journey("J1", ("email", "webinar", "demo"), (14, 7, 0), lead=1, opp=2, value=1000.0,
                 campaigns=("c1", "c2", None)),
        _journey("J2", ("ads",), (0,), lead=0, opp=0, value=500.0, campaigns=("c2",)),
        _journey("J3", ("email", "ads", "email"), (30, 20, 10), converted=0, campaigns=(None, "c1", None)),
        _journey("J4", ("ads", "email"), (7, 0), value=200.0, campaigns=("c1", "c3")),
        _journey("J5", (), (), value=300.0))


# per model: J1 credits (email, webinar, demo), J2 (ads) always 1, J4 (ads, email); J3 does not convert, J5 has no path
# first:      J1 (1, 0, 0)          J4 (1, 0)
# last:       J1 (0, 0, 1)          J4 (0, 1)
# linear:     J1 (1/3, 1/3, 1/3)    J4 (1/2, 1/2)
# time_decay: J1 (1/7, 2/7, 4/7)    J4 (1/3, 2/3)   (days 14, 7, 0 and 7, 0; half-life 7)
# u_shaped:   J1 (1/2, 1/2, 0)      J4 (1/2, 1/2)   (J1 anchors 0 and lead 1; J4 lead unknown: anchors 0 and close)
# w_shaped:   J1 (1/3, 1/3, 1/3)    J4 (0.3, 0.7)   (J1 0.3 x 3, renormalised; J4 0.3 first, 0.7 to touch 1)
# full_path:  J1 (1/4, 1/4, 1/2)    J4 (1/2, 1/2)   (J1 0.225, 0.225, opp + close 0.45 over 0.9)
# channel conversions: email = J1[0] + J4[1], webinar = J1[1], demo = J1[2], ads = 1 + J4[0]
# channel value: email = 1000 J1[0] + 200 J4[1], webinar = 1000 J1[1], demo = 1000 J1[2], ads = 500 + 200 J4[0]
SMALL = {  # channel -> (conversions, value), listed in the expected order
    "first": {"ads": (2, 700), "email": (1, 1000), "demo": (0, 0), "webinar": (0, 0)},
    "last": {"ads": (1, 500), "demo": (1, 1000), "email": (1, 200), "webinar": (0, 0)},
    "linear": {"ads": (1.5, 600), "email": (5 / 6, 1000 / 3 + 100), "demo": (1 / 3, 1000 / 3),
               "webinar": (1 / 3, 1000 / 3)},
    "time_decay": {"ads": (4 / 3, 500 + 200 / 3), "email": (1 / 7 + 2 / 3, 1000 / 7 + 400 / 3),
                   "demo": (4 / 7, 4000 / 7), "webinar": (2 / 7, 2000 / 7)},
    "u_shaped": {"ads": (1.5, 600), "email": (1, 600), "webinar": (0.5, 500), "demo": (0, 0)},
    "w_shaped": {"ads": (1.3, 560), "email": (1 / 3 + 0.7, 1000 / 3 + 140), "demo": (1 / 3, 1000 / 3),
                 "webinar": (1 / 3, 1000 / 3)},
    "full_path": {"ads": (1.5, 600), "email": (0.75, 350), "demo": (0.5, 500), "webinar": (0.25, 250)},
}
# touches in all journeys (J3 converts not; it has email twice): email 4 in 3 journeys, ads 3 in 3
TOUCHES = {"email": (4, 3), "ads": (3, 3), "webinar": (1, 1), "demo": (1, 1)}


@pytest.mark.parametrize("model", MODELS)
def test_rule_based_per_channel(model):
    out = rule_based(_small(), model)
    assert list(out.columns) == ["channel", "conversions", "value", "touches", "journeys"]
    assert out["channel"].tolist() == list(SMALL[model])
    assert out["conversions"].tolist() == pytest.approx([c for c, _ in SMALL[model].values()], abs=1e-12)
    assert out["value"].tolist() == pytest.approx([v for _, v in SMALL[model].values()], abs=1e-9)
    assert list(zip(out["touches"], out["journeys"])) == [TOUCHES[c] for c in out["channel"]]
    # J1, J2, J4 convert with a path; J5 (300) converts without one
    assert out["conversions"].sum() == pytest.approx(3, abs=1e-12)
    assert out["value"].sum() == pytest.approx(1700, abs=1e-9)
    assert out.attrs == {"model": model, "by": "channel", "unattributed_conversions": 1, "unattributed_value": 300.0}


def test_rule_based_per_campaign():
    out = rule_based(_small(), "linear", by="campaign")
    # linear: J1 c1, c2, none 1/3 each; J2 c2 1; J4 c1, c3 1/2 each
    # c2 = 1/3 + 1, c1 = 1/3 + 1/2, c3 = 1/2, (none) = 1/3
    assert out["campaign"].tolist() == ["c2", "c1", "c3", "(none)"]
    assert out["conversions"].tolist() == pytest.approx([4 / 3, 5 / 6, 0.5, 1 / 3], abs=1e-12)
    assert out["value"].tolist() == pytest.approx([1000 / 3 + 500, 1000 / 3 + 100, 100, 1000 / 3], abs=1e-9)
    # touches: c2 in J1, J2; c1 in J1, J3, J4; c3 in J4; none: J1 once, J3 twice
    assert out["touches"].tolist() == [2, 3, 1, 3]
    assert out["journeys"].tolist() == [2, 3, 1, 2]


def test_touch_credits_drill_down_columns_and_values():
    out = touch_credits(_small(), "time_decay")
    assert list(out.columns) == ["journey_id", "account_id", "position", "channel", "campaign", "touch_time", "credit",
                                 "value_credit"]
    assert out["journey_id"].tolist() == ["J1", "J1", "J1", "J2", "J4", "J4"]  # J3 converts not, J5 has no touch
    assert out["account_id"].tolist() == ["acc-J1"] * 3 + ["acc-J2"] + ["acc-J4"] * 2
    assert out["position"].tolist() == [0, 1, 2, 0, 0, 1]
    assert out["campaign"].tolist() == ["c1", "c2", None, "c2", "c1", "c3"]
    assert out["touch_time"].tolist() == list(_times(14, 7, 0, 0, 7, 0))
    assert str(out["touch_time"].dt.tz) == "UTC"
    assert out["credit"].tolist() == pytest.approx([1 / 7, 2 / 7, 4 / 7, 1, 1 / 3, 2 / 3], abs=1e-12)
    assert out["value_credit"].tolist() == pytest.approx([1000 / 7, 2000 / 7, 4000 / 7, 500, 200 / 3, 400 / 3],
                                                         abs=1e-9)
    assert out.attrs["model"] == "time_decay"


# 4. invariants on a random frame
def _random(n_journeys=2000, seed=7):
    rng = np.random.default_rng(seed)
    channels = np.array(["ads", "email", "webinar", "demo", "event", "seo"], dtype=object)
    rows = []
    for i in range(n_journeys):
        n = int(rng.integers(0, 12))
        days = np.sort(rng.uniform(0, 200, n))[::-1]
        converted = int(rng.random() < 0.4)
        rows.append(_journey(f"j{i:05d}", channels[rng.integers(0, 6, n)], tuple(days), converted=converted,
                             value=float(rng.integers(1, 100)) * 100, account=f"a{i % 500}",
                             lead=int(rng.integers(-1, n)) if n else -1, opp=int(rng.integers(-1, n)) if n else -1,
                             campaigns=[None if c > 2 else f"c{c}" for c in rng.integers(0, 4, n)]))
    return _frame(*rows)


@pytest.fixture(scope="module")
def random_paths():
    return _random()


@pytest.mark.parametrize("model", MODELS)
def test_invariants_on_a_random_frame(random_paths, model):
    paths = random_paths
    lengths = paths["path"].map(len)
    attributed = paths[(paths["converted"] == 1) & (lengths > 0)]
    credits = touch_credits(paths, model)
    per_journey = credits.groupby("journey_id")["credit"].sum()
    assert set(per_journey.index) == set(attributed["journey_id"])  # non-converting journeys get no credit
    assert np.allclose(per_journey.to_numpy(), 1.0, rtol=0, atol=1e-12)
    assert (credits["credit"] >= 0).all()
    assert len(credits) == lengths[attributed.index].sum()

    out = rule_based(paths, model)
    assert out["conversions"].sum() == pytest.approx(len(attributed), abs=1e-9)
    assert out["value"].sum() == pytest.approx(attributed["value"].sum(), rel=1e-12)
    assert out["touches"].sum() == lengths.sum()

    # only the non-converting journeys: touches counted, no credit
    lost = rule_based(paths[paths["converted"] == 0], model)
    assert (lost["conversions"] == 0).all() and (lost["value"] == 0).all()
    assert lost["touches"].sum() == lengths[paths["converted"] == 0].sum()

    # row order does not matter
    shuffled = paths.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = rule_based(shuffled, model)
    pd.testing.assert_frame_equal(out.set_index("channel").sort_index(), again.set_index("channel").sort_index(),
                                  check_exact=False, atol=1e-9, rtol=0)
    key = ["journey_id", "position"]
    pd.testing.assert_frame_equal(credits.sort_values(key).reset_index(drop=True),
                                  touch_credits(shuffled, model).sort_values(key).reset_index(drop=True),
                                  check_exact=False, atol=1e-12, rtol=0)


def test_rule_based_sorted_by_conversions_then_name(random_paths):
    out = rule_based(random_paths, "w_shaped", by="campaign")
    keys = list(zip(-out["conversions"].round(9), out["campaign"]))
    assert keys == sorted(keys)
    assert out["conversions"].sum() == pytest.approx(((random_paths["converted"] == 1)
                                                      & (random_paths["path"].map(len) > 0)).sum(), abs=1e-9)


# 5. errors
@pytest.mark.parametrize("kwargs, message", [
    ({"model": "linaer"}, r"model must be one of first, last, linear, time_decay, u_shaped, w_shaped, full_path; "
                          r"got 'linaer' \(did you mean 'linear'\?\)"),
    ({"model": "w-shaped"}, r"did you mean 'w_shaped'"),
    ({"u_weights": (-0.1, 0.4)}, r"u_weights must be 2 numbers >= 0 summing to at most 1; got \(-0.1, 0.4\)"),
    ({"w_weights": (0.5, 0.5, 0.5)}, r"w_weights must be 3 numbers >= 0 summing to at most 1; got \(0.5, 0.5, 0.5\) "
                                     r"\(they sum to 1.5\)"),
    ({"full_path_weights": (0.25, 0.25, 0.25)}, r"full_path_weights must be 4 numbers >= 0 summing to at most 1; "
                                                r"got \(0.25, 0.25, 0.25\)"),
    ({"w_weights": 0.3}, r"w_weights must be 3 numbers >= 0 summing to at most 1; got 0.3"),
    ({"u_weights": ("0.4", 0.4)}, r"u_weights must be 2 numbers >= 0"),
    ({"half_life_days": 0}, r"half_life_days must be a number of days > 0; got 0"),
    ({"by": "campaigns"}, r"by must be one of channel, campaign; got 'campaigns' \(did you mean 'campaign'\?\)"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        rule_based(_small(), **kwargs)
    kwargs.pop("by", None)
    if kwargs:
        with pytest.raises(ParameterError, match=message):
            touch_credits(_small(), **kwargs)


def test_bad_paths():
    with pytest.raises(ParameterError, match=r"paths is missing the column\(s\) 'lead_touch'; attribution needs a "
                                             r"frame of journeylib.attribution.conversion_paths"):
        rule_based(_small().drop(columns="lead_touch"))
    with pytest.raises(ParameterError, match="paths must be a DataFrame of journeylib.attribution.conversion_paths; "
                                             "got 'dict'"):
        touch_credits({"path": []})
    with pytest.raises(ParameterError, match=r"paths has 1 duplicated journey_id\(s\), e.g. 'J1'"):
        rule_based(pd.concat([_small(), _small().iloc[:1]]))
    bad = _small()
    bad.loc[0, "lead_touch"] = 3
    with pytest.raises(ParameterError, match=r"lead_touch must be -1 or an index into path; 1 journey\(s\) are not, "
                                             r"e.g. 'J1' with 3 for a path of 3 touches"):
        touch_credits(bad, "w_shaped")
    bad = _small()
    bad.at[3, "campaigns"] = ("c1",)
    with pytest.raises(ParameterError, match=r"campaigns must have as many items as path; 1 journey\(s\) do not, "
                                             r"e.g. 'J4' \(1 vs 2\)"):
        rule_based(bad, by="campaign")
    bad = _small()
    bad.at[0, "touch_times"] = (pd.NaT,) + bad.at[0, "touch_times"][1:]
    with pytest.raises(ParameterError, match="touch_times has missing times; time_decay needs every touch's time"):
        rule_based(bad, "time_decay")
