"""Shared test helpers: tiny hand-written sources, and a headless Chromium that records what a page asks for."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def chromium_page(path: Path):
    """Open ``path`` in headless Debian chromium at 1366x768; yield (page, seen).

    ``seen`` collects every ``requests`` URL, console and page ``errors`` and ``dialogs``.
    Skips (with the reason) where chromium is absent; ``.ci/run`` installs it.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it with apt)")
    from playwright.sync_api import sync_playwright

    seen = {"requests": [], "errors": [], "dialogs": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            yield page, seen
        finally:
            browser.close()
    seen["external"] = [u for u in seen["requests"] if not u.startswith(("file://", "data:", "blob:"))]

ACCOUNTS = """account_id,name,industry,created_at
A1,Acme,software,2025-01-01
A2,Beta,finance,2025-02-01
A3,Gamma,retail,2025-03-01
"""
TOUCHPOINTS = """event_id,account_id,timestamp,touchpoint,channel
E1,A1,2026-10-01T10:00:00Z,webinar,web
E2,A1,2026-10-02T10:00:00Z,demo,sales
E3,A2,2026-10-03T10:00:00Z,paid_search_ad,paid_search
E4,A3,2026-10-31T10:00:00Z,whitepaper_download,web
"""


def write_source(folder: Path, tables: dict[str, str | bytes], suffix: str = ".csv") -> Path:
    """Write each table's CSV text (or bytes) to FOLDER/NAME.csv and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in tables.items():
        path = folder / f"{name}{suffix}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def sample():
    """The committed sample loaded as of 2026-10-31, shared by every test module (do not modify its tables)."""
    import journeylib

    return journeylib.load(None, as_of="2026-10-31")


@pytest.fixture
def make_source(tmp_path):
    """make_source(accounts=..., touchpoints=..., other=...) -> folder; defaults give a clean tiny source."""
    counter = {"n": 0}

    def make(**tables):
        counter["n"] += 1
        content = {"accounts": ACCOUNTS, "touchpoints": TOUCHPOINTS}
        content.update({k: v for k, v in tables.items()})
        content = {k: v for k, v in content.items() if v is not None}
        return write_source(tmp_path / f"src{counter['n']}", content)

    return make
