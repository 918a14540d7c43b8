"""Conversion paths: one row per buying journey, converting or not, for attribution.

A journey is an account's (``level="account"``) or an opportunity's (``level="opportunity"``)
touches, in time order, within ``lookback_days`` before its conversion (or before the
data's cut-off when it has not converted). Touches by any contact of the account count for
the account (B2B: the buying committee converts, not a person); touches at or after the
conversion are left out (but see ``"lead_created"``). Conversions:

* ``"won"``: the first won opportunity (of ``opportunity_types``) closes; value = its amount;
* ``"opportunity_created"``: the first opportunity (of those types) is created; value = its
  amount (pipeline);
* ``"lead_created"``: the account's first lead is created (``leads.created_at``); value 0;
  the touch at that instant counts (the form or event that created the lead);
* a stage id (``"decision"``): the first touchpoint in that stage; value 0.

Milestones for position-based models: ``lead_touch`` is the last touch at or before the
journey's first lead creation (``leads.created_at`` of the account), ``opportunity_touch``
the last touch at or before the (converting, else first) opportunity's creation; -1 when
there is none (no such record, or no touch before it).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_days, check_names
from ..data import JourneyData
from ..errors import ParameterError
from ..schema import ACCOUNT_ID, CHANNEL, OPPORTUNITY_ID, TIMESTAMP, TOUCHPOINT
from ..data.contract import text_codes
from ..data.pairs import in_order, naive_utc, touches_in_windows

__all__ = ["conversion_paths", "PATH_COLUMNS", "LEVELS", "CONVERSIONS", "UNKNOWN_CHANNEL"]

LEVELS = ("account", "opportunity")
#: The conversions besides a stage id.
CONVERSIONS = ("won", "opportunity_created", "lead_created")
UNKNOWN_CHANNEL = "(unknown)"
#: The columns of :func:`conversion_paths`, in order.
PATH_COLUMNS = ("journey_id", "account_id", "path", "touch_times", "campaigns", "stages", "converted", "decided",
                "value", "conversion_at", "lead_touch", "opportunity_touch")


def _opportunities(data: JourneyData, types: list[str] | None) -> pd.DataFrame:
    opp = data.opportunities
    if opp is None:
        times = {c: pd.Series(dtype="datetime64[ns, UTC]") for c in ("created_at", "closed_at")}
        return pd.DataFrame({OPPORTUNITY_ID: pd.Series(dtype=object), ACCOUNT_ID: pd.Series(dtype=object), **times,
                             "status": pd.Series(dtype=object), "amount": pd.Series(dtype=float)})
    if types is not None and "type" in opp.columns:
        kind = opp["type"].astype("string").str.lower()
        opp = opp[(kind.isin(types) | kind.isna()).to_numpy(dtype=bool, na_value=True)]
    return opp


def _journeys(data: JourneyData, level: str, conversion: str, types: list[str] | None) -> pd.DataFrame:
    """One row per journey: journey_id, account_id, converted, value, conversion_at, opportunity_at, end."""
    opp = _opportunities(data, types).sort_values(["created_at", OPPORTUNITY_ID], kind="stable")
    amount = opp["amount"].astype(float) if "amount" in opp else pd.Series(np.nan, index=opp.index)
    won = opp["status"].eq("won") & opp["closed_at"].notna()
    lost = opp["status"].eq("lost") & opp["closed_at"].notna()
    if level == "opportunity":
        if conversion != "won":
            raise ParameterError(f"conversion={conversion!r} with level='opportunity': an opportunity's journey "
                                 "converts when it is won; use level='account' for other conversions")
        out = pd.DataFrame({"journey_id": opp[OPPORTUNITY_ID].astype(str), ACCOUNT_ID: opp[ACCOUNT_ID].astype(str),
                            "converted": won.astype(int).to_numpy(),
                            "decided": (won | lost).to_numpy(),
                            "value": np.where(won, amount.fillna(0.0), 0.0),
                            "conversion_at": opp["closed_at"].where(won), "opportunity_at": opp["created_at"],
                            "start_at": opp["created_at"]})
        out["end_at"] = out["conversion_at"].fillna(opp["closed_at"]).fillna(data.cutoff)
        return out.reset_index(drop=True)
    accounts = pd.DataFrame({ACCOUNT_ID: data.accounts[ACCOUNT_ID].astype(str)})
    if conversion in ("won", "opportunity_created"):
        pick = opp[won] if conversion == "won" else opp
        time_col = "closed_at" if conversion == "won" else "created_at"
        first = (pick.assign(_amount=amount.reindex(pick.index).fillna(0.0))
                 .sort_values([time_col, OPPORTUNITY_ID], kind="stable").drop_duplicates(ACCOUNT_ID))
        conv = first.set_index(first[ACCOUNT_ID].astype(str))
        accounts["conversion_at"] = accounts[ACCOUNT_ID].map(conv[time_col])
        accounts["value"] = accounts[ACCOUNT_ID].map(conv["_amount"]).fillna(0.0).astype(float)
        accounts["opportunity_at"] = accounts[ACCOUNT_ID].map(conv["created_at"])
    elif conversion == "lead_created":
        leads = data.leads
        first_lead = (leads.dropna(subset=[ACCOUNT_ID]).groupby(leads[ACCOUNT_ID].dropna().astype(str))["created_at"]
                      .min() if leads is not None and ACCOUNT_ID in leads else pd.Series(dtype="datetime64[ns, UTC]"))
        accounts["conversion_at"] = accounts[ACCOUNT_ID].map(first_lead)
        accounts["value"] = 0.0
        accounts["opportunity_at"] = pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns, UTC]")
    else:
        tp = data.touchpoints
        hit = tp[tp["stage"].astype(str) == conversion]
        accounts["conversion_at"] = accounts[ACCOUNT_ID].map(hit.groupby(ACCOUNT_ID)[TIMESTAMP].min())
        accounts["value"] = 0.0
        accounts["opportunity_at"] = pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns, UTC]")
    first_created = opp.groupby(opp[ACCOUNT_ID].astype(str))["created_at"].first()  # opp is sorted by creation
    accounts["opportunity_at"] = accounts["opportunity_at"].fillna(accounts[ACCOUNT_ID].map(first_created))
    accounts["converted"] = accounts["conversion_at"].notna().astype(int)
    if conversion == "won":  # decided: won, or a deal of these types was lost (else the outcome is still open)
        lost_accounts = set(opp.loc[lost, ACCOUNT_ID].astype(str))
        accounts["decided"] = accounts["converted"].eq(1) | accounts[ACCOUNT_ID].isin(lost_accounts)
    else:
        accounts["decided"] = True
    accounts["end_at"] = accounts["conversion_at"].fillna(data.cutoff)
    return accounts.assign(journey_id=accounts[ACCOUNT_ID]).reset_index(drop=True)


def conversion_paths(data: JourneyData, *, level: str = "account", conversion: str = "won",
                     lookback_days: float = 365, opportunity_types: Any = ("new",),
                     converted_after: Any = None, converting_only: bool = False) -> pd.DataFrame:
    """One row per journey, converting or not: its channels in time order, milestones and value.

    Parameters
    ----------
    data : JourneyData
    level : {"account", "opportunity"}
        Whose journeys: an account's, or an opportunity's (its account's touches from
        ``lookback_days`` before its creation to its close).
    conversion : {"won", "opportunity_created", "lead_created"} or a stage id
        What counts as converting (module docstring).
    lookback_days : float, default 365
        Touches at most this many days before the conversion (or the cut-off) count.
    opportunity_types : list of str or None, default ("new",)
        Opportunity types that convert (None: all; rows without a type always count).
    converted_after : Timestamp, optional
        Only the journeys that converted after this instant (UTC when it has no timezone; e.g.
        the start of a spend period), each with the same path as without it; default: every journey.
    converting_only : bool, default False
        Only the journeys that converted, each with the same path as without it (e.g. to count last
        month's won deals attributed without building every journey's path).

    Returns
    -------
    DataFrame
        :data:`PATH_COLUMNS`, sorted by ``journey_id``: ``path`` (tuple of channels; a touch
        without a channel is :data:`UNKNOWN_CHANNEL`), ``touch_times`` (tuple of UTC
        Timestamps), ``campaigns`` and ``stages`` (tuples, None where a touch has
        none), ``converted``
        (0/1), ``decided`` (the outcome is known: converted, or for ``"won"`` a deal was
        lost; an open deal is not decided), ``value`` (float), ``conversion_at`` (NaT when
        not converted),
        ``lead_touch`` and ``opportunity_touch`` (index into ``path``, -1 when none).
        Journeys without any touch in their window are left out (``attrs["no_touch"]``
        counts them). ``attrs`` holds ``level``, ``conversion``, ``lookback_days`` and
        ``stage_order`` (the lifecycle's stage ids).
    """
    if not isinstance(data, JourneyData):
        raise ParameterError(f"data must be a JourneyData (journeylib.load); got {type(data).__name__}")
    level = check_choice(level, "level", LEVELS)
    stages = list(data.lifecycle.ids)
    if conversion not in CONVERSIONS and conversion not in stages:
        check_choice(conversion, "conversion", [*CONVERSIONS, *stages])
    lookback = pd.Timedelta(days=check_days(lookback_days, "lookback_days"))
    types = check_names(opportunity_types, "opportunity_types")
    types = [t.lower() for t in types] if types is not None else None

    journeys = _journeys(data, level, conversion, types)
    if converting_only or converted_after is not None:
        keep = journeys["converted"] == 1
        if converted_after is not None:
            after = pd.Timestamp(converted_after)
            keep &= journeys["conversion_at"] > (after.tz_localize("UTC") if after.tzinfo is None else after)
        journeys = journeys[keep].reset_index(drop=True)
    # an account's window ends at its conversion (or the cut-off); an opportunity's starts before its creation
    journeys["start_at"] = (journeys["end_at"] if level == "account" else journeys["start_at"]) - lookback

    # journeys in id order: each journey's touches become one run of rows in the order of the paths
    journeys = journeys.sort_values("journey_id", kind="stable").reset_index(drop=True)
    tp = data.touchpoints
    name = CHANNEL if CHANNEL in tp else TOUCHPOINT
    # the pairs of each journey with its account's touches inside its window, on account codes (each distinct
    # account id turned into text once); touches at the conversion are after it (the signature closing a deal),
    # except the one creating a lead
    codes, texts = text_codes(tp[ACCOUNT_ID])
    times = naive_utc(tp[TIMESTAMP])
    journey, rows, _ = touches_in_windows(
        codes, times, pd.Index(texts).get_indexer(journeys[ACCOUNT_ID]),
        naive_utc(journeys["start_at"]), naive_utc(journeys["end_at"]),
        (journeys["converted"].to_numpy() == 1) & (conversion != "lead_created"))
    journey, rows = _in_path_order(journey, rows, times[rows], tp["event_id"] if "event_id" in tp else None)
    at = times[rows]

    def taken(column: str, missing: Any) -> np.ndarray:
        if column not in tp:
            return np.full(len(rows), missing, dtype=object)
        values = tp[column].iloc[rows]
        return values.astype(object).where(values.notna(), missing).to_numpy(dtype=object)

    # each journey's touches are one run of rows, cut into tuples at once (a groupby's agg(tuple) runs Python
    # per journey and is the bulk of the time on large data)
    new_run = np.r_[True, journey[1:] != journey[:-1]] if len(journey) else np.zeros(0, dtype=bool)
    starts, run = np.flatnonzero(new_run), np.cumsum(new_run) - 1

    def runs(values: np.ndarray) -> list[tuple]:
        return [tuple(r) for r in np.split(values, starts[1:])] if len(rows) else []

    info = journeys.iloc[journey[starts]]
    out = pd.DataFrame({"path": runs(taken(name, UNKNOWN_CHANNEL)),
                        "touch_times": runs(tp[TIMESTAMP].iloc[rows].astype(object).to_numpy()),
                        "campaigns": runs(taken("campaign", None)), "stages": runs(taken("stage", None))},
                       index=pd.Index(info["journey_id"].to_numpy(), name="journey_id"))
    out.insert(0, ACCOUNT_ID, info[ACCOUNT_ID].to_numpy())
    out["converted"] = info["converted"].to_numpy().astype(int)
    out["decided"] = info["decided"].to_numpy().astype(bool)
    out["value"] = np.where(out["converted"] == 1, info["value"].astype(float), 0.0)
    out["conversion_at"] = info["conversion_at"].to_numpy()
    out["conversion_at"] = pd.to_datetime(out["conversion_at"], utc=True)
    out["lead_touch"] = _milestone_index(run, at, naive_utc(_lead_times(data, info)))
    out["opportunity_touch"] = _milestone_index(run, at, naive_utc(info["opportunity_at"]))
    out = out.reset_index().loc[:, list(PATH_COLUMNS)]
    out.attrs.update(level=level, conversion=conversion, lookback_days=float(lookback_days),
                     no_touch=int(len(journeys) - len(out)), stage_order=stages)
    return out


def _lead_times(data: JourneyData, info: pd.DataFrame) -> pd.Series:
    """Per journey, its account's first lead creation (NaT without leads)."""
    leads = data.leads
    if leads is None or ACCOUNT_ID not in leads or leads[ACCOUNT_ID].isna().all():
        return pd.Series(pd.NaT, index=info.index, dtype="datetime64[ns, UTC]")
    first = leads.dropna(subset=[ACCOUNT_ID]).groupby(leads[ACCOUNT_ID].dropna().astype(str))["created_at"].min()
    return info[ACCOUNT_ID].map(first)


def _milestone_index(run: np.ndarray, times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Per journey, the index of its last touch at or before ``at`` (-1 when none, or ``at`` missing).

    ``run`` numbers each touch's journey (0, 1, ...; a journey's touches in time order), ``times`` are the
    touches' and ``at`` the journeys' naive UTC instants."""
    return np.bincount(run[times <= at[run]], minlength=len(at)) - 1


def _in_path_order(journey: np.ndarray, rows: np.ndarray, times: np.ndarray, event_id: pd.Series | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The pairs sorted by journey, time and event id (missing last), stably: as they are when the touchpoints
    are in time order and equal times in event id order (a contract's usually are), else sorted."""
    ordered = in_order(journey, times)
    if ordered and event_id is not None:  # equal times: event ids in order, a missing one after the others
        ties = np.flatnonzero((journey[1:] == journey[:-1]) & (times[1:] == times[:-1]))
        first = event_id.iloc[rows[ties]].to_numpy(dtype=object)
        second = event_id.iloc[rows[ties + 1]].to_numpy(dtype=object)
        present = ~pd.isna(first) & ~pd.isna(second)
        try:
            ordered = bool((pd.isna(second) | (present & (np.where(present, first, "") <= np.where(present, second, ""))))
                           .all())
        except TypeError:  # ids of mixed types: sorted below as pandas sorts them
            ordered = False
    if ordered:
        return journey, rows
    keys = [times, journey]
    if event_id is not None:
        codes, _ = pd.factorize(event_id.iloc[rows], sort=True)
        keys.insert(0, np.where(codes < 0, codes.max(initial=-1) + 1, codes))  # missing last
    order = np.lexsort(keys)
    return journey[order], rows[order]
