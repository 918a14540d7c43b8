"""The tables behind the churn snapshots: sorted numpy arrays keyed by an integer account code, built once
for many snapshot days (:class:`_Prepared`), and the column names and features they read.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from ..data.timeparse import as_of_cutoff
from ..errors import JourneyDataError
from ..schema import ACCOUNT_ID, CHANNEL, CONTACT_ID, PARENT_ACCOUNT_ID, STAGE, TABLES, TIMESTAMP, TOUCHPOINT
from ..stages import Lifecycle
from ..data.contract import text_codes


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
SNAPSHOT = "snapshot"

_DAY = 86_400 * 10**9  # nanoseconds
_LO = np.iinfo(np.int64).min
_OPEN = np.iinfo(np.int64).max

def _cutoff(day: pd.Timestamp, tz: str) -> int:
    """First instant after the day ``day`` in ``tz`` (UTC nanoseconds): :func:`as_of_cutoff` + 1 ns.

    Snapshot arithmetic counts days from this exclusive bound (rows before it are in).
    """
    return int(as_of_cutoff(day, tz).value) + 1


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


def _time_order(ts: np.ndarray) -> "slice | np.ndarray":
    """``np.argsort(ts, kind="stable")``, or every row in place (a slice: no copy) when ``ts`` is sorted already,
    as the contract's touchpoints are."""
    return slice(None) if bool((ts[1:] >= ts[:-1]).all()) else np.argsort(ts, kind="stable")


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

        # each table in its own method: its temporary arrays are freed before the next table's
        self._subscriptions(tables, cut, n)
        self._usage_table(tables, cut, n)
        self._tickets_table(tables, cut, n)
        self._surveys_table(tables, cut, n)
        self._touchpoints(tables, cut, n, lifecycle)
        self._opportunities(tables, cut, n)

    def _code(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row, its account's position in :attr:`index` (-1: unknown)."""
        codes, texts = text_codes(frame[ACCOUNT_ID])  # each distinct id turned into text once
        return self.index.get_indexer(texts)[codes]

    def _subscriptions(self, tables: dict, cut: int, n: int) -> None:
        """Subscriptions, by (account, start)."""
        sub = tables["subscriptions"]
        c, st, en = self._code(sub), _ns(sub, _S_START, "subscriptions", _OPEN), _ns(sub, _S_END, "subscriptions", _OPEN)
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

    def _usage_table(self, tables: dict, cut: int, n: int) -> None:
        """Usage, by (account, date)."""
        use = tables.get("usage")
        if use is not None:
            c, d = self._code(use), _ns(use, _U_DATE, "usage", _OPEN)
            keep = (c >= 0) & (d < cut)
            o = np.lexsort((d[keep], c[keep]))
            self.u_code, self.u_date = c[keep][o], d[keep][o]
            self.u_seats = _num(use, _U_SEATS)[keep][o]
            self.u_active = np.nan_to_num(_num(use, _U_ACTIVE)[keep][o])
            rows = np.flatnonzero(keep)[o]
            feats = use[_U_FEATURE].iloc[rows] if _U_FEATURE in use else pd.Series([None] * len(rows), dtype=object)
            self.u_feat, uniq = pd.factorize(feats)  # the column's own values: no Python string per row
            self.u_nfeat = max(len(uniq), 1)
            self.u_has_feature = _U_FEATURE in use and len(uniq) > 0
            self.u_seg = np.searchsorted(self.u_code, np.arange(n))
            self.u_cum = np.concatenate([[0.0], np.cumsum(self.u_active)])

    def _tickets_table(self, tables: dict, cut: int, n: int) -> None:
        """Tickets."""
        tk = tables.get("tickets")
        if tk is not None:
            c, op, rs = self._code(tk), _ns(tk, _T_OPENED, "tickets", _OPEN), _ns(tk, _T_RESOLVED, "tickets", _OPEN)
            keep = (c >= 0) & (op < cut)
            self.t_code, self.t_open = c[keep], op[keep]
            self.t_resolved = np.where(rs[keep] >= cut, _OPEN, rs[keep])
            prio = pd.Series(_text(tk, _T_PRIORITY)[keep]).astype(str).str.strip().str.lower()
            self.t_high = prio.isin(HIGH_PRIORITIES).to_numpy()
            self.t_csat = _num(tk, _T_CSAT)[keep]

    def _surveys_table(self, tables: dict, cut: int, n: int) -> None:
        """Surveys, one sorted block per kind."""
        sv = tables.get("surveys")
        self.v = {}
        if sv is not None:
            c, d = self._code(sv), _ns(sv, _V_DATE, "surveys", _OPEN)
            kind = pd.Series(_text(sv, _V_KIND)).astype(str).str.strip().str.lower().to_numpy()
            score = _num(sv, _V_SCORE)
            for k in ("nps", "csat", "ces"):
                keep = (c >= 0) & (d < cut) & (kind == k) & np.isfinite(score)
                o = np.lexsort((d[keep], c[keep]))
                vc = c[keep][o]
                self.v[k] = (vc, d[keep][o], score[keep][o], np.searchsorted(vc, np.arange(n)))

    def _touchpoints(self, tables: dict, cut: int, n: int, lifecycle: Lifecycle) -> None:
        """Touchpoints (all, by time) and those of known contacts with their role and department."""
        tp = tables.get("touchpoints")
        if tp is not None:
            c, ts = self._code(tp), _ns(tp, TIMESTAMP, "touchpoints", _OPEN)
            keep = (c >= 0) & (ts < cut)
            o = _time_order(ts[keep])
            self.p_code, self.p_ts = c[keep][o], ts[keep][o]
            self._presale(tp, c, ts, keep, lifecycle)
            ct = tables.get("contacts")
            if ct is not None and CONTACT_ID in tp:
                cidx = pd.Index(ct[CONTACT_ID].astype(str)).drop_duplicates()
                ct = ct.drop_duplicates(CONTACT_ID, keep="first")
                role = _role(_text(ct, _C_ROLE))
                dept, _ = pd.factorize(pd.Series(_text(ct, _C_DEPT)))
                codes, texts = text_codes(tp[CONTACT_ID])
                k = cidx.get_indexer(texts)[codes]
                del codes
                k[tp[CONTACT_ID].isna().to_numpy()] = -1  # an anonymous touch is no contact's
                keep2 = keep & (k >= 0)
                o = _time_order(ts[keep2])
                kk = k[keep2][o]
                del k
                self.q_code, self.q_ts, self.q_contact = c[keep2][o], ts[keep2][o], kk
                self.q_exec = np.isin(role, EXEC_ROLES)[kk]
                self.q_champ = np.isin(role, CHAMPION_ROLES)[kk]
                self.q_dept = dept[kk]
                self.q_ndept = max(int(dept.max()) + 1 if len(dept) else 1, 1)
                self.q_ncontact = max(len(cidx), 1)
                # champions' touches alone, and each (account, department)'s first touch: the rows are in time
                # order, so the first before a snapshot is the first of all when that one is before it
                self.q_champ_code, self.q_champ_ts = self.q_code[self.q_champ], self.q_ts[self.q_champ]
                d = self.q_dept >= 0
                key = self.q_code[d].astype(np.int64) * self.q_ndept + self.q_dept[d]
                # np.unique(key, return_index=True), hashing instead of sorting every touch (0.23 GB at 100k)
                first = np.flatnonzero(~pd.Index(key).duplicated(keep="first"))
                first = first[np.argsort(key[first], kind="stable")]
                self.q_dept_account, self.q_dept_first = key[first] // self.q_ndept, self.q_ts[d][first]

    def _opportunities(self, tables: dict, cut: int, n: int) -> None:
        """Expansion opportunities."""
        op = tables.get("opportunities")
        if op is not None:
            c = self._code(op)
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
        if STAGE in tp and isinstance(tp[STAGE].dtype, pd.CategoricalDtype):
            stage = tp[STAGE][pre].astype(object)  # only the column read (the rows of every column: 0.4 GB at 100k)
        else:
            rows = tp[pre]
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
        # rows before c, and from 180 and 90 days before it (sorted by time)
        lo180, lo90, k = np.searchsorted(self.q_ts, [c - 180 * _DAY, c - 90 * _DAY, c], side="left")
        window = slice(lo180, k)
        out["exec_engaged_180d"] = (np.bincount(self.q_code[window][self.q_exec[window]], minlength=n) > 0) \
            .astype(float)
        kc = int(np.searchsorted(self.q_champ_ts, c, side="left"))
        last = np.full(n, _LO, dtype=np.int64)
        np.maximum.at(last, self.q_champ_code[:kc], self.q_champ_ts[:kc])
        quiet = np.where(last > _LO, (c - last) / _DAY, np.nan)
        out["champion_quiet_days"] = quiet
        out["champion_quiet_60d"] = np.where(np.isfinite(quiet), quiet > 60, False).astype(float)
        pairs = np.unique(self.q_code[lo90:k].astype(np.int64) * self.q_ncontact + self.q_contact[lo90:k])
        out["contacts_engaged_90d"] = np.bincount(pairs // self.q_ncontact, minlength=n).astype(float)
        seen = self.q_dept_first < c  # (account, department) pairs first touched before c
        t_first, acc_of = self.q_dept_first[seen], self.q_dept_account[seen]
        new = (t_first >= c - 90 * _DAY) & (t_first >= self.first_start[acc_of] + 90 * _DAY)
        out["new_departments_90d"] = np.bincount(acc_of[new], minlength=n).astype(float)
        return out
