"""`journey stages init` / `stage_starter`: counts, guesses, a stage file that loads, YAML-safe names, the CLI."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

import journeylib
from journeylib.cli import main
from journeylib.data.stage_starter import (KEYWORD_RULES, STARTER_COLUMNS, _words, _yaml_str, guess_stage,
                                           stage_starter)
from journeylib.errors import JourneyDataError
from journeylib.stages import Lifecycle, default_lifecycle, load_lifecycle

from conftest import REPO

SALESFORCE = REPO / "tests" / "fixtures" / "salesforce"

# A clickstream-like export: 14 rows, 2 of them without a name; "Demo"/"demo"/" demo " are one mapping key.
CLICKS = """event_id,account_id,timestamp,touchpoint,channel
E01,A1,2026-10-01T10:00:00Z,page_view:/pricing,web
E02,A1,2026-10-01T10:01:00Z,page_view:/pricing,web
E03,A2,2026-10-01T10:02:00Z,page_view:/pricing,web
E04,A1,2026-10-02T10:00:00Z,signup_started,web
E05,A2,2026-10-02T10:00:00Z,signup_started,web
E06,A1,2026-10-03T10:00:00Z,Demo,sales
E07,A2,2026-10-03T10:00:00Z,demo,sales
E08,A3,2026-10-03T10:00:00Z, demo ,sales
E09,A1,2026-10-04T10:00:00Z,Webinar Attended,web
E10,A3,2026-10-05T10:00:00Z,quarterly_sync,sales
E11,A1,2026-10-06T10:00:00Z,trial_expired,product
E12,A2,2026-10-06T10:00:00Z,,web
E13,A3,2026-10-06T10:00:00Z,   ,web
E14,A3,2026-10-07T10:00:00Z,invoice_paid,billing
"""


def run(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "journeylib", *args], capture_output=True, text=True, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


# --------------------------------------------------------------------------- counting and guessing
def test_counts_every_name_most_frequent_first_ties_by_name(make_source):
    text, table = stage_starter(make_source(touchpoints=CLICKS))
    assert list(table.columns) == STARTER_COLUMNS
    assert table[["touchpoint", "rows"]].values.tolist() == [
        ["demo", 3],                  # Demo, demo and " demo " are one key, shown in its most frequent spelling
        ["page_view:/pricing", 3],    # tie at 3: by lower-case name, "demo" < "page_view:/pricing"
        ["signup_started", 2],
        ["invoice_paid", 1],
        ["quarterly_sync", 1],
        ["trial_expired", 1],
        ["Webinar Attended", 1],      # ties by lower-case name: webinar last
    ]
    assert table["rows"].sum() == 12 and table.attrs["unnamed_rows"] == 2
    assert "# 2 rows with an empty or missing touchpoint name not listed" in text
    assert "# 7 touchpoint names in 12 rows: 1 mapped, 5 guessed, 1 to decide." in text


def test_guesses_and_the_lines_of_the_file(make_source):
    text, table = stage_starter(make_source(touchpoints=CLICKS))
    got = {r.touchpoint: (r.stage, r.reason, r.keyword) for r in table.itertuples()}
    assert got == {
        "demo": ("consideration", "mapping", None),
        "page_view:/pricing": ("research", "keyword", "page view pricing"),
        "signup_started": ("consideration", "keyword", "signup"),
        "invoice_paid": ("renewal", "keyword", "invoice"),
        "quarterly_sync": (None, "unmatched", None),
        "trial_expired": ("consideration", "keyword", "trial"),
        "Webinar Attended": ("research", "keyword", "webinar"),
    }
    lines = text.splitlines()
    body = lines[lines.index("touchpoints:") + 1:]
    assert body == [
        '  demo: consideration             # 3 touchpoints, default mapping',
        '  "page_view:/pricing": research  # 3 touchpoints, guessed from "page view pricing"',
        '  signup_started: consideration   # 2 touchpoints, guessed from "signup"',
        '  invoice_paid: renewal           # 1 touchpoint, guessed from "invoice"',
        '  # quarterly_sync: ?             # 1 touchpoint, no keyword matched: decide',
        '  trial_expired: consideration    # 1 touchpoint, guessed from "trial"',
        '  Webinar Attended: research      # 1 touchpoint, guessed from "webinar"',
    ]
    # the default lifecycle written out in full, ready to edit
    start = lines.index("lifecycle:")
    assert lines[start + 1:start + 11] == [
        "  - {id: awareness, label: Awareness}", "  - {id: research, label: Research}",
        "  - {id: consideration, label: Consideration}", "  - {id: decision, label: Decision}",
        "  - {id: onboarding, label: Onboarding}", "  - {id: adoption, label: Adoption}",
        "  - {id: support, label: Support, recurring: true}", "  - {id: renewal, label: Renewal}",
        "  - {id: expansion, label: Expansion}", "  - {id: advocacy, label: Advocacy}"]


@pytest.mark.parametrize("name, expected", [
    ("demo_request", ("consideration", "mapping", None)),            # exact default mapping, any case / blanks
    ("  WEBINAR ", ("research", "mapping", None)),
    ("security review requested", ("decision", "keyword", "security review")),  # phrase before "review"
    ("g2_review_left", ("advocacy", "keyword", "review")),
    ("pricing_page_viewed", ("research", "keyword", "pricing page")),
    ("pricing_requested", ("consideration", "keyword", "pricing")),
    ("support ticket opened", ("support", "keyword", "ticket")),
    ("billing ticket", ("support", "keyword", "ticket")),           # a ticket is support, whatever it is about
    ("trial_login", ("consideration", "keyword", "trial")),          # trial outranks the adoption words
    ("LinkedInAdClick", ("awareness", "keyword", "ad")),            # camelCase split
    ("asset_download", ("research", "keyword", "download")),        # "ad" is a word, not a substring
    ("Kick-off meeting", ("onboarding", "keyword", "kickoff")),      # two-word spellings joined
    ("Sign Ups", ("consideration", "keyword", "signup")),
    ("case studies viewed", ("consideration", "keyword", "case study")),  # plural
    ("add-ons purchased", ("expansion", "keyword", "addon")),
    ("subscription_cancelled", ("renewal", "keyword", "cancelled")),
    ("referral_visit", ("awareness", "keyword", "referral visit")),
    ("quarterly_sync", (None, "unmatched", None)),
    ("", (None, "unmatched", None)),
])
def test_guess_stage(name, expected):
    assert guess_stage(name) == expected


def test_keyword_rules_agree_with_the_default_mapping():
    """Without the exact entries, the rules alone give the default's stage for all but one of its 54 names."""
    default = default_lifecycle()
    bare = Lifecycle(list(default.stages), {})
    wrong = {name: guess_stage(name, bare)[0] for name, stage in default.touchpoints.items()
             if guess_stage(name, bare)[0] != stage}
    assert wrong == {"customer_newsletter_read": "research"}  # default: adoption (a customer's newsletter)


def test_keyword_rules_are_consistent():
    phrases = [phrase for phrase, _ in KEYWORD_RULES]
    assert len(phrases) == len(set(phrases)), "a phrase is listed twice"
    stages = set(default_lifecycle().ids)
    assert {stage for _, stage in KEYWORD_RULES} == stages
    words = [_words(p) for p in phrases]
    assert [len(w) for w in words] == sorted((len(w) for w in words), reverse=True), "longer phrases first"
    for i, earlier in enumerate(words):  # no rule can never fire because an earlier one always matches first
        for later in words[i + 1:]:
            n = len(earlier)
            assert not any(later[k:k + n] == earlier for k in range(len(later) - n + 1)), (earlier, later)


def test_rules_for_stages_not_in_the_lifecycle_are_skipped_and_its_own_mapping_is_used(make_source, tmp_path):
    own = tmp_path / "own.yml"
    own.write_text("lifecycle: [research, buying, customer]\ntouchpoints:\n  quarterly_sync: customer\n")
    text, table = stage_starter(make_source(touchpoints=CLICKS), lifecycle=own)
    got = {r.touchpoint: (r.stage, r.reason) for r in table.itertuples()}
    assert got["quarterly_sync"] == ("customer", "mapping")
    assert got["Webinar Attended"] == ("research", "keyword")
    assert got["trial_expired"] == (None, "unmatched")  # consideration is not a stage of this lifecycle
    line = [line for line in text.splitlines() if "quarterly_sync" in line]
    assert line[0].startswith("  quarterly_sync: customer ") and line[0].endswith(f"# 1 touchpoint, mapping of {own}")
    assert load_lifecycle(yaml.safe_load(text)).ids == ["research", "buying", "customer"]


# --------------------------------------------------------------------------- the file loads
def test_the_file_loads_and_only_undecided_names_are_set_aside(make_source, tmp_path):
    folder = make_source(touchpoints=CLICKS)
    text, table = stage_starter(folder)
    path = tmp_path / "stages.yml"
    path.write_text(text, encoding="utf-8")
    lifecycle = load_lifecycle(path)
    assert lifecycle.ids == default_lifecycle().ids and lifecycle.recurring == {"support"}
    assert lifecycle.touchpoints == {"demo": "consideration", "page_view:/pricing": "research",
                                     "signup_started": "consideration", "invoice_paid": "renewal",
                                     "trial_expired": "consideration", "webinar attended": "research"}

    before = journeylib.load(folder, as_of="2026-10-10")
    assert set(before.report().unmapped["touchpoint"]) == {"page_view:/pricing", "signup_started",
                                                          "Webinar Attended", "quarterly_sync", "trial_expired",
                                                          "invoice_paid"}
    data = journeylib.load(folder, stages=path, as_of="2026-10-10")
    tp = data.report().counts.set_index("table").loc["touchpoints"]
    assert tp["rows_read"] == 14 == tp["rows_used"] + tp["rows_set_aside"]
    assert tp["rows_used"] == 11  # 14 - 2 without a name - 1 quarterly_sync
    assert list(data.report().unmapped["touchpoint"]) == ["quarterly_sync"]
    assert set(data.touchpoints["touchpoint"].str.strip().str.lower()) == set(lifecycle.touchpoints)
    assert (data.touchpoints.loc[data.touchpoints["touchpoint"] == "trial_expired", "stage"] == "consideration").all()
    # deciding the open name: uncomment its line and give a stage
    decided = path.read_text().replace("  # quarterly_sync: ?", "  quarterly_sync: adoption")
    path.write_text(decided)
    data = journeylib.load(folder, stages=path, as_of="2026-10-10")
    assert data.report().unmapped.empty and len(data.touchpoints) == 12


SPECIAL = ["page_view:/pricing", "Webinar: Attended", "#hash", "yes", "null", "' quoted'", '"double" ad', "on",
           "~", "<<", "2026-01-01", "1.5", "0x1F", "key: value # comment", "- dash", "[list]", "{map}", "&anchor",
           "*alias", "!tag", "%percent", "@at", "`tick`", "a\\b", "tab\there", "line\nbreak", "Ünïcödé webinar 🚀",
           "nel\x85sep", "ls\u2028sep", "bom\ufeffword", "bell\x07", "?question", "trailing:", "x" * 1500 + " ad"]


def test_yaml_special_names_round_trip(tmp_path):
    for name in SPECIAL[:-1]:  # the quoting helper alone (the long name needs the explicit-key form)
        assert yaml.safe_load(f"{_yaml_str(name)}: x") == {name: "x"}, name
        assert "\n" not in _yaml_str(name)
    folder = tmp_path / "src"
    folder.mkdir()
    pd.DataFrame({"account_id": "A1", "timestamp": "2026-10-01", "touchpoint": SPECIAL}).to_csv(
        folder / "touchpoints.csv", index=False)
    text, table = stage_starter(folder)
    assert sorted(table["touchpoint"]) == sorted(n.strip() for n in SPECIAL)
    loaded = load_lifecycle(yaml.safe_load(text))
    guessed = {r.touchpoint.lower(): r.stage for r in table.itertuples() if r.stage is not None}
    assert loaded.touchpoints == guessed
    assert {"webinar: attended", '"double" ad', "ünïcödé webinar 🚀", "x" * 1500 + " ad"} <= set(guessed)
    # every commented "?" line becomes a valid entry once uncommented
    opened = "\n".join(line.replace("  # ", "  ", 1).replace(": ?", ": support", 1) if line.startswith("  # ")
                       else line for line in text.splitlines())
    everything = load_lifecycle(yaml.safe_load(opened)).touchpoints
    assert set(everything) == {n.strip().lower() for n in SPECIAL}
    assert everything["#hash"] == everything["yes"] == everything["line\nbreak"] == "support"


def test_env_source_is_named_by_its_variable(make_source, monkeypatch):
    monkeypatch.setenv("STARTER_SRC", str(make_source(touchpoints=CLICKS)))
    text, table = stage_starter("env:STARTER_SRC")
    assert table.attrs["source"] == "env:STARTER_SRC"
    assert text.startswith("# Stage file started by `journey stages init` from env:STARTER_SRC.")


def test_no_touchpoints_table_or_column_is_a_data_error(make_source, tmp_path):
    with pytest.raises(JourneyDataError, match="no touchpoints table"):
        stage_starter(make_source(touchpoints=None))
    with pytest.raises(JourneyDataError, match="required column 'touchpoint' is missing \\(did you mean 'touchpont'"):
        stage_starter(make_source(touchpoints="account_id,timestamp,touchpont\nA1,2026-10-01,demo\n"))


# --------------------------------------------------------------------------- a CRM export through its mapping
SF_TABLE = [["ae_call", 3], ["event_booth_visit", 2], ["webinar", 2], ["demo", 1], ["discovery_call", 1],
            ["kickoff_call", 1], ["newsletter_click", 1], ["onsite_meeting", 1], ["paid_social_ad", 1],
            ["proposal_sent", 1], ["qbr", 1], ["security_review", 1], ["website_visit", 1]]


def test_salesforce_export_through_the_preset(tmp_path):
    text, table = stage_starter(SALESFORCE, mapping="salesforce")
    assert table[["touchpoint", "rows"]].values.tolist() == SF_TABLE
    assert set(table["reason"]) == {"mapping"} and table.attrs["unnamed_rows"] == 0
    assert "(mapping: salesforce)" in text.splitlines()[0]
    # only the touchpoints' tables are needed: no Account.csv, no Opportunity.csv
    partial = shutil.copytree(SALESFORCE, tmp_path / "sf")
    (partial / "Account.csv").unlink()
    (partial / "Opportunity.csv").unlink()
    assert stage_starter(partial, mapping="salesforce")[1][["touchpoint", "rows"]].values.tolist() == SF_TABLE
    # the config's data and mapping are used when not given
    config = tmp_path / "journey.yml"
    config.write_text(f"data: {SALESFORCE}\nmapping: salesforce\n")
    assert stage_starter(config=config)[0] == text


def test_cli_salesforce(tmp_path, capsys):
    out = tmp_path / "stages.yml"
    assert main(["stages", "init", str(SALESFORCE), "--mapping", "salesforce", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("Found 13 touchpoint names in 17 rows: 13 in the stage mapping, 0 guessed from keywords, "
                           "0 left to decide.")
    assert said.rstrip().endswith(f"journey validate {SALESFORCE} --stages {out} --mapping salesforce")
    data = journeylib.load(SALESFORCE, mapping="salesforce", stages=out)
    assert data.report().unmapped.empty


# --------------------------------------------------------------------------- the command line
def test_cli_writes_the_file_and_refuses_to_overwrite(make_source, tmp_path, capsys):
    folder = make_source(touchpoints=CLICKS)
    out = tmp_path / "stages.yml"
    assert main(["stages", "init", str(folder), "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert out.read_text(encoding="utf-8") == stage_starter(folder)[0]
    assert said.out == (
        "Found 7 touchpoint names in 12 rows (2 rows without a name not listed): 1 in the stage mapping, "
        "5 guessed from keywords (check them), 1 left to decide (the commented lines marked '?'). "
        f"Wrote {out}; edit it, then check it with: journey validate {folder} --stages {out}\n")
    out.write_text("mine\n")
    assert main(["stages", "init", str(folder), "--out", str(out)]) == 2
    assert f"error: --out {out} already exists; give --force to overwrite it" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
    assert main(["stages", "init", str(folder), "--out", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8") == stage_starter(folder)[0]
    assert main(["stages", "init", str(folder), "--out", str(tmp_path / "no" / "such" / "s.yml")]) == 2
    assert "cannot write the stage file" in capsys.readouterr().err
    assert main(["stages", "init", str(folder), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_cli_prints_the_yaml_without_out(make_source):
    folder = make_source(touchpoints=CLICKS)
    code, out, err = run("stages", "init", str(folder))
    assert code == 0
    assert out == stage_starter(folder)[0]
    assert load_lifecycle(yaml.safe_load(out)).touchpoints["trial_expired"] == "consideration"
    assert err.startswith("Found 7 touchpoint names in 12 rows") and "Wrote" not in err


def test_cli_errors_exit_codes_without_traceback(make_source, tmp_path):
    code, out, err = run("stages", "init", str(tmp_path / "nope"))
    assert code == 3 and "does not exist" in err and "Traceback" not in out + err
    code, out, err = run("stages", "init", str(make_source(touchpoints=None)))
    assert code == 3 and "no touchpoints table" in err and "Traceback" not in out + err
    code, _, err = run("stages", "init", str(make_source()), "--mapping", "salesforse")
    assert code == 3 and "did you mean 'salesforce'" in err and "Traceback" not in err
    code, _, err = run("stages")
    assert code == 2 and "the following arguments are required: {init}" in err
    code, _, err = run("stages", "init")
    assert code == 2 and "the following arguments are required: source" in err
