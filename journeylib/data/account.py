"""One account's whole history on one timeline: the drill-down behind the risk list, the variants and attribution.

:func:`find_account` turns what a user types (an id, or a name in any case) into the account's
id, with a clear error for an unknown or ambiguous one. :func:`account_history` lists every
event of the account in time order: its touchpoints (by contact, channel and stage), its
opportunities (created, then won or lost), its subscription periods (started, ended), its
tickets (opened, resolved) and survey answers. Contacts appear by role and id, never by name
or e-mail, so the timeline can be shown and exported.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID, CONTACT_ID, OPPORTUNITY_ID, TICKET_ID, TIMESTAMP
from .load import JourneyData
from .contract import account_rows, as_text

__all__ = ["find_account", "account_history", "HISTORY_COLUMNS", "KINDS"]

#: Columns of :func:`account_history`.
HISTORY_COLUMNS = ("time", "kind", "event", "who", "channel", "stage", "detail")
#: The kinds of event, in the order a timeline shows their lanes.
KINDS = ("touchpoint", "opportunity", "subscription", "ticket", "survey")


def find_account(data: JourneyData, account: Any) -> str:
    """The id of the account given by id or by name (case and surrounding spaces ignored).

    Raises
    ------
    ParameterError
        When no account has that id or name (with the closest names), or when several
        accounts share the name (listing their ids).
    """
    accounts = data.accounts
    ids = accounts[ACCOUNT_ID].astype(str)
    text = str(account).strip()
    if not text:
        raise ParameterError("account is empty; give an account id or name")
    if text in set(ids):
        return text
    if "name" in accounts:
        names = accounts["name"].astype("string").str.strip()
        hit = ids[names.str.casefold().eq(text.casefold()).fillna(False).to_numpy()]
        if len(hit) == 1:
            return str(hit.iloc[0])
        if len(hit) > 1:
            raise ParameterError(f"account name {text!r} is shared by {len(hit)} accounts; give one id: "
                                 f"{', '.join(hit.head(10))}")
        return _unknown(text, list(names.dropna()))
    return _unknown(text, list(ids))


def _unknown(text: str, candidates: list[str]) -> str:
    raise ParameterError(f"no account has the id or name {text!r}{did_you_mean(text, candidates)}")


def _contact_labels(data: JourneyData, among: pd.Series) -> pd.Series:
    """contact_id -> "role (id)" ("contact (id)" without a role) of the contacts ``among`` holds; never a name."""
    contacts = data.contacts
    if contacts is None or CONTACT_ID not in contacts:
        return pd.Series(dtype=object)
    contacts = contacts[as_text(contacts[CONTACT_ID]).isin(set(as_text(among.dropna())))]
    ids = contacts[CONTACT_ID].astype(str)
    roles = (contacts["role"].astype("string").fillna("contact") if "role" in contacts
             else pd.Series("contact", index=contacts.index))
    return pd.Series((roles.str.replace("_", " ") + " (" + ids + ")").to_numpy(), index=ids.to_numpy())


def _span(mine: pd.DataFrame, kind: str, start: str, end: str, events: tuple[Any, Any],
          detail: pd.Series) -> list[pd.DataFrame]:
    """The start and (when there is one) the end of each record: an opportunity, a subscription, a ticket."""
    finished = mine[end].notna() if end in mine else pd.Series(False, index=mine.index)
    ended = events[1] if isinstance(events[1], str) else events[1][finished]
    return [pd.DataFrame({"time": mine[start], "kind": kind, "event": events[0], "who": "account", "detail": detail}),
            pd.DataFrame({"time": mine.loc[finished, end], "kind": kind, "event": ended, "who": "account",
                          "detail": detail[finished]})]


def account_history(data: JourneyData, account: Any) -> pd.DataFrame:
    """Every event of one account, in time order (module docstring).

    Parameters
    ----------
    data : JourneyData
    account : str
        An account id or name (:func:`find_account`).

    Returns
    -------
    DataFrame
        :data:`HISTORY_COLUMNS`: ``time`` (UTC), ``kind`` (one of :data:`KINDS`), ``event`` (the
        touchpoint, "created", "won", "started", "opened", "nps 9"...), ``who`` (a contact's role
        and id; "account" otherwise), ``channel`` and ``stage`` (touchpoints), ``detail`` (an
        opportunity's id, type and amount, a plan and MRR, a ticket's priority). ``attrs``:
        ``account_id`` and ``name``.
    """
    account_id = find_account(data, account)
    parts = []
    # only the account's rows: of a validated contract's table not read yet, only they are read
    tp = account_rows(data.tables, "touchpoints", account_id)
    surveys = account_rows(data.tables, "surveys", account_id)
    contacts = [t[CONTACT_ID].astype(object) for t in (tp, surveys) if t is not None and CONTACT_ID in t and len(t)]
    who = _contact_labels(data, pd.concat(contacts) if contacts else pd.Series(dtype=object))
    if len(tp):
        contact = tp[CONTACT_ID].astype("string") if CONTACT_ID in tp else pd.Series(pd.NA, index=tp.index)
        parts.append(pd.DataFrame({
            "time": tp[TIMESTAMP], "kind": "touchpoint", "event": tp["touchpoint"].astype(str),
            "who": contact.map(who).fillna(contact).fillna("account").astype(str),
            "channel": tp["channel"].astype("string") if "channel" in tp else pd.NA,
            "stage": tp["stage"].astype("string"), "detail": tp["campaign"].astype("string")
            if "campaign" in tp else pd.NA}))
    mine = account_rows(data.tables, "opportunities", account_id)
    if mine is not None:
        detail = (mine[OPPORTUNITY_ID].astype(str) + " " + mine.get("type", pd.Series("", index=mine.index))
                  .astype("string").fillna("") + " " + pd.to_numeric(mine.get("amount"), errors="coerce")
                  .map(lambda a: f"{a:,.0f}" if pd.notna(a) else "")).str.replace(r"\s+", " ", regex=True).str.strip()
        parts += _span(mine, "opportunity", "created_at", "closed_at",
                       ("created", mine["status"].astype(str) if "status" in mine else "closed"), detail)
    mine = account_rows(data.tables, "subscriptions", account_id)
    if mine is not None:
        detail = (mine.get("plan", pd.Series("", index=mine.index)).astype("string").fillna("") + " "
                  + pd.to_numeric(mine.get("mrr"), errors="coerce").map(lambda m: f"MRR {m:,.0f}" if pd.notna(m)
                                                                          else "")).str.strip()
        parts += _span(mine, "subscription", "start_date", "end_date", ("started", "ended"), detail)
    mine = account_rows(data.tables, "tickets", account_id)
    if mine is not None:
        detail = (mine[TICKET_ID].astype(str) + " " + mine.get("priority", pd.Series("", index=mine.index))
                  .astype("string").fillna("")).str.strip()
        parts += _span(mine, "ticket", "opened_at", "resolved_at", ("opened", "resolved"), detail)
    if surveys is not None:
        mine = surveys
        contact = mine[CONTACT_ID].astype("string") if CONTACT_ID in mine else pd.Series(pd.NA, index=mine.index)
        score = pd.to_numeric(mine["score"], errors="coerce").map(lambda v: f"{v:g}")
        parts.append(pd.DataFrame({"time": mine["date"], "kind": "survey",
                                   "event": mine["kind"].astype(str) + " " + score,
                                   "who": contact.map(who).fillna(contact).fillna("account").astype(str)}))
    frames = [p for p in parts if len(p)]
    out = (pd.concat(frames, ignore_index=True) if frames
           else pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS}))
    out = out.reindex(columns=list(HISTORY_COLUMNS))
    out["time"] = pd.to_datetime(out["time"], utc=True)
    rank = out["kind"].map({k: i for i, k in enumerate(KINDS)})
    out = out.assign(_k=rank).sort_values(["time", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)
    name = data.accounts.loc[data.accounts[ACCOUNT_ID].astype(str) == account_id, "name"] \
        if "name" in data.accounts else pd.Series(dtype=object)
    out.attrs.update(account_id=account_id, name=str(name.iloc[0]) if len(name) else account_id)
    return out
