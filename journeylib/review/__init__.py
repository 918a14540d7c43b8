"""The monthly review: notebooks record what they found; the runner builds the report and the deck.

* :mod:`.record` - in-kernel calls (:func:`configure`, :func:`record`,
  :func:`record_figure`, :func:`record_section`) that write a notebook's numbers,
  figures and deck section into its ``output_dir``;
* :mod:`.runner` - :func:`run_review` (``journey review``): papermill over the
  notebooks, the manifest, atomic replacement of ``reports/YYYY-MM/``;
* :mod:`.deck` - the self-contained leadership deck from the recorded sections;
* :mod:`.changes` - "what changed since last month", recomputed from the data;
* :mod:`.memory` - the allocator settings of the review's processes, memory given back.

See docs/architecture.md, "The monthly review". :mod:`.record` and :mod:`.runner` import pandas only
when used: :func:`run_review`'s own process imports none while its kernels run.
"""
from __future__ import annotations

from .record import (CHANGES_SECTION, configure, models_dir, read_figure, read_results, record, record_figure,
                     record_section)
from .runner import (COMMON_PARAMETERS, NOTEBOOKS_DIR, ReviewResult, check_notebook_parameters, last_complete_month,
                     month_end, notebook_needs, run_review)

__all__ = [
    "configure", "record", "record_figure", "record_section", "read_results", "read_figure", "run_review", "ReviewResult",
    "COMMON_PARAMETERS", "NOTEBOOKS_DIR", "last_complete_month", "month_end", "check_notebook_parameters",
    "models_dir", "CHANGES_SECTION", "notebook_needs",
]
