"""What channels cost and return: spend, cost per lead, per opportunity and per won deal (CAC), ROI, influence.

Costs are the ``cost`` of the touchpoints (the data contract's optional column), summed per
channel or campaign over a window. Credit comes from any attribution model
(:func:`~journeylib.attribution.rule_based`, :func:`~journeylib.attribution.markov`), so the
same spend can be read against several models. *Influenced* value counts a converting
journey's whole value for every channel it touched (not a share): it answers "how much won
revenue (or, with ``conversion="opportunity_created"`` paths, pipeline) did this channel
touch?", and its column sums to more than the total.

:func:`cost_per_outcome` reads one period: the spend of the last ``days`` days against the
leads, opportunities and won deals of the same days, each credited to channels (or
campaigns) by one rule model over its own journey (touches up to ``lookback_days`` before it,
so a touch paid before the period can earn credit for an outcome within it, as period CAC
is read in practice).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_days
from ..data import JourneyData
from ..data.timeparse import as_of_cutoff, day_start
from ..errors import ParameterError
from ..schema import TIMESTAMP
from .paths import conversion_paths
from .rules import MODELS, rule_based

__all__ = ["channel_costs", "return_on_spend", "influence", "cost_per_outcome", "OUTCOMES"]

#: The outcomes of :func:`cost_per_outcome`: column name -> conversion of :func:`conversion_paths`.
OUTCOMES = {"leads": "lead_created", "opportunities": "opportunity_created", "won": "won"}

_BY = ("channel", "campaign")


def channel_costs(data: JourneyData, *, by: str = "channel", start: Any = None, end: Any = None,
                  days: float | None = None) -> pd.DataFrame:
    """Spend per channel (or campaign): the sum of the touchpoints' ``cost`` from ``start`` to ``end``.

    Parameters
    ----------
    data : JourneyData
    by : {"channel", "campaign"}
    start, end : date-like, optional
        The window (days in the data's timezone; ``end`` defaults to the data's cut-off,
        ``start`` to the first touchpoint).
    days : float, optional
        Instead of ``start``: the last ``days`` days up to ``end`` (e.g. the journeys' lookback).

    Returns
    -------
    DataFrame
        ``channel`` (or ``campaign``), ``cost``, ``touches`` (with a cost), sorted by cost;
        empty, with ``attrs["note"]``, when the touchpoints have no cost.
    """
    by = check_choice(by, "by", _BY)
    tp = data.touchpoints
    columns = {by: object, "cost": float, "touches": "int64"}
    if "cost" not in tp.columns or tp["cost"].notna().sum() == 0 or by not in tp.columns:
        out = pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
        out.attrs["note"] = f"the touchpoints have no cost{'' if by in tp.columns else ' or no ' + by}"
        return out
    hi = data.cutoff if end is None else min(as_of_cutoff(end, data.tz, name="end"), data.cutoff)
    mask = (tp[TIMESTAMP] <= hi) & tp["cost"].notna()
    if days is not None:
        if start is not None:
            raise ParameterError("give start or days, not both")
        mask &= tp[TIMESTAMP] > hi - pd.Timedelta(days=check_days(days, "days"))
    if start is not None:
        mask &= tp[TIMESTAMP] >= day_start(start, data.tz)
    part = tp.loc[mask, [by, "cost"]]
    out = (part.groupby(part[by].astype(object).fillna("(none)"), sort=True)["cost"].agg(["sum", "size"])
           .rename(columns={"sum": "cost", "size": "touches"}).reset_index().rename(columns={"index": by}))
    out.columns = [by, "cost", "touches"]
    out = out.sort_values(["cost", by], ascending=[False, True], kind="stable").reset_index(drop=True)
    out.attrs["note"] = ""
    return out


def return_on_spend(credits: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Cost per credited conversion (CAC) and ROI per channel.

    Parameters
    ----------
    credits : DataFrame
        ``channel``, ``conversions`` and ``value`` credited by one model (``rule_based``,
        or ``markov`` with ``credit``/``value_credit``).
    costs : DataFrame
        :func:`channel_costs` (same ``by``).

    Returns
    -------
    DataFrame
        ``channel``, ``cost``, ``conversions``, ``value``, ``cost_per_conversion`` (NaN without
        credited conversions), ``roi`` = (value - cost) / cost (NaN without cost); channels
        in either input, sorted by cost then conversions.
    """
    key = "channel" if "channel" in credits.columns else "campaign"
    c = credits.rename(columns={"credit": "conversions", "value_credit": "value"})
    if not {key, "conversions", "value"} <= set(c.columns) or key not in costs.columns:
        raise ParameterError(f"return_on_spend needs credits with {key}, conversions and value, and costs with {key}")
    out = costs[[key, "cost"]].merge(c[[key, "conversions", "value"]], on=key, how="outer")
    out[["cost", "conversions", "value"]] = out[["cost", "conversions", "value"]].astype(float).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cost_per_conversion"] = np.where(out["conversions"] > 0, out["cost"] / out["conversions"], np.nan)
        out["roi"] = np.where(out["cost"] > 0, (out["value"] - out["cost"]) / out["cost"], np.nan)
    return out.sort_values(["cost", "conversions", key], ascending=[False, False, True], kind="stable") \
        .reset_index(drop=True)


def influence(paths: pd.DataFrame, *, by: str = "channel") -> pd.DataFrame:
    """Journeys and value each channel (or campaign) touched, each journey counted in full for every one.

    Returns
    -------
    DataFrame
        ``channel`` (or ``campaign``), ``journeys`` (touched), ``converting`` (converting
        journeys touched), ``value_influenced`` (their total value) and ``share_of_value``
        (of all converting journeys' value; the shares sum to more than 1), sorted by value.
    """
    by = check_choice(by, "by", _BY)
    column = "path" if by == "channel" else "campaigns"
    if column not in paths.columns:
        raise ParameterError(f"paths lacks column '{column}'; give the result of attribution.conversion_paths")
    touched = paths[["journey_id", column, "converted", "value"]].explode(column).dropna(subset=[column])
    touched = touched.drop_duplicates(["journey_id", column])
    conv = touched["converted"].astype(int) == 1
    g = touched.assign(_conv=conv.astype(int), _value=touched["value"].where(conv, 0.0)).groupby(column, sort=True)
    out = pd.DataFrame({"journeys": g.size(), "converting": g["_conv"].sum(), "value_influenced": g["_value"].sum()})
    total = float(paths.loc[paths["converted"] == 1, "value"].sum())
    out["share_of_value"] = out["value_influenced"] / total if total else np.nan
    out = out.reset_index().rename(columns={column: by})
    return out.sort_values(["value_influenced", by], ascending=[False, True], kind="stable").reset_index(drop=True)


def cost_per_outcome(data: JourneyData, *, model: str = "linear", by: str = "channel", days: float = 365,
                     lookback_days: float = 365, opportunity_types: Any = ("new",), **model_params: Any) -> pd.DataFrame:
    """Spend, credited leads, opportunities and won deals, and the cost of each, per channel or campaign.

    Parameters
    ----------
    data : JourneyData
    model : str, default "linear"
        A rule model of :func:`~journeylib.attribution.rule_based` (:data:`MODELS`).
    by : {"channel", "campaign"}
    days : float, default 365
        The period: spend and outcomes of the last ``days`` days up to the data's cut-off.
    lookback_days : float, default 365
        Each outcome's journey: its touches up to this many days before it.
    opportunity_types
        Opportunity types that count (as in :func:`conversion_paths`).
    **model_params
        The model's parameters (``half_life_days``, ``u_weights``, ...).

    Returns
    -------
    DataFrame
        ``channel`` (or ``campaign``), ``cost``, ``leads``, ``opportunities``, ``won`` (credited
        counts; each sums to the period's outcomes with a touch; ``leads`` are accounts' first
        leads), ``won_value``, ``cost_per_lead``, ``cost_per_opportunity``, ``cost_per_won``
        (CAC; NaN without credit or without recorded cost) and ``roi`` = (won_value - cost) / cost (NaN without cost); sorted by cost,
        then won. ``attrs``: ``note`` (of the costs), ``model``, ``days``, and the period's
        ``outcomes`` (counts, with or without a touch).
    """
    by = check_choice(by, "by", _BY)
    model = check_choice(model, "model", MODELS)
    period = pd.Timedelta(days=check_days(days, "days"))
    costs = channel_costs(data, by=by, days=days)
    table = costs[[by, "cost"]]
    outcomes = {}
    for column, conversion in OUTCOMES.items():
        paths = conversion_paths(data, conversion=conversion, lookback_days=lookback_days,
                                 opportunity_types=opportunity_types, converted_after=data.cutoff - period)
        outcomes[column] = len(paths)
        credit = rule_based(paths, model, by=by, **model_params)
        credit = credit.rename(columns={"conversions": column, "value": "won_value"})
        keep = [by, column] + (["won_value"] if column == "won" else [])
        table = table.merge(credit.loc[credit[column] > 0, keep], on=by, how="outer")
    numbers = ["cost", *OUTCOMES, "won_value"]
    table[numbers] = table[numbers].astype(float).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for column in OUTCOMES:
            name = "cost_per_" + {"leads": "lead", "opportunities": "opportunity", "won": "won"}[column]
            table[name] = np.where((table[column] > 0) & (table["cost"] > 0), table["cost"] / table[column], np.nan)
        table["roi"] = np.where(table["cost"] > 0, (table["won_value"] - table["cost"]) / table["cost"], np.nan)
    table = table.sort_values(["cost", "won", by], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    table.attrs.update(note=costs.attrs.get("note", ""), model=model, days=float(days), outcomes=outcomes)
    return table
