"""journeylib: B2B customer-journey analysis.

Load CRM, marketing, product and support exports into one validated data
contract (:func:`load`), then build journeys, personas, time-to-value curves,
churn risk and a monthly review.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .data import JourneyData, load
from .errors import (FreshnessWarning, JourneyDataError, JourneyWarning, MappingError, ParameterError, PersonaWarning,
                     SourceError, StageConfigError)
from .stages import Lifecycle, default_lifecycle, load_lifecycle

__all__ = [
    "__version__", "load", "JourneyData", "JourneyDataError", "SourceError", "MappingError", "ParameterError",
    "StageConfigError", "JourneyWarning", "FreshnessWarning", "PersonaWarning", "Lifecycle", "load_lifecycle",
    "default_lifecycle",
]
