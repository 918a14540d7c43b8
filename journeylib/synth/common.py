"""Shared machinery of the generator: the run context, random helpers and the event buffer.

Part of :mod:`journeylib.synth`; import the public names from there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .params import (ENTERPRISE, GROWTH, PERSONAS, SMB, STARTER, TIME_TO_VALUE, _CYCLE, _MIN_CYCLE, _OPP_AFTER_REQUEST,
                     _OPP_AFTER_REQUEST_SMB, _OPP_BEFORE_CLOSE, _REQUEST_SHARE)

# =========================================================================== helpers
@dataclass
class _Ctx:
    n: int
    start: pd.Timestamp  # naive, midnight UTC of the first day
    end_day: pd.Timestamp  # naive, the last day
    H: float  # days from start to the end of end_date
    H_ext: float
    rng: dict[str, np.random.Generator]
    launches: np.ndarray = field(default_factory=lambda: np.zeros(0))
    launch_names: list[str] = field(default_factory=list)


class _NS:
    """A plain attribute bag of arrays."""


def _choice(rng: np.random.Generator, p_rows: np.ndarray) -> np.ndarray:
    """Draw one category per row from row-wise probabilities ``p_rows`` [n, k]."""
    cum = np.cumsum(p_rows, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(p_rows))[:, None]
    return np.minimum((u > cum).sum(axis=1), p_rows.shape[1] - 1)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float,
               size: int) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(sigma) * rng.standard_normal(size))


def _bh(t: np.ndarray, hour0: np.ndarray) -> np.ndarray:
    """Map raw times (days) into the 10-hour business day of the account's region (same day, monotone)."""
    d = np.floor(t)
    return d + (hour0 + 10.0 * (t - d)) / 24.0


def _draw_ttv(rng: np.random.Generator, plan: np.ndarray) -> np.ndarray:
    u = rng.random(len(plan))
    u = np.clip(u, 1e-12, 1 - 1e-12)
    out = np.empty(len(plan))
    p = TIME_TO_VALUE["starter"]["params"]
    m = plan == STARTER
    out[m] = p["scale"] * np.exp(p["s"] * _norm_ppf(u[m]))
    p = TIME_TO_VALUE["growth"]["params"]
    m = plan == GROWTH
    out[m] = p["scale"] * (-np.log1p(-u[m])) ** (1.0 / p["c"])
    p = TIME_TO_VALUE["enterprise"]["params"]
    m = plan == ENTERPRISE
    out[m] = p["scale"] * (u[m] / (1.0 - u[m])) ** (1.0 / p["c"])
    return out


def _norm_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    lo = u < 0.02425
    hi = u > 1 - 0.02425
    mid = ~(lo | hi)
    q = u[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
                (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    for mask, sign, uu in ((lo, 1.0, u[lo]), (hi, -1.0, 1 - u[hi])):
        q = np.sqrt(-2 * np.log(uu))
        out[mask] = sign * (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    return out


def _deal_cycle_truth() -> dict[str, dict[str, Any]]:
    """Per persona, the planted buying cycle and the mean days from a standard deal's creation to its close.

    The mean is the expectation of the schedule's own formula (journeys._schedule) by quadrature
    on fixed grids (4,000 cycle quantiles x 40 x 40 uniform points): no random draw.
    """
    k, m = 4000, 40
    z = _norm_ppf((np.arange(k) + 0.5) / k)
    u = (np.arange(m) + 0.5) / m
    out = {}
    for p, name in enumerate(PERSONAS):
        median, sigma = _CYCLE[p]
        D = np.maximum(median * np.exp(sigma * z), _MIN_CYCLE)[:, None, None]
        request = D * (_REQUEST_SHARE[0] + _REQUEST_SHARE[1] * u[None, :, None])
        after, before = (_OPP_AFTER_REQUEST_SMB, _OPP_BEFORE_CLOSE[1]) if p == SMB else \
            (_OPP_AFTER_REQUEST, _OPP_BEFORE_CLOSE[0])
        opp = np.minimum(request + after[0] + after[1] * u[None, None, :], D - before)
        out[name] = {"cycle_median_days": float(median), "cycle_sigma": float(sigma),
                     "mean_cycle_days": float(D.mean()), "mean_creation_to_close_days": float((D - opp).mean())}
    return out


def _ttv_median(plan: str) -> float:
    """Exact median (days) of the planted time-to-value distribution of ``plan``."""
    spec = TIME_TO_VALUE[plan]
    p = spec["params"]
    if spec["distribution"] == "lognormal":
        return float(p["scale"])  # exp(mu)
    if spec["distribution"] == "weibull":
        return float(p["scale"] * math.log(2.0) ** (1.0 / p["c"]))
    return float(p["scale"])  # log-logistic: the scale is the median


# =========================================================================== events
class _Events:
    """Accumulates touchpoints as arrays; raw times (days since start) before the business-hour mapping."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.n = 0

    def add(self, acc, t, tp, *, outcome=None, camp=None, stage=None, contact=None) -> int:
        acc = np.asarray(acc, dtype=np.int64).ravel()
        m = acc.size

        def full(v, default):
            if v is None:
                return np.full(m, default, dtype=np.int64)
            return np.broadcast_to(np.asarray(v, dtype=np.int64), (m,)).copy()

        self.parts.append({
            "acc": acc, "t": np.broadcast_to(np.asarray(t, dtype=float), (m,)).copy(), "tp": full(tp, 0),
            "outcome": full(outcome, -1), "camp": full(camp, -1), "stage": full(stage, -1),
            "contact": full(contact, -2),
        })
        start = self.n
        self.n += m
        return start

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ("acc", "t", "tp", "outcome", "camp", "stage", "contact")
        if not self.parts:
            return {k: np.zeros(0, dtype=float if k == "t" else np.int64) for k in keys}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


def _poisson_events(rng, acc, start, end, lam, types, lo, hi):
    """Expand expected counts ``lam`` [rows, K] into events placed in [lo_k, hi_k] of each row's window."""
    cnt = rng.poisson(lam)
    K = lam.shape[1]
    rows = np.repeat(np.arange(cnt.size), cnt.ravel())
    r, k = rows // K, rows % K
    u = rng.random(rows.size)
    t = start[r] + (end[r] - start[r]) * (lo[k] + (hi[k] - lo[k]) * u)
    return acc[r], t, types[k]


