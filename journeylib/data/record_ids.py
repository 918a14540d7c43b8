"""CRM record ids in one form, so the same record joins whichever export it came from.

Salesforce writes each record id in two forms: 15 characters, case-sensitive (reports and
the user interface), and 18 characters, case-safe (the API, Data Loader, Data Export): the
15 plus three characters that encode the case of the first 15 (Salesforce's
``CASESAFEID()``). An export that mixes them for the same records joins nothing unless both
sides are brought to one form; :func:`salesforce_id18` brings every 15-character id to its
18-character form and leaves the rest as they are. A column mapping asks for it with
``ids: salesforce`` (the Salesforce preset does).
"""
from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

__all__ = ["salesforce_id18", "ID_FORMATS"]

_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID15 = re.compile(r"^[A-Za-z0-9]{15}$")


def _id18(value: str) -> str:
    bits = ("".join("1" if "A" <= c <= "Z" else "0" for c in value[i:i + 5])[::-1] for i in (0, 5, 10))
    return value + "".join(_SUFFIX[int(b, 2)] for b in bits)


def salesforce_id18(values: pd.Series) -> pd.Series:
    """15-character Salesforce ids in their 18-character form; other values unchanged.

    Examples
    --------
    >>> salesforce_id18(pd.Series(["0015g00000AbCdE", "0015g00000AbCdEAAV", None])).tolist()
    ['0015g00000AbCdEAAV', '0015g00000AbCdEAAV', None]
    """
    out = values.to_numpy(dtype=object).copy()
    for i, v in enumerate(out):
        if isinstance(v, str):
            text = v.strip()
            if _ID15.match(text):
                out[i] = _id18(text)
    return pd.Series(out, index=values.index, dtype=object)


#: ``ids:`` of a column mapping -> how its id columns and look-up keys are normalised
ID_FORMATS: dict[str, Callable[[pd.Series], pd.Series]] = {"salesforce": salesforce_id18}
