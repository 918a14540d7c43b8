"""The validated contract: the review loads and validates once, every notebook reads back the same data."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import journeylib
from journeylib.data.contract import ARROW_STRING_TABLES, CATEGORY_COLUMNS, CONTRACT_FILE, read_contract, write_contract
from journeylib.data.history import data_as_of
from journeylib.errors import ParameterError, SourceError
from journeylib.schema import PII_COLUMNS

from conftest import REPO

SALESFORCE = REPO / "tests" / "fixtures" / "salesforce"


def _plain_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Text columns as objects with None for missing (loaded data hold None, Arrow-backed str NaN)."""
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].notna(), None) for c in columns})


def _same(a, b) -> None:
    """b is a read back: equal in everything but the personal columns, which it left out."""
    assert a.fingerprint() == b.fingerprint()
    for name, table in a.tables.items():
        if table is None:
            assert b.tables[name] is None, name
        else:
            personal = [c for c in PII_COLUMNS.get(name, []) if c in table.columns]
            assert not set(personal) & set(b.tables[name].columns), name
            back = b.tables[name]
            if name in ARROW_STRING_TABLES:  # text read as Arrow-backed str: same values, NaN for missing
                text = [c for c in back.columns if str(back[c].dtype) == "str"]
                assert (text or table.empty) and all(table[c].dtype == object for c in text), name
                categories = [c for c in back.columns if isinstance(back[c].dtype, pd.CategoricalDtype) and c != "stage"]
                assert set(categories) == {c for c in CATEGORY_COLUMNS.get(name, ()) if c in table.columns}, name
                for c in categories:  # few distinct texts: categories, as plain strings in sorted order
                    assert back[c].cat.categories.dtype == object and not back[c].cat.ordered
                    assert list(back[c].cat.categories) == sorted(table[c].dropna().unique())
                text += categories
                table, back = _plain_text(table, text), _plain_text(back, text)
            pd.testing.assert_frame_equal(table.drop(columns=personal), back, obj=name)
    ra, rb = a.report(), b.report()
    for part in ("counts", "findings", "unmapped"):
        pd.testing.assert_frame_equal(getattr(ra, part), getattr(rb, part), check_dtype=False, obj=part)
    assert (a.as_of, a.cutoff, a.tz, a.currency, a.source, a.notes) == (b.as_of, b.cutoff, b.tz, b.currency,
                                                                         b.source, b.notes)
    assert a.lifecycle.to_dict() == b.lifecycle.to_dict()


def test_the_sample_reads_back_as_it_was_loaded(sample, tmp_path):
    folder = write_contract(sample, tmp_path / "contract")
    back = journeylib.load(str(folder), as_of="2026-10-31")
    _same(sample, back)
    assert back.touchpoints["stage"].cat.ordered and list(back.touchpoints["stage"].cat.categories) == \
        sample.lifecycle.ids
    meta = json.loads((folder / CONTRACT_FILE).read_text())
    assert meta["rows"]["touchpoints"] == len(sample.touchpoints) == 194_112
    assert meta["personal_columns_left_out"] == {"contacts": ["name", "email"]}
    assert {"name", "email"} <= set(sample.contacts.columns)  # the loaded data keeps them; the contract does not
    kept = write_contract(sample, tmp_path / "with_pii", include_pii=True)
    assert "email" in pd.read_parquet(kept / "contacts.parquet").columns
    # the fingerprint leaves personal columns out: renaming every contact changes nothing
    renamed = journeylib.load(str(kept))
    renamed.tables["contacts"] = renamed.contacts.assign(name="Someone Else", email="x@y.example")
    assert renamed.fingerprint() == sample.fingerprint()
    assert meta["fingerprint"] == sample.fingerprint()
    # an earlier as_of is the data as known then, exactly as data_as_of cuts the loaded data
    assert journeylib.load(str(folder), as_of="2026-06-30").fingerprint() == \
        data_as_of(sample, "2026-06-30").fingerprint()
    with pytest.raises(ParameterError, match=r"as_of 2026-11-30 is after the validated contract's as_of 2026-10-31"):
        journeylib.load(str(folder), as_of="2026-11-30")


def test_the_analyses_give_the_same_numbers_on_the_contracts_arrow_text(sample, tmp_path):
    """The contract reads touchpoint and usage text as Arrow-backed str (a quarter of the memory at 20,000
    accounts) and the touchpoints' few-valued text as categoricals (half of what is left): every analysis
    that reads those tables gives the frames it gives on the loaded data, as of now and a month earlier."""
    from journeylib import attribution, churn, kpis, paths, predict, segments, survival
    from journeylib.data import quality
    from journeylib.data.history import data_as_of

    back = journeylib.load(str(write_contract(sample, tmp_path / "contract")))
    assert str(back.touchpoints["event_id"].dtype) == "str" and str(back.usage["feature"].dtype) == "str"
    assert all(isinstance(back.touchpoints[c].dtype, pd.CategoricalDtype)
               for c in ("channel", "outcome", "account_id", "contact_id"))
    analyses = (lambda d: paths.journeys(d), lambda d: paths.won_vs_lost(d), lambda d: paths.drop_offs(d),
                lambda d: paths.variants(d), lambda d: paths.step_sankey(d), lambda d: paths.funnel(d),
                lambda d: segments.account_features(d), lambda d: churn.build_snapshots(d).tail(3000),
                lambda d: attribution.conversion_paths(d), lambda d: kpis.scorecard(d, "2026-10"),
                lambda d: predict.deal_visits(d), lambda d: attribution.cost_per_outcome(d),
                lambda d: quality.touchpoints_by_stage_channel(d.touchpoints),
                lambda d: attribution.rule_based(attribution.conversion_paths(d), "w_shaped", by="campaign"),
                lambda d: survival.value_durations(d.tables, d.cutoff))
    for earlier in (False, True):
        for analysis in analyses:
            a, b = (analysis(data_as_of(d, "2026-09-30") if earlier else d) for d in (sample, back))
            text = [c for c in b.columns if str(b[c].dtype) == "str"]  # a table may pass a text column through
            pd.testing.assert_frame_equal(_plain_text(a, text), _plain_text(b, text), check_exact=True)


def test_a_messy_crm_export_keeps_its_quarantine_and_report(tmp_path):
    data = journeylib.load(str(SALESFORCE), mapping="salesforce", as_of="2024-01-31")
    assert len(data.quarantine) == data.quarantine["values"].notna().sum() == 24  # as the export wrote them
    back = read_contract(write_contract(data, tmp_path / "c"))
    _same(data, back)
    pd.testing.assert_frame_equal(data.quarantine, back.quarantine, check_dtype=False)
    # rows in = rows used + rows set aside, read back as written
    counts = back.report().counts
    assert (counts["rows_read"] == counts["rows_used"] + counts["rows_set_aside"]).all()


def test_a_contract_refuses_other_stages_and_says_what_is_missing(sample, tmp_path):
    folder = write_contract(sample, tmp_path / "contract")
    with pytest.raises(ParameterError, match="is a validated contract: its mapping and stages were applied"):
        journeylib.load(str(folder), stages=sample.lifecycle.to_dict())
    (folder / "usage.parquet").unlink()
    with pytest.raises(SourceError, match=r"usage.parquet: missing from the validated contract"):
        journeylib.load(str(folder))
    meta = json.loads((folder / CONTRACT_FILE).read_text())
    (folder / CONTRACT_FILE).write_text(json.dumps({**meta, "format": "journeylib-contract/0"}))
    with pytest.raises(SourceError, match=r"format 'journeylib-contract/0' is not 'journeylib-contract/1'"):
        journeylib.load(str(folder))


def test_a_contracts_tables_are_read_when_first_used_and_set_as_in_a_dict(sample, tmp_path):
    folder = write_contract(sample, tmp_path / "contract")
    back = journeylib.load(str(folder))
    tables = back.tables
    assert list(tables) == list(sample.tables) and len(tables) == len(sample.tables)
    assert "read=[]" in repr(tables), "loading reads no table"
    assert back.touchpoints is back.touchpoints and "read=['touchpoints']" in repr(tables)
    # cut at the previous month end, the other tables stay unread; the cut shares what was read
    earlier = data_as_of(back, "2026-09-30")
    assert len(earlier.touchpoints) == (sample.touchpoints["timestamp"] <= earlier.cutoff).sum() < len(sample.touchpoints)
    assert "read=['touchpoints']" in repr(tables)
    # set and deleted by name, as in the dict it was
    tables["usage"] = None
    assert back.usage is None and earlier.usage is not None, "the cut keeps the table as it was"
    del tables["surveys"]
    assert "surveys" not in tables and len(tables) == len(sample.tables) - 1
    with pytest.raises(KeyError):
        tables["surveys"]
    with pytest.raises(KeyError):
        del tables["surveys"]
    pd.testing.assert_frame_equal(back.accounts, read_contract(folder).accounts)
    # a table's file broken after loading: the error names it when the table is first used
    broken = journeylib.load(str(folder))
    (folder / "tickets.parquet").write_bytes(b"not parquet")
    with pytest.raises(SourceError, match=r"tickets.parquet: changed or removed since the contract was loaded"):
        broken.tickets, "a file replaced after loading is not read: it may be another contract's"
    with pytest.raises(SourceError, match=r"tickets.parquet: not readable as a table of the validated contract"):
        journeylib.load(str(folder)).tickets
    # the folder replaced by another contract (a review run again): no table of it mixes into this one
    again = journeylib.load(str(write_contract(sample, tmp_path / "second")))
    shutil.rmtree(tmp_path / "second")
    write_contract(sample, tmp_path / "second")
    with pytest.raises(SourceError, match=r"usage.parquet: changed or removed since the contract was loaded"):
        again.usage


def test_a_table_for_one_use_is_not_kept_and_an_accounts_rows_are_read_alone(sample, tmp_path):
    """The churn snapshots and an account's drill-down read a contract's tables without keeping them, and
    give what the tables read and kept give."""
    from journeylib import churn
    from journeylib.data.account import account_history
    from journeylib.data.contract import account_rows, has_table, table_once

    folder = write_contract(sample, tmp_path / "contract")
    back, full = journeylib.load(str(folder)), journeylib.load(str(folder))
    dict(full.tables)  # every table read and kept
    pd.testing.assert_frame_equal(table_once(back.tables, "touchpoints"), full.touchpoints)
    assert "read=[]" in repr(back.tables), "a table for one use is not kept"
    assert has_table(back.tables, "usage") and "read=[]" in repr(back.tables)
    assert churn.inputs_note(back) == "" and "read=[]" in repr(back.tables)
    pd.testing.assert_frame_equal(churn.build_snapshots(back), churn.build_snapshots(full), check_exact=True)
    assert "read=[]" in repr(back.tables), "the snapshots keep no table of the contract"
    # an account's rows: of a table not read, only they are read; the same rows, dtypes and values
    ids = ["A00001", "A00002", "A00042", "nope"]
    assert len(account_rows(full.tables, "touchpoints", "A00001")) > 10
    for name in ("touchpoints", "surveys", "opportunities", "subscriptions", "tickets"):
        for account in ids:
            pd.testing.assert_frame_equal(account_rows(back.tables, name, account),
                                          account_rows(full.tables, name, account), obj=f"{name} {account}")
    assert "read=[]" in repr(back.tables)
    for account in ids[:3]:
        pd.testing.assert_frame_equal(account_history(back, account), account_history(full, account))
        pd.testing.assert_frame_equal(account_history(data_as_of(back, "2026-06-30"), account),
                                      account_history(data_as_of(full, "2026-06-30"), account))
    assert "read=['accounts', 'contacts']" in repr(back.tables), "the drill-down reads the small tables only"
    # as a dict of tables does; a table set is used as set
    plain = dict(full.tables)
    pd.testing.assert_frame_equal(account_rows(plain, "tickets", "A00042"), account_rows(back.tables, "tickets", "A00042"))
    back.tables["tickets"] = None
    assert not has_table(back.tables, "tickets") and account_rows(back.tables, "tickets", "A00042") is None
    for tables in (back.tables, plain):  # leads' account is optional: a table without it says so
        tables["leads"] = full.leads.drop(columns="account_id")
        with pytest.raises(ParameterError, match="the leads table has no account_id column"):
            account_rows(tables, "leads", "A00042")
    # a file changed after loading is refused here too
    (folder / "surveys.parquet").write_bytes(b"not parquet")
    with pytest.raises(SourceError, match=r"surveys.parquet: changed or removed since the contract was loaded"):
        account_rows(back.tables, "surveys", "A00001")


@pytest.mark.parametrize("dtype", ["category", object, "str"])
def test_filled_text_fills_missing_text_whatever_the_dtype(dtype):
    """A categorical takes the fill as a value like the others (fillna refuses a new category), and the result
    groups in text order, as the text it stands for: "(none)" before "email"."""
    from journeylib.data.contract import filled_text

    values = pd.Series(["web", None, "email", "web"], dtype=dtype, name="channel", index=[3, 1, 2, 0])
    filled = filled_text(values, "(none)")
    assert filled.tolist() == ["web", "(none)", "email", "web"] and filled.name == "channel"
    assert filled.index.tolist() == [3, 1, 2, 0]
    assert filled.groupby(filled).size().index.tolist() == ["(none)", "email", "web"]


@pytest.mark.parametrize("dtype", ["string[python]", "string[pyarrow]", pd.StringDtype("pyarrow", na_value=float("nan")),
                                   pd.StringDtype("python", na_value=float("nan")), object])
def test_as_text_gives_what_astype_str_gives(dtype):
    """The fast conversion of the contract's Arrow-backed text is astype(str), missing values included."""
    from journeylib.data.contract import as_text

    values = pd.Series(["A1", None, " b", "é", ""], dtype=dtype, index=[5, 6, 7, 8, 9], name="account_id")
    expected = values.astype(str)
    pd.testing.assert_series_equal(as_text(values), expected)
    assert expected[6] in {"nan", "<NA>", "None"} and as_text(values).map(type).eq(str).all()


def test_row_hashes_are_those_of_the_values_as_objects_whatever_the_dtype_and_part_size():
    from journeylib.data.load import row_hashes

    text = ["a", None, "b", "a", "c", "b", "d"]
    as_objects = pd.DataFrame({"account_id": pd.Series(text, dtype=object), "n": range(7),
                               "tier": pd.Series([1, 2, 1, 3, 2, 1, 1], dtype=object)})
    expected = pd.util.hash_pandas_object(as_objects, index=False).to_numpy().tobytes()
    for kind in (pd.StringDtype("pyarrow", na_value=float("nan")), "string[pyarrow]", "category"):
        typed = as_objects.assign(account_id=pd.Series(text, dtype=kind),
                                  tier=pd.Categorical([1, 2, 1, 3, 2, 1, 1]))  # categories of numbers: as objects
        for rows in (1, 3, 1_000_000):
            assert row_hashes("touchpoints", typed, rows=rows) == expected, (kind, rows)
    assert row_hashes("touchpoints", as_objects.iloc[:0]) == b""
