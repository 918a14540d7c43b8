"""The generator's vocabulary and planted parameters: personas, plans, touchpoints, effects, churn drivers.

Part of :mod:`journeylib.synth`; import the public names from there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd



FORMATS = ("csv", "parquet", "duckdb")
PERSONAS = ("enterprise_committee", "mid_market_evaluator", "smb_self_serve", "technical_adopter",
            "at_risk_low_adopter")
SCENARIOS = ("standard", "churned_after_one_year", "cross_sell_upsell_referral", "lost_then_won")
PLANS = ("starter", "growth", "enterprise")
XSS_ACCOUNT_NAME = "<img src=x onerror=alert(1)>"

ENT, MID, SMB, TECH, RISK = range(5)
STD, CHURN1, XSELL, LTW = range(4)
STARTER, GROWTH, ENTERPRISE = range(3)

_DAY_S = 86400
_MONTH_DAYS = 30.4375
_EXT_DAYS = 100  # simulate customers this far past end_date (never emitted)

# --------------------------------------------------------------------------- vocabulary
CHANNELS = ("paid_search", "paid_social", "display", "organic", "third_party", "email", "web", "event",
            "sales", "product", "partner", "customer_success", "support")

#: True effect of having touched a channel before the close on the log-odds of winning.
CHANNEL_EFFECTS: dict[str, float] = {
    "paid_search": 0.10, "paid_social": -0.20, "display": -0.35, "organic": 0.25, "third_party": 0.30,
    "email": 0.15, "web": 0.0, "event": 0.50, "sales": 0.0, "product": 0.40, "partner": 0.70,
    "customer_success": 0.0, "support": 0.20,
}
#: Persona intercept of the win model (log-odds).
WIN_INTERCEPT: dict[str, float] = {
    "enterprise_committee": -1.20, "mid_market_evaluator": -0.95, "smb_self_serve": -0.40,
    "technical_adopter": -0.85, "at_risk_low_adopter": -0.25,
}

_OUTCOMES = ("clicked", "viewed", "completed", "submitted", "abandoned", "opened", "attended", "no_show", "sent")
_O = {o: i for i, o in enumerate(_OUTCOMES)}
_OUTCOME_KINDS: dict[str, tuple[tuple[str, float], ...]] = {
    "click": (("clicked", 1.0),),
    "view": (("viewed", 1.0),),
    "complete": (("completed", 1.0),),
    "submit": (("submitted", 1.0),),
    "open": (("opened", 1.0),),
    "sent": (("sent", 1.0),),
    "form": (("submitted", 0.78), ("abandoned", 0.22)),
    "webinar": (("attended", 0.62), ("no_show", 0.38)),
    "demo": (("attended", 0.85), ("no_show", 0.15)),
    "meeting": (("completed", 0.92), ("no_show", 0.08)),
    "attend": (("attended", 0.90), ("no_show", 0.10)),
}
_ROLES = ("any", "anon", "champ", "exec", "tech", "user", "none")

# name, channel, contact preference, outcome kind, cost (median USD, sigma) or None, campaign themes
_TOUCHPOINTS: tuple[tuple[str, str, str, str, tuple[float, float] | None, tuple[str, ...]], ...] = (
    ("paid_search_ad", "paid_search", "anon", "click", (7.5, 0.5), ("brand", "competitor", "category")),
    ("paid_social_ad", "paid_social", "anon", "click", (9.0, 0.5), ("abm", "thought_leadership", "retargeting")),
    ("display_ad", "display", "anon", "click", (2.0, 0.6), ("retargeting", "awareness")),
    ("organic_search_visit", "organic", "anon", "view", None, ()),
    ("social_post_engagement", "organic", "any", "click", None, ()),
    ("review_site_visit", "third_party", "anon", "view", None, ()),
    ("comparison_site_visit", "third_party", "anon", "view", (35.0, 0.4), ("sponsored_listing",)),
    ("event_booth_visit", "event", "any", "complete", (220.0, 0.4), ("trade_show", "roadshow")),
    ("word_of_mouth", "third_party", "any", "complete", None, ()),
    ("referral_intro", "partner", "champ", "complete", None, ()),
    ("website_visit", "web", "anon", "view", None, ()),
    ("blog_read", "web", "any", "view", None, ()),
    ("whitepaper_download", "web", "any", "submit", None, ("gated_content",)),
    ("case_study_download", "web", "any", "submit", None, ()),
    ("newsletter_click", "email", "any", "click", None, ("newsletter", "nurture")),
    ("webinar", "event", "any", "webinar", None, ("product_webinar", "industry_panel")),
    ("pricing_page_visit", "web", "any", "view", None, ()),
    ("contact_form", "web", "champ", "form", None, ()),
    ("demo_request", "web", "champ", "form", None, ()),
    ("demo", "sales", "champ", "demo", None, ()),
    ("free_trial_signup", "product", "champ", "form", None, ()),
    ("discovery_call", "sales", "champ", "meeting", None, ()),
    ("ae_call", "sales", "any", "meeting", None, ()),
    ("onsite_meeting", "sales", "exec", "meeting", None, ()),
    ("solution_workshop", "sales", "tech", "meeting", None, ()),
    ("proposal_sent", "sales", "exec", "sent", None, ()),
    ("security_review", "sales", "tech", "complete", None, ()),
    ("pricing_negotiation", "sales", "exec", "meeting", None, ()),
    ("contract_signed", "sales", "exec", "complete", None, ()),
    ("kickoff_call", "customer_success", "champ", "meeting", None, ()),
    ("onboarding_call", "customer_success", "any", "meeting", None, ()),
    ("training_session", "customer_success", "user", "attend", None, ()),
    ("implementation_milestone", "customer_success", "none", "complete", None, ()),
    ("feature_activation", "product", "user", "complete", None, ()),
    ("in_app_guide", "product", "user", "complete", None, ()),
    ("customer_newsletter_read", "email", "any", "open", None, ()),
    ("qbr", "customer_success", "exec", "meeting", None, ()),
    ("health_check_call", "customer_success", "champ", "meeting", None, ()),
    ("support_ticket", "support", "user", "submit", None, ()),
    ("knowledge_base_visit", "support", "user", "view", None, ()),
    ("csat_survey", "support", "any", "submit", None, ()),
    ("invoice_query", "support", "any", "submit", None, ()),
    ("renewal_call", "customer_success", "exec", "meeting", None, ()),
    ("renewal_quote", "customer_success", "exec", "sent", None, ()),
    ("renewal_signed", "customer_success", "exec", "complete", None, ()),
    ("upsell_call", "sales", "champ", "meeting", None, ()),
    ("cross_sell_demo", "sales", "champ", "demo", None, ()),
    ("expansion_proposal", "sales", "exec", "sent", None, ()),
    ("seat_increase", "product", "none", "complete", None, ()),
    ("nps_survey", "customer_success", "any", "submit", None, ()),
    ("referral_given", "partner", "champ", "complete", None, ()),
    ("case_study_participation", "customer_success", "champ", "complete", None, ()),
    ("review_written", "third_party", "champ", "complete", None, ()),
    ("community_post", "organic", "user", "complete", None, ()),
)
_TP_NAMES = tuple(t[0] for t in _TOUCHPOINTS)
_T = {name: i for i, name in enumerate(_TP_NAMES)}
_TP_CHANNEL = np.array([CHANNELS.index(t[1]) for t in _TOUCHPOINTS], dtype=np.int64)
_TP_ROLE = np.array([_ROLES.index(t[2]) for t in _TOUCHPOINTS], dtype=np.int64)
_CHANNEL_BETA = np.array([CHANNEL_EFFECTS[c] for c in CHANNELS])

# Expected pre-purchase counts per buying cycle (enterprise, mid-market, smb, technical, at-risk),
# the stage group of the window they fall in.
_PRESALE_COUNTS: dict[str, tuple[str, tuple[float, float, float, float, float]]] = {
    "paid_search_ad": ("aw", (1.0, 1.5, 2.5, 0.5, 2.0)),
    "paid_social_ad": ("aw", (1.5, 1.5, 1.5, 0.3, 2.5)),
    "display_ad": ("aw", (2.0, 1.0, 0.8, 0.2, 2.5)),
    "organic_search_visit": ("aw", (1.0, 2.0, 1.5, 3.0, 0.8)),
    "social_post_engagement": ("aw", (1.0, 1.0, 0.5, 0.8, 0.5)),
    "review_site_visit": ("aw", (1.0, 1.5, 1.0, 1.0, 1.5)),
    "comparison_site_visit": ("aw", (0.8, 1.2, 1.0, 0.8, 1.5)),
    "event_booth_visit": ("aw", (1.5, 0.5, 0.1, 0.3, 0.2)),
    "word_of_mouth": ("aw", (0.3, 0.3, 0.3, 0.6, 0.1)),
    "referral_intro": ("aw", (0.3, 0.2, 0.1, 0.3, 0.05)),
    "website_visit": ("re", (12.0, 8.0, 3.0, 6.0, 4.0)),
    "blog_read": ("re", (4.0, 6.0, 1.0, 8.0, 1.0)),
    "whitepaper_download": ("re", (3.0, 4.0, 0.2, 1.0, 0.5)),
    "case_study_download": ("re", (3.0, 3.0, 0.3, 0.5, 0.5)),
    "newsletter_click": ("re", (3.0, 4.0, 0.5, 1.5, 1.0)),
    "webinar": ("re", (2.0, 3.0, 0.1, 1.0, 0.5)),
    "pricing_page_visit": ("re", (3.0, 3.0, 2.0, 2.0, 2.0)),
    "contact_form": ("re", (0.8, 0.8, 0.3, 0.3, 0.5)),
    "demo_request": ("co", (0.3, 0.4, 0.1, 0.1, 0.3)),
    "demo": ("co", (2.0, 1.5, 0.2, 0.5, 0.5)),
    "free_trial_signup": ("co", (0.05, 0.3, 0.2, 0.3, 0.1)),
    "ae_call": ("co", (10.0, 4.0, 0.3, 1.0, 1.0)),
    "onsite_meeting": ("co", (3.0, 0.5, 0.0, 0.1, 0.0)),
    "solution_workshop": ("co", (2.0, 0.3, 0.0, 0.2, 0.0)),
    "security_review": ("de", (2.0, 0.5, 0.0, 0.3, 0.1)),
    "pricing_negotiation": ("de", (3.0, 1.0, 0.1, 0.3, 0.3)),
    "knowledge_base_visit": ("su", (0.5, 0.5, 1.0, 4.0, 0.3)),
}
_WINDOWS = {"aw": (0.005, 0.12), "re": (0.10, 0.45), "co": (0.45, 0.92), "de": (0.85, 0.995), "su": (0.30, 0.995)}
# Phase kinds of the pre-purchase journey and the factor per stage group.
FULL, STALL, LIGHT, REENGAGE, XSELLP = range(5)
_PHASE_FACTOR = {
    FULL: {"aw": 1.0, "re": 1.0, "co": 1.0, "de": 1.0, "su": 1.0},
    STALL: {"aw": 1.0, "re": 0.6, "co": 0.0, "de": 0.0, "su": 0.3},
    LIGHT: {"aw": 0.6, "re": 0.4, "co": 0.3, "de": 0.3, "su": 0.2},
    REENGAGE: {"aw": 0.0, "re": 0.4, "co": 0.4, "de": 0.5, "su": 0.3},
    XSELLP: {"aw": 0.0, "re": 0.2, "co": 0.2, "de": 0.3, "su": 0.3},
}

# Expected post-purchase counts per 30 days (same persona order).
_POSTSALE_RATES: dict[str, tuple[float, float, float, float, float]] = {
    "customer_newsletter_read": (2.0, 1.2, 0.6, 0.8, 0.6),
    "feature_activation": (0.3, 0.25, 0.15, 0.5, 0.08),
    "in_app_guide": (0.4, 0.4, 0.6, 0.3, 0.7),
    "health_check_call": (0.25, 0.15, 0.03, 0.08, 0.25),
    "knowledge_base_visit": (2.5, 1.2, 0.5, 4.0, 1.5),
    "invoice_query": (0.12, 0.08, 0.06, 0.05, 0.1),
    "webinar": (0.3, 0.25, 0.05, 0.15, 0.05),
    "blog_read": (0.3, 0.4, 0.1, 0.6, 0.1),
    "website_visit": (0.6, 0.5, 0.3, 0.4, 0.3),
    "pricing_page_visit": (0.05, 0.05, 0.1, 0.05, 0.15),
    "comparison_site_visit": (0.0, 0.0, 0.02, 0.0, 0.1),
    "community_post": (0.05, 0.05, 0.02, 0.5, 0.0),
    "review_written": (0.02, 0.02, 0.02, 0.04, 0.005),
    "case_study_participation": (0.01, 0.005, 0.0, 0.005, 0.0),
    "referral_given": (0.01, 0.01, 0.01, 0.02, 0.0),
    "upsell_call": (0.04, 0.04, 0.02, 0.04, 0.0),
    "cross_sell_demo": (0.01, 0.005, 0.0, 0.005, 0.0),
}
# Expected nurture counts per 30 days after a stall or a loss (same persona order): e-mail and content for
# committees and evaluators, organic search, blog and docs for technical adopters, retargeting ads for the others.
_NURTURE_RATES: dict[str, tuple[float, float, float, float, float]] = {
    "newsletter_click": (0.45, 0.45, 0.1, 0.15, 0.15),
    "webinar": (0.1, 0.1, 0.0, 0.05, 0.02),
    "whitepaper_download": (0.05, 0.1, 0.0, 0.02, 0.0),
    "blog_read": (0.1, 0.15, 0.05, 0.3, 0.05),
    "website_visit": (0.2, 0.2, 0.1, 0.1, 0.1),
    "organic_search_visit": (0.05, 0.1, 0.05, 0.3, 0.03),
    "knowledge_base_visit": (0.0, 0.0, 0.0, 0.15, 0.0),
    "paid_search_ad": (0.02, 0.05, 0.2, 0.02, 0.1),
    "paid_social_ad": (0.05, 0.05, 0.2, 0.02, 0.25),
    "display_ad": (0.05, 0.03, 0.15, 0.02, 0.25),
}

_FIRST_TOUCH: dict[int, dict[str, float]] = {
    ENT: {"event_booth_visit": 0.3, "paid_social_ad": 0.2, "organic_search_visit": 0.15, "display_ad": 0.1,
          "word_of_mouth": 0.05, "referral_intro": 0.05, "review_site_visit": 0.15},
    MID: {"organic_search_visit": 0.3, "paid_search_ad": 0.25, "paid_social_ad": 0.2, "review_site_visit": 0.15,
          "social_post_engagement": 0.1},
    SMB: {"paid_search_ad": 0.45, "paid_social_ad": 0.25, "organic_search_visit": 0.2, "review_site_visit": 0.1},
    TECH: {"organic_search_visit": 0.5, "word_of_mouth": 0.15, "referral_intro": 0.05, "social_post_engagement": 0.15,
           "review_site_visit": 0.15},
    RISK: {"display_ad": 0.35, "paid_social_ad": 0.35, "paid_search_ad": 0.3},
}
_LEAD_SOURCE = {
    "paid_search_ad": "paid_search", "paid_social_ad": "paid_social", "display_ad": "display",
    "organic_search_visit": "organic_search", "social_post_engagement": "organic_social",
    "review_site_visit": "review_site", "comparison_site_visit": "review_site", "event_booth_visit": "event",
    "word_of_mouth": "word_of_mouth", "referral_intro": "referral",
}

# --------------------------------------------------------------------------- commercial and product model
_PERSONA_SHARE = (0.15, 0.25, 0.25, 0.20, 0.15)
_PLAN_P = {ENT: (0.0, 0.15, 0.85), MID: (0.1, 0.8, 0.1), SMB: (0.85, 0.15, 0.0), TECH: (0.4, 0.55, 0.05),
           RISK: (0.6, 0.4, 0.0)}
_EMPLOYEES = {ENT: (6000, 0.9, 1000, 200000), MID: (600, 0.6, 150, 3000), SMB: (40, 0.7, 5, 200),
              TECH: (300, 0.9, 20, 5000), RISK: (150, 0.7, 20, 1500)}
_CYCLE = {ENT: (150, 0.35), MID: (70, 0.4), SMB: (14, 0.5), TECH: (35, 0.5), RISK: (40, 0.4)}
_MIN_CYCLE = 4.0  # days: no buying cycle is shorter
# the request (form, demo request, trial) at a share of the cycle, uniform on [a, a + b]; the opportunity
# uniform on [c, c + d] days after it (smb: [0, 0.2]), at the latest half a day (smb: 0.2) before the close
_REQUEST_SHARE = (0.38, 0.08)
_OPP_AFTER_REQUEST = (1.0, 5.0)
_OPP_AFTER_REQUEST_SMB = (0.0, 0.2)
_OPP_BEFORE_CLOSE = (0.5, 0.2)  # (others, smb)
_STALL_P = (0.25, 0.30, 0.35, 0.30, 0.25)
_STALL_REQUEST_P = 0.4  # share of stalled prospects that submit their request (an MQL) before the stall
_CHANNEL_MULT_SHAPE = 3.0  # gamma shape of the per-account channel multipliers (mean 1, CV 0.58)
_N_CONTACTS = {ENT: (6, 12), MID: (3, 6), SMB: (1, 3), TECH: (2, 5), RISK: (2, 4)}
_SPONSOR_P = (0.85, 0.65, 0.5, 0.45, 0.15)
_PRICE = (29.0, 49.0, 79.0)
_SEATS = ((6.0, 0.3, 40.0, 3, 40), (25.0, 0.35, 600.0, 10, 250), (150.0, 0.4, 6000.0, 50, 3000))

#: Time to first value (days after the subscription start) per plan, in scipy.stats form.
TIME_TO_VALUE: dict[str, dict[str, Any]] = {
    "starter": {"distribution": "lognormal", "scipy": "lognorm", "params": {"s": 0.7, "scale": 10.0}},
    "growth": {"distribution": "weibull", "scipy": "weibull_min", "params": {"c": 1.5, "scale": 38.0}},
    "enterprise": {"distribution": "loglogistic", "scipy": "fisk", "params": {"c": 3.0, "scale": 60.0}},
}
_VALUE_SHARE = 0.25  # first value: active_users >= ceil(0.25 * seats_purchased)

_PLATEAU_BETA = ((7.0, 3.0), (7.0, 3.0), (8.0, 2.0), (9.0, 1.5), (3.5, 6.5))
_ACTIVE_SHARE = ((0.55, 0.80), (0.60, 0.85), (0.60, 0.90), (0.75, 0.95), (0.40, 0.65))
_EVENTS_PER_USER = (40.0, 35.0, 25.0, 80.0, 15.0)
_DECLINER_P = (0.15, 0.20, 0.25, 0.10, 0.50)
_FEATURES = ("dashboards", "reports", "workflows", "integrations", "api", "alerts", "admin")
_FEATURE_P = (
    (0.20, 0.25, 0.25, 0.10, 0.05, 0.10, 0.05),
    (0.30, 0.25, 0.20, 0.10, 0.03, 0.10, 0.02),
    (0.45, 0.20, 0.10, 0.10, 0.00, 0.13, 0.02),
    (0.10, 0.10, 0.15, 0.25, 0.30, 0.08, 0.02),
    (0.40, 0.30, 0.05, 0.05, 0.00, 0.10, 0.10),
)
_ONBOARD_DAYS = (75, 45, 14, 30, 40)
_QBR_CADENCE = (91.0, 182.0, 0.0, 182.0, 182.0)
_EXPANSION_P = (0.45, 0.35, 0.15, 0.45, 0.05)
_TICKET_RATE = (2.0, 1.0, 0.4, 0.8, 1.5)  # per 30 days
_EPISODE_P = (0.3, 0.3, 0.2, 0.25, 0.6)
_PRIORITIES = ("low", "normal", "high", "urgent")
_PRIORITY_P = ((0.30, 0.50, 0.15, 0.05), (0.30, 0.50, 0.15, 0.05), (0.35, 0.50, 0.12, 0.03),
               (0.30, 0.50, 0.15, 0.05), (0.20, 0.45, 0.25, 0.10))
_EPISODE_PRIORITY_P = (0.05, 0.35, 0.40, 0.20)
_NPS_MEAN = (7.9, 7.8, 7.6, 8.4, 5.6)

#: Churn model: monthly log-hazard baseline and driver coefficients (see the module docstring).
CHURN_BASELINE = -2.6
CHURN_COEFFICIENTS: dict[str, float] = {
    "seat_utilisation": -2.5,
    "active_users_trend": -1.2,
    "high_priority_tickets_90d": 0.2,
    "nps_detractor": 0.8,
    "exec_engaged_180d": -0.7,
    "plan_starter": 0.4,
    "plan_enterprise": -0.8,
    "renewal_month": 1.6,
}
_DRIVER_DEFINITIONS: dict[str, str] = {
    "seat_utilisation": "seats_used / seats_purchased of the account's latest usage row dated on or before the "
                        "snapshot date (seats_purchased of the subscription active on the snapshot date)",
    "active_users_trend": "log((mean active_users of the last 4 usage weeks + 1) / (mean of the 4 weeks before + 1)) "
                          "over the 8 latest weekly rows dated on or before the snapshot; 0 when the account has "
                          "fewer than 8 weeks of usage",
    "high_priority_tickets_90d": "number of tickets with priority high or urgent opened in (snapshot - 90 days, "
                                 "snapshot]",
    "nps_detractor": "1 when the mean NPS score of the account's responses on its latest NPS survey date on or "
                     "before the snapshot date is <= 6, else 0 (0 without any NPS response)",
    "exec_engaged_180d": "1 when a contact with role economic_buyer has a touchpoint in (snapshot - 180 days, "
                         "snapshot], else 0",
    "plan_starter": "1 when the subscription active on the snapshot date is on the starter plan",
    "plan_enterprise": "1 when the subscription active on the snapshot date is on the enterprise plan",
    "renewal_month": "1 when an anniversary of the first subscription start (start_date + 365 k days, k >= 1) "
                     "falls after the snapshot date and on or before the next month-end",
}

_INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education",
               "Logistics", "Professional Services", "Media", "Public Sector")
_INDUSTRY_P = (
    (0.12, 0.18, 0.14, 0.16, 0.10, 0.04, 0.08, 0.06, 0.04, 0.08),
    (0.16, 0.12, 0.10, 0.14, 0.12, 0.06, 0.10, 0.10, 0.06, 0.04),
    (0.14, 0.06, 0.06, 0.06, 0.16, 0.06, 0.06, 0.22, 0.16, 0.02),
    (0.40, 0.10, 0.06, 0.06, 0.04, 0.06, 0.06, 0.10, 0.10, 0.02),
    (0.08, 0.08, 0.10, 0.16, 0.18, 0.10, 0.12, 0.10, 0.06, 0.02),
)
_REGIONS = ("North America", "EMEA", "APAC", "LATAM")
_REGION_P = (0.45, 0.35, 0.15, 0.05)
_REGION_HOUR = (13.0, 7.0, 0.5, 11.0)  # UTC hour at which the local business day starts (10-hour days)
_COUNTRIES = (
    (("United States", 0.85, "Inc"), ("Canada", 0.15, "Ltd")),
    (("United Kingdom", 0.30, "Ltd"), ("Germany", 0.25, "GmbH"), ("France", 0.15, "SA"),
     ("Netherlands", 0.10, "BV"), ("Sweden", 0.10, "AB"), ("Spain", 0.10, "SL")),
    (("Australia", 0.35, "Pty Ltd"), ("Singapore", 0.20, "Pte Ltd"), ("Japan", 0.25, "KK"),
     ("India", 0.20, "Pvt Ltd")),
    (("Brazil", 0.50, "Ltda"), ("Mexico", 0.30, "SA de CV"), ("Chile", 0.20, "SpA")),
)
_NAME_PREFIX = (
    "Northwind", "Bluefin", "Copperleaf", "Brightwater", "Ironbridge", "Silverline", "Redwood", "Clearpath",
    "Stonegate", "Greenfield", "Highmark", "Lakeshore", "Summitview", "Tidewater", "Oakridge", "Falconer",
    "Harborline", "Evergreen", "Granitefall", "Meridian", "Pinecrest", "Riverbend", "Skyline", "Westbrook",
    "Amberly", "Cobalt", "Driftwood", "Emberly", "Foxglove", "Goldcrest", "Hollowcreek", "Juniper", "Keystone",
    "Lumenfield", "Maplewood", "Nimbus", "Orchardly", "Peregrine", "Quarrystone", "Ridgeway", "Sablewood",
    "Thornbury", "Umberline", "Vantagepoint", "Willowmere", "Yarrowby", "Zephyrine", "Alderbank", "Brookhaven",
    "Cedarline", "Dunmore", "Eastgate", "Fairhaven", "Glenmoor", "Hearthstone", "Inkwell", "Jadeport", "Kestrel",
    "Larkspur", "Moonstone", "Nettlefield", "Opaline", "Pebblebrook", "Quillon", "Rosemont", "Saltmarsh",
    "Tamarack", "Upland", "Verdigris", "Wrenfield",
)
_NAME_CORE = (
    "Analytics", "Logistics", "Systems", "Labs", "Dynamics", "Networks", "Health", "Foods", "Manufacturing",
    "Capital", "Energy", "Retail", "Media", "Learning", "Software", "Robotics", "Materials", "Partners", "Logic",
    "Works", "Solutions", "Freight", "Biotech", "Foundry", "Consulting", "Insurance", "Pharma", "Telecom",
    "Motors", "Outdoor", "Textiles", "Aerospace", "Marine", "Farms", "Studios", "Data", "Payments", "Security",
    "Clinics", "Instruments",
)
_NAME_VARIANT = ("", " Group", " Holdings", " International", " & Co")
_UNITS = ("Finance", "Operations", "EMEA Sales", "Logistics", "R&D", "Marketing", "Customer Care",
          "Procurement", "Manufacturing", "Digital", "Field Service", "People Team")
_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Robin",
          "Drew", "Reese", "Skyler", "Charlie", "Emery", "Finley", "Harper", "Kai", "Logan", "Marley", "Noa",
          "Parker", "Rowan", "Sasha", "Toni", "Devon", "Elliot", "Jules", "Kendall", "Lee", "Micah")
_LAST = ("Rivera", "Chen", "Novak", "Okafor", "Schmidt", "Tanaka", "Dubois", "Kowalski", "Silva", "Larsen",
         "Moreau", "Haddad", "Ivanova", "Fischer", "Costa", "Nakamura", "Berg", "Romero", "Kaur", "Osei",
         "Petrov", "Lindqvist", "Rossi", "Bauer", "Mendes", "Sato", "Keller", "Duarte", "Varga", "Holm")
_DEPARTMENTS = ("Executive", "Finance", "Operations", "Marketing", "Sales", "Customer Success", "IT",
                "Engineering", "Data", "Support", "Procurement")
_SENIORITY = ("c_level", "vp", "director", "manager", "individual")
_CONTACT_ROLES = ("champion", "economic_buyer", "technical_evaluator", "procurement", "end_user")

# (table, column) written as a date (YYYY-MM-DD) in CSV
_DATE_ONLY = {("subscriptions", "start_date"), ("subscriptions", "end_date"), ("usage", "date"), ("surveys", "date")}


@dataclass
class SynthDataset:
    """A generated dataset: the contract's tables and the planted truth.

    Attributes
    ----------
    tables : dict of str -> DataFrame
        ``accounts, touchpoints, contacts, leads, opportunities, subscriptions, usage,
        tickets, surveys`` with exactly the contract's columns (``journeylib.schema``).
    truth : dict
        ``personas`` (DataFrame: account_id, persona), ``time_to_value`` (dict: plan ->
        distribution, scipy name, params, median_days, event), ``churn`` (DataFrame:
        snapshot_date, account_id, p_churn_90d, churned_90d), ``churn_drivers`` (dict),
        ``channel_effects`` (dict: channel -> log-odds effect), ``scenarios``
        (DataFrame: account_id, scenario), ``deal_cycles`` (dict: per persona the planted
        buying cycle and the mean days from a standard deal's creation to its close).
    end_date, start_date : str
        The history's first and last day (``YYYY-MM-DD``).
    seed : int
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]
    end_date: str
    seed: int
    start_date: str = ""


