"""CRM exports as they really come (issue #13): optional tables missing, Salesforce's two id forms.

The fixture ``tests/fixtures/salesforce_mixed`` follows Salesforce's documented exports: Data Loader /
Data Export files carry API names and 18-character, case-safe ids (``Account.csv``, ``Contact.csv``,
``CampaignMember.csv``); report exports carry column labels and 15-character ids
(``Opportunity Report.csv``, ``Task Report.csv``); ``Campaign.csv`` was not exported.
"""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

import journeylib
from journeylib.data.mapping import load_mapping
from journeylib.data.record_ids import salesforce_id18
from journeylib.errors import MappingError

from conftest import REPO

MIXED = REPO / "tests" / "fixtures" / "salesforce_mixed"
SALESFORCE = REPO / "tests" / "fixtures" / "salesforce"


@pytest.mark.parametrize("id15, id18", [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),  # the example of Salesforce's CASESAFEID() documentation
    ("0015g00000XyZaB", "0015g00000XyZaBAAV"),
    ("0035g00000QrSTx", "0035g00000QrSTxAAN"),
    ("00T5g00000AbCdg", "00T5g00000AbCdgEAF"),
])
def test_a_15_character_salesforce_id_gets_its_case_safe_suffix(id15, id18):
    assert salesforce_id18(pd.Series([id15, id18, f" {id15} "])).tolist() == [id18, id18, id18]


def test_values_that_are_not_15_character_ids_are_left_as_they_are():
    values = pd.Series(["", None, "short", "0015g00000XyZa", "0015g00000XyZaB-", "ACME-0001-000-1"])
    assert salesforce_id18(values).tolist()[:5] == ["", None, "short", "0015g00000XyZa", "0015g00000XyZaB-"]
    assert salesforce_id18(values).iloc[5] == "ACME-0001-000-1"  # 15 characters, but not alphanumeric


def test_an_export_mixing_15_and_18_character_ids_joins_every_record():
    data = journeylib.load(MIXED, mapping="salesforce", as_of="2024-06-30")
    counts = data.report().counts.set_index("table")
    assert counts["rows_set_aside"].sum() == 0
    assert counts.loc[["accounts", "contacts", "opportunities", "touchpoints"], "rows_used"].tolist() == [3, 4, 3, 6]
    acme, borealis, cobalt = "0015g00000XyZaBAAV", "0015g00000XyZbCAAV", "0015g00000XyZcDAAV"
    assert data.opportunities.set_index("opportunity_id")["account_id"].to_dict() == {
        "0065g00000LmNoPAAV": acme, "0065g00000LmNoQAAV": borealis, "0065g00000LmNorAAF": cobalt}
    tp = data.touchpoints.set_index("event_id")
    # a report task with no Account ID: its 15-character contact id finds the contact (18) and its account
    assert tp.loc["00T5g00000AbCdgEAF", ["account_id", "contact_id"]].tolist() == [borealis, "0035g00000QrStwAAF"]
    assert tp.loc["00T5g00000AbCDhEAN", "account_id"] == cobalt


def test_without_one_id_form_the_same_export_loses_its_joins():
    """The control: the preset without ``ids: salesforce`` sets aside what the normalisation joins."""
    preset = load_mapping("salesforce")
    preset.ids = None
    with pytest.warns(journeylib.FreshnessWarning):  # the report tasks are lost: touchpoints seem to stop early
        data = journeylib.load(MIXED, mapping=preset, as_of="2024-06-30")
    counts = data.report().counts.set_index("table")
    assert counts.loc["opportunities", "rows_set_aside"] == 3  # every report opportunity: account unknown
    assert counts.loc["touchpoints", "rows_set_aside"] == 4  # every report task


def test_an_unknown_id_form_in_a_mapping_is_refused():
    with pytest.raises(MappingError, match=r"ids: unknown record-id form; got 'sap'. Known: salesforce"):
        load_mapping({"ids": "sap", "tables": {"accounts": {"from": "A", "columns": {"account_id": "Id"}}}})


def test_a_missing_optional_lookup_table_falls_back_to_the_presets_default(tmp_path):
    """The README's Salesforce file set, without Campaign.csv: loads, and the report says what was assumed."""
    src = tmp_path / "sfdc"
    shutil.copytree(SALESFORCE, src)
    (src / "Campaign.csv").unlink()
    data = journeylib.load(src, mapping="salesforce", as_of="2025-05-20")
    members = data.touchpoints[data.touchpoints["event_id"].str.startswith("00v")]  # CampaignMember ids
    assert set(members["touchpoint"]) == {"website_visit"} and set(members["channel"]) == {"marketing"}
    f = data.report().findings.set_index(["table", "column", "code"])
    for column, default in (("touchpoint", "website_visit"), ("channel", "marketing")):
        row = f.loc[("touchpoints", column, "mapping_default")]
        assert row["severity"] == "info" and row["rows"] == 7
        assert "no lookup table 'Campaign'" in row["message"] and f"default ('{default}')" in row["message"]
    # with Campaign.csv the same rows take the campaign's type
    full = journeylib.load(SALESFORCE, mapping="salesforce", as_of="2025-05-20")
    assert "mapping_default" not in set(full.report().findings["code"])
    full_members = full.touchpoints[full.touchpoints["event_id"].str.startswith("00v")]
    assert sorted(full_members["event_id"]) == sorted(members["event_id"]) and len(members) == 5
    assert set(full_members["touchpoint"]) != {"website_visit"}


# ----------------------------------------------------------------------------- a diagnosis, not a silent success
def _first(data):
    findings = data.report().findings
    assert findings.iloc[0]["code"] == "likely_cause", findings[["table", "code"]]
    return findings.iloc[0]


def test_mixed_id_forms_are_named_as_the_likely_cause():
    preset = load_mapping("salesforce")
    preset.ids = None
    with pytest.warns(journeylib.FreshnessWarning):
        data = journeylib.load(MIXED, mapping=preset, as_of="2024-06-30")
    causes = data.report().findings.query("code == 'likely_cause'").set_index("table")
    assert list(causes.index[:2]) == ["touchpoints", "opportunities"]  # first, in the order of the tables
    assert "ids are in two forms" in causes.loc["touchpoints", "message"]
    first = causes.loc["opportunities"]
    assert first["severity"] == "warning"
    assert first["message"].startswith("3 of 3 opportunities rows set aside (3 for unknown_account): likely cause: the "
                                       "ids are in two forms: Salesforce's 15-character ids")
    assert "--mapping salesforce" in first["suggestion"]
    text = str(data.report())
    assert text.index("Likely cause (opportunities)") < text.index("Tables")


def test_a_clickstream_whose_names_fit_no_stage_is_unusable_and_names_its_top_touchpoints(make_source, tmp_path):
    rows = ["account_id,timestamp,touchpoint"] + [f"A{i % 3 + 1},2026-10-{i % 28 + 1:02d},page_view:/pricing"
                                                  for i in range(7)]
    rows += [f"A1,2026-10-{i + 1:02d},signup_started" for i in range(3)] + ["A2,2026-10-05,Trial Expired"]
    src = make_source(touchpoints="\n".join(rows) + "\n")
    data = journeylib.load(src, as_of="2026-10-31")
    report = data.report()
    assert report.unusable == ["touchpoints"] and report.exit_code() == 3
    first = _first(data)
    assert first["severity"] == "error" and first["rows"] == 11
    assert ("likely cause: the touchpoint names fit no stage of the lifecycle; the most frequent: "
            "'page_view:/pricing' (7), 'signup_started' (3), 'Trial Expired' (1)") in first["message"]
    assert "DATA UNUSABLE: no usable row in touchpoints" in str(report)


@pytest.mark.parametrize("accounts, touchpoints, cause", [
    ("account_id,name\n0042,Acme\n0077,Beta\n",
     "account_id,timestamp,touchpoint\n42,2026-10-01,webinar\n77,2026-10-02,demo\n",
     "differ in leading zeros"),
    ("account_id,name\nACC-1,Acme\nACC-2,Beta\n",
     "account_id,timestamp,touchpoint\nacc-1,2026-10-01,webinar\nacc-2 ,2026-10-02,demo\nacc-1,2026-10-03,demo\n",
     "differ from the accounts ids only in upper/lower case or spaces"),
    ("account_id,name\nA1,Acme\n",
     "account_id,timestamp,touchpoint\nB7,2026-10-29,webinar\nB8,2026-10-30,demo\nA1,2026-10-31,demo\n",
     "accounts holds none of these account_id values (e.g. 'B7', 'B8')"),
])
def test_unknown_accounts_get_the_cause_their_ids_show(make_source, accounts, touchpoints, cause):
    data = journeylib.load(make_source(accounts=accounts, touchpoints=touchpoints), as_of="2026-10-31")
    assert cause in _first(data)["message"]


def test_a_day_first_column_read_without_dayfirst_is_named_with_the_setting_that_reads_it(make_source):
    """31/10/2026 can only be day first; 03/10/2026 was then read as 10 March: a date-order finding, not silence."""
    tp = "account_id,timestamp,touchpoint\nA1,31/10/2026,webinar\nA2,03/10/2026,demo\nA3,10/07/2026,demo\n"
    data = journeylib.load(make_source(touchpoints=tp), as_of="2026-10-31")
    f = data.report().findings.set_index(["table", "column", "code"]).loc[("touchpoints", "timestamp", "date_order")]
    assert (f["severity"], f["rows"], f["example_rows"]) == ("warning", 2, "2, 3")
    assert "can only be read day first, so 2 ambiguous date(s) such as '03/10/2026'" in f["message"]
    assert "dayfirst: true" in f["suggestion"]
    fixed = journeylib.load(make_source(touchpoints=tp), as_of="2026-10-31", dayfirst=True)
    assert "date_order" not in set(fixed.report().findings["code"])
    assert fixed.touchpoints.set_index("account_id")["timestamp"].dt.strftime("%Y-%m-%d").to_dict() == {
        "A1": "2026-10-31", "A2": "2026-10-03", "A3": "2026-07-10"}


def test_unreadable_timestamps_are_named_with_the_forms_that_are_read(make_source):
    tp = ("account_id,timestamp,touchpoint\nA1,last tuesday,webinar\nA2,soon,demo\nA3,Q3,demo\n"
          "A1,2026-10-30,demo\n")
    data = journeylib.load(make_source(touchpoints=tp), as_of="2026-10-31")
    first = _first(data)
    assert "the timestamp values are in a form that is not read as a time (e.g. 'last tuesday', 'soon', 'Q3')" \
        in first["message"]
    assert "ISO 8601" in first["suggestion"]


def test_a_review_of_unusable_data_stops_with_the_likely_cause(make_source, tmp_path):
    from journeylib import review
    from journeylib.errors import JourneyDataError

    src = make_source(touchpoints="account_id,timestamp,touchpoint\nA1,2026-10-01,page_view\nA2,2026-10-02,page_view\n")
    with pytest.raises(JourneyDataError, match=r"data unusable: no usable row in touchpoints\n  - 2 of 2 touchpoints "
                                               r"rows set aside .*'page_view' \(2\).*journey stages init"):
        review.run_review(month="2026-10", data=str(src), out=tmp_path / "reports", progress=False)
    assert not (tmp_path / "reports" / "2026-10").exists()


def test_the_quarantine_keeps_the_exports_own_column_names_and_values():
    import json

    data = journeylib.load(SALESFORCE, mapping="salesforce", as_of="2025-05-20")
    q = data.quarantine.set_index(["source", "row"])
    task = json.loads(q.loc[("Task.csv", 4), "values"])
    raw = pd.read_csv(SALESFORCE / "Task.csv", dtype=str, keep_default_na=False).iloc[3]
    assert list(task) == list(raw.index)  # the export's headers, in its order (no _source, no contract names)
    assert task["Id"] == raw["Id"] == "00T5g00000TkX01AAB" and task["Subject"] == "Email: intro"
    assert task["AccountId"] is None and raw["AccountId"] == ""  # empty in the export: null
    member = json.loads(q.loc[("CampaignMember.csv", 5), "values"])
    assert set(member) == {"Id", "CampaignId", "ContactId", "LeadId", "Status", "HasResponded", "CreatedDate",
                           "FirstRespondedDate"}


def test_an_event_export_alone_is_enough_to_see_paths(tmp_path):
    from journeylib import paths
    from tests.conftest import write_source

    tp = ("account_id,timestamp,touchpoint\nA1,2026-10-01,webinar\nA1,2026-10-05,demo\n B2 ,2026-10-03,webinar\n"
          ",2026-10-04,webinar\nA3,2026-10-30,pricing_page_visit\n")
    data = journeylib.load(write_source(tmp_path / "events", {"touchpoints": tp}), as_of="2026-10-31")
    assert sorted(data.accounts["account_id"]) == ["A1", "A3", "B2"]
    counts = data.report().counts.set_index("table")
    assert counts.loc["accounts", ["source", "rows_read", "rows_used"]].tolist() == ["(derived from touchpoints)", 3, 3]
    assert counts.loc["touchpoints", ["rows_read", "rows_used", "rows_set_aside"]].tolist() == [5, 4, 1]  # no account
    f = data.report().findings.set_index("code").loc["accounts_derived"]
    assert f["rows"] == 3 and "no accounts table: 3 accounts derived" in f["message"]
    assert paths.journeys(data).set_index("journey_id")["path"].to_dict() == {
        "A1": "research > consideration", "A3": "research", "B2": "research"}


# ----------------------------------------------------------------------------- HubSpot as it exports
HUBSPOT_DATED = REPO / "tests" / "fixtures" / "hubspot_dated"


def test_hubspot_dated_file_names_and_multi_valued_associations_load():
    """HubSpot names exports hubspot-crm-exports-all-<object>-<date>.csv and joins several associated records
    with ';' in 'Associated Company IDs' / 'Associated Contact IDs' (fixture written from its export format)."""
    data = journeylib.load(HUBSPOT_DATED, mapping="hubspot", as_of="2026-10-31")
    counts = data.report().counts.set_index("table")
    # two deals exports: the latest date is read (its 8801 is won; the September file had it open)
    assert counts.loc["opportunities", "source"] == "hubspot-crm-exports-all-deals-2026-10-31.csv"
    assert data.opportunities.set_index("opportunity_id")["status"].to_dict() == {"8801": "won", "8802": "lost"}
    # 8802 names two companies: the first
    assert data.opportunities.set_index("opportunity_id").loc["8802", "account_id"] == "9001234502"
    assert data.contacts.set_index("contact_id")["account_id"].to_dict() == {
        "12051": "9001234501", "12052": "9001234501", "12053": "9001234502"}  # 12054: no company, set aside
    tp = data.touchpoints.set_index("event_id")
    # 30002 names two contacts and no company: the first contact, and its (first) company
    assert tp.loc["30002", ["contact_id", "account_id"]].tolist() == ["12052", "9001234501"]
    assert sorted(tp.index) == ["30001", "30002", "30004"]  # 30003: its contact has no company
    f = data.report().findings
    several = f[f["code"] == "several_values"].set_index(["table", "column"])["rows"].to_dict()
    assert several == {("touchpoints", "account_id"): 1, ("touchpoints", "contact_id"): 1,
                       ("contacts", "account_id"): 1, ("leads", "account_id"): 1, ("opportunities", "account_id"): 1}
    assert counts["rows_read"].sum() == counts["rows_used"].sum() + counts["rows_set_aside"].sum()


def test_a_table_name_pattern_picks_the_latest_dated_export():
    from journeylib.data.mapping_specs import _find_table

    raw = {"hubspot-crm-exports-all-deals-2026-09-30": None, "hubspot-crm-exports-all-deals-2026-10-31": None,
           "contacts": None}
    assert _find_table(["deals", "hubspot-crm-exports-*deal*"], raw) == "hubspot-crm-exports-all-deals-2026-10-31"
    assert _find_table(["Contacts"], raw) == "contacts" and _find_table(["x-*"], raw) is None


def test_split_must_name_a_separator():
    with pytest.raises(MappingError, match=r"tables.accounts.columns.account_id.split: expected the separator"):
        load_mapping({"tables": {"accounts": {"from": "A", "columns": {"account_id": {"column": "Id", "split": 3}}}}})


def test_the_readmes_salesforce_file_set_validates_from_the_command_line(tmp_path):
    """Account, Opportunity, Contact, Lead, Task, Event, CampaignMember (no Campaign): exit 0, the default named."""
    from journeylib.cli import main

    src = tmp_path / "sfdc"
    shutil.copytree(SALESFORCE, src)
    (src / "Campaign.csv").unlink()
    assert sorted(p.stem for p in src.iterdir()) == ["Account", "CampaignMember", "Contact", "Event", "Lead",
                                                     "Opportunity", "Task"]
    assert main(["validate", str(src), "--mapping", "salesforce", "--as-of", "2025-05-20"]) == 0
