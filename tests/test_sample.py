"""The bundled sample, the synthetic data through load() in every format, and the CRM presets through load()."""
from __future__ import annotations

import filecmp

import pandas as pd
import pytest

import journeylib
from journeylib import synth

from conftest import REPO

SAMPLE = REPO / "data" / "sample"


def test_bundled_sample_is_what_the_generator_writes(tmp_path):
    """data/sample/ equals `journey synth --accounts 2000 --seed 7 --end-date 2026-10-31` byte for byte."""
    synth.write(synth.generate(2000, seed=7, end_date="2026-10-31"), tmp_path, format="csv")
    ours = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert ours == fresh
    different = [str(p) for p in ours if not filecmp.cmp(SAMPLE / p, tmp_path / p, shallow=False)]
    assert not different, f"regenerate with `make synth-sample`: {different}"


def test_sample_loads_clean_and_balanced(sample):
    data = sample
    counts = data.report().counts.set_index("table")
    assert (counts["rows_read"] == counts["rows_used"] + counts["rows_set_aside"]).all()
    assert counts.loc["accounts", "rows_used"] == 2000
    assert counts["errors"].sum() == 0
    personas = pd.read_csv(SAMPLE / "truth" / "personas.csv", dtype=str)
    assert set(personas["account_id"]) == set(data.accounts["account_id"])
    assert data.touchpoints["stage"].notna().all()
    assert (data.accounts["name"] == synth.XSS_ACCOUNT_NAME).sum() == 1


def test_earlier_as_of_sets_later_rows_aside_and_matches_a_shorter_history(sample):
    data = journeylib.load(None, as_of="2026-06-30")
    q = data.quarantine
    assert (q["severity"] == "out_of_window").all() and len(q) > 0
    assert (data.touchpoints["timestamp"] <= pd.Timestamp("2026-06-30T23:59:59.999999999Z")).all()
    full = sample
    later = (full.touchpoints["timestamp"] > data.cutoff).sum()
    assert (q["table"] == "touchpoints").sum() == later


@pytest.fixture(scope="module")
def synth_formats(tmp_path_factory):
    dataset = synth.generate(150, seed=3, end_date="2026-10-31")
    out = {}
    for fmt in ("csv", "parquet", "duckdb"):
        folder = tmp_path_factory.mktemp(fmt)
        synth.write(dataset, folder, format=fmt)
        out[fmt] = str(folder / "journey.duckdb") if fmt == "duckdb" else str(folder)
    return out


def test_synthetic_data_is_equal_in_every_format(synth_formats):
    loaded = {fmt: journeylib.load(src, as_of="2026-10-31") for fmt, src in synth_formats.items()}
    ref = loaded["csv"]
    for fmt, data in loaded.items():
        for table in journeylib.schema.TABLES:
            pd.testing.assert_frame_equal(data.table(table), ref.table(table), obj=f"{fmt}.{table}")
        assert data.fingerprint() == ref.fingerprint()


def _set_aside(data):
    return sorted(zip(data.quarantine["table"], data.quarantine["source"], data.quarantine["row"],
                      data.quarantine["reasons"]))


def test_salesforce_export_through_load():
    data = journeylib.load(REPO / "tests" / "fixtures" / "salesforce", mapping="salesforce", as_of="2025-05-20")
    report = data.report()
    assert report.balanced
    counts = report.counts.set_index("table")
    assert counts["rows_read"].to_dict() == {"accounts": 6, "touchpoints": 17, "contacts": 9, "leads": 5,
                                             "opportunities": 7}  # 17 touchpoints = 6 tasks + 4 events + 7 members
    # a task with no account or contact, and two campaign members whose contact is unknown: no account reachable
    assert _set_aside(data) == [("touchpoints", "CampaignMember.csv", 4, "missing_id"),
                                ("touchpoints", "CampaignMember.csv", 5, "missing_id;unknown_contact"),
                                ("touchpoints", "Task.csv", 4, "missing_id")]
    assert set(data.opportunities["status"]) <= {"open", "won", "lost"}
    assert data.contacts["role"].notna().sum() == 8  # one contact has no Title
    assert set(data.touchpoints["stage"].astype(str)) <= set(data.lifecycle.ids)


def test_hubspot_export_through_load():
    with pytest.warns(journeylib.FreshnessWarning, match="touchpoints end on 2024-02-20"):
        data = journeylib.load(REPO / "tests" / "fixtures" / "hubspot", mapping="hubspot", as_of="2025-01-10")
    assert data.report().balanced
    assert _set_aside(data) == [("contacts", "contacts.csv", 5, "missing_id"),
                                ("leads", "contacts.csv", 5, "unknown_contact"),
                                ("touchpoints", "engagements.csv", 4, "unmapped_touchpoint"),
                                ("touchpoints", "engagements.csv", 6, "missing_id;unknown_contact"),
                                ("touchpoints", "engagements.csv", 7, "unmapped_touchpoint")]
    assert data.leads["mql_at"].notna().any()
    assert list(data.report().unmapped["touchpoint"]) == ["NOTE", "TASK"]
