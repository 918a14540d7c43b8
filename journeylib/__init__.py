"""journeylib: B2B customer-journey analysis.

Load CRM, marketing, product and support exports into one validated data
contract (:func:`load`), then build journeys, personas, time-to-value curves,
churn risk and a monthly review.

The names below come from their modules when first used (``journeylib.load`` imports
pandas then): ``journey review``'s own process imports no pandas while its kernels run.
"""
from __future__ import annotations

import importlib
import importlib.util

__version__ = "0.1.0"

from .errors import (FreshnessWarning, JourneyDataError, JourneyWarning, MappingError, ParameterError, PersonaWarning,
                     SourceError, StageConfigError)

_FROM = {"load": ".data", "JourneyData": ".data", "Lifecycle": ".stages", "load_lifecycle": ".stages",
         "default_lifecycle": ".stages"}

__all__ = [
    "__version__", "load", "JourneyData", "JourneyDataError", "SourceError", "MappingError", "ParameterError",
    "StageConfigError", "JourneyWarning", "FreshnessWarning", "PersonaWarning", "Lifecycle", "load_lifecycle",
    "default_lifecycle",
]


def __getattr__(name: str):
    """``load``, ``JourneyData``, ``Lifecycle``, ... and the subpackages (``journeylib.paths``), imported when first
    used."""
    if name in _FROM:
        value = getattr(importlib.import_module(_FROM[name], __name__), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM})
