"""Synthetic B2B SaaS customer-journey data with planted ground truth.

:func:`generate` builds every table of the data contract (``journeylib.schema``)
for ``n_accounts`` companies over a history that ends on ``end_date`` (three
years by default), deterministically from ``seed``; :func:`write` stores the
tables as CSV (gzip), Parquet or one DuckDB file, and the planted truth as
small files under ``truth/``. Nothing depends on the clock: the same seed and
version give equal tables and byte-identical CSV and Parquet files.

All randomness comes from ``numpy.random.default_rng`` streams spawned from
``SeedSequence(seed)``, one per part of the model. Timestamps are tz-aware UTC;
rows at or after the end of ``end_date`` (UTC) are not emitted. Internally the
post-purchase life of customers is simulated ~100 days past ``end_date`` only
so that the true churn probability of the last snapshots is exact (see
*Churn*); none of it is emitted.

The generative model
--------------------
**Accounts and personas.** Every account gets one planted persona
(``truth/personas.csv``) that drives both firmographics and behaviour:

=======================  ============  =========  ============================================
persona                  employees     plan       behaviour
=======================  ============  =========  ============================================
enterprise_committee     ~6,000        enterprise 6-12 contacts, ~150-day cycle, many AE calls,
                                                  onsite meetings, workshops, security reviews
mid_market_evaluator     ~600          growth     content-heavy research (whitepapers, webinars,
                                                  case studies), demos, ~70-day cycle
smb_self_serve           ~40           starter    1-3 contacts, paid ads -> pricing page ->
                                                  free trial -> quick decision (~2 weeks)
technical_adopter        ~300          growth     organic search, blog, knowledge base, trial,
                                                  very high product usage, community posts
at_risk_low_adopter      ~150          starter    display/social ads, demo, then low seat
                                                  utilisation, many tickets, low NPS
=======================  ============  =========  ============================================

Firmographics: industry, employees, region, country, plan (the current plan of a
customer, the quoted plan of a prospect with an opportunity, else empty),
created_at (the time of the account's first touchpoint), owner (an internal team such as
``"AE Team East"``) and ``parent_account_id`` (business units created by
cross-sell, see scenarios). Company names are made-up word pairs plus a legal
form. **XSS probe:** exactly one account, the first ``standard`` non-parent
account at or after position 42 in id order (``A00042`` when it qualifies), is
named ``<img src=x onerror=alert(1)>`` (:data:`XSS_ACCOUNT_NAME`) so that HTML
reports can be tested for escaping.

**Contacts (buying committee).** Slot 0 of an account is the ``champion``,
slot 1 the ``economic_buyer`` (the only one of the account; a one-contact
account's sole contact is its economic buyer), slot 2 a ``technical_evaluator``,
slot 3 ``procurement`` for enterprise committees, the rest ``end_user``. Names
come from short first/last lists and emails are ``first.last@<company>.example``:
clearly fake personal data.

**Touchpoints.** Only names of ``journeylib/default_stages.yml`` are used, each
with one channel (paid_search, paid_social, display, organic, third_party,
email, web, event, sales, product, partner, customer_success, support), a
campaign for marketing touchpoints, an outcome (``clicked``, ``viewed``,
``submitted``/``abandoned`` for forms, ``attended``/``no_show`` for demos and
webinars, ``completed``/``no_show`` for meetings, ``opened``, ``sent``,
``completed``) and a cost for paid ones. ``stage`` is empty (the stage mapping
assigns it) except for customer-education webinars after the purchase, which
carry the explicit stage ``adoption``. Before the purchase an account's
touchpoints are anchors (first touch, contact form / demo request / trial
signup, discovery call, demo, proposal, contract) plus persona-dependent
Poisson counts of every touchpoint kind placed in overlapping windows of the
buying cycle (awareness early, decision late), scaled per account and channel
by a gamma multiplier (mean 1, shape 3: accounts lean on some channels more
than others), so journeys are non-linear:
research after a demo, a second demo after the proposal (a planted
re-evaluation loop for ~35% of sales-led deals), blog and website visits and
pricing pages after onboarding; support (recurring) happens throughout.
Some prospects stall before an opportunity; 40% of them first submit their
persona's request (trial signup for smb_self_serve and technical_adopter,
contact form for enterprise_committee, demo request for the others). Stalled
and lost prospects are nurtured for up to a year by persona: newsletters,
webinars and whitepapers (enterprise, mid-market), organic search, blog and
knowledge base (technical), retargeting ads (smb, at-risk).
After the purchase: kickoff and onboarding calls, training, implementation
milestones, feature activation (one at first value), in-app guides,
newsletters, QBRs on a persona cadence, health checks, knowledge base,
tickets, CSAT/NPS surveys, renewal call/quote/signature around each
anniversary, upsell calls and proposals, seat increases, referrals, reviews,
case studies and community posts. Each ticket, NPS and CSAT response is also a
touchpoint (``support_ticket``, ``nps_survey``, ``csat_survey``).

**Leads.** The champion's lead is created at the first touch (source from the
first touchpoint: paid_search, paid_social, display, organic_search,
organic_social, review_site, event, word_of_mouth, referral, email), becomes an
MQL at the form/demo request/trial signup (a stalled prospect's only when it
submitted one) and an SQL when the opportunity is created (its
``opportunity_id``); other committee members leave extra leads
(webinar, content, event...) of which about a third become MQLs and none SQLs.

**Opportunities and channel effects.** A sales-led account's new-business
opportunity is created at the discovery call (at the trial signup for
smb_self_serve) and closes at the end of the buying cycle; it stays ``open``
when that is after ``end_date``. For ``standard`` accounts the outcome is
drawn with::

    logit P(won) = WIN_INTERCEPT[persona] + sum(CHANNEL_EFFECTS[c] for c in touched)

where ``touched`` is the set of channels of the account's touchpoints (any
outcome) strictly before the opportunity's close. ``truth/channel_effects.json``
is exactly ``CHANNEL_EFFECTS`` (channel -> log-odds contribution); channels
never seen before a close (customer_success) have effect 0. Scenario deals have
planted outcomes and are not drawn from this model. Renewal opportunities open
75 days before each anniversary (start date + 365 k days) and are won at the
anniversary, lost at the churn date when the customer churns before it.
Expansion opportunities (upsell calls) are won with probability 0.7 (the
cross-sell scenario's upsell always).
Amounts are annual: 12 x MRR (for expansions 12 x the MRR increase).

**Subscriptions.** A won deal starts a subscription 1-14 days after the close.
MRR = seats x list price per seat (starter 29, growth 49, enterprise 79 USD per
month) x a discount. Renewals keep the row. An **expansion is a new row**: the
old row ends the day before the expansion date and a new row with more seats
(and for the cross-sell scenario's upsell the enterprise plan) starts on it.
A churned customer's last row ends on the churn date.

**Usage and time to value.** One row per customer account and calendar week
(``date`` = the Monday starting the week) from the week of the subscription
start until churn or ``end_date``: ``seats_used`` (assigned seats),
``active_users`` (users active that week), ``feature`` (the account's most-used
feature that week) and ``events`` (product events that week). Each customer
reaches first value after a plan-dependent time ``T`` drawn from the
distribution in ``truth/time_to_value.json`` (starter lognormal, growth
Weibull, enterprise log-logistic; parameters in ``scipy.stats`` form and the
exact ``median_days``). Observable definition: *first value is reached in the
first usage week with active_users >= ceil(0.25 x seats_purchased)*; every
earlier week is below that threshold and the week containing
``start_date + T`` is the first at or above it, so
``date - start_date <= T < date + 7 - start_date`` for that week. Before value,
seats are provisioned slowly; after it, active users ramp up to a persona
plateau, and some accounts (half of the at-risk persona) later enter a usage
decline.

**Tickets and surveys.** Tickets arrive as a Poisson process per customer with
persona rates plus "trouble episodes" (45-120 days of extra, mostly high/urgent
tickets). first_response_minutes and resolution time depend on priority; csat
(1-5) is answered for ~55% of resolved tickets. Surveys: NPS (0-10) waves every
~182 days from day 75 to up to three contacts, a CSAT (1-5) after onboarding
and every ~182 days, and CES (1-7, 7 = very easy) after ~20% of resolved tickets.
NPS scores follow the account's seat utilisation at the time.

**Churn.** Customers are at risk from their first month-end snapshot on. On the
month piece (s_m, s_m+1] between consecutive month ends the hazard per day is
``exp(eta) / 30.4375`` (``exp(eta)`` is the monthly hazard) with::

    eta = baseline + sum(coefficient[k] * x_k(s_m))

where the drivers ``x_k(s_m)`` are computed from the emitted tables at the
snapshot ``s_m`` (definitions in ``truth/churn_drivers.json``): seat
utilisation, active-user trend, high/urgent tickets in the last 90 days, NPS
detractor, executive sponsor engagement in the last 180 days, plan, and whether
a renewal anniversary falls in that month. The drivers follow the account's
simulated path (usage, tickets, surveys and touchpoints are generated first as
if the customer stayed, then cut at the churn time). The churn time solves
``Lambda(t) = E`` with ``E ~ Exp(1)`` drawn per customer and ``Lambda`` the
cumulative hazard, so ``P(churn in (s, s + 90 days] | active at s) =
1 - exp(-(Lambda(s + 90) - Lambda(s)))`` exactly; that is ``p_churn_90d`` in
``truth/churn.csv`` (snapshot ``s`` = end of the month-end day; it is the true
probability given the account's driver path, which moves slowly, so it is close
to ``1 - exp(-3 exp(eta(s)))`` from the snapshot features alone).
``churned_90d`` is 1 when the subscription's end date is within 90 days after
the snapshot date, 0 when not, and empty when ``snapshot + 90 days > end_date``.
Scenario overrides: ``churned_after_one_year`` accounts churn at a time
uniform on [start + 300, start + 365] days (``p`` is the exact conditional
uniform probability), ``cross_sell_upsell_referral`` accounts never churn
(``p = 0``).

**Scenarios** (``truth/scenarios.csv``, from the three journeys of the seed
article; about 6-8% of accounts each, the rest ``standard``):

* ``churned_after_one_year``: at-risk adopter; paid ad, comparison and review
  sites, demo request, demo, contract; onboarding; low adoption, many
  tickets, low NPS; cancels at its first renewal (10-12 months after start).
* ``cross_sell_upsell_referral`` (a whole family of accounts carries it): a
  parent account buys early; one of its business units learns of the product
  through it and is cross-sold as a child account (``parent_account_id``,
  referral intro, discovery call, cross-sell demo, proposal, contract, no
  competition, always won); the parent is upsold to the enterprise plan about
  two years after its start (an expansion opportunity and a new subscription
  row); the child unit's referrals bring 1-3 further child accounts.
* ``lost_then_won``: a sales-led deal lost; a year later, after a feature
  launch e-mail (campaign ``feature_launch_YYYY_MM``), a new lead, demo and
  proposal, and a won deal.

Examples
--------
>>> from journeylib.synth import generate
>>> ds = generate(50, seed=1)
>>> sorted(ds.tables) == sorted(['accounts', 'touchpoints', 'contacts', 'leads', 'opportunities',
...                              'subscriptions', 'usage', 'tickets', 'surveys'])
True
"""
from __future__ import annotations

import gzip
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError
from .schema import (
    ACCOUNT_ID, CHANNEL, CONTACT_ID, EVENT_ID, LEAD_ID, OPPORTUNITY_ID, OUTCOME, PARENT_ACCOUNT_ID,
    STAGE, TABLE_ORDER, TABLES, TICKET_ID, TIMESTAMP, TOUCHPOINT,
)

__all__ = [
    "SynthDataset", "generate", "write", "FORMATS", "PERSONAS", "SCENARIOS", "PLANS",
    "XSS_ACCOUNT_NAME", "CHANNEL_EFFECTS", "WIN_INTERCEPT", "CHURN_COEFFICIENTS", "CHURN_BASELINE",
    "TIME_TO_VALUE",
]

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
        (DataFrame: account_id, scenario).
    end_date, start_date : str
        The history's first and last day (``YYYY-MM-DD``).
    seed : int
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]
    end_date: str
    seed: int
    start_date: str = ""


# =========================================================================== helpers
@dataclass
class _Ctx:
    n: int
    start: pd.Timestamp  # naive, midnight UTC of the first day
    end_day: pd.Timestamp  # naive, the last day
    H: float  # days from start to the end of end_date
    H_ext: float
    rng: dict[str, np.random.Generator]
    launches: np.ndarray = field(default_factory=lambda: np.zeros(0))
    launch_names: list[str] = field(default_factory=list)


class _NS:
    """A plain attribute bag of arrays."""


def _choice(rng: np.random.Generator, p_rows: np.ndarray) -> np.ndarray:
    """Draw one category per row from row-wise probabilities ``p_rows`` [n, k]."""
    cum = np.cumsum(p_rows, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(p_rows))[:, None]
    return np.minimum((u > cum).sum(axis=1), p_rows.shape[1] - 1)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float,
               size: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(size))


def _bh(t: np.ndarray, hour0: np.ndarray) -> np.ndarray:
    """Map raw times (days) into the 10-hour business day of the account's region (same day, monotone)."""
    d = np.floor(t)
    return d + (hour0 + 10.0 * (t - d)) / 24.0


def _draw_ttv(rng: np.random.Generator, plan: np.ndarray) -> np.ndarray:
    u = rng.random(len(plan))
    u = np.clip(u, 1e-12, 1 - 1e-12)
    out = np.empty(len(plan))
    p = TIME_TO_VALUE["starter"]["params"]
    m = plan == STARTER
    out[m] = p["scale"] * np.exp(p["s"] * _norm_ppf(u[m]))
    p = TIME_TO_VALUE["growth"]["params"]
    m = plan == GROWTH
    out[m] = p["scale"] * (-np.log1p(-u[m])) ** (1.0 / p["c"])
    p = TIME_TO_VALUE["enterprise"]["params"]
    m = plan == ENTERPRISE
    out[m] = p["scale"] * (u[m] / (1.0 - u[m])) ** (1.0 / p["c"])
    return out


def _norm_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    lo = u < 0.02425
    hi = u > 1 - 0.02425
    mid = ~(lo | hi)
    q = u[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
                (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    for mask, sign, uu in ((lo, 1.0, u[lo]), (hi, -1.0, 1 - u[hi])):
        q = np.sqrt(-2 * np.log(uu))
        out[mask] = sign * (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    return out


def _ttv_median(plan: str) -> float:
    """Exact median (days) of the planted time-to-value distribution of ``plan``."""
    spec = TIME_TO_VALUE[plan]
    p = spec["params"]
    if spec["distribution"] == "lognormal":
        return float(p["scale"])  # exp(mu)
    if spec["distribution"] == "weibull":
        return float(p["scale"] * math.log(2.0) ** (1.0 / p["c"]))
    return float(p["scale"])  # log-logistic: the scale is the median


# =========================================================================== events
class _Events:
    """Accumulates touchpoints as arrays; raw times (days since start) before the business-hour mapping."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.n = 0

    def add(self, acc, t, tp, *, outcome=None, camp=None, stage=None, contact=None) -> int:
        acc = np.asarray(acc, dtype=np.int64).ravel()
        m = acc.size

        def full(v, default):
            if v is None:
                return np.full(m, default, dtype=np.int64)
            return np.broadcast_to(np.asarray(v, dtype=np.int64), (m,)).copy()

        self.parts.append({
            "acc": acc, "t": np.broadcast_to(np.asarray(t, dtype=float), (m,)).copy(), "tp": full(tp, 0),
            "outcome": full(outcome, -1), "camp": full(camp, -1), "stage": full(stage, -1),
            "contact": full(contact, -2),
        })
        start = self.n
        self.n += m
        return start

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ("acc", "t", "tp", "outcome", "camp", "stage", "contact")
        if not self.parts:
            return {k: np.zeros(0, dtype=float if k == "t" else np.int64) for k in keys}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


def _poisson_events(rng, acc, start, end, lam, types, lo, hi):
    """Expand expected counts ``lam`` [rows, K] into events placed in [lo_k, hi_k] of each row's window."""
    cnt = rng.poisson(lam)
    K = lam.shape[1]
    rows = np.repeat(np.arange(cnt.size), cnt.ravel())
    r, k = rows // K, rows % K
    u = rng.random(rows.size)
    t = start[r] + (end[r] - start[r]) * (lo[k] + (hi[k] - lo[k]) * u)
    return acc[r], t, types[k]


# =========================================================================== step 1: accounts
def _context(n_accounts: int, seed: int, end_date: Any, start_date: Any) -> _Ctx:
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, (int, np.integer)) or n_accounts < 1:
        raise ParameterError(f"n_accounts must be a positive integer; got {n_accounts!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer; got {seed!r}")

    def day(value: Any, name: str) -> pd.Timestamp:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ParameterError(f"{name} must be a date like '2026-10-31'; got {value!r}") from None
        if ts is pd.NaT or pd.isna(ts):
            raise ParameterError(f"{name} must be a date like '2026-10-31'; got {value!r}")
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.normalize()

    end_day = day(end_date, "end_date")
    start = day(start_date, "start_date") if start_date is not None else \
        end_day - pd.DateOffset(years=3) + pd.Timedelta(days=1)
    H = float((end_day + pd.Timedelta(days=1) - start).days)
    if H < 60:
        raise ParameterError(
            f"start_date must be at least 60 days before end_date; got start_date={start.date()} "
            f"and end_date={end_day.date()}")
    names = ("accounts", "journey", "win", "contacts", "customers", "post", "usage", "tickets", "surveys",
             "churn", "leads", "outcomes")
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    ctx = _Ctx(int(n_accounts), start, end_day, H, H + _EXT_DAYS,
               {k: np.random.default_rng(s) for k, s in zip(names, children)})
    # Quarterly feature launches (15 Feb / May / Aug / Nov) inside the history.
    launches, lnames = [], []
    for year in range(start.year, end_day.year + 1):
        for month in (2, 5, 8, 11):
            d = pd.Timestamp(year=year, month=month, day=15)
            if start <= d <= end_day:
                launches.append(float((d - start).days))
                lnames.append(f"feature_launch_{year}_{month:02d}")
    ctx.launches = np.array(launches, dtype=float)
    ctx.launch_names = lnames
    return ctx


def _plan_accounts(ctx: _Ctx) -> _NS:
    """Scenario, family structure, persona and firmographics of every account."""
    rng = ctx.rng["accounts"]
    n = ctx.n
    A = _NS()
    A.n = n
    # --- scenarios: families first, then the one-year churners, then lost-then-won, then standard
    n_fam = n // 50 if n >= 20 else 0
    fam_extra = rng.choice([1, 2, 3], size=n_fam, p=[0.3, 0.4, 0.3])
    n_churn1 = int(round(0.06 * n))
    n_ltw = int(round(0.06 * n))
    while n_fam and int((2 + fam_extra).sum()) + n_churn1 + n_ltw > n // 2:
        n_fam -= 1
        fam_extra = fam_extra[:n_fam]
    scen = np.full(n, STD, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    fam_role = np.full(n, -1, dtype=np.int64)  # 0 parent, 1 cross-sold unit, 2.. referred units
    fam_of = np.full(n, -1, dtype=np.int64)
    i = 0
    for f in range(n_fam):
        size = 2 + int(fam_extra[f])
        scen[i:i + size] = XSELL
        parent[i + 1:i + size] = i
        fam_role[i:i + size] = np.arange(size)
        fam_of[i:i + size] = f
        i += size
    scen[i:i + n_churn1] = CHURN1
    i += n_churn1
    scen[i:i + n_ltw] = LTW
    A.scen, A.parent, A.fam_role, A.fam_of = scen, parent, fam_role, fam_of

    # --- persona
    persona = rng.choice(5, size=n, p=_PERSONA_SHARE)
    persona[scen == CHURN1] = RISK
    m = scen == LTW
    persona[m] = rng.choice([ENT, MID, TECH], size=int(m.sum()), p=[0.3, 0.5, 0.2])
    m = scen == XSELL
    persona[m] = np.where(rng.random(int(m.sum())) < 0.6, MID, TECH)
    A.persona = persona

    # --- firmographics
    emp = np.empty(n)
    for p, (med, sig, lo, hi) in _EMPLOYEES.items():
        mm = persona == p
        emp[mm] = np.clip(_lognormal(rng, med, sig, int(mm.sum())), lo, hi)
    A.employees = np.round(emp).astype(np.int64)
    A.industry = _choice(rng, np.array(_INDUSTRY_P)[persona])
    A.region = rng.choice(4, size=n, p=_REGION_P)
    country = np.zeros(n, dtype=np.int64)
    for r, options in enumerate(_COUNTRIES):
        mm = A.region == r
        country[mm] = rng.choice(len(options), size=int(mm.sum()), p=[o[1] for o in options])
    A.country = country
    east = rng.random(n) < 0.55
    team = np.where(persona == ENT, 0, np.where(persona == SMB, 2, 1))
    team = np.where((persona == RISK) & (rng.random(n) < 0.5), 2, team)
    A.owner_team, A.owner_east = team, east
    # children inherit the parent's industry and country
    kids = parent >= 0
    A.industry[kids] = A.industry[parent[kids]]
    A.region[kids] = A.region[parent[kids]]
    A.country[kids] = A.country[parent[kids]]
    A.employees[kids] = np.clip(np.round(_lognormal(rng, 300, 0.6, int(kids.sum()))), 40, 3000).astype(np.int64)
    roots = (scen == XSELL) & (fam_role == 0)  # multi-unit companies
    A.employees[roots] = np.clip(np.round(_lognormal(rng, 5000, 0.6, int(roots.sum()))), 1500, 100000).astype(np.int64)
    A.unit = rng.integers(0, len(_UNITS), size=n)
    A.hour0 = np.array(_REGION_HOUR)[A.region]
    # plan of interest / first subscription
    plan = _choice(rng, np.array([_PLAN_P[p] for p in range(5)])[persona])
    plan[(scen == XSELL) & (fam_role == 0)] = GROWTH
    A.plan0 = plan
    sp = np.array(_SEATS)[plan]  # median seats at the reference size, elasticity, reference size, min, max
    seats = _lognormal(rng, sp[:, 0] * (A.employees / sp[:, 2]) ** sp[:, 1], 0.4, n)
    seats = np.clip(np.round(seats), sp[:, 3], sp[:, 4])
    A.seats0 = seats.astype(np.int64)
    disc = np.where(plan == STARTER, 1.0, np.where(plan == GROWTH, 0.9 + 0.1 * rng.random(n),
                                                   0.65 + 0.25 * rng.random(n)))
    A.disc = disc
    A.mrr0 = np.round(A.seats0 * np.array(_PRICE)[plan] * disc, 2)
    A.sponsor = rng.random(n) < np.array(_SPONSOR_P)[persona]
    A.sponsor[scen == XSELL] = True
    A.sponsor[scen == CHURN1] = False
    A.activity = rng.gamma(4.0, 0.25, size=n)
    # contact counts
    lo_c = np.array([_N_CONTACTS[p][0] for p in range(5)])[persona]
    hi_c = np.array([_N_CONTACTS[p][1] for p in range(5)])[persona]
    ncon = rng.integers(lo_c, hi_c + 1)
    ncon[kids] = rng.integers(2, 6, size=int(kids.sum()))
    A.ncon = ncon.astype(np.int64)
    A.coff = np.concatenate([[0], np.cumsum(A.ncon)[:-1]]).astype(np.int64)
    A.exec_slot = np.where(A.ncon >= 2, 1, 0).astype(np.int64)
    A.chan_mult = rng.gamma(_CHANNEL_MULT_SHAPE, 1 / _CHANNEL_MULT_SHAPE, size=(n, len(CHANNELS)))
    return A


# =========================================================================== step 2: buying journeys
def _schedule(ctx: _Ctx, A: _NS) -> None:
    """Times of every account's buying journey (first touch, request, opportunity, close) and phases."""
    rng = ctx.rng["journey"]
    n, H = A.n, ctx.H
    persona, scen = A.persona, A.scen
    med = np.array([_CYCLE[p][0] for p in range(5)])[persona]
    sig = np.array([_CYCLE[p][1] for p in range(5)])[persona]
    D = _lognormal(rng, med, sig, n)
    D = np.maximum(D, 4.0)
    t0 = H * rng.random(n) ** 0.85 * 0.995
    stalled = (rng.random(n) < np.array(_STALL_P)[persona]) & (scen == STD)
    forced = np.full(n, -1, dtype=np.int64)  # 1 won, 0 lost, -1 drawn from the win model

    # scenario timing
    m = scen == CHURN1
    t0[m] = rng.random(int(m.sum())) * max(1.0, H - 560)
    D[m] = 20 + 40 * rng.random(int(m.sum()))
    forced[m] = 1
    m = scen == LTW
    t0[m] = rng.random(int(m.sum())) * max(1.0, H - 640)
    D[m] = np.minimum(D[m], 150)
    forced[m] = 0
    fam = scen == XSELL
    par = fam & (A.fam_role == 0)
    t0[par] = rng.random(int(par.sum())) * 0.1 * H
    D[par] = 40 + 80 * rng.random(int(par.sum()))
    forced[fam] = 1
    close = t0 + D
    d0 = np.floor(close + 1 + 13 * rng.random(n))
    # families: the cross-sold unit after the parent's start, referred units after the unit's start
    referral_t = np.full(n, np.nan)  # when the referring account gave the referral (referred units)
    for f in np.unique(A.fam_of[fam]):
        idx = np.flatnonzero(A.fam_of == f)
        p_, c1, rest = idx[0], idx[1], idx[2:]
        t0[c1] = min(d0[p_] + (0.05 + 0.10 * rng.random()) * H, H - 1.5)
        referral_t[c1] = t0[c1] - 1 - 4 * rng.random()
        D[c1] = 30 + 15 * rng.random()
        close[c1] = t0[c1] + D[c1]
        d0[c1] = np.floor(close[c1] + 1 + 13 * rng.random())
        r = np.sort(d0[c1] + (0.10 + 0.25 * rng.random(len(rest))) * H)
        referral_t[rest] = r
        t0[rest] = np.minimum(r + 2 + 8 * rng.random(len(rest)), H - 1.5)
        D[rest] = 30 + 15 * rng.random(len(rest))
        close[rest] = t0[rest] + D[rest]
        d0[rest] = np.floor(close[rest] + 1 + 13 * rng.random(len(rest)))
    A.referral_t = referral_t

    kind = np.where(stalled, STALL, FULL)
    kind[scen == CHURN1] = LIGHT
    kind[fam & (A.fam_role >= 1)] = XSELLP
    has_opp = ~stalled
    # request (form / demo request / trial), opportunity creation, close
    req = t0 + D * (0.38 + 0.08 * rng.random(n))
    opp = np.minimum(req + 1 + 5 * rng.random(n), close - 0.5)
    smb = persona == SMB
    opp[smb] = np.minimum(req[smb] + 0.2 * rng.random(int(smb.sum())), close[smb] - 0.2)
    m = scen == CHURN1
    req[m] = t0[m] + 0.4 * D[m]
    opp[m] = req[m] + 1.0
    m = kind == XSELLP
    req[m] = t0[m]
    opp[m] = t0[m] + 2 + 5 * rng.random(int(m.sum()))
    end = np.where(stalled, t0 + 0.5 * D, close)
    A.t0, A.D, A.close, A.req, A.opp, A.end, A.d0 = t0, D, close, req, opp, end, d0
    A.kind, A.has_opp, A.stalled, A.forced = kind, has_opp, stalled, forced

    # lost-then-won: a second journey after a feature launch about a year after the loss
    A.re_start = np.full(n, np.nan)
    A.re_camp = np.full(n, -1, dtype=np.int64)
    ltw = np.flatnonzero(scen == LTW)
    base = close[ltw] + 300
    pos = np.searchsorted(ctx.launches, base, side="left")
    ok = pos < len(ctx.launches)
    L = base.copy()
    L[ok] = ctx.launches[pos[ok]]
    A.re_start[ltw] = L
    A.re_camp[ltw] = np.where(ok, pos, -1)
    D2 = 30 + 30 * rng.random(len(ltw))
    A.req2 = np.full(n, np.nan)
    A.opp2 = np.full(n, np.nan)
    A.close2 = np.full(n, np.nan)
    A.req2[ltw] = L + 2 + 6 * rng.random(len(ltw))
    A.opp2[ltw] = A.req2[ltw] + 1 + 3 * rng.random(len(ltw))
    A.close2[ltw] = L + D2
    A.d0[ltw] = np.floor(A.close2[ltw] + 1 + 13 * rng.random(len(ltw)))
    # first touch
    ft = np.zeros(n, dtype=np.int64)
    for p, dist in _FIRST_TOUCH.items():
        mm = persona == p
        names = list(dist)
        ft[mm] = np.array([_T[x] for x in names])[rng.choice(len(names), size=int(mm.sum()), p=list(dist.values()))]
    ft[kind == XSELLP] = _T["referral_intro"]
    A.first_touch = ft
    # some stalled prospects submit their request (their lead's MQL) before the stall
    asked = stalled & (rng.random(n) < _STALL_REQUEST_P)
    A.stall_req = np.where(asked, t0 + (end - t0) * (0.2 + 0.7 * rng.random(n)), np.nan)


def _request_tp(persona: np.ndarray) -> np.ndarray:
    """The request touchpoint of each persona: trial signup, contact form (enterprise) or demo request."""
    return np.where((persona == SMB) | (persona == TECH), _T["free_trial_signup"],
                    np.where(persona == ENT, _T["contact_form"], _T["demo_request"]))


def _presale_events(ctx: _Ctx, A: _NS, ev: _Events) -> None:
    """Anchors and Poisson background touchpoints of every buying phase, and nurture after it."""
    rng = ctx.rng["journey"]
    n, persona = A.n, A.persona
    idx = np.arange(n)
    ANCH = _O  # fixed outcomes for anchors
    # ---- phases: (account, start, end, kind)
    ph_acc = [idx]
    ph_s = [A.t0]
    ph_e = [A.end]
    ph_k = [A.kind]
    ltw = np.flatnonzero(A.scen == LTW)
    ph_acc.append(ltw)
    ph_s.append(A.re_start[ltw])
    ph_e.append(A.close2[ltw])
    ph_k.append(np.full(len(ltw), REENGAGE))
    pa, ps, pe, pk = (np.concatenate(x) for x in (ph_acc, ph_s, ph_e, ph_k))
    types = np.array([_T[k] for k in _PRESALE_COUNTS])
    groups = [g for g, _ in _PRESALE_COUNTS.values()]
    base = np.array([c for _, c in _PRESALE_COUNTS.values()]).T  # [persona, K]
    factor = np.array([[_PHASE_FACTOR[k][g] for g in groups] for k in range(5)])  # [kind, K]
    lam = base[persona[pa]] * factor[pk] * A.chan_mult[pa][:, _TP_CHANNEL[types]] * A.activity[pa, None]
    lo = np.array([_WINDOWS[g][0] for g in groups])
    hi = np.array([_WINDOWS[g][1] for g in groups])
    a, t, k = _poisson_events(rng, pa, ps, pe, lam, types, lo, hi)
    ev.add(a, t, k)

    # ---- anchors
    ev.add(idx, A.t0, A.first_touch)
    full = np.flatnonzero(A.kind == FULL)
    smb = persona[full] == SMB
    ev.add(full, A.req[full], _request_tp(persona[full]), outcome=ANCH["submitted"])
    asked = np.flatnonzero(np.isfinite(A.stall_req))
    ev.add(asked, A.stall_req[asked], _request_tp(persona[asked]), outcome=ANCH["submitted"])
    sales = full[~smb]
    ev.add(sales, A.opp[sales], _T["discovery_call"], outcome=ANCH["completed"])
    demo_t = A.opp[sales] + (A.close[sales] - A.opp[sales]) * (0.1 + 0.25 * rng.random(len(sales)))
    ev.add(sales, demo_t, _T["demo"], outcome=ANCH["attended"])
    prop_t = A.t0[sales] + A.D[sales] * (0.75 + 0.15 * rng.random(len(sales)))
    ev.add(sales, prop_t, _T["proposal_sent"], outcome=ANCH["sent"])
    loop = rng.random(len(sales)) < 0.35  # re-evaluation loop: another demo after the proposal
    la = sales[loop]
    lt = prop_t[loop] + (A.close[la] - prop_t[loop]) * (0.3 + 0.5 * rng.random(len(la)))
    ev.add(la, lt, _T["demo"], outcome=ANCH["attended"])
    ev.add(la, lt + 0.3, _T["ae_call"], outcome=ANCH["completed"])
    # one-year churners: alternatives on comparison and review sites, demo request, demo
    c1 = np.flatnonzero(A.scen == CHURN1)
    ev.add(c1, A.t0[c1] + 0.2 * A.D[c1], _T["comparison_site_visit"])
    ev.add(c1, A.t0[c1] + 0.3 * A.D[c1], _T["review_site_visit"])
    ev.add(c1, A.req[c1], _T["demo_request"], outcome=ANCH["submitted"])
    ev.add(c1, A.opp[c1], _T["discovery_call"], outcome=ANCH["completed"])
    ev.add(c1, A.t0[c1] + 0.6 * A.D[c1], _T["demo"], outcome=ANCH["attended"])
    # cross-sold and referred business units: no competition
    xs = np.flatnonzero(A.kind == XSELLP)
    ev.add(xs, A.opp[xs], _T["discovery_call"], outcome=ANCH["completed"])
    ev.add(xs, A.t0[xs] + 8 + 12 * rng.random(len(xs)), _T["cross_sell_demo"], outcome=ANCH["attended"])
    ev.add(xs, A.close[xs] - 3 - 7 * rng.random(len(xs)), _T["proposal_sent"], outcome=ANCH["sent"])
    # lost-then-won: feature launch e-mail, website, demo request, discovery, demo, proposal
    if len(ltw):
        L = A.re_start[ltw]
        camp = np.where(A.re_camp[ltw] >= 0, A.re_camp[ltw], -2)
        ev.add(ltw, L, _T["newsletter_click"], outcome=ANCH["clicked"], camp=camp)
        ev.add(ltw, L + 2 * rng.random(len(ltw)), _T["website_visit"])
        ev.add(ltw, A.req2[ltw], _T["demo_request"], outcome=ANCH["submitted"])
        ev.add(ltw, A.opp2[ltw], _T["discovery_call"], outcome=ANCH["completed"])
        ev.add(ltw, A.opp2[ltw] + 3 + 7 * rng.random(len(ltw)), _T["demo"], outcome=ANCH["attended"])
        ev.add(ltw, A.close2[ltw] - 5 - 7 * rng.random(len(ltw)), _T["proposal_sent"], outcome=ANCH["sent"])

    # ---- nurture after a stall or a loss (decided later for losses: nurture all non-won now, cut later)
    A.nurture_start = np.where(A.stalled, A.end, A.close)


def _decide_wins(ctx: _Ctx, A: _NS, ev: _Events) -> None:
    """Draw the standard deals from the channel win model; add contracts and nurture touchpoints."""
    rng = ctx.rng["win"]
    n = A.n
    e = ev.arrays()
    before = e["t"] < A.close[e["acc"]]
    touched = np.zeros((n, len(CHANNELS)), dtype=bool)
    touched[e["acc"][before], _TP_CHANNEL[e["tp"][before]]] = True
    logit = np.array([WIN_INTERCEPT[p] for p in PERSONAS])[A.persona] + touched.astype(float) @ _CHANNEL_BETA
    p_win = 1.0 / (1.0 + np.exp(-logit))
    won = rng.random(n) < p_win
    won = np.where(A.forced >= 0, A.forced == 1, won) & A.has_opp
    A.won1 = won  # outcome of the first deal (when it closes before end_date)
    A.p_win = p_win
    A.won = won | (A.scen == LTW)  # eventually a customer
    wa = np.flatnonzero(won)
    ev.add(wa, A.close[wa], _T["contract_signed"], outcome=_O["completed"])
    ltw = np.flatnonzero(A.scen == LTW)
    ev.add(ltw, A.close2[ltw], _T["contract_signed"], outcome=_O["completed"])
    A.final_close = np.where(A.scen == LTW, A.close2, A.close)
    # nurture: stalled and lost accounts keep reading (up to a year, until a re-engagement)
    lost_or_stalled = (~won) & (A.scen != XSELL)
    acc = np.flatnonzero(lost_or_stalled)
    s = A.nurture_start[acc]
    e_ = np.minimum(s + 365, ctx.H)
    e_ = np.where(A.scen[acc] == LTW, np.minimum(e_, A.re_start[acc] - 1), e_)
    e_ = np.maximum(e_, s)
    types = np.array([_T[k] for k in _NURTURE_RATES])
    rates = np.array(list(_NURTURE_RATES.values())).T  # [persona, K]
    lam = ((e_ - s) / 30.0)[:, None] * rates[A.persona[acc]] * A.activity[acc, None]
    a, t, k = _poisson_events(rng, acc, s, e_, lam, types, np.zeros(len(types)), np.ones(len(types)))
    ev.add(a, t, k)


# =========================================================================== step 3: customers
def _customers(ctx: _Ctx, A: _NS) -> _NS:
    """Customers (won accounts starting before end_date): value time, usage latent, expansions."""
    rng = ctx.rng["customers"]
    H = ctx.H
    cust = np.flatnonzero(A.won & (A.d0 < H))
    C = _NS()
    C.acc = cust
    C.n = len(cust)
    p = A.persona[cust]
    C.persona = p
    C.d0 = A.d0[cust]
    C.plan0 = A.plan0[cust]
    C.seats0 = A.seats0[cust]
    C.mrr0 = A.mrr0[cust]
    C.ttv = _draw_ttv(rng, C.plan0)
    C.plateau = rng.beta(np.array(_PLATEAU_BETA)[p, 0], np.array(_PLATEAU_BETA)[p, 1])
    lo = np.array(_ACTIVE_SHARE)[p, 0]
    hi = np.array(_ACTIVE_SHARE)[p, 1]
    C.active_share = lo + (hi - lo) * rng.random(C.n)
    C.epu = np.array(_EVENTS_PER_USER)[p] * (0.7 + 0.6 * rng.random(C.n))
    C.decliner = rng.random(C.n) < np.array(_DECLINER_P)[p]
    C.decline_start = C.d0 + C.ttv + 60 + 640 * rng.random(C.n)
    C.decline_rate = 0.01 + 0.02 * rng.random(C.n)
    C.health = rng.standard_normal(C.n)  # account random effect on survey scores
    scen = A.scen[cust]
    # expansions: a new subscription row with more seats (the upsell to enterprise for families)
    has = rng.random(C.n) < np.array(_EXPANSION_P)[p]
    has &= np.isin(scen, [STD, LTW]) | ((scen == XSELL) & (A.fam_role[cust] >= 1))
    tau = C.d0 + np.maximum(C.ttv + 30, 150 + 450 * rng.random(C.n))
    won = rng.random(C.n) < 0.7
    plan1 = C.plan0.copy()
    seats1 = np.ceil(C.seats0 * (1.2 + 0.4 * rng.random(C.n))).astype(np.int64)
    par = (scen == XSELL) & (A.fam_role[cust] == 0)
    has[par] = True
    won[par] = True
    tau[par] = C.d0[par] + (0.62 + 0.06 * rng.random(int(par.sum()))) * H
    plan1[par] = ENTERPRISE
    seats1[par] = np.ceil(np.maximum(C.seats0[par] * 1.5, 50)).astype(np.int64)
    disc1 = np.where(par, 0.7 + 0.2 * rng.random(C.n), A.disc[cust])
    C.has_exp = has
    C.exp_day = np.floor(tau)
    C.exp_won = has & won
    C.plan1 = plan1
    C.seats1 = seats1
    C.mrr1 = np.round(seats1 * np.array(_PRICE)[plan1] * disc1, 2)
    C.exp_created = C.exp_day + 0.5 - (20 + 20 * rng.random(C.n))
    C.scen = scen
    A.cust_index = np.full(A.n, -1, dtype=np.int64)
    A.cust_index[cust] = np.arange(C.n)
    return C


def _postsale_events(ctx: _Ctx, A: _NS, C: _NS, ev: _Events) -> None:
    """Potential post-purchase touchpoints (as if the customer stayed until the simulation horizon)."""
    rng = ctx.rng["post"]
    Hx = ctx.H_ext
    acc, d0, p = C.acc, C.d0, C.persona
    O = _O
    # onboarding
    ev.add(acc, d0 + 1 + 6 * rng.random(C.n), _T["kickoff_call"], outcome=O["completed"])
    olen = np.array(_ONBOARD_DAYS, dtype=float)[p]
    for name, rates in (("onboarding_call", (3.0, 2.0, 0.3, 1.0, 1.0)),
                        ("training_session", (4.0, 2.0, 0.2, 1.0, 0.5)),
                        ("implementation_milestone", (3.0, 1.0, 0.3, 0.3, 0.3))):
        lam = np.array(rates)[p] + (1.0 if name == "onboarding_call" else 0.0)
        cnt = rng.poisson(lam)
        r = np.repeat(np.arange(C.n), cnt)
        ev.add(acc[r], d0[r] + 2 + olen[r] * rng.random(r.size), _T[name])
    # first value
    ev.add(acc, d0 + C.ttv, _T["feature_activation"], outcome=O["completed"])
    # background
    types = np.array([_T[k] for k in _POSTSALE_RATES])
    rates = np.array(list(_POSTSALE_RATES.values())).T  # [persona, K]
    s = d0 + 3.0
    e = np.full(C.n, Hx)
    lam = rates[p] * ((e - s) / 30.0)[:, None] * A.activity[acc, None]
    a, t, k = _poisson_events(rng, acc, s, e, lam, types, np.zeros(len(types)), np.ones(len(types)))
    stage = np.where(k == _T["webinar"], 0, -1)  # customer-education webinars: explicit stage "adoption"
    ev.add(a, t, k, stage=stage)
    # QBRs on a cadence
    cad = np.array(_QBR_CADENCE)[p]
    nq = np.where(cad > 0, np.floor((Hx - d0) / np.where(cad > 0, cad, 1.0)), 0).astype(np.int64)
    r = np.repeat(np.arange(C.n), nq)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nq) - nq, nq) + 1
    ev.add(acc[r], d0[r] + cad[r] * kk + 6 * rng.standard_normal(r.size), _T["qbr"])
    # renewals around each anniversary
    nr = np.floor((Hx + 80 - d0) / 365.0).astype(np.int64)
    r = np.repeat(np.arange(C.n), nr)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nr) - nr, nr) + 1
    ann = d0[r] + 365.0 * kk
    ev.add(acc[r], ann - 50 - 20 * rng.random(r.size), _T["renewal_call"])
    ev.add(acc[r], ann - 20 - 15 * rng.random(r.size), _T["renewal_quote"], outcome=O["sent"])
    ev.add(acc[r], ann + 0.5, _T["renewal_signed"], outcome=O["completed"])
    # expansions
    x = np.flatnonzero(C.has_exp)
    ev.add(acc[x], C.exp_created[x], _T["upsell_call"], outcome=O["completed"])
    ev.add(acc[x], C.exp_day[x] + 0.5 - 5 - 10 * rng.random(len(x)), _T["expansion_proposal"], outcome=O["sent"])
    x = np.flatnonzero(C.exp_won)
    ev.add(acc[x], C.exp_day[x] + 0.5, _T["seat_increase"], outcome=O["completed"])
    # family referrals: the parent introduces the first unit, that unit refers the others
    kids = np.flatnonzero(A.fam_role >= 1)
    referrer = np.where(A.fam_role[kids] == 1, A.parent[kids], kids - (A.fam_role[kids] - 1))
    ev.add(referrer, A.referral_t[kids], _T["referral_given"], outcome=O["completed"])
    # the families' parent gets a case study and QBR-level engagement as a key account
    par = np.flatnonzero((A.scen == XSELL) & (A.fam_role == 0) & (A.cust_index >= 0))
    ev.add(par, A.d0[par] + 200 + 200 * rng.random(len(par)), _T["case_study_participation"])


# =========================================================================== step 4: usage
def _usage(ctx: _Ctx, A: _NS, C: _NS) -> _NS:
    """Weekly usage of every customer as a dense [customer, week] path up to the simulation horizon."""
    rng = ctx.rng["usage"]
    U = _NS()
    w_origin = -float(ctx.start.weekday())  # Monday on or before the first day
    W = int(np.ceil((ctx.H_ext - w_origin) / 7.0)) + 1
    ws = w_origin + 7.0 * np.arange(W)
    U.w_origin, U.W, U.ws = w_origin, W, ws
    n = C.n
    fw = np.floor((C.d0 - w_origin) / 7.0).astype(np.int64)
    vw = np.floor((C.d0 + C.ttv - w_origin) / 7.0).astype(np.int64)
    U.fw, U.vw = fw, vw
    w = np.arange(W)[None, :]
    valid = w >= fw[:, None]
    pre = w < vw[:, None]
    at = w == vw[:, None]
    prog = np.clip((w - fw[:, None]) / np.maximum(vw - fw, 1)[:, None], 0, 1)
    since = np.maximum(w - vw[:, None], 0)
    post_u = C.plateau[:, None] * (0.6 + 0.4 * (1 - np.exp(-since / 4.0)))
    dec = np.where(C.decliner[:, None] & (ws[None, :] > C.decline_start[:, None]),
                   np.maximum(0.25, np.exp(-C.decline_rate[:, None] * (ws[None, :] - C.decline_start[:, None]) / 7.0)),
                   1.0)
    util = np.where(pre, C.plateau[:, None] * (0.1 + 0.25 * prog), post_u * dec)
    util = np.clip(util * np.exp(0.06 * rng.standard_normal((n, W))), 0.0, 1.0)
    seats = np.where(C.exp_won[:, None] & (ws[None, :] >= C.exp_day[:, None]), C.seats1[:, None], C.seats0[:, None])
    thr = np.ceil(_VALUE_SHARE * seats).astype(np.int64)
    su = np.clip(np.round(util * seats), 1, seats).astype(np.int64)
    su = np.where(at, np.maximum(su, thr), su)
    q = np.clip(C.active_share[:, None] * (0.9 + 0.15 * rng.random((n, W))), 0, 1)
    q = np.where(pre, 0.35, q)
    au = rng.binomial(su, q)
    au = np.where(pre, np.minimum(au, thr - 1), au)
    au = np.where(at, np.maximum(au, thr), au)
    U.valid = valid
    U.seats = seats
    U.su = np.where(valid, su, 0)
    U.au = np.where(valid, au, 0)
    U.util = np.where(valid, util, 0.0)
    U.events = rng.poisson(U.au * C.epu[:, None])
    fp = np.array(_FEATURE_P)[C.persona]
    cum = np.cumsum(fp, axis=1)
    cum /= cum[:, -1:]
    uu = rng.random((n, W))
    feat = (uu[:, :, None] > cum[:, None, :]).sum(axis=2)
    U.feature = np.minimum(feat, len(_FEATURES) - 1)
    return U


# =========================================================================== step 5: tickets and surveys
def _tickets(ctx: _Ctx, A: _NS, C: _NS, ev: _Events) -> _NS:
    rng = ctx.rng["tickets"]
    Hx = ctx.H_ext
    p = C.persona
    s = C.d0 + 2.0
    dur = np.maximum(Hx - s, 0)
    cnt = rng.poisson(np.array(_TICKET_RATE)[p] * dur / 30.0 * A.activity[C.acc])
    r = np.repeat(np.arange(C.n), cnt)
    t = s[r] + dur[r] * rng.random(r.size)
    prio = _choice(rng, np.array(_PRIORITY_P)[p[r]])
    # trouble episodes
    ep = rng.random(C.n) < np.array(_EPISODE_P)[p]
    ep_s = C.d0 + 20 + rng.random(C.n) * np.maximum(Hx - C.d0 - 20, 1)
    ep_len = 45 + 75 * rng.random(C.n)
    ecnt = np.where(ep, rng.poisson(2.5 * ep_len / 30.0), 0)
    er = np.repeat(np.arange(C.n), ecnt)
    et = ep_s[er] + ep_len[er] * rng.random(er.size)
    eprio = _choice(rng, np.tile(np.array(_EPISODE_PRIORITY_P), (er.size, 1)))
    T = _NS()
    T.c = np.concatenate([r, er])
    raw = np.concatenate([t, et])
    T.prio = np.concatenate([prio, eprio])
    T.acc = C.acc[T.c]
    T.opened = _bh(raw, A.hour0[T.acc])
    m = T.opened < Hx
    for k in ("c", "prio", "acc", "opened"):
        setattr(T, k, getattr(T, k)[m])
    raw = raw[m]
    nT = T.c.size
    frt_med = np.array([900.0, 300.0, 75.0, 20.0])[T.prio]
    T.frt = np.round(frt_med * np.exp(0.8 * rng.standard_normal(nT)), 1)
    res_h = np.array([96.0, 48.0, 20.0, 6.0])[T.prio] * np.exp(0.9 * rng.standard_normal(nT))
    T.resolved = T.opened + T.frt / 1440.0 + res_h / 24.0
    z = 4.2 - 0.3 * (T.prio >= 2) - 0.4 * (res_h > 72) + 0.3 * C.health[T.c] + 0.9 * rng.standard_normal(nT)
    T.csat = np.where(rng.random(nT) < 0.55, np.clip(np.round(z), 1, 5), np.nan)
    T.ces_draw = rng.random(nT)
    z = 5.5 - 0.5 * np.log1p(T.frt / 60.0) - 0.3 * (T.prio >= 2) + 1.0 * rng.standard_normal(nT)
    T.ces = np.clip(np.round(z), 1, 7)
    T.event = ev.add(T.acc, raw, _T["support_ticket"], outcome=_O["submitted"])
    return T


def _surveys(ctx: _Ctx, A: _NS, C: _NS, U: _NS, T: _NS, ev: _Events) -> _NS:
    rng = ctx.rng["surveys"]
    Hx = ctx.H_ext
    kinds, cs, dates, scores, slots, fixed_contact = [], [], [], [], [], []
    ncon = A.ncon[C.acc]

    def util_at(c, day):
        w = np.clip(np.floor((day - U.w_origin) / 7.0).astype(np.int64), 0, U.W - 1)
        return U.util[c, w]

    # NPS waves every ~182 days from day 75, up to three contacts each
    nw = np.maximum(np.floor((Hx - C.d0 - 75) / 182.5) + 1, 0).astype(np.int64)
    r = np.repeat(np.arange(C.n), nw)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nw) - nw, nw)
    wave = C.d0[r] + 75 + 182.5 * kk
    for slot_kind in range(3):
        if slot_kind == 0:
            slot = np.zeros(r.size, dtype=np.int64)
            ok = np.ones(r.size, dtype=bool)
        elif slot_kind == 1:
            slot = np.ones(r.size, dtype=np.int64)
            ok = ncon[r] >= 2
        else:
            slot = 2 + np.floor(rng.random(r.size) * np.maximum(ncon[r] - 2, 1)).astype(np.int64)
            ok = ncon[r] >= 3
        resp = ok & (rng.random(r.size) < 0.4)
        c = r[resp]
        d = np.floor(wave[resp] + 10 * rng.random(c.size))
        mu = np.array(_NPS_MEAN)[C.persona[c]] + 0.8 * C.health[c] + 4.0 * (util_at(c, d) - 0.6)
        sc = np.clip(np.round(mu + 1.3 * rng.standard_normal(c.size)), 0, 10)
        kinds.append(np.zeros(c.size, dtype=np.int64))
        cs.append(c)
        dates.append(d)
        scores.append(sc)
        slots.append(slot[resp])
        fixed_contact.append(np.ones(c.size, dtype=bool))
    # CSAT after onboarding and every ~182 days (champion)
    nw2 = np.maximum(np.floor((Hx - C.d0 - 165) / 182.5) + 1, 0).astype(np.int64)
    r2 = np.repeat(np.arange(C.n), nw2)
    kk2 = np.arange(r2.size) - np.repeat(np.cumsum(nw2) - nw2, nw2)
    day = np.concatenate([C.d0 + 30 + 30 * rng.random(C.n), C.d0[r2] + 165 + 182.5 * kk2])
    c = np.concatenate([np.arange(C.n), r2])
    resp = rng.random(c.size) < np.concatenate([np.full(C.n, 0.6), np.full(r2.size, 0.3)])
    c, day = c[resp], np.floor(day[resp])
    z = 3.9 + 1.5 * (util_at(c, day) - 0.6) + 0.35 * C.health[c] + 0.8 * rng.standard_normal(c.size)
    sc = np.clip(np.round(z), 1, 5)
    kinds.append(np.ones(c.size, dtype=np.int64))
    cs.append(c)
    dates.append(day)
    scores.append(sc)
    slots.append(np.zeros(c.size, dtype=np.int64))
    fixed_contact.append(np.ones(c.size, dtype=bool))
    # CES after ~20% of resolved tickets (the ticket's requester is not known: an auto-picked user)
    m = T.ces_draw < 0.2
    kinds.append(np.full(int(m.sum()), 2, dtype=np.int64))
    cs.append(T.c[m])
    dates.append(np.floor(T.resolved[m]))
    scores.append(T.ces[m])
    slots.append(np.full(int(m.sum()), -1, dtype=np.int64))
    fixed_contact.append(np.zeros(int(m.sum()), dtype=bool))
    S = _NS()
    S.kind = np.concatenate(kinds)
    S.c = np.concatenate(cs)
    S.date = np.concatenate(dates)
    S.score = np.concatenate(scores).astype(np.int64)
    S.slot = np.concatenate(slots)
    S.acc = C.acc[S.c]
    keep = S.date < Hx
    for k in ("kind", "c", "date", "score", "slot", "acc"):
        setattr(S, k, getattr(S, k)[keep])
    # survey touchpoints: NPS and CSAT responses, same contact
    S.contact = np.where(S.slot >= 0, A.coff[S.acc] + np.maximum(S.slot, 0), -2)
    S.event = np.full(S.kind.size, -1, dtype=np.int64)
    m = S.kind <= 1
    tp = np.where(S.kind[m] == 0, _T["nps_survey"], _T["csat_survey"])
    start = ev.add(S.acc[m], S.date[m] + rng.random(int(m.sum())), tp, outcome=_O["submitted"], contact=S.contact[m])
    S.event[m] = start + np.arange(int(m.sum()))
    return S


# =========================================================================== step 6: contacts on touchpoints
def _assign_contacts(rng, A: _NS, acc, role, post) -> np.ndarray:
    """Pick each touchpoint's contact from the account's committee by the touchpoint's role preference."""
    n = A.ncon[acc]
    u = rng.random(acc.size)
    r = rng.random(acc.size)
    slot = np.minimum(np.floor(u * n).astype(np.int64), n - 1)
    m = (role == 2) & (r < 0.75)
    slot[m] = 0
    m = (role == 3) & (r < 0.8)
    slot[m] = A.exec_slot[acc[m]]
    m = (role == 4) & (n > 2) & (r < 0.75)
    slot[m] = 2
    m = (role == 5) & (n > 3)
    slot[m] = 3 + np.minimum(np.floor(rng.random(int(m.sum())) * (n[m] - 3)).astype(np.int64), n[m] - 4)
    # without an executive sponsor the economic buyer is never engaged after the purchase
    m = post & ~A.sponsor[acc] & (n > 1) & (slot == A.exec_slot[acc])
    slot[m] = 0
    cid = A.coff[acc] + slot
    none = (role == 6) | ((role == 1) & (rng.random(acc.size) < 0.35))
    return np.where(none, -1, cid)


# =========================================================================== step 7: churn
def _month_grid(ctx: _Ctx) -> tuple[pd.DatetimeIndex, np.ndarray]:
    ends = pd.date_range(ctx.start, ctx.end_day + pd.Timedelta(days=130), freq="ME")
    b = np.array([(d - ctx.start).days + 1 for d in ends], dtype=float)  # end of each month-end day
    last = int(np.searchsorted(b, ctx.H + 90, side="left"))
    return ends[:last + 1], b[:last + 1]


def _churn(ctx: _Ctx, A: _NS, C: _NS, U: _NS, T: _NS, S: _NS, E: dict[str, np.ndarray]) -> _NS:
    """Driver features at month ends, the hazard, the exact 90-day probabilities and the churn times."""
    rng = ctx.rng["churn"]
    ends, b = _month_grid(ctx)
    M = b.size
    n = C.n
    K = 1 << 14  # key stride: > simulation horizon in days
    act = C.d0[:, None] < b[None, :]
    # seat utilisation and active-user trend from the weekly rows
    wm = np.floor((b - 1 - U.w_origin) / 7.0).astype(np.int64)
    wm = np.clip(wm, 0, U.W - 1)
    su = U.su[:, wm]
    seats = np.where(C.exp_won[:, None] & (C.exp_day[:, None] <= b[None, :] - 1), C.seats1[:, None], C.seats0[:, None])
    util = su / seats
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(U.au, axis=1)], axis=1)
    last4 = (cs[:, wm + 1] - cs[:, np.maximum(wm - 3, 0)]) / 4.0
    prev4 = (cs[:, np.maximum(wm - 3, 0)] - cs[:, np.maximum(wm - 7, 0)]) / 4.0
    has8 = (wm[None, :] - 7) >= U.fw[:, None]
    trend = np.where(has8, np.log((last4 + 1.0) / (prev4 + 1.0)), 0.0)
    # high/urgent tickets in the last 90 days
    hp = T.prio >= 2
    keys = np.sort(T.c[hp] * K + T.opened[hp])
    base = (np.arange(n) * K)[:, None]
    tickets = (np.searchsorted(keys, base + b[None, :], side="right")
               - np.searchsorted(keys, base + b[None, :] - 90, side="right")).astype(float)
    # NPS detractor: mean score of the latest survey date on or before the snapshot
    m = S.kind == 0
    nps = pd.DataFrame({"c": S.c[m], "d": S.date[m], "s": S.score[m].astype(float)})
    nps = nps.groupby(["c", "d"], sort=True, as_index=False)["s"].mean()
    nk = nps["c"].to_numpy() * K + nps["d"].to_numpy()
    pos = np.searchsorted(nk, base + b[None, :] - 1, side="right") - 1
    posc = np.maximum(pos, 0)
    okn = (pos >= 0) & (nps["c"].to_numpy()[posc] == np.arange(n)[:, None]) if len(nk) else np.zeros((n, M), bool)
    detractor = np.where(okn, nps["s"].to_numpy()[posc] <= 6, False).astype(float) if len(nk) else np.zeros((n, M))
    # economic buyer engaged in the last 180 days
    ci = A.cust_index[E["acc"]]
    ex = (ci >= 0) & (E["contact"] >= 0) & (E["contact"] == A.coff[E["acc"]] + A.exec_slot[E["acc"]])
    ekeys = np.sort(ci[ex] * K + E["ts"][ex])
    engaged = ((np.searchsorted(ekeys, base + b[None, :], side="right")
                - np.searchsorted(ekeys, base + b[None, :] - 180, side="right")) > 0).astype(float)
    # plan of the subscription active on the snapshot date
    plan = np.where(C.exp_won[:, None] & (C.exp_day[:, None] <= b[None, :] - 1), C.plan1[:, None], C.plan0[:, None])
    # renewal anniversary in (snapshot, next month end]
    kn = np.maximum(np.ceil((b[None, :] - C.d0[:, None]) / 365.0), 1)
    ann = C.d0[:, None] + 365.0 * kn
    nxt = np.append(b[1:], np.inf)
    renewal = (ann >= b[None, :]) & (ann < nxt[None, :])
    X = {
        "seat_utilisation": util, "active_users_trend": trend, "high_priority_tickets_90d": tickets,
        "nps_detractor": detractor, "exec_engaged_180d": engaged, "plan_starter": (plan == STARTER).astype(float),
        "plan_enterprise": (plan == ENTERPRISE).astype(float), "renewal_month": renewal.astype(float),
    }
    eta = np.full((n, M), CHURN_BASELINE)
    for k, beta in CHURN_COEFFICIENTS.items():
        eta = eta + beta * X[k]
    lam = np.where(act, np.exp(eta) / _MONTH_DAYS, 0.0)  # per day on (b_m, b_m+1]
    std = C.scen != XSELL
    lam[~std] = 0.0
    width = np.diff(b)
    Lam = np.concatenate([np.zeros((n, 1)), np.cumsum(lam[:, :-1] * width[None, :], axis=1)], axis=1)
    # churn times: Lambda(t) = E
    E1 = rng.exponential(1.0, size=n)
    crossed = Lam[:, 1:] >= E1[:, None]
    anyc = crossed.any(axis=1)
    first = np.argmax(crossed, axis=1)
    rows = np.arange(n)
    tc = np.where(anyc, b[first] + (E1 - Lam[rows, first]) / np.where(anyc, lam[rows, first], 1.0), np.inf)
    # scenario churners: uniform on [start + 300, start + 365]
    c1 = C.scen == CHURN1
    ua = C.d0 + 300.0
    ub = C.d0 + 365.0
    tc[c1] = ua[c1] + 65.0 * rng.random(int(c1.sum()))
    tc[C.scen == XSELL] = np.inf
    # exact probabilities at the emitted snapshots
    snaps = np.flatnonzero(b <= ctx.H)
    target = b[snaps] + 90.0
    j = np.searchsorted(b, target, side="left") - 1
    Lt = Lam[:, j] + lam[:, j] * (target - b[j])[None, :]
    p = 1.0 - np.exp(-(Lt - Lam[:, snaps]))
    bb = b[snaps][None, :]
    a_, e_ = ua[:, None], ub[:, None]
    p_unif = np.where(bb < a_, np.clip(np.minimum(bb + 90, e_) - a_, 0, None) / (e_ - a_),
                      (np.minimum(bb + 90, e_) - bb) / np.maximum(e_ - bb, 1e-9))
    p = np.where(c1[:, None], p_unif, p)
    p = np.clip(p, 0.0, 1.0)
    alive = act[:, snaps] & (tc[:, None] >= bb)
    ci_, si_ = np.nonzero(alive)
    R = _NS()
    R.tc = tc
    R.snap_c = ci_
    R.snap_date = ends[snaps][si_]
    R.snap_b = b[snaps][si_]
    R.p = p[ci_, si_]
    known = R.snap_b + 90 <= ctx.H
    R.churned = np.where(known, (tc[ci_] < R.snap_b + 90).astype(np.int64), -1)
    return R


# =========================================================================== step 8: tables
def _ids(prefix: str, count: int, width: int) -> np.ndarray:
    width = max(width, len(str(count)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def _ts(ctx: _Ctx, days: np.ndarray) -> pd.Series:
    """Days since the start -> tz-aware UTC timestamps (whole seconds); NaN -> NaT."""
    days = np.asarray(days, dtype=float)
    sec = np.round(days * _DAY_S)
    ok = np.isfinite(sec)
    base = ctx.start.to_datetime64().astype("datetime64[s]")
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    out[ok] = base + sec[ok].astype(np.int64).astype("timedelta64[s]")
    return pd.Series(out.astype("datetime64[ns]")).dt.tz_localize("UTC")


def _obj(values) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _lookup(names, codes: np.ndarray) -> np.ndarray:
    """Codes -> object array of names; negative codes -> None."""
    table = np.array(list(names) + [None], dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    return table[np.where(codes >= 0, codes, len(names))]


def _company_names(rng, n: int) -> tuple[list[str], list[str]]:
    P, Cn = len(_NAME_PREFIX), len(_NAME_CORE)
    total = P * Cn * len(_NAME_VARIANT)
    perm = rng.permutation(total)
    names, slugs = [], []
    for i in range(n):
        c = int(perm[i % total])
        rep = i // total
        v, rest = divmod(c, P * Cn)
        pi, ci = divmod(rest, Cn)
        base = f"{_NAME_PREFIX[pi]} {_NAME_CORE[ci]}{_NAME_VARIANT[v]}" + (f" {rep + 1}" if rep else "")
        names.append(base)
        slugs.append(re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-"))
    return names, slugs


def _index(ctx: _Ctx, A: _NS, C: _NS, R: _NS) -> _NS:
    """Account order and ids (by creation time) shared by every table."""
    K = _NS()
    K.H = ctx.H
    K.hour = A.hour0
    K.tc_acc = np.full(A.n, np.inf)
    K.tc_acc[C.acc] = R.tc
    K.created = _bh(A.t0, A.hour0)
    K.order = np.lexsort((np.arange(A.n), K.created))
    K.rank = np.empty(A.n, dtype=np.int64)
    K.rank[K.order] = np.arange(A.n)
    K.acc_id = _ids("A", A.n, 5)[K.rank]
    return K


def _accounts_table(ctx: _Ctx, A: _NS, C: _NS, K: _NS) -> pd.DataFrame:
    n, H = A.n, K.H
    names, slugs = _company_names(ctx.rng["accounts"], n)
    slugs = np.array(slugs, dtype=object)
    legal = [_COUNTRIES[r][c][2] for r, c in zip(A.region, A.country)]
    country = np.array([_COUNTRIES[r][c][0] for r, c in zip(A.region, A.country)], dtype=object)
    full_names = np.array([f"{a} {b}" for a, b in zip(names, legal)], dtype=object)
    # the XSS probe: first standard non-parent account at or after position 42 (in id order)
    is_parent = np.zeros(n, dtype=bool)
    is_parent[A.parent[A.parent >= 0]] = True
    cand = [i for i in K.order[min(41, n - 1):] if A.scen[i] == STD and not is_parent[i]]
    if not cand:
        cand = [i for i in K.order[::-1] if not is_parent[i]]
    xss = cand[0]
    full_names[xss] = XSS_ACCOUNT_NAME
    slugs[xss] = re.sub(r"[^a-z0-9]+", "-", XSS_ACCOUNT_NAME.lower()).strip("-")
    for k in np.flatnonzero(A.parent >= 0):  # business units: "<company> (<unit>)", the company's domain
        full_names[k] = f"{full_names[A.parent[k]]} ({_UNITS[A.unit[k]]})"
        slugs[k] = slugs[A.parent[k]]
    K.slugs = slugs
    # current plan: the latest subscription's; a prospect's quoted plan; else empty
    plan_now = np.where(A.has_opp & (A.opp < H), A.plan0, -1)
    upgraded = C.exp_won & (C.exp_day < H) & (C.exp_day + 0.5 < K.tc_acc[C.acc])
    plan_now[C.acc] = np.where(upgraded, C.plan1, C.plan0)
    suffix = np.where(A.region == 0, np.where(A.owner_east, "East", "West"),
                      np.array(["", "EMEA", "APAC", "LATAM"], dtype=object)[A.region])
    team = np.array(["Enterprise Team", "AE Team", "SMB Pod"], dtype=object)[A.owner_team]
    owner = np.array([f"{a} {b}" for a, b in zip(team, suffix)], dtype=object)
    parent_id = np.where(A.parent >= 0, K.acc_id[np.maximum(A.parent, 0)], None)
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id, "name": full_names, "industry": np.array(_INDUSTRIES, dtype=object)[A.industry],
        "employees": A.employees.astype(np.int64), "region": np.array(_REGIONS, dtype=object)[A.region],
        "country": country, "plan": _lookup(PLANS, plan_now), "created_at": _ts(ctx, K.created),
        PARENT_ACCOUNT_ID: _obj(parent_id), "owner": owner,
    }).iloc[K.order].reset_index(drop=True)


def _contacts_table(ctx: _Ctx, A: _NS, K: _NS) -> pd.DataFrame:
    rc = ctx.rng["contacts"]
    nc_total = int(A.ncon.sum())
    cacc = np.repeat(np.arange(A.n), A.ncon)
    slot = np.arange(nc_total) - A.coff[cacc]
    ncon = A.ncon[cacc]
    role = np.where(slot == 0, 0, np.where(slot == 1, 1, np.where(slot == 2, 2, 4)))
    role = np.where((slot == 3) & (A.persona[cacc] == ENT), 3, role)
    role = np.where((slot == 4) & (A.persona[cacc] == ENT), 2, role)
    role = np.where(ncon == 1, 1, role)
    sen_p = np.array([
        (0.0, 0.1, 0.5, 0.4, 0.0),  # champion
        (0.5, 0.5, 0.0, 0.0, 0.0),  # economic buyer
        (0.0, 0.0, 0.1, 0.4, 0.5),  # technical evaluator
        (0.0, 0.0, 0.4, 0.6, 0.0),  # procurement
        (0.0, 0.0, 0.0, 0.2, 0.8),  # end user
    ])
    seniority = _choice(rc, sen_p[role])
    seniority = np.where((ncon == 1), 0, seniority)
    dep_p = np.zeros((5, len(_DEPARTMENTS)))
    dep_p[0, [2, 3, 4, 5, 1]] = (0.3, 0.2, 0.2, 0.2, 0.1)
    dep_p[1, [0, 1, 2]] = (0.5, 0.3, 0.2)
    dep_p[2, [6, 7, 8]] = (0.45, 0.35, 0.2)
    dep_p[3, 10] = 1.0
    dep_p[4, [2, 4, 3, 9, 1, 5]] = (0.3, 0.2, 0.15, 0.15, 0.1, 0.1)
    dept = _choice(rc, dep_p[role])
    first = rc.integers(0, len(_FIRST), nc_total)
    last = rc.integers(0, len(_LAST), nc_total)
    cnames, emails = [], []
    seen: dict[tuple[int, str], int] = {}
    for i in range(nc_total):
        fn, ln = _FIRST[first[i]], _LAST[last[i]]
        local = f"{fn.lower()}.{ln.lower()}"
        key = (int(cacc[i]), local)
        k = seen.get(key, 0)
        seen[key] = k + 1
        cnames.append(f"{fn} {ln}")
        emails.append(f"{local}{k + 1 if k else ''}@{K.slugs[cacc[i]]}.example")
    corder = np.lexsort((slot, K.rank[cacc]))
    crank = np.empty(nc_total, dtype=np.int64)
    crank[corder] = np.arange(nc_total)
    K.con_id = _ids("C", nc_total, 6)[crank]  # by internal contact index
    return pd.DataFrame({
        CONTACT_ID: K.con_id, ACCOUNT_ID: K.acc_id[cacc], "role": np.array(_CONTACT_ROLES, dtype=object)[role],
        "seniority": np.array(_SENIORITY, dtype=object)[seniority],
        "department": np.array(_DEPARTMENTS, dtype=object)[dept], "name": _obj(cnames), "email": _obj(emails),
    }).iloc[corder].reset_index(drop=True)


def _opportunities_table(ctx: _Ctx, A: _NS, C: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    """New-business, renewal and expansion opportunities; sets ``K.new_opp`` for the leads."""
    H, hour = K.H, K.hour
    rows: list[dict[str, np.ndarray]] = []

    def add(acc, created_raw, closed_raw, status, amount, typ):
        closed_t = np.where(np.isfinite(closed_raw),
                            _bh(np.nan_to_num(closed_raw, nan=0.0, posinf=0.0), hour[acc]), np.nan)
        rows.append({"acc": acc, "created": _bh(created_raw, hour[acc]), "closed": closed_t, "status": status,
                     "amount": amount, "type": np.full(acc.size, typ, dtype=np.int64)})

    # new business (status 0 won, 1 lost, 2 open): the first deal, and the second of lost-then-won
    o = np.flatnonzero(A.has_opp)
    add(o, A.opp[o], A.close[o], np.where(A.won1[o], 0, 1), 12 * A.mrr0[o], 0)
    ltw = np.flatnonzero(A.scen == LTW)
    add(ltw, A.opp2[ltw], A.close2[ltw], np.zeros(ltw.size, dtype=np.int64), 12 * A.mrr0[ltw], 0)
    # renewals: open 75 days before each anniversary, won at it, lost at the churn time
    nr = np.maximum(np.floor((H + 80 - C.d0) / 365.0).astype(np.int64), 0)
    r = np.repeat(np.arange(C.n), nr)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nr) - nr, nr) + 1
    ann = C.d0[r] + 365.0 * kk
    created_raw = ann - 75
    tcr = R.tc[r]
    keep = _bh(created_raw, hour[C.acc[r]]) < tcr
    renewed = _bh(ann + 0.5, hour[C.acc[r]]) < tcr
    mrr_now = np.where(C.exp_won[r] & (C.exp_day[r] <= ann), C.mrr1[r], C.mrr0[r])
    closed_raw = np.where(renewed, ann + 0.5, np.nan)
    add(C.acc[r[keep]], created_raw[keep], closed_raw[keep], np.where(renewed, 0, 1)[keep], 12 * mrr_now[keep], 1)
    rows[-1]["closed"] = np.where(renewed[keep], rows[-1]["closed"], tcr[keep])
    # expansions: lost at the churn time when the customer churns before the close
    x = np.flatnonzero(C.has_exp)
    x = x[_bh(C.exp_created[x], hour[C.acc[x]]) < R.tc[x]]
    alive = _bh(C.exp_day[x] + 0.5, hour[C.acc[x]]) < R.tc[x]
    add(C.acc[x], C.exp_created[x], C.exp_day[x] + 0.5, np.where(alive & C.exp_won[x], 0, 1),
        12 * np.maximum(C.mrr1[x] - C.mrr0[x], 0), 2)
    rows[-1]["closed"] = np.where(alive, rows[-1]["closed"], R.tc[x])
    # combine; cut at end_date (a close after it is not known yet: open)
    O = {k: np.concatenate([row[k] for row in rows]) for k in rows[0]}
    inw = O["created"] < H
    O = {k: v[inw] for k, v in O.items()}
    open_ = ~(O["closed"] < H)
    O["status"] = np.where(open_, 2, O["status"])
    O["closed"] = np.where(open_, np.nan, O["closed"])
    oorder = np.lexsort((O["type"], K.rank[O["acc"]], np.round(O["created"] * _DAY_S)))
    O = {k: v[oorder] for k, v in O.items()}
    opp_id = _ids("O", O["acc"].size, 6)
    # ids of each account's new-business deals in order (for the leads)
    K.new_opp = {}
    newm = O["type"] == 0
    for a, oid in zip(O["acc"][newm], opp_id[newm]):
        K.new_opp.setdefault(int(a), []).append(oid)
    return pd.DataFrame({
        OPPORTUNITY_ID: opp_id, ACCOUNT_ID: K.acc_id[O["acc"]], "created_at": _ts(ctx, O["created"]),
        "closed_at": _ts(ctx, O["closed"]), "status": np.array(["won", "lost", "open"], dtype=object)[O["status"]],
        "amount": np.round(O["amount"].astype(float), 2),
        "type": np.array(["new", "renewal", "expansion"], dtype=object)[O["type"]],
    })


_LEAD_SOURCES = ("paid_search", "paid_social", "display", "organic_search", "organic_social", "review_site",
                 "event", "word_of_mouth", "referral", "email", "webinar", "content")


def _leads_table(ctx: _Ctx, A: _NS, K: _NS) -> pd.DataFrame:
    """The champion's lead per journey (MQL at the request, SQL at the opportunity) and other members' leads."""
    rl = ctx.rng["leads"]
    n, H, hour = A.n, K.H, K.hour
    src_of_tp = {k: _LEAD_SOURCES.index(v) for k, v in _LEAD_SOURCE.items()}
    idx = np.arange(n)
    ltw = np.flatnonzero(A.scen == LTW)
    mql = np.where(A.has_opp, A.req, A.stall_req)
    parts = [  # account, contact slot, created, mql, sql, which new deal (1st/2nd, 0 none), source
        (idx, np.zeros(n, dtype=np.int64), A.t0, mql, np.where(A.has_opp, A.opp, np.nan),
         np.where(A.has_opp, 1, 0), np.array([src_of_tp.get(_TP_NAMES[t], 5) for t in A.first_touch])),
        (ltw, np.zeros(ltw.size, dtype=np.int64), A.re_start[ltw] + 0.2, A.req2[ltw], A.opp2[ltw],
         np.full(ltw.size, 2), np.full(ltw.size, _LEAD_SOURCES.index("email"))),
    ]
    extra = np.minimum(rl.poisson(np.array([2.0, 1.2, 0.1, 0.5, 0.3])[A.persona]), A.ncon - 1)
    extra[A.kind == XSELLP] = 0
    r = np.repeat(idx, extra)
    kk = np.arange(r.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    ct = A.t0[r] + (A.end[r] - A.t0[r]) * (0.05 + 0.55 * rl.random(r.size))
    extra_mql = np.where(rl.random(r.size) < 0.35, ct + 1 + 19 * rl.random(r.size), np.nan)
    extra_src = rl.choice([_LEAD_SOURCES.index(s) for s in ("webinar", "content", "event", "paid_social",
                                                           "organic_search")], size=r.size)
    parts.append((r, kk, ct, extra_mql, np.full(r.size, np.nan), np.zeros(r.size, dtype=np.int64), extra_src))
    la, lslot, lcreated, lmql, lsql, ldeal, lsrc = (np.concatenate(col) for col in zip(*parts))
    lcreated = _bh(lcreated, hour[la])

    def cut(raw):
        t = np.where(np.isfinite(raw), _bh(np.nan_to_num(raw), hour[la]), np.nan)
        return np.where(t < H, t, np.nan)

    lmql, lsql = cut(lmql), cut(lsql)
    lopp = np.array([K.new_opp.get(int(a), [None, None])[k - 1] if (k and np.isfinite(s)) else None
                     for a, k, s in zip(la, ldeal, lsql)], dtype=object)
    lorder = np.lexsort((lslot, K.rank[la], np.round(lcreated * _DAY_S)))
    lorder = lorder[lcreated[lorder] < H]
    return pd.DataFrame({
        LEAD_ID: _ids("L", lorder.size, 6), "created_at": _ts(ctx, lcreated[lorder]),
        CONTACT_ID: K.con_id[A.coff[la] + lslot][lorder], ACCOUNT_ID: K.acc_id[la[lorder]],
        "mql_at": _ts(ctx, lmql[lorder]), "sql_at": _ts(ctx, lsql[lorder]), OPPORTUNITY_ID: lopp[lorder],
        "source": np.array(_LEAD_SOURCES, dtype=object)[lsrc[lorder]],
    })


def _touchpoints_table(ctx: _Ctx, E: dict[str, np.ndarray], K: _NS) -> pd.DataFrame:
    keep = (E["ts"] < K.H) & (E["ts"] < K.tc_acc[E["acc"]])
    ea, ets, etp = E["acc"][keep], E["ts"][keep], E["tp"][keep]
    eorder = np.lexsort((etp, K.rank[ea], np.round(ets * _DAY_S)))
    ea, ets, etp = ea[eorder], ets[eorder], etp[eorder]
    econ = E["contact"][keep][eorder]
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[ea], TIMESTAMP: _ts(ctx, ets), TOUCHPOINT: np.array(_TP_NAMES, dtype=object)[etp],
        EVENT_ID: _ids("E", ea.size, 7),
        CONTACT_ID: np.where(econ >= 0, K.con_id[np.maximum(econ, 0)], None),
        CHANNEL: np.array(CHANNELS, dtype=object)[_TP_CHANNEL[etp]],
        "campaign": E["campaign"][keep][eorder],
        STAGE: _lookup(("adoption",), E["stage"][keep][eorder]),
        OUTCOME: np.array(_OUTCOMES, dtype=object)[E["outcome"][keep][eorder]],
        "cost": E["cost"][keep][eorder],
    })


def _subscriptions_table(ctx: _Ctx, C: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    """One row per subscription; an expansion ends the old row the day before the new one starts."""
    H = K.H
    tcd = np.floor(R.tc)  # churn date (days)
    has_row1 = C.exp_won & (C.exp_day < H) & (_bh(C.exp_day + 0.5, K.hour[C.acc]) < R.tc)
    end0 = np.where(has_row1, C.exp_day - 1, np.where(tcd < H, tcd, np.nan))
    end1 = np.where(tcd < H, tcd, np.nan)
    r1 = np.flatnonzero(has_row1)
    s_acc = np.concatenate([C.acc, C.acc[r1]])
    s_start = np.concatenate([C.d0, C.exp_day[r1]])
    s_end = np.concatenate([end0, end1[r1]])
    s_mrr = np.concatenate([C.mrr0, C.mrr1[r1]])
    s_plan = np.concatenate([C.plan0, C.plan1[r1]])
    s_seats = np.concatenate([C.seats0, C.seats1[r1]])
    o = np.lexsort((s_start, K.rank[s_acc]))
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[s_acc[o]], "start_date": _ts(ctx, s_start[o]), "end_date": _ts(ctx, s_end[o]),
        "mrr": s_mrr[o].astype(float), "plan": np.array(PLANS, dtype=object)[s_plan[o]],
        "seats_purchased": s_seats[o].astype(np.int64),
    })


def _usage_table(ctx: _Ctx, C: _NS, U: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    """Weekly rows from the week of the subscription start up to the churn date or end_date."""
    last_day = np.minimum(np.where(np.isfinite(R.tc), np.floor(R.tc), np.inf), K.H - 1)
    uc, uw = np.nonzero(U.valid & (U.ws[None, :] <= last_day[:, None]))
    o = np.lexsort((uw, K.rank[C.acc[uc]]))
    uc, uw = uc[o], uw[o]
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[C.acc[uc]], "date": _ts(ctx, U.ws[uw]), "active_users": U.au[uc, uw].astype(np.int64),
        "seats_used": U.su[uc, uw].astype(np.int64), "feature": np.array(_FEATURES, dtype=object)[U.feature[uc, uw]],
        "events": U.events[uc, uw].astype(np.int64),
    })


def _tickets_table(ctx: _Ctx, T: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    H = K.H
    o = np.flatnonzero((T.opened < H) & (T.opened < R.tc[T.c]))
    o = o[np.lexsort((K.rank[T.acc[o]], np.round(T.opened[o] * _DAY_S)))]
    resolved = np.where(T.resolved[o] < H, T.resolved[o], np.nan)
    return pd.DataFrame({
        TICKET_ID: _ids("K", o.size, 6), ACCOUNT_ID: K.acc_id[T.acc[o]], "opened_at": _ts(ctx, T.opened[o]),
        "resolved_at": _ts(ctx, resolved), "first_response_minutes": T.frt[o].astype(float),
        "priority": np.array(_PRIORITIES, dtype=object)[T.prio[o]],
        "csat": np.where(np.isfinite(resolved), T.csat[o], np.nan).astype(float),
    })


def _surveys_table(ctx: _Ctx, S: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    con = S.contact_final
    o = np.flatnonzero((S.date < K.H) & (S.date < R.tc[S.c]))
    o = o[np.lexsort((S.kind[o], con[o], K.rank[S.acc[o]], S.date[o]))]
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[S.acc[o]], "date": _ts(ctx, S.date[o]),
        "kind": np.array(["nps", "csat", "ces"], dtype=object)[S.kind[o]], "score": S.score[o].astype(np.int64),
        CONTACT_ID: np.where(con[o] >= 0, K.con_id[np.maximum(con[o], 0)], None),
    })


def _truth(A: _NS, C: _NS, R: _NS, K: _NS) -> dict[str, Any]:
    order, acc_id = K.order, K.acc_id
    personas = pd.DataFrame({ACCOUNT_ID: acc_id[order], "persona": np.array(PERSONAS, dtype=object)[A.persona[order]]})
    scenarios = pd.DataFrame({ACCOUNT_ID: acc_id[order],
                              "scenario": np.array(SCENARIOS, dtype=object)[A.scen[order]]})
    o = np.lexsort((K.rank[C.acc[R.snap_c]], R.snap_b))
    ch = R.churned[o]
    churn = pd.DataFrame({
        "snapshot_date": pd.Series(np.asarray(R.snap_date[o], dtype="datetime64[ns]")).dt.tz_localize("UTC"),
        ACCOUNT_ID: acc_id[C.acc[R.snap_c[o]]],
        "p_churn_90d": np.round(R.p[o], 6),
        "churned_90d": pd.arrays.IntegerArray(np.maximum(ch, 0).astype(np.int64), ch < 0),
    })
    ttv = {}
    for plan in PLANS:
        spec = TIME_TO_VALUE[plan]
        ttv[plan] = {
            "distribution": spec["distribution"], "scipy": spec["scipy"], "params": dict(spec["params"]),
            "median_days": _ttv_median(plan),
            "event": f"first usage week with active_users >= ceil({_VALUE_SHARE} * seats_purchased); the planted "
                     "time T (days after start_date) lies in [week date - start_date, week date + 7 - start_date)",
        }
    drivers = {
        "model": "monthly hazard exp(baseline + sum(coefficient * driver)) on each month piece after a "
                 "month-end snapshot, per day / 30.4375; churn time solves cumulative hazard = Exp(1); "
                 "p_churn_90d = 1 - exp(-(Lambda(s + 90) - Lambda(s)))",
        "baseline": CHURN_BASELINE,
        "drivers": {k: {"coefficient": v, "definition": _DRIVER_DEFINITIONS[k]}
                    for k, v in CHURN_COEFFICIENTS.items()},
        "scenario_overrides": {
            "churned_after_one_year": "churn time uniform on [start_date + 300, start_date + 365] days",
            "cross_sell_upsell_referral": "never churn (p_churn_90d = 0)",
        },
    }
    return {"personas": personas, "time_to_value": ttv, "churn": churn, "churn_drivers": drivers,
            "channel_effects": dict(CHANNEL_EFFECTS), "scenarios": scenarios}


def _build(ctx: _Ctx, A: _NS, C: _NS, U: _NS, T: _NS, S: _NS, E: dict[str, np.ndarray],
           R: _NS) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Assemble the contract tables (cut at end_date, ids in time order) and the truth."""
    K = _index(ctx, A, C, R)
    accounts = _accounts_table(ctx, A, C, K)
    contacts = _contacts_table(ctx, A, K)
    opportunities = _opportunities_table(ctx, A, C, R, K)
    tables = {
        "accounts": accounts, "touchpoints": _touchpoints_table(ctx, E, K), "contacts": contacts,
        "leads": _leads_table(ctx, A, K), "opportunities": opportunities,
        "subscriptions": _subscriptions_table(ctx, C, R, K), "usage": _usage_table(ctx, C, U, R, K),
        "tickets": _tickets_table(ctx, T, R, K), "surveys": _surveys_table(ctx, S, R, K),
    }
    tables = {name: df[TABLES[name].names] for name, df in tables.items()}
    return tables, _truth(A, C, R, K)


def _finish_events(ctx: _Ctx, A: _NS, ev: _Events, S: _NS) -> dict[str, np.ndarray]:
    """Business-hour timestamps, outcomes, contacts, campaigns and costs of all touchpoints."""
    rng = ctx.rng["outcomes"]
    E = ev.arrays()
    acc, tp = E["acc"], E["tp"]
    E["ts"] = _bh(E["t"], A.hour0[acc])
    # outcomes
    out = E["outcome"]
    kind_names = list(_OUTCOME_KINDS)
    tp_kind = np.array([kind_names.index(t[3]) for t in _TOUCHPOINTS])
    need = out < 0
    u = rng.random(acc.size)
    ek = tp_kind[tp]
    for k, name in enumerate(kind_names):
        m = need & (ek == k)
        cum = 0.0  # the last outcome of a kind takes the remaining probability
        choice = np.full(int(m.sum()), _O[_OUTCOME_KINDS[name][-1][0]], dtype=np.int64)
        um = u[m]
        for outcome, prob in _OUTCOME_KINDS[name][:-1]:
            sel = (um >= cum) & (um < cum + prob)
            choice[sel] = _O[outcome]
            cum += prob
        out[m] = choice
    E["outcome"] = out
    # contacts
    post = (A.cust_index[acc] >= 0) & (E["ts"] >= A.d0[acc])
    auto = E["contact"] == -2
    E["contact"][auto] = _assign_contacts(rng, A, acc[auto], _TP_ROLE[tp[auto]], post[auto])
    S.contact_final = S.contact.copy()
    m = S.contact_final == -2
    S.contact_final[m] = _assign_contacts(rng, A, S.acc[m], np.full(int(m.sum()), 5), np.ones(int(m.sum()), bool))
    S.contact_final[S.event >= 0] = E["contact"][S.event[S.event >= 0]]
    # campaigns: "<year>Q<q>_<channel>_<theme>" for marketing touchpoints, launch campaigns when planted
    n_themes = np.array([len(t[5]) for t in _TOUCHPOINTS])
    camp = E["camp"]
    auto = (camp == -1) & (n_themes[tp] > 0)
    day = np.floor(E["ts"]).astype(np.int64)
    dates = ctx.start.to_datetime64().astype("datetime64[D]") + day.astype("timedelta64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    quarter = (dates.astype("datetime64[M]").astype(np.int64) % 12) // 3  # 0..3
    theme = np.minimum(np.floor(rng.random(acc.size) * np.maximum(n_themes[tp], 1)).astype(np.int64),
                       np.maximum(n_themes[tp] - 1, 0))
    code = ((year * 4 + quarter) * len(_TOUCHPOINTS) + tp) * 8 + theme
    names = np.full(acc.size, None, dtype=object)
    uc, inv = np.unique(code[auto], return_inverse=True)
    labels = []
    for c in uc:
        th = int(c % 8)
        t_ = int((c // 8) % len(_TOUCHPOINTS))
        yq = int(c // 8 // len(_TOUCHPOINTS))
        y, q = divmod(yq, 4)
        labels.append(f"{y}Q{q + 1}_{_TOUCHPOINTS[t_][1]}_{_TOUCHPOINTS[t_][5][th]}")
    names[auto] = np.array(labels, dtype=object)[inv] if labels else names[auto]
    planted = camp >= 0
    names[planted] = np.array(ctx.launch_names, dtype=object)[camp[planted]] if ctx.launch_names else None
    E["campaign"] = names
    # costs of paid touchpoints
    med = np.array([t[4][0] if t[4] else np.nan for t in _TOUCHPOINTS])
    sig = np.array([t[4][1] if t[4] else 0.0 for t in _TOUCHPOINTS])
    cost = np.round(med[tp] * np.exp(sig[tp] * rng.standard_normal(acc.size)), 2)
    E["cost"] = cost
    return E


# =========================================================================== public API
def generate(n_accounts: int = 2000, seed: int = 7, end_date: str = "2026-10-31",
             start_date: str | None = None) -> SynthDataset:
    """Generate a deterministic synthetic B2B SaaS dataset with planted truth.

    Parameters
    ----------
    n_accounts : int
        Number of accounts (companies), child business units included.
    seed : int
        Seed of ``numpy.random.SeedSequence``; the same seed (and version) gives equal tables.
    end_date : str
        Last day of the history (``YYYY-MM-DD``); nothing at or after the end of that day
        (UTC) is emitted.
    start_date : str, optional
        First day of the history; default three years before ``end_date`` (the day after
        ``end_date`` minus three years).

    Returns
    -------
    SynthDataset
        ``tables`` with every contract table and ``truth`` with the planted ground truth
        (see the module docstring for the generative model and the truth's shapes).

    Raises
    ------
    ParameterError
        For a non-positive ``n_accounts``, a negative ``seed``, an unreadable date, or a
        history shorter than 60 days.

    Examples
    --------
    >>> ds = generate(100, seed=3)
    >>> int((ds.tables["accounts"]["name"] == XSS_ACCOUNT_NAME).sum())
    1
    """
    ctx = _context(n_accounts, seed, end_date, start_date)
    A = _plan_accounts(ctx)
    _schedule(ctx, A)
    ev = _Events()
    _presale_events(ctx, A, ev)
    _decide_wins(ctx, A, ev)
    C = _customers(ctx, A)
    _postsale_events(ctx, A, C, ev)
    U = _usage(ctx, A, C)
    T = _tickets(ctx, A, C, ev)
    S = _surveys(ctx, A, C, U, T, ev)
    E = _finish_events(ctx, A, ev, S)
    R = _churn(ctx, A, C, U, T, S, E)
    tables, truth = _build(ctx, A, C, U, T, S, E, R)
    return SynthDataset(tables=tables, truth=truth, end_date=str(ctx.end_day.date()), seed=int(seed),
                        start_date=str(ctx.start.date()))


def _round_floats(obj: Any, digits: int = 6) -> Any:
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: _round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v, digits) for v in obj]
    return obj


def _iso_strings(values: pd.Series, date_only: bool) -> np.ndarray:
    """tz-aware timestamps -> 'YYYY-MM-DDTHH:MM:SS+00:00' (or 'YYYY-MM-DD'); NaT -> ''."""
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    nat = np.isnat(naive)
    if date_only:
        s = np.datetime_as_string(naive.astype("datetime64[D]"), unit="D").astype(object)
    else:
        s = np.datetime_as_string(naive.astype("datetime64[s]"), unit="s").astype(object) + "+00:00"
    s[nat] = ""
    return s


def _csv_frame(name: str, df: pd.DataFrame, date_cols: set[str] | None = None) -> pd.DataFrame:
    out = {}
    for col in df.columns:
        v = df[col]
        if isinstance(v.dtype, pd.DatetimeTZDtype):
            date_only = (name, col) in _DATE_ONLY or (date_cols is not None and col in date_cols)
            out[col] = _iso_strings(v, date_only)
        else:
            out[col] = v
    return pd.DataFrame(out, columns=df.columns)


def _write_csv_gz(df: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    data = df.to_csv(index=False, lineterminator="\n", float_format=float_format).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    path.write_bytes(buf.getvalue())


def _arrow_table(df: pd.DataFrame):
    import pyarrow as pa

    schema = pa.Schema.from_pandas(df, preserve_index=False)
    for i, f in enumerate(schema):
        if pa.types.is_null(f.type):
            schema = schema.set(i, pa.field(f.name, pa.string()))
    return pa.Table.from_pandas(df, schema=schema, preserve_index=False)


def write(dataset: SynthDataset, out: str | Path, format: str = "csv") -> list[Path]:
    """Write a generated dataset's tables and its planted truth.

    Parameters
    ----------
    dataset : SynthDataset
        From :func:`generate`.
    out : str or Path
        Folder (created when missing); existing files of the same names are overwritten,
        other files are left alone.
    format : {"csv", "parquet", "duckdb"}
        ``csv``: ``TABLE.csv.gz`` per table (gzip with mtime 0: byte-identical for the same
        seed; timestamps ISO 8601 with ``+00:00``, date-only columns ``YYYY-MM-DD``).
        ``parquet``: ``TABLE.parquet`` (zstd, no index; byte-identical run to run).
        ``duckdb``: one ``journey.duckdb`` with a table per contract table.
        For every format the truth goes to ``out/truth/``: ``personas.csv``,
        ``time_to_value.json``, ``churn.csv``, ``churn_drivers.json``,
        ``channel_effects.json``, ``scenarios.csv`` (JSON with sorted keys, indent 2).

    Returns
    -------
    list of Path
        The files written, tables first, then the truth files.
    """
    if format not in FORMATS:
        from .errors import did_you_mean

        raise ParameterError(
            f"format must be one of {', '.join(FORMATS)}; got {format!r}{did_you_mean(str(format), FORMATS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = dataset.tables
    if format == "csv":
        for name in TABLE_ORDER:
            path = out / f"{name}.csv.gz"
            _write_csv_gz(_csv_frame(name, tables[name]), path)
            written.append(path)
    elif format == "parquet":
        import pyarrow.parquet as pq

        for name in TABLE_ORDER:
            path = out / f"{name}.parquet"
            pq.write_table(_arrow_table(tables[name]), path, compression="zstd")
            written.append(path)
    else:
        import duckdb

        path = out / "journey.duckdb"
        for stale in (path, path.with_name(path.name + ".wal")):
            if stale.exists():
                stale.unlink()
        con = duckdb.connect(str(path))
        try:
            for name in TABLE_ORDER:
                con.register("_synth_table", _arrow_table(tables[name]))
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _synth_table')
                con.unregister("_synth_table")
        finally:
            con.close()
        written.append(path)
    tdir = out / "truth"
    tdir.mkdir(exist_ok=True)
    truth = dataset.truth
    for name in ("personas", "churn", "scenarios"):
        df = truth[name]
        if name == "churn":
            df = _csv_frame(name, df, date_cols={"snapshot_date"})
        path = tdir / f"{name}.csv"
        path.write_bytes(df.to_csv(index=False, lineterminator="\n",
                                   float_format="%.6f" if name == "churn" else None).encode("utf-8"))
        written.append(path)
    for name in ("time_to_value", "churn_drivers", "channel_effects"):
        path = tdir / f"{name}.json"
        path.write_text(json.dumps(_round_floats(truth[name]), sort_keys=True, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
