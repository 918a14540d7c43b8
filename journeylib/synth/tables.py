"""Step 8: the contract tables and the planted truth from the simulated arrays.

Part of :mod:`journeylib.synth`; import the public names from there.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..schema import (ACCOUNT_ID, CHANNEL, CONTACT_ID, EVENT_ID, LEAD_ID, OPPORTUNITY_ID, OUTCOME, PARENT_ACCOUNT_ID,
                      STAGE, TABLES, TICKET_ID, TIMESTAMP, TOUCHPOINT)

from .common import _Ctx, _Events, _NS, _bh, _choice, _deal_cycle_truth, _ttv_median
from .customers import _assign_contacts
from .params import (CHANNELS, CHANNEL_EFFECTS, CHURN_BASELINE, CHURN_COEFFICIENTS, ENT, LTW, PERSONAS, PLANS,
                     SCENARIOS, STD, TIME_TO_VALUE, XSELLP, XSS_ACCOUNT_NAME, _CONTACT_ROLES, _COUNTRIES, _DAY_S,
                     _DEPARTMENTS, _DRIVER_DEFINITIONS, _FEATURES, _FIRST, _INDUSTRIES, _LAST, _LEAD_SOURCE,
                     _NAME_CORE, _NAME_PREFIX, _NAME_VARIANT, _O, _OUTCOMES, _OUTCOME_KINDS, _PRIORITIES, _REGIONS,
                     _SENIORITY, _TOUCHPOINTS, _TP_CHANNEL, _TP_NAMES, _TP_ROLE, _UNITS, _VALUE_SHARE)

# =========================================================================== step 8: tables
def _ids(prefix: str, count: int, width: int) -> np.ndarray:
    width = max(width, len(str(count)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def _ts(ctx: _Ctx, days: np.ndarray) -> pd.Series:
    """Days since the start -> tz-aware UTC timestamps (whole seconds); NaN -> NaT."""
    days = np.asarray(days, dtype=float)
    sec = np.round(days * _DAY_S)
    ok = np.isfinite(sec)
    base = ctx.start.to_datetime64().astype("datetime64[s]")
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    out[ok] = base + sec[ok].astype(np.int64).astype("timedelta64[s]")
    return pd.Series(out.astype("datetime64[ns]")).dt.tz_localize("UTC")


def _obj(values) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _lookup(names, codes: np.ndarray) -> np.ndarray:
    """Codes -> object array of names; negative codes -> None."""
    table = np.array(list(names) + [None], dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    return table[np.where(codes >= 0, codes, len(names))]


def _company_names(rng, n: int) -> tuple[list[str], list[str]]:
    P, Cn = len(_NAME_PREFIX), len(_NAME_CORE)
    total = P * Cn * len(_NAME_VARIANT)
    perm = rng.permutation(total)
    names, slugs = [], []
    for i in range(n):
        c = int(perm[i % total])
        rep = i // total
        v, rest = divmod(c, P * Cn)
        pi, ci = divmod(rest, Cn)
        base = f"{_NAME_PREFIX[pi]} {_NAME_CORE[ci]}{_NAME_VARIANT[v]}" + (f" {rep + 1}" if rep else "")
        names.append(base)
        slugs.append(re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-"))
    return names, slugs


def _index(ctx: _Ctx, A: _NS, C: _NS, R: _NS) -> _NS:
    """Account order and ids (by creation time) shared by every table."""
    K = _NS()
    K.H = ctx.H
    K.hour = A.hour0
    K.tc_acc = np.full(A.n, np.inf)
    K.tc_acc[C.acc] = R.tc
    K.created = _bh(A.t0, A.hour0)
    K.order = np.lexsort((np.arange(A.n), K.created))
    K.rank = np.empty(A.n, dtype=np.int64)
    K.rank[K.order] = np.arange(A.n)
    K.acc_id = _ids("A", A.n, 5)[K.rank]
    return K


def _accounts_table(ctx: _Ctx, A: _NS, C: _NS, K: _NS) -> pd.DataFrame:
    n, H = A.n, K.H
    names, slugs = _company_names(ctx.rng["accounts"], n)
    slugs = np.array(slugs, dtype=object)
    legal = [_COUNTRIES[r][c][2] for r, c in zip(A.region, A.country)]
    country = np.array([_COUNTRIES[r][c][0] for r, c in zip(A.region, A.country)], dtype=object)
    full_names = np.array([f"{a} {b}" for a, b in zip(names, legal)], dtype=object)
    # the XSS probe: first standard non-parent account at or after position 42 (in id order)
    is_parent = np.zeros(n, dtype=bool)
    is_parent[A.parent[A.parent >= 0]] = True
    cand = [i for i in K.order[min(41, n - 1):] if A.scen[i] == STD and not is_parent[i]]
    if not cand:
        cand = [i for i in K.order[::-1] if not is_parent[i]]
    xss = cand[0]
    full_names[xss] = XSS_ACCOUNT_NAME
    slugs[xss] = re.sub(r"[^a-z0-9]+", "-", XSS_ACCOUNT_NAME.lower()).strip("-")
    for k in np.flatnonzero(A.parent >= 0):  # business units: "<company> (<unit>)", the company's domain
        full_names[k] = f"{full_names[A.parent[k]]} ({_UNITS[A.unit[k]]})"
        slugs[k] = slugs[A.parent[k]]
    K.slugs = slugs
    # current plan: the latest subscription's; a prospect's quoted plan; else empty
    plan_now = np.where(A.has_opp & (A.opp < H), A.plan0, -1)
    upgraded = C.exp_won & (C.exp_day < H) & (C.exp_day + 0.5 < K.tc_acc[C.acc])
    plan_now[C.acc] = np.where(upgraded, C.plan1, C.plan0)
    suffix = np.where(A.region == 0, np.where(A.owner_east, "East", "West"),
                      np.array(["", "EMEA", "APAC", "LATAM"], dtype=object)[A.region])
    team = np.array(["Enterprise Team", "AE Team", "SMB Pod"], dtype=object)[A.owner_team]
    owner = np.array([f"{a} {b}" for a, b in zip(team, suffix)], dtype=object)
    parent_id = np.where(A.parent >= 0, K.acc_id[np.maximum(A.parent, 0)], None)
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id, "name": full_names, "industry": np.array(_INDUSTRIES, dtype=object)[A.industry],
        "employees": A.employees.astype(np.int64), "region": np.array(_REGIONS, dtype=object)[A.region],
        "country": country, "plan": _lookup(PLANS, plan_now), "created_at": _ts(ctx, K.created),
        PARENT_ACCOUNT_ID: _obj(parent_id), "owner": owner,
    }).iloc[K.order].reset_index(drop=True)


def _contacts_table(ctx: _Ctx, A: _NS, K: _NS) -> pd.DataFrame:
    rc = ctx.rng["contacts"]
    nc_total = int(A.ncon.sum())
    cacc = np.repeat(np.arange(A.n), A.ncon)
    slot = np.arange(nc_total) - A.coff[cacc]
    ncon = A.ncon[cacc]
    role = np.where(slot == 0, 0, np.where(slot == 1, 1, np.where(slot == 2, 2, 4)))
    role = np.where((slot == 3) & (A.persona[cacc] == ENT), 3, role)
    role = np.where((slot == 4) & (A.persona[cacc] == ENT), 2, role)
    role = np.where(ncon == 1, 1, role)
    sen_p = np.array([
        (0.0, 0.1, 0.5, 0.4, 0.0),  # champion
        (0.5, 0.5, 0.0, 0.0, 0.0),  # economic buyer
        (0.0, 0.0, 0.1, 0.4, 0.5),  # technical evaluator
        (0.0, 0.0, 0.4, 0.6, 0.0),  # procurement
        (0.0, 0.0, 0.0, 0.2, 0.8),  # end user
    ])
    seniority = _choice(rc, sen_p[role])
    seniority = np.where((ncon == 1), 0, seniority)
    dep_p = np.zeros((5, len(_DEPARTMENTS)))
    dep_p[0, [2, 3, 4, 5, 1]] = (0.3, 0.2, 0.2, 0.2, 0.1)
    dep_p[1, [0, 1, 2]] = (0.5, 0.3, 0.2)
    dep_p[2, [6, 7, 8]] = (0.45, 0.35, 0.2)
    dep_p[3, 10] = 1.0
    dep_p[4, [2, 4, 3, 9, 1, 5]] = (0.3, 0.2, 0.15, 0.15, 0.1, 0.1)
    dept = _choice(rc, dep_p[role])
    first = rc.integers(0, len(_FIRST), nc_total)
    last = rc.integers(0, len(_LAST), nc_total)
    cnames, emails = [], []
    seen: dict[tuple[int, str], int] = {}
    for i in range(nc_total):
        fn, ln = _FIRST[first[i]], _LAST[last[i]]
        local = f"{fn.lower()}.{ln.lower()}"
        key = (int(cacc[i]), local)
        k = seen.get(key, 0)
        seen[key] = k + 1
        cnames.append(f"{fn} {ln}")
        emails.append(f"{local}{k + 1 if k else ''}@{K.slugs[cacc[i]]}.example")
    corder = np.lexsort((slot, K.rank[cacc]))
    crank = np.empty(nc_total, dtype=np.int64)
    crank[corder] = np.arange(nc_total)
    K.con_id = _ids("C", nc_total, 6)[crank]  # by internal contact index
    return pd.DataFrame({
        CONTACT_ID: K.con_id, ACCOUNT_ID: K.acc_id[cacc], "role": np.array(_CONTACT_ROLES, dtype=object)[role],
        "seniority": np.array(_SENIORITY, dtype=object)[seniority],
        "department": np.array(_DEPARTMENTS, dtype=object)[dept], "name": _obj(cnames), "email": _obj(emails),
    }).iloc[corder].reset_index(drop=True)


def _opportunities_table(ctx: _Ctx, A: _NS, C: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    """New-business, renewal and expansion opportunities; sets ``K.new_opp`` for the leads."""
    H, hour = K.H, K.hour
    rows: list[dict[str, np.ndarray]] = []

    def add(acc, created_raw, closed_raw, status, amount, typ):
        closed_t = np.where(np.isfinite(closed_raw),
                            _bh(np.nan_to_num(closed_raw, nan=0.0, posinf=0.0), hour[acc]), np.nan)
        rows.append({"acc": acc, "created": _bh(created_raw, hour[acc]), "closed": closed_t, "status": status,
                     "amount": amount, "type": np.full(acc.size, typ, dtype=np.int64)})

    # new business (status 0 won, 1 lost, 2 open): the first deal, and the second of lost-then-won
    o = np.flatnonzero(A.has_opp)
    add(o, A.opp[o], A.close[o], np.where(A.won1[o], 0, 1), 12 * A.mrr0[o], 0)
    ltw = np.flatnonzero(A.scen == LTW)
    add(ltw, A.opp2[ltw], A.close2[ltw], np.zeros(ltw.size, dtype=np.int64), 12 * A.mrr0[ltw], 0)
    # renewals: open 75 days before each anniversary, won at it, lost at the churn time
    nr = np.maximum(np.floor((H + 80 - C.d0) / 365.0).astype(np.int64), 0)
    r = np.repeat(np.arange(C.n), nr)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nr) - nr, nr) + 1
    ann = C.d0[r] + 365.0 * kk
    created_raw = ann - 75
    tcr = R.tc[r]
    keep = _bh(created_raw, hour[C.acc[r]]) < tcr
    renewed = _bh(ann + 0.5, hour[C.acc[r]]) < tcr
    mrr_now = np.where(C.exp_won[r] & (C.exp_day[r] <= ann), C.mrr1[r], C.mrr0[r])
    closed_raw = np.where(renewed, ann + 0.5, np.nan)
    add(C.acc[r[keep]], created_raw[keep], closed_raw[keep], np.where(renewed, 0, 1)[keep], 12 * mrr_now[keep], 1)
    rows[-1]["closed"] = np.where(renewed[keep], rows[-1]["closed"], tcr[keep])
    # expansions: lost at the churn time when the customer churns before the close
    x = np.flatnonzero(C.has_exp)
    x = x[_bh(C.exp_created[x], hour[C.acc[x]]) < R.tc[x]]
    alive = _bh(C.exp_day[x] + 0.5, hour[C.acc[x]]) < R.tc[x]
    add(C.acc[x], C.exp_created[x], C.exp_day[x] + 0.5, np.where(alive & C.exp_won[x], 0, 1),
        12 * np.maximum(C.mrr1[x] - C.mrr0[x], 0), 2)
    rows[-1]["closed"] = np.where(alive, rows[-1]["closed"], R.tc[x])
    # combine; cut at end_date (a close after it is not known yet: open)
    O = {k: np.concatenate([row[k] for row in rows]) for k in rows[0]}
    inw = O["created"] < H
    O = {k: v[inw] for k, v in O.items()}
    open_ = ~(O["closed"] < H)
    O["status"] = np.where(open_, 2, O["status"])
    O["closed"] = np.where(open_, np.nan, O["closed"])
    oorder = np.lexsort((O["type"], K.rank[O["acc"]], np.round(O["created"] * _DAY_S)))
    O = {k: v[oorder] for k, v in O.items()}
    opp_id = _ids("O", O["acc"].size, 6)
    # ids of each account's new-business deals in order (for the leads)
    K.new_opp = {}
    newm = O["type"] == 0
    for a, oid in zip(O["acc"][newm], opp_id[newm]):
        K.new_opp.setdefault(int(a), []).append(oid)
    return pd.DataFrame({
        OPPORTUNITY_ID: opp_id, ACCOUNT_ID: K.acc_id[O["acc"]], "created_at": _ts(ctx, O["created"]),
        "closed_at": _ts(ctx, O["closed"]), "status": np.array(["won", "lost", "open"], dtype=object)[O["status"]],
        "amount": np.round(O["amount"].astype(float), 2),
        "type": np.array(["new", "renewal", "expansion"], dtype=object)[O["type"]],
    })


_LEAD_SOURCES = ("paid_search", "paid_social", "display", "organic_search", "organic_social", "review_site",
                 "event", "word_of_mouth", "referral", "email", "webinar", "content")


def _leads_table(ctx: _Ctx, A: _NS, K: _NS) -> pd.DataFrame:
    """The champion's lead per journey (MQL at the request, SQL at the opportunity) and other members' leads."""
    rl = ctx.rng["leads"]
    n, H, hour = A.n, K.H, K.hour
    src_of_tp = {k: _LEAD_SOURCES.index(v) for k, v in _LEAD_SOURCE.items()}
    idx = np.arange(n)
    ltw = np.flatnonzero(A.scen == LTW)
    mql = np.where(A.has_opp, A.req, A.stall_req)
    parts = [  # account, contact slot, created, mql, sql, which new deal (1st/2nd, 0 none), source
        (idx, np.zeros(n, dtype=np.int64), A.t0, mql, np.where(A.has_opp, A.opp, np.nan),
         np.where(A.has_opp, 1, 0), np.array([src_of_tp.get(_TP_NAMES[t], 5) for t in A.first_touch])),
        (ltw, np.zeros(ltw.size, dtype=np.int64), A.re_start[ltw] + 0.2, A.req2[ltw], A.opp2[ltw],
         np.full(ltw.size, 2), np.full(ltw.size, _LEAD_SOURCES.index("email"))),
    ]
    extra = np.minimum(rl.poisson(np.array([2.0, 1.2, 0.1, 0.5, 0.3])[A.persona]), A.ncon - 1)
    extra[A.kind == XSELLP] = 0
    r = np.repeat(idx, extra)
    kk = np.arange(r.size) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    ct = A.t0[r] + (A.end[r] - A.t0[r]) * (0.05 + 0.55 * rl.random(r.size))
    extra_mql = np.where(rl.random(r.size) < 0.35, ct + 1 + 19 * rl.random(r.size), np.nan)
    extra_src = rl.choice([_LEAD_SOURCES.index(s) for s in ("webinar", "content", "event", "paid_social",
                                                           "organic_search")], size=r.size)
    parts.append((r, kk, ct, extra_mql, np.full(r.size, np.nan), np.zeros(r.size, dtype=np.int64), extra_src))
    la, lslot, lcreated, lmql, lsql, ldeal, lsrc = (np.concatenate(col) for col in zip(*parts))
    lcreated = _bh(lcreated, hour[la])

    def cut(raw):
        t = np.where(np.isfinite(raw), _bh(np.nan_to_num(raw), hour[la]), np.nan)
        return np.where(t < H, t, np.nan)

    lmql, lsql = cut(lmql), cut(lsql)
    lopp = np.array([K.new_opp.get(int(a), [None, None])[k - 1] if (k and np.isfinite(s)) else None
                     for a, k, s in zip(la, ldeal, lsql)], dtype=object)
    lorder = np.lexsort((lslot, K.rank[la], np.round(lcreated * _DAY_S)))
    lorder = lorder[lcreated[lorder] < H]
    return pd.DataFrame({
        LEAD_ID: _ids("L", lorder.size, 6), "created_at": _ts(ctx, lcreated[lorder]),
        CONTACT_ID: K.con_id[A.coff[la] + lslot][lorder], ACCOUNT_ID: K.acc_id[la[lorder]],
        "mql_at": _ts(ctx, lmql[lorder]), "sql_at": _ts(ctx, lsql[lorder]), OPPORTUNITY_ID: lopp[lorder],
        "source": np.array(_LEAD_SOURCES, dtype=object)[lsrc[lorder]],
    })


def _touchpoints_table(ctx: _Ctx, E: dict[str, np.ndarray], K: _NS) -> pd.DataFrame:
    keep = (E["ts"] < K.H) & (E["ts"] < K.tc_acc[E["acc"]])
    ea, ets, etp = E["acc"][keep], E["ts"][keep], E["tp"][keep]
    eorder = np.lexsort((etp, K.rank[ea], np.round(ets * _DAY_S)))
    ea, ets, etp = ea[eorder], ets[eorder], etp[eorder]
    econ = E["contact"][keep][eorder]
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[ea], TIMESTAMP: _ts(ctx, ets), TOUCHPOINT: np.array(_TP_NAMES, dtype=object)[etp],
        EVENT_ID: _ids("E", ea.size, 7),
        CONTACT_ID: np.where(econ >= 0, K.con_id[np.maximum(econ, 0)], None),
        CHANNEL: np.array(CHANNELS, dtype=object)[_TP_CHANNEL[etp]],
        "campaign": E["campaign"][keep][eorder],
        STAGE: _lookup(("adoption",), E["stage"][keep][eorder]),
        OUTCOME: np.array(_OUTCOMES, dtype=object)[E["outcome"][keep][eorder]],
        "cost": E["cost"][keep][eorder],
    })


def _subscriptions_table(ctx: _Ctx, C: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    """One row per subscription; an expansion ends the old row the day before the new one starts."""
    H = K.H
    tcd = np.floor(R.tc)  # churn date (days)
    has_row1 = C.exp_won & (C.exp_day < H) & (_bh(C.exp_day + 0.5, K.hour[C.acc]) < R.tc)
    end0 = np.where(has_row1, C.exp_day - 1, np.where(tcd < H, tcd, np.nan))
    end1 = np.where(tcd < H, tcd, np.nan)
    r1 = np.flatnonzero(has_row1)
    s_acc = np.concatenate([C.acc, C.acc[r1]])
    s_start = np.concatenate([C.d0, C.exp_day[r1]])
    s_end = np.concatenate([end0, end1[r1]])
    s_mrr = np.concatenate([C.mrr0, C.mrr1[r1]])
    s_plan = np.concatenate([C.plan0, C.plan1[r1]])
    s_seats = np.concatenate([C.seats0, C.seats1[r1]])
    o = np.lexsort((s_start, K.rank[s_acc]))
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[s_acc[o]], "start_date": _ts(ctx, s_start[o]), "end_date": _ts(ctx, s_end[o]),
        "mrr": s_mrr[o].astype(float), "plan": np.array(PLANS, dtype=object)[s_plan[o]],
        "seats_purchased": s_seats[o].astype(np.int64),
    })


def _usage_table(ctx: _Ctx, C: _NS, U: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    """Weekly rows from the week of the subscription start up to the churn date or end_date."""
    last_day = np.minimum(np.where(np.isfinite(R.tc), np.floor(R.tc), np.inf), K.H - 1)
    uc, uw = np.nonzero(U.valid & (U.ws[None, :] <= last_day[:, None]))
    o = np.lexsort((uw, K.rank[C.acc[uc]]))
    uc, uw = uc[o], uw[o]
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[C.acc[uc]], "date": _ts(ctx, U.ws[uw]), "active_users": U.au[uc, uw].astype(np.int64),
        "seats_used": U.su[uc, uw].astype(np.int64), "feature": np.array(_FEATURES, dtype=object)[U.feature[uc, uw]],
        "events": U.events[uc, uw].astype(np.int64),
    })


def _tickets_table(ctx: _Ctx, T: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    H = K.H
    o = np.flatnonzero((T.opened < H) & (T.opened < R.tc[T.c]))
    o = o[np.lexsort((K.rank[T.acc[o]], np.round(T.opened[o] * _DAY_S)))]
    resolved = np.where(T.resolved[o] < H, T.resolved[o], np.nan)
    return pd.DataFrame({
        TICKET_ID: _ids("K", o.size, 6), ACCOUNT_ID: K.acc_id[T.acc[o]], "opened_at": _ts(ctx, T.opened[o]),
        "resolved_at": _ts(ctx, resolved), "first_response_minutes": T.frt[o].astype(float),
        "priority": np.array(_PRIORITIES, dtype=object)[T.prio[o]],
        "csat": np.where(np.isfinite(resolved), T.csat[o], np.nan).astype(float),
    })


def _surveys_table(ctx: _Ctx, S: _NS, R: _NS, K: _NS) -> pd.DataFrame:
    con = S.contact_final
    o = np.flatnonzero((S.date < K.H) & (S.date < R.tc[S.c]))
    o = o[np.lexsort((S.kind[o], con[o], K.rank[S.acc[o]], S.date[o]))]
    return pd.DataFrame({
        ACCOUNT_ID: K.acc_id[S.acc[o]], "date": _ts(ctx, S.date[o]),
        "kind": np.array(["nps", "csat", "ces"], dtype=object)[S.kind[o]], "score": S.score[o].astype(np.int64),
        CONTACT_ID: np.where(con[o] >= 0, K.con_id[np.maximum(con[o], 0)], None),
    })


def _truth(A: _NS, C: _NS, R: _NS, K: _NS) -> dict[str, Any]:
    order, acc_id = K.order, K.acc_id
    personas = pd.DataFrame({ACCOUNT_ID: acc_id[order], "persona": np.array(PERSONAS, dtype=object)[A.persona[order]]})
    scenarios = pd.DataFrame({ACCOUNT_ID: acc_id[order],
                              "scenario": np.array(SCENARIOS, dtype=object)[A.scen[order]]})
    o = np.lexsort((K.rank[C.acc[R.snap_c]], R.snap_b))
    ch = R.churned[o]
    churn = pd.DataFrame({
        "snapshot_date": pd.Series(np.asarray(R.snap_date[o], dtype="datetime64[ns]")).dt.tz_localize("UTC"),
        ACCOUNT_ID: acc_id[C.acc[R.snap_c[o]]],
        "p_churn_90d": np.round(R.p[o], 6),
        "churned_90d": pd.arrays.IntegerArray(np.maximum(ch, 0).astype(np.int64), ch < 0),
    })
    ttv = {}
    for plan in PLANS:
        spec = TIME_TO_VALUE[plan]
        ttv[plan] = {
            "distribution": spec["distribution"], "scipy": spec["scipy"], "params": dict(spec["params"]),
            "median_days": _ttv_median(plan),
            "event": f"first usage week with active_users >= ceil({_VALUE_SHARE} * seats_purchased); the planted "
                     "time T (days after start_date) lies in [week date - start_date, week date + 7 - start_date)",
        }
    drivers = {
        "model": "monthly hazard exp(baseline + sum(coefficient * driver)) on each month piece after a "
                 "month-end snapshot, per day / 30.4375; churn time solves cumulative hazard = Exp(1); "
                 "p_churn_90d = 1 - exp(-(Lambda(s + 90) - Lambda(s)))",
        "baseline": CHURN_BASELINE,
        "drivers": {k: {"coefficient": v, "definition": _DRIVER_DEFINITIONS[k]}
                    for k, v in CHURN_COEFFICIENTS.items()},
        "scenario_overrides": {
            "churned_after_one_year": "churn time uniform on [start_date + 300, start_date + 365] days",
            "cross_sell_upsell_referral": "never churn (p_churn_90d = 0)",
        },
    }
    return {"personas": personas, "time_to_value": ttv, "churn": churn, "churn_drivers": drivers,
            "channel_effects": dict(CHANNEL_EFFECTS), "scenarios": scenarios, "deal_cycles": {
                "personas": _deal_cycle_truth(),
                "definition": "standard accounts' first new-business deal: a lognormal buying cycle (median, sigma) "
                              "from the first touch to the close, at least 4 days; the request at 38-46% of it, the "
                              "opportunity 1-6 days later (smb_self_serve: within 0.2 days), at most half a day "
                              "(smb: 0.2) before the close; means by quadrature of that schedule"}}


def _build(ctx: _Ctx, A: _NS, C: _NS, U: _NS, T: _NS, S: _NS, E: dict[str, np.ndarray],
           R: _NS) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Assemble the contract tables (cut at end_date, ids in time order) and the truth."""
    K = _index(ctx, A, C, R)
    accounts = _accounts_table(ctx, A, C, K)
    contacts = _contacts_table(ctx, A, K)
    opportunities = _opportunities_table(ctx, A, C, R, K)
    tables = {
        "accounts": accounts, "touchpoints": _touchpoints_table(ctx, E, K), "contacts": contacts,
        "leads": _leads_table(ctx, A, K), "opportunities": opportunities,
        "subscriptions": _subscriptions_table(ctx, C, R, K), "usage": _usage_table(ctx, C, U, R, K),
        "tickets": _tickets_table(ctx, T, R, K), "surveys": _surveys_table(ctx, S, R, K),
    }
    tables = {name: df[TABLES[name].names] for name, df in tables.items()}
    return tables, _truth(A, C, R, K)


def _finish_events(ctx: _Ctx, A: _NS, ev: _Events, S: _NS) -> dict[str, np.ndarray]:
    """Business-hour timestamps, outcomes, contacts, campaigns and costs of all touchpoints."""
    rng = ctx.rng["outcomes"]
    E = ev.arrays()
    acc, tp = E["acc"], E["tp"]
    E["ts"] = _bh(E["t"], A.hour0[acc])
    # outcomes
    out = E["outcome"]
    kind_names = list(_OUTCOME_KINDS)
    tp_kind = np.array([kind_names.index(t[3]) for t in _TOUCHPOINTS])
    need = out < 0
    u = rng.random(acc.size)
    ek = tp_kind[tp]
    for k, name in enumerate(kind_names):
        m = need & (ek == k)
        cum = 0.0  # the last outcome of a kind takes the remaining probability
        choice = np.full(int(m.sum()), _O[_OUTCOME_KINDS[name][-1][0]], dtype=np.int64)
        um = u[m]
        for outcome, prob in _OUTCOME_KINDS[name][:-1]:
            sel = (um >= cum) & (um < cum + prob)
            choice[sel] = _O[outcome]
            cum += prob
        out[m] = choice
    E["outcome"] = out
    # contacts
    post = (A.cust_index[acc] >= 0) & (E["ts"] >= A.d0[acc])
    auto = E["contact"] == -2
    E["contact"][auto] = _assign_contacts(rng, A, acc[auto], _TP_ROLE[tp[auto]], post[auto])
    S.contact_final = S.contact.copy()
    m = S.contact_final == -2
    S.contact_final[m] = _assign_contacts(rng, A, S.acc[m], np.full(int(m.sum()), 5), np.ones(int(m.sum()), bool))
    S.contact_final[S.event >= 0] = E["contact"][S.event[S.event >= 0]]
    # campaigns: "<year>Q<q>_<channel>_<theme>" for marketing touchpoints, launch campaigns when planted
    n_themes = np.array([len(t[5]) for t in _TOUCHPOINTS])
    camp = E["camp"]
    auto = (camp == -1) & (n_themes[tp] > 0)
    day = np.floor(E["ts"]).astype(np.int64)
    dates = ctx.start.to_datetime64().astype("datetime64[D]") + day.astype("timedelta64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    quarter = (dates.astype("datetime64[M]").astype(np.int64) % 12) // 3  # 0..3
    theme = np.minimum(np.floor(rng.random(acc.size) * np.maximum(n_themes[tp], 1)).astype(np.int64),
                       np.maximum(n_themes[tp] - 1, 0))
    code = ((year * 4 + quarter) * len(_TOUCHPOINTS) + tp) * 8 + theme
    names = np.full(acc.size, None, dtype=object)
    uc, inv = np.unique(code[auto], return_inverse=True)
    labels = []
    for c in uc:
        th = int(c % 8)
        t_ = int((c // 8) % len(_TOUCHPOINTS))
        yq = int(c // 8 // len(_TOUCHPOINTS))
        y, q = divmod(yq, 4)
        labels.append(f"{y}Q{q + 1}_{_TOUCHPOINTS[t_][1]}_{_TOUCHPOINTS[t_][5][th]}")
    names[auto] = np.array(labels, dtype=object)[inv] if labels else names[auto]
    planted = camp >= 0
    names[planted] = np.array(ctx.launch_names, dtype=object)[camp[planted]] if ctx.launch_names else None
    E["campaign"] = names
    # costs of paid touchpoints
    med = np.array([t[4][0] if t[4] else np.nan for t in _TOUCHPOINTS])
    sig = np.array([t[4][1] if t[4] else 0.0 for t in _TOUCHPOINTS])
    cost = np.round(med[tp] * np.exp(sig[tp] * rng.standard_normal(acc.size)), 2)
    E["cost"] = cost
    return E


