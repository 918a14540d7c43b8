"""Errors and warnings of journeylib, in one place.

Every error is a ``ValueError`` subclass whose message says what is wrong, what
was received, what is allowed, and "did you mean ...?" when a close name exists.
:func:`given` says when a parameter counts as left empty. Nothing here imports more than
the standard library.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "JourneyDataError",
    "MappingError",
    "StageConfigError",
    "ParameterError",
    "SourceError",
    "JourneyWarning",
    "FreshnessWarning",
    "PersonaWarning",
    "did_you_mean",
    "closest",
    "mask_secrets",
    "given",
]


class JourneyDataError(ValueError):
    """Data that cannot be used: a missing table or column, an unreadable file.

    The CLI maps it to exit code 3.
    """


class SourceError(JourneyDataError):
    """A data source that cannot be opened or read."""


class MappingError(JourneyDataError):
    """A column mapping that is malformed or does not fit the export."""


class StageConfigError(ValueError):
    """A lifecycle / stage mapping file that is malformed."""


class ParameterError(ValueError):
    """A notebook or command parameter with a bad name or value."""


class JourneyWarning(UserWarning):
    """Base class of journeylib's warnings."""


class PersonaWarning(JourneyWarning):
    """Something about the personas worth knowing: dropped constant features, unassigned accounts."""


class FreshnessWarning(JourneyWarning):
    """The data ends well before ``as_of``: recent periods are undercounted."""


def closest(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Return up to ``n`` candidates close to ``name`` (case-insensitive)."""
    cands = list(dict.fromkeys(str(c) for c in candidates))
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" suffix, or "" when nothing is close."""
    hits = closest(name, candidates)
    if not hits:
        return ""
    return " (did you mean " + " or ".join(f"'{h}'" for h in hits) + "?)"


_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<tail>@)")
_KV_PASSWORD = re.compile(r"(?i)(?P<head>\b(?:password|passwd|pwd|secret|token|api_key)\s*[=:]\s*)(?P<pw>[^\s;&,'\"]+)")


def mask_secrets(text: str) -> str:
    """Mask passwords in URLs (``user:***@host``) and ``password=...`` pairs."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + "***" + m.group("tail"), str(text))
    return _KV_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def given(value: Any) -> Any:
    """None for a parameter left empty (None, "" or blanks: how notebooks and the command line say "not given").

    Called once where a parameter enters (``journeylib.load``, ``run_review``), so the
    code behind never tests for "" again.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value
