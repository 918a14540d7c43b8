"""Column mappings: the YAML format, the Salesforce and HubSpot presets, and their errors.

Expected values are worked out by hand from the fixture rows in tests/fixtures/salesforce
and tests/fixtures/hubspot.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journeylib.errors import MappingError
from journeylib.data.mapping import ColumnMapping, apply_mapping, load_mapping, preset_names
from journeylib.schema import ROW_COL, SOURCE_COL, TABLES

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Salesforce ids of the fixture
A_ACME, A_BOREALIS, A_COBALT, A_DUNMORE, A_ELM, A_FJORD = (f"0015g00000ABCD{c}AAF" for c in "efghij")
C_CEO, C_ENG, C_MKT, C_VP, C_CS, C_IT, C_HEAD, C_NOTITLE, C_ACCT = (
    "0035g00000CtA01AAB", "0035g00000CtA02AAB", "0035g00000CtB01AAB", "0035g00000CtB02AAB", "0035g00000CtC01AAB",
    "0035g00000CtD01AAB", "0035g00000CtE01AAB", "0035g00000CtF01AAB", "0035g00000CtF02AAB")


def read_folder(folder: Path) -> dict[str, pd.DataFrame]:
    """Raw tables as load() hands them to the mapping: text, empty = None, with provenance."""
    raw = {}
    for path in sorted(folder.glob("*.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df = pd.DataFrame({c: pd.Series([None if v == "" else v for v in df[c]], dtype=object) for c in df.columns})
        df[SOURCE_COL] = path.name
        df[ROW_COL] = range(1, len(df) + 1)
        raw[path.stem] = df
    return raw


@pytest.fixture(scope="module")
def sf_raw():
    return read_folder(FIXTURES / "salesforce")


@pytest.fixture(scope="module")
def sf(sf_raw):
    return apply_mapping(sf_raw, load_mapping("salesforce"))


@pytest.fixture(scope="module")
def hs_raw():
    return read_folder(FIXTURES / "hubspot")


@pytest.fixture(scope="module")
def hs(hs_raw):
    return apply_mapping(hs_raw, load_mapping("hubspot"))


def by(df: pd.DataFrame, key: str) -> dict[str, dict]:
    return {row[key]: row for row in df.to_dict("records")}


def copy_raw(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in raw.items()}


# --------------------------------------------------------------------------- loading
def test_presets_load_and_name_their_source_tables():
    assert {"salesforce", "hubspot"} <= set(preset_names())
    sf = load_mapping("salesforce")
    assert isinstance(sf, ColumnMapping) and sf.name == "salesforce" and sf.source.name == "salesforce.yml"
    # feeds and lookups (Campaign is read only through lookups)
    assert {"Account", "Opportunity", "Contact", "Lead", "Task", "Event", "CampaignMember", "Campaign",
            "Opportunity Report"} <= sf.source_tables()
    assert [f.sources[0] for f in sf.tables["touchpoints"]] == ["Task", "Event", "CampaignMember"]
    assert load_mapping(None) is None
    assert load_mapping(sf) is sf
    assert load_mapping("  HubSpot ").name == "hubspot"


def test_unknown_preset_suggests_the_presets():
    with pytest.raises(MappingError, match=r"unknown mapping preset 'salesfroce' \(did you mean 'salesforce'\?\); "
                                           r"presets: hubspot, salesforce"):
        load_mapping("salesfroce")


def test_missing_mapping_file_is_named(tmp_path):
    with pytest.raises(MappingError, match=r"mapping file .*nope\.yml' does not exist"):
        load_mapping(tmp_path / "nope.yml")


def test_yaml_file_and_dict_give_the_same_mapping(tmp_path, sf_raw):
    text = """
name: mini
tables:
  accounts:
    from: Account
    columns:
      account_id: Id
      name: [AccountName, Name]
"""
    path = tmp_path / "mini.yml"
    path.write_text(text, encoding="utf-8")
    from_file = load_mapping(path)
    assert from_file.name == "mini" and from_file.source == path
    assert load_mapping(str(path)).source_tables() == {"Account"}
    out = apply_mapping({"Account": sf_raw["Account"]}, from_file)
    assert list(out) == ["accounts"]
    assert list(out["accounts"].columns) == ["account_id", "name", SOURCE_COL, ROW_COL]
    assert out["accounts"]["name"].tolist()[:2] == ["Acme Analytics", "Borealis Freight"]


# --------------------------------------------------------------------------- Salesforce preset
def test_salesforce_tables_and_row_counts(sf, sf_raw):
    assert set(sf) == {"accounts", "contacts", "leads", "opportunities", "touchpoints"}
    assert len(sf["accounts"]) == 6 and len(sf["contacts"]) == 9 and len(sf["leads"]) == 5
    assert len(sf["opportunities"]) == 7
    # every activity row is one touchpoint: 6 tasks + 4 events + 7 campaign members, in that order
    assert len(sf["touchpoints"]) == len(sf_raw["Task"]) + len(sf_raw["Event"]) + len(sf_raw["CampaignMember"]) == 17
    assert sf["touchpoints"][SOURCE_COL].tolist() == ["Task.csv"] * 6 + ["Event.csv"] * 4 + ["CampaignMember.csv"] * 7
    assert sf["touchpoints"][ROW_COL].tolist() == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7]
    assert list(sf["opportunities"].columns) == ["opportunity_id", "account_id", "created_at", "closed_at", "status",
                                                 "amount", "type", SOURCE_COL, ROW_COL]
    assert list(sf["touchpoints"].columns) == ["account_id", "timestamp", "touchpoint", "event_id", "contact_id",
                                               "channel", "campaign", "outcome", SOURCE_COL, ROW_COL]
    for table, df in sf.items():
        assert set(df.columns) - {SOURCE_COL, ROW_COL} <= set(TABLES[table].names)


def test_salesforce_accounts(sf):
    acc = by(sf["accounts"], "account_id")
    assert acc[A_ACME]["name"] == "Acme Analytics"
    assert acc[A_ACME]["employees"] == "250"
    assert acc[A_ACME]["owner"] == "0055g00000UsrA1AAB"
    assert acc[A_ACME]["created_at"] == "2023-01-10T09:00:00.000+0000"
    # region from BillingCountry; " United Kingdom " is matched trimmed, the value itself is passed through
    assert {k: v["region"] for k, v in acc.items()} == {
        A_ACME: "North America", A_BOREALIS: "EMEA", A_COBALT: "APAC", A_DUNMORE: "LATAM", A_ELM: "EMEA",
        A_FJORD: None}
    assert acc[A_ELM]["country"] == " United Kingdom "
    assert acc[A_ELM]["parent_account_id"] == A_BOREALIS
    assert acc[A_FJORD]["employees"] is None
    assert (acc[A_FJORD][SOURCE_COL], acc[A_FJORD][ROW_COL]) == ("Account.csv", 6)


def test_salesforce_opportunity_status_close_date_and_type(sf):
    opp = by(sf["opportunities"], "opportunity_id")
    expected = {  # id: (status, closed_at, type) -- IsClosed/IsWon as true/false, TRUE/TRUE, 1/1
        "0065g00000OpA01AAB": ("won", "2024-04-30", "new"),
        "0065g00000OpB01AAB": ("lost", "2024-05-15", "new"),
        "0065g00000OpC01AAB": ("open", None, "new"),  # open: CloseDate is only expected
        "0065g00000OpA02AAB": ("won", "2024-10-31", "expansion"),
        "0065g00000OpD01AAB": ("won", "2025-01-31", "renewal"),
        "0065g00000OpE01AAB": ("open", None, None),  # empty Type
        "0065g00000OpF01AAB": ("lost", "2024-12-15", None),  # "Partner Referral": not a contract type
    }
    assert {k: (v["status"], v["closed_at"], v["type"]) for k, v in opp.items()} == expected
    assert opp["0065g00000OpB01AAB"]["created_at"] == "2024-03-05T14:22:10.000+0000"
    assert opp["0065g00000OpB01AAB"]["account_id"] == A_BOREALIS
    assert opp["0065g00000OpB01AAB"]["amount"] == "12000"


def test_salesforce_contact_roles_from_title(sf):
    con = by(sf["contacts"], "contact_id")
    expected = {  # Title -> (role, seniority)
        C_CEO: ("economic_buyer", "c_level"),  # Chief Executive Officer
        C_ENG: ("technical_evaluator", "individual_contributor"),  # Senior Software Engineer
        C_MKT: ("champion", "manager"),  # Marketing Manager
        C_VP: ("economic_buyer", "vp"),  # VP of Operations
        C_CS: ("champion", "director"),  # "  customer success DIRECTOR "
        C_IT: ("technical_evaluator", "director"),  # IT Director: the technical rule comes first
        C_HEAD: ("economic_buyer", "director"),  # Head of Procurement
        C_NOTITLE: (None, None),  # no title: unknown, not "end user"
        C_ACCT: ("end_user", "individual_contributor"),  # Accountant
    }
    assert {k: (v["role"], v["seniority"]) for k, v in con.items()} == expected
    assert con[C_CEO]["name"] == "Maria Lopez"  # template from FirstName/LastName
    assert con[C_CEO]["email"] == "maria.lopez@acme.example"
    assert con[C_CEO]["account_id"] == A_ACME
    assert con[C_NOTITLE]["department"] is None


def test_salesforce_leads(sf):
    leads = by(sf["leads"], "lead_id")
    assert list(sf["leads"].columns) == ["lead_id", "created_at", "contact_id", "account_id", "opportunity_id",
                                         "source", SOURCE_COL, ROW_COL]  # no mql_at/sql_at in a Salesforce export
    first = leads["00Q5g00000LdA01AAB"]
    assert (first["account_id"], first["contact_id"], first["opportunity_id"]) == (A_ACME, C_CEO, "0065g00000OpA01AAB")
    assert first["created_at"] == "2023-11-20T13:00:00.000+0000" and first["source"] == "Web"
    assert leads["00Q5g00000LdB01AAB"]["opportunity_id"] is None
    assert leads["00Q5g00000LdX01AAB"]["account_id"] is None  # not converted


def test_salesforce_tasks_and_events(sf):
    tp = by(sf["touchpoints"], "event_id")
    cols = ["account_id", "contact_id", "timestamp", "touchpoint", "channel", "outcome"]
    expected = {
        # Subject keywords first, then Type; account from AccountId, else an Account WhatId, else through WhoId
        "00T5g00000TkA01AAB": (A_ACME, C_CEO, "2024-02-05", "discovery_call", "sales", "completed"),
        "00T5g00000TkA02AAB": (A_ACME, C_ENG, "2024-02-20", "demo", "sales", "completed"),
        "00T5g00000TkB01AAB": (A_BOREALIS, C_MKT, "2024-03-10", "ae_call", "sales", "completed"),  # WhatId 001...
        "00T5g00000TkX01AAB": (None, None, "2024-03-20", "ae_call", "sales", "planned"),  # unconverted lead
        "00T5g00000TkD01AAB": (A_DUNMORE, C_IT, "2024-12-01", "proposal_sent", "sales", "abandoned"),  # via Contact
        "00T5g00000TkA03AAB": (A_ACME, None, "2024-01-15", "ae_call", "sales", "completed"),  # via converted Lead
        "00U5g00000EvA01AAB": (A_ACME, C_CEO, "2024-03-01T15:00:00.000+0000", "onsite_meeting", "sales", None),
        "00U5g00000EvB01AAB": (A_BOREALIS, C_VP, "2024-04-02T09:30:00.000+0000", "security_review", "sales", None),
        "00U5g00000EvD01AAB": (A_DUNMORE, C_IT, "2025-02-05T13:00:00.000+0000", "kickoff_call", "sales", None),
        "00U5g00000EvC01AAB": (A_COBALT, C_CS, "2025-05-20", "qbr", "sales", None),  # all-day: ActivityDate
    }
    for event_id, values in expected.items():
        assert tuple(tp[event_id][c] for c in cols) == values, event_id
    assert tp["00T5g00000TkA01AAB"]["campaign"] is None


def test_campaign_members_reach_their_account_through_the_contact(sf):
    members = sf["touchpoints"][sf["touchpoints"][SOURCE_COL] == "CampaignMember.csv"]
    tp = by(members, "event_id")
    cols = ["account_id", "contact_id", "touchpoint", "channel", "campaign", "outcome"]
    expected = {
        "00v5g00000MbA01AAB": (A_ACME, C_CEO, "webinar", "webinar", "2024 Q1 Data Webinar", "attended"),
        "00v5g00000MbB01AAB": (A_BOREALIS, C_VP, "webinar", "webinar", "2024 Q1 Data Webinar", "no_show"),
        "00v5g00000MbC01AAB": (A_FJORD, C_ACCT, "newsletter_click", "email", "Newsletter March 2024", "sent"),
        # a lead that was never converted has no account yet
        "00v5g00000MbD01AAB": (None, None, "event_booth_visit", "events", "SaaStr Booth 2024", "completed"),
        # unknown contact: kept, account missing (validation sets it aside)
        "00v5g00000MbE01AAB": (None, "0035g00000ZZZ99AAB", "paid_social_ad", "paid_social", "LinkedIn Retargeting Q2",
                               "completed"),
        # LeadId only: the converted lead's account
        "00v5g00000MbF01AAB": (A_ELM, None, "website_visit", "marketing", "Partner Co-marketing", "completed"),
        "00v5g00000MbG01AAB": (A_ELM, C_HEAD, "event_booth_visit", "events", "SaaStr Booth 2024", "attended"),
    }
    assert {k: tuple(v[c] for c in cols) for k, v in tp.items()} == expected
    orphan = tp["00v5g00000MbE01AAB"]
    assert (orphan[SOURCE_COL], orphan[ROW_COL]) == ("CampaignMember.csv", 5)
    assert orphan["timestamp"] == "2024-04-15T19:45:00.000+0000"


REPORT_LABELS = {  # source table -> (report name, API name -> report label)
    "Account": ("Account Report", {"Id": "Account ID", "Name": "Account Name", "NumberOfEmployees": "Employees",
                                   "BillingCountry": "Billing Country", "OwnerId": "Account Owner",
                                   "CreatedDate": "Created Date", "ParentId": "Parent Account ID"}),
    "Opportunity": ("Opportunity Report", {"Id": "Opportunity ID", "AccountId": "Account ID", "CloseDate": "Close Date",
                                           "CreatedDate": "Created Date", "StageName": "Stage", "IsWon": "Won",
                                           "IsClosed": "Closed"}),
    "Contact": ("Contact Report", {"Id": "Contact ID", "AccountId": "Account ID", "FirstName": "First Name",
                                   "LastName": "Last Name"}),
    "Lead": ("Lead Report", {"Id": "Lead ID", "CreatedDate": "Created Date", "LeadSource": "Lead Source",
                             "ConvertedAccountId": "Converted Account ID",
                             "ConvertedContactId": "Converted Contact ID",
                             "ConvertedOpportunityId": "Converted Opportunity ID"}),
}


def test_report_labels_give_the_same_result(sf, sf_raw):
    raw = copy_raw(sf_raw)
    for api_name, (report, labels) in REPORT_LABELS.items():
        raw[report] = raw.pop(api_name).rename(columns=labels)
    out = apply_mapping(raw, load_mapping("salesforce"))
    assert set(out) == set(sf)
    for table in sf:
        pd.testing.assert_frame_equal(out[table], sf[table], obj=table)


def test_status_from_the_stage_when_won_and_closed_are_not_exported(sf, sf_raw):
    raw = copy_raw(sf_raw)
    raw["Opportunity"] = raw["Opportunity"].drop(columns=["IsWon", "IsClosed"])
    out = apply_mapping(raw, load_mapping("salesforce"))
    pd.testing.assert_frame_equal(out["opportunities"], sf["opportunities"])


def test_headers_and_table_names_match_case_insensitively_and_trimmed(sf, sf_raw):
    raw = copy_raw(sf_raw)
    raw["  opportunity "] = raw.pop("Opportunity").rename(
        columns={"Id": " ID ", "IsWon": "ISWON", "IsClosed": "isclosed ", "CloseDate": "closedate", "Type": "TYPE"})
    raw["CAMPAIGNMEMBER"] = raw.pop("CampaignMember").rename(columns={"ContactId": "contactid "})
    raw["contact"] = raw.pop("Contact").rename(columns={"Id": "id", "AccountId": " ACCOUNTID"})
    out = apply_mapping(raw, load_mapping("salesforce"))
    for table in sf:
        pd.testing.assert_frame_equal(out[table], sf[table], obj=table)


def test_optional_tables_and_columns_absent_are_left_out(sf_raw):
    raw = copy_raw(sf_raw)
    del raw["Lead"], raw["Event"], raw["Opportunity"]
    raw["Account"] = raw["Account"].drop(columns=["Industry", "BillingCountry"])
    out = apply_mapping(raw, load_mapping("salesforce"))
    assert set(out) == {"accounts", "contacts", "touchpoints"}
    assert "industry" not in out["accounts"] and "region" not in out["accounts"] and "country" not in out["accounts"]
    assert len(out["touchpoints"]) == 6 + 7
    tp = by(out["touchpoints"], "event_id")
    # without the Lead table the lead fall-backs are skipped, the contact lookups still work
    assert tp["00T5g00000TkA03AAB"]["account_id"] is None
    assert tp["00v5g00000MbF01AAB"]["account_id"] is None
    assert tp["00v5g00000MbA01AAB"]["account_id"] == A_ACME


# --------------------------------------------------------------------------- HubSpot preset
def test_hubspot_tables_and_counts(hs, hs_raw):
    assert set(hs) == {"accounts", "contacts", "leads", "opportunities", "touchpoints"}
    assert len(hs["accounts"]) == 5 and len(hs["opportunities"]) == 5 and len(hs["touchpoints"]) == 7
    # contacts feed two contract tables, one row each
    assert len(hs["contacts"]) == len(hs["leads"]) == len(hs_raw["contacts"]) == 6
    assert hs["leads"][SOURCE_COL].unique().tolist() == ["contacts.csv"]


def test_hubspot_companies(hs):
    acc = by(hs["accounts"], "account_id")
    assert {k: v["region"] for k, v in acc.items()} == {
        "9001234501": "North America", "9001234502": "EMEA", "9001234503": "EMEA", "9001234504": "APAC",
        "9001234505": None}
    assert acc["9001234503"]["parent_account_id"] == "9001234502"
    assert (acc["9001234501"]["name"], acc["9001234501"]["industry"], acc["9001234501"]["employees"]) == (
        "Northwind Labs", "Computer Software", "120")
    assert (acc["9001234501"]["owner"], acc["9001234501"]["created_at"]) == ("Jane Smith", "2023-05-02 10:11")


def test_hubspot_deal_stage_and_type(hs):
    opp = by(hs["opportunities"], "opportunity_id")
    expected = {
        "8801": ("9001234501", "won", "2024-03-28 17:00", "new", "24000"),
        "8802": ("9001234502", "lost", "2024-05-02 12:00", "new", "8000"),
        "8803": ("9001234503", "open", None, "expansion", "15000"),  # Contract Sent: expected close date dropped
        "8804": ("9001234501", "won", "2025-03-28 17:00", "renewal", "26000"),
        "8805": ("9001234504", "open", None, None, None),
    }
    cols = ["account_id", "status", "closed_at", "type", "amount"]
    assert {k: tuple(v[c] for c in cols) for k, v in opp.items()} == expected


def test_hubspot_contacts_and_leads_from_contacts(hs):
    con = by(hs["contacts"], "contact_id")
    assert {k: (v["role"], v["seniority"]) for k, v in con.items()} == {
        "12051": ("economic_buyer", "c_level"),  # CTO
        "12052": ("technical_evaluator", "individual_contributor"),  # Solutions Architect
        "12053": ("champion", "manager"),  # Operations Manager
        "12054": ("economic_buyer", "vp"),  # Vice President, Finance
        "12055": ("end_user", "individual_contributor"),  # Analyst
        "12056": (None, None),
    }
    assert con["12051"]["name"] == "Ana Ortiz" and con["12055"]["account_id"] is None
    leads = by(hs["leads"], "lead_id")
    cols = ["contact_id", "account_id", "created_at", "mql_at", "sql_at", "source"]
    assert tuple(leads["12051"][c] for c in cols) == (
        "12051", "9001234501", "2024-01-03 09:00", "2024-01-10 12:00", "2024-01-20 08:30", "Organic Search")
    assert (leads["12052"]["mql_at"], leads["12052"]["sql_at"]) == ("2024-01-15 16:45", None)
    assert (leads["12054"]["mql_at"], leads["12054"]["sql_at"]) == (None, None)
    assert leads["12056"][ROW_COL] == 6


def test_hubspot_engagements(hs):
    tp = by(hs["touchpoints"], "event_id")
    cols = ["account_id", "contact_id", "timestamp", "touchpoint", "channel", "outcome"]
    expected = {
        "30001": ("9001234501", "12051", "2024-01-12 15:04", "ae_call", "sales", "completed"),
        "30002": ("9001234501", "12052", "2024-01-25 10:00", "onsite_meeting", "sales", "completed"),  # via contact
        "30003": ("9001234502", "12053", "2024-02-02 08:12", "ae_call", "sales", None),
        "30004": ("9001234502", "12053", "2024-02-03 17:40", "NOTE", "sales", None),  # kept, unmapped downstream
        "30005": ("9001234503", "12054", "2024-02-20 14:00", "onsite_meeting", "sales", "no_show"),
        "30006": (None, "99999", "2024-03-05 11:30", "ae_call", "sales", "no_answer"),  # unknown contact
        "30007": ("9001234504", None, "2024-04-26 09:00", "TASK", "sales", None),
    }
    assert {k: tuple(v[c] for c in cols) for k, v in tp.items()} == expected


def test_hubspot_internal_property_names_give_the_same_result(hs, hs_raw):
    raw = copy_raw(hs_raw)
    raw["companies"] = raw["companies"].rename(columns={
        "Record ID": "hs_object_id", "Company name": "name", "Industry": "industry",
        "Number of Employees": "numberofemployees", "Country/Region": "country", "Create Date": "createdate",
        "Company owner": "hubspot_owner_id", "Parent Company ID": "hs_parent_company_id"})
    raw["contacts"] = raw["contacts"].rename(columns={
        "Record ID": "hs_object_id", "First Name": "firstname", "Last Name": "lastname", "Email": "email",
        "Job Title": "jobtitle", "Create Date": "createdate", "Associated Company ID": "associatedcompanyid",
        "Became a Marketing Qualified Lead Date": "hs_lifecyclestage_marketingqualifiedlead_date",
        "Became a Sales Qualified Lead Date": "hs_lifecyclestage_salesqualifiedlead_date",
        "Original Source": "hs_analytics_source"})
    deals = raw["deals"].rename(columns={
        "Record ID": "hs_object_id", "Deal Stage": "dealstage", "Amount": "amount", "Close Date": "closedate",
        "Create Date": "createdate", "Deal Type": "dealtype", "Associated Company IDs (Primary)": "associatedcompanyid"})
    deals["dealstage"] = deals["dealstage"].map(
        {"Closed Won": "closedwon", "Closed Lost": "closedlost", "Contract Sent": "contractsent",
         "Appointment Scheduled": "appointmentscheduled"})
    deals["dealtype"] = deals["dealtype"].map({"New Business": "newbusiness", "Existing Business": "existingbusiness",
                                               "Renewal": "renewal"}, na_action="ignore").astype(object)
    raw["deals"] = deals
    out = apply_mapping(raw, load_mapping("hubspot"))
    for table in hs:
        pd.testing.assert_frame_equal(out[table], hs[table], obj=table)


# --------------------------------------------------------------------------- errors that name what is wrong
def test_missing_required_columns_are_all_listed_with_did_you_mean(sf_raw):
    raw = copy_raw(sf_raw)
    raw["Opportunity"] = raw["Opportunity"].rename(columns={"AccountId": "AcountId", "CreatedDate": "CreatdDate"})
    raw["Account"] = raw["Account"].rename(columns={"Id": "AccId"})
    raw["Account"] = raw["Account"].drop(columns=["Industry"])  # optional: not an error
    with pytest.raises(MappingError) as info:
        apply_mapping(raw, load_mapping("salesforce"))
    msg = str(info.value)
    assert "does not fit the export" in msg
    assert "Account.csv -> accounts.account_id (required): no column 'Id' or 'Account ID' or 'AccountId'" in msg
    assert "Opportunity.csv -> opportunities.account_id (required): no column 'AccountId' or 'Account ID' " \
           "(did you mean 'AcountId'?)" in msg
    assert "opportunities.created_at (required)" in msg and "'CreatdDate'" in msg
    assert "industry" not in msg
    assert msg.count("\n  - ") == 3


def test_missing_required_table_names_the_alternatives_and_the_tables_read(sf_raw):
    raw = {k: v for k, v in sf_raw.items() if k not in ("Task", "Event", "CampaignMember")}
    raw["Taks"] = sf_raw["Task"]
    with pytest.raises(MappingError, match=r"touchpoints \(required table\): none of the source tables 'Task' or "
                                           r"'Tasks'.*was found; tables read: Account, Campaign, .*Taks "
                                           r"\(did you mean 'Taks'"):
        apply_mapping(raw, load_mapping("salesforce"))


def test_missing_lookup_table_for_a_required_column_is_an_error(sf_raw):
    raw = {k: v for k, v in sf_raw.items() if k in ("Account", "CampaignMember", "Campaign")}
    with pytest.raises(MappingError, match=r"CampaignMember\.csv -> touchpoints\.account_id \(required\): "
                                           r"no lookup table 'Contact' or 'Contacts'"):
        apply_mapping(raw, load_mapping("salesforce"))


def _accounts(columns: dict) -> dict:
    return {"tables": {"accounts": {"from": "Account", "columns": {"account_id": "Id", **columns}}}}


@pytest.mark.parametrize("mapping, pattern", [
    (_accounts({"region": {"rulez": []}}),
     r"column mapping \(dict\): tables\.accounts\.columns\.region\.rulez: unknown key 'rulez' "
     r"\(did you mean 'rules'\?\)"),
    (_accounts({"name": 5}),
     r"tables\.accounts\.columns\.name: expected a column name.*; got 5"),
    (_accounts({"regoin": "Region"}),
     r"tables\.accounts\.columns\.regoin: 'regoin' is not a column of accounts \(did you mean 'region'\?\)"),
    (_accounts({"region": {"rules": [{"when": {"BillingCountry": {"containz": ["x"]}}, "then": "x"}]}}),
     r"tables\.accounts\.columns\.region\.rules\[0\]\.when\.BillingCountry\.containz: unknown key 'containz' "
     r"\(did you mean 'contains'\?\)"),
    (_accounts({"region": {"rules": [{"when": {"X": "y"}}]}}),
     r"tables\.accounts\.columns\.region\.rules\[0\]: missing key 'then'"),
    (_accounts({"region": {"column": "X", "values": ["a"]}}),
     r"tables\.accounts\.columns\.region\.values: expected a value map.*; got \['a'\]"),
    (_accounts({"region": {"lookup": {"table": "T", "on": "X", "key": "Id"}}}),
     r"tables\.accounts\.columns\.region\.lookup: missing key 'take'"),
    ({"tables": {"acounts": {"from": "Account", "columns": {"account_id": "Id"}}}},
     r"tables\.acounts: 'acounts' is not a contract table \(did you mean 'accounts'"),
    ({"tables": {"opportunities": {"from": "Opportunity", "columns": {"opportunity_id": "Id"}}}},
     r"tables\.opportunities\.columns: no spec for the required column\(s\) account_id, created_at of opportunities"),
    ({"tables": {"accounts": {"form": "Account", "columns": {"account_id": "Id"}}}},
     r"tables\.accounts\.form: unknown key 'form' \(did you mean 'from'\?\)"),
    ({"tabels": {}}, r"\(top level\)\.tabels: unknown key 'tabels' \(did you mean 'tables'\?\)"),
])
def test_malformed_mapping_names_the_key_path(mapping, pattern):
    with pytest.raises(MappingError, match=pattern):
        load_mapping(mapping)


def test_malformed_yaml_file_names_the_file_and_the_key_path(tmp_path):
    path = tmp_path / "crm.yml"
    path.write_text("tables:\n  opportunities:\n    from: Opportunity\n    columns:\n      opportunity_id: Id\n"
                    "      account_id: AccountId\n      created_at: CreatedDate\n      status: {value: [won]}\n",
                    encoding="utf-8")
    with pytest.raises(MappingError, match=r"crm\.yml: tables\.opportunities\.columns\.status\.value: "
                                           r"expected a fixed value .*; got \['won'\]"):
        load_mapping(path)
    path.write_text("tables: [unclosed\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"crm\.yml: not valid YAML at line 2"):
        load_mapping(path)


# --------------------------------------------------------------------------- the building blocks
def frame(source: str, **columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    df[SOURCE_COL] = f"{source}.csv"
    df[ROW_COL] = range(1, n + 1)
    return df


def test_lookup_takes_the_first_of_duplicate_keys_and_keeps_every_row():
    raw = {
        "Member": frame("Member", Id=["m1", "m2", "m3", "m4"], ContactId=["c1", " c2 ", None, "c9"]),
        "Contact": frame("Contact", Id=["c1", "c2", "c1", None], AccountId=["a1", "a2", "a-dup", "a-none"]),
    }
    mapping = {"tables": {"touchpoints": {"from": "Member", "columns": {
        "event_id": "Id", "account_id": {"lookup": {"table": "Contact", "on": "ContactId", "key": "Id",
                                                    "take": "AccountId"}},
        "timestamp": {"value": "2024-01-01"}, "touchpoint": {"value": "webinar"}}}}}
    out = apply_mapping(raw, mapping)["touchpoints"]
    assert out["account_id"].tolist() == ["a1", "a2", None, None]  # keys compared trimmed; unknown -> missing
    assert out[ROW_COL].tolist() == [1, 2, 3, 4]
    assert out["timestamp"].tolist() == ["2024-01-01"] * 4


def test_chained_lookup_and_coalesce():
    raw = {
        "Member": frame("Member", Id=["m1", "m2", "m3"], ContactId=["c1", None, "c2"], Company=[None, "Beta", None]),
        "Contact": frame("Contact", Id=["c1", "c2"], AccountId=["a1", "a2"]),
        "Account": frame("Account", Id=["a1", "a2"], Name=["Acme", None]),
    }
    mapping = {"tables": {"accounts": {"from": "Member", "columns": {
        "account_id": {"lookup": {"table": "Contact", "on": "ContactId", "key": "Id", "take": "AccountId"}},
        "name": {"coalesce": [
            {"lookup": {"table": "Account", "key": "Id", "take": "Name",
                        "on": {"lookup": {"table": "Contact", "on": "ContactId", "key": "Id", "take": "AccountId"}}}},
            "Company", "NoSuchColumn"],
            "default": "(unknown)"}}}}}
    out = apply_mapping(raw, mapping)["accounts"]
    assert out["account_id"].tolist() == ["a1", None, "a2"]
    assert out["name"].tolist() == ["Acme", "Beta", "(unknown)"]


def test_value_maps_rules_and_templates():
    raw = {"Deal": frame(
        "Deal", Id=["d1", "d2", "d3", "d4", "d5"],
        Kind=[" NEW business ", "Renewal", "Other", None, "renewal"],
        Closed=["TRUE", "1", "no", None, "yes"], Won=["true", "0", None, None, "Y"],
        First=["Ada", None, "  Bo ", None, "Cy"], Last=["Lovelace", "X", None, None, "  "],
        Note=["see VP deck", "vpn issue", None, "", "Head of IT"])}
    mapping = {"tables": {"opportunities": {"from": "Deal", "columns": {
        "opportunity_id": "Id", "account_id": {"template": "acc-{First}"}, "created_at": {"value": "2024-01-01"},
        "type": {"column": "Kind", "values": {"new business": "new", "RENEWAL": "renewal"}},
        "amount": {"column": "Kind", "values": {"other": None}, "default": "0"},
        "status": {"rules": [{"when": {"Closed": True, "Won": True}, "then": "won"},
                             {"when": {"Closed": True}, "then": {"column": "Kind"}},
                             {"when": {"Closed": None}, "then": None}],
                   "default": "open"},
        "closed_at": {"rules": [{"when": {"Note": {"contains": ["VP", "head of"]}}, "then": {"template": "{First} {Last}"}},
                                {"when": {"Note": {"empty": False, "startswith": "vp"}}, "then": "starts-vp"}]},
    }}}}
    out = apply_mapping(raw, mapping)["opportunities"]
    # value map: case-insensitive and trimmed keys; a value not in the map is kept; no default -> empty stays empty
    assert out["type"].tolist() == ["new", "renewal", "Other", None, "renewal"]
    # null in a map empties the value; default fills everything not in the map (including empty)
    assert out["amount"].tolist() == ["0", "0", None, "0", "0"]
    assert out["status"].tolist() == ["won", "Renewal", "open", None, "won"]
    # whole words: "vpn" is not "VP"; a template is empty only when all its placeholders are
    assert out["closed_at"].tolist() == ["Ada Lovelace", "starts-vp", None, None, "Cy"]
    assert out["account_id"].tolist() == ["acc-Ada", None, "acc-Bo", None, "acc-Cy"]


def test_aliases_and_empty_and_unused_tables():
    raw = {"accounts_export": frame("accounts_export", KEY=[], Label=[]),
           "Unrelated": frame("Unrelated", x=["1"])}
    mapping = {"tables": {"accounts": {"from": ["Accounts", "accounts_export"], "aliases": {"ident": ["Id", "key"]},
                                       "columns": {"account_id": "ident", "name": [" label "]}}}}
    out = apply_mapping(raw, mapping)
    assert list(out) == ["accounts"]
    assert len(out["accounts"]) == 0 and list(out["accounts"].columns) == ["account_id", "name", SOURCE_COL, ROW_COL]


def test_provenance_is_added_when_absent_and_yaml_on_key_is_read():
    raw = {"Account": pd.DataFrame({"Id": pd.Series(["a1", "a2"], dtype=object)})}
    out = apply_mapping(raw, {"tables": {"accounts": {"from": "Account", "columns": {"account_id": "Id"}}}})
    assert out["accounts"][SOURCE_COL].tolist() == ["Account", "Account"]
    assert out["accounts"][ROW_COL].tolist() == [1, 2]
    # YAML 1.1 reads a bare `on:` key as true; a lookup still understands it
    import yaml
    spec = yaml.safe_load("tables:\n  accounts:\n    from: A\n    columns:\n      account_id: Id\n"
                          "      name: {lookup: {table: B, on: Id, key: Id, take: Name}}\n")
    assert "B" in load_mapping(spec).source_tables()
