"""Parameter checks: one place, one message (docs/architecture.md, "Parameter checks").

Public functions check their options here, as scikit-learn's ``utils/validation.py``
does, so every failed check raises :class:`~journeylib.errors.ParameterError` in the
same form, naming the argument, the value received and what is allowed::

    >>> check_int(0, "min_accounts", minimum=1)
    Traceback (most recent call last):
    ...
    journeylib.errors.ParameterError: min_accounts must be a whole number >= 1; got 0

Data (tables and their columns) is checked by :mod:`journeylib.data.validate`, not here.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParameterError, did_you_mean, given  # noqa: F401  given: where parameters enter

__all__ = ["check_bool", "check_int", "check_number", "check_days", "check_share", "check_choice", "check_date",
           "check_names", "fail", "given"]


def fail(name: str, what: str, value: Any, hint: str = "") -> ParameterError:
    """The error for parameter ``name``: ``"{name} must be {what}; got {value!r}{hint}"``."""
    return ParameterError(f"{name} must be {what}; got {value!r}{hint}")


def _bounds(minimum: float | None, maximum: float | None, low_open: bool = False, high_open: bool = False) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if low_open else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if high_open else '<='} {maximum:g}")
    return " and ".join(parts)


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool: True or False only (not 0/1 or "yes")."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", value)
    return bool(value)


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None,
              none: bool = False, what: str = "a whole number") -> int | None:
    """``value`` as an int within the bounds (a whole float such as 30.0 is accepted; a bool is not).

    Parameters
    ----------
    none : bool, default False
        Accept None (returned as is).
    what : str
        How the value is described in the message ("a whole number of days").
    """
    if value is None and none:
        return None
    expected = " ".join(p for p in (what, _bounds(minimum, maximum)) if p) + (" or None" if none else "")
    if isinstance(value, (bool, np.bool_)):
        raise fail(name, expected, value)
    if isinstance(value, (int, np.integer)):
        number = int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        number = int(value)
    else:
        raise fail(name, expected, value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise fail(name, expected, value)
    return number


def check_number(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
                 low_open: bool = False, high_open: bool = False, none: bool = False,
                 what: str = "a number") -> float | None:
    """``value`` as a finite float within the bounds (``low_open``/``high_open`` exclude them)."""
    if value is None and none:
        return None
    expected = " ".join(p for p in (what, _bounds(minimum, maximum, low_open, high_open)) if p)
    expected += " or None" if none else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(name, expected, value)
    number = float(value)
    if not math.isfinite(number):
        raise fail(name, expected, value)
    too_low = minimum is not None and (number <= minimum if low_open else number < minimum)
    too_high = maximum is not None and (number >= maximum if high_open else number > maximum)
    if too_low or too_high:
        raise fail(name, expected, value)
    return number


def check_days(value: Any, name: str, *, minimum: float = 0, whole: bool = False) -> float | int:
    """A number of days (>= ``minimum``; a whole number when ``whole``)."""
    if whole:
        return check_int(value, name, minimum=int(minimum), what="a whole number of days")
    return check_number(value, name, minimum=minimum, what="a number of days")


def check_share(value: Any, name: str, *, low_open: bool = False, high_open: bool = False) -> float:
    """A share or probability in [0, 1] (``low_open``/``high_open`` exclude 0 or 1)."""
    what = f"a share in {'(' if low_open else '['}0, 1{')' if high_open else ']'}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise fail(name, what, value)
    number = float(value)
    if not (math.isfinite(number) and (0 < number if low_open else 0 <= number)
            and (number < 1 if high_open else number <= 1)):
        raise fail(name, what, value)
    return number


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """One of ``choices`` (with "did you mean ...?" for a near miss)."""
    allowed = [str(c) for c in choices]
    if not isinstance(value, str) or value not in allowed:
        raise fail(name, "one of " + ", ".join(allowed), value, did_you_mean(str(value), allowed))
    return value


def check_date(value: Any, name: str) -> pd.Timestamp:
    """A date or timestamp (``as_of``, ``start``, a snapshot day) as a Timestamp, naive or aware as given."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} {value!r} is not a date or timestamp (e.g. '2026-10-31')") from None
    if ts is pd.NaT:
        raise ParameterError(f"{name} is missing; give a date such as '2026-10-31'")
    return ts


def check_names(value: Any, name: str) -> list[str] | None:
    """None, a string or a list of strings -> None or a non-empty list of strings."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        values = [str(v) for v in value]
    except TypeError:
        raise fail(name, "a string or a list of strings", value) from None
    if not values:
        raise ParameterError(f"{name} is an empty list; give at least one value, or None for all")
    return values
