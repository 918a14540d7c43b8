"""The churn-risk model: gradient boosting, logistic regression or the health score, calibrated.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_choice, check_days
from ..errors import ParameterError
from ..schema import ACCOUNT_ID
from .health import health_score

from .reasons import REASON_GROUPS
from .prepared import FEATURES, PRESALE_PREFIX, SNAPSHOT
from .snapshots import _CATEGORICAL, CALIBRATIONS, KNOWN, LABEL, _day, check_model

# =========================================================================== models
def model_features(snapshots: pd.DataFrame) -> list[str]:
    """The feature columns a model uses: :data:`FEATURES` present in the frame, and persona when given."""
    feats = [f for f in FEATURES if f in snapshots]
    feats += [c for c in snapshots.columns if c.startswith(PRESALE_PREFIX) and c not in FEATURES]
    if "persona" in snapshots and snapshots["persona"].notna().any():
        feats.append("persona")
    return feats


def _pipeline(kind: str, features: list[str], random_state: int):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [f for f in features if f in _CATEGORICAL]
    num = [f for f in features if f not in _CATEGORICAL]
    if kind == "logistic":
        prep = ColumnTransformer([
            ("num", Pipeline([
                ("impute", SimpleImputer(strategy=column_median, add_indicator=True, keep_empty_features=True)),
                ("scale", StandardScaler())]), num),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
        ])
        return Pipeline([("prep", prep), ("model", LogisticRegression(C=1.0, max_iter=5000))])
    # gradient boosting takes the numeric design of _design(): categories as integer codes
    return HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=200, max_depth=3, min_samples_leaf=40, l2_regularization=1.0,
        categorical_features=np.array([f in _CATEGORICAL for f in features]) if cat else None,
        early_stopping=True, validation_fraction=0.15, n_iter_no_change=25, random_state=random_state)


def column_median(values: np.ndarray) -> float:
    """The median of one column's known values, 0 when none is known: ``SimpleImputer(strategy="median",
    keep_empty_features=True)``'s statistic, computed a column at a time. The built-in strategy sorts a masked
    copy of the whole matrix (``np.ma.median``): a logistic fit at 100,000 accounts (720,700 snapshots) peaked
    at +1.23 GB and took 8.5 s with it, +0.89 GB and 5.8 s with this."""
    return float(np.median(values)) if len(values) else 0.0


def _threads(n: int | None):
    """Limit BLAS/OpenMP threads: at these sizes one thread is faster than several, and it
    is immune to oversubscription when other processes share the cores."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n) if n else nullcontext()


def _frame(snapshots: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Model input: categorical features as text ("(none)" when missing), the others as float."""
    return pd.DataFrame({f: _feature_values(snapshots, f).to_numpy() for f in features}, index=snapshots.index)


def _feature_values(snapshots: pd.DataFrame, feature: str, rows: "np.ndarray | None" = None) -> pd.Series:
    """One feature as the model takes it, at positions ``rows`` (default all): text ("(none)" when missing)
    for a categorical feature, float for the others."""
    if feature in _CATEGORICAL:
        v = snapshots[feature].to_numpy(dtype=object)
        v = v if rows is None else v[rows]
        return pd.Series(np.array(["(none)" if x is None or x != x else str(x) for x in v], dtype=object))
    v = pd.to_numeric(snapshots[feature], errors="coerce").to_numpy(dtype=float)
    return pd.Series(v if rows is None else v[rows])


def _typical(values: pd.Series) -> Any:
    """A feature's typical training value: the most common category, or the median (NaN when none is known)."""
    if not len(values) or not values.notna().any():
        return np.nan
    return float(values.median()) if values.dtype.kind == "f" else values.mode().iloc[0]


class ChurnModel:
    """A churn-risk model fitted on as-of snapshots.

    Parameters
    ----------
    model : {"gbm", "logistic", "health"}
        Gradient-boosted trees (``HistGradientBoostingClassifier``: depth 3, learning
        rate 0.05, up to 200 trees with early stopping on 15% of the rows, 40 rows per
        leaf at least; plan and persona as categories), a logistic regression on
        standardised features (missing values imputed by the median, with indicators;
        categories one-hot), or the rule-based health score mapped to a probability by
        a one-variable logistic fit. Shallow trees suit the data: churn hazards are
        close to additive on the log scale, and deeper trees over-fit the smaller sets.
    horizon_days : int
        The label's horizon (for messages and for the training window of ``before``).
    calibration : {"sigmoid", "isotonic", "none"}
        How probabilities are calibrated, with ``CalibratedClassifierCV(FrozenEstimator(model))``,
        on the latest training snapshots (held out from the model fit): as few as hold
        ``calibration_churners`` churners, at most half of the training snapshots. The
        latest snapshots are the closest to the ones scored, so this also corrects a
        drift of the churn rate.
    calibration_churners : int
    health_weights : dict, optional
        Weights of the health score (:mod:`journeylib.churn.health`).
    random_state : int
    n_threads : int or None
        BLAS/OpenMP threads while fitting and predicting (None: the libraries' default).

    Attributes
    ----------
    kind_ : str
        The model actually fitted; ``"health"`` when the data cannot train the chosen one.
    message_ : str or None
        Why the model fell back to the health score, or why it is not calibrated.
    features_ : list of str
    estimator_, calibrated_ : fitted scikit-learn estimators (``calibrated_`` None when not calibrated)
    calibration_snapshots_ : int
        Latest training snapshots held out for calibration (0 when not calibrated).
    train_rows_, train_churned_, train_snapshots_ : int
    base_rate_ : float
    reference_ : dict
        Typical training values (median, or the most common category) used for the reasons.
    """

    def __init__(self, model: str = "gbm", *, horizon_days: int = 90, calibration: str = "sigmoid",
                 calibration_churners: int = 50, health_weights: dict[str, float] | None = None,
                 random_state: int = 0, n_threads: int | None = 1):
        self.model = check_model(model)
        self.n_threads = n_threads
        self.horizon_days = check_days(horizon_days, "horizon_days", minimum=1, whole=True)
        self.calibration = check_choice(calibration, "calibration", CALIBRATIONS)
        self.calibration_churners = int(calibration_churners)
        self.health_weights = health_weights
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, snapshots: pd.DataFrame, *, before: Any = None) -> "ChurnModel":
        """Fit on the snapshots whose outcome is known (by ``before`` when given).

        Parameters
        ----------
        snapshots : DataFrame
            From :func:`build_snapshots`.
        before : date, optional
            Use only snapshots ``s`` with ``s + horizon_days <= before`` (their outcome
            was known at ``before``): the training set of a backtest at ``before``.
        """
        _check_snapshots(snapshots)
        # positions of the training rows: the frame's rows are not copied, the design takes them column by column
        usable = snapshots[KNOWN].astype(bool).to_numpy()
        if before is not None:
            limit = _day(before, "before") - pd.Timedelta(days=self.horizon_days)
            usable &= (snapshots[SNAPSHOT] <= limit).to_numpy()
        rows = np.flatnonzero(usable)
        self.features_ = model_features(snapshots)
        y = snapshots[LABEL].iloc[rows].astype(int).to_numpy()
        at = snapshots[SNAPSHOT].to_numpy()[rows]
        self.train_rows_ = int(len(rows))
        self.train_churned_ = int(y.sum())
        self.train_snapshots_ = int(pd.unique(at).size)
        self.base_rate_ = self.train_churned_ / self.train_rows_ if self.train_rows_ else float("nan")
        self.message_ = None
        self.estimator_ = self.calibrated_ = None
        self.calibration_snapshots_ = 0
        self._health_map = None
        self.reference_ = {f: _typical(_feature_values(snapshots, f, rows)) for f in self.features_}
        h = self.horizon_days
        if self.train_rows_ == 0:
            self.message_ = (f"no snapshot has a known {h}-day outcome yet (the history is shorter than the horizon "
                             "or too few snapshots): the model cannot be trained; accounts are ranked by the health "
                             "score only")
        elif self.train_churned_ == 0 or self.train_churned_ == self.train_rows_:
            what = "no account churned" if self.train_churned_ == 0 else "every account churned"
            self.message_ = (f"a single class in the training snapshots ({self.train_rows_:,} account-snapshots, "
                             f"{what} within {h} days): the model cannot be trained; accounts are ranked by the "
                             "health score only")
        if self.message_ is not None:
            self.kind_ = "health"
            return self
        self.kind_ = self.model
        if self.model == "health":
            self._fit_health(snapshots.iloc[rows], y)
            return self
        snaps, snap_code = np.unique(at, return_inverse=True)
        fit_rows = np.ones(len(rows), dtype=bool)
        if self.calibration != "none":
            per_snap = np.bincount(snap_code, weights=y, minlength=len(snaps)).astype(int)
            reached = np.flatnonzero(np.cumsum(per_snap[::-1]) >= self.calibration_churners)
            k = int(reached[0]) + 1 if reached.size else len(snaps)
            if len(snaps) >= 2 and k <= len(snaps) // 2:
                cal = snap_code >= len(snaps) - k
                yc, yf = y[cal], y[~cal]
                if len(yc) - yc.sum() >= 5 and 0 < yf.sum() < len(yf):
                    fit_rows = ~cal
                    self.calibration_snapshots_ = k
            if fit_rows.all():
                self.message_ = (f"not calibrated: {self.train_churned_} churners in {len(snaps)} training snapshots; "
                                 f"calibration holds out the latest snapshots with {self.calibration_churners} "
                                 "churners, at most half of them")
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        # at most 250 categories (the most common) per categorical feature: the trees' limit
        self.categories_ = {f: sorted(_feature_values(snapshots, f, rows).value_counts().index[:250])
                            for f in self.features_ if f in _CATEGORICAL}
        # the design's rows: the model's rows, then the calibration's, each in the frame's order (so that each
        # fit sees the rows it saw as a boolean selection, and takes them as a slice, not a copy)
        n_fit = int(fit_rows.sum())
        D = self._design(snapshots, np.concatenate([rows[fit_rows], rows[~fit_rows]]))
        y = np.concatenate([y[fit_rows], y[~fit_rows]])
        with _threads(self.n_threads):
            self.estimator_ = _pipeline(self.model, self.features_, self.random_state)
            if self.model == "gbm" and (n_fit < 2000 or y[:n_fit].sum() < 50):
                # too few rows for a validation split: a fixed, shorter boosting run
                self.estimator_.set_params(early_stopping=False, max_iter=100)
            self.estimator_.fit(D[:n_fit], y[:n_fit])
            if n_fit < len(y):
                self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(self.estimator_), method=self.calibration)
                self.calibrated_.fit(D[n_fit:], y[n_fit:])
        return self

    def _encode(self, X: pd.DataFrame):
        """The design the estimator takes of a model frame (:func:`_frame`): the frame itself (logistic), or its
        float matrix with category codes (gbm; a model frame's values are already the model's)."""
        return X if self.model != "gbm" else self._design(X)

    def _design(self, snapshots: pd.DataFrame, rows: "np.ndarray | None" = None):
        """The design of ``snapshots`` (at positions ``rows``, default all): a frame (logistic), or a float
        matrix (gbm) filled a column at a time, without a model frame of every feature first."""
        if self.model != "gbm":
            return _frame(snapshots if rows is None else snapshots.iloc[rows], self.features_)
        D = np.empty((len(snapshots) if rows is None else len(rows), len(self.features_)))
        for j, f in enumerate(self.features_):
            D[:, j] = self._encoded(f, _feature_values(snapshots, f, rows))
        return D

    def _encoded(self, feature: str, values: pd.Series) -> np.ndarray:
        """A feature's column of the gbm design: a category's code (NaN when not among the model's), or the value."""
        if feature not in _CATEGORICAL:
            return values.to_numpy(dtype=float)
        codes = pd.Categorical(values.to_numpy(dtype=object), categories=self.categories_[feature]).codes
        return np.where(codes >= 0, codes, np.nan)

    def _proba(self, D) -> np.ndarray:
        """Probabilities from a design (call inside ``_threads``)."""
        est = self.calibrated_ if self.calibrated_ is not None else self.estimator_
        return est.predict_proba(D)[:, 1]

    def _rescored(self, D, changed_design, features: Sequence[str], base: np.ndarray) -> np.ndarray:
        """Probabilities of ``changed_design`` (``D`` with ``features`` changed), given ``base``, those of ``D``
        (call inside ``_threads``). Trees score each row alone: only the rows the change touched are scored
        again, with the same numbers as scoring them all."""
        if not isinstance(D, np.ndarray):
            return self._proba(changed_design)
        cols = [self.features_.index(f) for f in features]
        before, after = D[:, cols], changed_design[:, cols]
        changed = ~((before == after) | (np.isnan(before) & np.isnan(after))).all(axis=1)
        p = base.copy()
        if changed.any():
            p[changed] = self._proba(changed_design[changed])
        return p

    def _with_values(self, D, features: Sequence[str], values: Mapping[str, Any]):
        """A copy of a design with ``features`` set to ``values`` (arrays or scalars, as in the frame)."""
        if isinstance(D, pd.DataFrame):
            return D.assign(**{f: values[f] for f in features})
        D2 = D.copy()
        for f in features:
            j = self.features_.index(f)
            v = values[f]
            if f in _CATEGORICAL:
                cats = self.categories_[f]
                v = np.asarray(v, dtype=object) if np.ndim(v) else np.array([v], dtype=object)
                codes = pd.Categorical(v, categories=cats).codes.astype(float)
                codes[codes < 0] = np.nan
                v = codes if codes.size == len(D2) else codes[0]
            D2[:, j] = v
        return D2

    def _fit_health(self, known: pd.DataFrame, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        risk = (100 - health_score(known, weights=self.health_weights)["health"].to_numpy()).reshape(-1, 1)
        ok = np.isfinite(risk[:, 0])
        if ok.sum() and len(np.unique(y[ok])) == 2:
            self._health_map = LogisticRegression(C=1e6, max_iter=1000).fit(risk[ok], y[ok])

    @property
    def fitted_(self) -> bool:
        """True when a model (not the fallback) produces the probabilities."""
        return self.kind_ != "health" or self._health_map is not None

    # ------------------------------------------------------------------ predict
    def predict_proba(self, snapshots: pd.DataFrame) -> np.ndarray:
        """Probability of churning within the horizon, per row (NaN when the model could not be trained)."""
        if self.kind_ == "health":
            if self._health_map is None:
                return np.full(len(snapshots), np.nan)
            risk = 100 - health_score(snapshots, weights=self.health_weights)["health"].to_numpy()
            out = np.full(len(snapshots), np.nan)
            ok = np.isfinite(risk)
            if ok.any():
                out[ok] = self._health_map.predict_proba(risk[ok].reshape(-1, 1))[:, 1]
            return out
        D = self._design(snapshots)
        with _threads(self.n_threads):
            return self._proba(D)

    def risk_score(self, snapshots: pd.DataFrame) -> np.ndarray:
        """The ranking score: the probability, or ``1 - health / 100`` when there is no probability."""
        p = self.predict_proba(snapshots)
        if np.isnan(p).all():
            return 1 - health_score(snapshots, weights=self.health_weights)["health"].to_numpy() / 100
        return p

    def reasons(self, snapshots: pd.DataFrame, top: int = 3, min_effect: float = 0.002) -> pd.DataFrame:
        """Each account's top reasons, in plain words ("seat use fell 40% in 60 days").

        A reason group's effect is how much the predicted probability drops when the
        group's features are set to their typical training values (``reference_``);
        the ``top`` groups with the largest positive effect (at least ``min_effect``)
        are worded from the account's own values.

        Returns
        -------
        DataFrame with columns account_id, reason_1 .. reason_{top} (empty string when
        fewer), top_reasons ("; "-joined).
        """
        n = len(snapshots)
        cols = [f"reason_{i + 1}" for i in range(top)]
        out = pd.DataFrame({ACCOUNT_ID: snapshots[ACCOUNT_ID].to_numpy()})
        if n == 0 or self.kind_ == "health":
            texts = self._health_reasons(snapshots, top) if n else []
            for r, c in enumerate(cols):
                out[c] = [t[r] for t in texts]
            out["top_reasons"] = ["; ".join(x for x in t if x) for t in texts]
            return out
        D = self._design(snapshots)
        groups = [(g, [f for f in self.features_ if f in feats or (PRESALE_PREFIX in feats and
                                                                   f.startswith(PRESALE_PREFIX))])
                  for g, (feats, _) in REASON_GROUPS.items()]
        groups = [(g, fs) for g, fs in groups if fs]
        effects = np.zeros((n, len(groups)))
        with _threads(self.n_threads):
            base = self._proba(D)
            for j, (_, fs) in enumerate(groups):
                effects[:, j] = base - self._rescored(D, self._with_values(D, fs, self.reference_), fs, base)
        order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
        rows = snapshots.reset_index(drop=True)
        texts = [[""] * top for _ in range(n)]
        for i in range(n):
            row = rows.iloc[i]
            for r, j in enumerate(order[i]):
                if effects[i, j] >= min_effect:
                    texts[i][r] = REASON_GROUPS[groups[j][0]][1](row)
        for r, c in enumerate(cols):
            out[c] = [t[r] for t in texts]
        out["top_reasons"] = ["; ".join(x for x in t if x) for t in texts]
        return out

    def _health_reasons(self, snapshots: pd.DataFrame, top: int) -> list[list[str]]:
        """Without a model: the weakest health components below 50, in words."""
        comps = health_score(snapshots, weights=self.health_weights)
        names = ("usage", "adoption", "support", "sentiment", "engagement")
        out = []
        for row in comps[list(names)].itertuples(index=False):
            low = sorted((v, c) for v, c in zip(row, names) if pd.notna(v) and v < 50)[:top]
            words = [f"low {c} score ({v:.0f}/100)" for v, c in low]
            out.append(words + [""] * (top - len(words)))
        return out

    def score(self, snapshots: pd.DataFrame, *, reasons: bool = True, top: int = 3) -> pd.DataFrame:
        """Probability, risk rank and (optionally) reasons for every row.

        Returns
        -------
        DataFrame with columns account_id, snapshot, plan, mrr, probability, risk_score,
        risk_rank (1 = riskiest) and, with ``reasons``, reason_1..3 and top_reasons.
        """
        p = self.predict_proba(snapshots)
        risk = self.risk_score(snapshots)
        out = pd.DataFrame({ACCOUNT_ID: snapshots[ACCOUNT_ID].to_numpy(), SNAPSHOT: snapshots[SNAPSHOT].to_numpy(),
                            "plan": snapshots["plan"].to_numpy(), "mrr": snapshots["mrr"].to_numpy(dtype=float),
                            "probability": p, "risk_score": risk})
        out["risk_rank"] = out["risk_score"].rank(ascending=False, method="first", na_option="bottom").astype("int64")
        if reasons:
            r = self.reasons(snapshots, top=top)
            for c in r.columns[1:]:
                out[c] = r[c].to_numpy()
        return out


def _check_snapshots(snapshots: Any) -> None:
    need = {ACCOUNT_ID, SNAPSHOT, LABEL, KNOWN}
    if not isinstance(snapshots, pd.DataFrame) or not need <= set(snapshots.columns):
        got = list(snapshots.columns) if isinstance(snapshots, pd.DataFrame) else type(snapshots).__name__
        raise ParameterError(f"snapshots must come from churn.build_snapshots (columns {sorted(need)}); got {got}")


