"""Shapley-value attribution, overall or ordered by stage.

Channels are players; a coalition S of channels is worth v(S), the conversions
(or value) of the journeys whose *set* of channels lies inside S. Under that game the Shapley
value has a closed form (Zhao, Mahboobi & Bagheri 2018, "Shapley value methods for attribution
modeling in online advertising"): every converting journey's conversion is split equally among
the distinct channels it touched,

    phi_j = sum over channel sets S containing j of R(S) / |S|,

with R(S) the conversions of journeys whose channel set is exactly S. It needs no enumeration
of coalitions, so it works for any number of channels; the tests compare it with the Shapley
value computed from every permutation on small games.

Ordered by stage (``by_stage=True``), the players are (stage, channel) pairs: a webinar seen
in research and a webinar seen in decision are two players, so the credit says where in the
journey a channel works (the B2B counterpart of Zhao et al.'s ordered Shapley value, which
orders by touch position). The same closed form holds for that game, and the credits still
sum to the conversions; a channel's credits over its stages need not equal its overall credit
(a journey touching it in two stages gives it two shares).
"""
from __future__ import annotations

import pandas as pd

from ..errors import ParameterError

__all__ = ["shapley", "NO_STAGE"]

#: The stage of a touch that has none.
NO_STAGE = "(no stage)"


def shapley(paths: pd.DataFrame, *, by_stage: bool = False) -> pd.DataFrame:
    """Simplified Shapley credit per channel, or per stage and channel (module docstring).

    Parameters
    ----------
    paths : DataFrame
        A frame of :func:`~journeylib.attribution.conversion_paths`.
    by_stage : bool, default False
        Credit (stage, channel) pairs, using the paths' ``stages`` column.

    Returns
    -------
    DataFrame
        ``channel`` (with ``by_stage``: ``stage`` first), ``conversions`` (sums to the
        converting journeys with a touch), ``value`` (sums to their value), ``share``; sorted
        by conversions, then channel; with ``by_stage``, by the lifecycle's stage order
        (``paths.attrs["stage_order"]``, else first appearance), then conversions.
    """
    need = [c for c in ("path", "converted", "value", *(("stages",) if by_stage else ())) if c not in paths.columns]
    if need:
        raise ParameterError(f"paths lacks column(s) {need}; give the result of attribution.conversion_paths")
    conv = paths[(paths["converted"] == 1) & (paths["path"].map(len) > 0)]
    if by_stage:
        players = [tuple(zip((NO_STAGE if s is None else str(s) for s in st), p)) for st, p in
                   zip(conv["stages"], conv["path"])]
    else:
        players = list(conv["path"])
    sets = pd.Series([tuple(sorted(set(p))) for p in players], index=conv.index, dtype=object)
    parts = pd.DataFrame({"player": sets, "size": sets.map(len), "value": conv["value"].astype(float)})
    parts = parts.explode("player")
    g = parts.assign(conversions=1.0 / parts["size"], value=parts["value"] / parts["size"]).groupby("player")
    out = pd.DataFrame({"conversions": g["conversions"].sum(), "value": g["value"].sum()}).reset_index()
    total = out["conversions"].sum()
    out["share"] = out["conversions"] / total if total else 0.0
    if not by_stage:
        out = out.rename(columns={"player": "channel"})
        return out.sort_values(["conversions", "channel"], ascending=[False, True], kind="stable") \
            .reset_index(drop=True)
    out.insert(0, "stage", out["player"].map(lambda x: x[0]))
    out.insert(1, "channel", out["player"].map(lambda x: x[1]))
    order = list(paths.attrs.get("stage_order") or [])
    order += [s for s in pd.unique(pd.Series([s for p in players for s, _ in p], dtype=object)) if s not in order]
    out["_rank"] = out["stage"].map({s: i for i, s in enumerate(order)})
    out = out.sort_values(["_rank", "conversions", "channel"], ascending=[True, False, True], kind="stable")
    return out.drop(columns=["player", "_rank"]).reset_index(drop=True)
