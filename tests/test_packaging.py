"""Packaging promises: pinned installs, environment.yml in step with the lock, console script."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from conftest import REPO

# pip name -> conda-forge name, where they differ
CONDA_NAMES = {"pyyaml": "pyyaml", "scikit-learn": "scikit-learn", "sqlalchemy": "sqlalchemy",
               "kaleido": "python-kaleido"}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"unpinned line in requirements.lock: {line}"
            pins[name.lower().replace("_", "-")] = version
    return pins


def _direct() -> set[str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["test"]
    return {re.split(r"[<>=!~\[ ]", r, maxsplit=1)[0].lower() for r in reqs}


def test_every_direct_dependency_is_pinned_in_the_lock():
    lock = _lock()
    missing = sorted(d for d in _direct() if d not in lock)
    assert not missing, f"not pinned in requirements.lock: {missing}"


def test_environment_yml_lists_the_same_packages_and_versions():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep and not dep.startswith("python="):
            name, version = dep.split("=", 1)
            conda[name] = version
    lock = _lock()
    expected = {CONDA_NAMES.get(d, d): lock[d] for d in _direct()}
    assert conda == expected


def test_installed_versions_match_the_lock():
    from importlib import metadata

    lock = _lock()
    for name in sorted(_direct()):
        assert metadata.version(name) == lock[name], name


def test_console_script_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "journeylib", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "journeylib 0.1.0"
    script = REPO / ".venv" / "bin" / "journey"
    if script.exists():
        out = subprocess.run([str(script), "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "validate" in out.stdout and "review" in out.stdout


def test_nbval_gives_a_cell_the_same_time_as_the_review():
    from journeylib.review.runner import CELL_TIMEOUT

    make = (REPO / "Makefile").read_text()
    assert f"--nbval-cell-timeout={CELL_TIMEOUT} " in make
