"""Steps 3-7: customers after the purchase: onboarding, usage, tickets, surveys, contacts, churn.

Part of :mod:`journeylib.synth`; import the public names from there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .common import _Ctx, _Events, _NS, _bh, _choice, _draw_ttv, _poisson_events
from .params import (CHURN1, CHURN_BASELINE, CHURN_COEFFICIENTS, ENTERPRISE, LTW, STARTER, STD, XSELL, _ACTIVE_SHARE,
                     _DECLINER_P, _EPISODE_P, _EPISODE_PRIORITY_P, _EVENTS_PER_USER, _EXPANSION_P, _FEATURES,
                     _FEATURE_P, _MONTH_DAYS, _NPS_MEAN, _O, _ONBOARD_DAYS, _PLATEAU_BETA, _POSTSALE_RATES, _PRICE,
                     _PRIORITY_P, _QBR_CADENCE, _T, _TICKET_RATE, _VALUE_SHARE)

# =========================================================================== step 3: customers
def _customers(ctx: _Ctx, A: _NS) -> _NS:
    """Customers (won accounts starting before end_date): value time, usage latent, expansions."""
    rng = ctx.rng["customers"]
    H = ctx.H
    cust = np.flatnonzero(A.won & (A.d0 < H))
    C = _NS()
    C.acc = cust
    C.n = len(cust)
    p = A.persona[cust]
    C.persona = p
    C.d0 = A.d0[cust]
    C.plan0 = A.plan0[cust]
    C.seats0 = A.seats0[cust]
    C.mrr0 = A.mrr0[cust]
    C.ttv = _draw_ttv(rng, C.plan0)
    C.plateau = rng.beta(np.array(_PLATEAU_BETA)[p, 0], np.array(_PLATEAU_BETA)[p, 1])
    lo = np.array(_ACTIVE_SHARE)[p, 0]
    hi = np.array(_ACTIVE_SHARE)[p, 1]
    C.active_share = lo + (hi - lo) * rng.random(C.n)
    C.epu = np.array(_EVENTS_PER_USER)[p] * (0.7 + 0.6 * rng.random(C.n))
    C.decliner = rng.random(C.n) < np.array(_DECLINER_P)[p]
    C.decline_start = C.d0 + C.ttv + 60 + 640 * rng.random(C.n)
    C.decline_rate = 0.01 + 0.02 * rng.random(C.n)
    C.health = rng.standard_normal(C.n)  # account random effect on survey scores
    scen = A.scen[cust]
    # expansions: a new subscription row with more seats (the upsell to enterprise for families)
    has = rng.random(C.n) < np.array(_EXPANSION_P)[p]
    has &= np.isin(scen, [STD, LTW]) | ((scen == XSELL) & (A.fam_role[cust] >= 1))
    tau = C.d0 + np.maximum(C.ttv + 30, 150 + 450 * rng.random(C.n))
    won = rng.random(C.n) < 0.7
    plan1 = C.plan0.copy()
    seats1 = np.ceil(C.seats0 * (1.2 + 0.4 * rng.random(C.n))).astype(np.int64)
    par = (scen == XSELL) & (A.fam_role[cust] == 0)
    has[par] = True
    won[par] = True
    tau[par] = C.d0[par] + (0.62 + 0.06 * rng.random(int(par.sum()))) * H
    plan1[par] = ENTERPRISE
    seats1[par] = np.ceil(np.maximum(C.seats0[par] * 1.5, 50)).astype(np.int64)
    disc1 = np.where(par, 0.7 + 0.2 * rng.random(C.n), A.disc[cust])
    C.has_exp = has
    C.exp_day = np.floor(tau)
    C.exp_won = has & won
    C.plan1 = plan1
    C.seats1 = seats1
    C.mrr1 = np.round(seats1 * np.array(_PRICE)[plan1] * disc1, 2)
    C.exp_created = C.exp_day + 0.5 - (20 + 20 * rng.random(C.n))
    C.scen = scen
    A.cust_index = np.full(A.n, -1, dtype=np.int64)
    A.cust_index[cust] = np.arange(C.n)
    return C


def _postsale_events(ctx: _Ctx, A: _NS, C: _NS, ev: _Events) -> None:
    """Potential post-purchase touchpoints (as if the customer stayed until the simulation horizon)."""
    rng = ctx.rng["post"]
    Hx = ctx.H_ext
    acc, d0, p = C.acc, C.d0, C.persona
    O = _O
    # onboarding
    ev.add(acc, d0 + 1 + 6 * rng.random(C.n), _T["kickoff_call"], outcome=O["completed"])
    olen = np.array(_ONBOARD_DAYS, dtype=float)[p]
    for name, rates in (("onboarding_call", (3.0, 2.0, 0.3, 1.0, 1.0)),
                        ("training_session", (4.0, 2.0, 0.2, 1.0, 0.5)),
                        ("implementation_milestone", (3.0, 1.0, 0.3, 0.3, 0.3))):
        lam = np.array(rates)[p] + (1.0 if name == "onboarding_call" else 0.0)
        cnt = rng.poisson(lam)
        r = np.repeat(np.arange(C.n), cnt)
        ev.add(acc[r], d0[r] + 2 + olen[r] * rng.random(r.size), _T[name])
    # first value
    ev.add(acc, d0 + C.ttv, _T["feature_activation"], outcome=O["completed"])
    # background
    types = np.array([_T[k] for k in _POSTSALE_RATES])
    rates = np.array(list(_POSTSALE_RATES.values())).T  # [persona, K]
    s = d0 + 3.0
    e = np.full(C.n, Hx)
    lam = rates[p] * ((e - s) / 30.0)[:, None] * A.activity[acc, None]
    a, t, k = _poisson_events(rng, acc, s, e, lam, types, np.zeros(len(types)), np.ones(len(types)))
    stage = np.where(k == _T["webinar"], 0, -1)  # customer-education webinars: explicit stage "adoption"
    ev.add(a, t, k, stage=stage)
    # QBRs on a cadence
    cad = np.array(_QBR_CADENCE)[p]
    nq = np.where(cad > 0, np.floor((Hx - d0) / np.where(cad > 0, cad, 1.0)), 0).astype(np.int64)
    r = np.repeat(np.arange(C.n), nq)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nq) - nq, nq) + 1
    ev.add(acc[r], d0[r] + cad[r] * kk + 6 * rng.standard_normal(r.size), _T["qbr"])
    # renewals around each anniversary
    nr = np.floor((Hx + 80 - d0) / 365.0).astype(np.int64)
    r = np.repeat(np.arange(C.n), nr)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nr) - nr, nr) + 1
    ann = d0[r] + 365.0 * kk
    ev.add(acc[r], ann - 50 - 20 * rng.random(r.size), _T["renewal_call"])
    ev.add(acc[r], ann - 20 - 15 * rng.random(r.size), _T["renewal_quote"], outcome=O["sent"])
    ev.add(acc[r], ann + 0.5, _T["renewal_signed"], outcome=O["completed"])
    # expansions
    x = np.flatnonzero(C.has_exp)
    ev.add(acc[x], C.exp_created[x], _T["upsell_call"], outcome=O["completed"])
    ev.add(acc[x], C.exp_day[x] + 0.5 - 5 - 10 * rng.random(len(x)), _T["expansion_proposal"], outcome=O["sent"])
    x = np.flatnonzero(C.exp_won)
    ev.add(acc[x], C.exp_day[x] + 0.5, _T["seat_increase"], outcome=O["completed"])
    # family referrals: the parent introduces the first unit, that unit refers the others
    kids = np.flatnonzero(A.fam_role >= 1)
    referrer = np.where(A.fam_role[kids] == 1, A.parent[kids], kids - (A.fam_role[kids] - 1))
    ev.add(referrer, A.referral_t[kids], _T["referral_given"], outcome=O["completed"])
    # the families' parent gets a case study and QBR-level engagement as a key account
    par = np.flatnonzero((A.scen == XSELL) & (A.fam_role == 0) & (A.cust_index >= 0))
    ev.add(par, A.d0[par] + 200 + 200 * rng.random(len(par)), _T["case_study_participation"])


# =========================================================================== step 4: usage
def _usage(ctx: _Ctx, A: _NS, C: _NS) -> _NS:
    """Weekly usage of every customer as a dense [customer, week] path up to the simulation horizon."""
    rng = ctx.rng["usage"]
    U = _NS()
    w_origin = -float(ctx.start.weekday())  # Monday on or before the first day
    W = int(np.ceil((ctx.H_ext - w_origin) / 7.0)) + 1
    ws = w_origin + 7.0 * np.arange(W)
    U.w_origin, U.W, U.ws = w_origin, W, ws
    n = C.n
    fw = np.floor((C.d0 - w_origin) / 7.0).astype(np.int64)
    vw = np.floor((C.d0 + C.ttv - w_origin) / 7.0).astype(np.int64)
    U.fw, U.vw = fw, vw
    w = np.arange(W)[None, :]
    valid = w >= fw[:, None]
    pre = w < vw[:, None]
    at = w == vw[:, None]
    prog = np.clip((w - fw[:, None]) / np.maximum(vw - fw, 1)[:, None], 0, 1)
    since = np.maximum(w - vw[:, None], 0)
    post_u = C.plateau[:, None] * (0.6 + 0.4 * (1 - np.exp(-since / 4.0)))
    dec = np.where(C.decliner[:, None] & (ws[None, :] > C.decline_start[:, None]),
                   np.maximum(0.25, np.exp(-C.decline_rate[:, None] * (ws[None, :] - C.decline_start[:, None]) / 7.0)),
                   1.0)
    util = np.where(pre, C.plateau[:, None] * (0.1 + 0.25 * prog), post_u * dec)
    util = np.clip(util * np.exp(0.06 * rng.standard_normal((n, W))), 0.0, 1.0)
    seats = np.where(C.exp_won[:, None] & (ws[None, :] >= C.exp_day[:, None]), C.seats1[:, None], C.seats0[:, None])
    thr = np.ceil(_VALUE_SHARE * seats).astype(np.int64)
    su = np.clip(np.round(util * seats), 1, seats).astype(np.int64)
    su = np.where(at, np.maximum(su, thr), su)
    q = np.clip(C.active_share[:, None] * (0.9 + 0.15 * rng.random((n, W))), 0, 1)
    q = np.where(pre, 0.35, q)
    au = rng.binomial(su, q)
    au = np.where(pre, np.minimum(au, thr - 1), au)
    au = np.where(at, np.maximum(au, thr), au)
    U.valid = valid
    U.seats = seats
    U.su = np.where(valid, su, 0)
    U.au = np.where(valid, au, 0)
    U.util = np.where(valid, util, 0.0)
    U.events = rng.poisson(U.au * C.epu[:, None])
    fp = np.array(_FEATURE_P)[C.persona]
    cum = np.cumsum(fp, axis=1)
    cum /= cum[:, -1:]
    uu = rng.random((n, W))
    feat = (uu[:, :, None] > cum[:, None, :]).sum(axis=2)
    U.feature = np.minimum(feat, len(_FEATURES) - 1)
    return U


# =========================================================================== step 5: tickets and surveys
def _tickets(ctx: _Ctx, A: _NS, C: _NS, ev: _Events) -> _NS:
    rng = ctx.rng["tickets"]
    Hx = ctx.H_ext
    p = C.persona
    s = C.d0 + 2.0
    dur = np.maximum(Hx - s, 0)
    cnt = rng.poisson(np.array(_TICKET_RATE)[p] * dur / 30.0 * A.activity[C.acc])
    r = np.repeat(np.arange(C.n), cnt)
    t = s[r] + dur[r] * rng.random(r.size)
    prio = _choice(rng, np.array(_PRIORITY_P)[p[r]])
    # trouble episodes
    ep = rng.random(C.n) < np.array(_EPISODE_P)[p]
    ep_s = C.d0 + 20 + rng.random(C.n) * np.maximum(Hx - C.d0 - 20, 1)
    ep_len = 45 + 75 * rng.random(C.n)
    ecnt = np.where(ep, rng.poisson(2.5 * ep_len / 30.0), 0)
    er = np.repeat(np.arange(C.n), ecnt)
    et = ep_s[er] + ep_len[er] * rng.random(er.size)
    eprio = _choice(rng, np.tile(np.array(_EPISODE_PRIORITY_P), (er.size, 1)))
    T = _NS()
    T.c = np.concatenate([r, er])
    raw = np.concatenate([t, et])
    T.prio = np.concatenate([prio, eprio])
    T.acc = C.acc[T.c]
    T.opened = _bh(raw, A.hour0[T.acc])
    m = T.opened < Hx
    for k in ("c", "prio", "acc", "opened"):
        setattr(T, k, getattr(T, k)[m])
    raw = raw[m]
    nT = T.c.size
    frt_med = np.array([900.0, 300.0, 75.0, 20.0])[T.prio]
    T.frt = np.round(frt_med * np.exp(0.8 * rng.standard_normal(nT)), 1)
    res_h = np.array([96.0, 48.0, 20.0, 6.0])[T.prio] * np.exp(0.9 * rng.standard_normal(nT))
    T.resolved = T.opened + T.frt / 1440.0 + res_h / 24.0
    z = 4.2 - 0.3 * (T.prio >= 2) - 0.4 * (res_h > 72) + 0.3 * C.health[T.c] + 0.9 * rng.standard_normal(nT)
    T.csat = np.where(rng.random(nT) < 0.55, np.clip(np.round(z), 1, 5), np.nan)
    T.ces_draw = rng.random(nT)
    z = 5.5 - 0.5 * np.log1p(T.frt / 60.0) - 0.3 * (T.prio >= 2) + 1.0 * rng.standard_normal(nT)
    T.ces = np.clip(np.round(z), 1, 7)
    T.event = ev.add(T.acc, raw, _T["support_ticket"], outcome=_O["submitted"])
    return T


def _surveys(ctx: _Ctx, A: _NS, C: _NS, U: _NS, T: _NS, ev: _Events) -> _NS:
    rng = ctx.rng["surveys"]
    Hx = ctx.H_ext
    kinds, cs, dates, scores, slots, fixed_contact = [], [], [], [], [], []
    ncon = A.ncon[C.acc]

    def util_at(c, day):
        w = np.clip(np.floor((day - U.w_origin) / 7.0).astype(np.int64), 0, U.W - 1)
        return U.util[c, w]

    # NPS waves every ~182 days from day 75, up to three contacts each
    nw = np.maximum(np.floor((Hx - C.d0 - 75) / 182.5) + 1, 0).astype(np.int64)
    r = np.repeat(np.arange(C.n), nw)
    kk = np.arange(r.size) - np.repeat(np.cumsum(nw) - nw, nw)
    wave = C.d0[r] + 75 + 182.5 * kk
    for slot_kind in range(3):
        if slot_kind == 0:
            slot = np.zeros(r.size, dtype=np.int64)
            ok = np.ones(r.size, dtype=bool)
        elif slot_kind == 1:
            slot = np.ones(r.size, dtype=np.int64)
            ok = ncon[r] >= 2
        else:
            slot = 2 + np.floor(rng.random(r.size) * np.maximum(ncon[r] - 2, 1)).astype(np.int64)
            ok = ncon[r] >= 3
        resp = ok & (rng.random(r.size) < 0.4)
        c = r[resp]
        d = np.floor(wave[resp] + 10 * rng.random(c.size))
        mu = np.array(_NPS_MEAN)[C.persona[c]] + 0.8 * C.health[c] + 4.0 * (util_at(c, d) - 0.6)
        sc = np.clip(np.round(mu + 1.3 * rng.standard_normal(c.size)), 0, 10)
        kinds.append(np.zeros(c.size, dtype=np.int64))
        cs.append(c)
        dates.append(d)
        scores.append(sc)
        slots.append(slot[resp])
        fixed_contact.append(np.ones(c.size, dtype=bool))
    # CSAT after onboarding and every ~182 days (champion)
    nw2 = np.maximum(np.floor((Hx - C.d0 - 165) / 182.5) + 1, 0).astype(np.int64)
    r2 = np.repeat(np.arange(C.n), nw2)
    kk2 = np.arange(r2.size) - np.repeat(np.cumsum(nw2) - nw2, nw2)
    day = np.concatenate([C.d0 + 30 + 30 * rng.random(C.n), C.d0[r2] + 165 + 182.5 * kk2])
    c = np.concatenate([np.arange(C.n), r2])
    resp = rng.random(c.size) < np.concatenate([np.full(C.n, 0.6), np.full(r2.size, 0.3)])
    c, day = c[resp], np.floor(day[resp])
    z = 3.9 + 1.5 * (util_at(c, day) - 0.6) + 0.35 * C.health[c] + 0.8 * rng.standard_normal(c.size)
    sc = np.clip(np.round(z), 1, 5)
    kinds.append(np.ones(c.size, dtype=np.int64))
    cs.append(c)
    dates.append(day)
    scores.append(sc)
    slots.append(np.zeros(c.size, dtype=np.int64))
    fixed_contact.append(np.ones(c.size, dtype=bool))
    # CES after ~20% of resolved tickets (the ticket's requester is not known: an auto-picked user)
    m = T.ces_draw < 0.2
    kinds.append(np.full(int(m.sum()), 2, dtype=np.int64))
    cs.append(T.c[m])
    dates.append(np.floor(T.resolved[m]))
    scores.append(T.ces[m])
    slots.append(np.full(int(m.sum()), -1, dtype=np.int64))
    fixed_contact.append(np.zeros(int(m.sum()), dtype=bool))
    S = _NS()
    S.kind = np.concatenate(kinds)
    S.c = np.concatenate(cs)
    S.date = np.concatenate(dates)
    S.score = np.concatenate(scores).astype(np.int64)
    S.slot = np.concatenate(slots)
    S.acc = C.acc[S.c]
    keep = S.date < Hx
    for k in ("kind", "c", "date", "score", "slot", "acc"):
        setattr(S, k, getattr(S, k)[keep])
    # survey touchpoints: NPS and CSAT responses, same contact
    S.contact = np.where(S.slot >= 0, A.coff[S.acc] + np.maximum(S.slot, 0), -2)
    S.event = np.full(S.kind.size, -1, dtype=np.int64)
    m = S.kind <= 1
    tp = np.where(S.kind[m] == 0, _T["nps_survey"], _T["csat_survey"])
    start = ev.add(S.acc[m], S.date[m] + rng.random(int(m.sum())), tp, outcome=_O["submitted"], contact=S.contact[m])
    S.event[m] = start + np.arange(int(m.sum()))
    return S


# =========================================================================== step 6: contacts on touchpoints
def _assign_contacts(rng, A: _NS, acc, role, post) -> np.ndarray:
    """Pick each touchpoint's contact from the account's committee by the touchpoint's role preference."""
    n = A.ncon[acc]
    u = rng.random(acc.size)
    r = rng.random(acc.size)
    slot = np.minimum(np.floor(u * n).astype(np.int64), n - 1)
    m = (role == 2) & (r < 0.75)
    slot[m] = 0
    m = (role == 3) & (r < 0.8)
    slot[m] = A.exec_slot[acc[m]]
    m = (role == 4) & (n > 2) & (r < 0.75)
    slot[m] = 2
    m = (role == 5) & (n > 3)
    slot[m] = 3 + np.minimum(np.floor(rng.random(int(m.sum())) * (n[m] - 3)).astype(np.int64), n[m] - 4)
    # without an executive sponsor the economic buyer is never engaged after the purchase
    m = post & ~A.sponsor[acc] & (n > 1) & (slot == A.exec_slot[acc])
    slot[m] = 0
    cid = A.coff[acc] + slot
    none = (role == 6) | ((role == 1) & (rng.random(acc.size) < 0.35))
    return np.where(none, -1, cid)


# =========================================================================== step 7: churn
def _month_grid(ctx: _Ctx) -> tuple[pd.DatetimeIndex, np.ndarray]:
    ends = pd.date_range(ctx.start, ctx.end_day + pd.Timedelta(days=130), freq="ME")
    b = np.array([(d - ctx.start).days + 1 for d in ends], dtype=float)  # end of each month-end day
    last = int(np.searchsorted(b, ctx.H + 90, side="left"))
    return ends[:last + 1], b[:last + 1]


def _churn(ctx: _Ctx, A: _NS, C: _NS, U: _NS, T: _NS, S: _NS, E: dict[str, np.ndarray]) -> _NS:
    """Driver features at month ends, the hazard, the exact 90-day probabilities and the churn times."""
    rng = ctx.rng["churn"]
    ends, b = _month_grid(ctx)
    M = b.size
    n = C.n
    K = 1 << 14  # key stride: > simulation horizon in days
    act = C.d0[:, None] < b[None, :]
    # seat utilisation and active-user trend from the weekly rows
    wm = np.floor((b - 1 - U.w_origin) / 7.0).astype(np.int64)
    wm = np.clip(wm, 0, U.W - 1)
    su = U.su[:, wm]
    seats = np.where(C.exp_won[:, None] & (C.exp_day[:, None] <= b[None, :] - 1), C.seats1[:, None], C.seats0[:, None])
    util = su / seats
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(U.au, axis=1)], axis=1)
    last4 = (cs[:, wm + 1] - cs[:, np.maximum(wm - 3, 0)]) / 4.0
    prev4 = (cs[:, np.maximum(wm - 3, 0)] - cs[:, np.maximum(wm - 7, 0)]) / 4.0
    has8 = (wm[None, :] - 7) >= U.fw[:, None]
    trend = np.where(has8, np.log((last4 + 1.0) / (prev4 + 1.0)), 0.0)
    # high/urgent tickets in the last 90 days
    hp = T.prio >= 2
    keys = np.sort(T.c[hp] * K + T.opened[hp])
    base = (np.arange(n) * K)[:, None]
    tickets = (np.searchsorted(keys, base + b[None, :], side="right")
               - np.searchsorted(keys, base + b[None, :] - 90, side="right")).astype(float)
    # NPS detractor: mean score of the latest survey date on or before the snapshot
    m = S.kind == 0
    nps = pd.DataFrame({"c": S.c[m], "d": S.date[m], "s": S.score[m].astype(float)})
    nps = nps.groupby(["c", "d"], sort=True, as_index=False)["s"].mean()
    nk = nps["c"].to_numpy() * K + nps["d"].to_numpy()
    pos = np.searchsorted(nk, base + b[None, :] - 1, side="right") - 1
    posc = np.maximum(pos, 0)
    okn = (pos >= 0) & (nps["c"].to_numpy()[posc] == np.arange(n)[:, None]) if len(nk) else np.zeros((n, M), bool)
    detractor = np.where(okn, nps["s"].to_numpy()[posc] <= 6, False).astype(float) if len(nk) else np.zeros((n, M))
    # economic buyer engaged in the last 180 days
    ci = A.cust_index[E["acc"]]
    ex = (ci >= 0) & (E["contact"] >= 0) & (E["contact"] == A.coff[E["acc"]] + A.exec_slot[E["acc"]])
    ekeys = np.sort(ci[ex] * K + E["ts"][ex])
    engaged = ((np.searchsorted(ekeys, base + b[None, :], side="right")
                - np.searchsorted(ekeys, base + b[None, :] - 180, side="right")) > 0).astype(float)
    # plan of the subscription active on the snapshot date
    plan = np.where(C.exp_won[:, None] & (C.exp_day[:, None] <= b[None, :] - 1), C.plan1[:, None], C.plan0[:, None])
    # renewal anniversary in (snapshot, next month end]
    kn = np.maximum(np.ceil((b[None, :] - C.d0[:, None]) / 365.0), 1)
    ann = C.d0[:, None] + 365.0 * kn
    nxt = np.append(b[1:], np.inf)
    renewal = (ann >= b[None, :]) & (ann < nxt[None, :])
    X = {
        "seat_utilisation": util, "active_users_trend": trend, "high_priority_tickets_90d": tickets,
        "nps_detractor": detractor, "exec_engaged_180d": engaged, "plan_starter": (plan == STARTER).astype(float),
        "plan_enterprise": (plan == ENTERPRISE).astype(float), "renewal_month": renewal.astype(float),
    }
    eta = np.full((n, M), CHURN_BASELINE)
    for k, beta in CHURN_COEFFICIENTS.items():
        eta = eta + beta * X[k]
    lam = np.where(act, np.exp(eta) / _MONTH_DAYS, 0.0)  # per day on (b_m, b_m+1]
    std = C.scen != XSELL
    lam[~std] = 0.0
    width = np.diff(b)
    Lam = np.concatenate([np.zeros((n, 1)), np.cumsum(lam[:, :-1] * width[None, :], axis=1)], axis=1)
    # churn times: Lambda(t) = E
    E1 = rng.exponential(1.0, size=n)
    crossed = Lam[:, 1:] >= E1[:, None]
    anyc = crossed.any(axis=1)
    first = np.argmax(crossed, axis=1)
    rows = np.arange(n)
    tc = np.where(anyc, b[first] + (E1 - Lam[rows, first]) / np.where(anyc, lam[rows, first], 1.0), np.inf)
    # scenario churners: uniform on [start + 300, start + 365]
    c1 = C.scen == CHURN1
    ua = C.d0 + 300.0
    ub = C.d0 + 365.0
    tc[c1] = ua[c1] + 65.0 * rng.random(int(c1.sum()))
    tc[C.scen == XSELL] = np.inf
    # exact probabilities at the emitted snapshots
    snaps = np.flatnonzero(b <= ctx.H)
    target = b[snaps] + 90.0
    j = np.searchsorted(b, target, side="left") - 1
    Lt = Lam[:, j] + lam[:, j] * (target - b[j])[None, :]
    p = 1.0 - np.exp(-(Lt - Lam[:, snaps]))
    bb = b[snaps][None, :]
    a_, e_ = ua[:, None], ub[:, None]
    p_unif = np.where(bb < a_, np.clip(np.minimum(bb + 90, e_) - a_, 0, None) / (e_ - a_),
                      (np.minimum(bb + 90, e_) - bb) / np.maximum(e_ - bb, 1e-9))
    p = np.where(c1[:, None], p_unif, p)
    p = np.clip(p, 0.0, 1.0)
    alive = act[:, snaps] & (tc[:, None] >= bb)
    ci_, si_ = np.nonzero(alive)
    R = _NS()
    R.tc = tc
    R.snap_c = ci_
    R.snap_date = ends[snaps][si_]
    R.snap_b = b[snaps][si_]
    R.p = p[ci_, si_]
    known = R.snap_b + 90 <= ctx.H
    R.churned = np.where(known, (tc[ci_] < R.snap_b + 90).astype(np.int64), -1)
    return R


