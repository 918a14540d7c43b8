"""Per-account reasons in plain words ("seat use fell 40% in 60 days"), grouped by driver.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .prepared import PRESALE_PREFIX

# --------------------------------------------------------------------------- reasons in plain words
def _v(row: pd.Series, name: str) -> float:
    try:
        x = float(row[name])
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return x


def _pct(x: float) -> str:
    return f"{abs(x):.0%}"


def _known_or(feature: str, missing: str, template: str):
    """A reason in words: ``missing`` when the account has no value of ``feature``, else ``template`` with it."""
    def reason(r):
        x = _v(r, feature)
        return missing if not np.isfinite(x) else template.format(x)
    return reason


class _Values(dict):
    """The account's feature values by name, for ``str.format_map`` (NaN when missing)."""

    def __init__(self, row: pd.Series):
        super().__init__()
        self.row = row

    def __missing__(self, name: str) -> float:
        return _v(self.row, name)


def _filled(template: str):
    """A reason in words: ``template`` filled with the account's feature values (``{tickets_90d:.0f}``)."""
    return lambda r: template.format_map(_Values(r))


def _r_seats(r):
    u, s = _v(r, "seat_utilisation"), _v(r, "seats_purchased")
    return "no seat usage recorded" if not np.isfinite(u) else f"seat use at {u:.0%} of {s:.0f} purchased seats"


def _r_seat_change(r):
    x = _v(r, "seat_use_change_60d")
    if not np.isfinite(x):
        return "no seat history 60 days back"
    return f"seat use fell {_pct(x)} in 60 days" if x < 0 else f"seat use up {_pct(x)} in 60 days"


def _r_trend(r):
    x = math.expm1(_v(r, "active_users_trend")) if np.isfinite(_v(r, "active_users_trend")) else float("nan")
    if not np.isfinite(x):
        return "no active-user history"
    return (f"active users down {_pct(x)} on the previous 4 weeks" if x < 0
            else f"active users up {_pct(x)} on the previous 4 weeks")


def _r_nps(r):
    x = _v(r, "nps_latest")
    if not np.isfinite(x):
        return "no NPS response yet"
    return f"latest NPS {x:.0f}" + (" (detractor)" if x <= 6 else "")


def _r_exec(r):
    return ("economic buyer not engaged in 180 days" if _v(r, "exec_engaged_180d") < 1
            else "economic buyer engaged in 180 days")


def _r_tenure(r):
    return f"customer for {_v(r, 'tenure_days') / 30.4375:.0f} months"


def _r_plan(r):
    return f"on the {r.get('plan') or 'unknown'} plan"


def _r_family(r):
    k = _v(r, "related_accounts")
    return "no parent or business-unit accounts" if not k else f"{k:.0f} related accounts"


def _r_pipeline(r):
    return "expansion opportunity open" if _v(r, "open_expansion_opportunity") >= 1 else "no expansion in the pipeline"


def _r_presale(r):
    n = sum(_v(r, k) for k in r.index if k.startswith(PRESALE_PREFIX) and k != "presale_days")
    d = _v(r, "presale_days")
    return (f"short buying journey ({n:.0f} touchpoints in {d:.0f} days before the purchase)" if np.isfinite(d)
            else "no buying journey recorded")


def _r_persona(r):
    return f"persona {r.get('persona') or 'unassigned'}"


#: Reason groups: name -> (features set to typical values together, wording from the account's values).
REASON_GROUPS: dict[str, tuple[tuple[str, ...], Any]] = {
    "seats": (("seat_utilisation", "active_user_ratio", "active_users"), _r_seats),
    "seat_change": (("seat_use_change_60d",), _r_seat_change),
    "active_trend": (("active_users_trend",), _r_trend),
    "usage_gap": (("days_since_usage",), _known_or(
        "days_since_usage", "no product usage recorded", "last product usage {:.0f} days ago")),
    "breadth": (("feature_breadth_90d",), _known_or(
        "feature_breadth_90d", "no product features in use", "{:.0f} product features in use in 90 days")),
    "high_tickets": (("high_priority_tickets_90d",), _filled(
        "{high_priority_tickets_90d:.0f} high or urgent tickets in 90 days")),
    "tickets": (("tickets_90d", "open_tickets"), _filled(
        "{tickets_90d:.0f} tickets in 90 days, {open_tickets:.0f} open")),
    "resolution": (("resolution_days_180d",), _known_or(
        "resolution_days_180d", "no tickets resolved in 180 days", "tickets take {:.1f} days to resolve")),
    "ticket_csat": (("ticket_csat_180d",), _known_or(
        "ticket_csat_180d", "no ticket CSAT in 180 days", "ticket CSAT {:.1f} of 5")),
    "nps": (("nps_latest", "nps_detractor"), _r_nps),
    "csat": (("csat_latest",), _known_or("csat_latest", "no CSAT survey answered", "latest CSAT survey {:.1f} of 5")),
    "ces": (("ces_180d",), _known_or(
        "ces_180d", "no effort score in 180 days", "customer effort {:.1f} of 7 (7 = easy)")),
    "exec": (("exec_engaged_180d",), _r_exec),
    "champion": (("champion_quiet_days", "champion_quiet_60d"), _known_or(
        "champion_quiet_days", "no champion activity recorded", "champion quiet for {:.0f} days")),
    "committee": (("contacts_engaged_90d", "touchpoints_90d", "new_departments_90d"), _filled(
        "{contacts_engaged_90d:.0f} contacts engaged in 90 days ({touchpoints_90d:.0f} touchpoints)")),
    "renewal": (("days_to_renewal", "renewal_month", "renewal_in_horizon"), _filled(
        "renewal due in {days_to_renewal:.0f} days")),
    "tenure": (("tenure_days",), _r_tenure),
    "plan": (("plan",), _r_plan),
    "contract": (("mrr", "seats_purchased"), _filled("MRR {mrr:,.0f} for {seats_purchased:.0f} seats")),
    "family": (("related_accounts",), _r_family),
    "pipeline": (("open_expansion_opportunity",), _r_pipeline),
    "persona": (("persona",), _r_persona),
    "presale": (("presale_days", PRESALE_PREFIX), _r_presale),
}


