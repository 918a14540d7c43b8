"""What changed since last month: risk moves, last month's predictions against outcomes, persona sizes.

Everything here compares two as-of dates of the *same* data: the review's ``as_of``
and the end of the month before it. Last month's view is recomputed from the data
(the churn model refitted with ``before=`` that day, the persona model applied to
features as of that day), never read from last month's report folder, so the
numbers depend only on the data and the parameters, and the first review of a
data set has them too. As-of features use nothing dated after their day, so the
recomputed view is what last month's review computed from the same rows.

Statuses of :func:`risk_moves` (at risk: churn probability at least ``threshold``):

- ``newly at risk``: a customer at both dates, not at risk last month, at risk now;
- ``saved``: at risk last month, still a customer, no longer at risk;
- ``still at risk``: at risk at both dates;
- ``not at risk``: a customer at both dates, at risk at neither;
- ``churned``: a customer last month, no active subscription now;
- ``new customer``: a customer now, not last month.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..checks import check_choice, check_date, check_days, check_share, fail
from ..errors import ParameterError
from ..schema import ACCOUNT_ID

__all__ = ["MOVE_STATUSES", "previous_month_end", "previous_scores", "risk_moves", "risk_move_summary",
           "accounts_with_status", "churned_since", "prediction_check", "persona_moves", "risk_change_sentences", "persona_change_sentences"]

MOVE_STATUSES = ("newly at risk", "saved", "still at risk", "churned", "new customer", "not at risk")


def previous_month_end(as_of: Any) -> pd.Timestamp:
    """The last day of the month before ``as_of``'s month (naive day).

    >>> str(previous_month_end("2026-10-31").date()), str(previous_month_end("2026-10-15").date())
    ('2026-09-30', '2026-09-30')
    """
    day = check_date(as_of, "as_of")
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    return (day.normalize().replace(day=1) - pd.Timedelta(days=1)).normalize()


def previous_scores(snapshots: pd.DataFrame, day: Any, *, model: str = "gbm", horizon_days: int = 90,
                    health_weights: dict[str, float] | None = None, random_state: int = 0) -> pd.DataFrame:
    """Last month's scoring, recomputed: the model fitted on outcomes known at ``day``, scoring ``day``'s snapshot.

    Parameters
    ----------
    snapshots : DataFrame
        :func:`journeylib.churn.build_snapshots` output holding the snapshot of ``day``.
    day : date
        Last month's snapshot day (:func:`previous_month_end`).
    model, horizon_days, health_weights, random_state
        As for :class:`journeylib.churn.ChurnModel` (use this month's values).

    Returns
    -------
    DataFrame
        :meth:`~journeylib.churn.ChurnModel.score` columns without reasons; no rows when
        the snapshots hold no snapshot of ``day`` (``attrs["note"]`` says so).
    """
    from .. import churn

    day = pd.Timestamp(day).normalize()
    rows = snapshots[snapshots[churn.SNAPSHOT] == day]
    scorer = churn.ChurnModel(model, horizon_days=horizon_days, health_weights=health_weights,
                              random_state=random_state).fit(snapshots, before=day)
    out = scorer.score(rows, reasons=False)
    out.attrs["note"] = (f"no customer at {day.date()}: nothing to compare with last month" if rows.empty
                         else scorer.message_ or "")
    return out


def _scores(scored: pd.DataFrame, name: str) -> pd.DataFrame:
    need = {ACCOUNT_ID, "probability", "mrr"}
    if not isinstance(scored, pd.DataFrame) or not need <= set(scored.columns):
        got = ", ".join(map(str, scored.columns)) if isinstance(scored, pd.DataFrame) else type(scored).__name__
        raise ParameterError(f"{name} must be ChurnModel.score() output with account_id, probability and mrr; "
                             f"got {got}")
    if "snapshot" in scored and scored["snapshot"].nunique() > 1:
        raise ParameterError(f"{name} holds several snapshots; pass the rows of one snapshot")
    return _by_account(scored)


def _by_account(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame indexed by account_id as text, first row per account."""
    return frame.assign(**{ACCOUNT_ID: frame[ACCOUNT_ID].astype(str)}).drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)


def risk_moves(previous: pd.DataFrame, current: pd.DataFrame, *, threshold: float = 0.2) -> pd.DataFrame:
    """How each customer's churn risk moved between last month's scoring and this month's.

    Parameters
    ----------
    previous, current : DataFrame
        :meth:`journeylib.churn.ChurnModel.score` output of last month's snapshot
        (model fitted with ``before=`` that day) and of this month's.
    threshold : float
        Probability from which an account counts as at risk. A missing probability
        (the model could not be trained) counts as not at risk.

    Returns
    -------
    DataFrame with columns account_id, probability_before, probability_now,
    at_risk_before, at_risk_now, status (see the module docstring), arr (12 x MRR,
    this month's, last month's for churned accounts); one row per account customer
    at either date, sorted by status then by descending probability.
    """
    threshold = check_share(threshold, "threshold", low_open=True)
    before, now = _scores(previous, "previous"), _scores(current, "current")
    ids = before.index.union(now.index, sort=False)
    out = pd.DataFrame({ACCOUNT_ID: ids.to_numpy(dtype=object)})
    out["probability_before"] = before["probability"].reindex(ids).to_numpy(dtype=float)
    out["probability_now"] = now["probability"].reindex(ids).to_numpy(dtype=float)
    was, is_ = ids.isin(before.index), ids.isin(now.index)
    out["at_risk_before"] = was & (np.nan_to_num(out["probability_before"].to_numpy(), nan=-1) >= threshold)
    out["at_risk_now"] = is_ & (np.nan_to_num(out["probability_now"].to_numpy(), nan=-1) >= threshold)
    rb, rn = out["at_risk_before"].to_numpy(), out["at_risk_now"].to_numpy()
    status = np.select(
        [was & ~is_, ~was & is_, rb & rn, rb & ~rn, ~rb & rn],
        ["churned", "new customer", "still at risk", "saved", "newly at risk"], default="not at risk")
    out["status"] = pd.Categorical(status, categories=MOVE_STATUSES)
    mrr = now["mrr"].reindex(ids).fillna(before["mrr"].reindex(ids))
    out["arr"] = 12.0 * mrr.to_numpy(dtype=float)
    key = out["probability_now"].fillna(out["probability_before"])
    out = out.assign(_key=-key).sort_values(["status", "_key"], kind="stable").drop(columns="_key")
    return out.reset_index(drop=True)


def risk_move_summary(moves: pd.DataFrame) -> pd.DataFrame:
    """Accounts and ARR per status of :func:`risk_moves` (every status listed, zero when none)."""
    if not isinstance(moves, pd.DataFrame) or not {"status", "arr"} <= set(moves.columns):
        raise ParameterError("moves must be the output of risk_moves()")
    grouped = moves.groupby("status", observed=False).agg(accounts=(ACCOUNT_ID, "size"), arr=("arr", "sum"))
    out = grouped.reindex(list(MOVE_STATUSES), fill_value=0).rename_axis("status").reset_index()
    return out.astype({"accounts": "int64", "arr": float})


def accounts_with_status(moves: pd.DataFrame, risk: pd.DataFrame, status: str) -> pd.DataFrame:
    """The accounts of one :func:`risk_moves` status, named from the risk list, largest ARR first.

    Parameters
    ----------
    moves : DataFrame
        :func:`risk_moves` output.
    risk : DataFrame
        This month's :func:`journeylib.churn.risk_list` (account, plan and top_reasons are read).
    status : str
        One of :data:`MOVE_STATUSES`.

    Returns
    -------
    DataFrame with columns account_id, account, plan, probability_before, probability_now,
    arr, top_reasons (the reasons are this month's).
    """
    status = check_choice(status, "status", MOVE_STATUSES)
    rows = moves[moves["status"] == status]
    names = _by_account(risk).reindex(rows[ACCOUNT_ID].astype(str))
    out = pd.DataFrame({ACCOUNT_ID: rows[ACCOUNT_ID].to_numpy(dtype=object),
                        **{c: names[c].to_numpy(dtype=object) if c in names else None
                           for c in ("account", "plan")},
                        "probability_before": rows["probability_before"].to_numpy(dtype=float),
                        "probability_now": rows["probability_now"].to_numpy(dtype=float),
                        "arr": rows["arr"].to_numpy(dtype=float),
                        "top_reasons": names["top_reasons"].to_numpy(dtype=object) if "top_reasons" in names else ""})
    return out.sort_values("arr", ascending=False, kind="stable").reset_index(drop=True)


def churned_since(data: Any, since: Any, *, as_of: Any = None, gap_days: int = 1) -> pd.DataFrame:
    """Customers at the end of ``since`` and whether they churned by ``as_of``.

    Churn is the churn model's event (:func:`journeylib.churn.build_snapshots`): the
    account's subscription spell ended, with no new subscription within ``gap_days``.

    Returns
    -------
    DataFrame with columns account_id, churned (bool); ``attrs["days"]`` holds the
    days from ``since`` to ``as_of``.
    """
    from .. import churn

    day = pd.Timestamp(as_of) if as_of is not None else getattr(data, "as_of", None)
    if day is None:
        raise ParameterError("as_of is required with a dict of tables (the last day of the data to use)")
    day, since = pd.Timestamp(day).tz_localize(None).normalize(), pd.Timestamp(since).normalize()
    days = int((day - since).days)
    if days < 1:
        raise ParameterError(f"since ({since.date()}) must be before as_of ({day.date()})")
    snap = churn.churn_labels(data, as_of=day, horizon_days=days, snapshots=[since], gap_days=gap_days)
    out = pd.DataFrame({ACCOUNT_ID: snap[ACCOUNT_ID].astype(str).to_numpy(dtype=object),
                        "churned": snap[churn.LABEL].astype(bool).to_numpy()})
    out.attrs["days"] = days
    return out


def prediction_check(previous: pd.DataFrame, outcomes: pd.DataFrame, *, horizon_days: int,
                     elapsed_days: int | None = None, threshold: float = 0.2, bands: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)) -> pd.DataFrame:
    """Last month's churn predictions against what happened since, by band of predicted risk.

    The predictions are for ``horizon_days``; only ``elapsed_days`` of that horizon
    have passed. ``expected_churned`` scales each probability to the elapsed days
    assuming a constant hazard within the horizon, ``1 - (1 - p) ** (elapsed / horizon)``:
    an approximation (churn clusters at renewals), shown beside the observed count.

    Parameters
    ----------
    previous : DataFrame
        :meth:`~journeylib.churn.ChurnModel.score` output of last month's snapshot.
    outcomes : DataFrame
        :func:`churned_since` of the same day.
    horizon_days : int
        The predictions' horizon.
    elapsed_days : int, optional
        Days since the predictions (default: ``outcomes.attrs["days"]``).
    threshold : float
        Probability from which an account was flagged at risk (the ``at risk`` row).
    bands : sequence of float
        Band edges of the predicted probability (left-closed; the last band includes 1).

    Returns
    -------
    DataFrame with columns band, accounts, mean_probability, expected_churned, churned,
    churn_share; then an ``at risk`` row (probability at least ``threshold``) and an
    ``all`` row. Accounts without a probability are left out.
    """
    if elapsed_days is None:
        elapsed_days = outcomes.attrs.get("days")
    check_days(horizon_days, "horizon_days", minimum=1)  # checked, not converted: the values given are used
    check_days(elapsed_days, "elapsed_days", minimum=1)
    edges = np.asarray(bands, dtype=float)
    if edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] > 0 or edges[-1] < 1:
        raise fail("bands", "increasing edges from 0 to 1", list(bands))
    prev = _scores(previous, "previous")
    out_ = _by_account(outcomes)["churned"]
    frame = pd.DataFrame({"p": prev["probability"].to_numpy(dtype=float),
                          "churned": out_.reindex(prev.index).fillna(False).to_numpy(dtype=bool)})
    frame = frame[np.isfinite(frame["p"])]
    frame["expected"] = 1 - (1 - frame["p"].clip(0, 1)) ** (elapsed_days / horizon_days)
    labels = [f"{lo:.0%}–{hi:.0%}" for lo, hi in zip(edges[:-1], edges[1:])]
    frame["band"] = pd.cut(frame["p"], edges, right=False, labels=labels, include_lowest=True)
    frame.loc[frame["p"] >= edges[-1], "band"] = labels[-1]
    rows = []
    groups = [*frame.groupby("band", observed=False), ("at risk", frame[frame["p"] >= threshold]), ("all", frame)]
    for label, part in groups:
        n = len(part)
        rows.append({"band": str(label), "accounts": n,
                     "mean_probability": float(part["p"].mean()) if n else np.nan,
                     "expected_churned": float(part["expected"].sum()), "churned": int(part["churned"].sum()),
                     "churn_share": float(part["churned"].mean()) if n else np.nan})
    return pd.DataFrame(rows)


def persona_moves(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Persona sizes last month and now, with the accounts that joined, left or moved.

    Parameters
    ----------
    before, now : DataFrame
        Assignments (``account_id, persona_id, persona``) of the same persona model,
        e.g. ``model.assign(account_features(data, as_of=previous_month_end(...)))``
        and this month's ``model.assign(...)``.

    Returns
    -------
    DataFrame with columns persona_id, persona, accounts_before, accounts_now, change,
    new_accounts (not known last month), moved_in, moved_out (from or to another
    persona); unassigned accounts (persona_id -1) last.
    """
    cols = {ACCOUNT_ID, "persona_id", "persona"}
    for name, frame in (("before", before), ("now", now)):
        if not isinstance(frame, pd.DataFrame) or not cols <= set(frame.columns):
            raise ParameterError(f"{name} must be an assignment with account_id, persona_id and persona "
                                 "(PersonaModel.assign())")
    b, n = _by_account(before)["persona_id"], _by_account(now)["persona_id"]
    names = pd.concat([before, now]).drop_duplicates("persona_id", keep="last").set_index("persona_id")["persona"]
    was = b.reindex(n.index)
    rows = []
    for pid in sorted(names.index, key=lambda v: (v < 0, v)):
        rows.append({"persona_id": int(pid), "persona": names[pid], "accounts_before": int((b == pid).sum()),
                     "accounts_now": int((n == pid).sum()),
                     "new_accounts": int(((n == pid) & was.isna()).sum()),
                     "moved_in": int(((n == pid) & was.notna() & (was != pid)).sum()),
                     "moved_out": int(((b == pid) & n.reindex(b.index).notna() & (n.reindex(b.index) != pid)).sum())})
    out = pd.DataFrame(rows, columns=["persona_id", "persona", "accounts_before", "accounts_now", "new_accounts",
                                      "moved_in", "moved_out"])
    out.insert(4, "change", out["accounts_now"] - out["accounts_before"])
    return out


def _money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}".strip()


def risk_change_sentences(summary: pd.DataFrame, check: pd.DataFrame, *, threshold: float, horizon_days: int,
                          elapsed_days: int, currency: str = "", note: str = "") -> list[str]:
    """Plain sentences for the deck from :func:`risk_move_summary` and :func:`prediction_check`."""
    if note:
        return [note]
    s = summary.set_index("status")
    n = lambda status: int(s.loc[status, "accounts"])  # noqa: E731
    arr = lambda status: _money(float(s.loc[status, "arr"]), currency)  # noqa: E731
    out = [f"{n('newly at risk'):,} customers are newly at risk (churn probability of {threshold:.0%} or more "
           f"within {horizon_days} days), holding {arr('newly at risk')} of ARR; {n('saved'):,} at risk last month "
           f"are no longer ({arr('saved')}); {n('still at risk'):,} remain at risk.",
           f"{n('churned'):,} customers churned since last month ({arr('churned')} of ARR); "
           f"{n('new customer'):,} new customers joined ({arr('new customer')})."]
    c = check.set_index("band")
    if c.loc["all", "accounts"]:
        out.append(f"Last month's predictions, {elapsed_days} of their {horizon_days} days later: "
                   f"{int(c.loc['all', 'churned']):,} of {int(c.loc['all', 'accounts']):,} customers churned, against "
                   f"{c.loc['all', 'expected_churned']:.1f} expected; {int(c.loc['at risk', 'churned']):,} of them "
                   f"had been flagged at risk ({int(c.loc['at risk', 'accounts']):,} flagged).")
    return out


def persona_change_sentences(moves: pd.DataFrame, since: Any) -> list[str]:
    """Plain sentences for the deck from :func:`persona_moves`."""
    day = pd.Timestamp(since).date()
    known = moves[moves["persona_id"] >= 0]
    parts = [f"{r.persona}: {r.accounts_now:,} ({r.change:+,})" for r in known.itertuples()]
    new = int(moves["new_accounts"].sum())
    moved = int(moves["moved_in"].sum())
    return [f"Persona sizes now, and the change since {day} under the same persona model: " + "; ".join(parts) + ".",
            f"{new:,} accounts are new since then; {moved:,} moved to another persona as their behaviour changed."]
