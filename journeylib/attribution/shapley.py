"""Shapley-value attribution.

Channels are players; a coalition S of channels is worth v(S), the conversions
(or value) of the journeys whose *set* of channels lies inside S. Under that game the Shapley
value has a closed form (Zhao, Mahboobi & Bagheri 2018, "Shapley value methods for attribution
modeling in online advertising"): every converting journey's conversion is split equally among
the distinct channels it touched,

    phi_j = sum over channel sets S containing j of R(S) / |S|,

with R(S) the conversions of journeys whose channel set is exactly S. It needs no enumeration
of coalitions, so it works for any number of channels; the tests compare it with the Shapley
value computed from every permutation on small games.
"""
from __future__ import annotations

import pandas as pd

from ..errors import ParameterError

__all__ = ["shapley"]


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
