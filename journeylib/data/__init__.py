"""From a source to the validated data contract (docs/architecture.md, "The flow").

``read`` (files, DuckDB, SQL) -> ``mapping`` (CRM names -> contract) -> ``validate``
(types, quarantine, the as_of window; ``timeparse`` owns timestamps and the as_of
cut-off) -> :class:`JourneyData` with its ``report`` (``load``). ``quality`` summarises
the loaded data for the data-health notebook.
"""
from __future__ import annotations

from .load import JourneyData, load

__all__ = ["JourneyData", "load"]
