"""Shared test helpers: tiny hand-written sources."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

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
