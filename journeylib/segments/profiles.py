"""What distinguishes each persona: standardised differences, lifts and generated names.

Part of :mod:`journeylib.segments`; import the public names from there.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..schema import ACCOUNT_ID
from .columns import UNASSIGNED, _check_features, _logodds
from .features import feature_info

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


