"""Every attribution model on the same journeys, side by side, with bootstrap intervals, and the sentences a CMO
needs."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_int, check_share
from .markov_chain import markov
from .rules import MODELS as RULE_MODELS
from .rules import rule_based
from .shapley import shapley

__all__ = ["compare_models", "credit_intervals", "ALL_MODELS", "pipeline_sentences"]

ALL_MODELS = (*RULE_MODELS, "markov", "shapley")


def compare_models(paths: pd.DataFrame, models: Sequence[str] | None = None, **weights: Any) -> pd.DataFrame:
    """Credited conversions and value per channel under each model (long: one row per model and channel).

    Parameters
    ----------
    paths : DataFrame
        :func:`~journeylib.attribution.conversion_paths`.
    models : list of str, optional
        Among :data:`ALL_MODELS` (default: all); ``"markov"`` is the first-order removal effect,
        ``"shapley"`` the simplified Shapley value.
    **weights
        Passed to :func:`~journeylib.attribution.rule_based` (e.g. ``half_life_days``).

    Returns
    -------
    DataFrame
        ``model``, ``channel``, ``conversions``, ``value``, ``share`` (of the model's
        conversions), in the order of ``models``, channels by credit.
    """
    chosen = [check_choice(m, "models", ALL_MODELS) for m in (models or ALL_MODELS)]
    parts = []
    for model in chosen:
        if model == "markov":
            m = markov(paths)
            part = pd.DataFrame({"channel": m["channel"], "conversions": m["credit"], "value": m["value_credit"]})
        elif model == "shapley":
            part = shapley(paths)[["channel", "conversions", "value"]]
        else:
            r = rule_based(paths, model, **weights)
            part = r[["channel", "conversions", "value"]]
        total = part["conversions"].sum()
        parts.append(part.assign(model=model, share=part["conversions"] / total if total else 0.0))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["model", "channel", "conversions", "value", "share"])
    return out[["model", "channel", "conversions", "value", "share"]]


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
    model = check_choice(model, "model", ALL_MODELS)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    interval = check_share(interval, "interval", low_open=True, high_open=True)
    rng = np.random.default_rng(check_int(random_state, "random_state", minimum=0))

    def credit(frame: pd.DataFrame) -> pd.DataFrame:
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


def pipeline_sentences(credits: pd.DataFrame, lift: pd.DataFrame, *, model: str, currency: str = "USD") -> list[str]:
    """Two or three plain sentences: where won revenue comes from under ``model``, how much the models agree,
    and which channels raise the odds of winning."""
    out = []
    part = credits[credits["model"] == model].sort_values("value", ascending=False)
    total = float(part["value"].sum())
    if total > 0 and len(part) >= 2:
        top = part.head(2)
        share = float(top["value"].sum()) / total
        out.append(f"{share:.0%} of won revenue ({total:,.0f} {currency}) is credited to {top['channel'].iloc[0]} "
                   f"and {top['channel'].iloc[1]} ({model.replace('_', '-')} attribution).")
    leaders = credits.loc[credits.groupby("model")["conversions"].idxmax(), "channel"]
    if len(leaders):
        common = leaders.value_counts()
        out.append(f"{common.index[0]} leads under {int(common.iloc[0])} of {len(leaders)} models"
                   + ("." if common.iloc[0] == len(leaders) else "; the models disagree on the rest, so read the "
                                                                 "credit as a range, not a number."))
    raising = lift[lift["significant"] & (lift["coefficient"] > 0)]["channel"].tolist()
    lowering = lift[lift["significant"] & (lift["coefficient"] < 0)]["channel"].tolist()
    if raising:
        out.append(f"Accounts touched by {', '.join(raising[:3])} win more often, other channels held equal"
                   + (f"; {', '.join(lowering[:2])} {'go' if len(lowering[:2]) > 1 else 'goes'} with lower win rates."
                      if lowering else "."))
    return out
