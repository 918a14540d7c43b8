"""Steps 1-2: accounts and their buying journeys (touchpoints before the purchase, wins and losses).

Part of :mod:`journeylib.synth`; import the public names from there.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_date, check_int
from ..errors import ParameterError

from .common import _Ctx, _Events, _NS, _choice, _lognormal, _poisson_events
from .params import (CHANNELS, CHURN1, ENT, FULL, GROWTH, LIGHT, LTW, MID, PERSONAS, REENGAGE, RISK, SMB, STALL,
                     STARTER, STD, TECH, WIN_INTERCEPT, XSELL, XSELLP, _CHANNEL_BETA, _CHANNEL_MULT_SHAPE, _COUNTRIES,
                     _CYCLE, _MIN_CYCLE, _OPP_AFTER_REQUEST, _OPP_AFTER_REQUEST_SMB, _OPP_BEFORE_CLOSE,
                     _REQUEST_SHARE, _EMPLOYEES, _EXT_DAYS, _FIRST_TOUCH, _INDUSTRY_P, _NURTURE_RATES, _N_CONTACTS, _O,
                     _PERSONA_SHARE, _PHASE_FACTOR, _PLAN_P, _PRESALE_COUNTS, _PRICE, _REGION_HOUR, _REGION_P, _SEATS,
                     _SPONSOR_P, _STALL_P, _STALL_REQUEST_P, _T, _TP_CHANNEL, _UNITS, _WINDOWS)

# =========================================================================== step 1: accounts
def _context(n_accounts: int, seed: int, end_date: Any, start_date: Any) -> _Ctx:
    n_accounts = check_int(n_accounts, "n_accounts", minimum=1)
    seed = check_int(seed, "seed", minimum=0)

    def day(value: Any, name: str) -> pd.Timestamp:
        ts = check_date(value, name)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.normalize()

    end_day = day(end_date, "end_date")
    start = day(start_date, "start_date") if start_date is not None else \
        end_day - pd.DateOffset(years=3) + pd.Timedelta(days=1)
    H = float((end_day + pd.Timedelta(days=1) - start).days)
    if H < 60:
        raise ParameterError(
            f"start_date must be at least 60 days before end_date; got start_date={start.date()} "
            f"and end_date={end_day.date()}")
    names = ("accounts", "journey", "win", "contacts", "customers", "post", "usage", "tickets", "surveys",
             "churn", "leads", "outcomes")
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    ctx = _Ctx(int(n_accounts), start, end_day, H, H + _EXT_DAYS,
               {k: np.random.default_rng(s) for k, s in zip(names, children)})
    # Quarterly feature launches (15 Feb / May / Aug / Nov) inside the history.
    launches, lnames = [], []
    for year in range(start.year, end_day.year + 1):
        for month in (2, 5, 8, 11):
            d = pd.Timestamp(year=year, month=month, day=15)
            if start <= d <= end_day:
                launches.append(float((d - start).days))
                lnames.append(f"feature_launch_{year}_{month:02d}")
    ctx.launches = np.array(launches, dtype=float)
    ctx.launch_names = lnames
    return ctx


def _plan_accounts(ctx: _Ctx) -> _NS:
    """Scenario, family structure, persona and firmographics of every account."""
    rng = ctx.rng["accounts"]
    n = ctx.n
    A = _NS()
    A.n = n
    # --- scenarios: families first, then the one-year churners, then lost-then-won, then standard
    n_fam = n // 50 if n >= 20 else 0
    fam_extra = rng.choice([1, 2, 3], size=n_fam, p=[0.3, 0.4, 0.3])
    n_churn1 = int(round(0.06 * n))
    n_ltw = int(round(0.06 * n))
    while n_fam and int((2 + fam_extra).sum()) + n_churn1 + n_ltw > n // 2:
        n_fam -= 1
        fam_extra = fam_extra[:n_fam]
    scen = np.full(n, STD, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    fam_role = np.full(n, -1, dtype=np.int64)  # 0 parent, 1 cross-sold unit, 2.. referred units
    fam_of = np.full(n, -1, dtype=np.int64)
    i = 0
    for f in range(n_fam):
        size = 2 + int(fam_extra[f])
        scen[i:i + size] = XSELL
        parent[i + 1:i + size] = i
        fam_role[i:i + size] = np.arange(size)
        fam_of[i:i + size] = f
        i += size
    scen[i:i + n_churn1] = CHURN1
    i += n_churn1
    scen[i:i + n_ltw] = LTW
    A.scen, A.parent, A.fam_role, A.fam_of = scen, parent, fam_role, fam_of

    # --- persona
    persona = rng.choice(5, size=n, p=_PERSONA_SHARE)
    persona[scen == CHURN1] = RISK
    m = scen == LTW
    persona[m] = rng.choice([ENT, MID, TECH], size=int(m.sum()), p=[0.3, 0.5, 0.2])
    m = scen == XSELL
    persona[m] = np.where(rng.random(int(m.sum())) < 0.6, MID, TECH)
    A.persona = persona

    # --- firmographics
    emp = np.empty(n)
    for p, (med, sig, lo, hi) in _EMPLOYEES.items():
        mm = persona == p
        emp[mm] = np.clip(_lognormal(rng, med, sig, int(mm.sum())), lo, hi)
    A.employees = np.round(emp).astype(np.int64)
    A.industry = _choice(rng, np.array(_INDUSTRY_P)[persona])
    A.region = rng.choice(4, size=n, p=_REGION_P)
    country = np.zeros(n, dtype=np.int64)
    for r, options in enumerate(_COUNTRIES):
        mm = A.region == r
        country[mm] = rng.choice(len(options), size=int(mm.sum()), p=[o[1] for o in options])
    A.country = country
    east = rng.random(n) < 0.55
    team = np.where(persona == ENT, 0, np.where(persona == SMB, 2, 1))
    team = np.where((persona == RISK) & (rng.random(n) < 0.5), 2, team)
    A.owner_team, A.owner_east = team, east
    # children inherit the parent's industry and country
    kids = parent >= 0
    A.industry[kids] = A.industry[parent[kids]]
    A.region[kids] = A.region[parent[kids]]
    A.country[kids] = A.country[parent[kids]]
    A.employees[kids] = np.clip(np.round(_lognormal(rng, 300, 0.6, int(kids.sum()))), 40, 3000).astype(np.int64)
    roots = (scen == XSELL) & (fam_role == 0)  # multi-unit companies
    A.employees[roots] = np.clip(np.round(_lognormal(rng, 5000, 0.6, int(roots.sum()))), 1500, 100000).astype(np.int64)
    A.unit = rng.integers(0, len(_UNITS), size=n)
    A.hour0 = np.array(_REGION_HOUR)[A.region]
    # plan of interest / first subscription
    plan = _choice(rng, np.array([_PLAN_P[p] for p in range(5)])[persona])
    plan[(scen == XSELL) & (fam_role == 0)] = GROWTH
    A.plan0 = plan
    sp = np.array(_SEATS)[plan]  # median seats at the reference size, elasticity, reference size, min, max
    seats = _lognormal(rng, sp[:, 0] * (A.employees / sp[:, 2]) ** sp[:, 1], 0.4, n)
    seats = np.clip(np.round(seats), sp[:, 3], sp[:, 4])
    A.seats0 = seats.astype(np.int64)
    disc = np.where(plan == STARTER, 1.0, np.where(plan == GROWTH, 0.9 + 0.1 * rng.random(n),
                                                   0.65 + 0.25 * rng.random(n)))
    A.disc = disc
    A.mrr0 = np.round(A.seats0 * np.array(_PRICE)[plan] * disc, 2)
    A.sponsor = rng.random(n) < np.array(_SPONSOR_P)[persona]
    A.sponsor[scen == XSELL] = True
    A.sponsor[scen == CHURN1] = False
    A.activity = rng.gamma(4.0, 0.25, size=n)
    # contact counts
    lo_c = np.array([_N_CONTACTS[p][0] for p in range(5)])[persona]
    hi_c = np.array([_N_CONTACTS[p][1] for p in range(5)])[persona]
    ncon = rng.integers(lo_c, hi_c + 1)
    ncon[kids] = rng.integers(2, 6, size=int(kids.sum()))
    A.ncon = ncon.astype(np.int64)
    A.coff = np.concatenate([[0], np.cumsum(A.ncon)[:-1]]).astype(np.int64)
    A.exec_slot = np.where(A.ncon >= 2, 1, 0).astype(np.int64)
    A.chan_mult = rng.gamma(_CHANNEL_MULT_SHAPE, 1 / _CHANNEL_MULT_SHAPE, size=(n, len(CHANNELS)))
    return A


# =========================================================================== step 2: buying journeys
def _schedule(ctx: _Ctx, A: _NS) -> None:
    """Times of every account's buying journey (first touch, request, opportunity, close) and phases."""
    rng = ctx.rng["journey"]
    n, H = A.n, ctx.H
    persona, scen = A.persona, A.scen
    med = np.array([_CYCLE[p][0] for p in range(5)])[persona]
    sig = np.array([_CYCLE[p][1] for p in range(5)])[persona]
    D = _lognormal(rng, med, sig, n)
    D = np.maximum(D, _MIN_CYCLE)
    t0 = H * rng.random(n) ** 0.85 * 0.995
    stalled = (rng.random(n) < np.array(_STALL_P)[persona]) & (scen == STD)
    forced = np.full(n, -1, dtype=np.int64)  # 1 won, 0 lost, -1 drawn from the win model

    # scenario timing
    m = scen == CHURN1
    t0[m] = rng.random(int(m.sum())) * max(1.0, H - 560)
    D[m] = 20 + 40 * rng.random(int(m.sum()))
    forced[m] = 1
    m = scen == LTW
    t0[m] = rng.random(int(m.sum())) * max(1.0, H - 640)
    D[m] = np.minimum(D[m], 150)
    forced[m] = 0
    fam = scen == XSELL
    par = fam & (A.fam_role == 0)
    t0[par] = rng.random(int(par.sum())) * 0.1 * H
    D[par] = 40 + 80 * rng.random(int(par.sum()))
    forced[fam] = 1
    close = t0 + D
    d0 = np.floor(close + 1 + 13 * rng.random(n))
    # families: the cross-sold unit after the parent's start, referred units after the unit's start
    referral_t = np.full(n, np.nan)  # when the referring account gave the referral (referred units)
    for f in np.unique(A.fam_of[fam]):
        idx = np.flatnonzero(A.fam_of == f)
        p_, c1, rest = idx[0], idx[1], idx[2:]
        t0[c1] = min(d0[p_] + (0.05 + 0.10 * rng.random()) * H, H - 1.5)
        referral_t[c1] = t0[c1] - 1 - 4 * rng.random()
        D[c1] = 30 + 15 * rng.random()
        close[c1] = t0[c1] + D[c1]
        d0[c1] = np.floor(close[c1] + 1 + 13 * rng.random())
        r = np.sort(d0[c1] + (0.10 + 0.25 * rng.random(len(rest))) * H)
        referral_t[rest] = r
        t0[rest] = np.minimum(r + 2 + 8 * rng.random(len(rest)), H - 1.5)
        D[rest] = 30 + 15 * rng.random(len(rest))
        close[rest] = t0[rest] + D[rest]
        d0[rest] = np.floor(close[rest] + 1 + 13 * rng.random(len(rest)))
    A.referral_t = referral_t

    kind = np.where(stalled, STALL, FULL)
    kind[scen == CHURN1] = LIGHT
    kind[fam & (A.fam_role >= 1)] = XSELLP
    has_opp = ~stalled
    # request (form / demo request / trial), opportunity creation, close
    req = t0 + D * (_REQUEST_SHARE[0] + _REQUEST_SHARE[1] * rng.random(n))
    opp = np.minimum(req + _OPP_AFTER_REQUEST[0] + _OPP_AFTER_REQUEST[1] * rng.random(n), close - _OPP_BEFORE_CLOSE[0])
    smb = persona == SMB
    opp[smb] = np.minimum(req[smb] + _OPP_AFTER_REQUEST_SMB[0] + _OPP_AFTER_REQUEST_SMB[1] * rng.random(int(smb.sum())),
                          close[smb] - _OPP_BEFORE_CLOSE[1])
    m = scen == CHURN1
    req[m] = t0[m] + 0.4 * D[m]
    opp[m] = req[m] + 1.0
    m = kind == XSELLP
    req[m] = t0[m]
    opp[m] = t0[m] + 2 + 5 * rng.random(int(m.sum()))
    end = np.where(stalled, t0 + 0.5 * D, close)
    A.t0, A.D, A.close, A.req, A.opp, A.end, A.d0 = t0, D, close, req, opp, end, d0
    A.kind, A.has_opp, A.stalled, A.forced = kind, has_opp, stalled, forced

    # lost-then-won: a second journey after a feature launch about a year after the loss
    A.re_start = np.full(n, np.nan)
    A.re_camp = np.full(n, -1, dtype=np.int64)
    ltw = np.flatnonzero(scen == LTW)
    base = close[ltw] + 300
    pos = np.searchsorted(ctx.launches, base, side="left")
    ok = pos < len(ctx.launches)
    L = base.copy()
    L[ok] = ctx.launches[pos[ok]]
    A.re_start[ltw] = L
    A.re_camp[ltw] = np.where(ok, pos, -1)
    D2 = 30 + 30 * rng.random(len(ltw))
    A.req2 = np.full(n, np.nan)
    A.opp2 = np.full(n, np.nan)
    A.close2 = np.full(n, np.nan)
    A.req2[ltw] = L + 2 + 6 * rng.random(len(ltw))
    A.opp2[ltw] = A.req2[ltw] + 1 + 3 * rng.random(len(ltw))
    A.close2[ltw] = L + D2
    A.d0[ltw] = np.floor(A.close2[ltw] + 1 + 13 * rng.random(len(ltw)))
    # first touch
    ft = np.zeros(n, dtype=np.int64)
    for p, dist in _FIRST_TOUCH.items():
        mm = persona == p
        names = list(dist)
        ft[mm] = np.array([_T[x] for x in names])[rng.choice(len(names), size=int(mm.sum()), p=list(dist.values()))]
    ft[kind == XSELLP] = _T["referral_intro"]
    A.first_touch = ft
    # some stalled prospects submit their request (their lead's MQL) before the stall
    asked = stalled & (rng.random(n) < _STALL_REQUEST_P)
    A.stall_req = np.where(asked, t0 + (end - t0) * (0.2 + 0.7 * rng.random(n)), np.nan)


def _request_tp(persona: np.ndarray) -> np.ndarray:
    """The request touchpoint of each persona: trial signup, contact form (enterprise) or demo request."""
    return np.where((persona == SMB) | (persona == TECH), _T["free_trial_signup"],
                    np.where(persona == ENT, _T["contact_form"], _T["demo_request"]))


def _presale_events(ctx: _Ctx, A: _NS, ev: _Events) -> None:
    """Anchors and Poisson background touchpoints of every buying phase, and nurture after it."""
    rng = ctx.rng["journey"]
    n, persona = A.n, A.persona
    idx = np.arange(n)
    ANCH = _O  # fixed outcomes for anchors
    # ---- phases: (account, start, end, kind)
    ph_acc = [idx]
    ph_s = [A.t0]
    ph_e = [A.end]
    ph_k = [A.kind]
    ltw = np.flatnonzero(A.scen == LTW)
    ph_acc.append(ltw)
    ph_s.append(A.re_start[ltw])
    ph_e.append(A.close2[ltw])
    ph_k.append(np.full(len(ltw), REENGAGE))
    pa, ps, pe, pk = (np.concatenate(x) for x in (ph_acc, ph_s, ph_e, ph_k))
    types = np.array([_T[k] for k in _PRESALE_COUNTS])
    groups = [g for g, _ in _PRESALE_COUNTS.values()]
    base = np.array([c for _, c in _PRESALE_COUNTS.values()]).T  # [persona, K]
    factor = np.array([[_PHASE_FACTOR[k][g] for g in groups] for k in range(5)])  # [kind, K]
    lam = base[persona[pa]] * factor[pk] * A.chan_mult[pa][:, _TP_CHANNEL[types]] * A.activity[pa, None]
    lo = np.array([_WINDOWS[g][0] for g in groups])
    hi = np.array([_WINDOWS[g][1] for g in groups])
    a, t, k = _poisson_events(rng, pa, ps, pe, lam, types, lo, hi)
    ev.add(a, t, k)

    # ---- anchors
    ev.add(idx, A.t0, A.first_touch)
    full = np.flatnonzero(A.kind == FULL)
    smb = persona[full] == SMB
    ev.add(full, A.req[full], _request_tp(persona[full]), outcome=ANCH["submitted"])
    asked = np.flatnonzero(np.isfinite(A.stall_req))
    ev.add(asked, A.stall_req[asked], _request_tp(persona[asked]), outcome=ANCH["submitted"])
    sales = full[~smb]
    ev.add(sales, A.opp[sales], _T["discovery_call"], outcome=ANCH["completed"])
    demo_t = A.opp[sales] + (A.close[sales] - A.opp[sales]) * (0.1 + 0.25 * rng.random(len(sales)))
    ev.add(sales, demo_t, _T["demo"], outcome=ANCH["attended"])
    prop_t = A.t0[sales] + A.D[sales] * (0.75 + 0.15 * rng.random(len(sales)))
    ev.add(sales, prop_t, _T["proposal_sent"], outcome=ANCH["sent"])
    loop = rng.random(len(sales)) < 0.35  # re-evaluation loop: another demo after the proposal
    la = sales[loop]
    lt = prop_t[loop] + (A.close[la] - prop_t[loop]) * (0.3 + 0.5 * rng.random(len(la)))
    ev.add(la, lt, _T["demo"], outcome=ANCH["attended"])
    ev.add(la, lt + 0.3, _T["ae_call"], outcome=ANCH["completed"])
    # one-year churners: alternatives on comparison and review sites, demo request, demo
    c1 = np.flatnonzero(A.scen == CHURN1)
    ev.add(c1, A.t0[c1] + 0.2 * A.D[c1], _T["comparison_site_visit"])
    ev.add(c1, A.t0[c1] + 0.3 * A.D[c1], _T["review_site_visit"])
    ev.add(c1, A.req[c1], _T["demo_request"], outcome=ANCH["submitted"])
    ev.add(c1, A.opp[c1], _T["discovery_call"], outcome=ANCH["completed"])
    ev.add(c1, A.t0[c1] + 0.6 * A.D[c1], _T["demo"], outcome=ANCH["attended"])
    # cross-sold and referred business units: no competition
    xs = np.flatnonzero(A.kind == XSELLP)
    ev.add(xs, A.opp[xs], _T["discovery_call"], outcome=ANCH["completed"])
    ev.add(xs, A.t0[xs] + 8 + 12 * rng.random(len(xs)), _T["cross_sell_demo"], outcome=ANCH["attended"])
    ev.add(xs, A.close[xs] - 3 - 7 * rng.random(len(xs)), _T["proposal_sent"], outcome=ANCH["sent"])
    # lost-then-won: feature launch e-mail, website, demo request, discovery, demo, proposal
    if len(ltw):
        L = A.re_start[ltw]
        camp = np.where(A.re_camp[ltw] >= 0, A.re_camp[ltw], -2)
        ev.add(ltw, L, _T["newsletter_click"], outcome=ANCH["clicked"], camp=camp)
        ev.add(ltw, L + 2 * rng.random(len(ltw)), _T["website_visit"])
        ev.add(ltw, A.req2[ltw], _T["demo_request"], outcome=ANCH["submitted"])
        ev.add(ltw, A.opp2[ltw], _T["discovery_call"], outcome=ANCH["completed"])
        ev.add(ltw, A.opp2[ltw] + 3 + 7 * rng.random(len(ltw)), _T["demo"], outcome=ANCH["attended"])
        ev.add(ltw, A.close2[ltw] - 5 - 7 * rng.random(len(ltw)), _T["proposal_sent"], outcome=ANCH["sent"])

    # ---- nurture after a stall or a loss (decided later for losses: nurture all non-won now, cut later)
    A.nurture_start = np.where(A.stalled, A.end, A.close)


def _decide_wins(ctx: _Ctx, A: _NS, ev: _Events) -> None:
    """Draw the standard deals from the channel win model; add contracts and nurture touchpoints."""
    rng = ctx.rng["win"]
    n = A.n
    e = ev.arrays()
    before = e["t"] < A.close[e["acc"]]
    touched = np.zeros((n, len(CHANNELS)), dtype=bool)
    touched[e["acc"][before], _TP_CHANNEL[e["tp"][before]]] = True
    logit = np.array([WIN_INTERCEPT[p] for p in PERSONAS])[A.persona] + touched.astype(float) @ _CHANNEL_BETA
    p_win = 1.0 / (1.0 + np.exp(-logit))
    won = rng.random(n) < p_win
    won = np.where(A.forced >= 0, A.forced == 1, won) & A.has_opp
    A.won1 = won  # outcome of the first deal (when it closes before end_date)
    A.p_win = p_win
    A.won = won | (A.scen == LTW)  # eventually a customer
    wa = np.flatnonzero(won)
    ev.add(wa, A.close[wa], _T["contract_signed"], outcome=_O["completed"])
    ltw = np.flatnonzero(A.scen == LTW)
    ev.add(ltw, A.close2[ltw], _T["contract_signed"], outcome=_O["completed"])
    A.final_close = np.where(A.scen == LTW, A.close2, A.close)
    # nurture: stalled and lost accounts keep reading (up to a year, until a re-engagement)
    lost_or_stalled = (~won) & (A.scen != XSELL)
    acc = np.flatnonzero(lost_or_stalled)
    s = A.nurture_start[acc]
    e_ = np.minimum(s + 365, ctx.H)
    e_ = np.where(A.scen[acc] == LTW, np.minimum(e_, A.re_start[acc] - 1), e_)
    e_ = np.maximum(e_, s)
    types = np.array([_T[k] for k in _NURTURE_RATES])
    rates = np.array(list(_NURTURE_RATES.values())).T  # [persona, K]
    lam = ((e_ - s) / 30.0)[:, None] * rates[A.persona[acc]] * A.activity[acc, None]
    a, t, k = _poisson_events(rng, acc, s, e_, lam, types, np.zeros(len(types)), np.ones(len(types)))
    ev.add(a, t, k)


