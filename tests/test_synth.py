"""Tests of journeylib.synth: contract, determinism, planted behaviour and truth consistency."""
from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from journeylib import synth
from journeylib.synth import params as synth_params
from journeylib.errors import ParameterError
from journeylib.schema import TABLES
from journeylib.stages import default_lifecycle
from journeylib.synth import XSS_ACCOUNT_NAME, generate, write

END = "2026-10-31"
END_TS = pd.Timestamp(END, tz="UTC") + pd.Timedelta(days=1)  # end of the last day (exclusive)
TRUTH_FILES = ["channel_effects.json", "churn.csv", "churn_drivers.json", "deal_cycles.json", "personas.csv",
               "scenarios.csv", "time_to_value.json"]


@pytest.fixture(scope="module")
def small():
    return generate(300, seed=1)


@pytest.fixture(scope="module")
def sample():
    return generate(2000, seed=7)


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_equal_tables_and_truth(small):
    again = generate(300, seed=1)
    for name, df in small.tables.items():
        pd.testing.assert_frame_equal(df, again.tables[name], check_exact=True)
    for name in ("personas", "churn", "scenarios"):
        pd.testing.assert_frame_equal(small.truth[name], again.truth[name], check_exact=True)
    for name in ("time_to_value", "churn_drivers", "channel_effects"):
        assert small.truth[name] == again.truth[name]
    assert (small.end_date, small.seed, small.start_date) == (END, 1, "2023-11-01")


def test_different_seed_gives_different_data(small):
    other = generate(300, seed=2)
    assert not small.tables["touchpoints"].equals(other.tables["touchpoints"])
    assert not small.tables["accounts"]["name"].equals(other.tables["accounts"]["name"])
    assert not small.truth["personas"].equals(other.truth["personas"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_is_byte_identical(small, tmp_path, fmt):
    a = write(small, tmp_path / "a", fmt)
    b = write(generate(300, seed=1), tmp_path / "b", fmt)
    fa, fb = _files(tmp_path / "a"), _files(tmp_path / "b")
    ext = ".csv.gz" if fmt == "csv" else ".parquet"
    assert sorted(fa) == sorted([f"{t}{ext}" for t in TABLES] + [f"truth/{f}" for f in TRUTH_FILES])
    assert len(a) == len(b) == len(fa)
    for name in fa:
        assert fa[name] == fb[name], name
    # overwriting gives the same bytes again
    write(small, tmp_path / "a", fmt)
    assert _files(tmp_path / "a") == fa


def test_csv_round_trip_and_formats(small, tmp_path):
    write(small, tmp_path, "csv")
    tp = pd.read_csv(tmp_path / "touchpoints.csv.gz", dtype=str, keep_default_na=False)
    assert list(tp.columns) == TABLES["touchpoints"].names
    assert len(tp) == len(small.tables["touchpoints"])
    assert tp["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00").all()
    assert tp["event_id"].str.fullmatch(r"E\d{7}").all()
    back = pd.to_datetime(tp["timestamp"], utc=True)
    assert (back.to_numpy() == small.tables["touchpoints"]["timestamp"].to_numpy()).all()
    sub = pd.read_csv(tmp_path / "subscriptions.csv.gz", dtype=str, keep_default_na=False)
    assert sub["start_date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert sub["end_date"].str.fullmatch(r"(\d{4}-\d\d-\d\d)?").all()
    assert (sub["end_date"] == "").sum() == small.tables["subscriptions"]["end_date"].isna().sum()
    usage = pd.read_csv(tmp_path / "usage.csv.gz", dtype=str)
    assert usage["date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    churn = pd.read_csv(tmp_path / "truth" / "churn.csv", dtype=str, keep_default_na=False)
    assert list(churn.columns) == ["snapshot_date", "account_id", "p_churn_90d", "churned_90d"]
    assert set(churn["churned_90d"]) == {"0", "1", ""}
    drivers = json.loads((tmp_path / "truth" / "churn_drivers.json").read_text())
    assert set(drivers["drivers"]) == set(synth.CHURN_COEFFICIENTS)
    assert json.loads((tmp_path / "truth" / "channel_effects.json").read_text()) == synth.CHANNEL_EFFECTS


def test_write_duckdb(small, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    written = write(small, tmp_path, "duckdb")
    assert written[0].name == "journey.duckdb"
    assert (tmp_path / "truth" / "personas.csv").is_file()
    write(small, tmp_path, "duckdb")  # overwrite works
    con = duckdb.connect(str(tmp_path / "journey.duckdb"), read_only=True)
    try:
        for name, df in small.tables.items():
            assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(df)
            cols = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
            assert cols == TABLES[name].names
    finally:
        con.close()


def test_bad_parameters():
    with pytest.raises(ParameterError, match="n_accounts must be a whole number >= 1; got 0$"):
        generate(0)
    with pytest.raises(ParameterError, match=r"end_date 'not a date' is not a date or timestamp \(e.g. '2026-10-31'\)"):
        generate(10, end_date="not a date")
    with pytest.raises(ParameterError, match="start_date"):
        generate(10, start_date="2026-10-01")
    with pytest.raises(ParameterError, match=r"format must be one of csv, parquet, duckdb; got 'parket' "
                                             r"\(did you mean 'parquet'\?\)"):
        write(generate(10), "/nonexistent-never-created", "parket")


# ----------------------------------------------------------------------------- the contract
def test_tables_have_exactly_the_contract_columns(small):
    assert list(small.tables) == list(TABLES)
    for name, df in small.tables.items():
        assert list(df.columns) == TABLES[name].names, name
        assert len(df) > 0, name
        for col in TABLES[name].required_columns:
            assert df[col].notna().all(), (name, col)


def test_touchpoints_use_only_mapped_names(small):
    lc = default_lifecycle()
    tp = small.tables["touchpoints"]
    names = set(tp["touchpoint"].str.lower())
    assert names <= set(lc.touchpoints)
    assert len(names) >= 50  # the generator uses nearly the whole vocabulary
    assert set(synth_params._TP_NAMES) <= set(lc.touchpoints)
    explicit = tp["stage"].dropna()
    assert 0 < len(explicit) < 0.05 * len(tp)
    assert set(explicit) <= set(lc.ids)


def test_timestamps_are_utc_and_within_the_history(small):
    for name, df in small.tables.items():
        for col in TABLES[name].columns:
            if col.kind != "time":
                continue
            s = df[col.name]
            assert isinstance(s.dtype, pd.DatetimeTZDtype), (name, col.name)
            assert str(s.dt.tz) == "UTC"
            assert s.max() < END_TS, (name, col.name)
            assert s.min() >= pd.Timestamp("2023-10-01", tz="UTC"), (name, col.name)
    for (table, col) in synth_params._DATE_ONLY:
        s = small.tables[table][col].dropna()
        assert (s == s.dt.normalize()).all(), (table, col)
    churn = small.truth["churn"]
    assert (churn["snapshot_date"] == churn["snapshot_date"].dt.normalize()).all()
    assert churn["snapshot_date"].dt.is_month_end.all()


def test_end_date_cuts_history():
    ds = generate(200, seed=3, end_date="2025-06-30", start_date="2024-01-01")
    end = pd.Timestamp("2025-07-01", tz="UTC")
    for name, df in ds.tables.items():
        for col in TABLES[name].columns:
            if col.kind == "time":
                assert df[col.name].max() < end, (name, col.name)
    assert ds.tables["accounts"]["created_at"].min() >= pd.Timestamp("2024-01-01", tz="UTC")
    opp = ds.tables["opportunities"]
    assert ((opp["status"] == "open") == opp["closed_at"].isna()).all()


def test_ids_unique_and_references_exist(small):
    t = small.tables
    patterns = {"accounts": r"A\d{5}", "contacts": r"C\d{6}", "leads": r"L\d{6}", "opportunities": r"O\d{6}",
                "tickets": r"K\d{6}", "touchpoints": r"E\d{7}"}
    for name, spec in TABLES.items():
        if spec.key:
            ids = t[name][spec.key]
            assert ids.notna().all() and ids.is_unique, name
            assert ids.str.fullmatch(patterns[name]).all(), name
    accounts = set(t["accounts"]["account_id"])
    contacts = t["contacts"].set_index("contact_id")["account_id"]
    for name, df in t.items():
        assert set(df["account_id"].dropna()) <= accounts, name
        if "contact_id" in df.columns and name != "contacts":
            c = df[["contact_id", "account_id"]].dropna()
            assert set(c["contact_id"]) <= set(contacts.index), name
            # a contact belongs to the account of the row
            assert (contacts.loc[c["contact_id"]].to_numpy() == c["account_id"].to_numpy()).all(), name
    parents = t["accounts"]["parent_account_id"].dropna()
    assert len(parents) > 0 and set(parents) <= accounts
    lead_opps = t["leads"]["opportunity_id"].dropna()
    assert set(lead_opps) <= set(t["opportunities"]["opportunity_id"])
    assert set(small.truth["personas"]["account_id"]) == accounts
    assert set(small.truth["scenarios"]["account_id"]) == accounts
    assert set(small.truth["churn"]["account_id"]) <= set(t["subscriptions"]["account_id"])


def test_xss_probe_account_exactly_once(small, sample):
    for ds in (small, sample):
        names = ds.tables["accounts"]["name"]
        assert (names == XSS_ACCOUNT_NAME).sum() == 1
        assert names.str.contains("onerror", regex=False).sum() == 1
    acc = sample.tables["accounts"]
    assert acc.loc[acc["name"] == XSS_ACCOUNT_NAME, "account_id"].item() >= "A00042"


def test_contacts_and_committees(sample):
    c = sample.tables["contacts"]
    assert set(c["role"]) == {"champion", "economic_buyer", "technical_evaluator", "procurement", "end_user"}
    assert set(c["seniority"]) <= {"c_level", "vp", "director", "manager", "individual"}
    assert (c.groupby("account_id")["role"].apply(lambda r: (r == "economic_buyer").sum()) == 1).all()
    assert c["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d*@[a-z0-9-]+\.example").all()
    assert c.groupby("account_id")["email"].apply(lambda e: e.is_unique).all()
    size = c.groupby("account_id").size().rename("n").reset_index().merge(sample.truth["personas"])
    med = size.groupby("persona")["n"].median()
    assert med["enterprise_committee"] >= 6 and med["smb_self_serve"] <= 2


def test_sample_size_and_volume(sample):
    n_tp = len(sample.tables["touchpoints"])
    assert 150_000 <= n_tp <= 300_000
    assert len(sample.tables["accounts"]) == 2000


# ----------------------------------------------------------------------------- journeys
def _backward_accounts(ds):
    lc = default_lifecycle()
    tp = ds.tables["touchpoints"].sort_values(["account_id", "timestamp", "event_id"])
    stage = tp["stage"].where(tp["stage"].notna(), tp["touchpoint"].str.lower().map(lc.touchpoints))
    order = stage.map(lc.order)
    keep = ~stage.isin(lc.recurring)
    seq = pd.DataFrame({"account_id": tp["account_id"][keep], "o": order[keep]})
    prev = seq.groupby("account_id")["o"].shift()
    seq["back"] = seq["o"] < prev
    seq["fwd"] = seq["o"] > prev
    return seq.groupby("account_id")[["back", "fwd"]].sum()


def test_journeys_are_non_linear(sample):
    moves = _backward_accounts(sample)
    customers = set(sample.tables["subscriptions"]["account_id"])
    cm = moves.loc[sorted(customers)]
    assert (cm["back"] > 0).mean() > 0.2
    # but mostly forward over the whole data
    assert moves["fwd"].sum() > moves["back"].sum()
    # a second demo after a proposal (planted re-evaluation loop) is common
    tp = sample.tables["touchpoints"]
    first_prop = tp[tp["touchpoint"] == "proposal_sent"].groupby("account_id")["timestamp"].min()
    demos = tp[tp["touchpoint"] == "demo"].merge(first_prop.rename("prop"), on="account_id")
    assert demos.loc[demos["timestamp"] > demos["prop"], "account_id"].nunique() > 0.2 * first_prop.size
    # support is recurring: tickets happen across the whole customer life
    assert tp.loc[tp["touchpoint"] == "support_ticket", "account_id"].nunique() > 0.8 * len(customers)


def test_demos_and_webinars_have_no_shows_and_forms_are_abandoned(sample):
    tp = sample.tables["touchpoints"]
    by = tp.groupby("touchpoint")["outcome"]
    assert set(by.get_group("demo")) == {"attended", "no_show"}
    assert set(by.get_group("webinar")) == {"attended", "no_show"}
    assert set(by.get_group("contact_form")) == {"submitted", "abandoned"}
    paid = tp["channel"].isin(["paid_search", "paid_social", "display"])
    assert tp.loc[paid, "cost"].notna().all() and (tp.loc[paid, "cost"] > 0).all()
    assert tp.loc[paid, "campaign"].notna().all()
    assert tp.loc[tp["channel"].isin(["sales", "support", "customer_success"]), "cost"].isna().all()


def test_lead_funnel(sample):
    leads = sample.tables["leads"]
    acc = sample.tables["accounts"].set_index("account_id")
    first_tp = sample.tables["touchpoints"].groupby("account_id")["timestamp"].min()
    assert (first_tp.reindex(acc.index) == acc["created_at"]).all()
    first_lead = leads.sort_values("created_at").groupby("account_id")["created_at"].first()
    assert (first_lead.reindex(acc.index) == acc["created_at"]).all()
    assert (leads["mql_at"].dropna() >= leads.loc[leads["mql_at"].notna(), "created_at"]).all()
    both = leads.dropna(subset=["mql_at", "sql_at"])
    assert (both["sql_at"] >= both["mql_at"]).all()
    assert leads["sql_at"].notna().sum() < leads["mql_at"].notna().sum() < len(leads)
    assert leads.loc[leads["sql_at"].notna(), "opportunity_id"].notna().mean() > 0.99


# ----------------------------------------------------------------------------- scenarios
def test_scenario_shares(sample):
    share = sample.truth["scenarios"]["scenario"].value_counts(normalize=True)
    assert set(share.index) == set(synth.SCENARIOS)
    for s in ("churned_after_one_year", "cross_sell_upsell_referral", "lost_then_won"):
        assert share[s] >= 0.05, s


def test_lost_then_won(sample):
    sc = sample.truth["scenarios"]
    opp = sample.tables["opportunities"]
    new = opp[opp["type"] == "new"]
    ids = sc.loc[sc["scenario"] == "lost_then_won", "account_id"]
    assert len(ids) >= 100
    for a in ids:
        o = new[new["account_id"] == a]
        lost = o.loc[o["status"] == "lost", "closed_at"]
        won = o.loc[o["status"] == "won", "closed_at"]
        assert len(lost) == 1 and len(won) == 1, a
        gap = (won.iloc[0] - lost.iloc[0]).days
        assert 300 <= gap <= 520, (a, gap)
    tp = sample.tables["touchpoints"]
    launch = tp[tp["campaign"].fillna("").str.startswith("feature_launch_")]
    assert set(launch["account_id"]) == set(ids)


def test_churned_after_one_year(sample):
    sc = sample.truth["scenarios"]
    sub = sample.tables["subscriptions"]
    ids = sc.loc[sc["scenario"] == "churned_after_one_year", "account_id"]
    first = sub.groupby("account_id").agg(start=("start_date", "min"), end=("end_date", "max"),
                                          active=("end_date", lambda e: e.isna().any()))
    f = first.loc[ids]
    known = f[f["start"] + pd.Timedelta(days=456) <= END_TS - pd.Timedelta(days=1)]
    assert len(known) >= 60
    assert not known["active"].any()
    months = (known["end"] - known["start"]).dt.days / 30.4375
    assert months.between(9, 15).all()
    # and they came in through a paid ad, looked at alternatives, saw a demo
    tp = sample.tables["touchpoints"]
    first_tp = tp.sort_values("timestamp").groupby("account_id")["touchpoint"].first().loc[ids]
    assert first_tp.isin(["paid_search_ad", "paid_social_ad", "display_ad"]).all()
    assert set(ids) <= set(tp.loc[tp["touchpoint"] == "comparison_site_visit", "account_id"])
    assert (sample.truth["personas"].set_index("account_id").loc[ids, "persona"] == "at_risk_low_adopter").all()


def test_cross_sell_upsell_referral(sample):
    sc = sample.truth["scenarios"].set_index("account_id")["scenario"]
    acc = sample.tables["accounts"].set_index("account_id")
    opp = sample.tables["opportunities"]
    sub = sample.tables["subscriptions"]
    fam = sc[sc == "cross_sell_upsell_referral"].index
    parents = [a for a in fam if pd.isna(acc.loc[a, "parent_account_id"])]
    children = [a for a in fam if pd.notna(acc.loc[a, "parent_account_id"])]
    assert len(parents) >= 30 and len(children) >= 2 * len(parents)
    assert set(acc.loc[children, "parent_account_id"]) == set(parents)
    # every parent has child accounts and an upsell to enterprise (won expansion, new enterprise row)
    kids_per_parent = acc.loc[children, "parent_account_id"].value_counts()
    assert (kids_per_parent.reindex(parents).fillna(0) >= 2).all()
    exp = opp[(opp["type"] == "expansion") & opp["account_id"].isin(parents)]
    assert set(exp["account_id"]) == set(parents)
    assert (exp["status"] == "won").all()
    up = sub[sub["account_id"].isin(parents)].sort_values("start_date").groupby("account_id")
    assert (up["plan"].last() == "enterprise").all() and (up["plan"].first() == "growth").all()
    years = (up["start_date"].last() - up["start_date"].first()).dt.days / 365.25
    assert years.between(1.6, 2.4).all()
    # children: cross-sold without competition (won), via a referral, all retained
    new = opp[(opp["type"] == "new") & opp["account_id"].isin(children)]
    assert (new["status"] == "won").all() or set(new.loc[new["status"] != "won", "status"]) == {"open"}
    tp = sample.tables["touchpoints"]
    assert set(children) <= set(tp.loc[tp["touchpoint"] == "referral_intro", "account_id"])
    fam_sub = sub[sub["account_id"].isin(fam)]
    assert fam_sub["end_date"].isna().groupby(fam_sub["account_id"]).any().all()
    # all units of a family share the company's e-mail domain
    c = sample.tables["contacts"]
    dom = c.assign(d=c["email"].str.split("@").str[1]).merge(acc["parent_account_id"].reset_index())
    dom["root"] = dom["parent_account_id"].fillna(dom["account_id"])
    assert (dom[dom["root"].isin(parents)].groupby("root")["d"].nunique() == 1).all()


def test_expansion_rows_chain(sample):
    sub = sample.tables["subscriptions"].sort_values(["account_id", "start_date"])
    nxt = sub.groupby("account_id")["start_date"].shift(-1)
    chained = nxt.notna()
    assert chained.sum() > 50
    assert (sub.loc[chained, "end_date"] == nxt[chained] - pd.Timedelta(days=1)).all()
    later = sub.groupby("account_id")["mrr"].shift(-1)
    assert (later[chained] > sub.loc[chained, "mrr"]).all()
    assert (sub["end_date"].isna() | (sub["end_date"] >= sub["start_date"])).all()


# ----------------------------------------------------------------------------- churn truth
def test_churn_truth_shape_and_missingness(sample):
    ch = sample.truth["churn"]
    assert list(ch.columns) == ["snapshot_date", "account_id", "p_churn_90d", "churned_90d"]
    assert ch["p_churn_90d"].between(0, 1).all()
    assert str(ch["churned_90d"].dtype) == "Int64"
    unknown = ch["snapshot_date"] + pd.Timedelta(days=90) > pd.Timestamp(END, tz="UTC")
    assert (ch["churned_90d"].isna() == unknown).all()
    assert not ch.duplicated(["snapshot_date", "account_id"]).any()
    # churned_90d agrees with the subscriptions' end dates
    end = sample.tables["subscriptions"].groupby("account_id")["end_date"].max()
    active = sample.tables["subscriptions"].groupby("account_id")["end_date"].apply(lambda e: e.isna().any())
    k = ch.dropna(subset=["churned_90d"]).copy()
    e = k["account_id"].map(end)
    churn_date = e.where(~k["account_id"].map(active))
    expected = (churn_date <= k["snapshot_date"] + pd.Timedelta(days=90)).astype(int)
    assert (expected.to_numpy() == k["churned_90d"].astype(int).to_numpy()).all()
    assert (churn_date.isna() | (churn_date > k["snapshot_date"])).all()


def test_churn_probabilities_are_calibrated(sample):
    ch = sample.truth["churn"].dropna(subset=["churned_90d"])
    y = ch["churned_90d"].astype(float)
    p = ch["p_churn_90d"]
    # windows of one account three months apart do not overlap, so given the past each is a
    # Bernoulli(p): the sum of (y - p) is a martingale with variance sum p(1-p)
    for phase in range(3):
        m = (ch["snapshot_date"].dt.month % 3) == phase
        se = math.sqrt((p[m] * (1 - p[m])).sum()) / m.sum()
        assert abs(y[m].mean() - p[m].mean()) < 4 * se, phase
    assert y.sum() > 300
    top = p >= p.quantile(0.9)
    bottom = p <= p.median()
    assert y[top].mean() > 4 * y[bottom].mean()
    assert y[top].mean() > 0.2


def test_churn_by_persona_and_scenario(sample):
    ch = sample.truth["churn"].merge(sample.truth["personas"]).merge(sample.truth["scenarios"])
    rate = ch.groupby("persona")["p_churn_90d"].mean()
    assert rate["at_risk_low_adopter"] > 2 * rate["technical_adopter"]
    fam = ch[ch["scenario"] == "cross_sell_upsell_referral"]
    assert (fam["p_churn_90d"] == 0).all()


def _driver_features(ds, rows):
    """Recompute the churn drivers of truth/churn_drivers.json from the tables, as documented."""
    t = ds.tables
    usage = t["usage"].sort_values(["account_id", "date"])
    sub = t["subscriptions"].sort_values(["account_id", "start_date"])
    tickets = t["tickets"]
    hp = tickets[tickets["priority"].isin(["high", "urgent"])]
    nps = t["surveys"][t["surveys"]["kind"] == "nps"]
    roles = t["contacts"].set_index("contact_id")["role"]
    tp = t["touchpoints"]
    ex = tp[tp["contact_id"].map(roles) == "economic_buyer"]
    out = []
    for a, snap in rows:
        s_end = snap + pd.Timedelta(days=1)
        u = usage[(usage["account_id"] == a) & (usage["date"] <= snap)]
        sa = sub[sub["account_id"] == a]
        cur = sa[(sa["start_date"] <= snap)].iloc[-1]
        x = {"seat_utilisation": u["seats_used"].iloc[-1] / cur["seats_purchased"]}
        if len(u) >= 8:
            au = u["active_users"].to_numpy()[-8:]
            x["active_users_trend"] = math.log((au[4:].mean() + 1) / (au[:4].mean() + 1))
        else:
            x["active_users_trend"] = 0.0
        h = hp[hp["account_id"] == a]["opened_at"]
        x["high_priority_tickets_90d"] = float(((h > s_end - pd.Timedelta(days=90)) & (h <= s_end)).sum())
        n = nps[(nps["account_id"] == a) & (nps["date"] <= snap)]
        latest = n.loc[n["date"] == n["date"].max(), "score"]
        x["nps_detractor"] = float(len(n) > 0 and latest.mean() <= 6)
        e = ex[ex["account_id"] == a]["timestamp"]
        x["exec_engaged_180d"] = float(((e > s_end - pd.Timedelta(days=180)) & (e <= s_end)).any())
        x["plan_starter"] = float(cur["plan"] == "starter")
        x["plan_enterprise"] = float(cur["plan"] == "enterprise")
        first = sa["start_date"].iloc[0]
        nxt = snap + pd.offsets.MonthEnd(1)
        k = max(math.ceil((snap + pd.Timedelta(days=1) - first).days / 365), 1)
        ann = first + pd.Timedelta(days=365 * k)
        x["renewal_month"] = float(snap < ann <= nxt)
        out.append(x)
    return out


def test_churn_truth_follows_the_documented_drivers(small):
    """p_churn_90d equals the documented hazard model applied to drivers recomputed from the tables."""
    drivers = small.truth["churn_drivers"]
    coef = {k: v["coefficient"] for k, v in drivers["drivers"].items()}
    ch = small.truth["churn"].merge(small.truth["scenarios"])
    end = pd.Timestamp(END, tz="UTC")
    # survivors of the window (their next month ends are in the tables), standard accounts
    cand = ch[(ch["scenario"] == "standard") & (ch["churned_90d"] == 0)
              & (ch["snapshot_date"] + pd.Timedelta(days=120) <= end)]
    cand = cand.sample(n=min(60, len(cand)), random_state=0)
    assert len(cand) >= 40
    for _, row in cand.iterrows():
        snaps = [row["snapshot_date"] + pd.offsets.MonthEnd(k) for k in range(4)]
        feats = _driver_features(small, [(row["account_id"], s) for s in snaps])
        target = snaps[0] + pd.Timedelta(days=90)
        cum = 0.0
        for k in range(4):
            lo = snaps[k]
            if lo >= target:
                break
            hi = target if k == 3 else min(snaps[k + 1], target)
            eta = drivers["baseline"] + sum(coef[c] * feats[k][c] for c in coef)
            cum += math.exp(eta) / 30.4375 * (hi - lo).days
        p = 1 - math.exp(-cum)
        assert p == pytest.approx(row["p_churn_90d"], abs=2e-6), row.to_dict()


# ----------------------------------------------------------------------------- time to value
def test_time_to_value_truth_medians():
    stats = pytest.importorskip("scipy.stats")
    ttv = generate(20, seed=0).truth["time_to_value"]
    assert set(ttv) == {"starter", "growth", "enterprise"}
    for plan, spec in ttv.items():
        dist = getattr(stats, spec["scipy"])(**spec["params"])
        assert spec["median_days"] == pytest.approx(dist.median(), rel=1e-9), plan
        assert set(spec) >= {"distribution", "params", "median_days"}


def test_time_to_value_is_recovered_from_usage(sample):
    stats = pytest.importorskip("scipy.stats")
    ttv = sample.truth["time_to_value"]
    sub = sample.tables["subscriptions"].sort_values("start_date").groupby("account_id").first()
    sub = sub[sub["start_date"] <= pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=400)]
    usage = sample.tables["usage"].merge(sub[["seats_purchased", "start_date"]].reset_index(), on="account_id")
    thr = np.ceil(0.25 * usage["seats_purchased"])
    reached = usage[usage["active_users"] >= thr].groupby("account_id")["date"].min()
    # every earlier week is below the threshold, the first reached week is never before the start week
    lower = (reached - sub["start_date"].reindex(reached.index)).dt.days
    assert (lower > -7).all()
    for plan, spec in ttv.items():
        ids = sub.index[sub["plan"] == plan]
        lo = lower.reindex(ids).fillna(np.inf).to_numpy()
        assert len(ids) >= 50, plan
        dist = getattr(stats, spec["scipy"])(**spec["params"])
        m = spec["median_days"]
        se = 1.0 / (2 * dist.pdf(m) * math.sqrt(len(ids)))
        assert np.median(lo) - 4 * se <= m <= np.median(lo + 7) + 4 * se, (plan, np.median(lo), m)
    # plans differ as planted
    assert ttv["starter"]["median_days"] < ttv["growth"]["median_days"] < ttv["enterprise"]["median_days"]


# ----------------------------------------------------------------------------- personas and channels
def test_personas_differ_in_firmographics_and_behaviour(sample):
    acc = sample.tables["accounts"].merge(sample.truth["personas"])
    emp = acc.groupby("persona")["employees"].median()
    assert emp["enterprise_committee"] > 5 * emp["mid_market_evaluator"] > 25 * emp["smb_self_serve"]
    tp = sample.tables["touchpoints"].merge(sample.truth["personas"])
    mix = pd.crosstab(tp["persona"], tp["touchpoint"], normalize="index")
    assert mix.loc["enterprise_committee", "onsite_meeting"] > 3 * mix.loc["mid_market_evaluator", "onsite_meeting"]
    assert mix.loc["technical_adopter", "knowledge_base_visit"] == mix["knowledge_base_visit"].max()
    assert mix.loc["mid_market_evaluator", "whitepaper_download"] > 3 * mix.loc["smb_self_serve", "whitepaper_download"]
    use = sample.tables["usage"].merge(sample.truth["personas"])
    events = use.groupby("persona")["events"].mean()
    assert events.idxmax() in ("technical_adopter", "enterprise_committee")
    sub = sample.tables["subscriptions"]
    single = sub.groupby("account_id").filter(lambda g: len(g) == 1)[["account_id", "seats_purchased"]]
    use = use.merge(single, on="account_id")
    util = (use["seats_used"] / use["seats_purchased"]).groupby(use["persona"]).mean()
    assert util.idxmin() == "at_risk_low_adopter"
    assert util["technical_adopter"] > 1.5 * util["at_risk_low_adopter"]


@pytest.fixture(scope="module")
def big():
    t = time.perf_counter()
    ds = generate(12000, seed=11)
    return ds, time.perf_counter() - t


@pytest.mark.slow
def test_one_million_touchpoints_in_under_30_seconds(big):
    ds, seconds = big
    assert len(ds.tables["touchpoints"]) >= 1_000_000
    assert seconds < 30


@pytest.mark.slow
def test_channel_effects_are_recovered(big):
    """A logistic regression of standard deals on the channels touched before the close recovers the truth."""
    ds, _ = big
    opp = ds.tables["opportunities"]
    sc = ds.truth["scenarios"]
    std = set(sc.loc[sc["scenario"] == "standard", "account_id"])
    deals = opp[(opp["type"] == "new") & opp["status"].isin(["won", "lost"]) & opp["account_id"].isin(std)]
    tp = ds.tables["touchpoints"].merge(deals[["account_id", "closed_at"]], on="account_id")
    tp = tp[tp["timestamp"] < tp["closed_at"]]
    touched = pd.crosstab(tp["account_id"], tp["channel"]).clip(upper=1).reindex(deals["account_id"]).fillna(0)
    personas = ds.truth["personas"].set_index("account_id")["persona"].reindex(deals["account_id"])
    effects = ds.truth["channel_effects"]
    varying = [c for c in touched.columns if 0.05 < touched[c].mean() < 0.95]
    X = pd.concat([pd.get_dummies(personas, dtype=float), touched[varying]], axis=1).to_numpy()
    y = (deals["status"] == "won").to_numpy().astype(float)
    beta = np.zeros(X.shape[1])
    for _ in range(25):  # Newton-Raphson for the unpenalised logistic regression
        p = 1 / (1 + np.exp(-X @ beta))
        info = X.T @ (X * (p * (1 - p))[:, None])
        beta += np.linalg.solve(info, X.T @ (y - p))
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    k = len(synth.PERSONAS)
    for j, c in enumerate(varying):
        assert abs(beta[k + j] - effects[c]) < 4 * se[k + j], (c, beta[k + j], effects[c], se[k + j])
    assert {"display", "event", "partner", "paid_social", "organic"} <= set(varying)
