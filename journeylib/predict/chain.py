"""The pipeline as an absorbing semi-Markov chain: where deals go from each stage, and how long it takes.

Per segment, from the visits of :func:`~journeylib.predict.deal_visits`:

* **transitions**: ``P[i, j]`` = visits of state ``i`` followed by ``j`` / visits of ``i`` that
  ended, counted over the **decided** deals. The moves of deals still open are left out: they
  are the slow deals' beginnings without their ends, and deals differ in pace, so counting them
  makes the chain loop longer than deals do (on the sample, expected days from creation 6% above
  the generator's planted cycle for enterprise and mid-market deals, 2-5% without them).
  Transient states are the stages (and :data:`~journeylib.predict.NO_TOUCH`), absorbing ones
  won, lost and churned;
* **absorption**: with ``Q`` the transient block and ``R`` the absorbing one, the fundamental
  matrix ``N = (I - Q)^-1`` gives the probability of ending won (lost, churned) from each
  state, ``B = N R``, and the expected visits before absorption, ``N 1`` (steps);
* **holding times** (semi-Markov): each state's time per visit is a Kaplan-Meier estimate over
  the visits of all deals, the open deals' current visits censored; its mean (restricted to the longest
  visit seen) ``h`` gives the expected **days** to decision ``N h`` (expected time to
  absorption of a semi-Markov chain whose holding times depend on the current state);
* **intervals**: percentiles over bootstrap resamples of deals (all of a deal's visits
  together), each refitted the same way.

A state whose visits were all censored has no estimate (NaN).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int, check_share
from ..errors import ParameterError
from .visits import ABSORBING, VISIT_COLUMNS

__all__ = ["absorbing_chain", "holding_times", "HoldingTime", "chain_matrices"]


def _km_survival(events: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Kaplan-Meier S just after each time, the visits sorted by time (events first at a tie)."""
    at_risk = np.cumsum(w[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(events & (at_risk > 0), 1.0 - w / at_risk, 1.0)
    return np.cumprod(factor)


def _km_mean(times: np.ndarray, survival: np.ndarray) -> float:
    """Restricted mean of a Kaplan-Meier curve: the area under S up to the longest time."""
    if len(times) == 0:
        return float("nan")
    widths = np.diff(np.concatenate([[0.0], times]))
    before = np.concatenate([[1.0], survival[:-1]])
    return float(np.sum(before * widths))


class HoldingTime:
    """Kaplan-Meier distribution of the days of one state's visits (completed ones are events).

    Parameters
    ----------
    days : array of float
    completed : array of bool
        False where the visit is still going on (censored).
    weights : array of float, optional
        Case weights (bootstrap multiplicities).
    """

    def __init__(self, days: Any, completed: Any, weights: Any = None):
        days = np.asarray(days, dtype=float)
        completed = np.asarray(completed, dtype=bool)
        w = np.ones(len(days)) if weights is None else np.asarray(weights, dtype=float)
        order = np.lexsort((~completed, days))  # by time; events before censorings at a tie
        self.times = days[order]
        self.survival = _km_survival(completed[order], w[order])

    @classmethod
    def presorted(cls, times: np.ndarray, completed: np.ndarray, weights: np.ndarray) -> "HoldingTime":
        """The same distribution from visits already sorted by time, events first at a tie."""
        km = cls.__new__(cls)
        km.times, km.survival = np.asarray(times, dtype=float), _km_survival(completed, weights)
        return km

    def mean(self) -> float:
        """Restricted mean: the area under S up to the longest visit."""
        return _km_mean(self.times, self.survival)

    def survival_at(self, t: Any) -> np.ndarray:
        """S(t): the share of visits still going on after ``t`` days."""
        idx = np.searchsorted(self.times, np.asarray(t, dtype=float), side="right") - 1
        return np.where(idx < 0, 1.0, self.survival[np.maximum(idx, 0)]) if len(self.times) else np.ones_like(t)

    def quantile(self, q: float) -> float:
        """The smallest time by which a share ``q`` of visits has ended (NaN if never seen)."""
        hit = np.flatnonzero(self.survival <= 1.0 - q + 1e-12)
        return float(self.times[hit[0]]) if len(hit) else float("nan")

    def residual_mean(self, elapsed: Any) -> np.ndarray:
        """Expected days still to go in the state after ``elapsed`` days in it (0 beyond the longest visit)."""
        elapsed = np.atleast_1d(np.asarray(elapsed, dtype=float))
        if len(self.times) == 0:
            return np.full(len(elapsed), np.nan)
        grid = np.concatenate([[0.0], self.times])
        surv = np.concatenate([[1.0], self.survival])
        area_after = np.concatenate([np.cumsum((surv[:-1] * np.diff(grid))[::-1])[::-1], [0.0]])  # from grid[k]
        k = np.searchsorted(grid, elapsed, side="right") - 1
        k = np.clip(k, 0, len(grid) - 1)
        s_now = surv[k]
        partial = np.where(k < len(grid) - 1, surv[k] * (grid[np.minimum(k + 1, len(grid) - 1)] - elapsed), 0.0)
        tail = area_after[np.minimum(k + 1, len(grid) - 1)] * (k < len(grid) - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(s_now > 0, (partial + tail) / s_now, 0.0)

    def sample(self, u: np.ndarray, elapsed: np.ndarray | float = 0.0) -> np.ndarray:
        """Visit lengths drawn by inverse transform (``u`` uniform), given ``elapsed`` days already spent.

        Draws beyond what the data show (the survival curve ends above ``u``) are ``inf``.
        """
        elapsed = np.broadcast_to(np.asarray(elapsed, dtype=float), np.shape(u))
        target = np.asarray(u, dtype=float) * self.survival_at(elapsed)
        # first sorted time whose survival falls to or below the target (survival is non-increasing)
        idx = np.searchsorted(-self.survival, -target, side="left")
        out = np.full(np.shape(u), np.inf)
        ok = idx < len(self.times)
        out[ok] = self.times[idx[ok]]
        return np.maximum(out, elapsed)


def _check_visits(visits: Any) -> pd.DataFrame:
    if not isinstance(visits, pd.DataFrame) or not set(VISIT_COLUMNS) <= set(visits.columns):
        raise ParameterError("visits must be the frame of journeylib.predict.deal_visits")
    return visits


def holding_times(visits: pd.DataFrame) -> pd.DataFrame:
    """Days per visit of each state, per segment: Kaplan-Meier mean, median and 80th percentile.

    Returns
    -------
    DataFrame
        ``segment``, ``state``, ``visits``, ``completed`` (visits that ended), ``mean_days``
        (restricted mean), ``median_days`` and ``p80_days`` (NaN when fewer than that share
        of visits were seen to end); in the visits' state order.
    """
    visits = _check_visits(visits)
    rows = []
    for (segment, state), part in visits.groupby(["segment", "state"], sort=False):
        km = HoldingTime(part["days"], ~part["censored"].to_numpy(dtype=bool))
        rows.append({"segment": segment, "state": state, "visits": len(part),
                     "completed": int((~part["censored"]).sum()), "mean_days": km.mean(),
                     "median_days": km.quantile(0.5), "p80_days": km.quantile(0.8)})
    out = pd.DataFrame(rows, columns=["segment", "state", "visits", "completed", "mean_days", "median_days",
                                      "p80_days"])
    return _in_order(out, visits)


def _in_order(out: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(visits.attrs.get("state_order") or pd.unique(visits["state"]))}
    rank = out["state"].map(order).fillna(len(order))
    return out.assign(_r=rank).sort_values(["segment", "_r", "state"], kind="stable").drop(columns="_r") \
        .reset_index(drop=True)


def chain_matrices(visits: pd.DataFrame, weights: np.ndarray | None = None) -> dict[str, Any]:
    """One segment's chain: states, transition counts and the holding-time distributions.

    ``weights`` (per deal, in the order of ``pd.unique(visits["opportunity_id"])``) weight each
    deal's visits (bootstrap); default 1.

    Returns
    -------
    dict
        ``states`` (transient, in first-seen order), ``absorbing``, ``counts`` (transient x
        (transient + absorbing) weighted transition counts of the decided deals), ``holding`` (a
        :class:`HoldingTime` per state).
    """
    index = _ChainIndex(visits)
    w = np.ones(index.n_deals) if weights is None else np.asarray(weights, dtype=float)
    holding = {s: HoldingTime.presorted(times, events, w[deals])
               for s, (times, events, deals) in zip(index.states, index.per_state)}
    return {"states": index.states, "absorbing": list(ABSORBING), "counts": index.counts(w), "holding": holding}


class _ChainIndex:
    """One segment's visits indexed once: transition cells, and each state's visits sorted by time.

    :func:`chain_matrices` and every bootstrap resample of :func:`absorbing_chain` are then a few
    weighted sums over these arrays (a deal with a censored visit is still open: its moves are
    not counted).
    """

    def __init__(self, part: pd.DataFrame):
        ids = pd.unique(part["opportunity_id"])
        deal = pd.Index(ids).get_indexer(part["opportunity_id"])
        self.states = list(pd.unique(part["state"]))
        targets = self.states + list(ABSORBING)
        si = pd.Index(self.states).get_indexer(part["state"])
        done = ~part["censored"].to_numpy(dtype=bool)
        ti = pd.Index(targets).get_indexer(part["next_state"].where(done))
        decided = np.ones(len(ids), dtype=bool)
        decided[deal[~done]] = False
        ok = done & (ti >= 0) & decided[deal]
        self.n_deals, self.shape = len(ids), (len(self.states), len(targets))
        self.cell, self.cell_deal = (si * len(targets) + ti)[ok], deal[ok]
        days = part["days"].to_numpy(dtype=float)
        self.per_state = []  # per state: its visits' days, completed flags and deals, by time (events first at a tie)
        for k in range(len(self.states)):
            at = np.flatnonzero(si == k)
            order = at[np.lexsort((~done[at], days[at]))]
            self.per_state.append((days[order], done[order], deal[order]))

    def counts(self, w: np.ndarray) -> np.ndarray:
        """Weighted transition counts, states x (states + absorbing)."""
        counts = np.zeros(self.shape[0] * self.shape[1])
        np.add.at(counts, self.cell, w[self.cell_deal])
        return counts.reshape(self.shape)

    def counts_and_means(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted counts and each state's restricted mean days per visit."""
        means = np.array([_km_mean(times, _km_survival(events, w[deals])) for times, events, deals in self.per_state])
        return self.counts(w), means


def _solve(counts: np.ndarray, mean_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absorption probabilities (states x absorbing), expected visits and days; NaN rows without exits."""
    k = counts.shape[0]
    exits = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        P = np.where(exits[:, None] > 0, counts / exits[:, None], 0.0)
    Q, R = P[:, :k], P[:, k:]
    N = np.linalg.solve(np.eye(k) - Q, np.eye(k)) if k else np.zeros((0, 0))
    absorb = N @ R
    steps = N @ np.ones(k)
    days = N @ np.nan_to_num(mean_days)
    reach = absorb.sum(axis=1)
    bad = (exits == 0) | (reach < 1 - 1e-9)  # no exit seen, or it leads only to states never left
    absorb[bad] = np.nan
    steps[bad] = np.nan
    days[bad] = np.nan
    return absorb, steps, days


def _percentiles(draws: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the lo and hi quantiles of the finite draws (NaN for a column without any)."""
    low, high = np.full(draws.shape[1], np.nan), np.full(draws.shape[1], np.nan)
    for j in range(draws.shape[1]):
        finite = draws[:, j][np.isfinite(draws[:, j])]
        if len(finite):
            low[j], high[j] = np.quantile(finite, [lo, hi])
    return low, high


def absorbing_chain(visits: pd.DataFrame, *, n_boot: int = 200, interval: float = 0.9,
                    random_state: int = 0) -> pd.DataFrame:
    """Probability of winning and expected steps and days to decision from each state, per segment.

    Parameters
    ----------
    visits : DataFrame
        :func:`~journeylib.predict.deal_visits`.
    n_boot : int, default 200
        Bootstrap resamples of deals (0: no intervals).
    interval : float, default 0.9
        Width of the percentile intervals.
    random_state : int, default 0

    Returns
    -------
    DataFrame
        ``segment``, ``state``, ``visits``, ``exits`` (completed visits), ``p_won``,
        ``p_lost``, ``p_churned``, ``expected_steps`` (visits before absorption, this one
        included), ``expected_days``, ``mean_days`` (per visit), and ``p_won_low/high``,
        ``expected_days_low/high``; in state order. ``attrs["transitions"]``: the estimated
        transition probabilities, long (``segment``, ``from_state``, ``to_state``, ``p``).
    """
    visits = _check_visits(visits)
    n_boot = check_int(n_boot, "n_boot", minimum=0)
    interval = check_share(interval, "interval")
    rng = np.random.default_rng(random_state)
    rows, moves = [], []
    for segment, part in visits.groupby("segment", sort=True):
        index = _ChainIndex(part)
        states = index.states
        counts, mean_days = index.counts_and_means(np.ones(index.n_deals))
        absorb, steps, days = _solve(counts, mean_days)
        table = pd.DataFrame({"segment": segment, "state": states,
                              "visits": part.groupby("state", sort=False).size().reindex(states).to_numpy(),
                              "exits": counts.sum(axis=1), "p_won": absorb[:, 0], "p_lost": absorb[:, 1],
                              "p_churned": absorb[:, 2], "expected_steps": steps, "expected_days": days,
                              "mean_days": mean_days})
        lo_q, hi_q = (1 - interval) / 2, 1 - (1 - interval) / 2
        if n_boot:
            n_deals = index.n_deals
            won_b, days_b = np.full((n_boot, len(states)), np.nan), np.full((n_boot, len(states)), np.nan)
            for b in range(n_boot):
                w = rng.multinomial(n_deals, np.full(n_deals, 1.0 / n_deals)).astype(float)
                a, _, d = _solve(*index.counts_and_means(w))
                won_b[b], days_b[b] = a[:, 0], d
            table["p_won_low"], table["p_won_high"] = _percentiles(won_b, lo_q, hi_q)
            table["expected_days_low"], table["expected_days_high"] = _percentiles(days_b, lo_q, hi_q)
        else:
            for c in ("p_won_low", "p_won_high", "expected_days_low", "expected_days_high"):
                table[c] = np.nan
        rows.append(table)
        exits = counts.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(exits > 0, counts / exits, np.nan)
        targets = states + list(ABSORBING)
        for i, s in enumerate(states):
            for j, t in enumerate(targets):
                if counts[i, j] > 0:
                    moves.append({"segment": segment, "from_state": s, "to_state": t, "p": p[i, j]})
    out = _in_order(pd.concat(rows, ignore_index=True), visits) if rows else pd.DataFrame()
    out.attrs["transitions"] = pd.DataFrame(moves, columns=["segment", "from_state", "to_state", "p"])
    return out
