"""Time to value and retention as survival data.

Many accounts have not reached value yet, and most have not churned: their times
are *censored*. This module turns the journey tables into one row per account
(origin, event or censoring time, and why), then estimates Kaplan–Meier curves
per group, compares groups (log-rank tests, Cox proportional hazards) and builds
start-month cohort retention tables.

Durations
---------
:func:`value_durations` measures the time from an **origin** to the **value
event**:

* origin ``"subscription_start"`` (default: the first subscription's start, the
  day the customer can use the product) or ``"won_close"`` (the first won
  opportunity's close);
* value event :class:`UsageMilestone` (default: the first usage period with
  ``active_users >= ceil(0.25 * seats_purchased)``), :class:`TouchpointEvent`
  (the first touchpoint of given names, e.g. ``feature_activation``) or
  :class:`StageEvent` (the first touchpoint of a lifecycle stage, e.g.
  ``adoption``); :func:`parse_value_event` reads them from short strings.

A duration is censored at ``as_of`` or, for an account that churned first, at its
churn. :func:`churn_durations` measures the time from the first subscription's
start to churn, censored at ``as_of``. Subscriptions are merged into spans
(:func:`subscription_spans`): a gap of fewer than ``churn_gap_days`` days without
a subscription is not churn; churn is the end of the last span when no
subscription is active after it.

Time conventions: durations are in days (floats). ``end_date`` of a subscription
is its last day of service, so the churn time is the day after it (a one-year
subscription from 1 Jan to 31 Dec lasts 365 days) and a subscription ending on
``as_of`` has not churned yet. A duration censored at ``as_of`` runs to the end
of that day. Usage is reported per period (a week starting on ``date``): the
value was reached somewhere inside the first qualifying period, so the event
time is by default the middle of that period, cut to [origin, as_of]
(``UsageMilestone(at="start" | "end")`` for the bounds; ``event_lower`` and
``event_upper`` keep the interval).

Every table row says its ``status``: ``event``, ``censored`` (no event by
as_of), ``censored_churned`` (churned before the event), ``no_origin`` (never a
customer by as_of), ``origin_after_as_of`` and ``event_before_origin``. Only
rows with ``used`` true enter the curves; the others are reported by
:func:`status_counts`, never silently dropped. Nothing after ``as_of``
influences a duration.

Estimates
---------
:class:`SurvivalCurves` fits Kaplan–Meier curves per group (lifelines) with
log-log (exponential Greenwood) confidence bands, the median with its CI
("not reached" when the curve never crosses 0.5), and the share with the event
by 30/60/90 days with CI; groups smaller than ``min_group_size`` are reported in
``excluded_`` and left out. Durations computed from dates are recorded to the day
(``attrs["resolution_days"]``): the median is then read within the day where the
curve crosses 0.5 (the grouped-data median) instead of at the step, which would
bias it by up to half a day. A weekly usage milestone still carries a small bias
from not knowing where in the week value came (about +2% on the planted starter
median of 10 days; none on 30- and 60-day medians). :func:`logrank_tests` compares groups (overall and
pairwise with Holm correction); :class:`CoxModel` gives hazard ratios with CIs,
the concordance and the proportional-hazards check in plain words.
:func:`cohort_retention` and :func:`net_revenue_retention` give logo and revenue
retention from subscriptions.

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations. JASA 53.
Brookmeyer, R. & Crowley, J. (1982). A confidence interval for the median survival time. Biometrics 38.
Grambsch, P. & Therneau, T. (1994). Proportional hazards tests and diagnostics based on weighted residuals.
Biometrika 81.
"""
from __future__ import annotations

from .cohorts import cohort_retention, net_revenue_retention
from .compare import CoxModel, logrank_tests
from .curves import SurvivalCurves
from .durations import (DEFAULT_SIZE_BANDS, NOT_REACHED, ORIGINS, STATUS, StageEvent, TouchpointEvent, UsageMilestone,
                        ValueEvent, churn_durations, parse_value_event, status_counts, subscription_spans,
                        value_durations)

__all__ = [
    "UsageMilestone", "TouchpointEvent", "StageEvent", "parse_value_event", "ORIGINS", "STATUS",
    "DEFAULT_SIZE_BANDS", "subscription_spans", "value_durations", "churn_durations", "status_counts",
    "SurvivalCurves", "logrank_tests", "CoxModel", "cohort_retention", "net_revenue_retention",
    "NOT_REACHED", "ValueEvent",
]
