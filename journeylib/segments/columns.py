"""The clustering columns: feature groups, their transforms, and the input checks.

Part of :mod:`journeylib.segments`; import the public names from there.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID
from .features import FEATURE_GROUPS, feature_info

#: The core clustering columns of each feature group: few, continuous, roughly Gaussian after their
#: transform, so that no group outweighs the others and no one-hot or zero-inflated column splits a persona.
CLUSTER_FEATURES: dict[str, tuple[str, ...]] = {
    "firmographics": ("employees",),
    "committee": ("contacts_engaged",),
    "engagement": ("paid_share", "self_guided_share"),
    "sales": ("sales_cycle_days",),
    "usage": ("events_per_active_user", "seat_utilisation"),
    "support": ("tickets_per_month",),
    "surveys": ("nps_mean",),
}
#: Groups clustered by default (support adds little beyond usage and surveys on the sample data).
DEFAULT_GROUPS: tuple[str, ...] = ("firmographics", "committee", "engagement", "sales", "usage", "surveys")
METHODS = ("gmm", "kmeans")
FIT_POPULATIONS = ("opportunity", "all")
#: The shipped rule-based personas (journeylib/segments/personas_rules.yml)
DEFAULT_RULES_FILE = Path(__file__).with_name("personas_rules.yml")
MODEL_FILE = "personas.joblib"
MODEL_INFO_FILE = "personas.json"
UNASSIGNED = "unassigned"
_SHARE_EPS = 0.005  # log-odds guard for shares of exactly 0 or 1: log((s + eps) / (1 - s + eps))


# --------------------------------------------------------------------------- choosing columns
def parse_groups(groups: "str | Sequence[str] | None") -> list[str]:
    """Feature group names from a list or a comma-separated string (clear error for an unknown one)."""
    if groups is None:
        return list(DEFAULT_GROUPS)
    items = [g.strip() for g in groups.split(",")] if isinstance(groups, str) else [str(g).strip() for g in groups]
    items = [g for g in items if g]
    if not items:
        raise ParameterError(f"feature_groups is empty; choose from: {', '.join(FEATURE_GROUPS)}")
    for g in items:
        if g not in FEATURE_GROUPS:
            raise ParameterError(f"unknown feature group '{g}'{did_you_mean(g, FEATURE_GROUPS)}; "
                                 f"groups: {', '.join(FEATURE_GROUPS)}")
    return list(dict.fromkeys(items))


def cluster_columns(groups: "str | Sequence[str] | None" = None) -> list[str]:
    """The clustering columns of the chosen feature groups (``CLUSTER_FEATURES``)."""
    return [c for g in parse_groups(groups) for c in CLUSTER_FEATURES[g]]


def _logodds(x):
    x = np.asarray(x, dtype=float)
    return np.log((x + _SHARE_EPS) / (1.0 - x + _SHARE_EPS))


def _build_transformer(columns: list[str]):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    kinds = {c: feature_info(c).kind for c in columns}
    parts = []
    logs = [c for c in columns if kinds[c] in ("count", "days")]
    shares = [c for c in columns if kinds[c] == "share"]
    plain = [c for c in columns if kinds[c] in ("ratio", "score", "flag")]
    cats = [c for c in columns if kinds[c] == "category"]
    if logs:
        parts.append(("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one"), logs))
    if shares:
        parts.append(("logodds", FunctionTransformer(_logodds, feature_names_out="one-to-one"), shares))
    if plain:
        parts.append(("plain", "passthrough", plain))
    if cats:
        parts.append(("onehot", Pipeline([
            ("missing", SimpleImputer(strategy="constant", fill_value="(missing)", missing_values=None)),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), cats))
    return Pipeline([("encode", ColumnTransformer(parts, verbose_feature_names_out=False)),
                     ("scale", StandardScaler())])


# --------------------------------------------------------------------------- the model
def _check_features(features: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise ParameterError(f"features must be a DataFrame from account_features(); got {type(features).__name__}")
    if ACCOUNT_ID not in features:
        raise ParameterError(f"features have no '{ACCOUNT_ID}' column; columns: {', '.join(map(str, features.columns))}")
    if features[ACCOUNT_ID].duplicated().any():
        dup = features.loc[features[ACCOUNT_ID].duplicated(), ACCOUNT_ID].iloc[0]
        raise ParameterError(f"features hold account '{dup}' more than once; give one row per account")
    return features.reset_index(drop=True)

