"""Channel lift: each channel's effect on conversion, estimated from the data rather than by a rule.

Attribution rules share credit among touches; they do not say whether a channel changes the
outcome. :func:`channel_lift` fits a regularised logistic regression of the journey's outcome
on its exposure (1 when the journey touched the channel before its conversion or close) and
optional covariates (segment, size band, persona...), over the journeys whose outcome is
known (``decided``). A channel's coefficient is its log-odds effect, holding the other
channels fixed; intervals come from a bootstrap over journeys.

This is an observational estimate: a channel used mostly by accounts that win anyway (a
persona, a segment) looks better than it is unless that is in the covariates. On the
synthetic data, whose win model is ``logit P(won) = persona intercept + sum of the touched
channels' effects``, the estimated ranks follow the planted effects (tests).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int, check_names, check_number, check_share
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID

__all__ = ["channel_lift", "exposure_matrix", "what_if", "LIFT_COLUMNS"]

LIFT_COLUMNS = ("channel", "journeys_exposed", "conversion_rate_exposed", "conversion_rate_unexposed", "coefficient",
                "odds_ratio", "ci_low", "ci_high", "significant")


def exposure_matrix(paths: pd.DataFrame) -> pd.DataFrame:
    """Journeys x channels: 1 when the journey's path holds the channel (index: journey_id)."""
    exploded = paths[["journey_id", "path"]].explode("path").dropna(subset=["path"])
    table = pd.crosstab(exploded["journey_id"], exploded["path"]).clip(upper=1)
    table = table.reindex(paths["journey_id"], fill_value=0)
    table.columns.name = None
    return table.astype(np.int8)


def _fit(X: np.ndarray, y: np.ndarray, C: float, weights: np.ndarray | None = None):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=5000).fit(X, y, sample_weight=weights)


def _bootstrap(X: np.ndarray, y: np.ndarray, C: float, n_boot: int, interval: float, random_state: int, statistic,
               missing):
    """Percentile interval of ``statistic(model)`` over models refitted on resampled journeys (``missing`` when
    ``n_boot`` is 0); resamples with a single outcome are skipped.

    A resample is fitted on its distinct (row, outcome) pairs, weighted by how often it drew them: the same
    penalised likelihood as the drawn rows (scikit-learn weighs the penalty by the weights' sum, the rows
    drawn), on a few hundred rows instead of every journey.
    """
    if not n_boot:
        return missing, missing
    distinct, pattern = np.unique(np.column_stack([X, y]), axis=0, return_inverse=True)
    pattern = pattern.ravel()
    rng = np.random.default_rng(random_state)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) == 2:
            drawn = np.bincount(pattern[idx], minlength=len(distinct))
            rows = drawn > 0
            draws.append(statistic(_fit(distinct[rows, :-1], distinct[rows, -1].astype(int), C,
                                        drawn[rows].astype(float))))
    tail = (1 - interval) / 2
    low, high = np.quantile(np.array(draws), [tail, 1 - tail], axis=0)
    return low, high


def _design(paths: pd.DataFrame, covariates: pd.DataFrame | None, exclude: Any) -> tuple:
    """(used journeys, X, y, channels, excluded): the decided journeys with a touch, exposure then covariates."""
    need = [c for c in ("journey_id", ACCOUNT_ID, "path", "converted", "decided") if c not in paths.columns]
    if need:
        raise ParameterError(f"paths lacks column(s) {need}; give the result of attribution.conversion_paths")
    used = paths[paths["decided"].astype(bool) & (paths["path"].map(len) > 0)]
    y = used["converted"].to_numpy(dtype=int)
    dropped = check_names(exclude, "exclude") or []
    exposure = exposure_matrix(used)
    exposure = exposure.drop(columns=[c for c in dropped if c in exposure.columns])
    X = exposure.to_numpy(dtype=float)
    if covariates is not None:
        if not isinstance(covariates, pd.DataFrame):
            raise ParameterError("covariates must be a DataFrame indexed by account_id; "
                                 f"got {type(covariates).__name__}")
        cov = covariates.reindex(used[ACCOUNT_ID].astype(str).to_numpy())
        cov = pd.get_dummies(cov, dummy_na=True, dtype=float).fillna(0.0)
        X = np.hstack([X, cov.to_numpy(dtype=float)])
    return used, X, y, list(exposure.columns), dropped


def channel_lift(paths: pd.DataFrame, *, covariates: pd.DataFrame | None = None, exclude: Any = None,
                 C: float = 10.0, n_boot: int = 200, interval: float = 0.95, random_state: int = 0) -> pd.DataFrame:
    """Each channel's effect on conversion (log-odds), with a bootstrap interval.

    Parameters
    ----------
    paths : DataFrame
        :func:`~journeylib.attribution.conversion_paths`; journeys with ``decided`` true
        and a non-empty path are used (the others' outcome is unknown or they saw no channel).
    covariates : DataFrame, optional
        Indexed by ``account_id``: columns to hold fixed (text columns are one-hot encoded,
        numbers used as they are), e.g. industry, a size band or a persona.
    exclude : str or list of str, optional
        Channels left out of the model, e.g. ``"sales"``: touches a deal gets *because* it
        progresses (proposals, negotiations) would otherwise look like causes of winning.
    C : float, default 10
        Inverse L2 regularisation strength of the logistic regression (larger: weaker).
    n_boot : int, default 200
        Bootstrap resamples of the journeys (0: no interval).
    interval : float, default 0.95
        Width of the percentile interval.
    random_state : int
        Seed of the bootstrap (same seed and data: same numbers).

    Returns
    -------
    DataFrame
        :data:`LIFT_COLUMNS`, sorted by coefficient (largest first): journeys exposed,
        conversion rate of exposed and unexposed journeys, ``coefficient`` (log-odds
        effect), ``odds_ratio``, ``ci_low``/``ci_high`` (of the coefficient) and
        ``significant`` (the interval excludes 0). ``attrs`` holds ``journeys``,
        ``conversion_rate``, ``C``, ``n_boot``, ``interval`` and ``note``.
    """
    C = check_number(C, "C", minimum=0, low_open=True)
    n_boot = check_int(n_boot, "n_boot", minimum=0)
    interval = check_share(interval, "interval", low_open=True, high_open=True)
    random_state = check_int(random_state, "random_state", minimum=0)
    used, X, y, channels, dropped = _design(paths, covariates, exclude)
    empty = pd.DataFrame({c: pd.Series(dtype=object if c == "channel" else float) for c in LIFT_COLUMNS})
    if len(np.unique(y)) < 2:
        empty.attrs.update(journeys=len(used), note="channel lift needs converted and not converted journeys with a "
                                                     f"known outcome; found {int(y.sum())} of {len(y)} converted")
        return empty
    k = len(channels)
    coef = _fit(X, y, C).coef_[0][:k]
    lows, highs = _bootstrap(X, y, C, n_boot, interval, random_state, lambda model: model.coef_[0][:k],
                             np.full(k, np.nan))
    exposed = X[:, :k] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_in = (exposed * y[:, None]).sum(axis=0) / exposed.sum(axis=0)
        rate_out = ((~exposed) * y[:, None]).sum(axis=0) / (~exposed).sum(axis=0)
    out = pd.DataFrame({"channel": channels, "journeys_exposed": exposed.sum(axis=0).astype(np.int64),
                        "conversion_rate_exposed": rate_in, "conversion_rate_unexposed": rate_out,
                        "coefficient": coef, "odds_ratio": np.exp(coef), "ci_low": lows, "ci_high": highs})
    out["significant"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    out = out.sort_values(["coefficient", "channel"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs.update(journeys=len(y), conversion_rate=float(y.mean()), C=C, n_boot=n_boot, interval=interval,
                     excluded=dropped, note="")
    return out


def _change(model, X: np.ndarray, without: np.ndarray, with_: np.ndarray, reached: np.ndarray, scale: float) -> float:
    """Expected change in conversions when a channel's (or campaign's) reach is scaled by ``scale``.

    Below 1, a ``1 - scale`` share of the ``reached`` journeys lose it (their exposure becomes
    ``without``); above 1, ``scale - 1`` times as many unreached journeys gain it (``with_``).
    """
    p = model.predict_proba(X)[:, 1]
    if scale <= 1:
        if not reached.any():
            return 0.0
        return float((1 - scale) * (model.predict_proba(without[reached])[:, 1] - p[reached]).sum())
    if reached.all():
        return 0.0
    share = min(1.0, (scale - 1) * reached.sum() / (~reached).sum())
    return float(share * (model.predict_proba(with_[~reached])[:, 1] - p[~reached]).sum())


def _reach(used: pd.DataFrame, X: np.ndarray, channels: list[str], channel: str | None, campaign: str | None) \
        -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(without, with, reached, channel name) of a channel, or of a campaign: its touches removed or added."""
    if campaign is None:
        if channel not in channels:
            raise ParameterError(f"channel {channel!r} is not among the channels of the lift model"
                                 f"{did_you_mean(str(channel), channels)}; channels: {', '.join(channels)}")
        j = channels.index(channel)
        without, with_ = X.copy(), X.copy()
        without[:, j], with_[:, j] = 0.0, 1.0
        return without, with_, X[:, j] > 0, channel
    if "campaigns" not in used.columns:
        raise ParameterError("paths lacks column 'campaigns'; give the result of attribution.conversion_paths")
    touches = used[["journey_id", "path", "campaigns"]].explode(["path", "campaigns"])
    mine = touches["campaigns"].eq(campaign).fillna(False).to_numpy(dtype=bool)
    own = sorted(touches.loc[mine, "path"].dropna().unique())
    if not own:
        known = sorted(touches["campaigns"].dropna().astype(str).unique())
        raise ParameterError(f"campaign {campaign!r} has no touch in a decided journey{did_you_mean(campaign, known)}")
    outside = [c for c in own if c not in channels]
    if outside:
        raise ParameterError(f"campaign {campaign!r} runs on {', '.join(outside)}, outside the lift model "
                             f"(excluded?); its channels must be among: {', '.join(channels)}")
    kept = touches[~mine].groupby("journey_id", sort=False)["path"].agg(lambda p: tuple(p.dropna()))
    rest = used[["journey_id"]].assign(path=used["journey_id"].map(kept).apply(lambda p: p if isinstance(p, tuple)
                                                                                 else ()))
    without = exposure_matrix(rest).reindex(columns=channels, fill_value=0).to_numpy(dtype=float)
    without = np.hstack([without, X[:, len(channels):]])  # covariates unchanged
    with_ = X.copy()
    with_[:, [channels.index(c) for c in own]] = 1.0
    reached = used["journey_id"].isin(touches.loc[mine, "journey_id"]).to_numpy()
    return without, with_, reached, ", ".join(own)


def what_if(paths: pd.DataFrame, channel: str | None = None, scale: float = 0.0, *, campaign: str | None = None,
            covariates: pd.DataFrame | None = None, exclude: Any = None, C: float = 10.0, n_boot: int = 200,
            interval: float = 0.95, random_state: int = 0) -> pd.DataFrame:
    """Expected change in conversions and value if a channel (or a campaign) reached ``scale`` times as many journeys.

    The :func:`channel_lift` model predicts every decided journey's conversion with and without
    the channel. ``scale < 1`` takes the channel away from a ``1 - scale`` share of the journeys
    it reached (``0``: removed); ``scale > 1`` adds it to unexposed journeys, ``scale - 1`` times
    as many as it reached (at most all of them). A ``campaign`` instead of a channel: removing it
    takes away its touches, so a journey loses the campaign's channel only when no other touch of
    that channel is left; scaling it up gives unreached journeys its channel. Value changes by
    the average value of a conversion. The interval comes from refitting on bootstrap resamples
    of the journeys. Observational, like the lift: read it as "what the data suggest", not an
    experiment.

    Returns
    -------
    DataFrame
        One row: ``channel`` (the campaign's channels for a campaign), ``campaign`` (None for a
        channel), ``scale``, ``journeys``, ``conversions`` (observed), ``expected_change``
        (conversions), ``ci_low``, ``ci_high``, ``value_change``, ``value_ci_low``, ``value_ci_high``.
    """
    scale = check_number(scale, "scale", minimum=0, what="a multiple of the journeys the channel reaches")
    C = check_number(C, "C", minimum=0, low_open=True)
    n_boot = check_int(n_boot, "n_boot", minimum=0)
    interval = check_share(interval, "interval", low_open=True, high_open=True)
    random_state = check_int(random_state, "random_state", minimum=0)
    if (channel is None) == (campaign is None):
        raise ParameterError("what_if needs a channel or a campaign (one of them)")
    used, X, y, channels, _ = _design(paths, covariates, exclude)
    without, with_, reached, name = _reach(used, X, channels, channel, campaign)
    if len(np.unique(y)) < 2:
        raise ParameterError("what_if needs converted and not converted journeys with a known outcome")
    per_conversion = float(used.loc[used["converted"] == 1, "value"].mean()) if "value" in used else 0.0

    def change_of(model):
        return _change(model, X, without, with_, reached, scale)

    change = change_of(_fit(X, y, C))
    low, high = _bootstrap(X, y, C, n_boot, interval, random_state, change_of, np.nan)
    return pd.DataFrame([{"channel": name, "campaign": campaign, "scale": scale, "journeys": len(y),
                          "conversions": int(y.sum()), "expected_change": change, "ci_low": low, "ci_high": high,
                          "value_change": change * per_conversion, "value_ci_low": low * per_conversion,
                          "value_ci_high": high * per_conversion}])
