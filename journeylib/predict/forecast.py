"""Per open deal: the probability to win, the expected close, and why; the quarter's expected wins.

**Win model.** A regularised logistic regression on month-end snapshots of the deals that were
open then (:func:`~journeylib.predict.deal_snapshots`): segment, stage, days in stage, age,
recent activity, contacts engaged, the economic buyer, visits so far, amount and the channels
touched. Only snapshots before the as-of date whose deal was decided by it train the model, so
a backtest as of a past month uses nothing known later. The **baseline** is the plain
historical win rate of the same snapshots per segment and stage (then per segment, then
overall where a cell has fewer than ``min_cell`` snapshots).

**Timing.** An open deal's expected days to decision and its chance to be decided within the
horizon come from its segment's Kaplan-Meier curve of days from creation to decision (open deals
censored), given the deal's age. The stage chain of :mod:`.chain` answers "how long from this
stage", but it forgets how long a deal has been open, and some deals close on a calendar: a
renewal is decided at the anniversary, 75 days after it opens in the sample. Measured on the
sample as of six past month ends (3 to 12 months back), deals decided within 90 days: renewals
56-141 each time, all that were open; the chain expected 72-75% of them, the age curve all;
new deals: the chain 0-5% under, the age curve 0-5% over. The quarter's wins are then a sum of
independent draws: decided (that chance) and won (the model's probability), so the interval
holds the luck of which deals close, not the uncertainty of the fitted models.

**Why.** Each deal's two largest model contributions (coefficient x standardised value) in
words, with its stage and days in it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from ..checks import check_int, check_number
from ..data import JourneyData
from ..errors import ParameterError
from .chain import HoldingTime
from .snapshots import NUMERIC_FEATURES, deal_snapshots

__all__ = ["month_ends", "WinModel", "fit_win_model", "baseline_rates", "deal_durations", "expected_days_left",
           "decision_probability", "backtest_metrics", "FEATURE_WORDS"]

#: How each numeric feature reads in a reason: (above the usual, below it).
FEATURE_WORDS = {
    "days_in_stage": ("a long time in its stage", "a short time in its stage"),
    "age_days": ("an old deal", "a young deal"),
    "touches_14d": ("active in the last 14 days", "little activity in the last 14 days"),
    "days_since_touch": ("no touch for a while", "a recent touch"),
    "contacts_engaged": ("many contacts engaged", "few contacts engaged"),
    "economic_buyer": ("the economic buyer engaged", "no economic buyer engaged"),
    "visits_so_far": ("many moves between stages", "few moves between stages"),
    "log_amount": ("a large amount", "a small amount"),
}


#: Counts and durations enter the model as log(1 + x): a week more matters early, not after a year.
LOGGED = ("days_in_stage", "age_days", "touches_14d", "days_since_touch", "contacts_engaged", "visits_so_far")


def _numeric(snapshots: pd.DataFrame) -> np.ndarray:
    values = snapshots[list(NUMERIC_FEATURES)].astype(float)
    for column in LOGGED:
        values[column] = np.log1p(values[column].clip(lower=0))
    return values.to_numpy(dtype=float)


def month_ends(first: pd.Timestamp, last: pd.Timestamp, tz: str) -> list[pd.Timestamp]:
    """The last instants (UTC) of the calendar months in ``tz`` that end after ``first`` and by ``last``."""
    local_first = first.tz_convert(tz).tz_localize(None)
    local_last = last.tz_convert(tz).tz_localize(None)
    ends = pd.date_range(local_first.normalize(), local_last, freq="ME")
    out = []
    for end in ends:
        instant = (end + pd.Timedelta(days=1)).tz_localize(tz, nonexistent="shift_forward", ambiguous=False) \
            .tz_convert("UTC") - pd.Timedelta(1)
        if first < instant <= last:
            out.append(instant)
    return out


class WinModel:
    """A fitted win model: design columns, scaler, logistic regression (see module docstring)."""

    def __init__(self, snapshots: pd.DataFrame, C: float = 1.0):
        self.segments = sorted(snapshots["segment"].astype(str).unique())
        self.states = sorted(snapshots["state"].astype(str).unique())
        self.channels = sorted({c for cs in snapshots["channels"] for c in cs})
        X = self._design(snapshots)
        self.mean = X.mean(axis=0)
        self.scale = X.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        y = snapshots["won"].to_numpy(dtype=float)
        if len(np.unique(y)) < 2:
            raise ParameterError("the win model needs won and lost deals among the training snapshots; "
                                 f"got {int(y.sum())} won of {len(y)}")
        self.model = LogisticRegression(C=C, max_iter=2000)
        self.model.fit((X - self.mean) / self.scale, y)
        self.n_train = len(y)

    @property
    def columns(self) -> list[str]:
        return ([f"segment={s}" for s in self.segments] + [f"state={s}" for s in self.states]
                + list(NUMERIC_FEATURES) + [f"channel={c}" for c in self.channels])

    def _design(self, snapshots: pd.DataFrame) -> np.ndarray:
        seg = snapshots["segment"].astype(str).to_numpy()
        state = snapshots["state"].astype(str).to_numpy()
        parts = [np.column_stack([seg == s for s in self.segments]) if self.segments else np.zeros((len(seg), 0)),
                 np.column_stack([state == s for s in self.states]) if self.states else np.zeros((len(seg), 0)),
                 _numeric(snapshots)]
        if self.channels:
            index = {c: j for j, c in enumerate(self.channels)}
            ch = np.zeros((len(snapshots), len(self.channels)))
            for i, cs in enumerate(snapshots["channels"]):
                for c in cs:
                    if c in index:
                        ch[i, index[c]] = 1.0
            parts.append(ch)
        return np.column_stack(parts).astype(float)

    def predict(self, snapshots: pd.DataFrame) -> np.ndarray:
        """Probability to win for each snapshot row."""
        if snapshots.empty:
            return np.zeros(0)
        return self.model.predict_proba((self._design(snapshots) - self.mean) / self.scale)[:, 1]

    def reasons(self, snapshots: pd.DataFrame, n: int = 2) -> list[str]:
        """The ``n`` numeric features that move each deal's odds most, in words."""
        if snapshots.empty:
            return []
        z = (self._design(snapshots) - self.mean) / self.scale
        first = len(self.segments) + len(self.states)
        numeric = slice(first, first + len(NUMERIC_FEATURES))
        contrib = z[:, numeric] * self.model.coef_[0][numeric]
        out = []
        for row, values in zip(contrib, z[:, numeric]):
            top = np.argsort(-np.abs(row), kind="stable")[:n]
            words = [f"{FEATURE_WORDS[NUMERIC_FEATURES[k]][0 if values[k] > 0 else 1]} "
                     f"({'raises' if row[k] > 0 else 'lowers'} the odds)" for k in top if abs(row[k]) > 0.05]
            out.append("; ".join(words))
        return out


def training_days(data: JourneyData, train_months: int) -> list[pd.Timestamp]:
    """The month ends of the ``train_months`` months before the data's cut-off (UTC instants)."""
    train_months = check_int(train_months, "train_months", minimum=1)
    first = data.cutoff - pd.DateOffset(months=train_months)
    return [d for d in month_ends(first, data.cutoff, data.tz) if d < data.cutoff]


def fit_win_model(data: JourneyData, visits: pd.DataFrame, *, train_months: int = 24, C: float = 1.0,
                  snapshots: pd.DataFrame | None = None) -> tuple[WinModel, pd.DataFrame]:
    """Fit the win model on month-end snapshots before the data's cut-off of deals decided by it.

    Parameters
    ----------
    data, visits, train_months, C
        As in :func:`~journeylib.predict.pipeline_outlook`.
    snapshots : DataFrame, optional
        :func:`deal_snapshots` of ``data`` and ``visits`` already taken on the training days
        (:func:`training_days`) and maybe others; only the training days' rows are used.

    Returns
    -------
    (WinModel, DataFrame)
        The model and its training snapshots.
    """
    train_months = check_int(train_months, "train_months", minimum=1)
    C = check_number(C, "C", minimum=0, low_open=True)
    days = training_days(data, train_months)
    if snapshots is None:
        train = deal_snapshots(data, visits, days)
    else:
        train = snapshots[snapshots["snapshot_at"].isin(days)]
    train = train[train["won"].notna()].reset_index(drop=True)
    if train.empty:
        raise ParameterError(f"no deal was open at a month end in the {train_months} months before "
                             f"{data.as_of.date()} and decided by then: nothing to learn the win model from")
    return WinModel(train, C=C), train


def baseline_rates(train: pd.DataFrame, rows: pd.DataFrame, *, min_cell: int = 20) -> np.ndarray:
    """The historical win rate of each row's segment and stage in ``train`` (module docstring)."""
    overall = float(train["won"].mean())
    by_seg = train.groupby("segment")["won"].agg(["mean", "size"])
    by_cell = train.groupby(["segment", "state"])["won"].agg(["mean", "size"])
    out = np.full(len(rows), overall)
    for i, (seg, state) in enumerate(zip(rows["segment"], rows["state"])):
        if (seg, state) in by_cell.index and by_cell.loc[(seg, state), "size"] >= min_cell:
            out[i] = by_cell.loc[(seg, state), "mean"]
        elif seg in by_seg.index and by_seg.loc[seg, "size"] >= min_cell:
            out[i] = by_seg.loc[seg, "mean"]
    return out


def deal_durations(visits: pd.DataFrame) -> dict[str, HoldingTime]:
    """Per segment, the Kaplan-Meier curve of days from a deal's creation to its decision (open deals censored)."""
    deals = visits.attrs["deals"]
    cutoff = visits.attrs["cutoff"]
    days = (deals["closed_at"].fillna(cutoff) - deals["created_at"]) / pd.Timedelta(days=1)
    decided = deals["closed_at"].notna().to_numpy()
    return {seg: HoldingTime(days[m].to_numpy(), decided[m]) for seg in sorted(deals["segment"].unique())
            for m in [(deals["segment"] == seg).to_numpy()]}


def expected_days_left(visits: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Expected days to decision of each open deal, given its age (``rows``: ``segment``, ``age_days``).

    The mean rest of its segment's creation-to-decision curve beyond the deal's age; 0 when the
    deal is older than any decided deal of its segment.
    """
    curves = deal_durations(visits)
    out = np.full(len(rows), np.nan)
    for seg, curve in curves.items():
        m = (rows["segment"] == seg).to_numpy()
        if m.any():
            out[m] = curve.residual_mean(rows.loc[m, "age_days"].to_numpy(dtype=float))
    return out


def decision_probability(visits: pd.DataFrame, rows: pd.DataFrame, horizon_days: float) -> np.ndarray:
    """The chance each open deal is decided within ``horizon_days``, given its age: 1 - S(age + h) / S(age)."""
    horizon = check_number(horizon_days, "horizon_days", minimum=0, low_open=True)
    curves = deal_durations(visits)
    out = np.full(len(rows), np.nan)
    for seg, curve in curves.items():
        m = (rows["segment"] == seg).to_numpy()
        if m.any():
            age = rows.loc[m, "age_days"].to_numpy(dtype=float)
            now, later = curve.survival_at(age), curve.survival_at(age + horizon)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[m] = np.where(now > 0, 1.0 - later / now, 1.0)
    return out


def backtest_metrics(won: np.ndarray, predictions: dict[str, np.ndarray], *, bins: int = 5) -> tuple[
        pd.DataFrame, pd.DataFrame]:
    """AUC, Brier score and calibration of each prediction against outcomes.

    Returns
    -------
    (DataFrame, DataFrame)
        ``model``, ``deals``, ``won``, ``auc``, ``brier``; and calibration: ``model``, ``bin``,
        ``deals``, ``predicted`` (mean), ``observed`` (win rate), bins of equal counts.
    """
    rows, cal = [], []
    for name, p in predictions.items():
        auc = roc_auc_score(won, p) if len(np.unique(won)) == 2 else np.nan
        rows.append({"model": name, "deals": len(won), "won": int(np.sum(won)), "auc": auc,
                     "brier": brier_score_loss(won, p) if len(won) else np.nan})
        order = np.argsort(p, kind="stable")
        for b, part in enumerate(np.array_split(order, min(bins, max(len(order), 1)))):
            if len(part):
                cal.append({"model": name, "bin": b + 1, "deals": len(part), "predicted": float(p[part].mean()),
                            "observed": float(np.mean(won[part]))})
    return pd.DataFrame(rows), pd.DataFrame(cal, columns=["model", "bin", "deals", "predicted", "observed"])

