"""Personas: clustering of account features, rule-based personas, profiles, outcomes, journeys.

The features come from :func:`journeylib.segments.account_features` (one row per
account, as of a date). :class:`PersonaModel` clusters them:

* a scikit-learn pipeline transforms the chosen columns (one-hot encoding for
  categories, ``log1p`` for counts and days, log-odds for shares) and scales them;
* a Gaussian mixture (``method="gmm"``, diagonal covariances) or k-means is fitted
  on the accounts of the fit population (default: accounts with a new-business
  opportunity, i.e. a buying journey) whose chosen features are all observed;
* every account is then placed by the features it has: its most probable
  component under the mixture's marginal density of the observed features (exact
  for diagonal covariances), or the nearest centroid over the observed features.
  So a prospect without product usage is placed by its firmographics, committee,
  engagement and sales cycle; an account with no feature at all stays unassigned.
* accounts with a missing feature are early in their journey and differ from the
  fit population on the features they share with it (a journey without sales calls
  has a larger paid share); so by default (``refit_partial``) the mixture's weights,
  means and variances are re-estimated on them by EM over their observed features,
  starting from the fitted mixture, and they are placed by that refitted mixture
  (accounts with every feature keep the fitted one).

``k`` is chosen from a range by the BIC of the mixture (observed-data likelihood
of the fit population) or by the silhouette (on the fully observed accounts);
both are reported side by side in ``k_scores_``. Stability is the mean adjusted
Rand index between the fitted partition and refits on bootstrap resamples.

Rule-based personas (:func:`apply_rules`) name segments by simple firmographic
rules from a YAML file; overlaps and unmatched accounts are reported.

Persona profiles (:func:`persona_traits`), outcomes (:func:`persona_outcomes`), the
average journey (:func:`persona_paths`, :func:`persona_stage_times`) and the
buying-committee roles per stage (:func:`committee_engagement`) describe any
assignment of accounts to personas (clustered or rule-based).

Examples
--------
>>> import journeylib
>>> from journeylib import features, segments
>>> data = journeylib.load(None, as_of="2026-10-31")  # doctest: +SKIP
>>> feats = features.account_features(data)  # doctest: +SKIP
>>> model = segments.PersonaModel(k=5).fit(feats)  # doctest: +SKIP
>>> model.profiles_  # doctest: +SKIP
"""
from __future__ import annotations

from ..errors import PersonaWarning
from .columns import (CLUSTER_FEATURES, DEFAULT_GROUPS, DEFAULT_RULES_FILE, FIT_POPULATIONS, METHODS, MODEL_FILE,
                      MODEL_INFO_FILE, UNASSIGNED, cluster_columns, parse_groups)
from .features import account_features
from .model import PersonaModel, load_or_fit, persona_sizes
from .outcomes import committee_engagement, persona_outcomes, persona_paths, persona_stage_times
from .profiles import persona_traits
from .rules import apply_rules, load_rules, rule_summary

__all__ = [
    "PersonaWarning", "PersonaModel", "DEFAULT_GROUPS", "CLUSTER_FEATURES", "DEFAULT_RULES_FILE", "METHODS",
    "FIT_POPULATIONS", "cluster_columns", "parse_groups", "persona_traits", "persona_outcomes", "persona_paths",
    "persona_stage_times", "committee_engagement", "load_rules", "apply_rules", "rule_summary", "load_or_fit",
    "MODEL_FILE", "MODEL_INFO_FILE", "account_features", "persona_sizes", "UNASSIGNED",
]
