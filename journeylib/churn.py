"""Churn risk: as-of snapshot features, risk models, temporal backtests, drivers and the risk list.

The unit of analysis is an **account snapshot**: one row per account with an active
subscription at the end of a snapshot day ``s`` (month ends over the history, and
``as_of`` itself), with features computed **only from rows dated before the end of
that day** (the snapshot's *cutoff*, the first instant of ``s + 1 day`` in the data's
timezone) and the label "the subscription ended within ``horizon_days`` after ``s``".

* :func:`snapshot_features` / :func:`build_snapshots`: the features below (each
  function filters the raw tables itself, so changing any row dated after a
  snapshot changes none of that snapshot's features) and the labels.
* :class:`ChurnModel`: a gradient-boosted model (scikit-learn
  ``HistGradientBoostingClassifier``), a logistic regression, or the rule-based
  health score (:mod:`journeylib.health_score`), fitted on the snapshots whose outcome
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

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import JourneyDataError, ParameterError, did_you_mean
from .health_score import health_score
from .schema import ACCOUNT_ID, CHANNEL, CONTACT_ID, PARENT_ACCOUNT_ID, STAGE, TABLES, TIMESTAMP, TOUCHPOINT
from .stages import Lifecycle, default_lifecycle
from .timeparse import date_parameter

__all__ = [
    "FEATURES", "MODELS", "CALIBRATIONS", "REASON_GROUPS", "check_model", "snapshot_dates", "snapshot_features",
    "build_snapshots", "snapshot_summary", "model_features", "ChurnModel", "ChurnBacktest", "classification_metrics",
    "calibration_table", "calibration_slope", "lift_table", "roc_points", "permutation_drivers", "risk_list",
    "arr_at_risk_by_segment", "RISK_LIST_COLUMNS", "inputs_note", "latest_snapshot", "risk_headline",
    "PRESALE_PREFIX", "EXEC_ROLES", "CHAMPION_ROLES", "HIGH_PRIORITIES",
]


def _col(table: str, name: str) -> str:
    """A contract column name, checked against the schema (column names live there)."""
    return TABLES[table].column(name).name


# contract columns used here
_NAME, _OWNER, _CREATED = _col("accounts", "name"), _col("accounts", "owner"), _col("accounts", "created_at")
_S_START, _S_END = _col("subscriptions", "start_date"), _col("subscriptions", "end_date")
_S_MRR, _S_PLAN, _S_SEATS = _col("subscriptions", "mrr"), _col("subscriptions", "plan"), \
    _col("subscriptions", "seats_purchased")
_U_DATE, _U_ACTIVE = _col("usage", "date"), _col("usage", "active_users")
_U_SEATS, _U_FEATURE = _col("usage", "seats_used"), _col("usage", "feature")
_T_OPENED, _T_RESOLVED = _col("tickets", "opened_at"), _col("tickets", "resolved_at")
_T_PRIORITY, _T_CSAT = _col("tickets", "priority"), _col("tickets", "csat")
_V_DATE, _V_KIND, _V_SCORE = _col("surveys", "date"), _col("surveys", "kind"), _col("surveys", "score")
_C_ROLE, _C_DEPT = _col("contacts", "role"), _col("contacts", "department")
_O_CREATED, _O_CLOSED, _O_TYPE = _col("opportunities", "created_at"), _col("opportunities", "closed_at"), \
    _col("opportunities", "type")

#: Contact roles counted as the economic buyer / executive sponsor, and as champions
#: (compared lower-case with spaces and hyphens read as underscores).
EXEC_ROLES = ("economic_buyer", "executive_sponsor")
CHAMPION_ROLES = ("champion",)
HIGH_PRIORITIES = ("high", "urgent")

#: Snapshot features (name -> short description), in output order.
FEATURES: dict[str, str] = {
    "plan": "plan of the latest-started active subscription",
    "mrr": "MRR of the active subscriptions",
    "seats_purchased": "seats of the active subscriptions",
    "tenure_days": "days since the first subscription start",
    "days_to_renewal": "days to the next renewal anniversary",
    "renewal_month": "renewal anniversary before the next month end",
    "renewal_in_horizon": "renewal anniversary within the horizon",
    "seat_utilisation": "seats used / seats purchased",
    "seat_use_change_60d": "relative change of seats used over 60 days",
    "active_users": "weekly active users (mean of 4 weeks)",
    "active_user_ratio": "active users / seats purchased",
    "active_users_trend": "log ratio of active users, last 4 weeks vs the 4 before",
    "feature_breadth_90d": "product features in use (90 days)",
    "days_since_usage": "days since the last usage row",
    "tickets_90d": "tickets opened (90 days)",
    "high_priority_tickets_90d": "high or urgent tickets (90 days)",
    "open_tickets": "tickets open",
    "resolution_days_180d": "median days to resolve (180 days)",
    "ticket_csat_180d": "ticket CSAT (180 days)",
    "nps_latest": "latest NPS",
    "nps_detractor": "latest NPS <= 6",
    "csat_latest": "latest CSAT survey",
    "ces_180d": "customer effort score (180 days)",
    "exec_engaged_180d": "economic buyer engaged (180 days)",
    "champion_quiet_days": "days since the champion's last touchpoint",
    "champion_quiet_60d": "champion quiet for over 60 days",
    "contacts_engaged_90d": "contacts engaged (90 days)",
    "touchpoints_90d": "touchpoints (90 days)",
    "new_departments_90d": "new departments active (90 days)",
    "related_accounts": "parent and business-unit accounts",
    "open_expansion_opportunity": "expansion opportunity open",
    "presale_days": "days from the first touchpoint to the first subscription",
}
#: Prefix of the buying-journey features: ``presale_<stage>`` = touchpoints of that
#: lifecycle stage before the first subscription start (one per stage of the lifecycle).
PRESALE_PREFIX = "presale_"
_CATEGORICAL = ("plan", "persona")
MODELS = ("gbm", "logistic", "health")
CALIBRATIONS = ("sigmoid", "isotonic", "none")
LABEL, KNOWN, SNAPSHOT = "churned", "outcome_known", "snapshot"

_DAY = 86_400 * 10**9  # nanoseconds
_LO = np.iinfo(np.int64).min
_OPEN = np.iinfo(np.int64).max


# =========================================================================== inputs
def check_model(model: str) -> str:
    """Validate a model name (``"gbm"``, ``"logistic"`` or ``"health"``)."""
    if model not in MODELS:
        raise ParameterError(f"model must be one of {', '.join(MODELS)}; got {model!r}"
                             f"{did_you_mean(str(model), MODELS)}")
    return model


def _check_horizon(horizon_days: Any) -> int:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, (int, np.integer)) or horizon_days < 1:
        raise ParameterError(f"horizon_days must be a whole number of days >= 1; got {horizon_days!r}")
    return int(horizon_days)


def _day(value: Any, name: str) -> pd.Timestamp:
    """A date parameter as a naive day."""
    ts = date_parameter(value, name)
    return (ts.tz_localize(None) if ts.tzinfo is not None else ts).normalize()


def _unpack(data: Any, as_of: Any) -> tuple[dict[str, pd.DataFrame | None], str, pd.Timestamp | None, Lifecycle]:
    """(tables, tz, as_of day, lifecycle) from a JourneyData or a mapping of table name -> DataFrame."""
    lifecycle = getattr(data, "lifecycle", None) or default_lifecycle()
    if hasattr(data, "tables") and hasattr(data, "as_of"):
        tables, tz = dict(data.tables), getattr(data, "tz", "UTC")
        day = _day(as_of, "as_of") if as_of is not None else _day(data.as_of, "as_of")
        if day > _day(data.as_of, "as_of"):
            raise ParameterError(f"as_of {day.date()} is after the data's as_of {data.as_of.date()}; "
                                 "load the data with the later as_of")
    elif isinstance(data, Mapping):
        tables, tz = {k: v for k, v in data.items()}, "UTC"
        day = _day(as_of, "as_of") if as_of is not None else None
    else:
        raise ParameterError("data must be a JourneyData (journeylib.load) or a dict of tables; "
                             f"got {type(data).__name__}")
    if tables.get("accounts") is None:
        raise JourneyDataError("churn analysis needs the 'accounts' table; it is missing "
                               f"(tables given: {', '.join(k for k, v in tables.items() if v is not None)})")
    if tables.get("subscriptions") is None:  # no customers: every result is empty (see inputs_note)
        tables["subscriptions"] = pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES["subscriptions"].names})
    return tables, tz, day, lifecycle


def inputs_note(data: Any) -> str:
    """One plain sentence on the inputs the churn analysis misses ("" when all are there).

    Without ``subscriptions`` there are no customers and every churn result is empty;
    without usage, tickets, surveys, contacts or opportunities the features from them
    are missing (NaN) and the model does without them.
    """
    tables = dict(data.tables) if hasattr(data, "tables") else dict(data)
    if tables.get("subscriptions") is None or len(tables["subscriptions"]) == 0:
        return ("No subscriptions table (or no rows): there are no customers to score, so the churn sections "
                "below are empty.")
    missing = [t for t in ("usage", "tickets", "surveys", "contacts", "opportunities") if tables.get(t) is None]
    if missing:
        return f"Missing {', '.join(missing)}: the features from {'it' if len(missing) == 1 else 'them'} are left out."
    return ""


def _cutoff(day: pd.Timestamp, tz: str) -> int:
    """First instant of the day after ``day`` in ``tz``, as UTC nanoseconds."""
    nxt = (day + pd.Timedelta(days=1)).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return int(nxt.tz_convert("UTC").value)


def _ns(frame: pd.DataFrame, col: str, table: str, missing: int) -> np.ndarray:
    """A timestamp column as int64 UTC nanoseconds (``missing`` for NaT)."""
    if col not in frame:
        return np.full(len(frame), missing, dtype=np.int64)
    s = frame[col]
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(s.dtype):
        if s.notna().any():
            raise JourneyDataError(f"{table}.{col} must hold timestamps (dtype {s.dtype}); load the data with "
                                   "journeylib.load, which converts them")
        return np.full(len(frame), missing, dtype=np.int64)
    out = s.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    out[out == _LO] = missing
    return out


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)


def _text(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), None, dtype=object)
    return frame[col].astype(object).where(frame[col].notna(), None).to_numpy(dtype=object)


def _role(values: np.ndarray) -> np.ndarray:
    return np.array([str(v).strip().lower().replace(" ", "_").replace("-", "_") if v is not None else ""
                     for v in values], dtype=object)


def _personas(personas: pd.DataFrame | None) -> pd.Series | None:
    if personas is None:
        return None
    if not isinstance(personas, pd.DataFrame) or not {ACCOUNT_ID, "persona"} <= set(personas.columns):
        got = list(personas.columns) if isinstance(personas, pd.DataFrame) else type(personas).__name__
        raise ParameterError(f"personas must be a DataFrame with columns account_id, persona; got {got}")
    p = personas.drop_duplicates(ACCOUNT_ID, keep="first")
    return pd.Series(p["persona"].astype(object).to_numpy(), index=p[ACCOUNT_ID].astype(str).to_numpy())


# =========================================================================== prepared tables
class _Prepared:
    """The tables as sorted numpy arrays keyed by an integer account code.

    Built once for many snapshots: it only reorganises rows (rows after ``as_of`` are
    dropped, later end dates read as still open); every time filter happens in
    :meth:`features`, per snapshot.
    """

    def __init__(self, tables: dict[str, pd.DataFrame | None], tz: str, as_of: pd.Timestamp | None,
                 lifecycle: Lifecycle):
        self.tz = tz
        self.presale_names = [PRESALE_PREFIX + sid for sid in lifecycle.ids]
        self.as_of = as_of
        cut = _cutoff(as_of, tz) if as_of is not None else _OPEN
        acc = tables["accounts"]
        self.index = pd.Index(acc[ACCOUNT_ID].astype(str)).drop_duplicates()
        acc = acc.drop_duplicates(ACCOUNT_ID, keep="first")
        self.ids = self.index.to_numpy(dtype=object)
        n = self.n = len(self.ids)
        self.a_created = _ns(acc, _CREATED, "accounts", _LO)
        parent = acc[PARENT_ACCOUNT_ID].astype(object) if PARENT_ACCOUNT_ID in acc else pd.Series([None] * n)
        self.parent = self.index.get_indexer(parent.where(parent.notna(), "\x00").astype(str))

        def code(frame: pd.DataFrame) -> np.ndarray:
            return self.index.get_indexer(frame[ACCOUNT_ID].astype(str))

        # subscriptions, by (account, start)
        sub = tables["subscriptions"]
        c, st, en = code(sub), _ns(sub, _S_START, "subscriptions", _OPEN), _ns(sub, _S_END, "subscriptions", _OPEN)
        en = np.where(en >= cut, _OPEN, en)
        keep = (c >= 0) & (st < cut)
        o = np.lexsort((st[keep], c[keep]))
        self.s_code, self.s_start, self.s_end = c[keep][o], st[keep][o], en[keep][o]
        self.s_mrr = np.nan_to_num(_num(sub, _S_MRR)[keep][o])
        self.s_seats = _num(sub, _S_SEATS)[keep][o]
        self.s_plan = _text(sub, _S_PLAN)[keep][o]
        # first subscription start of each account (a start before a snapshot is decided by earlier rows)
        self.first_start = np.full(n, _OPEN, dtype=np.int64)
        np.minimum.at(self.first_start, self.s_code, self.s_start)
        # usage, by (account, date)
        use = tables.get("usage")
        if use is not None:
            c, d = code(use), _ns(use, _U_DATE, "usage", _OPEN)
            keep = (c >= 0) & (d < cut)
            o = np.lexsort((d[keep], c[keep]))
            self.u_code, self.u_date = c[keep][o], d[keep][o]
            self.u_seats = _num(use, _U_SEATS)[keep][o]
            self.u_active = np.nan_to_num(_num(use, _U_ACTIVE)[keep][o])
            feats = pd.Series(_text(use, _U_FEATURE)[keep][o])
            self.u_feat, uniq = pd.factorize(feats)
            self.u_nfeat = max(len(uniq), 1)
            self.u_has_feature = _U_FEATURE in use and len(uniq) > 0
            self.u_seg = np.searchsorted(self.u_code, np.arange(n))
            self.u_cum = np.concatenate([[0.0], np.cumsum(self.u_active)])
        # tickets
        tk = tables.get("tickets")
        if tk is not None:
            c, op, rs = code(tk), _ns(tk, _T_OPENED, "tickets", _OPEN), _ns(tk, _T_RESOLVED, "tickets", _OPEN)
            keep = (c >= 0) & (op < cut)
            self.t_code, self.t_open = c[keep], op[keep]
            self.t_resolved = np.where(rs[keep] >= cut, _OPEN, rs[keep])
            prio = pd.Series(_text(tk, _T_PRIORITY)[keep]).astype(str).str.strip().str.lower()
            self.t_high = prio.isin(HIGH_PRIORITIES).to_numpy()
            self.t_csat = _num(tk, _T_CSAT)[keep]
        # surveys, one sorted block per kind
        sv = tables.get("surveys")
        self.v = {}
        if sv is not None:
            c, d = code(sv), _ns(sv, _V_DATE, "surveys", _OPEN)
            kind = pd.Series(_text(sv, _V_KIND)).astype(str).str.strip().str.lower().to_numpy()
            score = _num(sv, _V_SCORE)
            for k in ("nps", "csat", "ces"):
                keep = (c >= 0) & (d < cut) & (kind == k) & np.isfinite(score)
                o = np.lexsort((d[keep], c[keep]))
                vc = c[keep][o]
                self.v[k] = (vc, d[keep][o], score[keep][o], np.searchsorted(vc, np.arange(n)))
        # touchpoints (all, by time) and those of known contacts with their role and department
        tp = tables["touchpoints"] if tables.get("touchpoints") is not None else None
        if tp is not None:
            c, ts = code(tp), _ns(tp, TIMESTAMP, "touchpoints", _OPEN)
            keep = (c >= 0) & (ts < cut)
            o = np.argsort(ts[keep], kind="stable")
            self.p_code, self.p_ts = c[keep][o], ts[keep][o]
            self._presale(tp, c, ts, keep, lifecycle)
            ct = tables.get("contacts")
            if ct is not None and CONTACT_ID in tp:
                cidx = pd.Index(ct[CONTACT_ID].astype(str)).drop_duplicates()
                ct = ct.drop_duplicates(CONTACT_ID, keep="first")
                role = _role(_text(ct, _C_ROLE))
                dept, _ = pd.factorize(pd.Series(_text(ct, _C_DEPT)))
                tcon = tp[CONTACT_ID].astype(object)
                k = cidx.get_indexer(tcon.where(tcon.notna(), "\x00").astype(str))
                keep2 = keep & (k >= 0)
                o = np.argsort(ts[keep2], kind="stable")
                kk = k[keep2][o]
                self.q_code, self.q_ts, self.q_contact = c[keep2][o], ts[keep2][o], kk
                self.q_exec = np.isin(role, EXEC_ROLES)[kk]
                self.q_champ = np.isin(role, CHAMPION_ROLES)[kk]
                self.q_dept = dept[kk]
                self.q_ndept = max(int(dept.max()) + 1 if len(dept) else 1, 1)
                self.q_ncontact = max(len(cidx), 1)
        # opportunities
        op = tables.get("opportunities")
        if op is not None:
            c = code(op)
            cr, cl = _ns(op, _O_CREATED, "opportunities", _OPEN), _ns(op, _O_CLOSED, "opportunities", _OPEN)
            typ = pd.Series(_text(op, _O_TYPE)).astype(str).str.strip().str.lower().to_numpy()
            keep = (c >= 0) & (cr < cut) & (typ == "expansion")
            self.o_code, self.o_created = c[keep], cr[keep]
            self.o_closed = np.where(cl[keep] >= cut, _OPEN, cl[keep])

    def _presale(self, tp: pd.DataFrame, code: np.ndarray, ts: np.ndarray, keep: np.ndarray,
                 lifecycle: Lifecycle) -> None:
        """The buying journey: touchpoints per stage before the first subscription start.

        Only touchpoints before the account's first start are read, and an account is
        in a snapshot only when that start is before the snapshot: no later row counts.
        """
        n = self.n
        pre = keep & (ts < self.first_start[np.maximum(code, 0)])
        rows = tp[pre]
        if STAGE in rows and isinstance(rows[STAGE].dtype, pd.CategoricalDtype):
            stage = rows[STAGE].astype(object)
        else:
            stage, _ = lifecycle.assign(rows[TOUCHPOINT], rows[CHANNEL] if CHANNEL in rows else None,
                                        rows[STAGE] if STAGE in rows else None)
        sidx = pd.Index(lifecycle.ids).get_indexer(stage.astype(object).where(stage.notna(), "\x00"))
        pc, pts = code[pre], ts[pre]
        self.presale = np.zeros((n, len(lifecycle.ids)))
        ok = sidx >= 0
        np.add.at(self.presale, (pc[ok], sidx[ok]), 1.0)
        first_touch = np.full(n, _OPEN, dtype=np.int64)
        np.minimum.at(first_touch, pc, pts)
        self.presale_days = np.where((first_touch < _OPEN) & (self.first_start < _OPEN),
                                     (self.first_start - first_touch) / _DAY, np.nan)

    # ------------------------------------------------------------------ labels
    def churn_events(self, gap_days: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(account code, churn instant) of every subscription spell that ended."""
        code, start, end = self.s_code, self.s_start, self.s_end
        if code.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        runmax = pd.Series(end).groupby(code).cummax().to_numpy()
        prev_max = np.concatenate([[_LO], runmax[:-1]])
        new_spell = np.concatenate([[True], code[1:] != code[:-1]])
        gap = np.where(prev_max == _OPEN, False, start > np.where(prev_max == _LO, _LO, prev_max + gap_days * _DAY))
        new_spell |= gap
        spell = np.cumsum(new_spell) - 1
        spell_end = pd.Series(end).groupby(spell).max().to_numpy()
        spell_code = code[new_spell]
        ended = spell_end != _OPEN
        return spell_code[ended], spell_end[ended]

    # ------------------------------------------------------------------ features
    def features(self, day: pd.Timestamp, horizon_days: int, personas: pd.Series | None) -> pd.DataFrame:
        n = self.n
        c = _cutoff(day, self.tz)
        c_next = _cutoff((day + pd.offsets.MonthEnd(1)).normalize(), self.tz)
        # population: a subscription started before c and not ended before c
        act_rows = (self.s_start < c) & (self.s_end >= c)
        codes = np.unique(self.s_code[act_rows])
        f: dict[str, np.ndarray] = {}
        mrr = np.bincount(self.s_code[act_rows], weights=self.s_mrr[act_rows], minlength=n)
        seats = np.bincount(self.s_code[act_rows], weights=np.nan_to_num(self.s_seats[act_rows]), minlength=n)
        seats = np.where(seats > 0, seats, np.nan)
        idx = np.flatnonzero(act_rows)
        last = idx[np.concatenate([self.s_code[idx][1:] != self.s_code[idx][:-1], [True]])] if idx.size else idx
        plan = np.full(n, None, dtype=object)
        plan[self.s_code[last]] = self.s_plan[last]
        started = np.flatnonzero(self.s_start < c)
        first_rows = started[np.concatenate([[True], self.s_code[started][1:] != self.s_code[started][:-1]])] \
            if started.size else started
        first = np.full(n, c, dtype=np.int64)
        first[self.s_code[first_rows]] = self.s_start[first_rows]
        year = 365 * _DAY
        k = np.maximum(-((first - c) // year), 1)  # ceil((c - first) / year), at least 1
        ann = first + k * year
        f["plan"], f["mrr"], f["seats_purchased"] = plan, mrr, seats
        f["tenure_days"] = (c - first) / _DAY
        f["days_to_renewal"] = (ann - c) / _DAY
        f["renewal_month"] = (ann < c_next).astype(float)
        f["renewal_in_horizon"] = (ann < c + horizon_days * _DAY).astype(float)
        f.update(self._usage(c, seats))
        f.update(self._tickets(c))
        f.update(self._surveys(c))
        f.update(self._engagement(c))
        # account family: the parent and the business units created before c
        exists = self.a_created < c
        has_parent = (self.parent >= 0) & exists[np.maximum(self.parent, 0)]
        kids = np.bincount(self.parent[(self.parent >= 0) & exists], minlength=n)
        f["related_accounts"] = (has_parent.astype(float) + kids).astype(float)
        if hasattr(self, "o_code"):
            m = (self.o_created < c) & (self.o_closed >= c)
            f["open_expansion_opportunity"] = (np.bincount(self.o_code[m], minlength=n) > 0).astype(float)
        else:
            f["open_expansion_opportunity"] = np.full(n, np.nan)
        has_tp = hasattr(self, "presale")
        f["presale_days"] = self.presale_days if has_tp else np.full(n, np.nan)
        out = {ACCOUNT_ID: self.ids[codes], SNAPSHOT: np.full(codes.size, day.to_datetime64())}
        for name in FEATURES:
            out[name] = f[name][codes]
        for j, name in enumerate(self.presale_names):
            out[name] = self.presale[codes, j] if has_tp else np.full(codes.size, np.nan)
        frame = pd.DataFrame(out)
        frame[SNAPSHOT] = frame[SNAPSHOT].astype("datetime64[ns]")
        frame["plan"] = frame["plan"].astype(object)
        if personas is not None:
            frame["persona"] = frame[ACCOUNT_ID].map(personas).astype(object)
        return frame

    def _usage(self, c: int, seats: np.ndarray) -> dict[str, np.ndarray]:
        n = self.n
        names = ("seat_utilisation", "seat_use_change_60d", "active_users", "active_user_ratio", "active_users_trend",
                 "feature_breadth_90d", "days_since_usage")
        if not hasattr(self, "u_code"):
            return {k: np.full(n, np.nan) for k in names}
        m = self.u_date < c
        nk = np.bincount(self.u_code[m], minlength=n)
        end = self.u_seg + nk
        has = nk > 0
        lastp = np.where(has, end - 1, 0)
        su = np.where(has, self.u_seats[lastp] if self.u_seats.size else np.nan, np.nan)
        nk60 = np.bincount(self.u_code[self.u_date < c - 60 * _DAY], minlength=n)
        thenp = np.where(nk60 > 0, self.u_seg + nk60 - 1, 0)
        su_then = np.where(nk60 > 0, self.u_seats[thenp] if self.u_seats.size else np.nan, np.nan)
        cum = self.u_cum
        m4 = np.minimum(nk, 4)
        au = np.where(has, (cum[end] - cum[end - m4]) / np.maximum(m4, 1), np.nan)
        e4, e8 = np.maximum(end - 4, 0), np.maximum(end - 8, 0)
        last4, prev4 = (cum[end] - cum[e4]) / 4.0, (cum[e4] - cum[e8]) / 4.0
        trend = np.where(nk >= 8, np.log((last4 + 1.0) / (prev4 + 1.0)), 0.0)
        if self.u_has_feature:
            w = m & (self.u_date >= c - 90 * _DAY) & (self.u_feat >= 0)
            pairs = np.unique(self.u_code[w].astype(np.int64) * self.u_nfeat + self.u_feat[w])
            breadth = np.bincount(pairs // self.u_nfeat, minlength=n).astype(float)
        else:
            breadth = np.full(n, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "seat_utilisation": su / seats,
                "seat_use_change_60d": np.where(su_then > 0, su / su_then - 1.0, np.nan),
                "active_users": au,
                "active_user_ratio": au / seats,
                "active_users_trend": trend,
                "feature_breadth_90d": breadth,
                "days_since_usage": np.where(has, (c - self.u_date[lastp]) / _DAY, np.nan),
            }

    def _tickets(self, c: int) -> dict[str, np.ndarray]:
        n = self.n
        names = ("tickets_90d", "high_priority_tickets_90d", "open_tickets", "resolution_days_180d", "ticket_csat_180d")
        if not hasattr(self, "t_code"):
            return {k: np.full(n, np.nan) for k in names}
        before = self.t_open < c
        w90 = before & (self.t_open >= c - 90 * _DAY)
        openm = before & (self.t_resolved >= c)
        res = (self.t_resolved < c) & (self.t_resolved >= c - 180 * _DAY)
        dur = pd.Series((self.t_resolved[res] - self.t_open[res]) / _DAY).groupby(self.t_code[res]).median()
        resolution = np.full(n, np.nan)
        resolution[dur.index.to_numpy()] = dur.to_numpy()
        cs = res & np.isfinite(self.t_csat)
        cnt = np.bincount(self.t_code[cs], minlength=n)
        tot = np.bincount(self.t_code[cs], weights=self.t_csat[cs], minlength=n)
        return {
            "tickets_90d": np.bincount(self.t_code[w90], minlength=n).astype(float),
            "high_priority_tickets_90d": np.bincount(self.t_code[w90 & self.t_high], minlength=n).astype(float),
            "open_tickets": np.bincount(self.t_code[openm], minlength=n).astype(float),
            "resolution_days_180d": resolution,
            "ticket_csat_180d": np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan),
        }

    def _latest_mean(self, kind: str, c: int) -> np.ndarray:
        """Mean score on each account's latest survey date of ``kind`` before c."""
        n = self.n
        vc, vd, vs, seg = self.v[kind]
        m = vd < c
        nk = np.bincount(vc[m], minlength=n)
        lastd = np.where(nk > 0, vd[np.maximum(seg + nk - 1, 0)] if vd.size else _LO, _LO)
        on = m & (vd == lastd[vc])
        cnt = np.bincount(vc[on], minlength=n)
        tot = np.bincount(vc[on], weights=vs[on], minlength=n)
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)

    def _surveys(self, c: int) -> dict[str, np.ndarray]:
        n = self.n
        if not self.v:
            return {k: np.full(n, np.nan) for k in ("nps_latest", "nps_detractor", "csat_latest", "ces_180d")}
        nps = self._latest_mean("nps", c)
        vc, vd, vs, _ = self.v["ces"]
        w = (vd < c) & (vd >= c - 180 * _DAY)
        cnt = np.bincount(vc[w], minlength=n)
        tot = np.bincount(vc[w], weights=vs[w], minlength=n)
        return {
            "nps_latest": nps,
            "nps_detractor": np.where(np.isfinite(nps), nps <= 6, False).astype(float),
            "csat_latest": self._latest_mean("csat", c),
            "ces_180d": np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan),
        }

    def _engagement(self, c: int) -> dict[str, np.ndarray]:
        n = self.n
        out = {k: np.full(n, np.nan) for k in ("exec_engaged_180d", "champion_quiet_days", "champion_quiet_60d",
                                               "contacts_engaged_90d", "touchpoints_90d", "new_departments_90d")}
        if hasattr(self, "p_code"):
            lo, hi = np.searchsorted(self.p_ts, [c - 90 * _DAY, c], side="left")
            out["touchpoints_90d"] = np.bincount(self.p_code[lo:hi], minlength=n).astype(float)
        if not hasattr(self, "q_code"):
            return out
        k = int(np.searchsorted(self.q_ts, c, side="left"))  # rows before c (sorted by time)
        code, ts = self.q_code[:k], self.q_ts[:k]
        w180, w90 = ts >= c - 180 * _DAY, ts >= c - 90 * _DAY
        out["exec_engaged_180d"] = (np.bincount(code[w180 & self.q_exec[:k]], minlength=n) > 0).astype(float)
        champ = self.q_champ[:k]
        last = np.full(n, _LO, dtype=np.int64)
        np.maximum.at(last, code[champ], ts[champ])
        quiet = np.where(last > _LO, (c - last) / _DAY, np.nan)
        out["champion_quiet_days"] = quiet
        out["champion_quiet_60d"] = np.where(np.isfinite(quiet), quiet > 60, False).astype(float)
        pairs = np.unique(code[w90].astype(np.int64) * self.q_ncontact + self.q_contact[:k][w90])
        out["contacts_engaged_90d"] = np.bincount(pairs // self.q_ncontact, minlength=n).astype(float)
        dept = self.q_dept[:k]
        d = dept >= 0
        key = code[d].astype(np.int64) * self.q_ndept + dept[d]
        uniq, first = np.unique(key, return_index=True)  # first occurrence = first touch (time-sorted)
        t_first = ts[d][first]
        acc_of = uniq // self.q_ndept
        new = (t_first >= c - 90 * _DAY) & (t_first >= self.first_start[acc_of] + 90 * _DAY)
        out["new_departments_90d"] = np.bincount(acc_of[new], minlength=n).astype(float)
        return out


# =========================================================================== snapshots
def snapshot_dates(data: Any, *, as_of: Any = None) -> list[pd.Timestamp]:
    """Month ends from the first subscription start to ``as_of``, plus ``as_of`` when it is not a month end.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
    as_of : date, optional
        Default: the data's ``as_of`` (required for a dict of tables).

    Returns
    -------
    list of Timestamp (naive days), oldest first; empty without any subscription.
    """
    tables, tz, day, _ = _unpack(data, as_of)
    if day is None:
        raise ParameterError("as_of is required with a dict of tables (the last day of the data to use)")
    sub = tables["subscriptions"]
    start = _ns(sub, _S_START, "subscriptions", _OPEN)
    start = start[start < _cutoff(day, tz)]
    if start.size == 0:
        return []
    first = pd.Timestamp(int(start.min()), tz="UTC").tz_convert(tz).tz_localize(None).normalize()
    ends = list(pd.date_range(first, day, freq="ME"))
    if not ends or ends[-1] != day:
        ends.append(day)
    return [pd.Timestamp(d) for d in ends]


def snapshot_features(data: Any, snapshot: Any, *, horizon_days: int = 90,
                      personas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features of every account active at the end of ``snapshot`` day, from earlier rows only.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
        The contract tables (timestamps tz-aware UTC, as :func:`journeylib.load` gives them).
    snapshot : date
        The snapshot day; only rows dated before the end of that day are read.
    horizon_days : int
        Used by ``renewal_in_horizon`` only.
    personas : DataFrame, optional
        ``account_id, persona``; adds the ``persona`` column.

    Returns
    -------
    DataFrame
        ``account_id``, ``snapshot`` and the columns of :data:`FEATURES` (see the module
        docstring), one row per active account.
    """
    horizon_days = _check_horizon(horizon_days)
    tables, tz, day, lifecycle = _unpack(data, None)
    snap = _day(snapshot, "snapshot")
    if day is not None and snap > day:
        raise ParameterError(f"snapshot {snap.date()} is after as_of {day.date()}")
    return _Prepared(tables, tz, day, lifecycle).features(snap, horizon_days, _personas(personas))


def build_snapshots(data: Any, *, as_of: Any = None, horizon_days: int = 90, snapshots: Sequence[Any] | None = None,
                    personas: pd.DataFrame | None = None, gap_days: int = 1) -> pd.DataFrame:
    """As-of snapshots with their labels: the training and scoring set.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
    as_of : date, optional
        Last day of data used (default: the data's ``as_of``; required for a dict).
        Rows after it are ignored; labels whose horizon ends after it are missing.
    horizon_days : int, default 90
        The label: churned within this many days after the snapshot.
    snapshots : list of dates, optional
        Default: :func:`snapshot_dates` (month ends, and ``as_of``).
    personas : DataFrame, optional
        ``account_id, persona``: adds a ``persona`` feature. Use it only when the
        assignment does not depend on data after the snapshots (e.g. firmographic
        rules); a persona clustered on today's data leaks the future into older
        snapshots and flatters the backtest.
    gap_days : int, default 1
        A subscription starting at most this many days after the previous one ends
        continues it (an expansion or renewal row), it is not a churn.

    Returns
    -------
    DataFrame
        :func:`snapshot_features` columns for every snapshot, plus ``churned``
        (nullable Int8: 1 churned within the horizon, 0 not, missing when unknown) and
        ``outcome_known`` (bool).
    """
    horizon_days = _check_horizon(horizon_days)
    tables, tz, day, lifecycle = _unpack(data, as_of)
    if day is None:
        raise ParameterError("as_of is required with a dict of tables (the last day of the data to use)")
    dates = [_day(s, "snapshot") for s in snapshots] if snapshots is not None else snapshot_dates(data, as_of=day)
    late = [str(d.date()) for d in dates if d > day]
    if late:
        raise ParameterError(f"snapshots after as_of {day.date()}: {', '.join(late[:3])}")
    prep = _Prepared(tables, tz, day, lifecycle)
    pers = _personas(personas)
    ev_code, ev_t = prep.churn_events(gap_days)
    parts = []
    for d in sorted(set(dates)):
        frame = prep.features(d, horizon_days, pers)
        c = _cutoff(d, tz)
        hit = (ev_t >= c) & (ev_t < c + horizon_days * _DAY)
        codes = prep.index.get_indexer(frame[ACCOUNT_ID])
        known = d + pd.Timedelta(days=horizon_days) <= day
        y = np.isin(codes, ev_code[hit]).astype(np.int8)
        frame[LABEL] = pd.array(y, dtype="Int8") if known else pd.array([pd.NA] * len(frame), dtype="Int8")
        frame[KNOWN] = known
        parts.append(frame)
    cols = [ACCOUNT_ID, SNAPSHOT, *FEATURES, *prep.presale_names, *(["persona"] if pers is not None else []), LABEL,
            KNOWN]
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return empty.astype({SNAPSHOT: "datetime64[ns]", LABEL: "Int8", KNOWN: bool})
    return pd.concat(parts, ignore_index=True)[cols]


def latest_snapshot(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest snapshot (the accounts to score now)."""
    if snapshots.empty:
        return snapshots
    return snapshots[snapshots[SNAPSHOT] == snapshots[SNAPSHOT].max()].reset_index(drop=True)


def snapshot_summary(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Accounts, churners and churn rate per snapshot.

    Returns
    -------
    DataFrame with columns snapshot, accounts, churned (missing when unknown), churn_rate, outcome_known.
    """
    g = snapshots.groupby(SNAPSHOT, sort=True)
    out = pd.DataFrame({"accounts": g.size(), "churned": g[LABEL].sum(min_count=1), KNOWN: g[KNOWN].all()})
    out["churned"] = out["churned"].astype("Int64").where(out[KNOWN])
    out["churn_rate"] = (out["churned"].astype("Float64") / out["accounts"]).astype(float)
    return out.reset_index()[[SNAPSHOT, "accounts", "churned", "churn_rate", KNOWN]]


# =========================================================================== metrics
def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(p)
    if ok.sum() == 0 or len(np.unique(y[ok])) < 2:
        return float("nan")
    return float(roc_auc_score(y[ok], p[ok]))


def calibration_slope(y: Any, p: Any) -> tuple[float, float]:
    """Slope and intercept of the logistic recalibration ``logit P(y) = a + b logit(p)``.

    A well-calibrated model has slope 1 and intercept 0; a slope below 1 means
    overconfident predictions. Fitted by Newton's method (no penalty).

    Returns
    -------
    (slope, intercept); NaN when y holds a single class.
    """
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    if len(np.unique(y)) < 2:
        return float("nan"), float("nan")
    x = np.log(p / (1 - p))
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 1.0])
    for _ in range(100):
        eta = np.clip(X @ beta, -30, 30)
        mu = 1 / (1 + np.exp(-eta))
        w = np.maximum(mu * (1 - mu), 1e-12)
        step = np.linalg.solve(X.T @ (X * w[:, None]) + 1e-9 * np.eye(2), X.T @ (y - mu))
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[1]), float(beta[0])


def lift_table(y: Any, p: Any, n_groups: int = 10) -> pd.DataFrame:
    """Churn by risk group (group 1 = the highest predicted risk).

    Returns
    -------
    DataFrame with columns group, accounts, churned, churn_rate, lift (group rate /
    overall rate), capture (cumulative share of all churners in groups 1..k).
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = len(y)
    order = np.argsort(-np.nan_to_num(p, nan=-np.inf), kind="stable")
    group = np.minimum((np.arange(n) * n_groups) // max(n, 1), n_groups - 1) + 1
    frame = pd.DataFrame({"group": group, "y": y[order]})
    out = frame.groupby("group").agg(accounts=("y", "size"), churned=("y", "sum")).reset_index()
    rate = y.mean() if n else float("nan")
    out["churn_rate"] = out["churned"] / out["accounts"]
    out["lift"] = out["churn_rate"] / rate if rate > 0 else np.nan
    total = y.sum()
    out["capture"] = out["churned"].cumsum() / total if total > 0 else np.nan
    return out.astype({"accounts": "int64", "churned": "int64"})


def calibration_table(y: Any, p: Any, n_bins: int = 10) -> pd.DataFrame:
    """Observed churn against predicted probability, in bins of equal size (quantiles of p).

    Returns
    -------
    DataFrame with columns bin, accounts, mean_predicted, observed_rate.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    y, p = y[ok], p[ok]
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "accounts", "mean_predicted", "observed_rate"])
    order = np.argsort(p, kind="stable")
    b = np.minimum((np.arange(len(y)) * n_bins) // len(y), n_bins - 1) + 1
    frame = pd.DataFrame({"bin": b, "p": p[order], "y": y[order]})
    out = frame.groupby("bin").agg(accounts=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    return out.reset_index().astype({"accounts": "int64"})


def roc_points(y: Any, p: Any) -> pd.DataFrame:
    """The ROC curve: false and true positive rates at every threshold (empty for one class)."""
    from sklearn.metrics import roc_curve

    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    if len(np.unique(y[ok])) < 2:
        return pd.DataFrame(columns=["fpr", "tpr"])
    fpr, tpr, _ = roc_curve(y[ok], p[ok])
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})


def classification_metrics(y: Any, p: Any, top: float = 0.1) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier score and skill, calibration slope, top-decile lift and capture.

    ``brier_skill`` is ``1 - brier / (r (1 - r))`` with ``r`` the observed churn rate
    (the Brier score of always predicting the base rate). ROC-AUC, PR-AUC and the
    slope are NaN when ``y`` holds a single class; Brier values are NaN when ``p`` is
    missing (a ranking without probabilities).
    """
    from sklearn.metrics import average_precision_score

    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = len(y)
    rate = float(y.mean()) if n else float("nan")
    out = {"accounts": int(n), "churned": int(y.sum()), "base_rate": rate}
    two = n > 0 and len(np.unique(y)) == 2
    probs = n > 0 and bool(np.isfinite(p).all()) and bool(((p >= 0) & (p <= 1)).all())
    out["roc_auc"] = _auc(y, p)
    out["pr_auc"] = float(average_precision_score(y, np.nan_to_num(p, nan=-1.0))) if two else float("nan")
    brier = float(np.mean((p - y) ** 2)) if probs else float("nan")
    ref = rate * (1 - rate) if n else float("nan")
    out["brier"] = brier
    out["brier_skill"] = 1 - brier / ref if probs and ref > 0 else float("nan")
    slope, intercept = calibration_slope(y, p) if probs and two else (float("nan"), float("nan"))
    out["calibration_slope"], out["calibration_intercept"] = slope, intercept
    if n and y.sum() > 0:
        k = max(int(math.ceil(top * n)), 1)
        order = np.argsort(-np.nan_to_num(p, nan=-np.inf), kind="stable")[:k]
        out["top_decile_lift"] = float(y[order].mean() / rate)
        out["top_decile_capture"] = float(y[order].sum() / y.sum())
    else:
        out["top_decile_lift"] = out["top_decile_capture"] = float("nan")
    return out


# =========================================================================== models
def model_features(snapshots: pd.DataFrame) -> list[str]:
    """The feature columns a model uses: :data:`FEATURES` present in the frame, and persona when given."""
    feats = [f for f in FEATURES if f in snapshots]
    feats += [c for c in snapshots.columns if c.startswith(PRESALE_PREFIX) and c not in FEATURES]
    if "persona" in snapshots and snapshots["persona"].notna().any():
        feats.append("persona")
    return feats


def _pipeline(kind: str, features: list[str], random_state: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [f for f in features if f in _CATEGORICAL]
    num = [f for f in features if f not in _CATEGORICAL]
    if kind == "logistic":
        prep = ColumnTransformer([
            ("num", Pipeline([
                ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                ("scale", StandardScaler())]), num),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
        ])
        return Pipeline([("prep", prep), ("model", LogisticRegression(C=1.0, max_iter=5000))])
    # gradient boosting takes the numeric design of _design(): categories as integer codes
    return HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=200, max_depth=3, min_samples_leaf=40, l2_regularization=1.0,
        categorical_features=np.array([f in _CATEGORICAL for f in features]) if cat else None,
        early_stopping=True, validation_fraction=0.15, n_iter_no_change=25, random_state=random_state)


def _threads(n: int | None):
    """Limit BLAS/OpenMP threads: at these sizes one thread is faster than several, and it
    is immune to oversubscription when other processes share the cores."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n) if n else nullcontext()


def _frame(snapshots: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Model input: categorical features as text ("(none)" when missing), the others as float."""
    cols = {}
    for f in features:
        v = snapshots[f]
        if f in _CATEGORICAL:
            cols[f] = np.array(["(none)" if x is None or x != x else str(x) for x in v.to_numpy(dtype=object)],
                               dtype=object)
        else:
            cols[f] = pd.to_numeric(v, errors="coerce").to_numpy(dtype=float)
    return pd.DataFrame(cols, index=snapshots.index)


class ChurnModel:
    """A churn-risk model fitted on as-of snapshots.

    Parameters
    ----------
    model : {"gbm", "logistic", "health"}
        Gradient-boosted trees (``HistGradientBoostingClassifier``: depth 3, learning
        rate 0.05, up to 200 trees with early stopping on 15% of the rows, 40 rows per
        leaf at least; plan and persona as categories), a logistic regression on
        standardised features (missing values imputed by the median, with indicators;
        categories one-hot), or the rule-based health score mapped to a probability by
        a one-variable logistic fit. Shallow trees suit the data: churn hazards are
        close to additive on the log scale, and deeper trees over-fit the smaller sets.
    horizon_days : int
        The label's horizon (for messages and for the training window of ``before``).
    calibration : {"sigmoid", "isotonic", "none"}
        How probabilities are calibrated, with ``CalibratedClassifierCV(FrozenEstimator(model))``,
        on the latest training snapshots (held out from the model fit): as few as hold
        ``calibration_churners`` churners, at most half of the training snapshots. The
        latest snapshots are the closest to the ones scored, so this also corrects a
        drift of the churn rate.
    calibration_churners : int
    health_weights : dict, optional
        Weights of the health score (:mod:`journeylib.health_score`).
    random_state : int
    n_threads : int or None
        BLAS/OpenMP threads while fitting and predicting (None: the libraries' default).

    Attributes
    ----------
    kind_ : str
        The model actually fitted; ``"health"`` when the data cannot train the chosen one.
    message_ : str or None
        Why the model fell back to the health score, or why it is not calibrated.
    features_ : list of str
    estimator_, calibrated_ : fitted scikit-learn estimators (``calibrated_`` None when not calibrated)
    calibration_snapshots_ : int
        Latest training snapshots held out for calibration (0 when not calibrated).
    train_rows_, train_churned_, train_snapshots_ : int
    base_rate_ : float
    reference_ : dict
        Typical training values (median, or the most common category) used for the reasons.
    """

    def __init__(self, model: str = "gbm", *, horizon_days: int = 90, calibration: str = "sigmoid",
                 calibration_churners: int = 50, health_weights: dict[str, float] | None = None,
                 random_state: int = 0, n_threads: int | None = 1):
        self.model = check_model(model)
        self.n_threads = n_threads
        self.horizon_days = _check_horizon(horizon_days)
        if calibration not in CALIBRATIONS:
            raise ParameterError(f"calibration must be one of {', '.join(CALIBRATIONS)}; got {calibration!r}"
                                 f"{did_you_mean(str(calibration), CALIBRATIONS)}")
        self.calibration = calibration
        self.calibration_churners = int(calibration_churners)
        self.health_weights = health_weights
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, snapshots: pd.DataFrame, *, before: Any = None) -> "ChurnModel":
        """Fit on the snapshots whose outcome is known (by ``before`` when given).

        Parameters
        ----------
        snapshots : DataFrame
            From :func:`build_snapshots`.
        before : date, optional
            Use only snapshots ``s`` with ``s + horizon_days <= before`` (their outcome
            was known at ``before``): the training set of a backtest at ``before``.
        """
        _check_snapshots(snapshots)
        known = snapshots[snapshots[KNOWN].astype(bool)]
        if before is not None:
            limit = _day(before, "before") - pd.Timedelta(days=self.horizon_days)
            known = known[known[SNAPSHOT] <= limit]
        self.features_ = model_features(snapshots)
        self.train_rows_ = int(len(known))
        self.train_churned_ = int(known[LABEL].astype(int).sum()) if len(known) else 0
        self.train_snapshots_ = int(known[SNAPSHOT].nunique())
        self.base_rate_ = self.train_churned_ / self.train_rows_ if self.train_rows_ else float("nan")
        self.message_ = None
        self.estimator_ = self.calibrated_ = None
        self.calibration_snapshots_ = 0
        self._health_map = None
        X = _frame(known, self.features_)
        self.reference_ = {f: (X[f].mode().iloc[0] if f in _CATEGORICAL else float(X[f].median()))
                           if len(X) and X[f].notna().any() else np.nan for f in self.features_}
        h = self.horizon_days
        if self.train_rows_ == 0:
            self.message_ = (f"no snapshot has a known {h}-day outcome yet (the history is shorter than the horizon "
                             "or too few snapshots): the model cannot be trained; accounts are ranked by the health "
                             "score only")
        elif self.train_churned_ == 0 or self.train_churned_ == self.train_rows_:
            what = "no account churned" if self.train_churned_ == 0 else "every account churned"
            self.message_ = (f"a single class in the training snapshots ({self.train_rows_:,} account-snapshots, "
                             f"{what} within {h} days): the model cannot be trained; accounts are ranked by the "
                             "health score only")
        if self.message_ is not None:
            self.kind_ = "health"
            return self
        self.kind_ = self.model
        y = known[LABEL].astype(int).to_numpy()
        if self.model == "health":
            self._fit_health(known, y)
            return self
        snaps = np.sort(known[SNAPSHOT].unique())
        fit_rows = np.ones(len(known), dtype=bool)
        if self.calibration != "none":
            per_snap = known.groupby(SNAPSHOT)[LABEL].sum().astype(int).reindex(snaps).to_numpy()
            reached = np.flatnonzero(np.cumsum(per_snap[::-1]) >= self.calibration_churners)
            k = int(reached[0]) + 1 if reached.size else len(snaps)
            if len(snaps) >= 2 and k <= len(snaps) // 2:
                cal = known[SNAPSHOT].isin(snaps[-k:]).to_numpy()
                yc, yf = y[cal], y[~cal]
                if len(yc) - yc.sum() >= 5 and 0 < yf.sum() < len(yf):
                    fit_rows = ~cal
                    self.calibration_snapshots_ = k
            if fit_rows.all():
                self.message_ = (f"not calibrated: {self.train_churned_} churners in {len(snaps)} training snapshots; "
                                 f"calibration holds out the latest snapshots with {self.calibration_churners} "
                                 "churners, at most half of them")
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        # at most 250 categories (the most common) per categorical feature: the trees' limit
        self.categories_ = {f: sorted(X[f].value_counts().index[:250]) for f in self.features_ if f in _CATEGORICAL}
        D = self._encode(X)
        with _threads(self.n_threads):
            self.estimator_ = _pipeline(self.model, self.features_, self.random_state)
            if self.model == "gbm" and (fit_rows.sum() < 2000 or y[fit_rows].sum() < 50):
                # too few rows for a validation split: a fixed, shorter boosting run
                self.estimator_.set_params(early_stopping=False, max_iter=100)
            self.estimator_.fit(D[fit_rows], y[fit_rows])
            if not fit_rows.all():
                self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(self.estimator_), method=self.calibration)
                self.calibrated_.fit(D[~fit_rows], y[~fit_rows])
        return self

    def _encode(self, X: pd.DataFrame):
        """The design the estimator takes: the frame (logistic) or a float matrix with category codes (gbm)."""
        if self.model != "gbm":
            return X
        D = np.empty((len(X), len(self.features_)))
        for j, f in enumerate(self.features_):
            if f in _CATEGORICAL:
                codes = pd.Categorical(X[f].to_numpy(dtype=object), categories=self.categories_[f]).codes
                D[:, j] = np.where(codes >= 0, codes, np.nan)
            else:
                D[:, j] = X[f].to_numpy(dtype=float)
        return D

    def _design(self, snapshots: pd.DataFrame):
        return self._encode(_frame(snapshots, self.features_))

    def _proba(self, D) -> np.ndarray:
        """Probabilities from a design (call inside ``_threads``)."""
        est = self.calibrated_ if self.calibrated_ is not None else self.estimator_
        return est.predict_proba(D)[:, 1]

    def _with_values(self, D, features: Sequence[str], values: Mapping[str, Any]):
        """A copy of a design with ``features`` set to ``values`` (arrays or scalars, as in the frame)."""
        if isinstance(D, pd.DataFrame):
            return D.assign(**{f: values[f] for f in features})
        D2 = D.copy()
        for f in features:
            j = self.features_.index(f)
            v = values[f]
            if f in _CATEGORICAL:
                cats = self.categories_[f]
                v = np.asarray(v, dtype=object) if np.ndim(v) else np.array([v], dtype=object)
                codes = pd.Categorical(v, categories=cats).codes.astype(float)
                codes[codes < 0] = np.nan
                v = codes if codes.size == len(D2) else codes[0]
            D2[:, j] = v
        return D2

    def _fit_health(self, known: pd.DataFrame, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        risk = (100 - health_score(known, weights=self.health_weights)["health"].to_numpy()).reshape(-1, 1)
        ok = np.isfinite(risk[:, 0])
        if ok.sum() and len(np.unique(y[ok])) == 2:
            self._health_map = LogisticRegression(C=1e6, max_iter=1000).fit(risk[ok], y[ok])

    @property
    def fitted_(self) -> bool:
        """True when a model (not the fallback) produces the probabilities."""
        return self.kind_ != "health" or self._health_map is not None

    # ------------------------------------------------------------------ predict
    def predict_proba(self, snapshots: pd.DataFrame) -> np.ndarray:
        """Probability of churning within the horizon, per row (NaN when the model could not be trained)."""
        if self.kind_ == "health":
            if self._health_map is None:
                return np.full(len(snapshots), np.nan)
            risk = 100 - health_score(snapshots, weights=self.health_weights)["health"].to_numpy()
            out = np.full(len(snapshots), np.nan)
            ok = np.isfinite(risk)
            if ok.any():
                out[ok] = self._health_map.predict_proba(risk[ok].reshape(-1, 1))[:, 1]
            return out
        D = self._design(snapshots)
        with _threads(self.n_threads):
            return self._proba(D)

    def risk_score(self, snapshots: pd.DataFrame) -> np.ndarray:
        """The ranking score: the probability, or ``1 - health / 100`` when there is no probability."""
        p = self.predict_proba(snapshots)
        if np.isnan(p).all():
            return 1 - health_score(snapshots, weights=self.health_weights)["health"].to_numpy() / 100
        return p

    def reasons(self, snapshots: pd.DataFrame, top: int = 3, min_effect: float = 0.002) -> pd.DataFrame:
        """Each account's top reasons, in plain words ("seat use fell 40% in 60 days").

        A reason group's effect is how much the predicted probability drops when the
        group's features are set to their typical training values (``reference_``);
        the ``top`` groups with the largest positive effect (at least ``min_effect``)
        are worded from the account's own values.

        Returns
        -------
        DataFrame with columns account_id, reason_1 .. reason_{top} (empty string when
        fewer), top_reasons ("; "-joined).
        """
        n = len(snapshots)
        cols = [f"reason_{i + 1}" for i in range(top)]
        out = pd.DataFrame({ACCOUNT_ID: snapshots[ACCOUNT_ID].to_numpy()})
        if n == 0 or self.kind_ == "health":
            texts = self._health_reasons(snapshots, top) if n else []
            for r, c in enumerate(cols):
                out[c] = [t[r] for t in texts]
            out["top_reasons"] = ["; ".join(x for x in t if x) for t in texts]
            return out
        D = self._design(snapshots)
        groups = [(g, [f for f in self.features_ if f in feats or (PRESALE_PREFIX in feats and
                                                                   f.startswith(PRESALE_PREFIX))])
                  for g, (feats, _) in REASON_GROUPS.items()]
        groups = [(g, fs) for g, fs in groups if fs]
        effects = np.zeros((n, len(groups)))
        with _threads(self.n_threads):
            base = self._proba(D)
            for j, (_, fs) in enumerate(groups):
                effects[:, j] = base - self._proba(self._with_values(D, fs, self.reference_))
        order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
        rows = snapshots.reset_index(drop=True)
        texts = [[""] * top for _ in range(n)]
        for i in range(n):
            row = rows.iloc[i]
            for r, j in enumerate(order[i]):
                if effects[i, j] >= min_effect:
                    texts[i][r] = REASON_GROUPS[groups[j][0]][1](row)
        for r, c in enumerate(cols):
            out[c] = [t[r] for t in texts]
        out["top_reasons"] = ["; ".join(x for x in t if x) for t in texts]
        return out

    def _health_reasons(self, snapshots: pd.DataFrame, top: int) -> list[list[str]]:
        """Without a model: the weakest health components below 50, in words."""
        comps = health_score(snapshots, weights=self.health_weights)
        names = ("usage", "adoption", "support", "sentiment", "engagement")
        out = []
        for row in comps[list(names)].itertuples(index=False):
            low = sorted((v, c) for v, c in zip(row, names) if pd.notna(v) and v < 50)[:top]
            words = [f"low {c} score ({v:.0f}/100)" for v, c in low]
            out.append(words + [""] * (top - len(words)))
        return out

    def score(self, snapshots: pd.DataFrame, *, reasons: bool = True, top: int = 3) -> pd.DataFrame:
        """Probability, risk rank and (optionally) reasons for every row.

        Returns
        -------
        DataFrame with columns account_id, snapshot, plan, mrr, probability, risk_score,
        risk_rank (1 = riskiest) and, with ``reasons``, reason_1..3 and top_reasons.
        """
        p = self.predict_proba(snapshots)
        risk = self.risk_score(snapshots)
        out = pd.DataFrame({ACCOUNT_ID: snapshots[ACCOUNT_ID].to_numpy(), SNAPSHOT: snapshots[SNAPSHOT].to_numpy(),
                            "plan": snapshots["plan"].to_numpy(), "mrr": snapshots["mrr"].to_numpy(dtype=float),
                            "probability": p, "risk_score": risk})
        out["risk_rank"] = out["risk_score"].rank(ascending=False, method="first", na_option="bottom").astype("int64")
        if reasons:
            r = self.reasons(snapshots, top=top)
            for c in r.columns[1:]:
                out[c] = r[c].to_numpy()
        return out


def _check_snapshots(snapshots: Any) -> None:
    need = {ACCOUNT_ID, SNAPSHOT, LABEL, KNOWN}
    if not isinstance(snapshots, pd.DataFrame) or not need <= set(snapshots.columns):
        got = list(snapshots.columns) if isinstance(snapshots, pd.DataFrame) else type(snapshots).__name__
        raise ParameterError(f"snapshots must come from churn.build_snapshots (columns {sorted(need)}); got {got}")


# --------------------------------------------------------------------------- reasons in plain words
def _v(row: pd.Series, name: str) -> float:
    try:
        x = float(row[name])
    except (KeyError, TypeError, ValueError):
        return float("nan")
    return x


def _pct(x: float) -> str:
    return f"{abs(x):.0%}"


def _r_seats(r):
    u, s = _v(r, "seat_utilisation"), _v(r, "seats_purchased")
    return "no seat usage recorded" if not np.isfinite(u) else f"seat use at {u:.0%} of {s:.0f} purchased seats"


def _r_seat_change(r):
    x = _v(r, "seat_use_change_60d")
    if not np.isfinite(x):
        return "no seat history 60 days back"
    return f"seat use fell {_pct(x)} in 60 days" if x < 0 else f"seat use up {_pct(x)} in 60 days"


def _r_trend(r):
    x = math.expm1(_v(r, "active_users_trend")) if np.isfinite(_v(r, "active_users_trend")) else float("nan")
    if not np.isfinite(x):
        return "no active-user history"
    return (f"active users down {_pct(x)} on the previous 4 weeks" if x < 0
            else f"active users up {_pct(x)} on the previous 4 weeks")


def _r_usage_gap(r):
    d = _v(r, "days_since_usage")
    return "no product usage recorded" if not np.isfinite(d) else f"last product usage {d:.0f} days ago"


def _r_breadth(r):
    b = _v(r, "feature_breadth_90d")
    return "no product features in use" if not np.isfinite(b) else f"{b:.0f} product features in use in 90 days"


def _r_high(r):
    return f"{_v(r, 'high_priority_tickets_90d'):.0f} high or urgent tickets in 90 days"


def _r_tickets(r):
    return f"{_v(r, 'tickets_90d'):.0f} tickets in 90 days, {_v(r, 'open_tickets'):.0f} open"


def _r_resolution(r):
    d = _v(r, "resolution_days_180d")
    return "no tickets resolved in 180 days" if not np.isfinite(d) else f"tickets take {d:.1f} days to resolve"


def _r_ticket_csat(r):
    x = _v(r, "ticket_csat_180d")
    return "no ticket CSAT in 180 days" if not np.isfinite(x) else f"ticket CSAT {x:.1f} of 5"


def _r_nps(r):
    x = _v(r, "nps_latest")
    if not np.isfinite(x):
        return "no NPS response yet"
    return f"latest NPS {x:.0f}" + (" (detractor)" if x <= 6 else "")


def _r_csat(r):
    x = _v(r, "csat_latest")
    return "no CSAT survey answered" if not np.isfinite(x) else f"latest CSAT survey {x:.1f} of 5"


def _r_ces(r):
    x = _v(r, "ces_180d")
    return "no effort score in 180 days" if not np.isfinite(x) else f"customer effort {x:.1f} of 7 (7 = easy)"


def _r_exec(r):
    return ("economic buyer not engaged in 180 days" if _v(r, "exec_engaged_180d") < 1
            else "economic buyer engaged in 180 days")


def _r_champion(r):
    d = _v(r, "champion_quiet_days")
    return "no champion activity recorded" if not np.isfinite(d) else f"champion quiet for {d:.0f} days"


def _r_committee(r):
    return (f"{_v(r, 'contacts_engaged_90d'):.0f} contacts engaged in 90 days "
            f"({_v(r, 'touchpoints_90d'):.0f} touchpoints)")


def _r_renewal(r):
    return f"renewal due in {_v(r, 'days_to_renewal'):.0f} days"


def _r_tenure(r):
    return f"customer for {_v(r, 'tenure_days') / 30.4375:.0f} months"


def _r_plan(r):
    return f"on the {r.get('plan') or 'unknown'} plan"


def _r_contract(r):
    return f"MRR {_v(r, 'mrr'):,.0f} for {_v(r, 'seats_purchased'):.0f} seats"


def _r_family(r):
    k = _v(r, "related_accounts")
    return "no parent or business-unit accounts" if not k else f"{k:.0f} related accounts"


def _r_pipeline(r):
    return "expansion opportunity open" if _v(r, "open_expansion_opportunity") >= 1 else "no expansion in the pipeline"


def _r_presale(r):
    n = sum(_v(r, k) for k in r.index if k.startswith(PRESALE_PREFIX) and k != "presale_days")
    d = _v(r, "presale_days")
    return (f"short buying journey ({n:.0f} touchpoints in {d:.0f} days before the purchase)" if np.isfinite(d)
            else "no buying journey recorded")


def _r_persona(r):
    return f"persona {r.get('persona') or 'unassigned'}"


#: Reason groups: name -> (features set to typical values together, wording from the account's values).
REASON_GROUPS: dict[str, tuple[tuple[str, ...], Any]] = {
    "seats": (("seat_utilisation", "active_user_ratio", "active_users"), _r_seats),
    "seat_change": (("seat_use_change_60d",), _r_seat_change),
    "active_trend": (("active_users_trend",), _r_trend),
    "usage_gap": (("days_since_usage",), _r_usage_gap),
    "breadth": (("feature_breadth_90d",), _r_breadth),
    "high_tickets": (("high_priority_tickets_90d",), _r_high),
    "tickets": (("tickets_90d", "open_tickets"), _r_tickets),
    "resolution": (("resolution_days_180d",), _r_resolution),
    "ticket_csat": (("ticket_csat_180d",), _r_ticket_csat),
    "nps": (("nps_latest", "nps_detractor"), _r_nps),
    "csat": (("csat_latest",), _r_csat),
    "ces": (("ces_180d",), _r_ces),
    "exec": (("exec_engaged_180d",), _r_exec),
    "champion": (("champion_quiet_days", "champion_quiet_60d"), _r_champion),
    "committee": (("contacts_engaged_90d", "touchpoints_90d", "new_departments_90d"), _r_committee),
    "renewal": (("days_to_renewal", "renewal_month", "renewal_in_horizon"), _r_renewal),
    "tenure": (("tenure_days",), _r_tenure),
    "plan": (("plan",), _r_plan),
    "contract": (("mrr", "seats_purchased"), _r_contract),
    "family": (("related_accounts",), _r_family),
    "pipeline": (("open_expansion_opportunity",), _r_pipeline),
    "persona": (("persona",), _r_persona),
    "presale": (("presale_days", PRESALE_PREFIX), _r_presale),
}


# =========================================================================== drivers
def permutation_drivers(model: ChurnModel, snapshots: pd.DataFrame, *, n_repeats: int = 5, random_state: int = 0,
                        groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Global drivers: the drop in ROC-AUC when a feature (or group) is shuffled across accounts.

    Parameters
    ----------
    model : ChurnModel
        Fitted.
    snapshots : DataFrame
        Rows with known outcomes of both classes (typically the test snapshot).
    groups : mapping name -> features, optional
        Shuffle these features together (one permutation for the group); default one
        group per model feature.

    Returns
    -------
    DataFrame with columns feature, label, importance (mean AUC drop), importance_std,
    rank (1 = strongest); empty when the rows hold a single class.
    """
    cols = ["feature", "label", "importance", "importance_std", "rank"]
    rows = snapshots[snapshots[KNOWN].astype(bool)]
    y = rows[LABEL].astype(int).to_numpy() if len(rows) else np.zeros(0)
    if not model.fitted_ or len(np.unique(y)) < 2:
        return pd.DataFrame(columns=cols)
    feats = model.features_ if model.kind_ != "health" else [f for f in model.features_ if f in _HEALTH_INPUTS]
    groups = dict(groups) if groups is not None else {f: [f] for f in feats}
    unknown = [f for fs in groups.values() for f in fs if f not in rows]
    if unknown:
        raise ParameterError(f"unknown features in groups: {unknown}{did_you_mean(unknown[0], FEATURES)}")
    rng = np.random.default_rng(random_state)
    out = []
    if model.kind_ == "health":
        base = _auc(y, model.predict_proba(rows))

        def shuffled_auc(fs, perm):
            return _auc(y, model.predict_proba(rows.assign(**{f: rows[f].to_numpy()[perm] for f in fs})))
    else:
        X = _frame(rows, model.features_)
        D = model._encode(X)
        with _threads(model.n_threads):
            base = _auc(y, model._proba(D))

        def shuffled_auc(fs, perm):
            values = {f: X[f].to_numpy()[perm] for f in fs}
            return _auc(y, model._proba(model._with_values(D, [f for f in fs if f in model.features_], values)))
    with _threads(model.n_threads):
        for name, fs in groups.items():
            drops = [base - shuffled_auc(fs, rng.permutation(len(rows))) for _ in range(n_repeats)]
            out.append({"feature": name, "label": FEATURES.get(name, name), "importance": float(np.mean(drops)),
                        "importance_std": float(np.std(drops))})
    frame = pd.DataFrame(out, columns=cols[:-1]).sort_values("importance", ascending=False, kind="stable")
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame.reset_index(drop=True)


_HEALTH_INPUTS = ("seat_utilisation", "active_users_trend", "feature_breadth_90d", "tickets_90d",
                  "high_priority_tickets_90d", "open_tickets", "nps_latest", "csat_latest", "exec_engaged_180d",
                  "champion_quiet_days", "contacts_engaged_90d")


# =========================================================================== backtest
class ChurnBacktest:
    """Temporal backtest: train on snapshots whose outcome was known before T, test on T.

    For each test date ``T`` the training set holds the snapshots ``s`` with
    ``s + horizon_days <= T`` (every label it uses was observable at ``T``); the test
    set is snapshot ``T``'s accounts. The chosen model and the baselines (logistic
    regression, rule-based health score) are scored side by side.

    Parameters
    ----------
    model : {"gbm", "logistic", "health"}
        The model of record; drivers are computed for it.
    horizon_days : int
    n_tests : int
        Test on the latest ``n_tests`` snapshots whose outcome is known (month ends only).
    test_dates : list of dates, optional
        Explicit test dates instead.
    calibration, health_weights, random_state :
        As :class:`ChurnModel`.
    n_bins : int
        Bins of the calibration curve.
    n_repeats : int
        Permutations per feature for the drivers.

    Attributes
    ----------
    metrics_ : DataFrame
        One row per test date and model: test_date, model, role ("model"/"baseline"),
        train_snapshots, train_rows, train_churned, accounts, churned, base_rate,
        roc_auc, pr_auc, brier, brier_skill, calibration_slope, calibration_intercept,
        top_decile_lift, top_decile_capture, note.
    calibration_ : DataFrame
        test_date, model, bin, accounts, mean_predicted, observed_rate.
    lift_ : DataFrame
        test_date, model, group, accounts, churned, churn_rate, lift, capture.
    roc_ : DataFrame
        test_date, model, fpr, tpr.
    predictions_ : DataFrame
        test_date, account_id, model, probability, risk_score, churned.
    drivers_ : DataFrame
        :func:`permutation_drivers` of the model on the latest test date.
    messages_ : list of str
        Why something could not be computed (single class, too few snapshots...).
    latest_model_ : ChurnModel
        The model fitted for the latest test date.
    """

    def __init__(self, model: str = "gbm", *, horizon_days: int = 90, n_tests: int = 4,
                 test_dates: Sequence[Any] | None = None, calibration: str = "sigmoid",
                 health_weights: dict[str, float] | None = None, n_bins: int = 10, n_repeats: int = 5,
                 random_state: int = 0):
        self.model = check_model(model)
        self.horizon_days = _check_horizon(horizon_days)
        if int(n_tests) < 1:
            raise ParameterError(f"n_tests must be >= 1; got {n_tests!r}")
        self.n_tests = int(n_tests)
        self.test_dates = test_dates
        self.calibration = calibration
        self.health_weights = health_weights
        self.n_bins = n_bins
        self.n_repeats = n_repeats
        self.random_state = random_state

    @property
    def models(self) -> list[str]:
        """The model of record first, then the baselines."""
        return [self.model] + [m for m in ("logistic", "health") if m != self.model]

    def _dates(self, snapshots: pd.DataFrame) -> list[pd.Timestamp]:
        known = snapshots.loc[snapshots[KNOWN].astype(bool), SNAPSHOT]
        dates = sorted(pd.Timestamp(d) for d in known.unique())
        h = pd.Timedelta(days=self.horizon_days)
        if self.test_dates is not None:
            chosen = [_day(d, "test date") for d in self.test_dates]
            missing = [str(d.date()) for d in chosen if d not in set(dates)]
            if missing:
                raise ParameterError(f"test dates without a snapshot of known outcome: {', '.join(missing)}; "
                                     f"available: {', '.join(str(d.date()) for d in dates[-6:])}")
            return chosen
        month_ends = [d for d in dates if d.is_month_end]
        usable = [d for d in month_ends if any(s + h <= d for s in dates)]
        return usable[-self.n_tests:]

    def fit(self, snapshots: pd.DataFrame) -> "ChurnBacktest":
        """Run the backtest on :func:`build_snapshots` output."""
        _check_snapshots(snapshots)
        self.messages_: list[str] = []
        metrics, calib, lift, roc, preds = [], [], [], [], []
        dates = self._dates(snapshots)
        known_dates = sorted(snapshots.loc[snapshots[KNOWN].astype(bool), SNAPSHOT].unique())
        self.latest_model_ = None
        self.drivers_ = pd.DataFrame(columns=["feature", "label", "importance", "importance_std", "rank"])
        if not known_dates:
            self._say(f"no snapshot has a known {self.horizon_days}-day outcome (the history is shorter than the "
                      "horizon): nothing to backtest")
        elif not dates:
            self._say(f"too few snapshots for a temporal backtest: {len(known_dates)} snapshot(s) with a known "
                      f"outcome, and none has an earlier snapshot whose {self.horizon_days}-day outcome was known "
                      "by then; the health-score baseline is reported on the latest snapshot instead")
            latest = pd.Timestamp(known_dates[-1])
            test = snapshots[snapshots[SNAPSHOT] == latest]
            self._evaluate(latest, "health", None, test, metrics, calib, lift, roc, preds)
        for T in dates:
            test = snapshots[(snapshots[SNAPSHOT] == T) & snapshots[KNOWN].astype(bool)]
            y = test[LABEL].astype(int).to_numpy()
            if len(np.unique(y)) < 2:
                what = "no churn" if y.sum() == 0 else "all churned"
                self._say(f"test snapshot {T.date()} holds a single class ({what} among {len(y):,} accounts): "
                          "ROC-AUC, PR-AUC and lift are undefined there")
            for name in self.models:
                m = ChurnModel(name, horizon_days=self.horizon_days, calibration=self.calibration,
                               health_weights=self.health_weights, random_state=self.random_state)
                m.fit(snapshots, before=T)
                self._evaluate(T, name, m, test, metrics, calib, lift, roc, preds)
                if name == self.model and T == dates[-1]:
                    self.latest_model_ = m
                    if m.fitted_ and m.kind_ == name:
                        self.drivers_ = permutation_drivers(m, test, n_repeats=self.n_repeats,
                                                            random_state=self.random_state)
        self.metrics_ = pd.DataFrame(metrics, columns=_METRIC_COLUMNS)
        self.calibration_ = _concat(calib, ["test_date", "model", "bin", "accounts", "mean_predicted", "observed_rate"])
        self.lift_ = _concat(lift, ["test_date", "model", "group", "accounts", "churned", "churn_rate", "lift",
                                    "capture"])
        self.roc_ = _concat(roc, ["test_date", "model", "fpr", "tpr"])
        self.predictions_ = _concat(preds, ["test_date", ACCOUNT_ID, "model", "probability", "risk_score", LABEL])
        return self

    def _say(self, text: str) -> None:
        if text not in self.messages_:
            self.messages_.append(text)

    def _evaluate(self, T, name, m, test, metrics, calib, lift, roc, preds) -> None:
        y = test[LABEL].astype(int).to_numpy()
        if m is None:  # health score without a training set: a ranking only
            p = np.full(len(test), np.nan)
            risk = 1 - health_score(test, weights=self.health_weights)["health"].to_numpy() / 100
            note = "ranking only: no earlier snapshot to map the health score to a probability"
            train = (0, 0, 0)
        else:
            p = m.predict_proba(test)
            risk = m.risk_score(test)
            train = (m.train_snapshots_, m.train_rows_, m.train_churned_)
            note = ""
            if m.kind_ != name:
                note = f"not trained: {m.message_}"
                self._say(f"{T.date()}, {name}: {m.message_}")
                p = np.full(len(test), np.nan)
                risk = p if name != "health" else risk
            elif m.message_:
                note = m.message_
        res = classification_metrics(y, p if np.isfinite(p).any() else risk)
        if not np.isfinite(p).any():
            res.update(brier=float("nan"), brier_skill=float("nan"), calibration_slope=float("nan"),
                       calibration_intercept=float("nan"))
            if name != "health":
                res.update(roc_auc=float("nan"), pr_auc=float("nan"), top_decile_lift=float("nan"),
                           top_decile_capture=float("nan"))
        if len(np.unique(y)) < 2:
            note = "; ".join(x for x in (note, "single class in the test snapshot") if x)
        metrics.append({"test_date": T, "model": name, "role": "model" if name == self.model else "baseline",
                        "train_snapshots": train[0], "train_rows": train[1], "train_churned": train[2], **res,
                        "note": note})
        score = p if np.isfinite(p).any() else risk
        if np.isfinite(p).any():
            calib.append(calibration_table(y, p, self.n_bins).assign(test_date=T, model=name))
        if np.isfinite(score).any() and len(np.unique(y)) == 2:
            lift.append(lift_table(y, score).assign(test_date=T, model=name))
            roc.append(roc_points(y, score).assign(test_date=T, model=name))
        preds.append(pd.DataFrame({"test_date": T, ACCOUNT_ID: test[ACCOUNT_ID].to_numpy(), "model": name,
                                   "probability": p, "risk_score": score, LABEL: y}))

    def by_date(self, metric: str = "roc_auc") -> dict[str, dict[str, float]]:
        """``{test date: {model: metric}}`` (NaN where undefined), for recording."""
        if metric not in _METRIC_COLUMNS:
            raise ParameterError(f"unknown metric {metric!r}{did_you_mean(metric, _METRIC_COLUMNS)}")
        out: dict[str, dict[str, float]] = {}
        for row in self.metrics_.itertuples(index=False):
            out.setdefault(str(pd.Timestamp(row.test_date).date()), {})[row.model] = float(getattr(row, metric))
        return out

    def summary(self) -> pd.DataFrame:
        """ROC-AUC and Brier score per test date (rows) and model (columns)."""
        m = self.metrics_
        if m.empty:
            return pd.DataFrame()
        wide = m.pivot_table(index="test_date", columns="model", values=["roc_auc", "brier"], dropna=False)
        wide.columns = [f"{a}_{b}" for a, b in wide.columns]
        return wide.reset_index()


_METRIC_COLUMNS = ["test_date", "model", "role", "train_snapshots", "train_rows", "train_churned", "accounts",
                   "churned", "base_rate", "roc_auc", "pr_auc", "brier", "brier_skill", "calibration_slope",
                   "calibration_intercept", "top_decile_lift", "top_decile_capture", "note"]


def _concat(parts: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


# =========================================================================== lists
#: Columns of the risk list, in order (no contact names or e-mails by construction).
RISK_LIST_COLUMNS = ["risk_rank", ACCOUNT_ID, "account", "owner", "plan", "probability", "arr_at_risk",
                     "expected_arr_loss", "health", "health_band", "top_reasons"]


def risk_list(scored: pd.DataFrame, accounts: pd.DataFrame, *, health: pd.DataFrame | None = None,
              top: int | None = None) -> pd.DataFrame:
    """The risk list: accounts by churn risk, with ARR at risk, reasons, health and owner.

    Parameters
    ----------
    scored : DataFrame
        :meth:`ChurnModel.score` output for one snapshot.
    accounts : DataFrame
        The accounts table (name and owner are read; nothing about contacts).
    health : DataFrame, optional
        :func:`journeylib.health_score.health_score` of the same snapshot.
    top : int, optional
        Keep the ``top`` riskiest accounts.

    Returns
    -------
    DataFrame with :data:`RISK_LIST_COLUMNS`: ``arr_at_risk`` is the account's ARR
    (12 x MRR), ``expected_arr_loss`` is probability x ARR; riskiest first.
    """
    if scored[SNAPSHOT].nunique() > 1:
        raise ParameterError("risk_list takes one snapshot; filter scored to a single snapshot first")
    acc = accounts.drop_duplicates(ACCOUNT_ID).set_index(accounts.drop_duplicates(ACCOUNT_ID)[ACCOUNT_ID].astype(str))
    ids = scored[ACCOUNT_ID].astype(str)
    out = pd.DataFrame({
        "risk_rank": scored["risk_rank"].to_numpy(),
        ACCOUNT_ID: ids.to_numpy(),
        "account": ids.map(acc[_NAME]).to_numpy(dtype=object) if _NAME in acc else None,
        "owner": ids.map(acc[_OWNER]).to_numpy(dtype=object) if _OWNER in acc else None,
        "plan": scored["plan"].to_numpy(dtype=object),
        "probability": scored["probability"].to_numpy(dtype=float),
        "arr_at_risk": 12.0 * scored["mrr"].to_numpy(dtype=float),
    })
    out["expected_arr_loss"] = out["probability"] * out["arr_at_risk"]
    if health is not None:
        h = health.drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)
        out["health"] = out[ACCOUNT_ID].map(h["health"]).to_numpy(dtype=float)
        out["health_band"] = out[ACCOUNT_ID].map(h["band"]).to_numpy(dtype=object)
    else:
        out["health"], out["health_band"] = np.nan, None
    out["top_reasons"] = scored["top_reasons"].to_numpy(dtype=object) if "top_reasons" in scored else ""
    out = out.sort_values("risk_rank", kind="stable").reset_index(drop=True)[RISK_LIST_COLUMNS]
    return out.head(top) if top is not None else out


def risk_headline(risk: pd.DataFrame, *, threshold: float = 0.2) -> dict[str, float]:
    """Headline numbers of a risk list: accounts, accounts at risk, their ARR, expected ARR loss.

    Returns
    -------
    dict with accounts, accounts_at_risk (probability >= threshold), arr (all accounts),
    arr_at_risk (ARR of the accounts at risk), expected_arr_loss (sum of probability x ARR),
    threshold.
    """
    if not 0 <= threshold <= 1:
        raise ParameterError(f"threshold is a probability in [0, 1]; got {threshold!r}")
    p = risk["probability"].to_numpy(dtype=float)
    arr = risk["arr_at_risk"].to_numpy(dtype=float)
    at = p >= threshold
    return {"accounts": int(len(risk)), "accounts_at_risk": int(at.sum()), "arr": float(np.nansum(arr)),
            "arr_at_risk": float(np.nansum(arr[at])), "expected_arr_loss": float(np.nansum(p * arr)),
            "threshold": float(threshold)}


def arr_at_risk_by_segment(risk: pd.DataFrame, *, by: str = "plan", personas: pd.DataFrame | None = None,
                           threshold: float = 0.2, total: bool = True) -> pd.DataFrame:
    """ARR at risk per segment (plan or persona).

    Parameters
    ----------
    risk : DataFrame
        :func:`risk_list` output (all accounts of the snapshot, not only the top).
    by : {"plan", "persona"}
    personas : DataFrame, optional
        ``account_id, persona`` for ``by="persona"`` (unlisted accounts are "(unassigned)");
        without it the result is empty.
    threshold : float
        An account is at risk when its churn probability is at least this.
    total : bool
        Append an "(all)" row.

    Returns
    -------
    DataFrame with columns segment, accounts, at_risk_accounts, arr, arr_at_risk (ARR of
    the accounts at risk), expected_arr_loss (sum of probability x ARR), share_at_risk
    (arr_at_risk / arr); largest ARR at risk first.
    """
    if by not in ("plan", "persona"):
        raise ParameterError(f"by must be 'plan' or 'persona'; got {by!r}{did_you_mean(str(by), ['plan', 'persona'])}")
    if not 0 <= threshold <= 1:
        raise ParameterError(f"threshold is a probability in [0, 1]; got {threshold!r}")
    if by == "persona":
        if personas is None:  # no persona assignment: nothing to split by
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _SEGMENT_COLUMNS.items()})
        seg = risk[ACCOUNT_ID].map(_personas(personas))
    else:
        seg = risk["plan"]
    seg = seg.astype(object).where(seg.notna(), "(unassigned)" if by == "persona" else "(none)")
    at = (risk["probability"].to_numpy(dtype=float) >= threshold)
    arr = risk["arr_at_risk"].to_numpy(dtype=float)
    frame = pd.DataFrame({"segment": seg.to_numpy(dtype=object), "accounts": 1, "at_risk_accounts": at.astype(int),
                          "arr": arr, "arr_at_risk": np.where(at, arr, 0.0),
                          "expected_arr_loss": np.nan_to_num(risk["expected_arr_loss"].to_numpy(dtype=float))})
    out = frame.groupby("segment", sort=True).sum(numeric_only=True).reset_index()
    out = out.sort_values(["arr_at_risk", "arr"], ascending=False, kind="stable").reset_index(drop=True)
    if total:
        tot = frame.drop(columns="segment").sum().to_dict()
        out = pd.concat([out, pd.DataFrame([{"segment": "(all)", **tot}])], ignore_index=True)
    out["share_at_risk"] = np.where(out["arr"] > 0, out["arr_at_risk"] / out["arr"].where(out["arr"] > 0, 1), np.nan)
    return out.astype({"accounts": "int64", "at_risk_accounts": "int64"})[list(_SEGMENT_COLUMNS)]


_SEGMENT_COLUMNS = {"segment": object, "accounts": "int64", "at_risk_accounts": "int64", "arr": float,
                    "arr_at_risk": float, "expected_arr_loss": float, "share_at_risk": float}
