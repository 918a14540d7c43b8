"""Personas: clustering of account features, rule-based personas, profiles, outcomes, journeys.

The features come from :func:`journeylib.features.account_features` (one row per
account, as of a date). :class:`PersonaModel` clusters them:

* a scikit-learn pipeline transforms the chosen columns (one-hot encoding for
  categories, ``log1p`` for counts and days, log-odds for shares) and scales them;
* a Gaussian mixture (``method="gmm"``, diagonal covariances) or k-means is fitted
  on the accounts of the fit population (default: accounts with a new-business
  opportunity, i.e. a buying journey) whose chosen features are all observed;
* every account is then placed by the features it has: its most probable
  component under the mixture's marginal density of the observed features (exact
  for diagonal covariances), or the nearest centroid over the observed features.
  So a prospect without product usage is placed by its firmographics, committee,
  engagement and sales cycle; an account with no feature at all stays unassigned.
* accounts with a missing feature are early in their journey and differ from the
  fit population on the features they share with it (a journey without sales calls
  has a larger paid share); so by default (``refit_partial``) the mixture's weights,
  means and variances are re-estimated on them by EM over their observed features,
  starting from the fitted mixture, and they are placed by that refitted mixture
  (accounts with every feature keep the fitted one).

``k`` is chosen from a range by the BIC of the mixture (observed-data likelihood
of the fit population) or by the silhouette (on the fully observed accounts);
both are reported side by side in ``k_scores_``. Stability is the mean adjusted
Rand index between the fitted partition and refits on bootstrap resamples.

Rule-based personas (:func:`apply_rules`) name segments by simple firmographic
rules from a YAML file; overlaps and unmatched accounts are reported.

Persona profiles (:func:`persona_traits`), outcomes (:func:`persona_outcomes`), the
average journey (:func:`persona_paths`, :func:`persona_stage_times`) and the
buying-committee roles per stage (:func:`committee_engagement`) describe any
assignment of accounts to personas (clustered or rule-based).

Examples
--------
>>> import journeylib
>>> from journeylib import features, segments
>>> data = journeylib.load(None, as_of="2026-10-31")  # doctest: +SKIP
>>> feats = features.account_features(data)  # doctest: +SKIP
>>> model = segments.PersonaModel(k=5).fit(feats)  # doctest: +SKIP
>>> model.profiles_  # doctest: +SKIP
"""
from __future__ import annotations

import ast
import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import JourneyWarning, ParameterError, did_you_mean
from .features import FEATURE_GROUPS, FEATURES, account_features, cutoff_of, feature_info, tables_as_of
from .schema import ACCOUNT_ID, CONTACT_ID, STAGE, TIMESTAMP

__all__ = [
    "PersonaWarning", "PersonaModel", "DEFAULT_GROUPS", "CLUSTER_FEATURES", "DEFAULT_RULES_FILE", "METHODS",
    "FIT_POPULATIONS", "cluster_columns", "parse_groups", "persona_traits", "persona_outcomes", "persona_paths",
    "persona_stage_times", "committee_engagement", "load_rules", "apply_rules", "rule_summary", "load_or_fit",
    "MODEL_FILE", "MODEL_INFO_FILE", "account_features", "persona_sizes", "UNASSIGNED",
]

#: The core clustering columns of each feature group: few, continuous, roughly Gaussian after their
#: transform, so that no group outweighs the others and no one-hot or zero-inflated column splits a persona.
CLUSTER_FEATURES: dict[str, tuple[str, ...]] = {
    "firmographics": ("employees",),
    "committee": ("contacts_engaged",),
    "engagement": ("paid_share", "self_guided_share"),
    "sales": ("sales_cycle_days",),
    "usage": ("events_per_active_user", "seat_utilisation"),
    "support": ("tickets_per_month",),
    "surveys": ("nps_mean",),
}
#: Groups clustered by default (support adds little beyond usage and surveys on the sample data).
DEFAULT_GROUPS: tuple[str, ...] = ("firmographics", "committee", "engagement", "sales", "usage", "surveys")
METHODS = ("gmm", "kmeans")
FIT_POPULATIONS = ("opportunity", "all")
DEFAULT_RULES_FILE = Path(__file__).with_name("personas_rules.yml")  # beside default_stages.yml (presets/ holds mappings)
MODEL_FILE = "personas.joblib"
MODEL_INFO_FILE = "personas.json"
UNASSIGNED = "unassigned"
_SHARE_EPS = 0.005  # log-odds guard for shares of exactly 0 or 1: log((s + eps) / (1 - s + eps))


class PersonaWarning(JourneyWarning):
    """Something about the personas worth knowing: dropped constant features, unassigned accounts."""


# --------------------------------------------------------------------------- choosing columns
def parse_groups(groups: "str | Sequence[str] | None") -> list[str]:
    """Feature group names from a list or a comma-separated string (clear error for an unknown one)."""
    if groups is None:
        return list(DEFAULT_GROUPS)
    items = [g.strip() for g in groups.split(",")] if isinstance(groups, str) else [str(g).strip() for g in groups]
    items = [g for g in items if g]
    if not items:
        raise ParameterError(f"feature_groups is empty; choose from: {', '.join(FEATURE_GROUPS)}")
    for g in items:
        if g not in FEATURE_GROUPS:
            raise ParameterError(f"unknown feature group '{g}'{did_you_mean(g, FEATURE_GROUPS)}; "
                                 f"groups: {', '.join(FEATURE_GROUPS)}")
    return list(dict.fromkeys(items))


def cluster_columns(groups: "str | Sequence[str] | None" = None) -> list[str]:
    """The clustering columns of the chosen feature groups (``CLUSTER_FEATURES``)."""
    return [c for g in parse_groups(groups) for c in CLUSTER_FEATURES[g]]


def _logodds(x):
    x = np.asarray(x, dtype=float)
    return np.log((x + _SHARE_EPS) / (1.0 - x + _SHARE_EPS))


def _build_transformer(columns: list[str]):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    kinds = {c: feature_info(c).kind for c in columns}
    parts = []
    logs = [c for c in columns if kinds[c] in ("count", "days")]
    shares = [c for c in columns if kinds[c] == "share"]
    plain = [c for c in columns if kinds[c] in ("ratio", "score", "flag")]
    cats = [c for c in columns if kinds[c] == "category"]
    if logs:
        parts.append(("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one"), logs))
    if shares:
        parts.append(("logodds", FunctionTransformer(_logodds, feature_names_out="one-to-one"), shares))
    if plain:
        parts.append(("plain", "passthrough", plain))
    if cats:
        parts.append(("onehot", Pipeline([
            ("missing", SimpleImputer(strategy="constant", fill_value="(missing)", missing_values=None)),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), cats))
    return Pipeline([("encode", ColumnTransformer(parts, verbose_feature_names_out=False)),
                     ("scale", StandardScaler())])


# --------------------------------------------------------------------------- the model
def _check_features(features: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise ParameterError(f"features must be a DataFrame from account_features(); got {type(features).__name__}")
    if ACCOUNT_ID not in features:
        raise ParameterError(f"features have no '{ACCOUNT_ID}' column; columns: {', '.join(map(str, features.columns))}")
    if features[ACCOUNT_ID].duplicated().any():
        dup = features.loc[features[ACCOUNT_ID].duplicated(), ACCOUNT_ID].iloc[0]
        raise ParameterError(f"features hold account '{dup}' more than once; give one row per account")
    return features.reset_index(drop=True)


def _refit_diag(means: np.ndarray, variances: np.ndarray, weights: np.ndarray, Z: np.ndarray, reg_covar: float,
                max_iter: int = 200, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EM of a diagonal Gaussian mixture on rows with missing values (NaN), from the given parameters.

    Each row contributes to the mean and variance of the features it has; a feature nobody
    has keeps its starting value. ``reg_covar`` is added to every variance, as in the fit.
    """
    from scipy.special import logsumexp

    obs = ~np.isnan(Z)
    X, O = np.where(obs, Z, 0.0), obs.astype(float)
    last = -np.inf
    for _ in range(max_iter):
        s = _diag_loglik(means, variances, weights, Z)
        norm = logsumexp(s, axis=1, keepdims=True)
        r = np.exp(s - norm)
        n_obs, sx, sxx = r.T @ O, r.T @ X, r.T @ X ** 2
        seen = n_obs > 1e-9
        mu = np.where(seen, sx / np.where(seen, n_obs, 1.0), means)
        var = np.where(seen, (sxx - 2 * mu * sx + mu ** 2 * n_obs) / np.where(seen, n_obs, 1.0) + reg_covar, variances)
        means, variances = mu, np.maximum(var, reg_covar)
        weights = np.maximum(r.sum(axis=0) / len(Z), 1e-10)
        weights = weights / weights.sum()
        ll = float(norm.mean())
        if ll - last < tol:
            break
        last = ll
    return means, variances, weights


def _diag_loglik(means: np.ndarray, variances: np.ndarray, weights: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """log(w_k) + log N(observed part of z; mu_k, diag var_k) for every row and component (missing = NaN)."""
    obs = ~np.isnan(Z)
    X = np.where(obs, Z, 0.0)
    O = obs.astype(float)
    return (np.log(weights)[None, :] - 0.5 * (O @ np.log(2 * np.pi * variances).T)
            - 0.5 * ((X ** 2) @ (1.0 / variances).T - 2.0 * X @ (means / variances).T + O @ (means ** 2 / variances).T))


class PersonaModel:
    """Personas by clustering account features.

    Parameters
    ----------
    k : int or "auto", default "auto"
        Number of personas; "auto" chooses it from ``k_range`` by ``criterion``.
    feature_groups : str or list of str, optional
        Feature groups to cluster on (their ``CLUSTER_FEATURES``); default ``DEFAULT_GROUPS``.
        A comma-separated string is accepted (notebook parameters).
    columns : list of str, optional
        Explicit feature columns instead of groups (any column of ``account_features``).
    method : {"gmm", "kmeans"}
        Gaussian mixture with diagonal covariances, or k-means.
    k_range : (int, int)
        Smallest and largest k tried by "auto" (and shown in ``k_scores_``).
    criterion : {"bic", "silhouette"}
        How "auto" chooses k: the lowest BIC, or the highest silhouette.
    fit_on : {"opportunity", "all"}
        The fit population: accounts with a new-business opportunity (default; accounts
        without one are placed afterwards), or all accounts.
    random_state : int
        Seed of every random step (initialisations, bootstrap).
    n_init : int
        Initialisations per fit (the best is kept).
    reg_covar : float
        Added to every component variance (standardised units): no persona is defined
        by a single value of a feature.
    n_bootstrap : int
        Bootstrap resamples for the stability ARI (0 skips it).
    refit_partial : bool, default True
        Re-estimate the mixture on the accounts with a missing clustering feature (EM from
        the fitted mixture) and place them by it; False places them by the fitted mixture.
        Only for ``method="gmm"``.

    Attributes
    ----------
    k_ : int
    columns_ : list of str
        The clustering columns used (constant ones dropped).
    labels_ : Series
        Persona id per account (index account_id; -1 = unassigned).
    personas_ : DataFrame
        account_id, persona_id, persona, probability, fitted (in the fit population).
    profiles_ : DataFrame
        persona_id, persona, accounts, share, traits, and the mean of every clustering column.
    names_ : dict
        persona id -> generated name.
    k_scores_ : DataFrame
        k, silhouette, bic, chosen.
    silhouette_, bic_ : float
        At the chosen k.
    stability_ : float
        Mean bootstrap ARI of the fitted mixture's partition of the fit population;
        ``stability_scores_`` holds each resample's.
    partial_ : SimpleNamespace or None
        means_, covariances_, weights_ of the mixture refitted on the accounts with a missing
        feature (None without ``refit_partial``, for k-means, or when every account is complete).
    notes_ : list of str
        What was dropped or skipped, in words.
    """

    def __init__(self, k: "int | str" = "auto", *, feature_groups: "str | Sequence[str] | None" = None,
                 columns: Sequence[str] | None = None, method: str = "gmm", k_range: tuple[int, int] = (2, 8),
                 criterion: str = "bic", fit_on: str = "opportunity", random_state: int = 0, n_init: int = 5,
                 reg_covar: float = 0.05, n_bootstrap: int = 20, refit_partial: bool = True):
        self.k = k
        self.feature_groups = feature_groups
        self.columns = columns
        self.method = method
        self.k_range = k_range
        self.criterion = criterion
        self.fit_on = fit_on
        self.random_state = random_state
        self.n_init = n_init
        self.reg_covar = reg_covar
        self.n_bootstrap = n_bootstrap
        self.refit_partial = refit_partial

    # -- parameters ---------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (what makes two models comparable)."""
        groups = self.feature_groups
        return {"k": self.k, "feature_groups": ",".join(parse_groups(groups)) if self.columns is None else None,
                "columns": list(self.columns) if self.columns is not None else None, "method": self.method,
                "k_range": list(self.k_range), "criterion": self.criterion, "fit_on": self.fit_on,
                "random_state": int(self.random_state), "n_init": int(self.n_init),
                "reg_covar": float(self.reg_covar), "n_bootstrap": int(self.n_bootstrap),
                "refit_partial": bool(self.refit_partial)}

    def _validate(self) -> None:
        if self.method not in METHODS:
            raise ParameterError(f"method '{self.method}' is unknown{did_you_mean(str(self.method), METHODS)}; "
                                 f"methods: {', '.join(METHODS)}")
        if self.criterion not in ("bic", "silhouette"):
            raise ParameterError(f"criterion '{self.criterion}' is unknown; use 'bic' or 'silhouette'")
        if self.fit_on not in FIT_POPULATIONS:
            raise ParameterError(f"fit_on '{self.fit_on}' is unknown{did_you_mean(str(self.fit_on), FIT_POPULATIONS)}"
                                 f"; choose from: {', '.join(FIT_POPULATIONS)}")
        if not (isinstance(self.k, str) and self.k == "auto") and \
                (isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1):
            raise ParameterError(f"k must be a positive integer or 'auto'; got {self.k!r}")
        lo, hi = self.k_range
        if not (1 <= int(lo) <= int(hi)):
            raise ParameterError(f"k_range must be (smallest, largest) with 1 <= smallest <= largest; got {self.k_range}")

    def _requested_columns(self, features: pd.DataFrame) -> list[str]:
        cols = list(self.columns) if self.columns is not None else cluster_columns(self.feature_groups)
        for c in cols:
            if c not in features:
                raise ParameterError(f"feature column '{c}' is not in the features{did_you_mean(c, features.columns)}; "
                                     f"columns: {', '.join(map(str, features.columns))}")
            feature_info(c)
        return cols

    # -- fitting ------------------------------------------------------------
    def _fit_one(self, Zc: np.ndarray, k: int, seed: int):
        from sklearn.cluster import KMeans
        from sklearn.mixture import GaussianMixture

        if self.method == "gmm":
            return GaussianMixture(k, covariance_type="diag", n_init=self.n_init, reg_covar=self.reg_covar,
                                   random_state=seed).fit(Zc)
        return KMeans(k, n_init=self.n_init, random_state=seed).fit(Zc)

    @staticmethod
    def _scores(est, Z: np.ndarray) -> np.ndarray:
        """Per row and cluster: log posterior (up to a row constant) of its observed features."""
        if hasattr(est, "means_"):
            return _diag_loglik(est.means_, est.covariances_, est.weights_, Z)
        obs = ~np.isnan(Z)
        diff = np.where(obs[:, None, :], Z[:, None, :] - est.cluster_centers_[None, :, :], 0.0)
        return -0.5 * (diff ** 2).sum(axis=2)

    def _predict(self, est, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self._scores(est, Z)
        labels = s.argmax(axis=1)
        if hasattr(est, "means_"):
            p = np.exp(s - s.max(axis=1, keepdims=True))
            prob = (p / p.sum(axis=1, keepdims=True)).max(axis=1)
        else:
            prob = np.ones(len(Z))
        none = np.isnan(Z).all(axis=1)
        labels = np.where(none, -1, labels)
        return labels, np.where(none, np.nan, prob)

    def _place(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels and probabilities: the fitted mixture for complete rows, ``partial_`` for the others."""
        labels, prob = self._predict(self.estimator_, Z)
        part = np.isnan(Z).any(axis=1)
        if getattr(self, "partial_", None) is not None and part.any():
            labels[part], prob[part] = self._predict(self.partial_, Z[part])
        return labels, prob

    def _bic(self, Zfit: np.ndarray, k: int, seed: int, Zc: np.ndarray, est=None) -> float:
        """BIC of a diagonal Gaussian mixture from the observed-data likelihood of the fit population."""
        from scipy.special import logsumexp
        from sklearn.mixture import GaussianMixture

        gm = est if est is not None and hasattr(est, "means_") else GaussianMixture(
            k, covariance_type="diag", n_init=self.n_init, reg_covar=self.reg_covar, random_state=seed).fit(Zc)
        rows = ~np.isnan(Zfit).all(axis=1)
        ll = logsumexp(_diag_loglik(gm.means_, gm.covariances_, gm.weights_, Zfit[rows]), axis=1).sum()
        n_params = k * 2 * Zfit.shape[1] + k - 1
        return float(-2.0 * ll + n_params * np.log(rows.sum()))

    def _silhouette(self, Zc: np.ndarray, labels: np.ndarray, seed: int) -> float:
        from sklearn.metrics import silhouette_score

        if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(Zc):
            return float("nan")
        size = min(len(Zc), 3000)
        return float(silhouette_score(Zc, labels, sample_size=size if size < len(Zc) else None, random_state=seed))

    def fit(self, features: pd.DataFrame) -> "PersonaModel":
        """Fit the personas on ``features`` (from :func:`account_features`); returns self.

        Raises
        ------
        ParameterError
            Fewer accounts (with all clustering features observed) than k, no usable
            feature column, unknown groups or columns.
        """
        from sklearn.metrics import adjusted_rand_score

        self._validate()
        features = _check_features(features)
        cols = self._requested_columns(features)
        self.notes_: list[str] = list(features.attrs.get("notes", []))
        if self.fit_on == "opportunity" and "opportunities" in features and features["opportunities"].notna().any():
            in_fit = (features["opportunities"] > 0).to_numpy()
        else:
            if self.fit_on == "opportunity":
                self.notes_.append("no opportunities known: the personas are fitted on all accounts")
            in_fit = np.ones(len(features), dtype=bool)
        if in_fit.sum() < 2:
            raise ParameterError(f"personas need at least 2 accounts in the fit population ({self.fit_on}); "
                                 f"got {int(in_fit.sum())} of {len(features)} accounts")
        fitpop = features.loc[in_fit]
        usable, dropped = [], []
        for c in cols:
            values = fitpop[c]
            if values.notna().sum() == 0:
                dropped.append(f"{c} (no values)")
            elif values.dropna().nunique() < 2:
                value = values.dropna().iloc[0]
                dropped.append(f"{c} (constant: {value.item() if hasattr(value, 'item') else value!r})")
            else:
                usable.append(c)
        if dropped:
            msg = "clustering features dropped: " + ", ".join(dropped)
            self.notes_.append(msg)
            warnings.warn(msg, PersonaWarning, stacklevel=2)
        if not usable:
            raise ParameterError(f"no usable clustering feature among {', '.join(cols)}: every one is missing or "
                                 "constant in the fit population; choose other feature groups")
        self.columns_ = usable
        self.pipeline_ = _build_transformer(usable).fit(fitpop[usable])
        Z = self._transform(features)
        Zfit = Z[in_fit]
        complete = ~np.isnan(Zfit).any(axis=1)
        Zc = Zfit[complete]
        n_complete = int(complete.sum())
        lo, hi = (int(v) for v in self.k_range)
        if self.k == "auto":
            ks = [k for k in range(max(lo, 2), hi + 1) if k < n_complete]
            if not ks:
                raise ParameterError(f"choosing k needs more accounts with every clustering feature observed than "
                                     f"the k tried ({lo}..{hi}); got {n_complete}")
        else:
            ks = [int(self.k)]
            if n_complete < self.k:
                raise ParameterError(
                    f"k={self.k} personas need at least {self.k} accounts with every clustering feature "
                    f"({', '.join(usable)}) observed; got {n_complete} (of {len(features)} accounts). "
                    "Lower k or choose feature groups that more accounts have")
            ks = sorted({*ks, *[k for k in range(max(lo, 2), hi + 1) if k < n_complete]})
        rows, fitted = [], {}
        for k in ks:
            est = self._fit_one(Zc, k, self.random_state)
            labels_c = self._scores(est, Zc).argmax(axis=1)
            rows.append({"k": k, "silhouette": self._silhouette(Zc, labels_c, self.random_state),
                         "bic": self._bic(Zfit, k, self.random_state, Zc, est) if k < n_complete else float("nan")})
            fitted[k] = est
        scores = pd.DataFrame(rows, columns=["k", "silhouette", "bic"])
        if self.k == "auto":
            col, best = ("bic", scores["bic"].idxmin()) if self.criterion == "bic" else \
                ("silhouette", scores["silhouette"].idxmax())
            if pd.isna(best):
                raise ParameterError(f"cannot choose k by {col}: no k in {lo}..{hi} could be scored")
            self.k_ = int(scores.loc[best, "k"])
        else:
            self.k_ = int(self.k)
        scores["chosen"] = scores["k"] == self.k_
        self.k_scores_ = scores
        self.estimator_ = fitted[self.k_]
        labels, prob = self._predict(self.estimator_, Z)
        base = labels[in_fit]
        self.partial_ = None
        partial = np.isnan(Z).any(axis=1) & ~np.isnan(Z).all(axis=1)
        if self.refit_partial and hasattr(self.estimator_, "means_") and partial.sum() > self.k_:
            from types import SimpleNamespace

            est = self.estimator_
            mu, var, w = _refit_diag(est.means_, est.covariances_, est.weights_, Z[partial], self.reg_covar)
            self.partial_ = SimpleNamespace(means_=mu, covariances_=var, weights_=w)
            labels, prob = self._place(Z)
        row = scores.loc[scores["k"] == self.k_].iloc[0]
        self.silhouette_, self.bic_ = float(row["silhouette"]), float(row["bic"])

        # stability: refit on bootstrap resamples of the fit population, compare on the fit population
        rng = np.random.default_rng(self.random_state)
        stab = []
        for b in range(int(self.n_bootstrap)):
            idx = rng.integers(0, len(Zfit), len(Zfit))
            zb = Zfit[idx]
            zb = zb[~np.isnan(zb).any(axis=1)]
            if len(zb) < self.k_:
                continue
            est = self._fit_one(zb, self.k_, self.random_state + b + 1)
            stab.append(float(adjusted_rand_score(base, self._predict(est, Zfit)[0])))
        self.stability_scores_ = stab
        self.stability_ = float(np.mean(stab)) if stab else float("nan")

        self._set_assignments(features, labels, prob, in_fit)
        return self

    def _transform(self, features: pd.DataFrame) -> np.ndarray:
        frame = features[self.columns_].copy()
        for c in self.columns_:
            if feature_info(c).kind == "category":
                frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
            else:
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
        Z = np.asarray(self.pipeline_.transform(frame), dtype=float)
        return Z

    def _set_assignments(self, features: pd.DataFrame, labels: np.ndarray, prob: np.ndarray,
                         in_fit: np.ndarray) -> None:
        ids = features[ACCOUNT_ID].astype(str)
        traits = persona_traits(features, pd.Series(labels, index=ids.to_numpy()), columns=self.columns_)
        self.traits_ = traits
        self.names_ = _names(traits, self.k_)
        unassigned = int((labels < 0).sum())
        if unassigned:
            msg = (f"{unassigned} account(s) have none of the clustering features ({', '.join(self.columns_)}) "
                   "and are left unassigned")
            self.notes_.append(msg)
            warnings.warn(msg, PersonaWarning, stacklevel=3)
        self.labels_ = pd.Series(labels, index=pd.Index(ids, name=ACCOUNT_ID), name="persona_id")
        self.personas_ = pd.DataFrame({
            ACCOUNT_ID: ids.to_numpy(), "persona_id": labels.astype("int64"),
            "persona": [self.names_.get(int(x), UNASSIGNED) for x in labels],
            "probability": prob, "fitted": in_fit,
        })
        counts = self.personas_.loc[self.personas_["persona_id"] >= 0, "persona_id"].value_counts()
        means = features.assign(persona_id=labels).loc[labels >= 0].groupby("persona_id")[
            [c for c in self.columns_ if feature_info(c).kind != "category"]].mean()
        prof = pd.DataFrame({"persona_id": range(self.k_)})
        prof["persona"] = prof["persona_id"].map(self.names_)
        prof["accounts"] = prof["persona_id"].map(counts).fillna(0).astype("int64")
        prof["share"] = prof["accounts"] / max(int(counts.sum()), 1)
        top = (traits.loc[traits["phrase"] != ""].sort_values("std_diff", key=np.abs, ascending=False)
               .groupby("persona_id")["phrase"].apply(lambda s: "; ".join(s.head(3))))
        prof["traits"] = prof["persona_id"].map(top).fillna("")
        self.profiles_ = prof.merge(means.reset_index(), on="persona_id", how="left")

    # -- using the fitted model ---------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise ParameterError("this PersonaModel is not fitted yet; call fit(features) first")

    def assign(self, new_features: pd.DataFrame) -> pd.DataFrame:
        """Place accounts into the fitted personas.

        Returns
        -------
        DataFrame with columns account_id, persona_id (-1 = unassigned: none of the
        clustering features known), persona, probability.
        """
        self._check_fitted()
        new_features = _check_features(new_features)
        missing = [c for c in self.columns_ if c not in new_features]
        if missing:
            raise ParameterError(f"the new features lack the model's columns {missing}; compute them with "
                                 "account_features() as for the fit")
        if new_features.empty:
            return pd.DataFrame({ACCOUNT_ID: pd.Series(dtype=object), "persona_id": pd.Series(dtype="int64"),
                                 "persona": pd.Series(dtype=object), "probability": pd.Series(dtype=float)})
        labels, prob = self._place(self._transform(new_features))
        return pd.DataFrame({ACCOUNT_ID: new_features[ACCOUNT_ID].astype(str).to_numpy(),
                             "persona_id": labels.astype("int64"),
                             "persona": [self.names_.get(int(x), UNASSIGNED) for x in labels],
                             "probability": prob})

    def projection(self, features: pd.DataFrame, assigned: pd.DataFrame | None = None) -> pd.DataFrame:
        """A 2-D projection (PCA of the scaled clustering features) for the persona map.

        Missing features are filled with the mean of the account's persona (its component
        centre), so a prospect lies where its known features put it.

        Returns
        -------
        DataFrame with columns account_id, x, y, persona_id, persona (assigned accounts only);
        ``attrs["explained"]`` holds the two components' explained variance ratios.
        """
        from sklearn.decomposition import PCA

        self._check_fitted()
        features = _check_features(features)
        assigned = self.assign(features) if assigned is None else assigned
        keep = (assigned["persona_id"] >= 0).to_numpy()
        Z = self._transform(features)[keep]
        lab = assigned["persona_id"].to_numpy()[keep]
        centres = self.estimator_.means_ if hasattr(self.estimator_, "means_") else self.estimator_.cluster_centers_
        Z = np.where(np.isnan(Z), centres[lab], Z)
        n_comp = min(2, Z.shape[1], len(Z))
        xy = PCA(n_components=n_comp, random_state=self.random_state).fit(Z) if n_comp else None
        coords = xy.transform(Z) if xy is not None else np.zeros((len(Z), 0))
        if coords.shape[1] < 2:
            coords = np.column_stack([coords, np.zeros((len(Z), 2 - coords.shape[1]))])
        out = pd.DataFrame({ACCOUNT_ID: assigned[ACCOUNT_ID].to_numpy()[keep], "x": coords[:, 0], "y": coords[:, 1],
                            "persona_id": lab, "persona": assigned["persona"].to_numpy()[keep]})
        out.attrs["explained"] = [float(v) for v in (xy.explained_variance_ratio_ if xy is not None else [])]
        return out

    # -- persistence --------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """What identifies this fitted model: versions, columns, k, parameters."""
        import sklearn

        from . import __version__

        self._check_fitted()
        return {"journeylib": __version__, "sklearn": sklearn.__version__, "feature_columns": list(self.columns_),
                "k": self.k_, "random_state": int(self.random_state), "params": self.get_params(),
                "names": {str(k): v for k, v in self.names_.items()}, "accounts": int(len(self.labels_))}

    def save(self, folder: "str | Path") -> Path:
        """Save the model (joblib) and its identity (JSON) into ``folder``; returns the model file."""
        import joblib

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        joblib.dump(self, path)
        (folder / MODEL_INFO_FILE).write_text(json.dumps(self.info(), indent=2, sort_keys=True), encoding="utf-8")
        return path

    @staticmethod
    def compatibility(folder: "str | Path", params: Mapping[str, Any] | None = None) -> str | None:
        """Why the model saved in ``folder`` cannot be reused (None when it can).

        It can when both files exist, journeylib and scikit-learn versions equal the
        running ones, and (when given) the requested parameters equal the saved ones.
        """
        import sklearn

        from . import __version__

        folder = Path(folder)
        info_path, model_path = folder / MODEL_INFO_FILE, folder / MODEL_FILE
        if not info_path.exists() or not model_path.exists():
            return f"no saved persona model in {folder.name}/"
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return f"the saved model's {MODEL_INFO_FILE} is unreadable ({exc})"
        if info.get("journeylib") != __version__:
            return f"saved with journeylib {info.get('journeylib')}, running {__version__}"
        if info.get("sklearn") != sklearn.__version__:
            return f"saved with scikit-learn {info.get('sklearn')}, running {sklearn.__version__}"
        if params is not None:
            saved = info.get("params", {})
            diff = [k for k, v in params.items() if saved.get(k) != v]
            if diff:
                return "saved with other parameters: " + ", ".join(f"{k}={saved.get(k)!r} (now {params[k]!r})"
                                                                   for k in diff)
        return None

    @classmethod
    def load(cls, folder: "str | Path") -> "PersonaModel":
        """Load a saved model (clear error when it is missing or incompatible with this installation)."""
        import joblib

        reason = cls.compatibility(folder)
        if reason:
            raise ParameterError(f"cannot reuse the persona model: {reason}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sklearn's version warnings: versions are checked above
            model = joblib.load(Path(folder) / MODEL_FILE)
        if not isinstance(model, cls):
            raise ParameterError(f"{Path(folder) / MODEL_FILE} does not hold a PersonaModel")
        return model


def load_or_fit(features: pd.DataFrame, folder: "str | Path", *, refit: bool = False,
                **params: Any) -> tuple[PersonaModel, str]:
    """Reuse the persona model saved in ``folder`` when compatible, else fit and save one.

    Parameters
    ----------
    features : DataFrame
        From :func:`account_features` (used only when fitting).
    folder : path
        Where models are kept (``journeylib.review.models_dir(output_dir)`` in the review).
    refit : bool
        Fit anew even when a compatible model exists.
    **params
        :class:`PersonaModel` parameters.

    Returns
    -------
    (model, note): the model and one sentence saying whether it was reused or fitted, and why.
    """
    model = PersonaModel(**params)
    model._validate()
    wanted = model.get_params()
    if not refit:
        reason = PersonaModel.compatibility(folder, wanted)
        if reason is None:
            loaded = PersonaModel.load(folder)
            missing = [c for c in loaded.columns_ if c not in features]
            if not missing:
                return loaded, f"reused the persona model saved in {Path(folder).name}/ (k={loaded.k_})"
            reason = f"the saved model uses columns the features lack: {missing}"
        note = f"fitted a new persona model: {reason}"
    else:
        note = "fitted a new persona model: refit was asked for"
    model.fit(features)
    model.save(folder)
    return model, note


def persona_sizes(assigned: pd.DataFrame) -> pd.DataFrame:
    """Accounts per persona of an assignment (``assign()``, ``personas_`` or ``apply_rules()``).

    Returns
    -------
    DataFrame with columns persona_id, persona, accounts, share (of all accounts, the
    unassigned/unmatched ones included as their own row with persona_id -1 when present).
    """
    if not isinstance(assigned, pd.DataFrame) or not {"persona_id", "persona"} <= set(assigned.columns):
        raise ParameterError("assigned must be a DataFrame with persona_id and persona columns (from assign())")
    out = assigned.groupby(["persona_id", "persona"]).size().rename("accounts").reset_index()
    out["share"] = out["accounts"] / max(len(assigned), 1)
    out = out.sort_values("persona_id", key=lambda s: s.where(s >= 0, np.iinfo("int64").max), kind="stable")
    return out.astype({"accounts": "int64"}).reset_index(drop=True)


# --------------------------------------------------------------------------- profiles
def _as_labels(personas: "pd.DataFrame | pd.Series") -> pd.Series:
    """persona id (or name) per account_id from a Series or an assignment DataFrame."""
    if isinstance(personas, pd.Series):
        return personas
    if not isinstance(personas, pd.DataFrame) or ACCOUNT_ID not in personas:
        raise ParameterError("personas must be a Series indexed by account_id or a DataFrame with account_id and "
                             "persona_id (or persona) columns")
    col = "persona_id" if "persona_id" in personas else "persona"
    if col not in personas:
        raise ParameterError(f"personas have neither persona_id nor persona; columns: {', '.join(personas.columns)}")
    return personas.set_index(personas[ACCOUNT_ID].astype(str))[col]


def _transformed(values: pd.Series, kind: str) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    if kind in ("count", "days"):
        return np.log1p(v.clip(lower=0))
    if kind == "share":
        return pd.Series(_logodds(v.to_numpy()), index=v.index)
    return v


def persona_traits(features: pd.DataFrame, personas: "pd.DataFrame | pd.Series",
                   columns: Sequence[str] | None = None) -> pd.DataFrame:
    """What distinguishes each persona from all accounts.

    For numeric features: the persona's mean and the overall mean (raw scale) and
    the standardised difference on the clustering scale (``log1p`` for counts and days,
    log-odds for shares): ``(mean in persona - overall mean) / overall sd``. For
    categories and 0/1 flags: the share of the persona's accounts with the value and
    its lift (share in persona / share overall).

    Parameters
    ----------
    features : DataFrame from :func:`account_features`
    personas : Series (account_id -> persona id or name) or DataFrame with account_id and persona_id/persona
        Accounts with a negative id or ``"unassigned"`` are left out.
    columns : list of str, optional
        Features to describe; default every feature column.

    Returns
    -------
    DataFrame with columns persona_id, feature, group, value ("" for numbers, the category
    otherwise), mean, overall, std_diff, lift, phrase (a readable trait when
    |std_diff| >= 0.5 or lift >= 1.5, else "").
    """
    features = _check_features(features)
    labels = _as_labels(personas).reindex(features[ACCOUNT_ID].astype(str)).to_numpy()
    keep = pd.notna(labels) & ~np.isin(labels.astype(str), ["-1", UNASSIGNED])
    cols = [c for c in (columns if columns is not None else features.columns) if c != ACCOUNT_ID]
    feats = features.loc[keep].reset_index(drop=True)
    lab = pd.Series(labels[keep]).reset_index(drop=True)
    rows = []
    for c in cols:
        info = feature_info(c)
        if info.kind == "category":
            values = feats[c].astype(object).where(feats[c].notna(), None)
            overall = values.value_counts(normalize=True)
            for cat, share_all in overall.items():
                inside = (values == cat).groupby(lab).mean()
                for pid, share in inside.items():
                    lift = share / share_all if share_all > 0 else np.nan
                    rows.append({"persona_id": pid, "feature": c, "group": info.group, "value": str(cat), "mean": share,
                                 "overall": share_all, "std_diff": np.nan, "lift": lift,
                                 "phrase": f"{c} {cat}" if lift >= 1.5 and share >= 0.2 else ""})
            continue
        raw = pd.to_numeric(feats[c], errors="coerce").astype("float64")
        tr = _transformed(raw, info.kind)
        mu, sd = tr.mean(), tr.std(ddof=0)
        means, tmeans = raw.groupby(lab).mean(), tr.groupby(lab).mean()
        overall = raw.mean()
        for pid in means.index:
            d = (tmeans[pid] - mu) / sd if sd and sd > 0 and pd.notna(tmeans[pid]) else np.nan
            lift = means[pid] / overall if info.kind == "flag" and overall else np.nan
            phrase = ""
            if pd.notna(d) and abs(d) >= 0.5:
                phrase = info.high if d > 0 else info.low
            rows.append({"persona_id": pid, "feature": c, "group": info.group, "value": "", "mean": means[pid],
                         "overall": overall, "std_diff": d, "lift": lift, "phrase": phrase})
    out = pd.DataFrame(rows, columns=["persona_id", "feature", "group", "value", "mean", "overall", "std_diff",
                                      "lift", "phrase"])
    return out.sort_values(["persona_id", "feature", "value"], kind="stable").reset_index(drop=True)


def _names(traits: pd.DataFrame, k: int, threshold: float = 0.3) -> dict[int, str]:
    """A readable name per persona from its two strongest numeric traits (|std_diff| >= threshold),
    a third when two personas would share a name; "Typical accounts" when nothing stands out."""
    ranked = {}
    for pid in range(k):
        part = traits.loc[(traits["persona_id"] == pid) & traits["std_diff"].notna()
                          & (traits["std_diff"].abs() >= threshold)]
        part = part.reindex(part["std_diff"].abs().sort_values(ascending=False, kind="stable").index)
        phrases = [feature_info(f).high if d > 0 else feature_info(f).low for f, d in zip(part["feature"], part["std_diff"])]
        ranked[pid] = [p for p in dict.fromkeys(phrases) if p]
    names: dict[int, str] = {}
    for pid in range(k):
        for n in (2, 3, 4):
            words = ranked[pid][:n]
            name = ", ".join(words) if words else "typical accounts"
            name = name[:1].upper() + name[1:]
            if name not in names.values() or n >= len(ranked[pid]):
                break
        if name in names.values():
            name = f"{name} ({pid + 1})"
        names[pid] = name
    return names


# --------------------------------------------------------------------------- outcomes
def _tables(data: Any, as_of: Any) -> tuple[dict[str, pd.DataFrame | None], pd.Timestamp, Any]:
    from .features import _tables_and_cutoff

    tables, cutoff, lifecycle = _tables_and_cutoff(data, as_of)
    return tables_as_of(tables, cutoff), cutoff, lifecycle


def _assignment(personas: "pd.DataFrame | pd.Series") -> pd.DataFrame:
    if isinstance(personas, pd.DataFrame) and {ACCOUNT_ID, "persona_id", "persona"} <= set(personas.columns):
        out = personas[[ACCOUNT_ID, "persona_id", "persona"]].copy()
    else:
        lab = _as_labels(personas)
        out = pd.DataFrame({ACCOUNT_ID: lab.index.astype(str), "persona": lab.to_numpy().astype(str)})
        names = sorted(out["persona"].unique())
        out["persona_id"] = out["persona"].map({n: i for i, n in enumerate(names)})
    out[ACCOUNT_ID] = out[ACCOUNT_ID].astype(str)
    out = out.loc[(out["persona_id"] >= 0) & (out["persona"] != UNASSIGNED)]
    if out.empty:
        raise ParameterError("no account is assigned to a persona; nothing to describe")
    return out


def _active_mrr(subs: pd.DataFrame, at: pd.Timestamp) -> pd.Series:
    on = (subs["start_date"] <= at) & (subs["end_date"].isna() | (subs["end_date"] >= at))
    mrr = subs["mrr"] if "mrr" in subs else pd.Series(np.nan, index=subs.index)
    return mrr.where(on, 0.0).groupby(subs[ACCOUNT_ID].astype(str)).sum()


def persona_outcomes(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None, *,
                     value_share: float = 0.25) -> pd.DataFrame:
    """Commercial and product outcomes per persona, as of ``as_of``.

    Definitions (all from rows at or before as_of; later closes and ends are cut):

    * ``win_rate``: won / (won + lost) new-business opportunities closed by as_of.
    * ``sales_cycle_days``: median days from creation to close of the won ones.
    * ``time_to_value_days``: median days from a customer's first subscription start to
      its first usage week with active_users >= ceil(value_share x seats_purchased of
      that subscription), among the customers that reached it (not adjusted for the
      ones still on the way); ``value_reached`` is their share of customers with usage.
    * ``churn_rate``: customers (a subscription started by as_of) with no subscription
      active at as_of / customers.
    * ``expansion_rate``: customers with a won expansion opportunity / customers.
    * ``nrr``: MRR active at as_of / MRR active 365 days earlier, over the accounts
      with MRR then (net revenue retention; NaN when no account had MRR then).

    Parameters
    ----------
    data : JourneyData or dict of tables
    personas : DataFrame (account_id, persona_id, persona) or Series account_id -> persona
    as_of : date, optional (required for a dict of tables)

    Returns
    -------
    DataFrame with columns persona_id, persona, accounts, customers, won, lost, win_rate,
    sales_cycle_days, time_to_value_days, value_reached, churn_rate, expansion_rate, nrr;
    metrics whose table is absent are NaN and ``attrs["notes"]`` says so.
    """
    t, cutoff, _ = _tables(data, as_of)
    assign = _assignment(personas)
    pid = assign.set_index(ACCOUNT_ID)["persona_id"]
    names = assign.drop_duplicates("persona_id").set_index("persona_id")["persona"]
    out = pd.DataFrame({"persona_id": sorted(pid.unique())})
    out["persona"] = out["persona_id"].map(names)
    out["accounts"] = out["persona_id"].map(pid.value_counts()).astype("int64")
    notes: list[str] = []

    def per(series: pd.Series, how: str) -> pd.Series:
        frame = pd.DataFrame({"v": series.to_numpy(), "p": series.index.map(pid)}).dropna(subset=["p"])
        agg = frame.groupby("p")["v"].agg(how)
        return out["persona_id"].map(agg)

    opps = t.get("opportunities")
    if opps is not None:
        o = opps.assign(**{ACCOUNT_ID: opps[ACCOUNT_ID].astype(str)})
        new = o.loc[(o["type"].isna() | (o["type"] == "new"))] if "type" in o else o
        closed = new.loc[new["status"].isin(["won", "lost"])]
        won = closed.loc[closed["status"] == "won"]
        out["won"] = per((won["status"] == "won").set_axis(won[ACCOUNT_ID]), "sum").fillna(0).astype("int64")
        out["lost"] = per((closed["status"] == "lost").set_axis(closed[ACCOUNT_ID]), "sum").fillna(0).astype("int64")
        total = out["won"] + out["lost"]
        out["win_rate"] = (out["won"] / total).where(total > 0)
        days = (won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400.0
        out["sales_cycle_days"] = per(days.set_axis(won[ACCOUNT_ID]), "median")
    else:
        out["won"] = out["lost"] = 0
        out["win_rate"] = out["sales_cycle_days"] = np.nan
        notes.append("no opportunities table: win rate and sales cycle are missing")

    subs = t.get("subscriptions")
    if subs is not None and len(subs):
        s = subs.assign(**{ACCOUNT_ID: subs[ACCOUNT_ID].astype(str)})
        customers = pd.Index(s[ACCOUNT_ID].unique())
        out["customers"] = per(pd.Series(1, index=customers), "sum").fillna(0).astype("int64")
        active_now = _active_mrr(s.assign(mrr=1.0), cutoff) > 0
        churned = (~active_now).astype(float)
        out["churn_rate"] = per(churned, "mean")
        if opps is not None and "type" in opps:
            exp = o.loc[(o["type"] == "expansion") & (o["status"] == "won"), ACCOUNT_ID].unique()
            out["expansion_rate"] = per(pd.Series(customers.isin(exp).astype(float), index=customers), "mean")
        else:
            out["expansion_rate"] = np.nan
            notes.append("no expansion opportunities: expansion rate is missing")
        if "mrr" in s:
            then = _active_mrr(s, cutoff - pd.Timedelta(days=365))
            now = _active_mrr(s, cutoff).reindex(then.index, fill_value=0.0)
            base = then.loc[then > 0]
            num, den = per(now.loc[base.index], "sum"), per(base, "sum")
            out["nrr"] = (num / den).where(den > 0)
        else:
            out["nrr"] = np.nan
            notes.append("no mrr column: net revenue retention is missing")
        usage = t.get("usage")
        if usage is not None and len(usage) and "active_users" in usage and "seats_purchased" in s:
            first = s.sort_values("start_date", kind="stable").drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)
            u = usage.assign(**{ACCOUNT_ID: usage[ACCOUNT_ID].astype(str)})
            u = u.loc[u[ACCOUNT_ID].isin(first.index)]
            need = np.ceil(value_share * first["seats_purchased"]).reindex(u[ACCOUNT_ID]).to_numpy()
            start = first["start_date"].reindex(u[ACCOUNT_ID]).to_numpy()
            ok = (u["active_users"].to_numpy() >= need) & (u["date"].to_numpy() >= start) & ~np.isnan(need)
            reached = u.loc[ok].groupby(ACCOUNT_ID)["date"].min()
            ttv = ((reached - first["start_date"].reindex(reached.index)).dt.total_seconds() / 86400.0).clip(lower=0)
            with_usage = pd.Index(u[ACCOUNT_ID].unique())
            out["time_to_value_days"] = per(ttv, "median")
            out["value_reached"] = per(pd.Series(with_usage.isin(reached.index).astype(float), index=with_usage), "mean")
        else:
            out["time_to_value_days"] = out["value_reached"] = np.nan
            notes.append("no usage (or no seats_purchased): time to value is missing")
    else:
        out["customers"] = 0
        for col in ("churn_rate", "expansion_rate", "nrr", "time_to_value_days", "value_reached"):
            out[col] = np.nan
        notes.append("no subscriptions table: churn, expansion, NRR and time to value are missing")
    cols = ["persona_id", "persona", "accounts", "customers", "won", "lost", "win_rate", "sales_cycle_days",
            "time_to_value_days", "value_reached", "churn_rate", "expansion_rate", "nrr"]
    out = out[cols]
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------- journeys
def _first_entries(t: dict, personas: "pd.DataFrame | pd.Series", lifecycle) -> pd.DataFrame:
    assign = _assignment(personas)
    tp = t["touchpoints"]
    tp = tp.assign(**{ACCOUNT_ID: tp[ACCOUNT_ID].astype(str)})
    tp = tp.loc[tp[ACCOUNT_ID].isin(assign[ACCOUNT_ID]) & tp[STAGE].notna()]
    linear = [s for s in lifecycle.ids if s not in lifecycle.recurring]
    tp = tp.loc[tp[STAGE].astype(str).isin(linear)]
    first = tp.groupby([ACCOUNT_ID, tp[STAGE].astype(str).rename(STAGE)], observed=True)[TIMESTAMP].min().reset_index()
    first["order"] = first[STAGE].map(lifecycle.order)
    first = first.sort_values([ACCOUNT_ID, TIMESTAMP, "order"], kind="stable")
    return first.merge(assign, on=ACCOUNT_ID, how="inner")


def persona_paths(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None, *,
                  top: int = 3) -> pd.DataFrame:
    """The most common stage paths of each persona.

    An account's path is the order in which it first entered each linear stage of the
    lifecycle (recurring stages such as support are left out; a return to an earlier
    stage does not add a step), as of ``as_of``.

    Returns
    -------
    DataFrame with columns persona_id, persona, rank (1 = most common), path (stage ids
    joined by " > "), steps, accounts, share (of the persona's accounts with any stage).
    """
    t, _, lifecycle = _tables(data, as_of)
    first = _first_entries(t, personas, lifecycle)
    cols = ["persona_id", "persona", "rank", "path", "steps", "accounts", "share"]
    if first.empty:
        return pd.DataFrame(columns=cols)
    paths = first.groupby([ACCOUNT_ID, "persona_id", "persona"], sort=False)[STAGE].agg(" > ".join).reset_index()
    counts = paths.groupby(["persona_id", "persona", STAGE]).size().rename("accounts").reset_index()
    totals = paths.groupby("persona_id").size()
    counts["share"] = counts["accounts"] / counts["persona_id"].map(totals)
    counts = counts.sort_values(["persona_id", "accounts", STAGE], ascending=[True, False, True], kind="stable")
    counts["rank"] = counts.groupby("persona_id").cumcount() + 1
    counts = counts.loc[counts["rank"] <= top].rename(columns={STAGE: "path"})
    counts["steps"] = counts["path"].str.count(" > ") + 1
    return counts[cols].reset_index(drop=True)


def persona_stage_times(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None) -> pd.DataFrame:
    """Median time spent in each stage per persona.

    The time in a stage is the days from an account's first entry into it to its first
    entry into the next stage of its path (see :func:`persona_paths`); the last stage
    reached has no time yet and is not counted.

    Returns
    -------
    DataFrame with columns persona_id, persona, stage, label, order, accounts (with a
    time for that stage), median_days; stages in lifecycle order.
    """
    t, _, lifecycle = _tables(data, as_of)
    first = _first_entries(t, personas, lifecycle)
    cols = ["persona_id", "persona", "stage", "label", "order", "accounts", "median_days"]
    if first.empty:
        return pd.DataFrame(columns=cols)
    nxt = first.groupby(ACCOUNT_ID)[TIMESTAMP].shift(-1)
    first = first.assign(days=(nxt - first[TIMESTAMP]).dt.total_seconds() / 86400.0).dropna(subset=["days"])
    agg = first.groupby(["persona_id", "persona", STAGE])["days"].agg(accounts="size", median_days="median")
    out = agg.reset_index()
    out["order"] = out[STAGE].map(lifecycle.order)
    out["label"] = out[STAGE].map(lifecycle.labels)
    out["accounts"] = out["accounts"].astype("int64")
    return out.sort_values(["persona_id", "order"], kind="stable")[cols].reset_index(drop=True)


def committee_engagement(data: Any, personas: "pd.DataFrame | pd.Series", as_of: Any = None) -> pd.DataFrame:
    """Which buying-committee roles engage in which stages, per persona.

    Touchpoints with a contact are joined to the contact's role (contacts without a
    role count as ``unknown``); anonymous touchpoints are left out.

    Returns
    -------
    DataFrame with columns persona_id, persona, role, stage, touchpoints, accounts
    (accounts where that role touched that stage), share (accounts / the persona's
    accounts); empty with ``attrs["notes"]`` when there is no contacts table.
    """
    t, _, lifecycle = _tables(data, as_of)
    cols = ["persona_id", "persona", "role", "stage", "touchpoints", "accounts", "share"]
    assign = _assignment(personas)
    contacts = t.get("contacts")
    if contacts is None or CONTACT_ID not in t["touchpoints"]:
        out = pd.DataFrame(columns=cols)
        out.attrs["notes"] = ["no contacts table (or no contact_id on touchpoints): committee roles are unknown"]
        return out
    roles = contacts.assign(**{CONTACT_ID: contacts[CONTACT_ID].astype(str)}).drop_duplicates(CONTACT_ID) \
        .set_index(CONTACT_ID)["role"] if "role" in contacts else pd.Series(dtype=object)
    tp = t["touchpoints"].dropna(subset=[CONTACT_ID])
    tp = tp.assign(**{ACCOUNT_ID: tp[ACCOUNT_ID].astype(str), CONTACT_ID: tp[CONTACT_ID].astype(str)})
    tp = tp.merge(assign, on=ACCOUNT_ID, how="inner")
    tp["role"] = tp[CONTACT_ID].map(roles).fillna("unknown").astype(str)
    tp["stage_id"] = tp[STAGE].astype(str)
    tp = tp.loc[tp[STAGE].notna()]
    agg = tp.groupby(["persona_id", "persona", "role", "stage_id"]).agg(
        touchpoints=(ACCOUNT_ID, "size"), accounts=(ACCOUNT_ID, "nunique")).reset_index()
    sizes = assign.groupby("persona_id").size()
    agg["share"] = agg["accounts"] / agg["persona_id"].map(sizes)
    agg["order"] = agg["stage_id"].map(lifecycle.order)
    agg = agg.sort_values(["persona_id", "role", "order"], kind="stable").rename(columns={"stage_id": "stage"})
    out = agg[cols].reset_index(drop=True)
    out.attrs["notes"] = []
    return out


# --------------------------------------------------------------------------- rule-based personas
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
        ast.NotIn: "not in"}


def _literal(node: ast.AST, columns: Sequence[str], rule: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(e, columns, rule) for e in node.elts]
    if isinstance(node, ast.Name) and node.id not in columns:
        return node.id  # a bare word: industry == Finance
    raise ParameterError(f"rule {rule!r}: expected a value (number, text or [list]) after the comparison; "
                         f"got {ast.unparse(node)!r}")


def _check_rule(node: ast.AST, columns: Sequence[str], rule: str) -> None:
    if isinstance(node, ast.Expression):
        return _check_rule(node.body, columns, rule)
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check_rule(v, columns, rule)
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _check_rule(node.operand, columns, rule)
    if isinstance(node, ast.Compare):
        if not isinstance(node.left, ast.Name):
            raise ParameterError(f"rule {rule!r}: each comparison starts with a feature name, e.g. employees >= 1000")
        if node.left.id not in columns:
            raise ParameterError(f"rule {rule!r}: unknown feature '{node.left.id}'{did_you_mean(node.left.id, columns)}"
                                 f"; features: {', '.join(columns)}")
        for op, comp in zip(node.ops, node.comparators):
            if type(op) not in _CMP:
                raise ParameterError(f"rule {rule!r}: operator {type(op).__name__} is not allowed; "
                                     f"use {', '.join(_CMP.values())}")
            _literal(comp, columns, rule)
        return None
    raise ParameterError(f"rule {rule!r}: {ast.unparse(node)!r} is not a comparison; write rules like "
                         "'employees >= 1000 and industry == \"Financial Services\"' (and, or, not, ==, !=, <, <=, "
                         ">, >=, in [..])")


def _norm(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


def _eval_rule(node: ast.AST, features: pd.DataFrame, rule: str) -> np.ndarray:
    if isinstance(node, ast.Expression):
        return _eval_rule(node.body, features, rule)
    if isinstance(node, ast.BoolOp):
        parts = [_eval_rule(v, features, rule) for v in node.values]
        return np.logical_and.reduce(parts) if isinstance(node.op, ast.And) else np.logical_or.reduce(parts)
    if isinstance(node, ast.UnaryOp):
        return ~_eval_rule(node.operand, features, rule)
    cols = list(features.columns)
    col = features[node.left.id]
    result = np.ones(len(features), dtype=bool)
    left = col
    for op, comp in zip(node.ops, node.comparators):
        value = _literal(comp, cols, rule)
        known = left.notna().to_numpy()
        sym = _CMP[type(op)]
        if sym in ("in", "not in"):
            values = value if isinstance(value, list) else [value]
            hit = left.map(_norm).isin([_norm(v) for v in values]).to_numpy()
            res = hit if sym == "in" else ~hit
        elif isinstance(value, str):
            if sym not in ("==", "!="):
                raise ParameterError(f"rule {rule!r}: {node.left.id} {sym} {value!r} compares text by order; "
                                     "use == or != for text")
            hit = (left.map(_norm) == _norm(value)).to_numpy()
            res = hit if sym == "==" else ~hit
        else:
            num = pd.to_numeric(left, errors="coerce")
            if num.notna().sum() == 0 and left.notna().any():
                raise ParameterError(f"rule {rule!r}: {node.left.id} holds text; compare it with == or in [..]")
            res = {"==": num == value, "!=": num != value, "<": num < value, "<=": num <= value,
                   ">": num > value, ">=": num >= value}[sym].to_numpy()
            known = num.notna().to_numpy()
        result &= res & known  # a missing value matches no comparison
    return result


def load_rules(source: "str | Path | Mapping | Sequence | None" = None) -> list[dict[str, str]]:
    """Rule-based personas from a YAML file, a dict or a list (default: ``journeylib/personas_rules.yml``).

    The YAML holds ``personas:``, a list of ``{name: ..., rule: ...}`` in priority order::

        personas:
          - name: Enterprise finance
            rule: employees >= 1000 and industry == "Financial Services"

    A rule combines comparisons of feature columns (``==, !=, <, <=, >, >=, in [..]``)
    with ``and``, ``or``, ``not`` and parentheses; text compares case-insensitively and
    a bare word is text (``industry == Retail``).

    Returns
    -------
    list of dict with keys name, rule (syntax checked; feature names are checked when applied).
    """
    if source is None:
        source = DEFAULT_RULES_FILE
    if isinstance(source, (str, Path)) and not str(source).lstrip().startswith(("personas:", "-", "{")):
        path = Path(source)
        if not path.is_file():
            raise ParameterError(f"rules file {str(path)!r} does not exist")
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        where = str(path)
    elif isinstance(source, str):
        spec, where = yaml.safe_load(source), "<text>"
    else:
        spec, where = source, "<dict>"
    items = spec.get("personas") if isinstance(spec, Mapping) else spec
    if not isinstance(items, list) or not items:
        raise ParameterError(f"{where}: expected 'personas:' with a list of {{name, rule}} entries; got {spec!r:.200}")
    rules, names = [], set()
    for i, item in enumerate(items, 1):
        if not isinstance(item, Mapping) or not item.get("name") or not item.get("rule"):
            raise ParameterError(f"{where}: persona {i} is {item!r}; each needs a name and a rule")
        unknown = set(item) - {"name", "rule", "description"}
        if unknown:
            raise ParameterError(f"{where}: persona '{item['name']}' has unknown keys {sorted(unknown)}; "
                                 "allowed: name, rule, description")
        name, rule = str(item["name"]).strip(), str(item["rule"]).strip()
        if name in names or name == "unmatched":
            raise ParameterError(f"{where}: persona name '{name}' is used twice (or reserved)")
        names.add(name)
        try:
            ast.parse(rule, mode="eval")
        except SyntaxError as exc:
            raise ParameterError(f"{where}: rule of '{name}' is not valid: {rule!r} ({exc.msg})") from None
        rules.append({"name": name, "rule": rule})
    return rules


def apply_rules(features: pd.DataFrame, rules: "Sequence[Mapping[str, str]] | str | Path | None" = None
                ) -> pd.DataFrame:
    """Assign each account the first rule-based persona it matches.

    Parameters
    ----------
    features : DataFrame from :func:`account_features` (any columns the rules name)
    rules : list of {name, rule}, a YAML path, or None for the default file

    Returns
    -------
    DataFrame with columns account_id, persona_id (rule position, -1 unmatched), persona
    (the first match, or "unmatched"), matches (how many rules match), all_matches
    (their names joined by "; ").
    """
    features = _check_features(features)
    rules = load_rules(rules) if rules is None or isinstance(rules, (str, Path)) else load_rules(list(rules))
    cols = [c for c in features.columns if c != ACCOUNT_ID]
    hits = np.zeros((len(features), len(rules)), dtype=bool)
    for j, r in enumerate(rules):
        tree = ast.parse(r["rule"], mode="eval")
        _check_rule(tree, cols, r["rule"])
        hits[:, j] = _eval_rule(tree, features, r["rule"])
    names = np.array([r["name"] for r in rules], dtype=object)
    any_hit = hits.any(axis=1)
    first = np.where(any_hit, hits.argmax(axis=1), -1)
    return pd.DataFrame({
        ACCOUNT_ID: features[ACCOUNT_ID].astype(str).to_numpy(), "persona_id": first.astype("int64"),
        "persona": np.where(any_hit, names[np.maximum(first, 0)], "unmatched"),
        "matches": hits.sum(axis=1).astype("int64"),
        "all_matches": ["; ".join(names[row]) for row in hits],
    })


def rule_summary(assigned: pd.DataFrame) -> pd.DataFrame:
    """Per rule-based persona: accounts assigned, accounts matched, and overlaps; plus the unmatched.

    Returns
    -------
    DataFrame with columns persona, assigned (accounts whose first match it is), matched
    (accounts it matches), overlapping (matched accounts that match another rule too);
    a last row ``unmatched`` counts accounts no rule matches.
    """
    names = [n for n in dict.fromkeys(
        name for row in assigned["all_matches"] for name in row.split("; ") if name)]
    order = assigned.loc[assigned["persona_id"] >= 0].drop_duplicates("persona").sort_values("persona_id")["persona"]
    names = list(dict.fromkeys([*order, *names]))
    rows = []
    for n in names:
        match = assigned["all_matches"].map(lambda s, n=n: n in s.split("; "))
        rows.append({"persona": n, "assigned": int((assigned["persona"] == n).sum()), "matched": int(match.sum()),
                     "overlapping": int((match & (assigned["matches"] > 1)).sum())})
    rows.append({"persona": "unmatched", "assigned": int((assigned["matches"] == 0).sum()),
                 "matched": 0, "overlapping": 0})
    return pd.DataFrame(rows, columns=["persona", "assigned", "matched", "overlapping"])
