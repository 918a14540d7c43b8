"""Per-account reasons in plain words ("seat use fell 40% in 60 days"), grouped by driver.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .snapshots import PRESALE_PREFIX

# --------------------------------------------------------------------------- reasons in plain words
def _v(row: pd.Series, name: str) -> float:
    try:
        x = float(row[name])
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return x


def _pct(x: float) -> str:
    return f"{abs(x):.0%}"


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


def _r_usage_gap(r):
    d = _v(r, "days_since_usage")
    return "no product usage recorded" if not np.isfinite(d) else f"last product usage {d:.0f} days ago"


def _r_breadth(r):
    b = _v(r, "feature_breadth_90d")
    return "no product features in use" if not np.isfinite(b) else f"{b:.0f} product features in use in 90 days"


def _r_high(r):
    return f"{_v(r, 'high_priority_tickets_90d'):.0f} high or urgent tickets in 90 days"


def _r_tickets(r):
    return f"{_v(r, 'tickets_90d'):.0f} tickets in 90 days, {_v(r, 'open_tickets'):.0f} open"


def _r_resolution(r):
    d = _v(r, "resolution_days_180d")
    return "no tickets resolved in 180 days" if not np.isfinite(d) else f"tickets take {d:.1f} days to resolve"


def _r_ticket_csat(r):
    x = _v(r, "ticket_csat_180d")
    return "no ticket CSAT in 180 days" if not np.isfinite(x) else f"ticket CSAT {x:.1f} of 5"


def _r_nps(r):
    x = _v(r, "nps_latest")
    if not np.isfinite(x):
        return "no NPS response yet"
    return f"latest NPS {x:.0f}" + (" (detractor)" if x <= 6 else "")


def _r_csat(r):
    x = _v(r, "csat_latest")
    return "no CSAT survey answered" if not np.isfinite(x) else f"latest CSAT survey {x:.1f} of 5"


def _r_ces(r):
    x = _v(r, "ces_180d")
    return "no effort score in 180 days" if not np.isfinite(x) else f"customer effort {x:.1f} of 7 (7 = easy)"


def _r_exec(r):
    return ("economic buyer not engaged in 180 days" if _v(r, "exec_engaged_180d") < 1
            else "economic buyer engaged in 180 days")


def _r_champion(r):
    d = _v(r, "champion_quiet_days")
    return "no champion activity recorded" if not np.isfinite(d) else f"champion quiet for {d:.0f} days"


def _r_committee(r):
    return (f"{_v(r, 'contacts_engaged_90d'):.0f} contacts engaged in 90 days "
            f"({_v(r, 'touchpoints_90d'):.0f} touchpoints)")


def _r_renewal(r):
    return f"renewal due in {_v(r, 'days_to_renewal'):.0f} days"


def _r_tenure(r):
    return f"customer for {_v(r, 'tenure_days') / 30.4375:.0f} months"


def _r_plan(r):
    return f"on the {r.get('plan') or 'unknown'} plan"


def _r_contract(r):
    return f"MRR {_v(r, 'mrr'):,.0f} for {_v(r, 'seats_purchased'):.0f} seats"


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
    "usage_gap": (("days_since_usage",), _r_usage_gap),
    "breadth": (("feature_breadth_90d",), _r_breadth),
    "high_tickets": (("high_priority_tickets_90d",), _r_high),
    "tickets": (("tickets_90d", "open_tickets"), _r_tickets),
    "resolution": (("resolution_days_180d",), _r_resolution),
    "ticket_csat": (("ticket_csat_180d",), _r_ticket_csat),
    "nps": (("nps_latest", "nps_detractor"), _r_nps),
    "csat": (("csat_latest",), _r_csat),
    "ces": (("ces_180d",), _r_ces),
    "exec": (("exec_engaged_180d",), _r_exec),
    "champion": (("champion_quiet_days", "champion_quiet_60d"), _r_champion),
    "committee": (("contacts_engaged_90d", "touchpoints_90d", "new_departments_90d"), _r_committee),
    "renewal": (("days_to_renewal", "renewal_month", "renewal_in_horizon"), _r_renewal),
    "tenure": (("tenure_days",), _r_tenure),
    "plan": (("plan",), _r_plan),
    "contract": (("mrr", "seats_purchased"), _r_contract),
    "family": (("related_accounts",), _r_family),
    "pipeline": (("open_expansion_opportunity",), _r_pipeline),
    "persona": (("persona",), _r_persona),
    "presale": (("presale_days", PRESALE_PREFIX), _r_presale),
}


