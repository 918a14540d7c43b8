"""The `journey` command line: output and exit codes (README, "Exit codes"), no tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from journeylib.cli import main


def run(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "journeylib", *args], capture_output=True, text=True, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def test_validate_clean_source_exit_0(make_source, capsys):
    assert main(["validate", str(make_source()), "--as-of", "2026-10-31"]) == 0
    out = capsys.readouterr().out
    assert "accounts" in out and "touchpoints.csv" in out and "As of:  2026-10-31" in out


def test_validate_strict_exit_1_only_on_error_rows(make_source, capsys):
    bad = make_source(touchpoints="account_id,timestamp,touchpoint\nA1,2026-10-01,demo\nA9,2026-10-01,demo\n")
    assert main(["validate", str(bad), "--as-of", "2026-10-31"]) == 0
    assert main(["validate", str(bad), "--as-of", "2026-10-31", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "unknown_account" in out and "account_id 'A9' is not in accounts" in out
    late = make_source(touchpoints="account_id,timestamp,touchpoint\nA1,2026-10-01,demo\nA1,2026-12-01,demo\n")
    assert main(["validate", str(late), "--as-of", "2026-10-31", "--strict"]) == 0  # out of window is no error


def test_validate_json(make_source, capsys):
    bad = make_source(touchpoints="account_id,timestamp,touchpoint\nA1,2026-10-01,webinr\n")
    # every touchpoint set aside: the data is unusable (exit 3), and the JSON report says why
    assert main(["validate", str(bad), "--as-of", "2026-10-31", "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    tp = [t for t in report["tables"] if t["table"] == "touchpoints"][0]
    assert (tp["rows_read"], tp["rows_used"], tp["rows_set_aside"]) == (1, 0, 1)
    assert report["unmapped_touchpoints"] == [{"touchpoint": "webinr", "rows": 1, "closest": "webinar"}]
    assert report["unusable"] == ["touchpoints"]
    first = report["findings"][0]
    assert (first["code"], first["severity"]) == ("likely_cause", "error")
    assert "fit no stage of the lifecycle; the most frequent: 'webinr' (1)" in first["message"]
    assert first["suggestion"].startswith("write a stage file for them: journey stages init SOURCE")


def test_data_unusable_exit_3_without_traceback(make_source):
    folder = make_source(accounts="acount_id,name\nA1,x\n")
    code, out, err = run("validate", str(folder))
    assert code == 3
    assert "required column 'account_id' is missing (did you mean 'acount_id'?)" in err
    assert "Traceback" not in err + out
    code, _, err = run("validate", str(folder / "nope"))
    assert code == 3 and "does not exist" in err and "Traceback" not in err


def test_usage_errors_exit_2(make_source, tmp_path):
    code, _, err = run("validate")
    assert code == 2 and "the following arguments are required: source" in err
    code, _, err = run("frobnicate")
    assert code == 2 and "invalid choice" in err
    bad_stages = tmp_path / "stages.yml"
    bad_stages.write_text("lifecycle: [Awareness Stage]\n")
    code, _, err = run("validate", str(make_source()), "--stages", str(bad_stages))
    assert code == 2 and "is not a snake_case identifier" in err and "Traceback" not in err
    code, _, err = run("review", "--month", "2026-13", "--data", str(make_source()), "--out", str(tmp_path / "r"))
    assert code == 2 and "not a valid month" in err


def test_quarantine_csv_and_freshness_warning(make_source, tmp_path, capsys):
    folder = make_source(touchpoints="account_id,timestamp,touchpoint\nA1,2026-08-01,demo\nA9,2026-08-01,demo\n")
    target = tmp_path / "q.csv"
    assert main(["validate", str(folder), "--as-of", "2026-10-31", "--quarantine", str(target)]) == 0
    captured = capsys.readouterr()
    assert "warning: touchpoints end on 2026-08-01, 91 days before as_of" in captured.err
    assert target.read_text().splitlines()[0] == "table,source,row,reasons,message,severity,values"


@pytest.mark.parametrize("argv", [["--version"]])
def test_version(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0 and "journeylib 0.1.0" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--as-of", "03/04/2026"], "--as-of '03/04/2026' is not a date as YYYY-MM-DD"),
    (["--as-of", "2026-02-30"], "--as-of '2026-02-30' is not a valid date"),
    (["--mapping", "salesfroce"], "--mapping: unknown mapping preset 'salesfroce' (did you mean 'salesforce'?)"),
    (["--mapping", "nope.yml"], "--mapping: mapping file 'nope.yml' does not exist"),
    (["--stages", "nope.yml"], "stage file 'nope.yml' does not exist"),
    (["--config", "nope.yml"], "config file 'nope.yml' does not exist"),
])
def test_every_usage_error_exits_2_with_a_suggestion(make_source, extra, message):
    code, out, err = run("validate", str(make_source()), *extra)
    assert code == 2 and message in err and "Traceback" not in err + out


def test_json_reports_errors_as_json_on_stdout(make_source, capsys):
    assert main(["validate", str(make_source()), "--as-of", "31/10/2026", "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["exit_code"] == 2 and error["kind"] == "usage" and "YYYY-MM-DD" in error["message"]
    folder = make_source(accounts="acount_id,name\nA1,x\n")
    assert main(["validate", str(folder), "--json"]) == 3
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "data_unusable" and "required column 'account_id' is missing" in error["message"]
    assert main(["validate", "--json"]) == 2
    assert "the following arguments are required: source" in json.loads(capsys.readouterr().out)["error"]["message"]


def test_synth_end_date_is_iso_only(tmp_path):
    code, _, err = run("synth", "--out", str(tmp_path / "s"), "--accounts", "5", "--end-date", "10/31/2026")
    assert code == 2 and "--end-date '10/31/2026' is not a date as YYYY-MM-DD" in err
