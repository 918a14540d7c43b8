"""From a source to the validated data contract (docs/architecture.md, "The flow").

``read`` (files, DuckDB, SQL) -> ``mapping`` (CRM names -> contract; ``mapping_specs``
its column specs, ``record_ids`` one form for CRM record ids) -> ``validate`` (types,
quarantine, the as_of window; ``timeparse`` owns timestamps and the as_of cut-off) ->
:class:`JourneyData` with its ``report`` (``load``), whose first findings are the likely
causes of what was set aside (``diagnosis``). ``quality`` summarises the loaded data for
the data-health notebook; ``stage_starter`` writes a starter stage file from a source's
own touchpoint names (``journey stages init``).
"""
from __future__ import annotations

from .load import JourneyData, load

__all__ = ["JourneyData", "load"]
