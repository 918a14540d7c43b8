"""Reading the project's YAML files (``journey.yml``, stage files, column mappings) with errors that say
which file is wrong and where."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import did_you_mean

__all__ = ["read_yaml"]


def read_yaml(path: "str | Path", error: type[Exception], what: str, suggestion: str = "") -> Any:
    """The YAML document in ``path`` (None for an empty file).

    Parameters
    ----------
    path : str or Path
    error : exception class
        Raised (e.g. ``ParameterError``, ``StageConfigError``, ``MappingError``) when the
        file does not exist (with "did you mean" among its folder's files), cannot be
        read, or is not YAML (with the line and column of the problem).
    what : str
        What the file is, for the message ("config file", "stage file").
    suggestion : str
        Appended to the "does not exist" message (what to give instead).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        hint = did_you_mean(path.name, [p.name for p in path.parent.iterdir()]) if path.parent.is_dir() else ""
        raise error(f"{what} '{path}' does not exist{hint}" + (f"; {suggestion}" if suggestion else ""))
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read ({exc})") from None
