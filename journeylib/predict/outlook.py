"""The pipeline outlook as of the data's date: open deals scored, stalled deals, the quarter ahead, a backtest.

* :func:`pipeline_outlook` - every open deal with its probability to win (and the baseline's),
  expected days to decision and close date, the chance it is decided within the horizon, and
  why;
* :func:`stalled_deals` - the open deals that need a push, each reason in words: longer in
  its stage than 80% of the segment's visits there, no touch for ``quiet_days`` days, a single
  engaged contact, no economic buyer engaged;
* :func:`pipeline_forecast` - expected wins and revenue within the horizon, with an interval;
* :func:`backtest` - the same predictions made as of past month ends for the deals open then,
  scored against what happened by the data's date, beside the historical win rate per stage;
* :func:`forecast_backtest` - the quarter forecast made a quarter ago against the wins that came.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int, check_number, check_share
from ..data import JourneyData
from ..data.history import data_as_of
from ..errors import ParameterError
from ..schema import OPPORTUNITY_ID
from .chain import HoldingTime
from .forecast import (backtest_metrics, baseline_rates, decision_probability, expected_days_left, fit_win_model,
                       month_ends, training_days)
from .snapshots import ECONOMIC_BUYER, deal_snapshots
from .visits import deal_visits, deals

__all__ = ["pipeline_outlook", "stalled_deals", "pipeline_forecast", "forecast_backtest", "backtest", "Backtest",
           "outlook_sentences", "OUTLOOK_COLUMNS", "BACKTEST_COLUMNS"]

#: Columns of :func:`pipeline_outlook`.
OUTLOOK_COLUMNS = ("opportunity_id", "account_id", "segment", "type", "amount", "state", "days_in_stage", "age_days",
                   "touches_14d", "days_since_touch", "contacts_engaged", "economic_buyer", "p_win", "p_baseline",
                   "expected_value", "expected_days", "expected_close", "p_decided_90d", "why")
#: Columns of the backtest rows (``pipeline_backtest.csv``).
BACKTEST_COLUMNS = ("opportunity_id", "as_of", "segment", "state", "p_win", "p_baseline", "won")


def _visits(data: JourneyData, visits: pd.DataFrame | None, segments: Any, opportunity_types: Any) -> pd.DataFrame:
    return deal_visits(data, segments=segments, opportunity_types=opportunity_types) if visits is None else visits


def pipeline_outlook(data: JourneyData, *, segments: Any = None, opportunity_types: Any = None,
                     train_months: int = 24, C: float = 1.0, visits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every deal open at the data's cut-off, scored (module docstring).

    Parameters
    ----------
    data : JourneyData
    segments, opportunity_types
        As in :func:`~journeylib.predict.deal_visits` (default: segments are the opportunity
        types, all types).
    train_months : int, default 24
        Month-end snapshots of this many months before the cut-off train the win model.
    C : float, default 1.0
        Inverse regularisation strength of the logistic regression.
    visits : DataFrame, optional
        :func:`~journeylib.predict.deal_visits` of ``data``, when already computed.

    Returns
    -------
    DataFrame
        :data:`OUTLOOK_COLUMNS`, by expected value (amount x p_win) descending: ``why`` names
        the stage, the days in it and the two features that move the odds most;
        ``expected_close`` is a date in the data's timezone (NaT without an estimate).
        ``attrs``: ``trained_on`` (snapshots), ``as_of``.
    """
    visits = _visits(data, visits, segments, opportunity_types)
    # one pass over the touches for the training days and the cut-off (a row depends only on its deal and day)
    snapshots = deal_snapshots(data, visits, [*training_days(data, train_months), data.cutoff])
    model, train = fit_win_model(data, visits, train_months=train_months, C=C, snapshots=snapshots)
    rows = snapshots[(snapshots["snapshot_at"] == data.cutoff).to_numpy()].reset_index(drop=True)
    out = rows.copy()
    out["p_win"] = model.predict(rows)
    out["p_baseline"] = baseline_rates(train, rows)
    out["expected_value"] = pd.to_numeric(out["amount"], errors="coerce").fillna(0.0) * out["p_win"]
    out["expected_days"] = expected_days_left(visits, rows)
    out["p_decided_90d"] = decision_probability(visits, rows, 90)
    close = data.cutoff + pd.to_timedelta(out["expected_days"], unit="D")
    out["expected_close"] = close.dt.tz_convert(data.tz).dt.tz_localize(None).dt.normalize()
    reasons = model.reasons(rows)
    out["why"] = [f"{state.replace('_', ' ')} for {days:.0f} days" + (f"; {r}" if r else "")
                  for state, days, r in zip(out["state"], out["days_in_stage"], reasons)]
    out = out.sort_values(["expected_value", OPPORTUNITY_ID], ascending=[False, True], kind="stable")
    out = out.loc[:, list(OUTLOOK_COLUMNS)].reset_index(drop=True)
    out.attrs.update(trained_on=model.n_train, as_of=str(data.as_of.date()))
    return out


def stalled_deals(outlook: pd.DataFrame, visits: pd.DataFrame, *, quiet_days: float = 14,
                  percentile: float = 0.8) -> pd.DataFrame:
    """The open deals with at least one stall signal, each signal in words (module docstring).

    "No economic buyer engaged" is only looked for when some open deal has one engaged: without
    contact roles in the data every deal would carry it.

    Parameters
    ----------
    outlook : DataFrame
        :func:`pipeline_outlook`.
    visits : DataFrame
        The visits it came from (their holding times give each segment's stage percentiles).
    quiet_days : float, default 14
    percentile : float, default 0.8

    Returns
    -------
    DataFrame
        ``opportunity_id``, ``account_id``, ``segment``, ``amount``, ``state``,
        ``days_in_stage``, ``typical_days`` (the segment's percentile for that stage),
        ``p_win``, ``signals`` (count) and ``reasons`` (sentence); by amount descending.
    """
    quiet_days = check_number(quiet_days, "quiet_days", minimum=0)
    percentile = check_share(percentile, "percentile", low_open=True, high_open=True)
    limit = {}  # the percentile asked for, per segment and state
    for (seg, state), part in visits.groupby(["segment", "state"], sort=False):
        limit[(seg, state)] = HoldingTime(part["days"], ~part["censored"].to_numpy(dtype=bool)).quantile(percentile)
    rows = []
    has_roles = bool(outlook["economic_buyer"].sum() > 0)
    for r in outlook.itertuples(index=False):
        typical = limit.get((r.segment, r.state), np.nan)
        reasons = []
        if np.isfinite(typical) and r.days_in_stage > typical:
            reasons.append(f"{r.days_in_stage:.0f} days in {r.state.replace('_', ' ')}, longer than "
                           f"{percentile:.0%} of {r.segment} deals stay there ({typical:.0f})")
        if r.days_since_touch >= quiet_days:
            reasons.append(f"no touch for {r.days_since_touch:.0f} days")
        if r.contacts_engaged <= 1:
            reasons.append("a single contact engaged" if r.contacts_engaged == 1 else "no contact engaged")
        if has_roles and r.economic_buyer == 0:
            reasons.append(f"no {ECONOMIC_BUYER.replace('_', ' ')} engaged")
        if reasons:
            rows.append({"opportunity_id": r.opportunity_id, "account_id": r.account_id, "segment": r.segment,
                         "amount": r.amount, "state": r.state, "days_in_stage": r.days_in_stage,
                         "typical_days": typical, "p_win": r.p_win, "signals": len(reasons),
                         "reasons": "; ".join(reasons)})
    out = pd.DataFrame(rows, columns=["opportunity_id", "account_id", "segment", "amount", "state", "days_in_stage",
                                      "typical_days", "p_win", "signals", "reasons"])
    amount = pd.to_numeric(out["amount"], errors="coerce").fillna(0.0)
    return out.assign(_a=-amount).sort_values(["_a", "opportunity_id"], kind="stable").drop(columns="_a") \
        .reset_index(drop=True)


def pipeline_forecast(outlook: pd.DataFrame, visits: pd.DataFrame, *, horizon_days: float = 90, n_sims: int = 2000,
                      interval: float = 0.9, random_state: int = 0) -> pd.DataFrame:
    """Expected wins and revenue of the open deals within ``horizon_days``, per segment and in total.

    Returns
    -------
    DataFrame
        ``segment`` (last row "all"), ``open_deals``, ``expected_decided``, ``expected_wins``,
        ``wins_low``, ``wins_high``, ``expected_revenue``, ``revenue_low``, ``revenue_high``.
    """
    interval = check_share(interval, "interval", low_open=True, high_open=True)
    n_sims = check_int(n_sims, "n_sims", minimum=1)
    rng = np.random.default_rng(random_state)
    q = np.nan_to_num(decision_probability(visits, outlook, horizon_days))
    p = outlook["p_win"].to_numpy(dtype=float)
    amount = pd.to_numeric(outlook["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    won = rng.random((n_sims, len(outlook))) < q * p
    lo, hi = (1 - interval) / 2, 1 - (1 - interval) / 2
    rows = []
    groups = [(s, (outlook["segment"] == s).to_numpy()) for s in sorted(outlook["segment"].unique())]
    for name, mask in groups + [("all", np.ones(len(outlook), dtype=bool))]:
        wins = won[:, mask].sum(axis=1)
        revenue = won[:, mask].astype(float) @ amount[mask]
        rows.append({"segment": name, "open_deals": int(mask.sum()), "expected_decided": float(q[mask].sum()),
                     "expected_wins": float(q[mask] @ p[mask]), "wins_low": float(np.quantile(wins, lo)),
                     "wins_high": float(np.quantile(wins, hi)),
                     "expected_revenue": float((q[mask] * p[mask]) @ amount[mask]),
                     "revenue_low": float(np.quantile(revenue, lo)), "revenue_high": float(np.quantile(revenue, hi))})
    out = pd.DataFrame(rows)
    out.attrs.update(horizon_days=float(horizon_days), n_sims=int(n_sims), interval=interval)
    return out


@dataclass
class Backtest:
    """Predictions as of a past month end against what happened by the data's date.

    Attributes
    ----------
    rows : DataFrame
        :data:`BACKTEST_COLUMNS`: one row per deal open at ``as_of``; ``won`` 1/0, NaN while
        still open at the data's date.
    metrics : DataFrame
        ``model`` ("win model", "stage win rate"), ``deals`` (decided rows), ``won``, ``auc``,
        ``brier``.
    calibration : DataFrame
        ``model``, ``bin``, ``deals``, ``predicted``, ``observed``.
    as_of : list of str
        The past dates the predictions were made as of.
    still_open : int
        Rows whose deal is still open at the data's date (not scored).
    outlooks : dict
        Per past date, the :func:`pipeline_outlook` and :func:`deal_visits` of the data then
        (:func:`forecast_backtest` reuses them instead of computing them again).
    """

    rows: pd.DataFrame
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    as_of: list
    still_open: int
    outlooks: dict = field(default_factory=dict, repr=False)
    settings: dict = field(default_factory=dict, repr=False)

    def outlook_as_of(self, as_of: str, **settings: Any) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """The (outlook, visits) as of that date when made with the same settings, else None."""
        same = set(settings) == set(self.settings) and all(
            settings[k] is self.settings[k] or (not isinstance(settings[k], (pd.Series, pd.DataFrame))
                                                and settings[k] == self.settings[k]) for k in settings)
        return self.outlooks.get(as_of) if same else None


def backtest(data: JourneyData, *, months_back: Any = (3, 6, 9), segments: Any = None, opportunity_types: Any = None,
             train_months: int = 24, C: float = 1.0) -> Backtest:
    """Predict as of past month ends; score against the outcomes known at the data's date.

    Parameters
    ----------
    data : JourneyData
    months_back : int or list of int, default (3, 6, 9)
        The month ends this many months before the data's date. Each is a separate backtest,
        refitted on the data as known then (:func:`journeylib.data.history.data_as_of`);
        their rows are pooled for the metrics (a deal open at two of them counts twice).
    segments, opportunity_types, train_months, C
        As in :func:`pipeline_outlook`.
    """
    backs = sorted({check_int(m, "months_back", minimum=1)
                    for m in np.atleast_1d(np.asarray(months_back, dtype=object))})
    ends = [e for e in month_ends(data.cutoff - pd.DateOffset(months=max(backs) + 1), data.cutoff, data.tz)
            if e < data.cutoff]
    if len(ends) < max(backs):
        raise ParameterError(f"months_back={max(backs)} reaches before the data")
    outcome = deals(data, opportunity_types=opportunity_types).set_index(OPPORTUNITY_ID)["outcome"]
    parts, outlooks = [], {}
    for back in backs:
        past = data_as_of(data, ends[-back])
        visits = deal_visits(past, segments=segments, opportunity_types=opportunity_types)
        rows = pipeline_outlook(past, train_months=train_months, C=C, visits=visits)
        outlooks[str(past.as_of.date())] = (rows, visits)
        known = rows[OPPORTUNITY_ID].map(outcome)
        parts.append(pd.DataFrame({
            "opportunity_id": rows[OPPORTUNITY_ID], "as_of": str(past.as_of.date()), "segment": rows["segment"],
            "state": rows["state"], "p_win": rows["p_win"], "p_baseline": rows["p_baseline"],
            "won": np.where(known.isna(), np.nan, (known == "won").astype(float))}))
    out = pd.concat(parts, ignore_index=True).loc[:, list(BACKTEST_COLUMNS)]
    out = out.sort_values(["as_of", "opportunity_id"], kind="stable").reset_index(drop=True)
    decided = out["won"].notna().to_numpy()
    metrics, calibration = backtest_metrics(out.loc[decided, "won"].to_numpy(dtype=float),
                                            {"win model": out.loc[decided, "p_win"].to_numpy(),
                                             "stage win rate": out.loc[decided, "p_baseline"].to_numpy()})
    settings = dict(segments=segments, opportunity_types=opportunity_types, train_months=train_months, C=C)
    return Backtest(out, metrics, calibration, sorted(out["as_of"].unique()), int((~decided).sum()), outlooks,
                    settings)


def forecast_backtest(data: JourneyData, *, months_back: int = 3, horizon_days: float = 90, segments: Any = None,
                      opportunity_types: Any = None, train_months: int = 24, n_sims: int = 2000,
                      interval: float = 0.9, random_state: int = 0, backtest: Backtest | None = None) -> pd.DataFrame:
    """How a past forecast fared: the outlook as of ``months_back`` month ends ago against the wins that followed.

    Parameters
    ----------
    backtest : Backtest, optional
        A :func:`backtest` of the same data: its outlook as of that date is reused when it was
        made with the same segments, opportunity types, ``train_months`` and C = 1.

    Returns
    -------
    DataFrame
        :func:`pipeline_forecast`'s rows as of the past date, with ``actual_wins`` and
        ``actual_revenue``: the deals open then and won within ``horizon_days`` after it (by
        the data's date; a horizon reaching past it is cut there, ``attrs["days_seen"]``).
    """
    months_back = check_int(months_back, "months_back", minimum=1)
    ends = [e for e in month_ends(data.cutoff - pd.DateOffset(months=months_back + 1), data.cutoff, data.tz)
            if e < data.cutoff]
    if len(ends) < months_back:
        raise ParameterError(f"months_back={months_back} reaches before the data")
    past = data_as_of(data, ends[-months_back])
    reused = None if backtest is None else backtest.outlook_as_of(
        str(past.as_of.date()), segments=segments, opportunity_types=opportunity_types, train_months=train_months,
        C=1.0)
    if reused is not None:
        outlook, visits = reused
    else:
        visits = deal_visits(past, segments=segments, opportunity_types=opportunity_types)
        outlook = pipeline_outlook(past, train_months=train_months, visits=visits)
    out = pipeline_forecast(outlook, visits, horizon_days=horizon_days, n_sims=n_sims, interval=interval,
                            random_state=random_state)
    later = deals(data, opportunity_types=opportunity_types).set_index(OPPORTUNITY_ID)
    end = min(past.cutoff + pd.Timedelta(days=float(horizon_days)), data.cutoff)
    won = outlook[OPPORTUNITY_ID].map(later["outcome"]).eq("won") & \
        (outlook[OPPORTUNITY_ID].map(later["closed_at"]) <= end).fillna(False)
    amount = pd.to_numeric(outlook["amount"], errors="coerce").fillna(0.0)
    actual = pd.DataFrame({"segment": outlook["segment"], "won": won.astype(int), "revenue": amount.where(won, 0.0)})
    by_segment = actual.groupby("segment")[["won", "revenue"]].sum()
    by_segment.loc["all"] = by_segment.sum()
    out["actual_wins"] = out["segment"].map(by_segment["won"]).fillna(0).astype(int).to_numpy()
    out["actual_revenue"] = out["segment"].map(by_segment["revenue"]).fillna(0.0).astype(float).to_numpy()
    out.attrs.update(as_of=str(past.as_of.date()), days_seen=float((end - past.cutoff) / pd.Timedelta(days=1)))
    return out


def _money(value: float, currency: str) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix} {currency}"
    return f"{value:,.0f} {currency}"


def outlook_sentences(forecast: pd.DataFrame, stalled: pd.DataFrame, past: pd.DataFrame | None = None,
                      backtest_metrics: pd.DataFrame | None = None, *, currency: str = "USD") -> list[str]:
    """The deck's plain sentences: the quarter ahead, the stalled deals, how the last forecast and the model fared.

    Parameters
    ----------
    forecast : DataFrame
        :func:`pipeline_forecast` (its "all" row is read).
    stalled : DataFrame
        :func:`stalled_deals`.
    past : DataFrame, optional
        :func:`forecast_backtest`.
    backtest_metrics : DataFrame, optional
        :attr:`Backtest.metrics`.
    """
    out = []
    total = forecast.set_index("segment").loc["all"] if "all" in set(forecast["segment"]) else None
    days = forecast.attrs.get("horizon_days", 90)
    if total is not None and total["open_deals"] > 0:
        out.append(f"In the next {days:.0f} days the {int(total['open_deals']):,} open deals should bring about "
                   f"{total['expected_wins']:,.0f} wins ({total['wins_low']:,.0f} to {total['wins_high']:,.0f}) and "
                   f"{_money(total['expected_revenue'], currency)} ({_money(total['revenue_low'], currency)} to "
                   f"{_money(total['revenue_high'], currency)}).")
    if len(stalled):
        worth = pd.to_numeric(stalled["amount"], errors="coerce").fillna(0.0).sum()
        first = stalled.iloc[0]
        out.append(f"{len(stalled):,} open deals worth {_money(worth, currency)} show stall signals; the largest, "
                   f"{first['opportunity_id']}: {first['reasons']}.")
    if past is not None and "all" in set(past["segment"]):
        row = past.set_index("segment").loc["all"]
        inside = row["wins_low"] <= row["actual_wins"] <= row["wins_high"]
        out.append(f"As of {past.attrs.get('as_of', 'a quarter ago')} the forecast was {row['expected_wins']:,.0f} "
                   f"wins ({row['wins_low']:,.0f} to {row['wins_high']:,.0f}); {int(row['actual_wins']):,} were won"
                   + (", within the range." if inside else ", outside the range: read today's range with care."))
    if backtest_metrics is not None and len(backtest_metrics) == 2:
        m = backtest_metrics.set_index("model")
        better = m.iloc[0]["auc"] > m.iloc[1]["auc"] and m.iloc[0]["brier"] < m.iloc[1]["brier"]
        out.append(f"On {int(m.iloc[0]['deals']):,} past predictions the win model "
                   + ("ranks deals better than" if better else "does not beat") +
                   f" the stage's historical win rate (AUC {m.iloc[0]['auc']:.2f} against {m.iloc[1]['auc']:.2f}).")
    return out
