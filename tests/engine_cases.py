"""What the DuckDB and Spark engines must give: the pandas log's arrays and, exactly, its analyses' frames."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from journeylib import paths
from journeylib.stages import default_lifecycle

LC = default_lifecycle()
ARRAYS = ("ids", "journey_account", "jcode", "ts", "stage")
STAGES = LC.ids + [s.label for s in LC.stages]
WINDOWS = [{}, {"start": "2025-01-01", "end": "2025-12-31"}, {"as_of": "2026-03-31"}]


def same_log(a, b) -> None:
    """Two EventLogs hold the same journeys in the same order."""
    for name in ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.cutoff == b.cutoff and a.n_journeys == b.n_journeys


def same_sql_analyses(table_log, pandas_log, *, threshold: float = 0.01) -> None:
    """Transitions (both step kinds), the step Sankey, the funnel and the journeys (both step kinds, a
    long and a short re-entry gap) computed in the engine equal the array code's frames exactly
    (quantiles and shares included: check_exact)."""
    for collapse in (False, True):
        pd.testing.assert_frame_equal(paths.transitions(table_log, collapse=collapse),
                                      paths.transitions(pandas_log, collapse=collapse), check_exact=True,
                                      obj=f"transitions(collapse={collapse})")
    for collapse in (True, False):
        pd.testing.assert_frame_equal(paths.step_sankey(table_log, threshold=threshold, collapse=collapse),
                                      paths.step_sankey(pandas_log, threshold=threshold, collapse=collapse),
                                      check_exact=True, obj=f"step_sankey(collapse={collapse})")
    pd.testing.assert_frame_equal(paths.funnel(table_log), paths.funnel(pandas_log), check_exact=True, obj="funnel")
    for collapse in (True, False):
        for reentry_days in (270, 0.1):
            pd.testing.assert_frame_equal(
                paths.journeys(table_log, collapse=collapse, reentry_days=reentry_days),
                paths.journeys(pandas_log, collapse=collapse, reentry_days=reentry_days), check_exact=True,
                obj=f"journeys(collapse={collapse}, reentry_days={reentry_days})")


@st.composite
def touchpoint_frames(draw):
    """Small touchpoint logs with many ties, missing event ids, stage labels and a non-ASCII account id."""
    n = draw(st.integers(0, 40))
    rows = [(draw(st.sampled_from(["A1", "A2", "b3", "A10", "É4"])),
             draw(st.integers(0, 6)),  # few distinct seconds: many ties
             draw(st.sampled_from(STAGES)),
             draw(st.one_of(st.none(), st.sampled_from(["E1", "E2", "e3", "E10"])))) for _ in range(n)]
    return pd.DataFrame({
        "account_id": pd.Series([r[0] for r in rows], dtype=object),
        "timestamp": pd.to_datetime([1_760_000_000 + r[1] * 3_600 for r in rows], unit="s", utc=True),
        "stage": pd.Series([r[2] for r in rows], dtype=object),
        "event_id": pd.Series([r[3] for r in rows], dtype=object)})
