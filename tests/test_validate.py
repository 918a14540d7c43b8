"""Validation and the quarantine: every bad input of the data contract, with its
message and exact set-aside count (rows read = rows used + rows set aside)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylib
from journeylib.errors import FreshnessWarning, JourneyDataError, SourceError

AS_OF = "2026-10-31"


def _load(folder, **kw):
    kw.setdefault("as_of", AS_OF)
    kw.setdefault("freshness_days", 100_000)  # tiny logs end early; freshness has its own test
    return journeylib.load(folder, **kw)


def _balanced(data):
    c = data.report().counts
    assert (c["rows_read"] == c["rows_used"] + c["rows_set_aside"]).all(), c
    for row in c.itertuples():
        assert (data.quarantine["table"] == row.table).sum() == row.rows_set_aside


def _reasons(data, table):
    q = data.quarantine[data.quarantine["table"] == table]
    return dict(zip(q["row"], q["reasons"]))


def test_clean_source_uses_every_row(make_source):
    data = _load(make_source())
    assert len(data.accounts) == 3 and len(data.touchpoints) == 4
    assert data.quarantine.empty
    assert data.touchpoints["stage"].astype(str).tolist() == ["research", "consideration", "awareness", "research"]
    assert str(data.touchpoints["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert data.contacts is None and data.usage is None
    _balanced(data)


def test_unparseable_timestamp_is_set_aside_with_its_value(make_source):
    tp = "account_id,timestamp,touchpoint\nA1,2026-10-01,demo\nA1,yesterday-ish,demo\nA2,2026-13-45,demo\n"
    data = _load(make_source(touchpoints=tp))
    q = data.quarantine
    assert len(q) == 2 and set(q["row"]) == {2, 3}
    assert (q["reasons"] == "bad_timestamp").all() and (q["severity"] == "error").all()
    assert "timestamp 'yesterday-ish' is not a date/time" in q.iloc[0]["message"]
    assert json.loads(q.iloc[0]["values"]) == {"account_id": "A1", "timestamp": "yesterday-ish", "touchpoint": "demo"}
    assert q.iloc[0]["source"] == "touchpoints.csv"
    _balanced(data)


def test_mixed_offsets_naive_epoch_and_date_only(make_source):
    tp = ("account_id,timestamp,touchpoint\n"
          "A1,2026-06-01T12:00:00+02:00,demo\n"   # 10:00 UTC
          "A1,2026-06-01T10:00:00Z,webinar\n"     # 10:00 UTC
          "A1,2026-06-01 12:00,qbr\n"             # naive, Europe/Berlin summer time -> 10:00 UTC
          "A1,1780308000,blog_read\n"             # epoch seconds = 2026-06-01T10:00Z
          "A1,1780308000000,ae_call\n"            # epoch milliseconds
          "A1,2026-06-01,kickoff_call\n")         # date only: midnight Berlin = 2026-05-31T22:00Z
    data = _load(make_source(touchpoints=tp), tz="Europe/Berlin")
    ts = data.touchpoints["timestamp"]
    assert data.quarantine.empty
    assert (ts.iloc[:5] == pd.Timestamp("2026-06-01T10:00:00Z")).all()
    assert ts.iloc[5] == pd.Timestamp("2026-05-31T22:00:00Z")
    # the same instants, twice under one touchpoint name, are one event and a whole-row duplicate
    tp2 = "account_id,timestamp,touchpoint\nA1,2026-06-01T12:00:00+02:00,demo\nA1,1780308000000,demo\n"
    assert _reasons(_load(make_source(touchpoints=tp2)), "touchpoints") == {2: "duplicate_row"}


def test_naive_timestamps_default_to_utc(make_source):
    tp = "account_id,timestamp,touchpoint\nA1,2026-06-01 12:00,demo\n"
    data = _load(make_source(touchpoints=tp))
    assert data.touchpoints["timestamp"].iloc[0] == pd.Timestamp("2026-06-01T12:00:00Z")


def test_dayfirst_dates(make_source):
    tp = "account_id,timestamp,touchpoint\nA1,03/04/2026,demo\n"
    assert _load(make_source(touchpoints=tp), dayfirst=True).touchpoints["timestamp"].iloc[0].month == 4
    assert _load(make_source(touchpoints=tp)).touchpoints["timestamp"].iloc[0].month == 3


def test_duplicate_ids_keep_the_first(make_source):
    acc = "account_id,name\nA1,First\nA2,Beta\nA1,Second\nA3,Gamma\nA1,Third\n"
    data = _load(make_source(accounts=acc))
    assert data.accounts.set_index("account_id").loc["A1", "name"] == "First"
    assert _reasons(data, "accounts") == {3: "duplicate_id", 5: "duplicate_id"}
    assert "account_id 'A1' repeats an earlier row" in data.quarantine.iloc[0]["message"]
    _balanced(data)


def test_duplicate_event_ids_and_whole_row_duplicates(make_source):
    tp = ("event_id,account_id,timestamp,touchpoint\n"
          "E1,A1,2026-10-01,demo\n"
          "E1,A1,2026-10-02,webinar\n"       # repeated event_id
          ",A1,2026-10-03,webinar\n"
          ",A1,2026-10-03,webinar\n"         # whole row repeats (no event_id)
          ",A1,2026-10-03T00:00:00+00:00,webinar\n"  # same instant, another spelling: still a repeat
          ",A1,2026-10-04,webinar\n")
    data = _load(make_source(touchpoints=tp))
    assert _reasons(data, "touchpoints") == {2: "duplicate_id", 4: "duplicate_row", 5: "duplicate_row"}
    assert len(data.touchpoints) == 3


def test_touchpoints_without_event_id_column_dedupe_on_whole_row(make_source):
    tp = "account_id,timestamp,touchpoint\nA1,2026-10-01,demo\nA1,2026-10-01,demo\nA2,2026-10-01,demo\n"
    data = _load(make_source(touchpoints=tp))
    assert _reasons(data, "touchpoints") == {2: "duplicate_row"}


def test_unknown_account_in_every_referring_table(make_source):
    tp = "account_id,timestamp,touchpoint\nA1,2026-10-01,demo\nA9,2026-10-01,demo\n"
    contacts = "contact_id,account_id\nC1,A1\nC2,A404\n"
    opps = "opportunity_id,account_id,created_at,status\nO1,A1,2026-01-01,won\nO2,AX,2026-01-01,lost\n"
    usage = "account_id,date,active_users\nA2,2026-10-01,4\nNOPE,2026-10-01,3\n"
    data = _load(make_source(touchpoints=tp, contacts=contacts, opportunities=opps, usage=usage))
    for table, row in [("touchpoints", 2), ("contacts", 2), ("opportunities", 2), ("usage", 2)]:
        assert _reasons(data, table) == {row: "unknown_account"}, table
    msg = data.quarantine.set_index("table").loc["contacts", "message"]
    assert msg == "account_id 'A404' is not in accounts"
    _balanced(data)


def test_set_aside_accounts_cascade_to_their_rows(make_source):
    acc = "account_id,name,created_at\nA1,Acme,2025-01-01\nA2,Beta,not a date\n"
    tp = "account_id,timestamp,touchpoint\nA1,2026-10-01,demo\nA2,2026-10-01,demo\n"
    contacts = "contact_id,account_id\nC1,A2\n"
    tp2 = "account_id,timestamp,touchpoint,contact_id\nA1,2026-10-01,demo,C1\nA1,2026-10-02,demo,\n"
    data = _load(make_source(accounts=acc, touchpoints=tp2, contacts=contacts))
    assert _reasons(data, "accounts") == {2: "bad_timestamp"}
    assert _reasons(data, "contacts") == {1: "unknown_account"}
    # its contact was set aside, its account is in use: the touchpoint stays, at account level
    assert _reasons(data, "touchpoints") == {}
    assert data.touchpoints["contact_id"].isna().all() and len(data.touchpoints) == 2
    data = _load(make_source(accounts=acc, touchpoints=tp))
    assert _reasons(data, "touchpoints") == {2: "unknown_account"}


def test_a_touch_by_an_unknown_contact_of_a_known_account_is_kept_at_account_level(make_source):
    contacts = "contact_id,account_id\nC1,A1\n"
    tp = ("event_id,account_id,timestamp,touchpoint,contact_id\n"
          "E1,A1,2026-10-01,demo,C1\n"      # known contact
          "E2,A1,2026-10-02,demo,C9\n"      # unknown contact, known account: kept, contact cleared
          "E3,A9,2026-10-03,demo,C9\n"      # unknown account: set aside (for both)
          "E4,A2,2026-10-04,webinar,C8\n")  # unknown contact, known account: kept
    surveys = "account_id,date,kind,score,contact_id\nA1,2026-10-05,nps,9,C7\n"
    data = _load(make_source(contacts=contacts, touchpoints=tp, surveys=surveys))
    assert _reasons(data, "touchpoints") == {3: "unknown_account;unknown_contact"}
    kept = data.touchpoints.set_index("event_id")["contact_id"]
    assert kept.to_dict() == {"E1": "C1", "E2": None, "E4": None}
    assert data.surveys["contact_id"].isna().all() and len(data.surveys) == 1
    f = data.report().findings.set_index(["table", "code"])
    assert f.loc[("touchpoints", "contact_cleared"), "rows"] == 2
    assert f.loc[("touchpoints", "contact_cleared"), "example_rows"] == "2, 4"
    assert f.loc[("surveys", "contact_cleared"), "rows"] == 1
    counts = data.report().counts.set_index("table")
    assert counts.loc["touchpoints", ["rows_read", "rows_used", "rows_set_aside"]].tolist() == [4, 3, 1]


def test_rows_after_as_of_are_out_of_window_and_later_values_are_cut(make_source):
    tp = TOUCHPOINTS_WITH_LATE
    opps = ("opportunity_id,account_id,created_at,closed_at,status,amount\n"
            "O1,A1,2026-09-01,2026-10-15,won,100\n"
            "O2,A1,2026-09-01,2026-11-15,won,200\n"     # closed after as_of: open at as_of
            "O3,A1,2026-11-02,2026-11-20,lost,300\n")   # created after as_of: out of window
    data = _load(make_source(touchpoints=tp, opportunities=opps))
    q = data.quarantine.set_index(["table", "row"])
    assert q.loc[("touchpoints", 2), "severity"] == "out_of_window"
    assert q.loc[("opportunities", 3), "reasons"] == "out_of_window"
    o = data.opportunities.set_index("opportunity_id")
    assert o.loc["O2", "status"] == "open" and pd.isna(o.loc["O2", "closed_at"])
    assert o.loc["O1", "status"] == "won"
    assert data.report().counts.set_index("table").loc["touchpoints", "out_of_window"] == 1
    # end of the as_of day counts as in, in the configured timezone
    late_evening = "account_id,timestamp,touchpoint\nA1,2026-10-31T23:59:59,demo\nA1,2026-11-01T00:00:00,demo\n"
    data = _load(make_source(touchpoints=late_evening))
    assert _reasons(data, "touchpoints") == {2: "out_of_window"}


TOUCHPOINTS_WITH_LATE = "account_id,timestamp,touchpoint\nA1,2026-10-30,demo\nA1,2026-11-01T09:00:00Z,demo\n"


def test_nothing_after_as_of_changes_the_used_tables(make_source):
    base = "account_id,timestamp,touchpoint\nA1,2026-10-30,demo\n"
    a = _load(make_source(touchpoints=base + "A1,2026-11-05,demo\n"))
    b = _load(make_source(touchpoints=base + "A2,2027-03-01,webinar\nA3,2026-12-01,qbr\n"))
    pd.testing.assert_frame_equal(a.touchpoints, b.touchpoints)
    assert a.fingerprint() == b.fingerprint()


def test_end_before_start(make_source):
    opps = ("opportunity_id,account_id,created_at,closed_at,status\n"
            "O1,A1,2026-09-01,2026-08-01,lost\nO2,A1,2026-09-01,2026-09-02,won\n")
    subs = "account_id,start_date,end_date,mrr\nA1,2026-01-01,2025-12-31,100\n"
    tickets = "ticket_id,account_id,opened_at,resolved_at\nT1,A1,2026-10-01T10:00Z,2026-10-01T09:00Z\n"
    data = _load(make_source(opportunities=opps, subscriptions=subs, tickets=tickets))
    assert _reasons(data, "opportunities") == {1: "end_before_start"}
    assert _reasons(data, "subscriptions") == {1: "end_before_start"}
    assert _reasons(data, "tickets") == {1: "end_before_start"}
    assert "closed_at 2026-08-01 00:00:00+00:00 is before created_at" in data.quarantine.iloc[0]["message"]


def test_negative_amounts_and_durations(make_source):
    opps = "opportunity_id,account_id,created_at,amount\nO1,A1,2026-09-01,-5\nO2,A1,2026-09-01,\"1,250.50\"\n"
    tickets = ("ticket_id,account_id,opened_at,first_response_minutes\n"
               "T1,A1,2026-10-01,-3\nT2,A1,2026-10-01,abc\nT3,A1,2026-10-01,30\n")
    data = _load(make_source(opportunities=opps, tickets=tickets))
    assert _reasons(data, "opportunities") == {1: "negative_value"}
    assert data.opportunities["amount"].tolist() == [1250.5]
    assert _reasons(data, "tickets") == {1: "negative_value", 2: "bad_number"}
    assert "first_response_minutes 'abc' is not a number" in data.quarantine.iloc[-1]["message"]


def test_unknown_stage_names(make_source):
    tp = ("account_id,timestamp,touchpoint,stage\n"
          "A1,2026-10-01,demo,\n"            # empty stage: mapped by touchpoint
          "A1,2026-10-02,demo,Decision\n"    # a label: accepted, overrides the mapping
          "A1,2026-10-03,demo,decison\n")    # a typo
    data = _load(make_source(touchpoints=tp))
    assert data.touchpoints["stage"].astype(str).tolist() == ["consideration", "decision"]
    assert _reasons(data, "touchpoints") == {3: "unknown_stage"}
    assert "stage 'decison' is not a stage of the lifecycle (did you mean 'decision'?)" == data.quarantine.iloc[0]["message"]


def test_unmapped_touchpoints_with_closest_names(make_source):
    tp = ("account_id,timestamp,touchpoint\nA1,2026-10-01,webinr\nA1,2026-10-02,webinr\n"
          "A1,2026-10-03,Demo\nA2,2026-10-03,carrier_pigeon\n")
    data = _load(make_source(touchpoints=tp))
    assert _reasons(data, "touchpoints") == {1: "unmapped_touchpoint", 2: "unmapped_touchpoint", 4: "unmapped_touchpoint"}
    unmapped = data.report().unmapped.set_index("touchpoint")
    assert unmapped.loc["webinr", "rows"] == 2 and unmapped.loc["webinr", "closest"].startswith("webinar")
    assert unmapped.loc["carrier_pigeon", "rows"] == 1
    assert "(closest: webinar" in data.quarantine.iloc[0]["message"]
    assert "Unmapped touchpoints" in str(data.report())


def test_channel_specific_stage_mapping(make_source, tmp_path):
    stages = tmp_path / "stages.yml"
    stages.write_text("lifecycle: [lead, customer, {id: help, recurring: true}]\n"
                      "touchpoints:\n  newsletter_click: lead\n  email/newsletter_click: customer\n  ticket: help\n")
    tp = ("account_id,timestamp,touchpoint,channel\nA1,2026-10-01,newsletter_click,web\n"
          "A1,2026-10-02,Newsletter_Click ,Email\nA1,2026-10-03,ticket,\n")
    data = _load(make_source(touchpoints=tp), stages=stages)
    assert data.touchpoints["stage"].astype(str).tolist() == ["lead", "customer", "help"]
    assert list(data.touchpoints["stage"].cat.categories) == ["lead", "customer", "help"]
    assert data.lifecycle.recurring == {"help"}


def test_ids_keep_leading_zeros_and_lose_padding(make_source):
    acc = "account_id,name\n007,Bond\n 42 ,Padded\n0042,Other\n"
    tp = "account_id,timestamp,touchpoint\n007,2026-10-01,demo\n42,2026-10-01,demo\n 0042,2026-10-01,demo\n"
    data = _load(make_source(accounts=acc, touchpoints=tp))
    assert data.accounts["account_id"].tolist() == ["007", "42", "0042"]
    assert data.touchpoints["account_id"].tolist() == ["007", "42", "0042"]
    assert data.quarantine.empty


def test_empty_ids_are_set_aside(make_source):
    acc = "account_id,name\nA1,Acme\n,NoId\n   ,Blank\n"
    data = _load(make_source(accounts=acc, touchpoints="account_id,timestamp,touchpoint\nA1,2026-10-01,demo\n"))
    assert _reasons(data, "accounts") == {2: "missing_id", 3: "missing_id"}
    assert data.quarantine.iloc[0]["message"] == "account_id is empty"


def test_one_row_with_several_problems_is_one_set_aside_row(make_source):
    tp = "event_id,account_id,timestamp,touchpoint,cost\nE1,A9,not-a-date,webinr,-1\n"
    data = _load(make_source(touchpoints=tp))
    assert len(data.quarantine) == 1
    reasons = set(data.quarantine.iloc[0]["reasons"].split(";"))
    assert reasons == {"bad_timestamp", "negative_value", "unmapped_touchpoint", "unknown_account"}
    _balanced(data)


def test_survey_scores_by_kind(make_source):
    surveys = ("account_id,date,kind,score\nA1,2026-10-01,nps,10\nA1,2026-10-01,NPS,11\nA1,2026-10-01,csat,0\n"
               "A1,2026-10-01,ces,7\nA1,2026-10-01,stars,3\n")
    data = _load(make_source(surveys=surveys))
    assert _reasons(data, "surveys") == {2: "out_of_range", 3: "out_of_range", 5: "unknown_value"}
    assert "kind 'stars' is not one of nps, csat, ces" in data.quarantine.iloc[-1]["message"]


def test_missing_required_columns_are_listed_at_once_with_suggestions(make_source):
    acc = "acount_id,name\nA1,Acme\n"
    tp = "account_id,time_stamp,touchpoint_name\nA1,2026-10-01,demo\n"
    with pytest.raises(JourneyDataError, match=r"(?s)'account_id' is missing \(did you mean 'acount_id'\?\).*"
                                               r"'timestamp' is missing \(did you mean 'time_stamp'\?\).*"
                                               r"'touchpoint' is missing \(did you mean 'touchpoint_name'\?\)") as exc:
        _load(make_source(accounts=acc, touchpoints=tp))
    assert len(exc.value.problems) == 3
    assert isinstance(exc.value, ValueError)


def test_missing_required_table(make_source):
    folder = make_source(touchpoints=None)
    (folder / "touchpoint.csv").write_text(TOUCHPOINTS_WITH_LATE)
    with pytest.raises(JourneyDataError, match=r"table 'touchpoints' is missing .*\(did you mean 'touchpoint'\?\)"):
        _load(folder)


def test_empty_header_only_and_not_csv_files(make_source):
    with pytest.raises(SourceError, match=r"accounts\.csv: the file is empty"):
        _load(make_source(accounts=""))
    with pytest.raises(JourneyDataError, match=r"table 'accounts' \(accounts\.csv\) has a header but no rows"):
        _load(make_source(accounts="account_id,name\n"))
    with pytest.raises(SourceError, match=r"accounts\.csv: not a CSV text file"):
        _load(make_source(accounts=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    with pytest.raises(SourceError, match=r"accounts\.csv: not a well-formed CSV"):
        _load(make_source(accounts="account_id,name\nA1,Acme\nA2,Beta,extra,cols\n"))
    # an optional table with a header only is present and empty
    data = _load(make_source(contacts="contact_id,account_id\n"))
    assert data.contacts is not None and data.contacts.empty


def test_latin1_bom_and_crlf(make_source):
    acc_latin1 = "account_id,name\r\nA1,Société Générale\r\nA2,Müller\r\nA3,Gamma\r\n".encode("latin-1")
    data = _load(make_source(accounts=acc_latin1))
    assert data.accounts["name"].tolist() == ["Société Générale", "Müller", "Gamma"]
    assert any("latin-1" in n for n in data.report().notes)
    acc_bom = "\ufeffaccount_id,name\r\nA1,Ærø\r\nA2,b\r\nA3,c\r\n".encode("utf-8")
    data = _load(make_source(accounts=acc_bom))
    assert data.accounts.columns[0] == "account_id" and data.accounts["name"].iloc[0] == "Ærø"
    assert not any("latin-1" in n for n in data.report().notes)


def test_freshness_warning_when_data_ends_well_before_as_of(make_source):
    tp = "account_id,timestamp,touchpoint\nA1,2026-08-01,demo\n"
    with pytest.warns(FreshnessWarning, match=r"touchpoints end on 2026-08-01, 91 days before as_of 2026-10-31"):
        data = _load(make_source(touchpoints=tp), freshness_days=14)
    f = data.report().findings
    assert f.loc[f["code"] == "stale_data", "table"].tolist() == ["touchpoints"]


def test_as_of_defaults_to_the_last_date_and_says_so(make_source):
    data = journeylib.load(make_source())
    assert str(data.as_of.date()) == "2026-10-31"
    assert "taken from the data" in str(data.report())
    with pytest.raises(JourneyDataError, match=r"as_of 'soon' is not a date"):
        journeylib.load(make_source(), as_of="soon")


def test_report_renders_and_escapes(make_source):
    acc = "account_id,name\nA1,<img src=x onerror=alert(1)>\n<b>,x\n"
    tp = "account_id,timestamp,touchpoint\nA1,2026-10-31,<script>alert(1)</script>\n"
    data = _load(make_source(accounts=acc, touchpoints=tp))
    html = data.report()._repr_html_()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    d = data.report().to_dict()
    assert d["balanced"] is True and d["as_of"] == AS_OF


def test_a_bad_first_occurrence_does_not_hide_a_good_copy(make_source):
    # The first row with id A2 cannot be used (bad timestamp); the later copy is the first usable one and is kept,
    # so no account is lost; the bad row is set aside for its own reason, not as a duplicate.
    acc = "account_id,name,created_at\nA1,Acme,2025-01-01\nA2,Beta,31st of Feb\nA2,Beta,2025-02-01\nA3,G,2025-01-01\n"
    data = _load(make_source(accounts=acc))
    assert data.accounts["account_id"].tolist() == ["A1", "A2", "A3"]
    assert _reasons(data, "accounts") == {2: "bad_timestamp"}


def test_contract_columns_outside_the_contract_are_kept_as_text(make_source):
    acc = "account_id,name,tier_custom\nA1,Acme, gold \nA2,Beta,\nA3,Gamma,silver\n"
    data = _load(make_source(accounts=acc))
    assert data.accounts["tier_custom"].tolist() == ["gold", None, "silver"]


# --------------------------------------------------------------------------- text cleaning, fast path
def _strip_reference(values: pd.Series) -> pd.Series:
    """What ``_text`` gives for text: Python's ``str.strip`` value by value, empty and missing as None."""
    t = values.astype("string").str.strip()
    return t.astype(object).where(t.notna() & (t != ""), None)


TRICKY_TEXT = ["  a ", "\u3000b\u3000", "\x1cc\x1f", "\xa0d", "e\u2028", "\u200bf\u200b", "", "   ", None, float("nan"),
               "g h", "\t\n", "ÄÖ ", "\u0085i", "İstanbul ", 5, 5.5, "x\u00a0y"]


def test_text_trims_exactly_as_python_strip():
    from journeylib.data.validate import _text

    values = pd.Series(TRICKY_TEXT, dtype=object)
    assert _text(values).tolist() == _strip_reference(values).tolist()
    # by hand: ideographic, separator-class and no-break spaces go; the zero-width space is not whitespace
    assert _text(values).tolist()[:6] == ["a", "b", "c", "d", "e", "\u200bf\u200b"]
    lone = pd.Series(["\ud800 ", " ok"], dtype=object)  # Arrow cannot hold a lone surrogate: the slow path
    assert _text(lone).tolist() == ["\ud800", "ok"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("ab \t\u3000\xa0\x1c\u200bé\n")),
                                             max_size=6)), max_size=30))
def test_text_matches_python_strip_on_any_text(values):
    from journeylib.data.validate import _text

    s = pd.Series(values, dtype=object)
    assert _text(s).tolist() == _strip_reference(s).tolist()
