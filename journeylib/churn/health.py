"""Account health score (0-100) from named components, and expansion signals.

The health score is the rule-based, no-model view of an account: five components,
each 0-100, combined with visible, editable weights. It takes the snapshot features
of :mod:`journeylib.churn` (one row per account and snapshot) and needs no training.
(:mod:`journeylib.health` is about the *data's* health, not the accounts'.)

==========  ==================================================================================
component   definition (features of :data:`journeylib.churn.FEATURES`)
==========  ==================================================================================
usage       100 x min(seat_utilisation, 1) x exp(min(active_users_trend, 0)): seat use
            (over-use counts as full), discounted by a fall in weekly active users
adoption    100 x min(feature_breadth_90d / breadth_target, 1): breadth of product use
support     100 - 15 x high/urgent tickets (90 days) - 5 x other tickets (90 days)
            - 10 x open tickets, clipped to [0, 100]
sentiment   10 x latest NPS (0-10); without NPS, 25 x (latest CSAT - 1) (1-5)
engagement  50 if the economic buyer was engaged in 180 days, + 30 if a champion was active
            in the last 60 days, + 20 x min(contacts engaged in 90 days / 3, 1)
==========  ==================================================================================

``health = sum(w_k x component_k) / sum(w_k)`` over the components an account has (a
missing component, e.g. no survey answered, gives its weight to the others).
Bands: ``healthy`` (>= 70), ``watch`` (>= 40), ``at_risk`` (< 40).

**Expansion signals** (:func:`expansion_signals`, :func:`expansion_list`): seats near
or over the purchased number, new departments active, broad adoption, growing usage,
good health, an expansion already in the pipeline; each is a 0/1 signal with its
evidence in words, combined with editable weights.

Examples
--------
>>> from journeylib.churn import health_score, DEFAULT_HEALTH_WEIGHTS
>>> import pandas as pd
>>> f = pd.DataFrame({"account_id": ["A1"], "seat_utilisation": [0.8], "active_users_trend": [0.0],
...                   "feature_breadth_90d": [2.0], "tickets_90d": [1.0], "high_priority_tickets_90d": [1.0],
...                   "open_tickets": [0.0], "nps_latest": [9.0], "csat_latest": [float("nan")],
...                   "exec_engaged_180d": [1.0], "champion_quiet_days": [10.0], "contacts_engaged_90d": [3.0]})
>>> health_score(f)[["usage", "adoption", "support", "sentiment", "engagement", "health"]].round(1).iloc[0].tolist()
[80.0, 50.0, 85.0, 90.0, 100.0, 81.5]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_number, fail
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, TABLES

__all__ = ["HEALTH_COMPONENTS", "DEFAULT_HEALTH_WEIGHTS", "HEALTH_BANDS", "check_weights", "parse_weights",
           "health_score",
           "EXPANSION_SIGNALS", "DEFAULT_EXPANSION_WEIGHTS", "expansion_signals", "expansion_list",
           "EXPANSION_LIST_COLUMNS"]

#: Components of the health score and what each measures.
HEALTH_COMPONENTS: dict[str, str] = {
    "usage": "seat use, discounted by a fall in active users",
    "adoption": "breadth of product features in use",
    "support": "ticket load: high/urgent, other and open tickets",
    "sentiment": "latest NPS (or CSAT without NPS)",
    "engagement": "economic buyer, champion and committee engagement",
}
#: Default weights (editable: pass ``weights=`` with any subset; they are normalised).
DEFAULT_HEALTH_WEIGHTS: dict[str, float] = {"usage": 0.30, "adoption": 0.15, "support": 0.20, "sentiment": 0.20,
                                            "engagement": 0.15}
#: Lower bounds of the bands, best first.
HEALTH_BANDS: tuple[tuple[str, float], ...] = (("healthy", 70.0), ("watch", 40.0), ("at_risk", -np.inf))

#: Expansion signals and what each says.
EXPANSION_SIGNALS: dict[str, str] = {
    "seats_near_limit": "seats used near or over the purchased number",
    "new_departments": "a department new to the account became active in 90 days",
    "broad_adoption": "many product features in regular use",
    "usage_growth": "weekly active users growing, after the first 180 days (not the onboarding ramp)",
    "healthy": "health score in the healthy band",
    "in_pipeline": "an expansion opportunity is already open",
}
_NAME, _OWNER = TABLES["accounts"].column("name").name, TABLES["accounts"].column("owner").name
DEFAULT_EXPANSION_WEIGHTS: dict[str, float] = {"seats_near_limit": 0.35, "in_pipeline": 0.35,
                                               "new_departments": 0.10, "broad_adoption": 0.10, "usage_growth": 0.05,
                                               "healthy": 0.05}


def check_weights(weights: dict[str, float] | None, defaults: dict[str, float] | None = None) -> dict[str, float]:
    """Validate weights against the known names; missing names keep their default.

    Raises
    ------
    ParameterError
        For an unknown name (with "did you mean"), a negative or non-numeric weight,
        or weights that add up to zero.
    """
    defaults = DEFAULT_HEALTH_WEIGHTS if defaults is None else defaults
    out = dict(defaults)
    for name, w in (weights or {}).items():
        if name not in defaults:
            raise ParameterError(f"unknown weight {name!r}{did_you_mean(str(name), defaults)}; "
                                 f"known: {', '.join(defaults)}")
        label = f"weight {name!r}"
        if isinstance(w, str):  # parse_weights hands the text of each pair ("0.4")
            try:
                w = float(w)
            except ValueError:
                raise fail(label, "a number >= 0", w) from None
        out[name] = check_number(w, label, minimum=0)
    if sum(out.values()) <= 0:
        raise ParameterError(f"the weights add up to 0; give at least one positive weight ({', '.join(out)})")
    return out


def parse_weights(text: str, defaults: dict[str, float] | None = None) -> dict[str, float]:
    """Weights from a notebook parameter such as ``"usage:0.4, support:0.3"`` (the rest keep their default).

    ``""`` gives the defaults. Raises :class:`ParameterError` for a malformed pair,
    an unknown name or a bad weight (see :func:`check_weights`).

    Examples
    --------
    >>> parse_weights("usage:0.5,engagement:0")["usage"], parse_weights("usage:0.5,engagement:0")["engagement"]
    (0.5, 0.0)
    """
    pairs = {}
    for part in str(text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        if not sep:
            raise ParameterError(f"weights are name:weight pairs separated by commas (e.g. usage:0.4,support:0.3); "
                                 f"got {part.strip()!r}")
        pairs[name.strip()] = value.strip()
    return check_weights(pairs, defaults)


def _get(f: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(f[name], errors="coerce").to_numpy(dtype=float) if name in f else np.full(len(f), np.nan)


def health_score(features: pd.DataFrame, weights: dict[str, float] | None = None,
                 breadth_target: float = 4.0) -> pd.DataFrame:
    """Health score 0-100 of every row of a snapshot frame, with its components.

    Parameters
    ----------
    features : DataFrame
        :func:`journeylib.churn.snapshot_features` / ``build_snapshots`` output.
    weights : dict, optional
        Component weights (see :data:`DEFAULT_HEALTH_WEIGHTS`); any subset overrides.
    breadth_target : float
        Features in use that give a full adoption score.

    Returns
    -------
    DataFrame with columns account_id, (snapshot when given), usage, adoption, support,
    sentiment, engagement (each 0-100 or NaN when its inputs are missing), health,
    band; one row per input row, in input order.
    """
    w = check_weights(weights)
    breadth_target = check_number(breadth_target, "breadth_target", minimum=0, low_open=True)
    util, trend = _get(features, "seat_utilisation"), _get(features, "active_users_trend")
    with np.errstate(invalid="ignore"):
        usage = 100 * np.clip(util, 0, 1) * np.exp(np.minimum(np.nan_to_num(trend), 0))
        adoption = 100 * np.minimum(_get(features, "feature_breadth_90d") / breadth_target, 1)
        high, tickets, open_ = (_get(features, "high_priority_tickets_90d"), _get(features, "tickets_90d"),
                                _get(features, "open_tickets"))
        support = np.clip(100 - 15 * high - 5 * (tickets - high) - 10 * np.nan_to_num(open_), 0, 100)
        nps, csat = _get(features, "nps_latest"), _get(features, "csat_latest")
        sentiment = np.where(np.isfinite(nps), 10 * nps, 25 * (csat - 1))
        ex, quiet, engaged = (_get(features, "exec_engaged_180d"), _get(features, "champion_quiet_days"),
                              _get(features, "contacts_engaged_90d"))
        engagement = np.where(np.isfinite(ex), 50 * ex + 30 * (np.nan_to_num(quiet, nan=np.inf) <= 60)
                              + 20 * np.minimum(np.nan_to_num(engaged) / 3, 1), np.nan)
    comps = {"usage": usage, "adoption": adoption, "support": support, "sentiment": sentiment,
             "engagement": engagement}
    num = np.zeros(len(features))
    den = np.zeros(len(features))
    for name, values in comps.items():
        ok = np.isfinite(values)
        num += np.where(ok, w[name] * np.nan_to_num(values), 0.0)
        den += np.where(ok, w[name], 0.0)
    health = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    out = pd.DataFrame({ACCOUNT_ID: features[ACCOUNT_ID].to_numpy()})
    if "snapshot" in features:
        out["snapshot"] = features["snapshot"].to_numpy()
    for name, values in comps.items():
        out[name] = values
    out["health"] = health
    out["band"] = _band(health)
    return out


def _band(health: np.ndarray) -> np.ndarray:
    out = np.full(len(health), None, dtype=object)
    for name, lower in reversed(HEALTH_BANDS):
        out[np.isfinite(health) & (health >= lower)] = name
    return out


# =========================================================================== expansion
def expansion_signals(features: pd.DataFrame, *, health: pd.DataFrame | None = None,
                      weights: dict[str, float] | None = None, seat_threshold: float = 0.9, breadth_min: float = 5,
                      growth_min: float = 0.10, healthy_min: float = 70.0) -> pd.DataFrame:
    """Expansion signals of every row, their weighted score and the evidence in words.

    Parameters
    ----------
    features : DataFrame
        Snapshot features (:mod:`journeylib.churn`).
    health : DataFrame, optional
        :func:`health_score` of the same rows (default: computed with default weights).
    weights : dict, optional
        Signal weights (see :data:`DEFAULT_EXPANSION_WEIGHTS`); normalised to sum to 1.
    seat_threshold : float
        Seat utilisation from which seats are "near or over" the purchased number.
    breadth_min : float
        Product features in use (90 days) for broad adoption.
    growth_min : float
        Relative growth of weekly active users (last 4 weeks vs the 4 before).
    healthy_min : float
        Health score for the healthy signal.

    Returns
    -------
    DataFrame with columns account_id, one 0/1 column per signal, expansion_score
    (0-1), evidence ("; "-joined sentences).
    """
    w = check_weights(weights, DEFAULT_EXPANSION_WEIGHTS)
    total = sum(w.values())
    h = health if health is not None else health_score(features)
    hv = h["health"].to_numpy(dtype=float)
    util, seats = _get(features, "seat_utilisation"), _get(features, "seats_purchased")
    trend = _get(features, "active_users_trend")
    depts, breadth = _get(features, "new_departments_90d"), _get(features, "feature_breadth_90d")
    pipe = _get(features, "open_expansion_opportunity")
    growth = np.expm1(trend)
    sig = {
        "seats_near_limit": np.nan_to_num(util) >= seat_threshold,
        "new_departments": np.nan_to_num(depts) >= 1,
        "broad_adoption": np.nan_to_num(breadth) >= breadth_min,
        "usage_growth": (np.nan_to_num(growth) >= growth_min) & (_get(features, "tenure_days") >= 180),
        "healthy": np.nan_to_num(hv) >= healthy_min,
        "in_pipeline": np.nan_to_num(pipe) >= 1,
    }
    score = sum(w[k] * sig[k].astype(float) for k in sig) / total
    evidence = []
    for i in range(len(features)):
        parts = []
        if sig["seats_near_limit"][i]:
            parts.append(f"{util[i] * seats[i]:.0f} of {seats[i]:.0f} seats used ({util[i]:.0%})")
        if sig["new_departments"][i]:
            k = int(depts[i])
            parts.append(f"{k} new department{'s' if k > 1 else ''} active in 90 days")
        if sig["broad_adoption"][i]:
            parts.append(f"{breadth[i]:.0f} product features in use")
        if sig["usage_growth"][i]:
            parts.append(f"active users up {growth[i]:.0%} on the previous 4 weeks")
        if sig["healthy"][i]:
            parts.append(f"health {hv[i]:.0f}/100")
        if sig["in_pipeline"][i]:
            parts.append("expansion opportunity open")
        evidence.append("; ".join(parts))
    out = pd.DataFrame({ACCOUNT_ID: features[ACCOUNT_ID].to_numpy()})
    for k, v in sig.items():
        out[k] = v.astype("int64")
    out["expansion_score"] = np.asarray(score, dtype=float)
    out["evidence"] = evidence
    return out


#: Columns of the expansion list, in order.
EXPANSION_LIST_COLUMNS = ["expansion_rank", ACCOUNT_ID, "account", "owner", "plan", "seats_purchased",
                          "seat_utilisation", "arr", "expansion_score", "evidence", "health", "churn_probability"]


def expansion_list(features: pd.DataFrame, accounts: pd.DataFrame, *, health: pd.DataFrame | None = None,
                   churn_probability: pd.DataFrame | None = None, weights: dict[str, float] | None = None,
                   min_score: float = 0.35, max_churn_probability: float | None = 0.2, top: int | None = None,
                   **thresholds) -> pd.DataFrame:
    """Accounts likely to expand, with the evidence, best first.

    Parameters
    ----------
    features : DataFrame
        Snapshot features of one snapshot.
    accounts : DataFrame
        The accounts table (name and owner).
    health : DataFrame, optional
        :func:`health_score` of the same rows.
    churn_probability : DataFrame, optional
        ``account_id, probability`` (e.g. :meth:`journeylib.churn.ChurnModel.score`);
        accounts at or above ``max_churn_probability`` are left out (save them first).
    weights : dict, optional
        Signal weights.
    min_score : float
        Lowest expansion score listed (default: seats near the limit alone qualifies).
    top : int, optional
    **thresholds
        Passed to :func:`expansion_signals` (seat_threshold, breadth_min, ...).

    Returns
    -------
    DataFrame with :data:`EXPANSION_LIST_COLUMNS` (``arr`` = 12 x MRR); no contact data.
    """
    if "snapshot" in features and features["snapshot"].nunique() > 1:
        raise ParameterError("expansion_list takes one snapshot; filter the features to a single snapshot first")
    h = health if health is not None else health_score(features)
    sig = expansion_signals(features, health=h, weights=weights, **thresholds)
    acc = accounts.drop_duplicates(ACCOUNT_ID)
    acc = acc.set_index(acc[ACCOUNT_ID].astype(str))
    ids = features[ACCOUNT_ID].astype(str)
    out = pd.DataFrame({
        ACCOUNT_ID: ids.to_numpy(),
        "account": ids.map(acc[_NAME]).to_numpy(dtype=object) if _NAME in acc else None,
        "owner": ids.map(acc[_OWNER]).to_numpy(dtype=object) if _OWNER in acc else None,
        "plan": features["plan"].to_numpy(dtype=object) if "plan" in features else None,
        "seats_purchased": _get(features, "seats_purchased"),
        "seat_utilisation": _get(features, "seat_utilisation"),
        "arr": 12 * _get(features, "mrr"),
        "expansion_score": sig["expansion_score"].to_numpy(),
        "evidence": sig["evidence"].to_numpy(dtype=object),
        "health": h["health"].to_numpy(dtype=float),
    })
    if churn_probability is not None:
        p = churn_probability.drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)["probability"]
        out["churn_probability"] = out[ACCOUNT_ID].map(p).to_numpy(dtype=float)
    else:
        out["churn_probability"] = np.nan
    keep = out["expansion_score"] >= min_score - 1e-12
    if max_churn_probability is not None:
        keep &= ~(out["churn_probability"] >= max_churn_probability)
    out = out[keep].sort_values(["expansion_score", "arr", ACCOUNT_ID], ascending=[False, False, True], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "expansion_rank", np.arange(1, len(out) + 1, dtype=np.int64))
    out = out[EXPANSION_LIST_COLUMNS]
    return out.head(top) if top is not None else out
