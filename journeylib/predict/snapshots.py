"""The open deals on given days, as a pipeline review would have seen them then.

For each day and each deal open on it (created at or before it, not closed by it) one row with
what was known that day: the deal's stage (its last visit entered by then), days in that stage,
age, activity (touches in the last 14 days, days since the last touch), the contacts engaged
since ``lookback_days`` before its creation, whether the economic buyer is among them, the
visits so far, the channels its account touched, and its amount. The outcome (won or not,
when decided) is that of the data the rows came from; a model fitted on them must use rows
whose outcome was known by its own as-of date (see :mod:`.forecast`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data import JourneyData
from ..schema import ACCOUNT_ID, CHANNEL, CONTACT_ID, OPPORTUNITY_ID, TIMESTAMP
from .visits import WON, _deal_touches
from ..data.contract import text_codes
from ..data.pairs import in_order

__all__ = ["deal_snapshots", "NUMERIC_FEATURES", "ACTIVITY_DAYS", "ECONOMIC_BUYER"]

#: Touches in this many days count as recent activity.
ACTIVITY_DAYS = 14
#: The contact role of the person who signs off the budget.
ECONOMIC_BUYER = "economic_buyer"
#: Numeric features of a snapshot, in model order.
NUMERIC_FEATURES = ("days_in_stage", "age_days", "touches_14d", "days_since_touch", "contacts_engaged",
                    "economic_buyer", "visits_so_far", "log_amount")
_SEC = 1_000_000_000
_SPAN = 10_000_000_000  # seconds: wider than any data's time span; separates deals in one sorted key
_BASE = -5_000_000_000  # seconds before 1970 that any date after 1812 exceeds


def _seconds(t: pd.Series) -> np.ndarray:
    return (t.dt.tz_convert("UTC").astype("int64") // _SEC).to_numpy()


def _ns(t: pd.Series) -> np.ndarray:
    return t.dt.tz_convert("UTC").astype("int64").to_numpy()


def _days(ns: np.ndarray) -> np.ndarray:
    return ns / 86_400e9


def _keyed(deal: np.ndarray, sec: np.ndarray) -> np.ndarray:
    return deal.astype(np.int64) * _SPAN + (sec - _BASE)



def _count_upto(keys: np.ndarray, start: np.ndarray, deal: np.ndarray, sec: np.ndarray) -> np.ndarray:
    """Per row, how many of its deal's sorted events are at or before ``sec``."""
    return np.searchsorted(keys, _keyed(deal, sec), side="right") - start[deal]


def deal_snapshots(data: JourneyData, visits: pd.DataFrame, days: Any, *, lookback_days: float = 180) -> pd.DataFrame:
    """One row per deal open on each of ``days`` (module docstring).

    Parameters
    ----------
    data : JourneyData
        The data the visits came from (touchpoints and contacts).
    visits : DataFrame
        :func:`~journeylib.predict.deal_visits` of ``data``.
    days : list of Timestamp
        UTC instants (e.g. month-end cut-offs), each at or before ``data.cutoff``.
    lookback_days : float, default 180
        Contacts and channels count from this many days before the deal's creation.

    Returns
    -------
    DataFrame
        ``opportunity_id``, ``account_id``, ``segment``, ``type``, ``amount``, ``snapshot_at``,
        ``state``, :data:`NUMERIC_FEATURES`, ``channels`` (tuple, sorted), ``outcome`` and
        ``closed_at`` (NaN while open in ``data``), ``won`` (1/0, NaN while open); sorted by
        snapshot, then deal.
    """
    opps = visits.attrs["deals"].reset_index(drop=True)
    deal_index = pd.Index(opps[OPPORTUNITY_ID])
    days = [pd.Timestamp(d).tz_convert("UTC") for d in days]
    created, closed = opps["created_at"], opps["closed_at"]
    frames = []
    for day in days:
        open_now = (created <= day) & ~(closed <= day)
        frames.append(pd.DataFrame({"_deal": np.flatnonzero(open_now.to_numpy()), "snapshot_at": day}))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"_deal": [], "snapshot_at": []})
    rows["_deal"] = rows["_deal"].astype(np.int64)
    deal = rows["_deal"].to_numpy()
    sec = _seconds(pd.to_datetime(rows["snapshot_at"], utc=True)) if len(rows) else np.zeros(0, dtype=np.int64)

    # the stage: the last visit entered by the day
    v = visits.assign(_deal=deal_index.get_indexer(visits[OPPORTUNITY_ID]))
    v = v.sort_values(["_deal", "entered_at"], kind="stable").reset_index(drop=True)
    v_keys = _keyed(v["_deal"].to_numpy(), _seconds(v["entered_at"]))
    v_start = np.searchsorted(v_keys, _keyed(np.arange(len(opps)), np.full(len(opps), _BASE)), side="left")
    seen = _count_upto(v_keys, v_start, deal, sec)
    at = v_start[deal] + np.maximum(seen, 1) - 1
    state = v["state"].to_numpy(dtype=object)[at] if len(v) else np.array([], dtype=object)
    entered = _ns(v["entered_at"])[at] if len(v) else np.zeros(0, dtype=np.int64)

    # activity, contacts and channels: the account's touches from lookback before creation to the day
    touches = _deal_touches(data, opps, lookback_days)
    tp = data.touchpoints
    for column in (CONTACT_ID, CHANNEL):
        if column in tp:
            touches[column] = tp[column].iloc[touches["_row"].to_numpy()].reset_index(drop=True)
    # the pairs come in deal order, then the touchpoints' order: in a contract that is time order already, and
    # then they are neither sorted nor copied
    t_ns = _ns(touches[TIMESTAMP])
    if not in_order(touches["_deal"].to_numpy(), t_ns):
        touches = touches.sort_values(["_deal", TIMESTAMP], kind="stable").reset_index(drop=True)
        t_ns = _ns(touches[TIMESTAMP])
    t_keys = _keyed(touches["_deal"].to_numpy(), _seconds(touches[TIMESTAMP]))
    t_start = np.searchsorted(t_keys, _keyed(np.arange(len(opps)), np.full(len(opps), _BASE)), side="left")
    upto = _count_upto(t_keys, t_start, deal, sec)
    recent = upto - _count_upto(t_keys, t_start, deal, sec - ACTIVITY_DAYS * 86400)
    now = _ns(pd.to_datetime(rows["snapshot_at"], utc=True))
    last = t_ns[np.maximum(t_start[deal] + upto - 1, 0)] if len(t_ns) else np.zeros(len(deal), dtype=np.int64)
    age = _days(now - _ns(created.iloc[deal]))
    since_touch = np.where(upto > 0, _days(now - last), age + lookback_days)

    contacts = _first_per(touches, CONTACT_ID) if CONTACT_ID in touches else None
    engaged = _count_firsts(contacts, len(opps), deal, sec)
    buyer = np.zeros(len(rows))
    roles = data.contacts
    if contacts is not None and roles is not None and "role" in roles:
        role_of = roles.set_index(roles[CONTACT_ID].astype(str))["role"].astype("string")
        is_buyer = contacts[CONTACT_ID].astype(str).map(role_of).eq(ECONOMIC_BUYER).fillna(False).to_numpy(bool)
        buyer = (_count_firsts(contacts[is_buyer], len(opps), deal, sec) > 0).astype(float)
    if CONTACT_ID in touches:  # the contacts are counted: their text is freed before the channels are
        del contacts, touches[CONTACT_ID]
    channels = _channels_by_day(touches, len(opps), deal, sec)

    info = opps.iloc[deal].reset_index(drop=True)
    amount = pd.to_numeric(info["amount"], errors="coerce").fillna(0.0).clip(lower=0).to_numpy(dtype=float)
    out = pd.DataFrame({
        OPPORTUNITY_ID: info[OPPORTUNITY_ID].to_numpy(), ACCOUNT_ID: info[ACCOUNT_ID].to_numpy(),
        "segment": info["segment"].to_numpy(), "type": info["type"].to_numpy(), "amount": info["amount"].to_numpy(),
        "snapshot_at": pd.to_datetime(rows["snapshot_at"], utc=True).array, "state": state,
        "days_in_stage": _days(now - entered),
        "age_days": age, "touches_14d": recent.astype(float), "days_since_touch": since_touch,
        "contacts_engaged": engaged.astype(float), "economic_buyer": buyer, "visits_so_far": np.maximum(seen, 1)
        .astype(float), "log_amount": np.log1p(amount), "channels": channels,
        "outcome": info["outcome"].to_numpy(), "closed_at": info["closed_at"].array})
    out["snapshot_at"] = pd.to_datetime(out["snapshot_at"], utc=True)
    out["won"] = np.where(out["outcome"].isna(), np.nan, (out["outcome"] == WON).astype(float))
    return out.sort_values(["snapshot_at", OPPORTUNITY_ID], kind="stable").reset_index(drop=True)


def _first_per(touches: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each deal's first touch time per value of ``column`` (rows with one), sorted by deal and time.

    ``touches`` come sorted by deal and time, so the first row of each (deal, value) holds its first time: found
    on one integer key, by hashing (at 100,000 accounts grouping a frame of the 6M touches on two keys took 1.2 GB).
    """
    have = np.flatnonzero(touches[column].notna().to_numpy())
    codes, texts = text_codes(touches[column])  # grouped by text, each distinct value turned into text once
    deals = touches["_deal"].to_numpy()
    key = deals[have] * max(len(texts), 1) + codes[have]
    rows = have[~pd.Series(key).duplicated().to_numpy()]  # by hashing, in order: deal and time order
    first = pd.DataFrame({"_deal": deals[rows], column: np.asarray(texts, dtype=object)[codes[rows]],
                          TIMESTAMP: touches[TIMESTAMP].array[rows]})
    return first.sort_values(["_deal", TIMESTAMP], kind="stable").reset_index(drop=True)


def _count_firsts(firsts: pd.DataFrame | None, n_deals: int, deal: np.ndarray, sec: np.ndarray) -> np.ndarray:
    """Per row, the values first seen by its day (0 without any)."""
    if firsts is None or firsts.empty:
        return np.zeros(len(deal))
    keys = _keyed(firsts["_deal"].to_numpy(), _seconds(firsts[TIMESTAMP]))
    start = np.searchsorted(keys, _keyed(np.arange(n_deals), np.full(n_deals, _BASE)), side="left")
    return _count_upto(keys, start, deal, sec)


def _channels_by_day(touches: pd.DataFrame, n_deals: int, deal: np.ndarray, sec: np.ndarray) -> list:
    """Per row, the sorted tuple of channels its account touched by its day."""
    if CHANNEL not in touches or touches[CHANNEL].isna().all():
        return [()] * len(deal)
    firsts = _first_per(touches, CHANNEL)
    names = np.asarray(sorted(firsts[CHANNEL].unique()), dtype=object)
    seen = np.zeros((len(deal), len(names)), dtype=bool)
    for j, name in enumerate(names):
        seen[:, j] = _count_firsts(firsts[firsts[CHANNEL] == name], n_deals, deal, sec) > 0
    return [tuple(names[row]) for row in seen]
