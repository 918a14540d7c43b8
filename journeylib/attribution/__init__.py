"""Multi-touch attribution at account level: which channels and campaigns bring pipeline and revenue.

* :mod:`.paths` - :func:`conversion_paths`: one row per buying journey, converting or not,
  with its channels in time order, its milestones and its value;
* :mod:`.rules` - :func:`rule_based` and :func:`touch_credits`: first, last, linear, time
  decay, U-, W-shaped and full-path credit with the B2B milestones;
* :mod:`.markov_chain` - :func:`markov`: removal-effect credit of an absorbing Markov chain, in
  closed form;
* :mod:`.shapley` - :func:`shapley`: the simplified Shapley value, overall or ordered by stage;
* :mod:`.lift` - :func:`channel_lift`: each channel's effect on conversion from the data
  (regularised logistic regression on exposure, bootstrap intervals);
* :mod:`.compare` - :func:`compare_models`: every model side by side, :func:`credit_intervals`
  (bootstrap intervals for any model's credit), and the sentences of
  the deck's "Where pipeline comes from";
* :mod:`.spend` - :func:`channel_costs`, :func:`return_on_spend` (CAC, ROI),
  :func:`cost_per_outcome` (cost per lead, per opportunity and per won deal in a period) and
  :func:`influence` (value touched); :func:`what_if` (in :mod:`.lift`): the expected change
  in conversions and value if a channel reached more or fewer journeys.
"""
from __future__ import annotations

from .compare import ALL_MODELS, compare_models, credit_intervals, pipeline_sentences
from .lift import LIFT_COLUMNS, channel_lift, exposure_matrix, what_if
from .markov_chain import markov, removal_effects, transition_matrix
from .paths import PATH_COLUMNS, conversion_paths
from .rules import MODELS, rule_based, touch_credits
from .shapley import shapley
from .spend import OUTCOMES, channel_costs, cost_per_outcome, influence, return_on_spend

__all__ = ["conversion_paths", "PATH_COLUMNS", "rule_based", "touch_credits", "MODELS", "channel_lift",
           "exposure_matrix", "LIFT_COLUMNS", "markov", "removal_effects", "transition_matrix", "compare_models",
           "ALL_MODELS", "pipeline_sentences", "what_if", "channel_costs", "return_on_spend", "influence",
           "shapley", "credit_intervals", "cost_per_outcome", "OUTCOMES"]
