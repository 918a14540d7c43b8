"""The column specs a mapping is made of, and how each makes a contract column.

A mapping (:mod:`journeylib.data.mapping`) parses each contract column's YAML into one
of these specs: a source column, a constant, the first non-empty of several
(coalesce), a look-up through another table, a text template, or rules; a spec
evaluates to one output value per source row, never adding or dropping a row.
Internal to :mod:`journeylib.data`.
"""
from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import closest, did_you_mean
from ..schema import ROW_COL, SOURCE_COL

__all__ = ["ColumnMapping", "Feed"]

_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
_KINDS = ("column", "value", "coalesce", "lookup", "template", "rules")
_EXTRA = {  # keys allowed beside each kind of spec
    "column": {"values", "default", "split"}, "coalesce": {"values", "default", "split"},
    "lookup": {"values", "default", "split"}, "template": {"values", "default"}, "value": set(), "rules": {"default"},
}
_OPS = ("equals", "in", "contains", "startswith", "empty")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _key(name: Any) -> str:
    """Comparison key of a header, table or alias name: trimmed, case-folded."""
    return str(name).strip().casefold()


def _norm_value(v: Any) -> str | None:
    """Comparison key of a cell value; None when empty."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    text = str(v).strip().casefold()
    return text or None


def _norm(s: pd.Series) -> pd.Series:
    return s.map(_norm_value, na_action="ignore").astype(object)


def _objects(values: Any, index: pd.Index) -> pd.Series:
    """An object Series with None for every missing value."""
    arr = np.asarray(values, dtype=object).copy()
    arr[pd.isna(arr)] = None
    return pd.Series(arr, index=index, dtype=object)


def _out_value(v: Any) -> str | None:
    """A literal from YAML as an output value (text, or None)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _quoted(names: list[str]) -> str:
    return " or ".join(f"'{n}'" for n in names)


def _hint(names: list[str], candidates: list[str]) -> str:
    """A "(did you mean ...?)" suffix for the closest candidates to any of ``names``."""
    if len(names) == 1:
        return did_you_mean(names[0], candidates)
    scores: dict[str, float] = {}
    for name in names:
        for hit in closest(name, candidates):
            score = difflib.SequenceMatcher(None, _key(name), _key(hit)).ratio()
            scores[hit] = max(score, scores.get(hit, 0.0))
    if not scores:
        return ""
    best = max(scores.values())
    hits = [h for h in sorted(scores, key=lambda h: -scores[h]) if scores[h] >= best - 0.1][:3]
    return " (did you mean " + " or ".join(f"'{h}'" for h in hits) + "?)"


# --------------------------------------------------------------------------- evaluation context
@dataclass
class _Ctx:
    """One source table being mapped, and the raw tables it may look up."""

    frame: pd.DataFrame
    label: str
    aliases: dict[str, list[str]]
    raw: Mapping[str, pd.DataFrame]
    ids: Callable[[pd.Series], pd.Series] | None = None  # one form for record ids (the mapping's ``ids:``)
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = _headers(self.frame)

    def expand(self, names: list[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            out += self.aliases.get(_key(name), [name])
        return out

    def resolve(self, names: list[str]) -> str | None:
        for name in self.expand(names):
            if _key(name) in self.headers:
                return self.headers[_key(name)]
        return None

    def series(self, names: list[str]) -> pd.Series:
        return self.frame[self.resolve(names)]

    def missing_columns(self, names: list[str]) -> list[str]:
        if self.resolve(names) is not None:
            return []
        alts = self.expand(names)
        return [f"no column {_quoted(alts)}{_hint(alts, list(self.headers.values()))}"]


def _headers(frame: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in frame.columns:
        if col not in (SOURCE_COL, ROW_COL):
            out.setdefault(_key(col), str(col))
    return out


def _find_table(names: list[str], raw: Mapping[str, pd.DataFrame]) -> str | None:
    """The first of ``names`` among the raw tables (case-insensitive); a name with ``*`` or ``?`` is a
    pattern, for dated exports (``hubspot-crm-exports-all-deals-*``): the last match in name order, i.e.
    the latest date."""
    keys: dict[str, str] = {}
    for name in raw:
        keys.setdefault(_key(name), name)
    for name in names:
        if any(c in name for c in "*?["):
            hits = sorted(k for k in keys if fnmatch.fnmatchcase(k, _key(name)))
            if hits:
                return keys[hits[-1]]
        elif _key(name) in keys:
            return keys[_key(name)]
    return None


# --------------------------------------------------------------------------- specs
class _Spec:
    """A parsed column spec. ``missing`` lists what the source lacks; ``evaluate`` gives a Series."""

    values: dict[str, str | None] | None = None
    default: _Spec | None = None
    split: str | None = None  # the value lists several (ids joined by this): the first is used

    def missing(self, ctx: _Ctx) -> list[str]:
        """What the source lacks for this spec; nothing when a usable ``default`` stands in (:meth:`fallback`)."""
        own = self._missing(ctx)
        if self.default is None:
            return own
        fallback = self.default.missing(ctx)
        return [] if own and not fallback else own + fallback

    def several_rows(self, ctx: _Ctx) -> np.ndarray:
        """True on rows whose value lists more than one item (with ``split``)."""
        if not self.split or self._missing(ctx):
            return np.zeros(len(ctx.frame), dtype=bool)
        raw = _objects(self.compute(ctx).to_numpy(dtype=object), ctx.frame.index)
        return np.array([v is not None and sum(1 for p in str(v).split(self.split) if p.strip()) > 1
                         for v in raw.to_numpy(dtype=object)], dtype=bool)

    def several(self, ctx: _Ctx) -> int:
        """Rows whose value lists several items, here or in the specs it takes values from."""
        return int(self.several_rows(ctx).sum())

    def fallback(self, ctx: _Ctx) -> str:
        """Why the ``default`` stands in for every row (the spec's own inputs are absent), or ""."""
        if self.default is None:
            return ""
        own = self._missing(ctx)
        return "; ".join(own) if own and not self.default.missing(ctx) else ""

    def _missing(self, ctx: _Ctx) -> list[str]:
        raise NotImplementedError

    def compute(self, ctx: _Ctx) -> pd.Series:
        raise NotImplementedError

    def evaluate(self, ctx: _Ctx) -> pd.Series:
        if self.fallback(ctx):
            return self.default.evaluate(ctx)
        s = _objects(self.compute(ctx).to_numpy(dtype=object), ctx.frame.index)
        if self.split:
            s = s.map(lambda v: next((p.strip() for p in str(v).split(self.split) if p.strip()), None),
                      na_action="ignore")
        if self.values is None and self.default is None:
            return s
        out = s.to_numpy(dtype=object).copy()
        norm = _norm(s)
        if self.values is not None:
            found = norm.isin(list(self.values)).to_numpy()
            out[found] = norm.map(self.values).to_numpy(dtype=object)[found]
            fill = ~found if self.default is not None else np.zeros(len(s), dtype=bool)
        else:
            fill = norm.isna().to_numpy()
        if self.default is not None and fill.any():
            out[fill] = self.default.evaluate(ctx).to_numpy(dtype=object)[fill]
        return _objects(out, s.index)


class _Column(_Spec):
    def __init__(self, names: list[str]):
        self.names = names

    def _missing(self, ctx):
        return ctx.missing_columns(self.names)

    def compute(self, ctx):
        return ctx.series(self.names)


class _Const(_Spec):
    def __init__(self, value: Any):
        self.value = _out_value(value)

    def _missing(self, ctx):
        return []

    def compute(self, ctx):
        return pd.Series([self.value] * len(ctx.frame), index=ctx.frame.index, dtype=object)


class _Coalesce(_Spec):
    def __init__(self, items: list[_Spec]):
        self.items = items

    def _missing(self, ctx):
        found = [item.missing(ctx) for item in self.items]
        if any(not m for m in found):
            return []
        return [m for ms in found for m in ms]

    def compute(self, ctx):
        out = np.full(len(ctx.frame), None, dtype=object)
        for item, take in self._sources(ctx):
            out[take] = item.evaluate(ctx).to_numpy(dtype=object)[take]
        return pd.Series(out, index=ctx.frame.index, dtype=object)

    def _sources(self, ctx):
        """(item, rows whose value it gives) for the items present, in order."""
        todo = np.ones(len(ctx.frame), dtype=bool)
        for item in self.items:
            if item.missing(ctx):
                continue
            take = todo & _norm(item.evaluate(ctx)).notna().to_numpy()
            yield item, take
            todo &= ~take

    def several(self, ctx):
        own = super().several(ctx)
        return own + sum(int(item.several_rows(ctx)[take].sum()) for item, take in self._sources(ctx))


class _Lookup(_Spec):
    def __init__(self, tables: list[str], on: _Spec, key: list[str], take: list[str]):
        self.tables, self.on, self.key, self.take = tables, on, key, take

    def _missing(self, ctx):
        problems = self.on.missing(ctx)
        name = _find_table(self.tables, ctx.raw)
        if name is None:
            problems.append(f"no lookup table {_quoted(self.tables)} among the tables read"
                            f"{_hint(self.tables, list(ctx.raw))}")
            return problems
        headers = _headers(ctx.raw[name])
        for names in (self.key, self.take):
            if not any(_key(n) in headers for n in names):
                problems.append(f"lookup table '{name}' has no column {_quoted(names)}"
                                f"{_hint(names, list(headers.values()))}")
        return problems

    def compute(self, ctx):
        table = ctx.raw[_find_table(self.tables, ctx.raw)]
        headers = _headers(table)
        key_col = next(headers[_key(n)] for n in self.key if _key(n) in headers)
        take_col = next(headers[_key(n)] for n in self.take if _key(n) in headers)
        keys = table[key_col].map(_strip, na_action="ignore")
        keys = (ctx.ids(keys) if ctx.ids is not None else keys).to_numpy(dtype=object)
        usable = ~pd.isna(keys)
        found = pd.Series(table[take_col].to_numpy(dtype=object)[usable], index=pd.Index(keys[usable], dtype=object),
                          dtype=object)
        found = found[~found.index.duplicated(keep="first")]
        on = self.on.evaluate(ctx).map(_strip, na_action="ignore")
        on = (ctx.ids(on) if ctx.ids is not None else on).to_numpy(dtype=object)
        out = np.full(len(on), None, dtype=object)
        hit = ~pd.isna(on) & pd.Index(on, dtype=object).isin(found.index)
        if hit.any():
            out[hit] = found.reindex(pd.Index(on[hit], dtype=object)).to_numpy(dtype=object)
        return pd.Series(out, index=ctx.frame.index, dtype=object)


def _strip(v: Any) -> str | None:
    text = str(v).strip()
    return text or None


class _Template(_Spec):
    def __init__(self, text: str):
        self.text = text
        self.parts = _PLACEHOLDER.split(text)  # literal, name, literal, name, ...

    def _missing(self, ctx):
        return [m for name in self.parts[1::2] for m in ctx.missing_columns([name])]

    def compute(self, ctx):
        n = len(ctx.frame)
        text = pd.Series([""] * n, index=ctx.frame.index, dtype=object)
        filled = np.zeros(n, dtype=bool)
        for i, part in enumerate(self.parts):
            if i % 2 == 0:
                text = text + part
                continue
            col = ctx.series([part]).map(_strip, na_action="ignore")
            filled |= col.notna().to_numpy()
            text = text + _objects(col.to_numpy(dtype=object), col.index).map(lambda v: "" if v is None else v)
        text = np.array([" ".join(str(v).split()) for v in text.to_numpy(dtype=object)], dtype=object)
        return _objects(np.where(filled, text, None), ctx.frame.index)


class _Test:
    """One condition on one column: a predicate on its normalised values."""

    def __init__(self, kind: str, arg: Any):
        self.kind, self.arg = kind, arg

    def mask(self, norm: pd.Series) -> np.ndarray:
        if self.kind == "in":
            return norm.isin(self.arg).to_numpy()
        if self.kind == "empty":
            return (norm.isna() == self.arg).to_numpy()
        # plain Python on the values: the same on object and (Arrow) string dtypes, whose regex engine lacks lookbehind
        if self.kind == "contains":
            test = self.arg.search
        else:  # startswith
            prefixes = self.arg
            test = lambda v: v.startswith(prefixes)  # noqa: E731
        return np.fromiter((v is not None and v == v and bool(test(v)) for v in norm.to_numpy(dtype=object)),
                           dtype=bool, count=len(norm))


class _Rules(_Spec):
    def __init__(self, rules: list[tuple[list[tuple[str, list[_Test]]], _Spec]], default: _Spec | None):
        self.rules, self.default_rule = rules, default

    def missing(self, ctx):
        problems: list[str] = []
        for conds, then in self.rules:
            for name, _ in conds:
                problems += [m for m in ctx.missing_columns([name]) if m not in problems]
            problems += [m for m in then.missing(ctx) if m not in problems]
        if self.default_rule is not None:
            problems += [m for m in self.default_rule.missing(ctx) if m not in problems]
        return problems

    def compute(self, ctx):
        n = len(ctx.frame)
        out = np.full(n, None, dtype=object)
        decided = np.zeros(n, dtype=bool)
        norms: dict[str, pd.Series] = {}
        for conds, then in self.rules:
            match = ~decided
            for name, tests in conds:
                if name not in norms:
                    norms[name] = _norm(ctx.series([name]))
                for test in tests:
                    match &= test.mask(norms[name])
            if match.any():
                out[match] = then.evaluate(ctx).to_numpy(dtype=object)[match]
            decided |= match
        if self.default_rule is not None and (~decided).any():
            out[~decided] = self.default_rule.evaluate(ctx).to_numpy(dtype=object)[~decided]
        return pd.Series(out, index=ctx.frame.index, dtype=object)


# --------------------------------------------------------------------------- the mapping
@dataclass
class Feed:
    """One source table feeding one contract table.

    Attributes
    ----------
    table : str
        The contract table.
    sources : list of str
        Alternative source table names; the first one present is used.
    columns : dict of str -> spec
        Contract column -> parsed column spec.
    aliases : dict of str -> list of str
        Short names for alternative headers (keys case-folded).
    path : str
        Where the feed sits in the mapping, e.g. ``tables.touchpoints[1]``.
    """

    table: str
    sources: list[str]
    columns: dict[str, _Spec]
    aliases: dict[str, list[str]]
    path: str


@dataclass
class ColumnMapping:
    """A checked column mapping (see the module docstring for the format).

    Attributes
    ----------
    name : str
        The mapping's name (its ``name:``, else the file stem).
    tables : dict of str -> list of Feed
        Contract table -> the feeds that fill it, in order.
    source : Path or None
        The YAML file it came from (None for a dict).
    description : str
    ids : str or None
        The CRM whose record-id forms are brought to one (``"salesforce"``: 15-character
        ids to 18, see :mod:`journeylib.data.record_ids`) in id columns and look-up keys.
    """

    name: str
    tables: dict[str, list[Feed]]
    source: Path | None = None
    description: str = ""
    ids: str | None = None

    def source_tables(self) -> set[str]:
        """The raw table names the mapping reads (feeds and lookups, every alternative)."""
        names: set[str] = set()
        for feeds in self.tables.values():
            for feed in feeds:
                names.update(feed.sources)
                for spec in feed.columns.values():
                    names.update(_lookup_tables(spec))
        return names

    def __repr__(self) -> str:
        return f"ColumnMapping(name={self.name!r}, tables={list(self.tables)}, source={self.source})"


def _lookup_tables(spec: _Spec | None) -> set[str]:
    if spec is None:
        return set()
    found = _lookup_tables(spec.default)
    if isinstance(spec, _Lookup):
        found |= set(spec.tables) | _lookup_tables(spec.on)
    elif isinstance(spec, _Coalesce):
        for item in spec.items:
            found |= _lookup_tables(item)
    elif isinstance(spec, _Rules):
        for _, then in spec.rules:
            found |= _lookup_tables(then)
        found |= _lookup_tables(spec.default_rule)
    return found
