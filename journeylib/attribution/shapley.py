"""Shapley-value attribution, and bootstrap intervals for any model's credit.

**Shapley.** Channels are players; a coalition S of channels is worth v(S), the conversions
(or value) of the journeys whose *set* of channels lies inside S. Under that game the Shapley
value has a closed form (Zhao, Mahboobi & Bagheri 2018, "Shapley value methods for attribution
modeling in online advertising"): every converting journey's conversion is split equally among
the distinct channels it touched,

    phi_j = sum over channel sets S containing j of R(S) / |S|,

with R(S) the conversions of journeys whose channel set is exactly S. It needs no enumeration
of coalitions, so it works for any number of channels; the tests compare it with the Shapley
value computed from every permutation on small games.

**Intervals.** :func:`credit_intervals` resamples the journeys with replacement and recomputes a
model's credit per channel (rule models, Markov, Shapley), for a percentile interval.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_int, check_share
from ..errors import ParameterError

__all__ = ["shapley", "credit_intervals"]


def shapley(paths: pd.DataFrame) -> pd.DataFrame:
    """Simplified Shapley credit per channel (module docstring).

    Returns
    -------
    DataFrame
        ``channel``, ``conversions`` (sums to the converting journeys with a touch),
        ``value`` (sums to their value), ``share``; sorted by conversions, then channel.
    """
    need = [c for c in ("path", "converted", "value") if c not in paths.columns]
    if need:
        raise ParameterError(f"paths lacks column(s) {need}; give the result of attribution.conversion_paths")
    conv = paths[(paths["converted"] == 1) & (paths["path"].map(len) > 0)]
    sets = conv["path"].map(lambda p: tuple(sorted(set(p))))
    parts = pd.DataFrame({"channel": sets, "size": sets.map(len), "value": conv["value"].astype(float)})
    parts = parts.explode("channel")
    g = parts.assign(conversions=1.0 / parts["size"], value=parts["value"] / parts["size"]).groupby("channel")
    out = pd.DataFrame({"conversions": g["conversions"].sum(), "value": g["value"].sum()}).reset_index()
    total = out["conversions"].sum()
    out["share"] = out["conversions"] / total if total else 0.0
    return out.sort_values(["conversions", "channel"], ascending=[False, True], kind="stable").reset_index(drop=True)


def credit_intervals(paths: pd.DataFrame, model: str = "linear", *, n_boot: int = 200, interval: float = 0.95,
                     random_state: int = 0, **weights: Any) -> pd.DataFrame:
    """A model's credit per channel with a bootstrap interval over journeys.

    Parameters
    ----------
    paths : DataFrame
        :func:`~journeylib.attribution.conversion_paths`.
    model : str
        A rule model, ``"markov"`` or ``"shapley"``.
    n_boot, interval, random_state
        Resamples, interval width and seed (same seed: same interval).
    **weights
        Passed to the rule models.

    Returns
    -------
    DataFrame
        ``channel``, ``conversions``, ``conversions_low``, ``conversions_high``, ``value``,
        ``value_low``, ``value_high``; a channel absent from a resample counts 0 there.
    """
    from .compare import ALL_MODELS, compare_models

    model = check_choice(model, "model", (*ALL_MODELS, "shapley"))
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    interval = check_share(interval, "interval", low_open=True, high_open=True)
    rng = np.random.default_rng(check_int(random_state, "random_state", minimum=0))

    def credit(frame: pd.DataFrame) -> pd.DataFrame:
        if model == "shapley":
            return shapley(frame)[["channel", "conversions", "value"]]
        return compare_models(frame, [model], **weights)[["channel", "conversions", "value"]]

    base = credit(paths).set_index("channel")
    draws_c, draws_v = [], []
    for _ in range(n_boot):
        sample = paths.iloc[rng.integers(0, len(paths), len(paths))]
        sample = sample.assign(journey_id=[f"{j}#{i}" for i, j in enumerate(sample["journey_id"])])
        c = credit(sample).set_index("channel").reindex(base.index).fillna(0.0)
        draws_c.append(c["conversions"].to_numpy())
        draws_v.append(c["value"].to_numpy())
    tail = (1 - interval) / 2
    lo_c, hi_c = np.quantile(np.array(draws_c), [tail, 1 - tail], axis=0)
    lo_v, hi_v = np.quantile(np.array(draws_v), [tail, 1 - tail], axis=0)
    out = pd.DataFrame({"channel": base.index, "conversions": base["conversions"].to_numpy(),
                        "conversions_low": lo_c, "conversions_high": hi_c, "value": base["value"].to_numpy(),
                        "value_low": lo_v, "value_high": hi_v})
    out.attrs.update(model=model, n_boot=n_boot, interval=interval)
    return out
