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

from .build import generate, write
from .params import (CHANNEL_EFFECTS, CHURN_BASELINE, CHURN_COEFFICIENTS, FORMATS, PERSONAS, PLANS, SCENARIOS,
                     TIME_TO_VALUE, WIN_INTERCEPT, XSS_ACCOUNT_NAME, SynthDataset)

__all__ = [
    "SynthDataset", "generate", "write", "FORMATS", "PERSONAS", "SCENARIOS", "PLANS",
    "XSS_ACCOUNT_NAME", "CHANNEL_EFFECTS", "WIN_INTERCEPT", "CHURN_COEFFICIENTS", "CHURN_BASELINE",
    "TIME_TO_VALUE",
]
