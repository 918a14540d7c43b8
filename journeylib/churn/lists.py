"""The risk list and ARR at risk by segment.

Part of :mod:`journeylib.churn`; import the public names from there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_choice, check_share
from ..errors import ParameterError
from ..schema import ACCOUNT_ID

from .prepared import _NAME, _OWNER, SNAPSHOT
from .snapshots import _personas

# =========================================================================== lists
#: Columns of the risk list, in order (no contact names or e-mails by construction).
RISK_LIST_COLUMNS = ["risk_rank", ACCOUNT_ID, "account", "owner", "plan", "probability", "arr_at_risk",
                     "expected_arr_loss", "health", "health_band", "top_reasons"]


def risk_list(scored: pd.DataFrame, accounts: pd.DataFrame, *, health: pd.DataFrame | None = None,
              top: int | None = None) -> pd.DataFrame:
    """The risk list: accounts by churn risk, with ARR at risk, reasons, health and owner.

    Parameters
    ----------
    scored : DataFrame
        :meth:`ChurnModel.score` output for one snapshot.
    accounts : DataFrame
        The accounts table (name and owner are read; nothing about contacts).
    health : DataFrame, optional
        :func:`journeylib.churn.health_score` of the same snapshot.
    top : int, optional
        Keep the ``top`` riskiest accounts.

    Returns
    -------
    DataFrame with :data:`RISK_LIST_COLUMNS`: ``arr_at_risk`` is the account's ARR
    (12 x MRR), ``expected_arr_loss`` is probability x ARR; riskiest first.
    """
    if scored[SNAPSHOT].nunique() > 1:
        raise ParameterError("risk_list takes one snapshot; filter scored to a single snapshot first")
    acc = accounts.drop_duplicates(ACCOUNT_ID).set_index(accounts.drop_duplicates(ACCOUNT_ID)[ACCOUNT_ID].astype(str))
    ids = scored[ACCOUNT_ID].astype(str)
    out = pd.DataFrame({
        "risk_rank": scored["risk_rank"].to_numpy(),
        ACCOUNT_ID: ids.to_numpy(),
        "account": ids.map(acc[_NAME]).to_numpy(dtype=object) if _NAME in acc else None,
        "owner": ids.map(acc[_OWNER]).to_numpy(dtype=object) if _OWNER in acc else None,
        "plan": scored["plan"].to_numpy(dtype=object),
        "probability": scored["probability"].to_numpy(dtype=float),
        "arr_at_risk": 12.0 * scored["mrr"].to_numpy(dtype=float),
    })
    out["expected_arr_loss"] = out["probability"] * out["arr_at_risk"]
    if health is not None:
        h = health.drop_duplicates(ACCOUNT_ID).set_index(ACCOUNT_ID)
        out["health"] = out[ACCOUNT_ID].map(h["health"]).to_numpy(dtype=float)
        out["health_band"] = out[ACCOUNT_ID].map(h["band"]).to_numpy(dtype=object)
    else:
        out["health"], out["health_band"] = np.nan, None
    out["top_reasons"] = scored["top_reasons"].to_numpy(dtype=object) if "top_reasons" in scored else ""
    out = out.sort_values("risk_rank", kind="stable").reset_index(drop=True)[RISK_LIST_COLUMNS]
    return out.head(top) if top is not None else out


def risk_headline(risk: pd.DataFrame, *, threshold: float = 0.2) -> dict[str, float]:
    """Headline numbers of a risk list: accounts, accounts at risk, their ARR, expected ARR loss.

    Returns
    -------
    dict with accounts, accounts_at_risk (probability >= threshold), arr (all accounts),
    arr_at_risk (ARR of the accounts at risk), expected_arr_loss (sum of probability x ARR),
    threshold.
    """
    threshold = check_share(threshold, "threshold")
    p = risk["probability"].to_numpy(dtype=float)
    arr = risk["arr_at_risk"].to_numpy(dtype=float)
    at = p >= threshold
    return {"accounts": int(len(risk)), "accounts_at_risk": int(at.sum()), "arr": float(np.nansum(arr)),
            "arr_at_risk": float(np.nansum(arr[at])), "expected_arr_loss": float(np.nansum(p * arr)),
            "threshold": float(threshold)}


def arr_at_risk_by_segment(risk: pd.DataFrame, *, by: str = "plan", personas: pd.DataFrame | None = None,
                           threshold: float = 0.2, total: bool = True) -> pd.DataFrame:
    """ARR at risk per segment (plan or persona).

    Parameters
    ----------
    risk : DataFrame
        :func:`risk_list` output (all accounts of the snapshot, not only the top).
    by : {"plan", "persona"}
    personas : DataFrame, optional
        ``account_id, persona`` for ``by="persona"`` (unlisted accounts are "(unassigned)");
        without it the result is empty.
    threshold : float
        An account is at risk when its churn probability is at least this.
    total : bool
        Append an "(all)" row.

    Returns
    -------
    DataFrame with columns segment, accounts, at_risk_accounts, arr, arr_at_risk (ARR of
    the accounts at risk), expected_arr_loss (sum of probability x ARR), share_at_risk
    (arr_at_risk / arr); largest ARR at risk first.
    """
    by = check_choice(by, "by", ("plan", "persona"))
    threshold = check_share(threshold, "threshold")
    if by == "persona":
        if personas is None:  # no persona assignment: nothing to split by
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _SEGMENT_COLUMNS.items()})
        seg = risk[ACCOUNT_ID].map(_personas(personas))
    else:
        seg = risk["plan"]
    seg = seg.astype(object).where(seg.notna(), "(unassigned)" if by == "persona" else "(none)")
    at = (risk["probability"].to_numpy(dtype=float) >= threshold)
    arr = risk["arr_at_risk"].to_numpy(dtype=float)
    frame = pd.DataFrame({"segment": seg.to_numpy(dtype=object), "accounts": 1, "at_risk_accounts": at.astype(int),
                          "arr": arr, "arr_at_risk": np.where(at, arr, 0.0),
                          "expected_arr_loss": np.nan_to_num(risk["expected_arr_loss"].to_numpy(dtype=float))})
    out = frame.groupby("segment", sort=True).sum(numeric_only=True).reset_index()
    out = out.sort_values(["arr_at_risk", "arr"], ascending=False, kind="stable").reset_index(drop=True)
    if total:
        tot = frame.drop(columns="segment").sum().to_dict()
        out = pd.concat([out, pd.DataFrame([{"segment": "(all)", **tot}])], ignore_index=True)
    out["share_at_risk"] = np.where(out["arr"] > 0, out["arr_at_risk"] / out["arr"].where(out["arr"] > 0, 1), np.nan)
    return out.astype({"accounts": "int64", "at_risk_accounts": "int64"})[list(_SEGMENT_COLUMNS)]


_SEGMENT_COLUMNS = {"segment": object, "accounts": "int64", "at_risk_accounts": "int64", "arr": float,
                    "arr_at_risk": float, "expected_arr_loss": float, "share_at_risk": float}
