"""Churn risk: as-of snapshot features, risk models, temporal backtests, drivers and the risk list.

The package's modules: ``snapshots`` (features and labels), ``health`` (the rule-based health score
and expansion signals), ``model`` (:class:`ChurnModel`),
``reasons`` (reasons in plain words), ``metrics``, ``backtest`` (:class:`ChurnBacktest`,
:func:`permutation_drivers`) and ``lists`` (the risk list); import the names from
:mod:`journeylib.churn`.

The unit of analysis is an **account snapshot**: one row per account with an active
subscription at the end of a snapshot day ``s`` (month ends over the history, and
``as_of`` itself), with features computed **only from rows dated before the end of
that day** (the snapshot's *cutoff*, the first instant of ``s + 1 day`` in the data's
timezone: ``as_of_cutoff(s, tz) + 1 ns``) and the label "the subscription ended within
``horizon_days`` after ``s``".

* :func:`snapshot_features` / :func:`build_snapshots`: the features below (each
  function filters the raw tables itself, so changing any row dated after a
  snapshot changes none of that snapshot's features) and the labels.
* :class:`ChurnModel`: a gradient-boosted model (scikit-learn
  ``HistGradientBoostingClassifier``), a logistic regression, or the rule-based
  health score (:mod:`.health`), fitted on the snapshots whose outcome
  is known, probabilities calibrated on the latest training snapshots
  (``CalibratedClassifierCV(FrozenEstimator(model))``), with per-account reasons in
  plain words.
* :class:`ChurnBacktest`: train on snapshots whose outcome was known before ``T``,
  test on ``T``, for several ``T``: ROC-AUC, PR-AUC, Brier score, calibration,
  lift and capture in the top decile, the baselines side by side, and permutation
  drivers on the latest test snapshot.
* :func:`risk_list` and :func:`arr_at_risk_by_segment`: who to call, how much ARR is at
  stake. No contact names or e-mails ever appear in them.

Snapshot features
-----------------
=============================  =====================================================================
feature                        definition (``c`` = the snapshot's cutoff; windows are ``[c - d, c)``)
=============================  =====================================================================
plan                           plan of the latest-started subscription active at ``c``
mrr, seats_purchased           sums over the subscriptions active at ``c``
tenure_days                    days from the first subscription start to ``c``
days_to_renewal                days from ``c`` to the next anniversary of the first start (>= ``c``)
renewal_month                  1 when that anniversary falls on or before the next month end
renewal_in_horizon             1 when it falls within ``horizon_days``
seat_utilisation               seats_used / seats_purchased of the latest usage row before ``c``
seat_use_change_60d            seats_used of that row / seats_used of the latest row >= 60 days
                               earlier, minus 1
active_users                   mean active_users of the latest 4 usage rows
active_user_ratio              active_users / seats_purchased
active_users_trend             log((mean of the latest 4 rows + 1) / (mean of the 4 before + 1));
                               0 with fewer than 8 usage rows
feature_breadth_90d            distinct ``usage.feature`` values in the last 90 days
days_since_usage               days from the latest usage row to ``c``
tickets_90d                    tickets opened in the last 90 days
high_priority_tickets_90d      of which priority high or urgent
open_tickets                   tickets opened before ``c`` and not resolved before ``c``
resolution_days_180d           median days to resolve, tickets resolved in the last 180 days
ticket_csat_180d               mean csat of those tickets
nps_latest                     mean NPS score on the latest NPS survey date before ``c``
nps_detractor                  1 when nps_latest <= 6 (0 without any NPS response)
csat_latest                    mean CSAT survey score on the latest CSAT date before ``c``
ces_180d                       mean CES score in the last 180 days (7 = very easy)
exec_engaged_180d              1 when an economic buyer has a touchpoint in the last 180 days
champion_quiet_days            days since the latest touchpoint of a champion
champion_quiet_60d             1 when a champion was active once but not in the last 60 days
contacts_engaged_90d           distinct contacts with a touchpoint in the last 90 days
touchpoints_90d                touchpoints of the account in the last 90 days
new_departments_90d            departments whose first touchpoint falls in the last 90 days and
                               at least 90 days after the first subscription start (spread
                               beyond the buying and onboarding team)
related_accounts               parent and business-unit accounts created before ``c``
open_expansion_opportunity     1 when an expansion opportunity is open at ``c``
presale_days                   days from the account's first touchpoint to its first subscription
presale_<stage>                touchpoints of each lifecycle stage before the first subscription
                               start: the buying journey ("looked at alternatives", "bought
                               without a proposal")
persona                        the account's persona, when a persona frame is given
=============================  =====================================================================

Features of a missing optional table are NaN. The seat, trend, NPS, engagement and
plan features follow the definitions of ``journeylib.synth``'s planted churn drivers
(``truth/churn_drivers.json``), so the synthetic truth can be recovered.

Labels: an account *churns* on the end date of a subscription spell (rows of an
account joined when the next starts at most one day after the previous ends) that
no later row continues. ``churned`` is 1 when that date falls in
``(s, s + horizon_days]``, 0 when not, and missing when ``s + horizon_days`` is after
``as_of`` (``outcome_known`` False).

Examples
--------
>>> import journeylib
>>> from journeylib import churn
>>> data = journeylib.load(None, as_of="2026-10-31")  # doctest: +SKIP
>>> snaps = churn.build_snapshots(data, horizon_days=90)  # doctest: +SKIP
>>> bt = churn.ChurnBacktest(model="gbm").fit(snaps)  # doctest: +SKIP
>>> bt.metrics_[["test_date", "model", "roc_auc", "brier"]]  # doctest: +SKIP
"""
from __future__ import annotations

from .backtest import ChurnBacktest, permutation_drivers
from .health import (DEFAULT_HEALTH_WEIGHTS, HEALTH_BANDS, HEALTH_COMPONENTS, check_weights, expansion_list,
                     expansion_signals, health_score, parse_weights)
from .lists import RISK_LIST_COLUMNS, arr_at_risk_by_segment, risk_headline, risk_list
from .metrics import calibration_slope, calibration_table, classification_metrics, lift_table, roc_points
from .model import ChurnModel, model_features
from .reasons import REASON_GROUPS
from .prepared import CHAMPION_ROLES, EXEC_ROLES, FEATURES, HIGH_PRIORITIES, PRESALE_PREFIX, SNAPSHOT
from .snapshots import (CALIBRATIONS, KNOWN, LABEL, MODELS, build_snapshots, check_model, churn_labels, inputs_note,
                        latest_snapshot, snapshot_dates, snapshot_features, snapshot_summary)

__all__ = [
    "FEATURES", "MODELS", "CALIBRATIONS", "REASON_GROUPS", "check_model", "snapshot_dates", "snapshot_features",
    "build_snapshots", "churn_labels", "snapshot_summary", "model_features", "ChurnModel", "ChurnBacktest", "classification_metrics",
    "calibration_table", "calibration_slope", "lift_table", "roc_points", "permutation_drivers", "risk_list",
    "arr_at_risk_by_segment", "RISK_LIST_COLUMNS", "inputs_note", "latest_snapshot", "risk_headline",
    "PRESALE_PREFIX", "LABEL", "KNOWN", "SNAPSHOT", "EXEC_ROLES", "CHAMPION_ROLES", "HIGH_PRIORITIES",
    "health_score", "parse_weights", "check_weights", "expansion_signals", "expansion_list", "HEALTH_COMPONENTS",
    "DEFAULT_HEALTH_WEIGHTS", "HEALTH_BANDS",
]
