"""The review runner and the data-health notebook, executed with papermill."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import journeylib
from journeylib import review
from journeylib.cli import main
from journeylib.errors import ParameterError

from conftest import REPO

NOTEBOOKS = REPO / "notebooks"
pytestmark = pytest.mark.notebook


def test_record_and_read_back(tmp_path):
    review.configure(str(tmp_path), notebook="nb1")
    review.record(a=1, b=pd.DataFrame({"x": [1, 2]}), c=float("nan"))
    review.record(d={"k": 2.5})
    assert review.read_results(tmp_path, "nb1") == {"a": 1, "b": {"columns": ["x"], "data": [[1], [2]]}, "c": None,
                                                    "d": {"k": 2.5}}
    import plotly.graph_objects as go
    review.record_figure("fig", go.Figure(go.Bar(x=["a"], y=[3])))
    assert review.read_figure(tmp_path, "nb1", "fig").data[0].y == (3,)
    with pytest.raises(ParameterError, match="figure name"):
        review.record_figure("../escape", go.Figure())


def test_months():
    assert str(review.month_end("2024-02").date()) == "2024-02-29"
    assert review.last_complete_month(pd.Timestamp("2026-10-31")) == "2026-10"
    assert review.last_complete_month(pd.Timestamp("2026-11-15")) == "2026-10"
    with pytest.raises(ParameterError, match=r"month '202610' is not YYYY-MM"):
        review.month_end("202610")


def _notebook(path: Path, source: str, params: str | None, needs: list[str] | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    if needs:
        nb.metadata["journeylib"] = {"needs": needs}
    if params is not None:
        nb.cells.append(nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


COMMON = 'data_path: str = ""\nas_of: str = "2026-10-31"\nmonth: str = "2026-10"\noutput_dir: str = ""\nconfig: str = ""\n'


def test_failing_notebook_exits_4_and_others_still_written(tmp_path, make_source, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "01_ok.ipynb", "from journeylib import review\nreview.configure(output_dir, notebook='01_ok')\n"
              "review.record(month=month, as_of=as_of)", COMMON)
    _notebook(nbs / "02_boom.ipynb", "raise RuntimeError('planted failure')", COMMON)
    _notebook(nbs / "03_noparams.ipynb", "x = 1", 'as_of: str = "2026-10-31"\n')
    _notebook(nbs / "04_after.ipynb", "from journeylib import review\nreview.configure(output_dir, notebook='04_after')\n"
              "review.record(done=True)", COMMON)
    data = make_source()
    out = tmp_path / "reports"
    result = review.run_review(month="2026-10", data=str(data), out=out, notebooks_dir=nbs, progress=False)
    status = {n["notebook"]: n["status"] for n in result.notebooks}
    assert status == {"01_ok": "ok", "02_boom": "failed", "03_noparams": "bad_parameters", "04_after": "ok"}
    folder = out / "2026-10"
    assert review.read_results(folder, "01_ok") == {"month": "2026-10", "as_of": "2026-10-31"}
    assert review.read_results(folder, "04_after") == {"done": True}
    assert (folder / "02_boom.ipynb").exists() and (folder / "02_boom.html").exists()
    failed = [n for n in result.failed if n["notebook"] == "02_boom"][0]
    assert "RuntimeError: planted failure" in failed["error"]
    noparams = [n for n in result.failed if n["notebook"] == "03_noparams"][0]
    assert "does not declare 'data_path'" in noparams["error"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["as_of"] == "2026-10-31"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "failed", "bad_parameters", "ok"]
    assert (folder / "quarantine.csv").exists()
    assert not list(out.glob(".2026-10*")), "no temporary folder left behind"
    index = (out / "index.html").read_text()
    assert '<a href="2026-10/deck.html">deck</a>' in index and "failed: 02_boom, 03_noparams" in index


def test_cli_review_exit_4(tmp_path, make_source, monkeypatch, capsys):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "02_boom.ipynb", "raise RuntimeError('planted failure')", COMMON)
    monkeypatch.setattr(review.runner, "NOTEBOOKS_DIR", nbs)
    code = main(["review", "--month", "2026-10", "--data", str(make_source()), "--out", str(tmp_path / "r"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 4 and "notebook failed: 02_boom (RuntimeError: planted failure" in err


def test_only_unknown_notebook_is_a_clear_error(tmp_path, make_source):
    with pytest.raises(ParameterError, match=r"--only '00_data_helth': no such notebook \(did you mean '00_data_health'\?\)"):
        review.run_review(month="2026-10", data=str(make_source()), out=tmp_path, only=["00_data_helth"])


def test_data_health_notebook_records_what_load_finds(tmp_path, make_source):
    """The data-health notebook under papermill on a small dirty source: its numbers equal load()'s."""
    tp = ("event_id,account_id,timestamp,touchpoint,channel\nE1,A1,2026-10-01,webinar,web\nE2,A9,2026-10-02,demo,sales\n"
          "E3,A2,2026-10-03,webinr,web\nE3,A2,2026-10-04,demo,sales\nE5,A3,2026-11-04,demo,sales\n"
          "E6,A3,2026-10-30,qbr,customer_success\n")
    src = make_source(touchpoints=tp)
    out = tmp_path / "reports"
    result = review.run_review(month="2026-10", data=str(src), out=out, only=["00_data_health"], progress=False)
    assert not result.failed, result.failed
    folder = out / "2026-10"
    rec = review.read_results(folder, "00_data_health")
    data = journeylib.load(str(src), as_of="2026-10-31")
    counts = data.report().counts.set_index("table")
    assert rec["rows_read"] == {"accounts": 3, "touchpoints": 6}
    # E2: unknown account; first E3: unmapped 'webinr', so the second E3 is the first usable one and is kept;
    # E5: after as_of. Used: E1, E3 (demo), E6.
    assert rec["rows_used"] == counts["rows_used"].to_dict() == {"accounts": 3, "touchpoints": 3}
    assert rec["rows_set_aside"] == {"accounts": 0, "touchpoints": 3}
    assert rec["error_rows"] == 2 and rec["out_of_window_rows"] == 1
    assert rec["unmapped_touchpoint_names"] == 1
    assert rec["data_fingerprint"] == data.fingerprint()
    html = (folder / "00_data_health.html").read_text()
    assert "Touchpoints per stage and channel" in html and "plotly" in html
    assert "cdn.jsdelivr.net/npm/mathjax" not in html and "require.min.js\"" not in html
    for name in ("set_aside", "coverage", "stage_channel"):
        assert (folder / "figures" / "00_data_health" / f"{name}.json").exists()


def test_review_is_idempotent_and_keeps_secrets_out(tmp_path, make_source, monkeypatch):
    src = make_source()
    import sqlite3
    db = tmp_path / "crm.sqlite"
    with sqlite3.connect(db) as con:
        for name in ("accounts", "touchpoints"):
            pd.read_csv(src / f"{name}.csv", dtype=str).to_sql(name, con, index=False)
    # sqlite ignores the password, so the URL works and still carries a secret to leak
    monkeypatch.setenv("JOURNEY_TEST_DB", f"sqlite:///{db}")
    out = tmp_path / "reports"
    first = review.run_review(month="2026-10", data="env:JOURNEY_TEST_DB", out=out, only=["00_data_health"],
                              progress=False)
    rec1 = review.read_results(first.folder, "00_data_health")
    second = review.run_review(month="2026-10", data="env:JOURNEY_TEST_DB", out=out, only=["00_data_health"],
                               progress=False)
    assert review.read_results(second.folder, "00_data_health") == rec1
    manifest = json.loads((second.folder / "manifest.json").read_text())
    assert manifest["parameters"]["data_path"] == "env:JOURNEY_TEST_DB"
    # loaded and validated once: the notebook read the validated contract the review wrote, the same data
    contract = second.folder / manifest["data"]["contract"]["folder"]
    fingerprint = journeylib.load(str(contract)).fingerprint()
    assert fingerprint == manifest["data"]["fingerprint"] == rec1["data_fingerprint"]
    executed = nbformat.read(str(second.folder / "00_data_health.ipynb"), as_version=4)
    assert f'data_path = "{contract.resolve()}"' in "".join(c.source for c in executed.cells)
    for path in second.folder.rglob("*"):
        if path.is_file():
            assert str(db) not in path.read_text(errors="ignore"), path
    assert sorted(p.name for p in out.iterdir()) == ["2026-10", "index.html"]


def test_a_notebook_runs_after_the_notebooks_it_needs(tmp_path, make_source, monkeypatch):
    """With --jobs 2, 03_reader waits for 02_slow_writer although a worker is free; order holds without jobs too."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write = ("import time, pathlib\ntime.sleep(4)\n"
             "pathlib.Path(output_dir, 'written.txt').write_text('yes')")
    read = ("import os, pathlib\nfrom journeylib import review, widgets\n"
            "review.configure(output_dir, notebook='03_reader')\n"
            "review.record(seen=pathlib.Path(output_dir, 'written.txt').exists(), headless=widgets.headless(),\n"
            "              threads=os.environ.get('OMP_NUM_THREADS'),\n"
            "              arrow_pool=__import__('pyarrow').default_memory_pool().backend_name,\n"
            "              freed_mb=freed_mb())")
    # an 8 MB array freed after another one: glibc's default gave its pages back only the first time
    freed = ("import os\nimport numpy as np\n"
             "def rss(): return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
             "def freed_mb():\n    a = np.ones(1_000_000); del a\n    b = np.ones(1_000_000); before = rss(); del b\n"
             "    return round((before - rss()) / 1e6)\n")
    read = freed + read
    _notebook(nbs / "01_quick.ipynb", "x = 1", COMMON)
    _notebook(nbs / "02_slow_writer.ipynb", write, COMMON)
    _notebook(nbs / "03_reader.ipynb", read, COMMON, needs=["02_slow_writer", "09_not_in_this_run"])
    data = make_source()
    for jobs in (2, 1):
        result = review.run_review(month="2026-10", data=str(data), out=tmp_path / f"jobs{jobs}", notebooks_dir=nbs,
                                   progress=False, jobs=jobs)
        assert [n["notebook"] for n in result.notebooks] == ["01_quick", "02_slow_writer", "03_reader"]
        # the kernels run headless (explorers draw nothing) with one OpenMP thread each (KERNEL_THREADS) and
        # Arrow on the system allocator (KERNEL_MEMORY); the caller's environment is left as it was
        # and large blocks given back to the system when freed (KERNEL_MEMORY's malloc setting)
        assert review.read_results(result.folder, "03_reader") == {"seen": True, "headless": True, "threads": "1",
                                                                    "arrow_pool": "system", "freed_mb": 8}, jobs
        # the kernel of a notebook that configures its recording notes its peak memory for the manifest (a
        # kernel with pandas holds more than 50 MB); one that never calls review.configure has none
        peaks = {n["notebook"]: n["peak_memory_gb"] for n in result.notebooks}
        assert peaks["01_quick"] is None and peaks["02_slow_writer"] is None and 0.05 < peaks["03_reader"] < 5
        manifest = json.loads((result.folder / "manifest.json").read_text())
        assert [n["peak_memory_gb"] for n in manifest["notebooks"]] == [None, None, peaks["03_reader"]]
        assert not (result.folder / ".kernels").exists()
        assert "JOURNEYLIB_HEADLESS" not in os.environ and "OMP_NUM_THREADS" not in os.environ
        assert "ARROW_DEFAULT_MEMORY_POOL" not in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ
    _notebook(nbs / "01_quick.ipynb", "x = 1", COMMON, needs=["03_reader"])
    _notebook(nbs / "02_slow_writer.ipynb", "x = 1", COMMON, needs=["01_quick"])
    _notebook(nbs / "03_reader.ipynb", "x = 1", COMMON, needs=["02_slow_writer"])
    _notebook(nbs / "04_one.ipynb", "x = 1", COMMON)
    nb = json.loads((nbs / "04_one.ipynb").read_text())
    nb["metadata"]["journeylib"] = {"needs": "01_quick"}  # a single name, not a list
    (nbs / "04_one.ipynb").write_text(json.dumps(nb))
    assert review.notebook_needs(nbs / "04_one.ipynb") == ["01_quick"]
    assert review.notebook_needs(nbs / "03_reader.ipynb") == ["02_slow_writer"]
    (nbs / "04_one.ipynb").unlink()
    with pytest.raises(ParameterError, match="notebooks need each other in a cycle: 01_quick needs 03_reader"):
        review.run_review(month="2026-10", data=str(data), out=tmp_path / "cycle", notebooks_dir=nbs, progress=False)


def test_parallel_jobs_give_the_same_numbers(tmp_path):
    one = review.run_review(month="2026-10", out=tmp_path / "a", only=["00_data_health", "06_stage_scorecard"],
                            progress=False)
    two = review.run_review(month="2026-10", out=tmp_path / "b", only=["00_data_health", "06_stage_scorecard"],
                            progress=False, jobs=2)
    assert [n["status"] for n in two.notebooks] == ["ok", "ok"]
    for nb in ("00_data_health", "06_stage_scorecard"):
        assert review.read_results(one.folder, nb) == review.read_results(two.folder, nb)


def test_a_crash_leaves_the_previous_report_in_place(tmp_path, make_source, monkeypatch):
    src = make_source()
    out = tmp_path / "reports"
    first = review.run_review(month="2026-10", data=str(src), out=out, only=["00_data_health"], progress=False)
    before = (first.folder / "manifest.json").read_text()
    import journeylib.review.deck

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(journeylib.review.deck, "build_deck", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        review.run_review(month="2026-10", data=str(src), out=out, only=["00_data_health"], progress=False)
    assert (first.folder / "manifest.json").read_text() == before
    assert sorted(p.name for p in out.iterdir()) == ["2026-10", "index.html"]  # no partial folder left behind


def test_review_log_names_the_variable_not_the_url(tmp_path, make_source):
    import os
    import sqlite3
    import subprocess
    import sys

    src = make_source()
    db = tmp_path / "secret-crm.sqlite"
    with sqlite3.connect(db) as con:
        for name in ("accounts", "touchpoints"):
            pd.read_csv(src / f"{name}.csv", dtype=str).to_sql(name, con, index=False)
    env = dict(os.environ, JOURNEY_SECRET_URL=f"sqlite:///{db}")
    proc = subprocess.run([sys.executable, "-m", "journeylib", "review", "--data", "env:JOURNEY_SECRET_URL",
                           "--month", "2026-10", "--out", str(tmp_path / "r"), "--only", "00_data_health"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "secret-crm" not in proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("2026-10")


def test_exported_notebooks_show_no_review_internals(tmp_path):
    from journeylib.review.runner import WIDGET_NOTE, export_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('output_dir = "/r/.2026-10.partial-77"', outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="wrote /r/.2026-10.partial-77/risk.csv\n")]),
        nbformat.v4.new_code_cell("explorer", outputs=[nbformat.v4.new_output("execute_result", data={
            "text/plain": "PathsExplorer(children=(HBox(children=(Dropdown(",
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2}})]),
        nbformat.v4.new_code_cell("review.record_section(...)", outputs=[nbformat.v4.new_output(
            "execute_result", data={"text/plain": "PosixPath('/r/.2026-10.partial-77/sections/x.json')"})]),
        nbformat.v4.new_code_cell("frame", outputs=[nbformat.v4.new_output("execute_result", data={
            "text/plain": "   a\n0  1", "text/html": "<table><td>1</td></table>"})]),
    ]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, str(path))
    export_html(path, tmp_path / "x.html", replace={"/r/.2026-10.partial-77": "/r/2026-10"})
    page = (tmp_path / "x.html").read_text(encoding="utf-8")
    assert ".partial" not in page and "PosixPath(" not in page and "children=(" not in page
    assert "wrote /r/2026-10/risk.csv" in page and WIDGET_NOTE in page and "<td>1</td>" in page
    tidy = nbformat.read(str(path), as_version=4)  # the executed notebook is tidied too
    assert [len(c.outputs) for c in tidy.cells] == [1, 1, 0, 1]
    assert ".partial" not in json.dumps(tidy) and tidy.cells[0].source == 'output_dir = "/r/2026-10"'



def test_the_reports_index_lists_every_month_newest_first(tmp_path):
    from journeylib.review.deck import build_index

    ok, failed = {"notebook": "01_a", "status": "ok"}, {"notebook": "02_<b>", "status": "failed"}
    for month, notebooks in (("2026-09", [ok]), ("2026-10", [ok, failed])):
        (tmp_path / month).mkdir()
        (tmp_path / month / "manifest.json").write_text(json.dumps({"as_of": f"{month}-30", "notebooks": notebooks}))
    (tmp_path / "2026-10" / "deck.html").write_text("<html></html>")
    (tmp_path / "notes").mkdir()  # not a month
    (tmp_path / ".2026-11.partial-7").mkdir()  # a review being written
    page = build_index(tmp_path).read_text()
    assert page.index("October 2026") < page.index("September 2026") and "November" not in page
    assert '<a href="2026-10/deck.html">deck</a>' in page and "no deck" in page  # September has none
    assert '<a href="2026-09/manifest.json">manifest</a>' in page and "failed: 02_&lt;b&gt;" in page
    assert "<b>" not in page and "2 monthly reviews" in page


def test_the_notebook_heading_the_longest_chain_starts_first(tmp_path):
    """With two workers the longest expected chain goes first: a's dependent c makes a (5 s) outrank b (50 s)."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name, expected, needs in (("a", 5, None), ("b", 50, None), ("c", 100, ["a"])):
        _notebook(nbs / f"{name}.ipynb", "x = 1", COMMON, needs=needs)
        nb = nbformat.read(str(nbs / f"{name}.ipynb"), as_version=4)
        nb.metadata.setdefault("journeylib", {})["expected_seconds"] = expected
        nbformat.write(nb, str(nbs / f"{name}.ipynb"))
    paths = sorted(nbs.glob("*.ipynb"))
    out = tmp_path / "reports"
    seconds = review.runner.expected_seconds(paths, out, "2026-10")
    assert seconds == {"a": 5.0, "b": 50.0, "c": 100.0}
    assert review.runner._critical_paths(paths, seconds) == {"a": 105.0, "b": 50.0, "c": 100.0}
    # the previous month's manifest knows better than the hints; a later month's is not "previous"
    for month, b_seconds in (("2026-09", 7.5), ("2026-11", 900.0)):
        (out / month).mkdir(parents=True)
        (out / month / "manifest.json").write_text(json.dumps(
            {"notebooks": [{"notebook": "b", "seconds": b_seconds, "status": "ok"}]}))
    assert review.runner.expected_seconds(paths, out, "2026-10")["b"] == 7.5


def test_configure_releases_memory_after_every_cell_of_a_kernel_once(tmp_path, monkeypatch):
    import importlib
    from types import SimpleNamespace

    from IPython.core.events import EventManager, available_events

    import gc
    import weakref

    recording = importlib.import_module("journeylib.review.record")  # the module (review.record is the function)
    events = EventManager(None, available_events)
    monkeypatch.setattr("IPython.get_ipython", lambda: SimpleNamespace(events=events))
    try:
        frozen = gc.get_freeze_count()
        review.configure(str(tmp_path), notebook="first")
        # what exists when the kernel is configured is left out of the collections after each cell
        assert gc.get_freeze_count() > frozen
        review.configure(str(tmp_path), notebook="second")  # a notebook run again in the same kernel
        assert events.callbacks["post_run_cell"] == [recording._release_after_cell]
        events.trigger("post_run_cell", None)  # what IPython does after a cell: no error
        # a frame left in a reference cycle by a cell, already in the collector's oldest generation (which it
        # seldom visits on its own), is freed after the cell
        cycle = {"frame": pd.DataFrame({"x": range(1000)})}
        cycle["self"] = cycle
        gone = weakref.ref(cycle["frame"])
        gc.collect()  # the cycle, still referenced, moves to the oldest generation
        del cycle
        assert gone() is not None
        events.trigger("post_run_cell", None)
        assert gone() is None
    finally:
        gc.unfreeze()  # this test process is no kernel


def test_the_validation_process_allocates_as_the_kernels_do(monkeypatch):
    """The review validates in a spawned process given KERNEL_MEMORY's variables, unless this process's
    environment sets them; this process's environment is left as it was."""
    from journeylib.review.runner import KERNEL_MEMORY, _in_child_process

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    seen = _in_child_process(os.getenv, "ARROW_DEFAULT_MEMORY_POOL", env=KERNEL_MEMORY)
    kept = _in_child_process(os.getenv, "MALLOC_MMAP_THRESHOLD_", env=KERNEL_MEMORY)
    assert (seen, kept) == ("system", "65536")
    assert "ARROW_DEFAULT_MEMORY_POOL" not in os.environ


def _run_one(tmp_path: Path, name: str, cells: list[str]) -> tuple[dict, Path]:
    """One notebook of ``cells`` (after the common parameters) run as the review runs each: its manifest entry
    and the executed notebook."""
    from journeylib.review.runner import _run_notebook

    nbs, out = tmp_path / "nbs", tmp_path / "out"
    nbs.mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(COMMON, metadata={"tags": ["parameters"]}),
                *map(nbformat.v4.new_code_cell, cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(nbs / f"{name}.ipynb"))
    params = {"data_path": "", "as_of": "2026-10-31", "month": "2026-10", "output_dir": str(out), "config": ""}
    entry = _run_notebook(nbs / f"{name}.ipynb", out, out, nbs, params, "python3")
    return entry, out / f"{name}.ipynb"


def _printed(notebook: Path) -> str:
    return "".join(o.get("text", "") for c in nbformat.read(str(notebook), as_version=4).cells
                   for o in c.get("outputs", []))


def test_an_executed_notebook_is_written_once_at_its_end(tmp_path):
    """Not before and after every cell (a 5 MB write each, with plotly.js in the outputs)."""
    out_nb = tmp_path / "out" / "written.ipynb"
    entry, notebook = _run_one(tmp_path, "written", ["x = 1", f"print('written yet:', {str(out_nb)!r} and "
                                                              f"__import__('os').path.exists({str(out_nb)!r}))"])
    assert entry["status"] == "ok" and notebook == out_nb
    assert _printed(notebook) == "written yet: False\n"
    assert (tmp_path / "out" / "written.html").exists()


def test_a_notebook_whose_kernel_dies_is_written_as_far_as_it_ran(tmp_path):
    entry, notebook = _run_one(tmp_path, "dies", ["print('first cell ran')", "import os\nos._exit(1)",
                                                  "print('never')"])
    assert entry["status"] == "failed" and "DeadKernelError" in entry["error"]
    assert _printed(notebook) == "first cell ran\n"
    assert "first cell ran" in (tmp_path / "out" / "dies.html").read_text(encoding="utf-8")


def test_a_kernel_is_shut_down_without_an_interrupt(tmp_path):
    """jupyter_client interrupts (SIGINT) a kernel before asking it to shut down; a review's kernel, done with
    its notebook, is only asked (the interrupt caught kernels in the handler of papermill's last request)."""
    flag = tmp_path / "interrupted"
    # the handler ipykernel puts back after each request (it ignores SIGINT between requests)
    entry, _ = _run_one(tmp_path, "quiet", [f"get_ipython().kernel.saved_sigint_handler = lambda *a: "
                                            f"open({str(flag)!r}, 'w').close()"])
    assert entry["status"] == "ok"
    assert not flag.exists()


def test_a_cell_over_its_time_fails_the_notebook_which_is_written_as_far_as_it_ran(tmp_path, monkeypatch):
    import time

    monkeypatch.setattr(review.runner, "CELL_TIMEOUT", 3)
    start = time.perf_counter()
    entry, notebook = _run_one(tmp_path, "slow", ["print('first cell ran')", "import time\ntime.sleep(120)"])
    assert entry["status"] == "failed" and "CellTimeoutError" in entry["error"]
    assert _printed(notebook) == "first cell ran\n"
    assert time.perf_counter() - start < 60, "the busy kernel is killed, not waited for"


def _freed_mb_after(allocate_as_the_kernels: bool) -> int:
    """In this (spawned) process: the MB given back when an 8 MB array is freed after another one was."""
    import numpy as np

    from journeylib.review.memory import allocate_as_the_kernels as allocate

    if allocate_as_the_kernels:
        assert allocate()

    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    a = np.ones(1_000_000)
    del a
    b = np.ones(1_000_000)
    before = rss()
    del b
    return round((before - rss()) / 1e6)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc")
def test_journey_review_allocates_as_its_kernels_do(monkeypatch):
    """`journey review`'s own process gives large freed blocks back as its kernels do (glibc's default keeps
    the second one); not when the environment chooses the threshold."""
    from journeylib.review.memory import allocate_as_the_kernels
    from journeylib.review.runner import _in_child_process

    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert _in_child_process(_freed_mb_after, False) == 0
    assert _in_child_process(_freed_mb_after, True) == 8
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert allocate_as_the_kernels() is False


def test_the_review_process_imports_no_pandas_while_its_kernels_run(tmp_path, make_source):
    """The source is chosen, loaded and validated in the validation's process; the review's own process imports
    pandas, pyarrow and numpy (0.09 GB) only for the deck, once its kernels are done."""
    import subprocess
    import sys

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "01_ok.ipynb", "from journeylib import review\nreview.configure(output_dir, notebook='01_ok')\n"
              "review.record(month=month)", COMMON)
    _notebook(nbs / "02_ok.ipynb", "x = 1", COMMON)
    script = (
        "import sys\n"
        "from journeylib.review import runner\n"
        "seen, run = [], runner._run_notebook\n"
        "def spy(*args):\n"
        "    seen.append(sorted(m for m in ('pandas', 'pyarrow', 'numpy', 'journeylib.data') if m in sys.modules))\n"
        "    return run(*args)\n"
        "runner._run_notebook = spy\n"
        f"result = runner.run_review(month='2026-10', data={str(make_source())!r}, out={str(tmp_path / 'r')!r},\n"
        f"                           notebooks_dir={str(nbs)!r}, progress=False, jobs=2)\n"
        "print(seen, [n['status'] for n in result.notebooks], 'pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[[], []] ['ok', 'ok'] True"  # pandas: for the deck, after the kernels
    assert review.read_results(tmp_path / "r" / "2026-10", "01_ok") == {"month": "2026-10"}
