"""Journey paths: how accounts really move through the lifecycle, backwards included.

One input convention (docs/architecture.md): :func:`event_log` selects the journeys once
(from a :class:`~journeylib.data.JourneyData`, or a touchpoints frame with its
lifecycle; filters by segment or persona, plan, date window, channel and as_of), and
every analysis takes that :class:`EventLog` (or a JourneyData, meaning its default log)
and returns a tidy DataFrame:

* :func:`journey_steps` - one row per step of every journey (account, contact or
  opportunity), with first entries, backward moves and re-entries flagged;
* :func:`journeys` - one row per journey: its path, furthest stage, first-entry time
  of every stage, backward moves and re-entries, and its outcome;
* :func:`transitions` - from-stage -> to-stage counts, shares of exits, times between;
* :func:`variants` - the most frequent paths and their outcomes, and :func:`variant_journeys`
  the accounts that follow one of them;
* the step Sankey (:mod:`.sankey`), funnel, stalls, drop-offs and time
  in stage (:mod:`.funnel`) and won vs lost and outcomes
  (:mod:`.compare`).

**Order.** Events are ordered by journey, timestamp, ``event_id`` (as text, missing
last), then input order, so ties are deterministic; every output is sorted explicitly.

**Steps.** With ``collapse=True`` consecutive events of one stage are one step (entered
at the first of them); with ``collapse=False`` each event is a step, and transitions
include self-moves (their counts equal a directly-follows graph of the same log).

**Backward moves and re-entries** (docs/architecture.md, "Stages"). A step is *backward* when its stage is
linear and earlier in the lifecycle than the furthest linear stage the journey had
already reached; recurring stages (``support``) never count and do not raise the
furthest stage. A transition is ``backward`` when :meth:`Lifecycle.is_backward` says so,
``recurring`` when it enters or leaves a recurring stage, ``self`` when it stays, else
``forward``. A step is a *re-entry* when the journey enters again a linear stage it had
entered before, after at least ``reentry_days`` (default 270) with no touchpoint at that
stage or beyond it: an account that was lost and came back a year later (seed scenario
``lost_then_won``) re-enters consideration and decision.

Every analysis works for any lifecycle; a selection that matches nothing gives an
empty frame whose ``attrs["note"]`` says why. Inside, the work is numpy on integer
codes (:mod:`.log`): one sort when the log is built, then linear passes.
"""
from __future__ import annotations

from .compare import OUTCOMES, account_outcomes, won_vs_lost
from .funnel import drop_offs, funnel, stalls, time_in_stage
from .journeys import (DIRECTIONS, REENTRY_DAYS, event_log, journey_steps, journeys, transitions, variant_journeys,
                       variants)
from .log import LEVELS, EventLog
from .sankey import END, OTHER, sankey_nodes, step_sankey

__all__ = [
    "event_log", "EventLog", "journey_steps", "journeys", "transitions", "step_sankey", "sankey_nodes", "variants",
    "variant_journeys", "funnel", "stalls", "drop_offs", "time_in_stage", "account_outcomes", "won_vs_lost",
    "LEVELS", "END", "OTHER", "OUTCOMES", "DIRECTIONS", "REENTRY_DAYS",
]
