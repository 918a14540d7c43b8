"""attribution.channel_lift: effects recovered from a known logistic model and from the generator's planted ones."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from journeylib import attribution
from journeylib.errors import ParameterError

EFFECTS = {"event": 1.0, "partner": 0.6, "email": 0.2, "web": 0.0, "display": -0.5}


def _paths(n=6000, seed=1, decided_share=1.0):
    """Journeys exposed to each channel with probability 0.4, converting with logit -0.3 + sum of the effects."""
    rng = np.random.default_rng(seed)
    chans = list(EFFECTS)
    exposed = rng.random((n, len(chans))) < 0.4
    logit = -0.3 + exposed @ np.array([EFFECTS[c] for c in chans])
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    paths = [tuple(c for c, e in zip(chans, row) if e) or ("web",) for row in exposed]
    return pd.DataFrame({"journey_id": [f"J{i}" for i in range(n)], "account_id": [f"A{i}" for i in range(n)],
                         "path": paths, "converted": converted, "decided": rng.random(n) < decided_share})


def test_a_known_logistic_model_is_recovered_within_its_intervals():
    lift = attribution.channel_lift(_paths(), n_boot=100).set_index("channel")
    assert list(lift.index) == ["event", "partner", "email", "web", "display"]  # the planted order
    for channel, effect in EFFECTS.items():
        row = lift.loc[channel]
        assert row["ci_low"] <= effect <= row["ci_high"], (channel, row["ci_low"], row["ci_high"])
    assert lift.loc["event", "significant"] and lift.loc["display", "significant"]
    assert lift.loc["event", "odds_ratio"] == pytest.approx(np.exp(lift.loc["event", "coefficient"]))
    assert lift.attrs["journeys"] == 6000


def test_only_decided_journeys_count_and_a_seed_reproduces_the_intervals():
    paths = _paths(decided_share=0.5)
    a = attribution.channel_lift(paths, n_boot=20, random_state=3)
    b = attribution.channel_lift(paths.sample(frac=1, random_state=2), n_boot=20, random_state=3)
    assert a.attrs["journeys"] == int(paths["decided"].sum())
    pd.testing.assert_frame_equal(a[["channel", "coefficient"]], b[["channel", "coefficient"]], atol=1e-6)
    again = attribution.channel_lift(paths, n_boot=20, random_state=3)
    pd.testing.assert_frame_equal(a, again)


def test_without_both_outcomes_the_result_is_empty_with_a_note():
    paths = _paths(200).assign(converted=1)
    out = attribution.channel_lift(paths)
    assert out.empty and "needs converted and not converted journeys" in out.attrs["note"]
    with pytest.raises(ParameterError, match="paths lacks column"):
        attribution.channel_lift(paths.drop(columns="decided"))
    with pytest.raises(ParameterError, match=r"interval must be a share in \(0, 1\); got 1.5"):
        attribution.channel_lift(_paths(200), interval=1.5)


@pytest.mark.slow
def test_the_generators_planted_channel_effects_are_recovered_in_rank(tmp_path):
    """20,000 synthetic accounts; the first deals of the standard accounts (scenario deals have planted outcomes,
    not drawn from the channel model): Spearman of the estimated and planted effects >= 0.8."""
    from scipy.stats import spearmanr

    import journeylib
    from journeylib import synth

    synth.write(synth.generate(20000, seed=3), tmp_path / "s", format="parquet")
    data = journeylib.load(tmp_path / "s", as_of="2026-10-31")
    paths = attribution.conversion_paths(data, level="opportunity", lookback_days=3650)
    created = data.opportunities.set_index("opportunity_id")["created_at"]
    first = paths.assign(_c=paths["journey_id"].map(created)).sort_values("_c").drop_duplicates("account_id")
    scenario = pd.read_csv(tmp_path / "s" / "truth" / "scenarios.csv", dtype=str).set_index("account_id")["scenario"]
    standard = first[first["account_id"].map(scenario).eq("standard").to_numpy()]
    assert len(standard) > 9000
    lift = attribution.channel_lift(standard, n_boot=50).set_index("channel")
    truth = json.loads((tmp_path / "s" / "truth" / "channel_effects.json").read_text())
    common = [c for c in lift.index if c in truth]
    assert len(common) >= 11
    rho = spearmanr(lift.loc[common, "coefficient"], [truth[c] for c in common])[0]
    assert rho >= 0.8, (rho, lift["coefficient"].round(2).to_dict())


def test_excluded_channels_are_left_out_of_the_model():
    out = attribution.channel_lift(_paths(2000), exclude=["display", "nope"], n_boot=0)
    assert "display" not in set(out["channel"]) and out.attrs["excluded"] == ["display", "nope"]
    assert out["ci_low"].isna().all()  # no bootstrap asked


# ----------------------------------------------------------------------------- what-if
def _true_change(paths, channel, scale):
    """The counterfactual under the planted model itself (not the fitted one)."""
    chans = list(EFFECTS)
    X = np.array([[c in set(p) for c in chans] for p in paths["path"]], dtype=float)
    j = chans.index(channel)

    def prob(M):
        return 1 / (1 + np.exp(-(-0.3 + M @ np.array([EFFECTS[c] for c in chans]))))

    exposed = X[:, j] > 0
    if scale <= 1:
        off = X[exposed].copy()
        off[:, j] = 0
        return (1 - scale) * (prob(off) - prob(X[exposed])).sum()
    share = min(1.0, (scale - 1) * exposed.sum() / (~exposed).sum())
    on = X[~exposed].copy()
    on[:, j] = 1
    return share * (prob(on) - prob(X[~exposed])).sum()


@pytest.mark.parametrize("channel, scale", [("event", 0.0), ("display", 0.0), ("partner", 1.5), ("event", 0.5)])
def test_what_if_recovers_the_planted_counterfactual_within_its_interval(channel, scale):
    paths = _paths(6000).assign(value=2.0)
    out = attribution.what_if(paths, channel, scale, n_boot=60).iloc[0]
    truth = _true_change(paths, channel, scale)
    assert out["ci_low"] <= truth <= out["ci_high"], (out.to_dict(), truth)
    assert np.sign(out["expected_change"]) == np.sign(truth)  # removing a good channel loses conversions
    assert out["value_change"] == pytest.approx(2.0 * out["expected_change"])  # every conversion is worth 2
    assert out["journeys"] == 6000 and out["conversions"] == int(paths["converted"].sum())


def test_what_if_without_change_is_zero_and_an_unknown_channel_is_named():
    paths = _paths(1000).assign(value=1.0)
    assert attribution.what_if(paths, "email", 1.0, n_boot=0).iloc[0]["expected_change"] == 0.0
    with pytest.raises(ParameterError, match=r"channel 'evnt' is not among the channels of the lift model "
                                             r"\(did you mean 'event'\?\)"):
        attribution.what_if(paths, "evnt")
    with pytest.raises(ParameterError, match="scale must be a multiple of the journeys the channel reaches >= 0"):
        attribution.what_if(paths, "event", -1)


def test_a_campaign_what_if_removes_its_channel_only_where_no_other_touch_of_it_is_left():
    base = _paths(4000).assign(value=1.0)
    rng = np.random.default_rng(7)
    paths, campaigns = [], []
    for p in base["path"]:
        path, camp = [], []
        for c in p:
            if c == "event":  # one or two event touches: Summit, Roadshow, or both
                kind = rng.integers(3)
                for name in (["Summit"], ["Roadshow"], ["Summit", "Roadshow"])[kind]:
                    path.append("event")
                    camp.append(name)
            else:
                path.append(c)
                camp.append(f"{c} always-on")
        paths.append(tuple(path))
        campaigns.append(tuple(camp))
    data = base.assign(path=paths, campaigns=campaigns)
    # a channel's only campaign is the channel itself
    alone = attribution.what_if(data, campaign="display always-on", n_boot=20).iloc[0]
    channel = attribution.what_if(data, "display", n_boot=20).iloc[0]
    assert (alone["channel"], alone["campaign"]) == ("display", "display always-on")
    assert alone[["expected_change", "ci_low", "ci_high"]].tolist() == pytest.approx(
        channel[["expected_change", "ci_low", "ci_high"]].tolist(), abs=1e-9)
    # Summit: its journeys without a Roadshow touch lose the event channel; the others keep it
    summit = attribution.what_if(data, campaign="Summit", n_boot=0).iloc[0]
    only_summit = np.array([set(c) == {"Summit"} or ("Summit" in c and "Roadshow" not in c) for c in campaigns])
    exposed = np.array(["event" in p for p in paths])
    assert summit["expected_change"] < 0
    share = only_summit.sum() / exposed.sum()
    event = attribution.what_if(data, "event", n_boot=0).iloc[0]
    # removing Summit takes the event channel from a subset of the event journeys (a third of them), so it costs
    # about that share of removing the channel
    assert event["expected_change"] < summit["expected_change"]
    assert summit["expected_change"] == pytest.approx(event["expected_change"] * share, rel=0.15)
    with pytest.raises(ParameterError, match="campaign 'Sumit' has no touch in a decided journey"):
        attribution.what_if(data, campaign="Sumit")
    with pytest.raises(ParameterError, match="what_if needs a channel or a campaign"):
        attribution.what_if(data, "event", campaign="Summit")


def test_bootstrap_fits_of_distinct_rows_weighted_by_draws_equal_fits_of_the_drawn_rows():
    from sklearn.linear_model import LogisticRegression

    from journeylib.attribution.lift import _bootstrap

    rng = np.random.default_rng(3)
    X = (rng.random((600, 4)) < [0.5, 0.3, 0.2, 0.6]).astype(float)
    y = (rng.random(600) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.8, 0.0] - 0.3)))).astype(int)
    low, high = _bootstrap(X, y, 10.0, 30, 0.9, 5, lambda model: model.coef_[0], None)
    draws, rows = [], np.random.default_rng(5)  # the same resamples, each fitted row by row
    for _ in range(30):
        idx = rows.integers(0, len(y), len(y))
        draws.append(LogisticRegression(C=10.0, max_iter=5000).fit(X[idx], y[idx]).coef_[0])
    expected = np.quantile(np.array(draws), [0.05, 0.95], axis=0)
    np.testing.assert_allclose(low, expected[0], rtol=1e-6)
    np.testing.assert_allclose(high, expected[1], rtol=1e-6)
