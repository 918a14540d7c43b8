"""The data of some accounts only: a segment's scorecard, a persona's outcomes, a widget's selection."""
from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID
from .load import JourneyData
from .contract import as_text

__all__ = ["data_for_accounts", "segment_accounts", "segment_columns"]


def segment_columns(accounts: pd.DataFrame, max_values: int = 30) -> list[str]:
    """The accounts columns that make segments: text or categories with 2 to ``max_values`` values."""
    return [c for c in accounts.columns if c != ACCOUNT_ID and not pd.api.types.is_numeric_dtype(accounts[c])
            and not pd.api.types.is_datetime64_any_dtype(accounts[c])
            and 2 <= accounts[c].nunique() <= max_values]


def segment_accounts(data: JourneyData, column: str, value: Any) -> pd.Series:
    """The ids of the accounts whose ``column`` is ``value``.

    Parameters
    ----------
    data : JourneyData
    column : str
        A column of the accounts table (region, industry, plan, ...).
    value
        One of its values; compared as text, so ``"EMEA"`` and a categorical EMEA match.

    Returns
    -------
    Series of account ids (may be empty only if ``value`` is a value of no account: then ParameterError).
    """
    accounts = data.accounts
    if column not in accounts.columns or column == ACCOUNT_ID:
        columns = [c for c in accounts.columns if c != ACCOUNT_ID]
        raise ParameterError(f"{column!r} is not a column of the accounts table to segment by"
                             f"{did_you_mean(column, columns)}; columns: {', '.join(columns)}")
    text = accounts[column].astype("string")
    chosen = accounts.loc[text == str(value), ACCOUNT_ID]
    if chosen.empty:
        values = sorted(text.dropna().unique())
        raise ParameterError(f"no account has {column} = {value!r}{did_you_mean(str(value), values)}; "
                             f"values: {', '.join(values[:20])}{' ...' if len(values) > 20 else ''}")
    return chosen.reset_index(drop=True)


def data_for_accounts(data: JourneyData, accounts: Any) -> JourneyData:
    """The loaded data restricted to some accounts (same as_of, timezone, lifecycle and source).

    Every table with an ``account_id`` keeps the rows of those accounts; tables without one
    (campaign spend) are kept whole. The quarantine and load report stay those of the full load.

    Parameters
    ----------
    data : JourneyData
    accounts : iterable of account ids
        Ids not in the data are ignored.

    Returns
    -------
    JourneyData
    """
    keep = pd.Index(pd.Series(list(accounts), dtype=object).astype(str).unique())
    subset = copy.copy(data)
    subset.tables = {name: (table[as_text(table[ACCOUNT_ID]).isin(keep)].reset_index(drop=True)
                            if table is not None and ACCOUNT_ID in table.columns else table)
                     for name, table in data.tables.items()}
    return subset
