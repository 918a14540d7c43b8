"""Journeys, transitions, the step Sankey and the funnel as SQL in the log's engine (DuckDB or Spark).

:func:`~journeylib.paths.journeys`, :func:`~journeylib.paths.transitions`,
:func:`~journeylib.paths.step_sankey` and :func:`~journeylib.paths.funnel` call these for a
:class:`~.table_log.TableLog`. The engine orders each journey's events (window functions),
forms the steps (with their backward, first-entry and re-entry flags) and the pairs of
consecutive steps, and aggregates them; Python receives only the small tables (one row per
journey, move, Sankey link, stage) and builds the same frames as the array code, through the
same functions (``journeys_frame``, ``transitions_frame``, ``links_frame``, ``funnel_frame``).

**Quantiles are numpy's, exactly.** Holistic aggregates (``quantile_cont``, ``percentile``)
hold every value of a group in memory and compute their own rounding. Instead the engine
ranks each group's values (a sort, which spills) and returns the one or two order statistics
numpy would read; :func:`linear_quantile` and :func:`median_of` then interpolate them as
``np.quantile`` (method "linear") and ``np.median`` do, so results are identical, not close.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .log import DAY_NS
from .table_log import ORDER, TableLog

__all__ = ["sql_transitions", "sql_step_sankey", "sql_funnel", "sql_journey_columns", "linear_quantile",
           "median_of"]


def _numpy_positions(n: int, q: float) -> tuple[int, int, float]:
    """The two order statistics (0-based) and the weight ``np.quantile(x, q)`` uses on n sorted values."""
    virtual = (n - 1) * q  # numpy's virtual index for method "linear"
    if virtual >= n - 1:
        return n - 1, n - 1, 0.0
    below = math.floor(virtual)
    return below, below + 1, virtual - below


def linear_quantile(lower: float, upper: float, gamma: float) -> float:
    """``np.quantile``'s linear interpolation between two order statistics (numpy's ``_lerp``, bit for bit)."""
    diff = upper - lower
    return upper - diff * (1 - gamma) if gamma >= 0.5 else lower + diff * gamma


def median_of(values: list[float], n: int) -> float:
    """``np.median`` of n values from its middle order statistic(s) (one when n is odd, two when even)."""
    return values[0] / 1 if n % 2 else (values[0] + values[1]) / 2


def _median_positions(n: int) -> list[int]:
    return [n // 2] if n % 2 else [n // 2 - 1, n // 2]


def _order_statistics(log: TableLog, source: str, wanted: dict[int, list[int]]) -> dict[tuple[int, int], int]:
    """Values (int64) at the wanted 0-based ranks of each group g of ``source`` (SQL with columns g, v)."""
    frame = pd.DataFrame([(g, rank) for g, ranks in wanted.items() for rank in sorted(set(ranks))],
                         columns=["g", "rn"]).astype("int64")
    if frame.empty:
        return {}
    wanted_table = log.name("wanted")
    log.session.small_table(wanted_table, frame)
    rows = log.session.rows(f"""
        SELECT t.g, t.rn, t.v FROM (SELECT g, v, (row_number() OVER (PARTITION BY g ORDER BY v)) - 1 AS rn
                                    FROM ({source}) s) t
        JOIN {wanted_table} w ON t.g = w.g AND t.rn = w.rn""")
    return {(int(g), int(rank)): int(v) for g, rank, v in rows}


def _days(ns: list[int]) -> list[float]:
    """Nanoseconds to days as the array code computes them (int64 / int in numpy)."""
    return [float(d) for d in np.asarray(ns, dtype=np.int64) / DAY_NS]


def _pairs(log: TableLog, collapse: bool) -> str:
    """A table of each step (a, x = stage, k = 0-based step) with the next step's stage y and the
    nanoseconds dt until it (NULL on a journey's last step); built once per log and ``collapse``."""
    name = log.name("pairs_c" if collapse else "pairs_u")
    if name in log.made:
        return name
    s = log.session
    if collapse:  # a step starts where the stage differs from the previous event's
        steps = log.name("steps_c")
        s.table(steps, f"""
            SELECT a, ts, code, i FROM (
              SELECT a, ts, code, row_number() OVER w AS i, lag(code) OVER w AS prev FROM {log.events}
              WINDOW w AS (PARTITION BY a ORDER BY {ORDER})) t
            WHERE prev IS NULL OR prev <> code""")
        source, order = steps, "i"
    else:
        source, order = log.events, ORDER
    s.table(name, f"""
        SELECT a, code AS x, lead(code) OVER w AS y, (lead(ts) OVER w) - ts AS dt, (row_number() OVER w) - 1 AS k
        FROM {source} WINDOW w AS (PARTITION BY a ORDER BY {order})""")
    log.made.add(name)
    return name


def sql_transitions(log: TableLog, collapse: bool) -> pd.DataFrame:
    """:func:`~journeylib.paths.transitions` of a TableLog, computed in its engine."""
    from .journeys import transitions_empty, transitions_frame

    lc = log.lifecycle
    K = len(lc.ids)
    if not log.n_journeys:
        return transitions_empty(lc, log.note)
    pairs = _pairs(log, collapse)
    rows = log.session.rows(f"""
        SELECT x, y, sum(c), count(*) FROM (
          SELECT x, y, a, count(*) AS c FROM {pairs} WHERE y IS NOT NULL GROUP BY x, y, a) t
        GROUP BY x, y""")
    if not rows:
        return transitions_empty(lc, "no journey has two steps")
    counts = np.zeros(K * K, dtype=np.int64)
    by_journey = np.zeros(K * K, dtype=np.int64)
    for x, y, n, j in rows:
        counts[int(x) * K + int(y)], by_journey[int(x) * K + int(y)] = int(n), int(j)
    present = np.flatnonzero(counts)
    positions = {int(c): [_numpy_positions(int(counts[c]), q) for q in (0.5, 0.9)] for c in present}
    found = _order_statistics(log, f"SELECT x * {K} + y AS g, dt AS v FROM {pairs} WHERE y IS NOT NULL",
                              {c: [p for lo, hi, _ in ps for p in (lo, hi)] for c, ps in positions.items()})
    quantiles = np.empty((len(present), 2))
    for i, c in enumerate(present):
        for w, (lo, hi, gamma) in enumerate(positions[int(c)]):
            lower, upper = _days([found[int(c), lo], found[int(c), hi]])
            quantiles[i, w] = linear_quantile(lower, upper, gamma)
    # account journeys: the distinct journeys making a move are its distinct accounts
    return transitions_frame(lc, counts, by_journey, by_journey, quantiles[:, 0], quantiles[:, 1])


def sql_step_sankey(log: TableLog, max_steps: int, threshold: float, collapse: bool) -> pd.DataFrame:
    """:func:`~journeylib.paths.step_sankey` of a TableLog, computed in its engine."""
    from .sankey import links_frame

    lc = log.lifecycle
    K, m = len(lc.ids), int(max_steps)
    counts = np.zeros((m, K, K + 1), dtype=np.int64)
    if log.n_journeys:
        pairs = _pairs(log, collapse)
        for k, x, t, c in log.session.rows(f"""
                SELECT k, x, coalesce(y, {K}) AS t, count(*) FROM {pairs} WHERE k < {m}
                GROUP BY k, x, coalesce(y, {K})"""):
            counts[int(k), int(x), int(t)] = int(c)
    return links_frame(lc, log.n_journeys, m, threshold, counts, log.note)


def sql_funnel(log: TableLog) -> pd.DataFrame:
    """:func:`~journeylib.paths.funnel` of a TableLog, computed in its engine."""
    from .funnel import funnel_frame, linear_stages

    lc = log.lifecycle
    if not log.n_journeys:
        return funnel_frame(lc, 0, [], [], [], log.note)
    linear = linear_stages(lc)
    s = log.session
    first = log.name("first")
    if first not in log.made:  # per journey: its first touchpoint and its first entry of each linear stage
        firsts = ", ".join(f"min(CASE WHEN code = {p} THEN ts END) AS f{p}" for p in linear)
        s.table(first, f"SELECT a, min(ts) AS began, {firsts} FROM {log.events} GROUP BY a")
        log.made.add(first)
    reached = [f"sum(CASE WHEN f{p} IS NOT NULL THEN 1 ELSE 0 END)" for p in linear]
    in_order, conditions = [], []
    for i, p in enumerate(linear):  # in order: every earlier linear stage entered, at no later time
        conditions.append(f"f{p} IS NOT NULL" + (f" AND f{p} >= f{linear[i - 1]}" if i else ""))
        in_order.append(f"sum(CASE WHEN {' AND '.join(conditions)} THEN 1 ELSE 0 END)")
    row = s.rows(f"SELECT {', '.join(reached + in_order)} FROM {first}")[0]
    hits, oks = [int(v or 0) for v in row[:len(linear)]], [int(v or 0) for v in row[len(linear):]]
    source = " UNION ALL ".join(f"SELECT {p} AS g, f{p} - began AS v FROM {first} WHERE f{p} IS NOT NULL"
                                for p in linear)
    found = _order_statistics(log, source, {p: _median_positions(h) for p, h in zip(linear, hits) if h})
    medians = [median_of(_days([found[p, r] for r in _median_positions(h)]), h) if h else np.nan
               for p, h in zip(linear, hits)]
    return funnel_frame(lc, log.n_journeys, hits, oks, medians)


def _step_sql(log: TableLog, collapse: bool) -> tuple[str, str, str, str]:
    """SQL of the log's steps (a, k = 0-based step, x = stage, ts = entry, last_ts = its last event's time,
    n = its events), of a step's linear rank (0 when recurring), of the latest time at a stage of each
    linear rank v or further before a step (``m<v>``), and of that time for the step's own rank."""
    from .journeys import _linear_rank

    if collapse:  # a step starts where the stage differs from the previous event's
        steps = f"""
            SELECT a, g - 1 AS k, min(code) AS x, min(ts) AS ts, max(ts) AS last_ts, count(*) AS n FROM (
              SELECT a, ts, code, sum(CASE WHEN prev IS NULL OR prev <> code THEN 1 ELSE 0 END) OVER (
                       PARTITION BY a ORDER BY {ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS g FROM (
                SELECT a, ts, code, ev, f, r, lag(code) OVER (PARTITION BY a ORDER BY {ORDER}) AS prev
                FROM {log.events}) t) t2
            GROUP BY a, g"""
    else:
        steps = f"""SELECT a, (row_number() OVER (PARTITION BY a ORDER BY {ORDER})) - 1 AS k, code AS x, ts,
                           ts AS last_ts, 1 AS n FROM {log.events}"""
    rank = _linear_rank(log.lifecycle)
    lin = "CASE x " + " ".join(f"WHEN {c} THEN {int(v)}" for c, v in enumerate(rank)) + " END"
    ranks = sorted({int(v) for v in rank if v > 0})
    # the latest time at a stage of linear rank >= v before each step (its last event: times never decrease)
    latest = ", ".join(f"max(CASE WHEN lin >= {v} THEN last_ts END) OVER before AS m{v}" for v in ranks)
    latest_at = "CASE lin " + " ".join(f"WHEN {v} THEN m{v}" for v in ranks) + " END" if ranks else "NULL"
    return steps, lin, latest, latest_at


def _paths(log: TableLog, steps: str, per_journey: np.ndarray) -> np.ndarray:
    """Each journey's path (stage ids joined by " > "), joined in Python from the steps' stage codes
    fetched in journey order: an ordered string aggregate holds every group in the engine's memory."""
    from .journeys import _join_paths

    codes = np.empty(int(per_journey.sum()), dtype=np.int16)
    at = 0
    for batch in log.session.batches(f"SELECT x FROM {steps} ORDER BY a, k"):
        codes[at:at + batch.num_rows] = batch.column(0).to_numpy()
        at += batch.num_rows
    return _join_paths(codes, np.r_[0, np.cumsum(per_journey)], log.lifecycle)


def sql_journey_columns(log: TableLog, collapse: bool, reentry_days: float) -> tuple[np.ndarray, dict, dict]:
    """Per journey (sorted by account id): the ids and the columns of :func:`~journeylib.paths.journeys`
    computed in the log's engine, as the array code computes them (stage codes, nanoseconds).

    The steps carry the flags of :func:`~journeylib.paths.journey_steps` (backward, first entry,
    reentry), materialised once per ``collapse`` and ``reentry_days``; one GROUP BY makes the journeys.
    """
    lc = log.lifecycle
    steps, lin, latest, latest_at = _step_sql(log, collapse)
    gap = int(round(reentry_days * DAY_NS))
    flagged = log.name(f"jsteps_{'c' if collapse else 'u'}_{gap}")
    s = log.session
    if flagged not in log.made:
        s.table(flagged, f"""
            SELECT a, k, x, ts, last_ts, n, lin, backward, fe,
                   CASE WHEN lin > 0 AND fe = 0 AND (px IS NULL OR px <> x) AND ts - {latest_at} >= {gap}
                        THEN 1 ELSE 0 END AS reentry FROM (
              SELECT a, k, x, ts, last_ts, n, lin,
                     CASE WHEN lin > 0 AND lin < coalesce(max(lin) OVER before, 0) THEN 1 ELSE 0 END AS backward,
                     CASE WHEN (row_number() OVER (PARTITION BY a, x ORDER BY k)) = 1 THEN 1 ELSE 0 END AS fe,
                     lag(x) OVER (PARTITION BY a ORDER BY k) AS px{', ' + latest if latest else ''}
              FROM (SELECT a, k, x, ts, last_ts, n, {lin} AS lin FROM ({steps}) t) t2
              WINDOW before AS (PARTITION BY a ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) t3""")
        log.made.add(flagged)
    entered = ", ".join(f"min(CASE WHEN x = {c} THEN ts END) AS e{c}" for c in range(len(lc.ids)))
    batches = list(s.batches(f"""
        SELECT a, min(ts) AS started, max(last_ts) AS ended, CAST(sum(n) AS BIGINT) AS events,
               count(*) AS steps, min(CASE WHEN k = 0 THEN x END) AS first_x, max_by(x, k) AS last_x,
               max(lin) AS top, CAST(sum(backward) AS BIGINT) AS backward, CAST(sum(reentry) AS BIGINT) AS reentry,
               {entered}
        FROM {flagged} GROUP BY a ORDER BY a"""))
    table = pa.Table.from_batches(batches) if batches else None

    def column(name: str, fill: int | None = None) -> np.ndarray:
        if table is None:
            return np.zeros(0, dtype=object if name in ("a", "path") else np.int64)
        values = table.column(name)
        if fill is not None:
            values = pc.fill_null(values, fill)
        return values.to_numpy(zero_copy_only=False)

    never = np.iinfo(np.int64).min
    entered = {i: column(f"e{c}", never).astype(np.int64) for c, i in enumerate(lc.ids)}
    steps_per_journey = column("steps").astype(np.int64)
    columns = dict(started=column("started").astype(np.int64), ended=column("ended").astype(np.int64),
                   events=column("events").astype(np.int64), steps=steps_per_journey,
                   path=_paths(log, flagged, steps_per_journey), first=column("first_x").astype(np.int64),
                   last=column("last_x").astype(np.int64), top=column("top").astype(np.int64),
                   backward_moves=column("backward").astype(np.int64), reentries=column("reentry").astype(np.int64))
    return np.asarray(column("a"), dtype=object), columns, entered
