"""The account drill-down: an account by id or name, its whole history on one timeline, and its explorer."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylib
from journeylib.data.account import HISTORY_COLUMNS, account_history, find_account
from journeylib.errors import ParameterError

ACCOUNTS = "account_id,name,created_at\nA1,Acme,2025-01-01\nA2,Beta,2025-01-01\nA3,Beta,2025-02-01\n"
CONTACTS = ("contact_id,account_id,role,name,email\nC1,A1,champion,Jane Doe,jane@acme.example\n"
            "C2,A1,economic_buyer,John Roe,john@acme.example\n")
TOUCHPOINTS = """event_id,account_id,contact_id,timestamp,touchpoint,channel,campaign
E1,A1,C1,2026-01-05T10:00:00Z,webinar,event,Jan webinar
E2,A1,C2,2026-02-01T10:00:00Z,demo,sales,
E3,A1,,2026-02-20T10:00:00Z,pricing_page_visit,web,
E4,A2,,2026-10-30T10:00:00Z,webinar,event,
"""
OPPORTUNITIES = ("opportunity_id,account_id,created_at,closed_at,status,amount,type\n"
                 "O1,A1,2026-01-20,2026-03-01,won,12000,new\n")
SUBSCRIPTIONS = "account_id,start_date,end_date,mrr,plan\nA1,2026-03-05,,1000,growth\n"
TICKETS = "ticket_id,account_id,opened_at,resolved_at,priority\nK1,A1,2026-04-01T09:00:00Z,2026-04-02T09:00:00Z,high\n"
SURVEYS = "account_id,date,kind,score,contact_id\nA1,2026-05-01,nps,9,C1\n"


@pytest.fixture
def data(make_source):
    return journeylib.load(make_source(accounts=ACCOUNTS, contacts=CONTACTS, touchpoints=TOUCHPOINTS,
                                       opportunities=OPPORTUNITIES, subscriptions=SUBSCRIPTIONS, tickets=TICKETS,
                                       surveys=SURVEYS), as_of="2026-10-31")


def test_an_account_by_id_or_name(data):
    assert find_account(data, "A1") == "A1"
    assert find_account(data, "  acme ") == "A1"
    with pytest.raises(ParameterError, match=r"account name 'beta' is shared by 2 accounts; give one id: A2, A3"):
        find_account(data, "beta")
    with pytest.raises(ParameterError, match=r"no account has the id or name 'Acmee' \(did you mean 'Acme'\?\)"):
        find_account(data, "Acmee")
    with pytest.raises(ParameterError, match="account is empty"):
        find_account(data, " ")


def test_the_whole_history_in_time_order_with_contacts_by_role_never_by_name(data):
    h = account_history(data, "Acme")
    assert list(h.columns) == list(HISTORY_COLUMNS) and h.attrs == {"account_id": "A1", "name": "Acme"}
    got = [(t.strftime("%m-%d"), k, e, w) for t, k, e, w in zip(h["time"], h["kind"], h["event"], h["who"])]
    assert got == [
        ("01-05", "touchpoint", "webinar", "champion (C1)"),
        ("01-20", "opportunity", "created", "account"),
        ("02-01", "touchpoint", "demo", "economic buyer (C2)"),
        ("02-20", "touchpoint", "pricing_page_visit", "account"),
        ("03-01", "opportunity", "won", "account"),
        ("03-05", "subscription", "started", "account"),
        ("04-01", "ticket", "opened", "account"),
        ("04-02", "ticket", "resolved", "account"),
        ("05-01", "survey", "nps 9", "champion (C1)"),
    ]
    assert h.loc[h["event"] == "won", "detail"].iloc[0] == "O1 new 12,000"
    assert h.loc[h["kind"] == "subscription", "detail"].iloc[0] == "growth MRR 1,000"
    assert h.loc[0, "channel"] == "event" and h.loc[0, "stage"] == "research" and h.loc[0, "detail"] == "Jan webinar"
    text = h.astype(str).to_string()
    assert "Jane" not in text and "acme.example" not in text
    assert len(account_history(data, "A3")) == 0  # an account without events: an empty history


def test_the_history_is_the_same_whatever_the_id_columns_dtype(data):
    """Ids matched on Arrow-backed text (the contract's) and on Python strings or numbers give one history."""
    import copy

    from journeylib.data.contract import is_text

    arrow_text = pd.StringDtype("pyarrow", na_value=float("nan"))  # the contract's text
    contract_like = copy.copy(data)
    contract_like.tables = dict(data.tables)
    for name in ("touchpoints", "opportunities", "subscriptions", "tickets", "surveys"):
        table = data.tables[name]
        contract_like.tables[name] = table.assign(account_id=table["account_id"].astype(arrow_text))
    assert len(account_history(data, "A1")) == 9
    pd.testing.assert_frame_equal(account_history(contract_like, "A1"), account_history(data, "A1"))
    assert is_text(pd.Series([7, 70, None], dtype="Int64"), "7").tolist() == [True, False, False]
    text = pd.Series(["A1", None, "nan"], dtype=arrow_text)
    assert is_text(text, "A1").tolist() == [True, False, False]
    assert is_text(text, "nan").tolist() == [False, True, True]  # as as_text reads a missing value


def test_the_explorer_shows_the_parameters_account_and_follows_what_is_typed(data, monkeypatch):
    from journeylib.widgets import HEADLESS_ENV
    from journeylib.widgets.account import account_explorer

    monkeypatch.setenv(HEADLESS_ENV, "1")
    explorer = account_explorer(data, "acme", offered=["A1", "A2"], notes={"A1": "churn risk 63%"})
    assert explorer.account.value == "Acme (A1)" and list(explorer.account.options) == ["Acme (A1)", "Beta (A2)"]
    fig = explorer.figures["account_timeline"]
    assert "Acme (A1)" in fig.layout.title.text and "churn risk 63%" in fig.layout.title.text
    assert list(fig.layout.yaxis.categoryarray)[::-1] == ["champion (C1)", "economic buyer (C2)", "account",
                                                          "opportunities", "subscription", "tickets", "surveys"]
    explorer.account.value = "Beta (A2)"
    assert explorer.history.attrs["account_id"] == "A2" and len(explorer.history) == 1
    explorer.account.value = "nobody"
    assert "no account has the id or name 'nobody'" in explorer.message.value
    assert explorer.history.attrs["account_id"] == "A2"  # the last account stays on show
    with pytest.raises(ParameterError, match="no account has the id or name 'zz'"):
        account_explorer(data, "zz")
