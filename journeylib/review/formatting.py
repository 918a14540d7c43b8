"""How the deck says things: human column labels, numbers with their units, and the glossary.

Notebooks record tables with the library's column names and raw numbers (tests read them);
the deck shows them through :func:`format_table`: ``probability_before`` becomes "Risk last
month" and ``0.18402`` "18%", ``arr_at_risk`` 111807.72 becomes "111,808 USD". A column's
kind comes from :data:`COLUMN_LABELS` where it is listed, else from its name (``p_*``,
``*_share``, ``*_rate`` are shares; ``*arr*``, ``amount``, ``*revenue*``, ``*_value``,
``cost``, ``mrr`` are money; ``*days*`` are days). :data:`GLOSSARY` explains, in plain words,
every technical term the deck uses; the deck prints it under Methods.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["COLUMN_LABELS", "GLOSSARY", "column_label", "column_kind", "format_value", "format_table"]

#: column -> (label, kind); kind is one of share, money, days, count, number, text, words.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "account": ("Account", "text"), "account_id": ("Account id", "text"), "owner": ("Owner", "text"),
    "plan": ("Plan", "words"), "persona": ("Persona", "words"), "segment": ("Segment", "words"),
    "stage": ("Stage", "words"), "state": ("Stage", "words"), "from_stage": ("From stage", "words"),
    "to_stage": ("To stage", "words"), "channel": ("Channel", "words"), "campaign": ("Campaign", "text"),
    "model": ("Model", "words"), "status": ("Status", "words"), "metric": ("Metric", "text"),
    "probability": ("Churn risk", "share"), "probability_before": ("Risk last month", "share"),
    "probability_now": ("Risk now", "share"), "mean_probability": ("Mean predicted risk", "share"),
    "p_win": ("Chance to win", "share"), "p_baseline": ("Stage win rate", "share"), "share": ("Share", "share"),
    "churn_share": ("Share churned", "share"), "arr": ("ARR", "money"), "arr_at_risk": ("ARR at risk", "money"),
    "expected_arr_loss": ("Expected ARR loss", "money"), "amount": ("Amount", "money"),
    "won_value": ("Won value", "money"), "cost": ("Spend", "money"),
    "top_reasons": ("Why", "text"), "reasons": ("Why", "text"), "evidence": ("Evidence", "text"),
    "expansion_score": ("Expansion score", "number"), "median_days": ("Median days", "days"),
    "days_in_stage": ("Days in stage", "days"), "typical_days": ("Usual days in stage", "days"),
    "transitions": ("Moves", "count"), "accounts": ("Accounts", "count"), "conversions": ("Deals credited", "number"),
    "signals": ("Stall signals", "count"), "opportunity_id": ("Deal", "text"),
    "accounts_now": ("Accounts now", "count"),
    "accounts_before": ("Accounts last month", "count"), "new_accounts": ("New accounts", "count"),
    "moved_in": ("Moved in", "count"), "moved_out": ("Moved out", "count"), "expected_churned": ("Expected churned",
                                                                                                "number"),
    "churned": ("Churned", "count"), "band": ("Risk band", "text"),
}
#: Columns shown as words: underscores become spaces ("at_risk_low_adopter" -> "at risk low adopter").
_WORDS = "words"

#: Technical terms of the deck, in plain words (term -> explanation).
GLOSSARY: dict[str, str] = {
    "As of": "The analysis date: nothing dated after it is used, so a review can be rerun with the same numbers.",
    "ARR": "Annual recurring revenue: 12 times a customer's monthly subscription revenue (MRR).",
    "ARR at risk": "The ARR of the customers whose churn risk is at or above the threshold, counted in full.",
    "Expected ARR loss": "Each customer's ARR times its churn risk, summed over all customers: the loss to expect "
                         "on average, smaller than ARR at risk.",
    "Churn risk": "The model's probability that a customer's subscription ends within the horizon (90 days).",
    "AUC": "How well a model ranks: the chance that a random customer (or deal) with the outcome is scored above "
           "one without it; 0.5 is chance, 1 is perfect. Also called ROC-AUC.",
    "Brier score": "The mean squared difference between predicted probabilities and what happened (0 or 1); "
                   "lower is better.",
    "Calibration": "Whether predicted probabilities match observed rates: of deals given 70%, about 70% are won.",
    "Backtest": "Predictions made as of a past date with only the data known then, scored against what happened.",
    "Censored": "A customer or deal whose outcome has not happened yet by the analysis date; it still counts for "
                "the time observed.",
    "Kaplan-Meier": "The standard estimate of the share still waiting (for value, or still a customer) after each "
                    "number of days, counting censored accounts correctly.",
    "Median days to first value": "Half of all customers reach first value within this many days (Kaplan-Meier, "
                                  "customers still waiting included); the scorecard's monthly figure is the median "
                                  "of the customers who reached value that month.",
    "Logo retention": "The share of customers at the start of a period who are still customers at its end.",
    "Net revenue retention": "Recurring revenue now from the customers of a period's start, against their revenue "
                             "then; above 100% when expansion outweighs churn and downgrades.",
    "NPS": "Net Promoter Score: the share of promoters (9-10) minus the share of detractors (0-6), from -100 to 100.",
    "MQL, SQL": "Marketing- and sales-qualified leads: leads that marketing, then sales, judged ready for the next "
                "step.",
    "Persona": "A group of accounts with similar behaviour, found by clustering their features.",
    "BIC": "Bayesian information criterion: chooses the number of personas, trading fit against complexity; lower "
           "is better.",
    "ARI": "Adjusted Rand index: how well two persona assignments agree (1 identical, 0 as by chance); it checks "
           "the personas are stable.",
    "Backward move": "A journey going back to an earlier stage (research after a demo), common in B2B buying.",
    "Re-entry": "A journey coming back to a stage after more than 270 days away, e.g. a lost deal won a year later.",
    "Attribution (first, last, linear, W-shaped...)": "Rules that split a won deal's credit over its touches: all "
                                                       "to the first or last, evenly, or weighted on the first "
                                                       "touch, lead creation, opportunity creation and close.",
    "Markov removal effect": "The share of conversions lost if a channel were removed from every journey, from a "
                             "chain of the moves between channels; it turns into each channel's credit.",
    "Shapley value": "A fair split of each won deal among the channels it touched, from game theory.",
    "Log-odds (channel lift)": "A channel's effect on the odds of winning, other channels held equal; 0 is none, "
                               "above 0 raises the odds.",
    "Win model": "A logistic regression on past deals' stage, days in stage, activity, contacts and channels, giving "
                 "each open deal its chance to win.",
    "Stage win rate": "The plain historical share of deals won from their stage: the baseline the win model must "
                      "beat.",
    "Stalled deal": "An open deal longer in its stage than 80% of similar deals, without a touch for 14 days, with "
                    "a single contact or without the economic buyer engaged.",
    "Significant": "Unlikely to be chance at the 5% level (a statistical test says the change is real).",
}


def column_label(column: str) -> str:
    """The human label of a result column."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column][0]
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def column_kind(column: str) -> str:
    """share, money, days, count, number, text or words (module docstring)."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column][1]
    name = str(column).lower()
    if name.startswith("p_") or name.endswith(("_share", "_rate", "share", "probability")):
        return "share"
    if "arr" in name.split("_") or name.endswith(("amount", "revenue", "_value", "cost", "mrr")):
        return "money"
    if "days" in name:
        return "days"
    return "number"


def format_value(value: Any, kind: str, currency: str = "USD") -> str:
    """One cell as the deck shows it ("" for a missing value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, (int, float)):
        return str(value).replace("_", " ") if kind == _WORDS else str(value)
    if kind == "share":
        return f"{value:.1%}" if abs(value) < 0.1 and value != 0 else f"{value:.0%}"
    if kind == "money":
        return f"{value:,.0f} {currency}"
    if kind == "days":
        return f"{value:,.1f}"
    if kind == "count" or (isinstance(value, int)) or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2f}"


def format_table(frame: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The table with human column labels and every value as text with its unit."""
    columns, labels = {}, []
    for c in frame.columns:
        label = column_label(c)
        if label in labels:  # two columns with one label (stage and state): keep them apart
            label = f"{label} ({str(c).replace('_', ' ')})"
        labels.append(label)
        columns[label] = [format_value(v, column_kind(c), currency) for v in frame[c].tolist()]
    return pd.DataFrame(columns, index=frame.index)
