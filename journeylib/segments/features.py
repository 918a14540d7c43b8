"""Account features as of a date: one row per account, for personas and profiles.

:func:`account_features` turns the journey tables into one documented row per
account using only what is known at the end of ``as_of`` (rows dated after it
are dropped, intervals that cross it are cut at it, whatever the tables hold),
so changing any row dated after ``as_of`` changes no feature. Optional tables
that are absent leave their features missing and say so in ``frame.attrs["notes"]``.

Feature columns (``FEATURES`` holds each one's group, kind and meaning):

==================  ======================================================================
group               columns
==================  ======================================================================
firmographics       employees, industry, region, plan (the plan of the subscription active
                    at as_of, else the accounts table's plan)
committee           contacts (listed for the account), contacts_engaged (with a touchpoint
                    or a lead by as_of), leads, role_<role> (1 when a listed contact has
                    that role)
engagement          touchpoints, stage_<id> (touchpoints per lifecycle stage),
                    channel_<name> (touchpoints per channel), journey_touchpoints (the
                    buying journey: touchpoints up to the first won new-business close, or
                    up to as_of without one), paid_share and self_guided_share (shares of
                    the buying journey's touchpoints in paid / self-guided channels,
                    smoothed as (n + 1/2) / (N + 1) so a short journey is never 0 or 1)
sales               opportunities (new business), sales_cycle_days (first new-business
                    opportunity: creation to close, to as_of while open)
usage               usage_weeks, active_users_mean, events_per_active_user (events / active
                    users), seat_utilisation (active users / seats used), features_used
support             tickets, tickets_per_month (per month as a customer), high_priority_share
surveys             nps_mean, csat_mean, ces_mean (survey responses by as_of)
==================  ======================================================================

Examples
--------
>>> import journeylib
>>> from journeylib.segments import account_features
>>> data = journeylib.load(None, as_of="2026-10-31")  # doctest: +SKIP
>>> feats = account_features(data)  # doctest: +SKIP
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.history import tables_as_of
from ..data.pairs import naive_utc
from ..data.timeparse import as_of_cutoff
from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, CHANNEL, CONTACT_ID, OPPORTUNITY_ID, STAGE, TABLES, TIMESTAMP
from ..stages import Lifecycle, default_lifecycle
from ..data.contract import text_codes

__all__ = [
    "Feature", "FEATURES", "FEATURE_GROUPS", "PAID_CHANNELS", "SELF_GUIDED_CHANNELS", "account_features",
    "feature_info",
]

#: Channels counted as paid media in ``paid_share``.
PAID_CHANNELS: tuple[str, ...] = ("paid_search", "paid_social", "display")
#: Channels counted as self-guided research in ``self_guided_share`` (search, product trial, help centre).
SELF_GUIDED_CHANNELS: tuple[str, ...] = ("organic", "product", "support")

_MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class Feature:
    """One feature column: its group, kind and meaning.

    ``kind`` says how the clustering pipeline transforms it: ``count`` and ``days``
    (log1p), ``share`` (log-odds), ``ratio`` and ``score`` (as is), ``flag`` (0/1),
    ``category`` (one-hot).
    """

    name: str
    group: str
    kind: str
    doc: str
    high: str = ""  # trait phrase when a persona is above the average
    low: str = ""   # trait phrase when below


_BASE: tuple[Feature, ...] = (
    Feature("employees", "firmographics", "count", "employees of the account", "large companies", "small companies"),
    Feature("industry", "firmographics", "category", "industry"),
    Feature("region", "firmographics", "category", "region"),
    Feature("plan", "firmographics", "category", "plan of the subscription active at as_of, else the account's plan"),
    Feature("contacts", "committee", "count", "contacts listed for the account (the buying committee)",
            "big buying committees", "one or two buyers"),
    Feature("contacts_engaged", "committee", "count", "contacts with a touchpoint or a lead by as_of",
            "many engaged contacts", "few engaged contacts"),
    Feature("leads", "committee", "count", "leads created by as_of", "many leads", "few leads"),
    Feature("touchpoints", "engagement", "count", "touchpoints by as_of", "heavy engagement", "light engagement"),
    Feature("journey_touchpoints", "engagement", "count",
            "touchpoints of the buying journey (up to the first won new-business close, else up to as_of)",
            "long buying journeys", "short buying journeys"),
    Feature("paid_share", "engagement", "share",
            "share of the buying journey's touchpoints in paid channels (PAID_CHANNELS), smoothed: (n + 1/2) / (N + 1)",
            "paid-media led", "little paid media"),
    Feature("self_guided_share", "engagement", "share",
            "share of the buying journey's touchpoints in self-guided channels (SELF_GUIDED_CHANNELS), smoothed",
            "self-guided research", "guided by sales and content"),
    Feature("opportunities", "sales", "count", "new-business opportunities created by as_of",
            "several deals", "few deals"),
    Feature("sales_cycle_days", "sales", "days",
            "days from the first new-business opportunity's creation to its close (to as_of while open)",
            "long sales cycles", "short sales cycles"),
    Feature("usage_weeks", "usage", "count", "weekly usage rows by as_of", "long product use", "short product use"),
    Feature("active_users_mean", "usage", "count", "mean weekly active users", "many active users",
            "few active users"),
    Feature("events_per_active_user", "usage", "count", "product events per weekly active user",
            "heavy product use", "light product use"),
    Feature("seat_utilisation", "usage", "ratio", "weekly active users / seats used (summed over weeks)",
            "high seat utilisation", "low seat utilisation"),
    Feature("features_used", "usage", "count", "distinct most-used features over the weeks", "broad feature use",
            "narrow feature use"),
    Feature("tickets", "support", "count", "support tickets opened by as_of", "many tickets", "few tickets"),
    Feature("tickets_per_month", "support", "count", "tickets per month since the first subscription start",
            "heavy support load", "light support load"),
    Feature("high_priority_share", "support", "share", "share of tickets with priority high or urgent",
            "urgent tickets", "few urgent tickets"),
    Feature("nps_mean", "surveys", "score", "mean NPS score (0-10)", "promoters (high NPS)", "detractors (low NPS)"),
    Feature("csat_mean", "surveys", "score", "mean CSAT score (1-5)", "high CSAT", "low CSAT"),
    Feature("ces_mean", "surveys", "score", "mean CES score (1-7, 7 = very easy)", "easy to work with",
            "hard to work with"),
)
FEATURES: dict[str, Feature] = {f.name: f for f in _BASE}
FEATURE_GROUPS: tuple[str, ...] = ("firmographics", "committee", "engagement", "sales", "usage", "support", "surveys")
_DYNAMIC = (("role_", "committee", "flag", "a contact with role {x} is listed", "{x} in the committee",
             "no {x}"),
            ("stage_", "engagement", "count", "touchpoints in stage {x}", "much {x} activity", "little {x} activity"),
            ("channel_", "engagement", "count", "touchpoints through channel {x}", "much {x}", "little {x}"))


def feature_info(name: str) -> Feature:
    """The :class:`Feature` of a column, including the generated ``role_*``, ``stage_*``, ``channel_*`` ones."""
    if name in FEATURES:
        return FEATURES[name]
    for prefix, group, kind, doc, high, low in _DYNAMIC:
        if name.startswith(prefix):
            x = name[len(prefix):].replace("_", " ")
            return Feature(name, group, kind, doc.format(x=x), high.format(x=x), low.format(x=x))
    raise ParameterError(f"unknown feature '{name}'{did_you_mean(name, FEATURES)}; features: {', '.join(FEATURES)} "
                         "and role_*, stage_*, channel_* columns")


# --------------------------------------------------------------------------- as-of filtering
def _tables_and_cutoff(data: Any, as_of: Any) -> tuple[dict[str, pd.DataFrame | None], pd.Timestamp, Lifecycle]:
    tables = getattr(data, "tables", None)
    if tables is not None:  # a JourneyData
        tz = getattr(data, "tz", "UTC")
        cutoff = data.cutoff if as_of is None else min(as_of_cutoff(as_of, tz), data.cutoff)
        return dict(tables), cutoff, data.lifecycle
    if not isinstance(data, Mapping):
        raise ParameterError(f"data must be a JourneyData or a dict of tables; got {type(data).__name__}")
    if as_of is None:
        raise ParameterError("as_of is required when data is a dict of tables (e.g. as_of='2026-10-31')")
    unknown = [t for t in data if t not in TABLES]
    if unknown:
        raise ParameterError(f"unknown tables {unknown}{did_you_mean(unknown[0], TABLES)}; tables: {', '.join(TABLES)}")
    return {t: data.get(t) for t in TABLES}, as_of_cutoff(as_of), default_lifecycle()


# --------------------------------------------------------------------------- features
def _slug(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower()).strip("_") or "none"


def _per_account(ids: pd.Index, values: pd.Series) -> pd.Series:
    return values.reindex(ids)


def _counts(ids: pd.Index, keys: pd.Series) -> pd.Series:
    return keys.value_counts().reindex(ids, fill_value=0).astype("float64")


def _positions(ids: pd.Index, keys: pd.Series) -> np.ndarray:
    """Per key, the position among ``ids`` (unique) of its text, -1 for none."""
    codes, texts = text_codes(keys)
    return ids.get_indexer(texts)[codes]


def _kept_codes(column: pd.Series, kept: "np.ndarray | None" = None) -> tuple[np.ndarray, list[str]]:
    """The ``kept`` rows' (default: all) codes into the column's distinct values (missing: -1), and those values
    as text."""
    codes, distinct = pd.factorize(column)
    return codes if kept is None else codes[kept], [str(v) for v in np.asarray(distinct, dtype=object)]


def _regroup(codes: np.ndarray, texts: list[str], names: Sequence[str]) -> np.ndarray:
    """``codes`` into ``texts`` as positions among ``names`` (-1: missing, or none of the names)."""
    lookup = {name: k for k, name in enumerate(names)}
    return np.array([lookup.get(text, -1) for text in texts] + [-1], dtype=np.int64)[codes]


def _bincount(ids: pd.Index, positions: np.ndarray) -> pd.Series:
    """How many times each of ``ids`` is at ``positions`` (float)."""
    return pd.Series(np.bincount(positions, minlength=len(ids)).astype("float64"), index=ids)


def _by_position(ids: pd.Index, values: pd.Series) -> pd.Series:
    """Values indexed by positions among ``ids``, indexed by ``ids`` (NaN where none)."""
    return pd.Series(values.to_numpy(), index=ids[np.asarray(values.index, dtype=np.int64)]).reindex(ids)


def _bincounts(ids: pd.Index, positions: np.ndarray, group: np.ndarray, n_groups: int) -> list[pd.Series]:
    """Per group (0 to ``n_groups`` - 1), :func:`_bincount` of the positions in it; a group of -1 is in none."""
    ok = group >= 0
    grid = np.bincount(positions[ok] * n_groups + group[ok], minlength=len(ids) * n_groups)
    grid = grid.reshape(len(ids), n_groups)
    return [pd.Series(grid[:, k].astype("float64"), index=ids) for k in range(n_groups)]


def account_features(data: Any, as_of: Any = None, *, paid_channels: Sequence[str] = PAID_CHANNELS,
                     self_guided_channels: Sequence[str] = SELF_GUIDED_CHANNELS) -> pd.DataFrame:
    """One row of features per account, from what is known at the end of ``as_of``.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
        The journey tables (contract column names; timestamps tz-aware or ISO text).
    as_of : str or date, optional
        Nothing after the end of this day (UTC for a dict of tables, the data's
        timezone for a JourneyData) is used. Default for a JourneyData: its ``as_of``.
        Required for a dict.
    paid_channels, self_guided_channels : sequence of str
        Channels (case-insensitive) counted in ``paid_share`` and ``self_guided_share``.

    Returns
    -------
    DataFrame
        One row per account known at as_of, ``account_id`` first, then the feature
        columns of the module docstring (float for numbers, object for categories;
        NaN where the input needed is absent, e.g. usage features of a prospect).
        ``attrs["notes"]`` lists skipped feature groups (absent optional tables);
        ``attrs["as_of"]`` the cutoff used.

    Raises
    ------
    ParameterError
        A bad ``as_of``, or data that is neither a JourneyData nor a dict of tables.
    """
    tables, cutoff, lifecycle = _tables_and_cutoff(data, as_of)
    if tables.get("accounts") is None or tables.get("touchpoints") is None:
        raise ParameterError("account_features needs the accounts and touchpoints tables; "
                             f"got {', '.join(t for t, df in tables.items() if df is not None) or 'none'}")
    t = tables_as_of(tables, cutoff)
    notes: list[str] = []
    acc = t["accounts"].drop_duplicates(ACCOUNT_ID)
    ids = pd.Index(acc[ACCOUNT_ID].astype(str), name=ACCOUNT_ID)
    acc = acc.set_index(ids)
    out = pd.DataFrame(index=ids)

    # firmographics
    out["employees"] = pd.to_numeric(acc["employees"], errors="coerce").astype("float64") \
        if "employees" in acc else np.nan
    for col in ("industry", "region"):
        out[col] = acc[col].astype(object).where(acc[col].notna(), None) if col in acc else None
    plan = acc["plan"].astype(object) if "plan" in acc else pd.Series(None, index=ids, dtype=object)
    subs = t.get("subscriptions")
    if subs is not None and "plan" in subs and len(subs):
        active = subs.loc[subs["end_date"].isna() if "end_date" in subs else slice(None)]
        active = active.sort_values("start_date", kind="stable").drop_duplicates(ACCOUNT_ID, keep="last")
        sub_plan = active.set_index(active[ACCOUNT_ID].astype(str))["plan"]
        plan = sub_plan.reindex(ids).where(lambda s: s.notna(), plan)
    out["plan"] = plan.where(plan.notna(), None).astype(object)

    # committee
    source = t["touchpoints"]
    # each touchpoint's account as its position among ids: counts are bincounts, not text compared row by row
    position = _positions(ids, source[ACCOUNT_ID])
    kept = position >= 0
    position = position[kept]
    contacts, leads = t.get("contacts"), t.get("leads")
    if contacts is not None:
        con = contacts.loc[contacts[ACCOUNT_ID].astype(str).isin(ids)]
        out["contacts"] = _counts(ids, con[ACCOUNT_ID].astype(str))
        engaged_ids = set()
        if CONTACT_ID in source:
            codes, texts = _kept_codes(source[CONTACT_ID], kept)
            engaged_ids = {texts[i] for i in np.unique(codes[codes >= 0])}
            del codes
        if leads is not None and CONTACT_ID in leads:
            engaged_ids |= set(leads[CONTACT_ID].dropna().astype(str))
        eng = con.loc[con[CONTACT_ID].astype(str).isin(engaged_ids)]
        out["contacts_engaged"] = _counts(ids, eng[ACCOUNT_ID].astype(str))
        if "role" in con:
            roles = con.dropna(subset=["role"])
            for role in sorted(roles["role"].astype(str).unique()):
                has = roles.loc[roles["role"].astype(str) == role, ACCOUNT_ID].astype(str).unique()
                out[f"role_{_slug(role)}"] = pd.Series(ids.isin(has), index=ids).astype("float64")
    else:
        out["contacts"] = np.nan
        out["contacts_engaged"] = np.nan
        notes.append("committee: no contacts table, so contacts and roles are missing")
    if leads is not None and ACCOUNT_ID in leads:
        out["leads"] = _counts(ids, leads[ACCOUNT_ID].dropna().astype(str))
    else:
        out["leads"] = np.nan
        notes.append("committee: no leads table (or no account_id in it), so leads is missing")

    # engagement
    out["touchpoints"] = _bincount(ids, position)
    stage = _regroup(*_kept_codes(source[STAGE], kept), lifecycle.ids) if STAGE in source else \
        np.full(len(position), -1)
    for sid, counts in zip(lifecycle.ids, _bincounts(ids, position, stage, len(lifecycle.ids))):
        out[f"stage_{sid}"] = counts
    del stage  # a touchpoint-long array: each is freed once used (at 100,000 accounts 76 MB each)
    channels, channel = [], np.full(len(position), -1)
    if CHANNEL in source:  # channels compared stripped and in lower case
        codes, texts = _kept_codes(source[CHANNEL], kept)
        lowered = [text.strip().lower() for text in texts]
        channels = sorted({lowered[i] for i in np.unique(codes[codes >= 0])})
        channel = _regroup(codes, lowered, channels)
    for ch, counts in zip(channels, _bincounts(ids, position, channel, len(channels))):
        out[f"channel_{_slug(ch)}"] = counts
    opps = t.get("opportunities")
    new = None
    if opps is not None:
        new = opps.loc[opps[ACCOUNT_ID].astype(str).isin(ids)].copy()
        new[ACCOUNT_ID] = new[ACCOUNT_ID].astype(str)
        if "type" in new:
            new = new.loc[new["type"].isna() | (new["type"].astype(str) == "new")]
    journey_end = pd.Series(cutoff, index=ids)
    if new is not None and "status" in new and "closed_at" in new:
        won = new.loc[(new["status"] == "won") & new["closed_at"].notna()]
        first_won = won.groupby(ACCOUNT_ID)["closed_at"].min()
        journey_end = first_won.reindex(ids).fillna(cutoff)
    # compared as UTC datetime64 (a tz-aware column's to_numpy() is an object array of Timestamps: 20x slower)
    in_journey = naive_utc(source[TIMESTAMP])[kept] <= naive_utc(journey_end)[position]
    n_journey = _bincount(ids, position[in_journey])
    out["journey_touchpoints"] = n_journey
    for col, chans in (("paid_share", paid_channels), ("self_guided_share", self_guided_channels)):
        wanted = {str(c).strip().lower() for c in chans}
        hit = np.array([ch in wanted for ch in channels] + [False])[channel]  # a missing channel (-1): no hit
        hits = _bincount(ids, position[in_journey & hit])
        out[col] = (hits + 0.5) / (n_journey + 1.0)  # smoothed: a short journey is not a 0 or 1 share
    del position, kept, channel, in_journey, hit

    # sales
    if new is not None:
        out["opportunities"] = _counts(ids, new[ACCOUNT_ID])
        first = new.sort_values(["created_at", OPPORTUNITY_ID], kind="stable").drop_duplicates(ACCOUNT_ID)
        end = first["closed_at"].fillna(cutoff) if "closed_at" in first else pd.Series(cutoff, index=first.index)
        days = (end - first["created_at"]).dt.total_seconds() / 86400.0
        out["sales_cycle_days"] = pd.Series(days.to_numpy(), index=first[ACCOUNT_ID]).reindex(ids).clip(lower=0)
    else:
        out["opportunities"] = np.nan
        out["sales_cycle_days"] = np.nan
        notes.append("sales: no opportunities table, so opportunities and sales_cycle_days are missing")

    # usage
    usage = t.get("usage")
    usage_cols = ["usage_weeks", "active_users_mean", "events_per_active_user", "seat_utilisation", "features_used"]
    if usage is not None and len(usage):
        # grouped by the account's position among ids: the same groups, rows and sums as by its text, without a
        # Python string per row (at 100,000 accounts the usage held 0.5 GB of them)
        at = _positions(ids, usage[ACCOUNT_ID])
        u = usage.loc[at >= 0, [c for c in ("active_users", "events", "seats_used", "feature") if c in usage]]
        g = u.groupby(at[at >= 0])
        out["usage_weeks"] = _by_position(ids, g.size()).astype("float64")
        active = g["active_users"].sum(min_count=1) if "active_users" in u else pd.Series(dtype=float)
        out["active_users_mean"] = _by_position(ids, g["active_users"].mean()) if "active_users" in u else np.nan
        events = g["events"].sum(min_count=1) if "events" in u else pd.Series(dtype=float)
        out["events_per_active_user"] = _by_position(ids, events / active.where(active > 0))
        seats = g["seats_used"].sum(min_count=1) if "seats_used" in u else pd.Series(dtype=float)
        out["seat_utilisation"] = _by_position(ids, active / seats.where(seats > 0))
        out["features_used"] = _by_position(ids, g["feature"].nunique()).astype("float64") if "feature" in u \
            else np.nan
        del u, g, at
    else:
        for col in usage_cols:
            out[col] = np.nan
        notes.append("usage: no usage table, so product usage features are missing")

    # support
    tickets = t.get("tickets")
    if tickets is not None:
        at = _positions(ids, tickets[ACCOUNT_ID])
        k, at = tickets.loc[at >= 0], at[at >= 0]
        out["tickets"] = _bincount(ids, at)
        if subs is not None and len(subs):
            start = subs.assign(**{ACCOUNT_ID: subs[ACCOUNT_ID].astype(str)}).groupby(ACCOUNT_ID)["start_date"].min()
            months = ((cutoff - start).dt.total_seconds() / 86400.0 / _MONTH_DAYS).reindex(ids)
            out["tickets_per_month"] = out["tickets"] / months.where(months > 0).clip(lower=1.0)
        else:
            out["tickets_per_month"] = np.nan
        if "priority" in k:
            high = k["priority"].astype(str).isin(["high", "urgent"]).where(k["priority"].notna())
            out["high_priority_share"] = _by_position(ids, high.astype("float64").groupby(at).mean())
        else:
            out["high_priority_share"] = np.nan
    else:
        for col in ("tickets", "tickets_per_month", "high_priority_share"):
            out[col] = np.nan
        notes.append("support: no tickets table, so support features are missing")

    # surveys
    surveys = t.get("surveys")
    if surveys is not None:
        s = surveys.loc[surveys[ACCOUNT_ID].astype(str).isin(ids)]
        for kind in ("nps", "csat", "ces"):
            part = s.loc[s["kind"].astype(str) == kind]
            out[f"{kind}_mean"] = part.groupby(part[ACCOUNT_ID].astype(str))["score"].mean().reindex(ids)
    else:
        for kind in ("nps", "csat", "ces"):
            out[f"{kind}_mean"] = np.nan
        notes.append("surveys: no surveys table, so survey scores are missing")

    for col in out.columns:
        if feature_info(col).kind != "category":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    frame = out.reset_index()
    frame.attrs["notes"] = notes
    frame.attrs["as_of"] = str(cutoff)
    return frame
