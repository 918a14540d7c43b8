"""Event logs that stay in an engine: DuckDB on one machine beyond memory, Spark beyond one machine.

A :class:`TableLog` is the account-level event log of validated Parquet touchpoints, held as a
view in an engine (a :class:`~journeylib.data.engines.TouchpointTable`: its sessions, views and
engine choice live in :mod:`journeylib.data.engines`) instead of as arrays in Python.
:func:`~journeylib.paths.journeys`, :func:`~journeylib.paths.transitions`,
:func:`~journeylib.paths.step_sankey` and :func:`~journeylib.paths.funnel` run on it as SQL
(:mod:`.sql_paths`): only their small results reach Python, so 50M touchpoints stay within a
few GB. Every other analysis (variants, stalls, time in stage) takes it too: it then fetches
the log's arrays once (:meth:`TableLog.event_log`, four integers per touchpoint) and runs as
on any :class:`~journeylib.paths.EventLog`.

The order is the library's (:mod:`.log`): journey, time, event id as text (missing last), then
the file and the row within it. Strings compare by code point in Python, DuckDB and Spark
alike (UTF-8 bytes), so the three engines give one order.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.engines import DuckDBSession, SparkSession, TouchpointTable, quote, spark_session
from ..schema import ACCOUNT_ID, STAGE, TIMESTAMP
from .log import EventLog, empty_note

__all__ = ["TableLog", "DuckDBSession", "SparkSession", "spark_session", "ORDER", "quote"]

#: The library's order within a journey, in SQL over the events view.
ORDER = "ts, ev IS NULL, ev, f, r"


class TableLog(TouchpointTable):
    """The account journeys of Parquet touchpoints, as a view in DuckDB or Spark.

    Built by :func:`~journeylib.paths.event_log` with ``engine="duckdb"`` or ``"spark"``.
    :func:`~journeylib.paths.journeys`, :func:`~journeylib.paths.transitions`,
    :func:`~journeylib.paths.step_sankey` and :func:`~journeylib.paths.funnel` run in the
    engine; other analyses use :meth:`event_log` (fetched once).

    Attributes
    ----------
    session : DuckDBSession or SparkSession
    lifecycle : Lifecycle
    level : str
        Always ``"account"``.
    cutoff : int or None
        The last nanosecond used (as_of).
    filters : dict
    note : str
        Why the log is empty ("" when it is not).
    columns : dict
        The touchpoints' columns and their engine types.
    """

    level = "account"

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._log: EventLog | None = None
        self.note = "" if self.n_events else empty_note(self.filters)

    def event_log(self) -> EventLog:
        """The same journeys as an :class:`~journeylib.paths.EventLog` (arrays in journey order; fetched once).

        Its ``frame`` holds no touchpoint columns: analyses that read touchpoint names,
        channels, outcomes or contacts say the log lacks them.
        """
        if self._log is None:
            self._log = self._fetch()
        return self._log

    def _fetch(self) -> EventLog:
        s, n = self.session, self.n_events
        ids = np.asarray([r[0] for r in s.rows(f"SELECT DISTINCT a FROM {self.events} ORDER BY a")], dtype=object)
        jcode, ts = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        stage, src = np.empty(n, dtype=np.int16), np.empty(n, dtype=np.int64)
        at = 0
        for batch in s.batches(f"""
                WITH journeys AS (SELECT a, (row_number() OVER (ORDER BY a)) - 1 AS j
                                  FROM (SELECT DISTINCT a FROM {self.events}) d)
                SELECT j, ts, code, r FROM {self.events} e JOIN journeys USING (a)
                ORDER BY a, {ORDER}"""):
            k = batch.num_rows
            for target, column in zip((jcode, ts, stage, src), batch.columns):
                target[at:at + k] = column.to_numpy()
            at += k
        frame = pd.DataFrame({ACCOUNT_ID: pd.Series(dtype=object), TIMESTAMP: pd.Series(dtype="datetime64[ns, UTC]"),
                              STAGE: pd.Series(dtype=object)})
        return EventLog(lifecycle=self.lifecycle, level="account", ids=ids, journey_account=ids.copy(), jcode=jcode,
                        ts=ts, stage=stage, src=src, frame=frame, cutoff=self.cutoff, note=self.note,
                        filters=self.filters)
