"""Outcomes and journeys per persona: win rate, cycle, time to value, churn, NRR, paths, committee.

Part of :mod:`journeylib.segments`; import the public names from there.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..schema import ACCOUNT_ID, CONTACT_ID, STAGE, TIMESTAMP
from .columns import UNASSIGNED
from ..data.history import tables_as_of
from ..data.pairs import naive_utc
from .profiles import _as_labels
from ..data.contract import as_text, text_codes
from .features import _kept_codes, _regroup

# --------------------------------------------------------------------------- outcomes
def _tables(data: Any, as_of: Any) -> tuple[dict[str, pd.DataFrame | None], pd.Timestamp, Any]:
    from .features import _tables_and_cutoff

    tables, cutoff, lifecycle = _tables_and_cutoff(data, as_of)
    return tables_as_of(tables, cutoff), cutoff, lifecycle


def _assignment(personas: "pd.DataFrame | pd.Series") -> pd.DataFrame:
    if isinstance(personas, pd.DataFrame) and {ACCOUNT_ID, "persona_id", "persona"} <= set(personas.columns):
        out = personas[[ACCOUNT_ID, "persona_id", "persona"]].copy()
    else:
        lab = _as_labels(personas)
        out = pd.DataFrame({ACCOUNT_ID: lab.index.astype(str), "persona": lab.to_numpy().astype(str)})
        names = sorted(out["persona"].unique())
        out["persona_id"] = out["persona"].map({n: i for i, n in enumerate(names)})
    out[ACCOUNT_ID] = out[ACCOUNT_ID].astype(str)
    out = out.loc[(out["persona_id"] >= 0) & (out["persona"] != UNASSIGNED)]
    if out.empty:
        raise ParameterError("no account is assigned to a persona; nothing to describe")
    return out


def _active_mrr(subs: pd.DataFrame, at: pd.Timestamp) -> pd.Series:
    on = (subs["start_date"] <= at) & (subs["end_date"].isna() | (subs["end_date"] >= at))
    mrr = subs["mrr"] if "mrr" in subs else pd.Series(np.nan, index=subs.index)
    return mrr.where(on, 0.0).groupby(subs[ACCOUNT_ID].astype(str)).sum()


def persona_outcomes(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None, *,
                     value_share: float = 0.25) -> pd.DataFrame:
    """Commercial and product outcomes per persona, as of ``as_of``.

    Definitions (all from rows at or before as_of; later closes and ends are cut):

    * ``win_rate``: won / (won + lost) new-business opportunities closed by as_of.
    * ``sales_cycle_days``: median days from creation to close of the won ones.
    * ``time_to_value_days``: median days from a customer's first subscription start to
      its first usage week with active_users >= ceil(value_share x seats_purchased of
      that subscription), among the customers that reached it (not adjusted for the
      ones still on the way); ``value_reached`` is their share of customers with usage.
    * ``churn_rate``: customers (a subscription started by as_of) with no subscription
      active at as_of / customers.
    * ``expansion_rate``: customers with a won expansion opportunity / customers.
    * ``nrr``: MRR active at as_of / MRR active 365 days earlier, over the accounts
      with MRR then (net revenue retention; NaN when no account had MRR then).

    Parameters
    ----------
    data : JourneyData or dict of tables
    personas : DataFrame (account_id, persona_id, persona) or Series account_id -> persona
    as_of : date, optional (required for a dict of tables)

    Returns
    -------
    DataFrame with columns persona_id, persona, accounts, customers, won, lost, win_rate,
    sales_cycle_days, time_to_value_days, value_reached, churn_rate, expansion_rate, nrr;
    metrics whose table is absent are NaN and ``attrs["notes"]`` says so.
    """
    t, cutoff, _ = _tables(data, as_of)
    assign = _assignment(personas)
    pid = assign.set_index(ACCOUNT_ID)["persona_id"]
    names = assign.drop_duplicates("persona_id").set_index("persona_id")["persona"]
    out = pd.DataFrame({"persona_id": sorted(pid.unique())})
    out["persona"] = out["persona_id"].map(names)
    out["accounts"] = out["persona_id"].map(pid.value_counts()).astype("int64")
    notes: list[str] = []

    def per(series: pd.Series, how: str) -> pd.Series:
        frame = pd.DataFrame({"v": series.to_numpy(), "p": series.index.map(pid)}).dropna(subset=["p"])
        agg = frame.groupby("p")["v"].agg(how)
        return out["persona_id"].map(agg)

    opps = t.get("opportunities")
    if opps is not None:
        o = opps.assign(**{ACCOUNT_ID: opps[ACCOUNT_ID].astype(str)})
        new = o.loc[(o["type"].isna() | (o["type"] == "new"))] if "type" in o else o
        closed = new.loc[new["status"].isin(["won", "lost"])]
        won = closed.loc[closed["status"] == "won"]
        out["won"] = per((won["status"] == "won").set_axis(won[ACCOUNT_ID]), "sum").fillna(0).astype("int64")
        out["lost"] = per((closed["status"] == "lost").set_axis(closed[ACCOUNT_ID]), "sum").fillna(0).astype("int64")
        total = out["won"] + out["lost"]
        out["win_rate"] = (out["won"] / total).where(total > 0)
        days = (won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400.0
        out["sales_cycle_days"] = per(days.set_axis(won[ACCOUNT_ID]), "median")
    else:
        out["won"] = out["lost"] = 0
        out["win_rate"] = out["sales_cycle_days"] = np.nan
        notes.append("no opportunities table: win rate and sales cycle are missing")

    subs = t.get("subscriptions")
    if subs is not None and len(subs):
        s = subs.assign(**{ACCOUNT_ID: subs[ACCOUNT_ID].astype(str)})
        customers = pd.Index(s[ACCOUNT_ID].unique())
        out["customers"] = per(pd.Series(1, index=customers), "sum").fillna(0).astype("int64")
        active_now = _active_mrr(s.assign(mrr=1.0), cutoff) > 0
        churned = (~active_now).astype(float)
        out["churn_rate"] = per(churned, "mean")
        if opps is not None and "type" in opps:
            exp = o.loc[(o["type"] == "expansion") & (o["status"] == "won"), ACCOUNT_ID].unique()
            out["expansion_rate"] = per(pd.Series(customers.isin(exp).astype(float), index=customers), "mean")
        else:
            out["expansion_rate"] = np.nan
            notes.append("no expansion opportunities: expansion rate is missing")
        if "mrr" in s:
            then = _active_mrr(s, cutoff - pd.Timedelta(days=365))
            now = _active_mrr(s, cutoff).reindex(then.index, fill_value=0.0)
            base = then.loc[then > 0]
            num, den = per(now.loc[base.index], "sum"), per(base, "sum")
            out["nrr"] = (num / den).where(den > 0)
        else:
            out["nrr"] = np.nan
            notes.append("no mrr column: net revenue retention is missing")
        usage = t.get("usage")
        if usage is not None and len(usage) and "active_users" in usage and "seats_purchased" in s:
            first = s.sort_values("start_date", kind="stable").drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)
            u = usage.assign(**{ACCOUNT_ID: as_text(usage[ACCOUNT_ID])})
            u = u.loc[u[ACCOUNT_ID].isin(first.index)]
            need = np.ceil(value_share * first["seats_purchased"]).reindex(u[ACCOUNT_ID]).to_numpy()
            # compared as UTC datetime64 (a tz-aware column's to_numpy() is an object array of Timestamps)
            start = first["start_date"].reindex(u[ACCOUNT_ID])
            on_or_after = naive_utc(u["date"]) >= naive_utc(start)
            ok = (u["active_users"].to_numpy() >= need) & on_or_after & ~np.isnan(need)
            reached = u.loc[ok].groupby(ACCOUNT_ID)["date"].min()
            ttv = ((reached - first["start_date"].reindex(reached.index)).dt.total_seconds() / 86400.0).clip(lower=0)
            with_usage = pd.Index(u[ACCOUNT_ID].unique())
            out["time_to_value_days"] = per(ttv, "median")
            out["value_reached"] = per(pd.Series(with_usage.isin(reached.index).astype(float), index=with_usage), "mean")
        else:
            out["time_to_value_days"] = out["value_reached"] = np.nan
            notes.append("no usage (or no seats_purchased): time to value is missing")
    else:
        out["customers"] = 0
        for col in ("churn_rate", "expansion_rate", "nrr", "time_to_value_days", "value_reached"):
            out[col] = np.nan
        notes.append("no subscriptions table: churn, expansion, NRR and time to value are missing")
    cols = ["persona_id", "persona", "accounts", "customers", "won", "lost", "win_rate", "sales_cycle_days",
            "time_to_value_days", "value_reached", "churn_rate", "expansion_rate", "nrr"]
    out = out[cols]
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------- journeys
def _first_entries(t: dict, personas: "pd.DataFrame | pd.Series", lifecycle) -> pd.DataFrame:
    """Per assigned account and linear stage it entered, its first time there (text ids; touchpoints grouped by
    codes, each distinct account and stage turned into text once)."""
    assign = _assignment(personas)
    tp = t["touchpoints"]
    linear = [s for s in lifecycle.ids if s not in lifecycle.recurring]
    account, texts = text_codes(tp[ACCOUNT_ID])
    stage = _regroup(*_kept_codes(tp[STAGE]), linear)
    rows = pd.Series(texts).isin(assign[ACCOUNT_ID]).to_numpy()[account] & (stage >= 0)
    entries = pd.DataFrame({"a": account[rows], "s": stage[rows], TIMESTAMP: tp[TIMESTAMP].array[rows]})
    first = entries.groupby(["a", "s"])[TIMESTAMP].min().reset_index()
    first = pd.DataFrame({ACCOUNT_ID: texts[first["a"].to_numpy()],
                          STAGE: np.asarray(linear, dtype=object)[first["s"].to_numpy()], TIMESTAMP: first[TIMESTAMP]})
    first["order"] = first[STAGE].map(lifecycle.order)
    first = first.sort_values([ACCOUNT_ID, TIMESTAMP, "order"], kind="stable")
    return first.merge(assign, on=ACCOUNT_ID, how="inner")


def persona_paths(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None, *,
                  top: int = 3) -> pd.DataFrame:
    """The most common stage paths of each persona.

    An account's path is the order in which it first entered each linear stage of the
    lifecycle (recurring stages such as support are left out; a return to an earlier
    stage does not add a step), as of ``as_of``.

    Returns
    -------
    DataFrame with columns persona_id, persona, rank (1 = most common), path (stage ids
    joined by " > "), steps, accounts, share (of the persona's accounts with any stage).
    """
    t, _, lifecycle = _tables(data, as_of)
    first = _first_entries(t, personas, lifecycle)
    cols = ["persona_id", "persona", "rank", "path", "steps", "accounts", "share"]
    if first.empty:
        return pd.DataFrame(columns=cols)
    paths = first.groupby([ACCOUNT_ID, "persona_id", "persona"], sort=False)[STAGE].agg(" > ".join).reset_index()
    counts = paths.groupby(["persona_id", "persona", STAGE]).size().rename("accounts").reset_index()
    totals = paths.groupby("persona_id").size()
    counts["share"] = counts["accounts"] / counts["persona_id"].map(totals)
    counts = counts.sort_values(["persona_id", "accounts", STAGE], ascending=[True, False, True], kind="stable")
    counts["rank"] = counts.groupby("persona_id").cumcount() + 1
    counts = counts.loc[counts["rank"] <= top].rename(columns={STAGE: "path"})
    counts["steps"] = counts["path"].str.count(" > ") + 1
    return counts[cols].reset_index(drop=True)


def persona_stage_times(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None) -> pd.DataFrame:
    """Median time spent in each stage per persona.

    The time in a stage is the days from an account's first entry into it to its first
    entry into the next stage of its path (see :func:`persona_paths`); the last stage
    reached has no time yet and is not counted.

    Returns
    -------
    DataFrame with columns persona_id, persona, stage, label, order, accounts (with a
    time for that stage), median_days; stages in lifecycle order.
    """
    t, _, lifecycle = _tables(data, as_of)
    first = _first_entries(t, personas, lifecycle)
    cols = ["persona_id", "persona", "stage", "label", "order", "accounts", "median_days"]
    if first.empty:
        return pd.DataFrame(columns=cols)
    nxt = first.groupby(ACCOUNT_ID)[TIMESTAMP].shift(-1)
    first = first.assign(days=(nxt - first[TIMESTAMP]).dt.total_seconds() / 86400.0).dropna(subset=["days"])
    agg = first.groupby(["persona_id", "persona", STAGE])["days"].agg(accounts="size", median_days="median")
    out = agg.reset_index()
    out["order"] = out[STAGE].map(lifecycle.order)
    out["label"] = out[STAGE].map(lifecycle.labels)
    out["accounts"] = out["accounts"].astype("int64")
    return out.sort_values(["persona_id", "order"], kind="stable")[cols].reset_index(drop=True)


def committee_engagement(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None) -> pd.DataFrame:
    """Which buying-committee roles engage in which stages, per persona.

    Touchpoints with a contact are joined to the contact's role (contacts without a
    role count as ``unknown``); anonymous touchpoints are left out.

    Returns
    -------
    DataFrame with columns persona_id, persona, role, stage, touchpoints, accounts
    (accounts where that role touched that stage), share (accounts / the persona's
    accounts); empty with ``attrs["notes"]`` when there is no contacts table.
    """
    t, _, lifecycle = _tables(data, as_of)
    cols = ["persona_id", "persona", "role", "stage", "touchpoints", "accounts", "share"]
    assign = _assignment(personas)
    contacts = t.get("contacts")
    if contacts is None or CONTACT_ID not in t["touchpoints"]:
        out = pd.DataFrame(columns=cols)
        out.attrs["notes"] = ["no contacts table (or no contact_id on touchpoints): committee roles are unknown"]
        return out
    roles = contacts.assign(**{CONTACT_ID: contacts[CONTACT_ID].astype(str)}).drop_duplicates(CONTACT_ID) \
        .set_index(CONTACT_ID)["role"] if "role" in contacts else pd.Series(dtype=object)
    # touchpoints grouped by codes; each distinct account, contact and stage turned into text once
    tp = t["touchpoints"]
    rows = (tp[CONTACT_ID].notna() & tp[STAGE].notna()).to_numpy()
    account, account_text = text_codes(tp[ACCOUNT_ID])
    contact, contact_text = text_codes(tp[CONTACT_ID])
    role, role_names = pd.factorize(pd.Series(contact_text).map(roles).fillna("unknown").astype(str))
    codes, texts = _kept_codes(tp[STAGE], rows)
    stages = sorted({texts[i] for i in np.unique(codes[codes >= 0])})
    personas_of = pd.DataFrame({"a": np.arange(len(account_text)), ACCOUNT_ID: account_text}) \
        .merge(assign, on=ACCOUNT_ID, how="inner")[["a", "persona_id", "persona"]]
    # touchpoints counted per (account, role, stage) on one integer key first: the personas join those, not
    # every touchpoint
    n_roles, n_stages = len(role_names), len(stages)
    key = account[rows]
    key *= n_roles
    key += role[contact[rows]]
    key *= n_stages
    key += _regroup(codes, texts, stages)
    del account, contact, codes
    combos, touches = np.unique(key, return_counts=True)
    del key
    events = pd.DataFrame({"a": combos // (n_roles * n_stages), "role": combos // n_stages % n_roles,
                           "stage_id": combos % n_stages, "touches": touches})
    events = events.merge(personas_of, on="a", how="inner")
    agg = events.groupby(["persona_id", "persona", "role", "stage_id"]).agg(
        touchpoints=("touches", "sum"), accounts=("a", "nunique")).reset_index()
    agg["role"] = np.asarray(role_names, dtype=object)[agg["role"].to_numpy()]
    agg["stage_id"] = np.asarray(stages, dtype=object)[agg["stage_id"].to_numpy()]
    agg = agg.sort_values(["persona_id", "persona", "role", "stage_id"], kind="stable").reset_index(drop=True)
    sizes = assign.groupby("persona_id").size()
    agg["share"] = agg["accounts"] / agg["persona_id"].map(sizes)
    agg["order"] = agg["stage_id"].map(lifecycle.order)
    agg = agg.sort_values(["persona_id", "role", "order"], kind="stable").rename(columns={"stage_id": "stage"})
    out = agg[cols].reset_index(drop=True)
    out.attrs["notes"] = []
    return out


