"""Cohort retention and net revenue retention from the subscriptions.

Part of :mod:`journeylib.survival`; import the public names from there.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..data.timeparse import as_of_cutoff
from ..schema import ACCOUNT_ID
from .durations import MRR, _mrr_at, _subscriptions_at, subscription_spans

# =========================================================================== cohorts
def cohort_retention(subscriptions: pd.DataFrame, as_of: Any, *, churn_gap_days: int = 30,
                     max_months: int = 24) -> pd.DataFrame:
    """Logo and revenue retention by start-month cohort.

    An account's cohort is the month of its first subscription start. At month k
    (its start plus k calendar months, on or before ``as_of``) it is retained when a
    span of service (:func:`subscription_spans`) covers that day; its MRR there is
    the sum of the rows in force. Only accounts whose month-k day is on or before
    as_of count at month k.

    Parameters
    ----------
    subscriptions : DataFrame
        ``account_id, start_date``, optionally ``end_date`` and ``mrr``.
    as_of : str, date or Timestamp
    churn_gap_days : int, default 30
    max_months : int, default 24

    Returns
    -------
    DataFrame with columns cohort (``YYYY-MM``), months (k), accounts (cohort size),
    observed (accounts whose month-k day is known), retained, logo_retention
    (retained / observed), mrr_start (their MRR at the start), mrr (at month k),
    revenue_retention (mrr / mrr_start: net revenue retention; NaN without an
    ``mrr`` column). Sorted by cohort and months; cells with nobody observed are left out.
    """
    max_months = check_int(max_months, "max_months", minimum=0)
    cutoff = as_of_cutoff(as_of)
    sub = _subscriptions_at(subscriptions, cutoff)
    spans = subscription_spans(subscriptions, cutoff, churn_gap_days=churn_gap_days)
    cols = ["cohort", "months", "accounts", "observed", "retained", "logo_retention", "mrr_start", "mrr",
            "revenue_retention"]
    if spans.empty:
        return pd.DataFrame(columns=cols)
    first = spans.groupby("account_id")["start"].min()
    acc = pd.DataFrame({ACCOUNT_ID: first.index, "origin": first.to_numpy()})
    acc["cohort"] = acc["origin"].dt.tz_localize(None).dt.to_period("M").astype(str)
    size = acc.groupby("cohort").size()
    has_mrr = MRR in sub
    if has_mrr:
        mrr0 = _mrr_at(sub, acc[[ACCOUNT_ID]].assign(at=acc["origin"]))
    parts = []
    for k in range(int(max_months) + 1):
        at = acc["origin"] + pd.DateOffset(months=k)
        seen = (at <= cutoff).to_numpy()
        if not seen.any():
            break
        marks = acc.loc[seen, [ACCOUNT_ID, "cohort"]].assign(at=at[seen].to_numpy())
        cover = spans[[ACCOUNT_ID, "start", "churn_at"]].merge(marks, on=ACCOUNT_ID)
        inside = (cover["start"] <= cover["at"]) & (cover["churn_at"].isna() | (cover["at"] < cover["churn_at"]))
        kept = set(cover.loc[inside.to_numpy(), ACCOUNT_ID])
        marks["retained"] = marks[ACCOUNT_ID].isin(kept)
        if has_mrr:
            marks["mrr_start"] = mrr0[seen]
            marks["mrr"] = _mrr_at(sub, marks[[ACCOUNT_ID, "at"]])
        else:
            marks["mrr_start"] = np.nan
            marks["mrr"] = np.nan
        g = marks.groupby("cohort")
        part = pd.DataFrame({"observed": g.size(), "retained": g["retained"].sum(),
                             "mrr_start": g["mrr_start"].sum(min_count=1), "mrr": g["mrr"].sum(min_count=1)})
        part["months"] = k
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True)
    out["accounts"] = out["cohort"].map(size).astype("int64")
    out["observed"] = out["observed"].astype("int64")
    out["retained"] = out["retained"].astype("int64")
    out["logo_retention"] = out["retained"] / out["observed"]
    with np.errstate(all="ignore"):
        out["revenue_retention"] = (out["mrr"] / out["mrr_start"]).where(out["mrr_start"] > 0)
    return out.sort_values(["cohort", "months"], kind="stable").reset_index(drop=True)[cols]


def net_revenue_retention(subscriptions: pd.DataFrame, as_of: Any, *, months: int = 12) -> pd.DataFrame:
    """Trailing net and gross revenue retention over the ``months`` before ``as_of``.

    The accounts paying at the start (``as_of`` minus ``months``, the first instant
    after as_of minus that many calendar months) and their MRR then and at the end
    of as_of: NRR = MRR now / MRR then (expansions count), GRR caps each account's
    MRR now at its MRR then (expansions do not count).

    Returns
    -------
    One-row DataFrame with columns start, end, accounts, mrr_start, mrr_end,
    net_revenue_retention, gross_revenue_retention, logo_retention (share of those
    accounts still paying), note (why values are missing, else "").
    """
    months = check_int(months, "months", minimum=1)
    cutoff = as_of_cutoff(as_of)
    end = cutoff + pd.Timedelta(1, "ns")
    start = end - pd.DateOffset(months=int(months))
    row = {"start": start, "end": end, "accounts": 0, "mrr_start": np.nan, "mrr_end": np.nan,
           "net_revenue_retention": np.nan, "gross_revenue_retention": np.nan, "logo_retention": np.nan, "note": ""}
    sub = _subscriptions_at(subscriptions, cutoff)
    if MRR not in sub:
        row["note"] = "subscriptions have no mrr column: revenue retention not computed"
        return pd.DataFrame([row])
    ids = pd.DataFrame({ACCOUNT_ID: sub[ACCOUNT_ID].unique()})
    then = _mrr_at(sub, ids.assign(at=start))
    now = _mrr_at(sub, ids.assign(at=cutoff))
    paying = then > 0
    if not paying.any():
        row["note"] = f"no account paid at {start.date()}: nothing to retain"
        return pd.DataFrame([row])
    row.update(accounts=int(paying.sum()), mrr_start=float(then[paying].sum()), mrr_end=float(now[paying].sum()),
               net_revenue_retention=float(now[paying].sum() / then[paying].sum()),
               gross_revenue_retention=float(np.minimum(now, then)[paying].sum() / then[paying].sum()),
               logo_retention=float((now[paying] > 0).mean()))
    return pd.DataFrame([row])
