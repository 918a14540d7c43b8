"""The data scientist's JupyterLab, in a real browser: run notebooks, change a widget, see the figures redraw.

JupyterLab starts as `make lab` starts it (the repository's environment, the notebooks as they are), on
loopback with a token and throw-away Jupyter folders, on copies of the notebooks (so nothing is written into
the repository). Headless Chromium opens a notebook, runs every cell, changes a control and checks the
figure drawn inside the widget changed, and that the page logged no JavaScript error.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import CHROMIUM, REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RUN_TIMEOUT_MS = 240_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    root = tmp_path_factory.mktemp("lab")
    work = root / "notebooks"
    shutil.copytree(REPO / "notebooks", work, ignore=shutil.ignore_patterns("recorded", ".ipynb_checkpoints"))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "config"), "JUPYTER_DATA_DIR": str(root / "data"),
           "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "IPYTHONDIR": str(root / "ipython")}
    env.pop("JOURNEYLIB_HEADLESS", None)  # a person at JupyterLab: widgets draw
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    args = [str(jupyter), "lab", str(work), "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
            "--ServerApp.disable_check_xsrf=False"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (root / "lab.log").read_text()[-2000:])
        yield {"url": url, "token": token, "root": work}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _open_and_run(page, lab, notebook: str) -> None:
    page.goto(f"{lab['url']}/lab/tree/{notebook}?token={lab['token']}")
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => { const k = document.querySelector('.jp-Notebook-ExecutionIndicator');"
                           " return !k || !k.textContent.includes('Connecting'); }", timeout=60_000)
    # the notebook is the current widget and its kernel session is ready and idle
    page.wait_for_function(
        """() => { const nb = window.jupyterapp.shell.currentWidget;
                   const kernel = nb && nb.sessionContext && nb.sessionContext.session
                                  && nb.sessionContext.session.kernel;
                   return nb && nb.content && nb.sessionContext.isReady && kernel && kernel.status === 'idle'; }""",
        timeout=60_000)
    page.wait_for_timeout(2_000)  # the kernel session attaches
    # not awaited: the command's promise settles only when every cell has run, and a run-all sent while the
    # kernel was still attaching once ran nothing and never settled (a CI run hung on it); sent again if no
    # cell has started within a minute
    run_all = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    started = """() => { const nb = window.jupyterapp.shell.currentWidget;
                         const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
                         return (kernel && kernel.status === 'busy')
                                || nb.content.widgets.some(c => c.model.type === 'code'
                                                                && c.model.executionCount !== null); }"""
    page.evaluate(run_all)
    try:
        page.wait_for_function(started, timeout=60_000)
    except PlaywrightTimeout:
        page.evaluate(run_all)
    # every code cell has run and the kernel is idle (read from the notebook's model: JupyterLab only renders
    # the cells in view)
    page.wait_for_function(
        """() => { const nb = window.jupyterapp.shell.currentWidget; if (!nb || !nb.content) return false;
                   const cells = nb.content.widgets.filter(c => c.model.type === 'code');
                   const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
                   return cells.length > 0 && kernel && kernel.status === 'idle'
                          && cells.every(c => c.model.executionCount !== null); }""", timeout=RUN_TIMEOUT_MS)
    errors = page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets.filter(c => c.model.type === 'code')
                 .flatMap(c => c.model.outputs.toJSON()).filter(o => o.output_type === 'error')
                 .map(o => o.ename + ': ' + o.evalue)""")
    assert errors == [], errors


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "favicon" not in m.text else None)
    return problems


@contextmanager
def _page():
    """A 1366 x 900 page in Debian's chromium; yields (page, problems): JavaScript errors seen."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            yield page, _watch(page)
        finally:
            browser.close()


def test_the_paths_explorer_redraws_the_sankey_for_another_segment(lab, tmp_path):
    with _page() as (page, problems):
        _open_and_run(page, lab, "02_journey_paths.ipynb")
        widget = page.locator(".jp-OutputArea-output .widget-vbox").first
        widget.scroll_into_view_if_needed()
        handle = widget.element_handle()
        page.wait_for_function("(el) => el.querySelectorAll('.sankey-node').length > 3", arg=handle, timeout=60_000)
        labels = ("(el) => Array.from(el.querySelector('.js-plotly-plot').querySelectorAll('.sankey-node text'))"
                  ".map(e => e.textContent).filter(t => t)")  # the step Sankey, the widget's first figure
        before = sorted(page.evaluate(labels, handle))
        select = widget.locator(".widget-dropdown select").first
        options = [o for o in select.locator("option").evaluate_all("os => os.map(o => o.value)")
                   if o != "All accounts"]
        assert options == ["APAC", "EMEA", "LATAM", "North America"], options  # the sample's regions
        select.select_option(value="EMEA")
        page.wait_for_function("([el, old]) => { const t = Array.from(el.querySelector('.js-plotly-plot')"
                               ".querySelectorAll('.sankey-node text'))"
                               ".map(e => e.textContent).filter(t => t).sort().join('|'); return t && t !== old; }",
                               arg=[handle, "|".join(before)], timeout=60_000)
        after = sorted(page.evaluate(labels, handle))
        assert after != before and after  # other counts for one region
        def journeys(texts):  # the first column holds every journey: the largest count
            return max(int(t.split()[-1].replace(",", "")) for t in texts)

        assert journeys(before) == 2000 and 0 < journeys(after) < 2000  # EMEA's journeys only
        page.screenshot(path=str(tmp_path / "lab_paths.png"))
        # from the variants table to an account: another variant offers its accounts and shows its first
        cell = _scroll_to_cell(page, "variant_explorer(")
        variant = cell.locator(".widget-dropdown select").first
        variant.wait_for(timeout=60_000)
        title = cell.locator(".g-gtitle").first
        title.wait_for(timeout=60_000)
        first_title = title.text_content()
        variant.select_option(index=2)  # the third most frequent path
        page.wait_for_function("([el, old]) => { const t = el.querySelector('.g-gtitle');"
                               " return t && t.textContent !== old; }",
                               arg=[cell.element_handle(), first_title], timeout=60_000)
        shown = cell.locator(".g-gtitle").first.text_content().split(" (")[-1]  # "A00062)"
        page.wait_for_function("([el, id]) => el.querySelector('.widget-text input[list]').value.endsWith(id)",
                               arg=[cell.element_handle(), shown], timeout=30_000)  # the box names it too
        page.screenshot(path=str(tmp_path / "lab_variant.png"))
    assert problems == [], problems[:5]


def _scroll_to_cell(page, code: str):
    """Scroll the cell whose source contains ``code`` into view (JupyterLab draws the cells in view); its locator."""
    page.evaluate("""async (code) => { const nb = window.jupyterapp.shell.currentWidget.content;
        const i = nb.widgets.findIndex(c => c.model.sharedModel.getSource().includes(code));
        nb.activeCellIndex = i; await nb.scrollToItem(i, 'center'); }""", code)
    return page.locator(".jp-Cell.jp-mod-active")


def test_the_account_explorer_shows_the_account_picked(lab, tmp_path):
    with _page() as (page, problems):
        _open_and_run(page, lab, "04_churn_risk.ipynb")
        _scroll_to_cell(page, "account_explorer(")
        box = page.locator(".widget-text input[list]").first  # a Combobox: a text box with a datalist
        box.wait_for(timeout=60_000)
        shown = box.input_value()
        title = page.locator(".jp-OutputArea-output .g-gtitle").filter(has_text=shown.split(" (")[0])
        title.first.wait_for(timeout=60_000)
        box.fill("A00008")
        box.press("Enter")
        page.locator(".g-gtitle").filter(has_text="(A00008)").first.wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / "lab_account.png"))
    assert problems == [], problems[:5]
