"""Predictive journeys: where open deals are heading, when, and which ones have stalled.

* :mod:`.visits` - :func:`deal_visits`: every deal's stage visits from creation to close;
* :mod:`.chain` - :func:`absorbing_chain`: the probability of winning and the expected steps
  and days to decision from each stage, per segment (absorbing semi-Markov chain, bootstrap
  intervals); :func:`holding_times`;
* :mod:`.snapshots` - :func:`deal_snapshots`: the open deals on given days, as known then;
* :mod:`.forecast` - the win model, the stage win-rate baseline, expected days left and the
  simulation of decisions;
* :mod:`.outlook` - :func:`pipeline_outlook`, :func:`stalled_deals`, :func:`pipeline_forecast`,
  :func:`backtest` and :func:`forecast_backtest`.
"""
from __future__ import annotations

from .chain import HoldingTime, absorbing_chain, chain_matrices, holding_times
from .outlook import (BACKTEST_COLUMNS, OUTLOOK_COLUMNS, Backtest, backtest, forecast_backtest, outlook_sentences,
                      pipeline_forecast, pipeline_outlook, stalled_deals)
from .snapshots import NUMERIC_FEATURES, deal_snapshots
from .visits import ABSORBING, CHURNED, LOST, NO_TOUCH, VISIT_COLUMNS, WON, deal_visits, deals, segment_of

__all__ = ["deal_visits", "deals", "segment_of", "absorbing_chain", "holding_times", "chain_matrices", "HoldingTime",
           "deal_snapshots", "NUMERIC_FEATURES", "pipeline_outlook", "stalled_deals", "pipeline_forecast",
           "forecast_backtest", "backtest", "outlook_sentences", "Backtest", "OUTLOOK_COLUMNS", "BACKTEST_COLUMNS",
           "ABSORBING", "WON", "LOST", "CHURNED", "NO_TOUCH", "VISIT_COLUMNS"]
