"""The step Sankey: flows between the first steps of the journeys, and its nodes.

* :func:`step_sankey` - (step k, stage) -> (step k+1, stage) flows over the first
  ``max_steps`` steps, with a ``journey_ended`` node and small nodes folded into ``other``;
* :func:`sankey_nodes` - its nodes with both conversion views (share of the previous
  step, share of all journeys at the start).

Both are re-exported by :mod:`journeylib.paths`; see there for the order, steps and filters.
The aggregated stage -> stage Sankey is drawn from :func:`journeylib.paths.transitions`.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from ..checks import check_bool, check_int, check_share
from ..data import JourneyData
from ..errors import ParameterError
from ..stages import Lifecycle
from .log import EventLog, as_log, document, empty_result, steps_of
from .table_log import TableLog

__all__ = ["step_sankey", "sankey_nodes", "END", "OTHER"]

END = "journey_ended"  # the Sankey node of journeys that stop
OTHER = "other"  # the Sankey node small flows are folded into


def _fold(counts: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """True where a node's share of all journeys is below the threshold."""
    return (counts > 0) & (counts < threshold * n)


@document
def step_sankey(log: "EventLog | JourneyData", *, max_steps: int = 6, threshold: float = 0.01,
                collapse: bool = True) -> pd.DataFrame:
    """Flows from (step k, stage) to (step k+1, stage) over the first ``max_steps`` steps.

    A journey whose last step is k flows to the node ``journey_ended`` (:data:`END`) at
    step k+1, so the flows out of step k always add up to the journeys with at least k
    steps. A node (step, stage) holding fewer than ``threshold`` of all journeys is
    folded into ``other`` (:data:`OTHER`) at that step.

    Parameters
    ----------
%(log)s
    max_steps : int, default 6
        Steps shown (2 or more); links go from step 1 to step ``max_steps``.
    threshold : float, default 0.01
        Share of all journeys (0 to 1) below which a node is folded into ``other``.
    collapse : bool, default True
        Merge consecutive events of one stage into one step first.

    Returns
    -------
    DataFrame
        Sorted by step, source, target (lifecycle order, then ``other``, then
        ``journey_ended``): ``step`` (the source step, 1-based), ``source``, ``target``
        (stage id, ``other`` or ``journey_ended``), ``journeys``, ``share_of_source``
        (of the journeys at the source node; sums to 1 per node) and ``share_of_start``
        (of all journeys).
    """
    max_steps = check_int(max_steps, "max_steps", minimum=2)
    threshold = check_share(threshold, "threshold", high_open=True)
    collapse = check_bool(collapse, "collapse")
    if isinstance(log, TableLog):
        from .sql_paths import sql_step_sankey

        return sql_step_sankey(log, max_steps, threshold, collapse)
    log = as_log(log)
    lc = log.lifecycle
    K = len(lc.ids)
    n = log.n_journeys
    if not n:
        return links_frame(lc, 0, max_steps, threshold, np.zeros((max_steps, K, K + 1), dtype=np.int64), log.note)
    st = steps_of(log, collapse)
    m = int(max_steps)
    shown = np.flatnonzero(st.step < m)
    nxt = np.where(st.last[shown], K, st.stage[np.minimum(shown + 1, len(st.stage) - 1)])
    code = (st.step[shown] * K + st.stage[shown]) * (K + 1) + nxt
    counts = np.bincount(code, minlength=m * K * (K + 1)).reshape(m, K, K + 1)
    return links_frame(lc, n, m, threshold, counts)


def links_frame(lc: Lifecycle, n: int, m: int, threshold: float, counts: np.ndarray,
                note: str = "") -> pd.DataFrame:
    """The :func:`step_sankey` table of ``n`` journeys from ``counts[k, s, t]``: the steps k < m
    (0-based) at stage s followed by a step at stage t, or by none for t = K (the journey ended).
    Shared by the engines (:mod:`.sql_paths`)."""
    K = len(lc.ids)
    columns = {"step": "int64", "source": object, "target": object, "journeys": "int64", "share_of_source": float,
               "share_of_start": float}
    if not n:
        return empty_result(columns, note)
    node = counts.sum(axis=2)  # journeys at (step, stage)
    folded = _fold(node, n, threshold)
    W = K + 2  # stage codes, then OTHER = K, END = K + 1
    k_src, s_src, t_raw = np.nonzero(counts[:m - 1])
    weight = counts[k_src, s_src, t_raw]
    lab_src = np.where(folded[k_src, s_src], K, s_src)
    ended = t_raw == K
    t_stage = np.minimum(t_raw, K - 1)
    lab_tgt = np.where(ended, K + 1, np.where(folded[k_src + 1, t_stage], K, t_stage))
    code = (k_src * W + lab_src) * W + lab_tgt
    flows = np.bincount(code, weights=weight, minlength=(m - 1) * W * W).astype(np.int64)
    present = np.flatnonzero(flows)
    step_i, rest = present // (W * W), present % (W * W)
    a, b = rest // W, rest % W
    names = np.array(lc.ids + [OTHER, END], dtype=object)
    node_total = np.bincount(step_i * W + a, weights=flows[present], minlength=(m - 1) * W)
    frame = pd.DataFrame({
        "step": step_i.astype(np.int64) + 1, "source": names[a], "target": names[b],
        "journeys": flows[present].astype(np.int64),
        "share_of_source": flows[present] / node_total[step_i * W + a],
        "share_of_start": flows[present] / n,
    })
    frame.attrs["note"] = "" if len(frame) else "no journey has two steps"
    frame.attrs["stages"] = list(lc.ids)
    return frame


def sankey_nodes(links: pd.DataFrame) -> pd.DataFrame:
    """The nodes of a :func:`step_sankey` result with their two conversion views.

    Parameters
    ----------
    links : DataFrame
        The result of :func:`step_sankey`.

    Returns
    -------
    DataFrame
        Sorted by step and the links' node order: ``step``, ``stage`` (stage id,
        ``other`` or ``journey_ended``), ``journeys``, ``share_of_previous_step`` (of the
        journeys at the previous step; at step 1, of all journeys) and
        ``share_of_start`` (of all journeys).
    """
    need = {"step", "source", "target", "journeys"}
    if not isinstance(links, pd.DataFrame) or not need <= set(links.columns):
        raise ParameterError(f"sankey_nodes needs the result of step_sankey (columns {sorted(need)})")
    cols = {"step": "int64", "stage": object, "journeys": "int64", "share_of_previous_step": float,
            "share_of_start": float}
    if links.empty:
        return empty_result(cols, links.attrs.get("note", ""))
    out_flow = links.groupby(["step", "source"], sort=False)["journeys"].sum()
    in_flow = links.groupby([links["step"] + 1, "target"], sort=False)["journeys"].sum()
    first = out_flow.loc[[1]] if 1 in out_flow.index.get_level_values(0) else out_flow.iloc[:0]
    nodes = pd.concat([first, in_flow]).rename("journeys").reset_index()
    nodes.columns = ["step", "stage", "journeys"]
    n = int(first.sum())
    at_step = nodes[nodes["stage"] != END].groupby("step")["journeys"].sum()
    prev = nodes["step"].map(lambda k: at_step.get(k - 1, n)).astype(float)
    nodes["share_of_previous_step"] = nodes["journeys"] / prev
    nodes["share_of_start"] = nodes["journeys"] / n
    order = list(links.attrs.get("stages") or sorted(set(links["source"]) | set(links["target"]) - {OTHER, END}))
    rank = {v: i for i, v in enumerate(order + [OTHER, END])}
    nodes = (nodes.assign(_r=nodes["stage"].map(rank).fillna(len(rank)), _s=nodes["stage"].astype(str))
             .sort_values(["step", "_r", "_s"], kind="stable").drop(columns=["_r", "_s"]))
    return nodes.reset_index(drop=True).astype({"step": "int64", "journeys": "int64"})
