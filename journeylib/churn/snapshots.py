"""As-of snapshots: the features of every active account at a snapshot day, and their churn labels.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_date, check_days
from ..data.contract import has_table, table_once
from ..errors import JourneyDataError, ParameterError
from ..schema import ACCOUNT_ID, TABLES
from ..stages import Lifecycle, default_lifecycle
from .prepared import _DAY, _OPEN, _S_START, FEATURES, SNAPSHOT, _cutoff, _ns, _Prepared

_CATEGORICAL = ("plan", "persona")
MODELS = ("gbm", "logistic", "health")
CALIBRATIONS = ("sigmoid", "isotonic", "none")
LABEL, KNOWN = "churned", "outcome_known"





# =========================================================================== inputs
def check_model(model: str) -> str:
    """Validate a model name (``"gbm"``, ``"logistic"`` or ``"health"``)."""
    return check_choice(model, "model", MODELS)


def _day(value: Any, name: str) -> pd.Timestamp:
    """A date parameter as a naive day."""
    ts = check_date(value, name)
    return (ts.tz_localize(None) if ts.tzinfo is not None else ts).normalize()


def _unpack(data: Any, as_of: Any, only: Sequence[str] | None = None
            ) -> tuple[Mapping[str, pd.DataFrame | None], str, pd.Timestamp | None, Lifecycle]:
    """(tables, tz, as_of day, lifecycle) from a JourneyData or a mapping of table name -> DataFrame; ``only``:
    just these tables (the others are not read). A JourneyData's tables are read when used, for that use
    (:class:`_TablesForOneUse`)."""
    lifecycle = getattr(data, "lifecycle", None) or default_lifecycle()
    if hasattr(data, "tables") and hasattr(data, "as_of"):
        tables, tz = _TablesForOneUse(data.tables, only), getattr(data, "tz", "UTC")
        day = _day(as_of, "as_of") if as_of is not None else _day(data.as_of, "as_of")
        if day > _day(data.as_of, "as_of"):
            raise ParameterError(f"as_of {day.date()} is after the data's as_of {data.as_of.date()}; "
                                 "load the data with the later as_of")
    elif isinstance(data, Mapping):
        tables, tz = {k: v for k, v in data.items() if only is None or k in only}, "UTC"
        day = _day(as_of, "as_of") if as_of is not None else None
    else:
        raise ParameterError("data must be a JourneyData (journeylib.load) or a dict of tables; "
                             f"got {type(data).__name__}")
    if not has_table(tables, "accounts"):
        raise JourneyDataError("churn analysis needs the 'accounts' table; it is missing "
                               f"(tables given: {', '.join(k for k in tables if has_table(tables, k))})")
    if not has_table(tables, "subscriptions"):  # no customers: every result is empty (see inputs_note)
        tables["subscriptions"] = pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES["subscriptions"].names})
    return tables, tz, day, lifecycle


class _TablesForOneUse(MutableMapping):
    """A JourneyData's tables (those of ``only``), each read when asked for and not kept
    (:func:`~journeylib.data.contract.table_once`); a table set here replaces it.

    :class:`~journeylib.churn.prepared._Prepared` takes one table at a time, so of a validated contract it
    holds one table at once, and none afterwards: at 20,000 accounts building the snapshots peaked
    0.2 GB lower, and notebook 04 held no touchpoints, usage or tickets through its backtest.
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame | None], only: Sequence[str] | None):
        self._tables, self._set = tables, {}
        self._names = [n for n in tables if only is None or n in only]

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        if name in self._set:
            return self._set[name]
        if name not in self._names:
            raise KeyError(name)
        return table_once(self._tables, name)

    def has(self, name: str) -> bool:
        return self._set[name] is not None if name in self._set else name in self._names and has_table(
            self._tables, name)

    def __setitem__(self, name: str, table: pd.DataFrame | None) -> None:
        self._set[name] = table
        if name not in self._names:
            self._names.append(name)

    def __delitem__(self, name: str) -> None:
        raise TypeError("tables for one use: set a table, do not delete it")

    def __iter__(self):
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)


def inputs_note(data: Any) -> str:
    """One plain sentence on the inputs the churn analysis misses ("" when all are there).

    Without ``subscriptions`` there are no customers and every churn result is empty;
    without usage, tickets, surveys, contacts or opportunities the features from them
    are missing (NaN) and the model does without them.
    """
    tables = data.tables if hasattr(data, "tables") else data  # only the subscriptions read, and not kept
    subscriptions = table_once(tables, "subscriptions")
    if subscriptions is None or len(subscriptions) == 0:
        return ("No subscriptions table (or no rows): there are no customers to score, so the churn sections "
                "below are empty.")
    missing = [t for t in ("usage", "tickets", "surveys", "contacts", "opportunities") if not has_table(tables, t)]
    if missing:
        return f"Missing {', '.join(missing)}: the features from {'it' if len(missing) == 1 else 'them'} are left out."
    return ""


def _personas(personas: pd.DataFrame | None) -> pd.Series | None:
    if personas is None:
        return None
    if not isinstance(personas, pd.DataFrame) or not {ACCOUNT_ID, "persona"} <= set(personas.columns):
        got = list(personas.columns) if isinstance(personas, pd.DataFrame) else type(personas).__name__
        raise ParameterError(f"personas must be a DataFrame with columns account_id, persona; got {got}")
    p = personas.drop_duplicates(ACCOUNT_ID, keep="first")
    return pd.Series(p["persona"].astype(object).to_numpy(), index=p[ACCOUNT_ID].astype(str).to_numpy())


# =========================================================================== snapshots
def snapshot_dates(data: Any, *, as_of: Any = None) -> list[pd.Timestamp]:
    """Month ends from the first subscription start to ``as_of``, plus ``as_of`` when it is not a month end.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
    as_of : date, optional
        Default: the data's ``as_of`` (required for a dict of tables).

    Returns
    -------
    list of Timestamp (naive days), oldest first; empty without any subscription.
    """
    tables, tz, day, _ = _unpack(data, as_of, ("accounts", "subscriptions"))
    if day is None:
        raise ParameterError("as_of is required with a dict of tables (the last day of the data to use)")
    return _month_ends(tables["subscriptions"], tz, day)


def _month_ends(sub: pd.DataFrame, tz: str, day: pd.Timestamp) -> list[pd.Timestamp]:
    """:func:`snapshot_dates` of the subscriptions ``sub``."""
    start = _ns(sub, _S_START, "subscriptions", _OPEN)
    start = start[start < _cutoff(day, tz)]
    if start.size == 0:
        return []
    first = pd.Timestamp(int(start.min()), tz="UTC").tz_convert(tz).tz_localize(None).normalize()
    ends = list(pd.date_range(first, day, freq="ME"))
    if not ends or ends[-1] != day:
        ends.append(day)
    return [pd.Timestamp(d) for d in ends]


def snapshot_features(data: Any, snapshot: Any, *, horizon_days: int = 90,
                      personas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features of every account active at the end of ``snapshot`` day, from earlier rows only.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
        The contract tables (timestamps tz-aware UTC, as :func:`journeylib.load` gives them).
    snapshot : date
        The snapshot day; only rows dated before the end of that day are read.
    horizon_days : int
        Used by ``renewal_in_horizon`` only.
    personas : DataFrame, optional
        ``account_id, persona``; adds the ``persona`` column.

    Returns
    -------
    DataFrame
        ``account_id``, ``snapshot`` and the columns of :data:`FEATURES` (see the module
        docstring), one row per active account.
    """
    horizon_days = check_days(horizon_days, "horizon_days", minimum=1, whole=True)
    tables, tz, day, lifecycle = _unpack(data, None)
    snap = _day(snapshot, "snapshot")
    if day is not None and snap > day:
        raise ParameterError(f"snapshot {snap.date()} is after as_of {day.date()}")
    return _Prepared(tables, tz, day, lifecycle).features(snap, horizon_days, _personas(personas))


def build_snapshots(data: Any, *, as_of: Any = None, horizon_days: int = 90, snapshots: Sequence[Any] | None = None,
                    personas: pd.DataFrame | None = None, gap_days: int = 1) -> pd.DataFrame:
    """As-of snapshots with their labels: the training and scoring set.

    Parameters
    ----------
    data : JourneyData or dict of DataFrames
    as_of : date, optional
        Last day of data used (default: the data's ``as_of``; required for a dict).
        Rows after it are ignored; labels whose horizon ends after it are missing.
    horizon_days : int, default 90
        The label: churned within this many days after the snapshot.
    snapshots : list of dates, optional
        Default: :func:`snapshot_dates` (month ends, and ``as_of``).
    personas : DataFrame, optional
        ``account_id, persona``: adds a ``persona`` feature. Use it only when the
        assignment does not depend on data after the snapshots (e.g. firmographic
        rules); a persona clustered on today's data leaks the future into older
        snapshots and flatters the backtest.
    gap_days : int, default 1
        A subscription starting at most this many days after the previous one ends
        continues it (an expansion or renewal row), it is not a churn.

    Returns
    -------
    DataFrame
        :func:`snapshot_features` columns for every snapshot, plus ``churned``
        (nullable Int8: 1 churned within the horizon, 0 not, missing when unknown) and
        ``outcome_known`` (bool).
    """
    return _snapshots(data, as_of, horizon_days, snapshots, personas, gap_days, labels_only=False)


def churn_labels(data: Any, *, as_of: Any = None, horizon_days: int = 90, snapshots: Sequence[Any] | None = None,
                 gap_days: int = 1) -> pd.DataFrame:
    """The labels of :func:`build_snapshots` without its features.

    A label is a subscription event, so only the accounts and subscriptions are read: at 100,000 accounts one
    snapshot's labels took 9.8 s and 1.3 GB through :func:`build_snapshots`. Parameters as there.

    Returns
    -------
    DataFrame
        ``account_id``, ``snapshot``, ``churned`` and ``outcome_known``: the rows and values of
        :func:`build_snapshots` with the same arguments.
    """
    return _snapshots(data, as_of, horizon_days, snapshots, None, gap_days, labels_only=True)


def _snapshots(data: Any, as_of: Any, horizon_days: int, snapshots: Sequence[Any] | None,
               personas: pd.DataFrame | None, gap_days: int, *, labels_only: bool) -> pd.DataFrame:
    horizon_days = check_days(horizon_days, "horizon_days", minimum=1, whole=True)
    tables, tz, day, lifecycle = _unpack(data, as_of, ("accounts", "subscriptions") if labels_only else None)
    if day is None:
        raise ParameterError("as_of is required with a dict of tables (the last day of the data to use)")
    tables["subscriptions"] = tables["subscriptions"]  # read once: the dates and the preparation share it
    dates = [_day(s, "snapshot") for s in snapshots] if snapshots is not None else \
        _month_ends(tables["subscriptions"], tz, day)
    late = [str(d.date()) for d in dates if d > day]
    if late:
        raise ParameterError(f"snapshots after as_of {day.date()}: {', '.join(late[:3])}")
    prep = _Prepared(tables, tz, day, lifecycle)
    pers = _personas(personas)
    ev_code, ev_t = prep.churn_events(gap_days)
    parts = []
    for d in sorted(set(dates)):
        frame = prep.features(d, horizon_days, pers)
        c = _cutoff(d, tz)
        hit = (ev_t >= c) & (ev_t < c + horizon_days * _DAY)
        codes = prep.index.get_indexer(frame[ACCOUNT_ID])
        known = d + pd.Timedelta(days=horizon_days) <= day
        y = np.isin(codes, ev_code[hit]).astype(np.int8)
        frame[LABEL] = pd.array(y, dtype="Int8") if known else pd.array([pd.NA] * len(frame), dtype="Int8")
        frame[KNOWN] = known
        parts.append(frame)
    cols = [ACCOUNT_ID, SNAPSHOT, LABEL, KNOWN] if labels_only else \
        [ACCOUNT_ID, SNAPSHOT, *FEATURES, *prep.presale_names, *(["persona"] if pers is not None else []), LABEL, KNOWN]
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        return empty.astype({SNAPSHOT: "datetime64[ns]", LABEL: "Int8", KNOWN: bool})
    return pd.concat(parts, ignore_index=True)[cols]


def latest_snapshot(snapshots: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest snapshot (the accounts to score now)."""
    if snapshots.empty:
        return snapshots
    return snapshots[snapshots[SNAPSHOT] == snapshots[SNAPSHOT].max()].reset_index(drop=True)


def snapshot_summary(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Accounts, churners and churn rate per snapshot.

    Returns
    -------
    DataFrame with columns snapshot, accounts, churned (missing when unknown), churn_rate, outcome_known.
    """
    g = snapshots.groupby(SNAPSHOT, sort=True)
    out = pd.DataFrame({"accounts": g.size(), "churned": g[LABEL].sum(min_count=1), KNOWN: g[KNOWN].all()})
    out["churned"] = out["churned"].astype("Int64").where(out[KNOWN])
    out["churn_rate"] = (out["churned"].astype("Float64") / out["accounts"]).astype(float)
    return out.reset_index()[[SNAPSHOT, "accounts", "churned", "churn_rate", KNOWN]]


