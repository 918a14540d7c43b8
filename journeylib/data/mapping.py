"""Column mappings: bring a CRM export (Salesforce, HubSpot, ...) into the data contract.

A column mapping is a small YAML file (or the same structure as a dict) that says,
for each contract table, which source table(s) feed it and how each contract
column is made from the source row. :func:`load_mapping` reads and checks it once;
:func:`apply_mapping` turns the raw tables (all values text, as read) into contract
tables. Mapping never parses types and never drops or duplicates a row: every row
of a source table that feeds a contract table gives exactly one output row, with
its provenance (``_source``, ``_row``) unchanged. Validation comes afterwards.

Presets ship in ``journeylib/data/presets/``: ``"salesforce"`` and ``"hubspot"``.

Format
------
::

    name: my-crm                       # optional, shown in messages
    description: ...                   # optional
    ids: salesforce                    # optional: 15- and 18-character record ids brought to one form
    tables:
      opportunities:                   # a contract table ...
        from: [Opportunity, "Opportunity Report"]  # ... fed by the first of these source tables found
        aliases:                       # optional: a short name for alternative headers
          won: [IsWon, Won]
          closed: [IsClosed, Closed]
        columns:                       # contract column -> how to make it
          opportunity_id: [Id, "Opportunity ID"]        # first of these columns that exists
          account_id: AccountId                         # one column
          status:                                       # rules: the first that matches wins
            rules:
              - when: {closed: true, won: true}
                then: won
              - when: {closed: true}
                then: lost
            default: open
          closed_at:                                    # a rule may give a column's value
            rules:
              - when: {closed: true}
                then: {column: [CloseDate, "Close Date"]}
          type:                                         # value map
            column: Type
            values: {New Business: new, Existing Business: expansion, Renewal: renewal}
            default: null
      touchpoints:                     # several feeds: rows are concatenated in this order
        - from: Task
          columns: {...}
        - from: CampaignMember
          columns:
            account_id:                                 # a join through another table
              lookup: {table: Contact, on: ContactId, key: Id, take: AccountId}

A **column spec** (the value of ``columns.<name>``) is one of:

``Name`` or ``[Name, "Other Name", ...]``
    The first of these source columns that exists in the table (header names
    match case-insensitively, surrounding whitespace ignored). An ``aliases`` name
    stands for its list.
``{column: Name | [alternatives], values: {...}, default: ...}``
    The same, with an optional value map and default (see below).
``{value: constant}``
    A fixed value for every row (``{value: sales}``).
``{coalesce: [spec, spec, ...]}``
    Per row, the first non-empty value among the specs. Specs whose source
    columns are absent are skipped (the coalesce needs at least one).
``{lookup: {table: T | [alternatives], on: spec, key: K | [...], take: C | [...]}}``
    A left join: the value of ``on`` in this row is looked up in source table
    ``T``'s column ``key`` and the same row's ``take`` is returned. An unknown or
    empty key gives an empty value (the row is kept); duplicate keys in ``T``: the
    first row wins. ``on`` may itself be a lookup (chains of joins). Keys are
    compared trimmed, case-sensitively.
``{template: "{First Name} {Last Name}"}``
    Text with ``{column}`` placeholders; empty when every placeholder is empty.
``{rules: [{when: {...}, then: ...}, ...], default: ...}``
    Ordered rules: the first whose conditions all hold gives the value; rows no
    rule matches get ``default`` (empty when not given).

``values`` and ``default`` may be added to ``column``, ``coalesce``, ``lookup``
and ``template`` specs. ``values`` maps source values (matched case-insensitively,
trimmed) to output values; ``null`` as an output means empty. A value not in the
map is kept as it is, or replaced by ``default`` when one is given. ``default``
also fills empty values, and stands in for every row when what the spec reads is
absent from the export (an optional look-up table, say): the load then reports a
``mapping_default`` finding instead of failing.

``split: ";"`` (on ``column``, ``coalesce`` and ``lookup`` specs) reads a value
that lists several ids, as HubSpot's ``Associated Company IDs`` does
(``"123;456"``): the first is used and the rows with several are counted in a
``several_values`` finding.

Table names in ``from`` (and look-up ``table``) may be patterns: ``*`` and ``?``
match dated or prefixed file names (``hubspot-crm-exports-all-deals-*``); when
several files match, the last in name order (the latest date) is used.

Inside ``then`` and ``default`` a plain scalar is a literal value (``then: won``),
and a dict is a spec (``then: {column: CloseDate}``).

**Conditions** (``when``): source column (or alias) -> test; all must hold.

=======================================  =============================================
``Col: value``                           equals (case-insensitive, trimmed)
``Col: true`` / ``Col: false``           true/1/yes/y/t, or false/0/no/n/f
``Col: [a, b]``                          in the list
``Col: null``                            empty
``Col: {equals: a}`` / ``{in: [a, b]}``  as above
``Col: {contains: [VP, Head of]}``       contains one of these words or phrases
                                         (whole words, case-insensitive)
``Col: {startswith: ["003"]}``           starts with one of these (case-insensitive)
``Col: {empty: true}``                   empty (``false``: not empty)
=======================================  =============================================

Several operators in one dict must all hold.

**YAML notes.** YAML 1.1 reads bare ``on``, ``yes``, ``no``, ``off`` as booleans:
a lookup's ``on:`` key is understood anyway; a ``values`` key ``Yes``/``No`` stands
for every spelling of true/false; quote codes such as ``"NO"`` (Norway) in lists.
Anchors (``&name`` / ``*name``) reuse a spec or a list within one file.

**Checks.** :func:`load_mapping` checks the structure once: known keys, contract
table and column names (with "did you mean"), and a spec for every required column
of each feed's table. Source table names match case-insensitively, trimmed; one
source table may feed several contract tables (HubSpot contacts -> contacts and
leads). An ``aliases`` name takes precedence over a header of the same name.

**Missing sources.** When a source column is absent, a *required* contract column
(see :data:`journeylib.schema.TABLES`) is an error: :func:`apply_mapping` raises one
:class:`~journeylib.errors.MappingError` listing everything missing in every table,
with "did you mean" hints; an optional column is simply left out. A source table
absent entirely: the feed is skipped; a required contract table (accounts,
touchpoints) that no feed reaches is an error.

Examples
--------
>>> from journeylib.mapping import load_mapping, apply_mapping
>>> spec = load_mapping("salesforce")
>>> sorted(spec.tables)[:2]
['accounts', 'contacts']
>>> tables = apply_mapping(raw_tables, spec)  # doctest: +SKIP
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MappingError, did_you_mean
from ..schema import ROW_COL, SOURCE_COL, TABLE_ORDER, TABLES
from ..yamlfile import read_yaml
from .mapping_specs import (_EXTRA, _FALSE, _KINDS, _OPS, _PLACEHOLDER, _TRUE, ColumnMapping, Feed, _Coalesce, _Column,
                            _Const, _Ctx, _find_table, _hint, _key, _Lookup, _norm_value, _out_value, _quoted, _Rules,
                            _Spec, _Template, _Test)
from .read import read_source, strings_only
from .record_ids import ID_FORMATS

__all__ = ["ColumnMapping", "Feed", "load_mapping", "apply_mapping", "read_mapped", "preset_names", "PRESETS_DIR"]

PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def preset_names() -> list[str]:
    """Names of the shipped presets (``journeylib/data/presets/*.yml``)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yml"))


# --------------------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, where: str):
        self.where = where

    def fail(self, path: str, problem: str, got: Any = None, allowed: str = "") -> MappingError:
        text = f"{self.where}: {path}: {problem}"
        if got is not None:
            shown = repr(got)
            text += f"; got {shown if len(shown) <= 120 else shown[:117] + '...'}"
        if allowed:
            text += f". {allowed}"
        return MappingError(text)

    def names(self, path: str, value: Any, what: str = "a column name") -> list[str]:
        if isinstance(value, str) and value.strip():
            return [value]
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            return list(value)
        raise self.fail(path, f"expected {what} or a list of alternatives", value,
                        'Write e.g. CloseDate or [CloseDate, "Close Date"]')

    def mapping(self, path: str, value: Any, allowed: set[str] | tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, "expected a mapping (key: value)", value,
                            f"Allowed keys: {', '.join(sorted(allowed))}")
        for k in value:
            if k not in allowed:
                raise self.fail(f"{path}.{k}", f"unknown key '{k}'{did_you_mean(str(k), allowed)}", None,
                                f"Allowed keys here: {', '.join(sorted(allowed))}")
        for k in required:
            if k not in value:
                raise self.fail(path, f"missing key '{k}'", value, f"Required keys here: {', '.join(required)}")
        return value

    def spec(self, path: str, value: Any, literal: bool = False) -> _Spec:
        """Parse a column spec; with ``literal`` (then/default), scalars are values, not column names."""
        if literal and (value is None or isinstance(value, (str, int, float, bool))):
            return _Const(value)
        if literal and isinstance(value, list):
            raise self.fail(path, "expected a value or a spec; a list is ambiguous here", value,
                            "For a column's value write {column: [Name, \"Other Name\"]}")
        if isinstance(value, (str, list)):
            return _Column(self.names(path, value))
        if not isinstance(value, dict):
            hint = "for a fixed value write {value: ...}" if not literal else ""
            raise self.fail(path, "expected a column name, a list of alternatives or a spec like {column: ...}",
                            value, hint)
        kinds = [k for k in _KINDS if k in value]
        if len(kinds) != 1:
            unknown = [k for k in value if k not in _KINDS and k not in ("values", "default", "split")]
            if unknown:
                k = unknown[0]
                hint = did_you_mean(str(k), _KINDS + ("values", "default", "split"))
                raise self.fail(f"{path}.{k}", f"unknown key '{k}'{hint}", None,
                                f"A spec has exactly one of: {', '.join(_KINDS)} (plus values/default/split)")
            raise self.fail(path, "a spec needs exactly one of " + ", ".join(_KINDS), value)
        kind = kinds[0]
        self.mapping(path, value, {kind} | _EXTRA[kind])
        arg = value[kind]
        sub = f"{path}.{kind}"
        if kind == "column":
            node: _Spec = _Column(self.names(sub, arg))
        elif kind == "value":
            if not (arg is None or isinstance(arg, (str, int, float, bool))):
                raise self.fail(sub, "expected a fixed value (text or number)", arg)
            node = _Const(arg)
        elif kind == "coalesce":
            if not isinstance(arg, list) or not arg:
                raise self.fail(sub, "expected a non-empty list of specs", arg)
            node = _Coalesce([self.spec(f"{sub}[{i}]", item) for i, item in enumerate(arg)])
        elif kind == "lookup":
            if isinstance(arg, dict) and True in arg and "on" not in arg:
                arg = {("on" if k is True else k): v for k, v in arg.items()}  # YAML 1.1 reads a bare `on:` as true
            self.mapping(sub, arg, {"table", "on", "key", "take"}, required=("table", "on", "key", "take"))
            node = _Lookup(self.names(f"{sub}.table", arg["table"], "a table name"), self.spec(f"{sub}.on", arg["on"]),
                           self.names(f"{sub}.key", arg["key"]), self.names(f"{sub}.take", arg["take"]))
        elif kind == "template":
            if not isinstance(arg, str) or not _PLACEHOLDER.search(arg):
                raise self.fail(sub, "expected text with {column} placeholders", arg, 'E.g. "{FirstName} {LastName}"')
            node = _Template(arg)
        else:
            node = self.rules(sub, arg, value.get("default"), "default" in value, f"{path}.default")
            return node
        if "values" in value:
            node.values = self.values(f"{path}.values", value["values"])
        if "default" in value:
            node.default = self.spec(f"{path}.default", value["default"], literal=True)
        if "split" in value:
            if not isinstance(value["split"], str) or not value["split"]:
                raise self.fail(f"{path}.split", "expected the separator of a multi-valued column", value["split"],
                                'E.g. split: ";" for "123;456"')
            node.split = value["split"]
        return node

    def values(self, path: str, value: Any) -> dict[str, str | None]:
        if not isinstance(value, dict) or not value:
            raise self.fail(path, "expected a value map (source value: contract value)", value,
                            "E.g. {New Business: new, Renewal: renewal}")
        out: dict[str, str | None] = {}
        for k, v in value.items():
            scalar = (str, int, float, bool)
            if k is None or not isinstance(k, scalar) or not (v is None or isinstance(v, scalar)):
                raise self.fail(f"{path}.{k}", "expected a text or number key and value", {k: v})
            # YAML 1.1 reads Yes/No/On/Off keys as booleans: they stand for every spelling of true/false
            keys = (_TRUE if k else _FALSE) if isinstance(k, bool) else {_norm_value(k) or ""}
            for key in keys:
                out[key] = _out_value(v)
        return out

    def rules(self, path: str, value: Any, default: Any, has_default: bool, default_path: str) -> _Rules:
        if not isinstance(value, list) or not value:
            raise self.fail(path, "expected a non-empty list of {when: ..., then: ...}", value)
        rules = []
        for i, rule in enumerate(value):
            rp = f"{path}[{i}]"
            self.mapping(rp, rule, {"when", "then"}, required=("when", "then"))
            when = rule["when"]
            if not isinstance(when, dict) or not when:
                raise self.fail(f"{rp}.when", "expected conditions (column: test)", when,
                                "E.g. {IsClosed: true, IsWon: false}")
            conds = [(str(col), self.tests(f"{rp}.when.{col}", test)) for col, test in when.items()]
            rules.append((conds, self.spec(f"{rp}.then", rule["then"], literal=True)))
        return _Rules(rules, self.spec(default_path, default, literal=True) if has_default else None)

    def tests(self, path: str, test: Any) -> list[_Test]:
        if isinstance(test, dict):
            self.mapping(path, test, _OPS)
            if not test:
                raise self.fail(path, "expected at least one test", test, f"Tests: {', '.join(_OPS)}")
            return [self.test(f"{path}.{op}", op, arg) for op, arg in test.items()]
        if test is None:
            return [_Test("empty", True)]
        return [self.test(path, "in" if isinstance(test, list) else "equals", test)]

    def test(self, path: str, op: str, arg: Any) -> _Test:
        if op == "empty":
            if not isinstance(arg, bool):
                raise self.fail(path, "expected true or false", arg)
            return _Test("empty", arg)
        items = arg if isinstance(arg, list) else [arg]
        if not items or not all(isinstance(v, (str, int, float, bool)) for v in items):
            raise self.fail(path, "expected a value or a list of values", arg)
        if op in ("equals", "in"):
            keys: set[str] = set()
            for v in items:
                keys |= (_TRUE if v else _FALSE) if isinstance(v, bool) else {_norm_value(v) or ""}
            return _Test("in", sorted(keys))
        words = [_norm_value(v) or "" for v in items]
        if op == "startswith":
            return _Test("startswith", tuple(words))
        pattern = r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)"
        return _Test("contains", re.compile(pattern))

    def mapping_file(self, data: Any, name: str, source: Path | None) -> ColumnMapping:
        self.mapping("(top level)", data, {"name", "description", "tables", "ids"}, required=("tables",))
        ids = data.get("ids")
        if ids is not None and ids not in ID_FORMATS:
            raise self.fail("ids", "unknown record-id form", ids, f"Known: {', '.join(ID_FORMATS)}")
        tables = data["tables"]
        if not isinstance(tables, dict) or not tables:
            raise self.fail("tables", "expected contract table names with their feeds", tables,
                            f"Contract tables: {', '.join(TABLES)}")
        parsed: dict[str, list[Feed]] = {}
        for tname, feeds in tables.items():
            path = f"tables.{tname}"
            if tname not in TABLES:
                raise self.fail(path, f"'{tname}' is not a contract table{did_you_mean(str(tname), TABLES)}", None,
                                f"Contract tables: {', '.join(TABLES)}")
            many = isinstance(feeds, list)
            if many and not feeds:
                raise self.fail(path, "expected a feed or a list of feeds", feeds)
            items = feeds if many else [feeds]
            parsed[tname] = [self.feed(f"{path}[{i}]" if many else path, tname, f) for i, f in enumerate(items)]
        ordered = {t: parsed[t] for t in TABLE_ORDER if t in parsed}
        name = data.get("name", name)
        if not isinstance(name, str):
            raise self.fail("name", "expected text", name)
        description = data.get("description") or ""
        return ColumnMapping(name=name, tables=ordered, source=source, description=str(description), ids=ids)

    def feed(self, path: str, table: str, value: Any) -> Feed:
        self.mapping(path, value, {"from", "aliases", "columns", "description"}, required=("from", "columns"))
        sources = self.names(f"{path}.from", value["from"], "a source table name")
        aliases: dict[str, list[str]] = {}
        raw_aliases = value.get("aliases") or {}
        if not isinstance(raw_aliases, dict):
            raise self.fail(f"{path}.aliases", "expected short name: [alternative headers]", raw_aliases)
        for alias, names in raw_aliases.items():
            aliases[_key(alias)] = self.names(f"{path}.aliases.{alias}", names)
        columns = value["columns"]
        spec = TABLES[table]
        if not isinstance(columns, dict) or not columns:
            raise self.fail(f"{path}.columns", "expected contract column: spec", columns,
                            f"Columns of {table}: {', '.join(spec.names)}")
        parsed: dict[str, _Spec] = {}
        for col, col_spec in columns.items():
            if col not in spec.names:
                raise self.fail(f"{path}.columns.{col}", f"'{col}' is not a column of {table}"
                                f"{did_you_mean(str(col), spec.names)}", None,
                                f"Columns of {table}: {', '.join(spec.names)}")
            parsed[col] = self.spec(f"{path}.columns.{col}", col_spec)
        absent = [c for c in spec.required_columns if c not in parsed]
        if absent:
            raise self.fail(f"{path}.columns", f"no spec for the required column(s) {', '.join(absent)} of {table}",
                            None, f"Required columns of {table}: {', '.join(spec.required_columns)}")
        ordered = {c: parsed[c] for c in spec.names if c in parsed}
        return Feed(table=table, sources=sources, columns=ordered, aliases=aliases, path=path)


def load_mapping(mapping: "str | Path | dict | ColumnMapping | None") -> ColumnMapping | None:
    """Read and check a column mapping.

    Parameters
    ----------
    mapping : str, Path, dict, ColumnMapping or None
        A YAML file, a preset name (``"salesforce"``, ``"hubspot"``), the mapping
        as a dict, an already loaded mapping (returned as is), or None.

    Returns
    -------
    ColumnMapping or None
        None when ``mapping`` is None.

    Raises
    ------
    MappingError
        The file or preset does not exist, is not YAML, or is malformed; the message
        names the file, the key path (e.g. ``tables.opportunities.columns.status``),
        what was received and what is allowed.

    Examples
    --------
    >>> load_mapping("salesforce").name
    'salesforce'
    >>> spec = load_mapping({"tables": {"accounts": {"from": "Account", "columns": {"account_id": "Id"}}}})
    >>> sorted(spec.source_tables())
    ['Account']
    """
    if mapping is None or isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, dict):
        return _Parser("column mapping (dict)").mapping_file(mapping, "mapping", None)
    if not isinstance(mapping, (str, Path)):
        raise MappingError(f"mapping: expected a YAML file, a preset name ({', '.join(preset_names())}) or a dict; "
                           f"got {type(mapping).__name__}")
    text = str(mapping).strip()
    path = Path(text).expanduser()
    is_name = isinstance(mapping, str) and not re.search(r"[/\\]|\.ya?ml$", text, re.IGNORECASE)
    if is_name and not path.is_file():
        presets = preset_names()
        if text.lower() not in presets:
            raise MappingError(f"unknown mapping preset '{text}'{did_you_mean(text, presets)}; presets: "
                               f"{', '.join(presets)}; or give the path of a YAML mapping file")
        path = PRESETS_DIR / f"{text.lower()}.yml"
    data = read_yaml(path, MappingError, "mapping file", f"give a YAML file or a preset ({', '.join(preset_names())})")
    return _Parser(str(path)).mapping_file(data, path.stem, path)


# --------------------------------------------------------------------------- applying
def _with_provenance(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if SOURCE_COL in frame.columns and ROW_COL in frame.columns:
        return frame
    out = frame.copy()
    if SOURCE_COL not in out.columns:
        out[SOURCE_COL] = pd.Series([name] * len(out), index=out.index, dtype=object)
    if ROW_COL not in out.columns:
        out[ROW_COL] = np.arange(1, len(out) + 1, dtype="int64")
    return out


def _label(frame: pd.DataFrame, name: str) -> str:
    if SOURCE_COL in frame.columns and len(frame):
        first = frame[SOURCE_COL].iloc[0]
        if isinstance(first, str) and first:
            return first
    return name


def _default_finding(ctx: _Ctx, table: str, column: str, why: str, default: _Spec) -> dict:
    """The finding for a column made from the mapping's default alone."""
    shown = f"'{default.value}'" if isinstance(default, _Const) else "its default rule"
    return {"table": table, "column": column, "code": "mapping_default", "severity": "info", "rows": len(ctx.frame),
            "example_rows": "", "message": f"{ctx.label} -> {table}.{column}: {why}; every row takes the mapping's "
                                           f"default ({shown})",
            "suggestion": "export the missing table or column too, to get the real values"}


def read_mapped(resolved: str, spec: ColumnMapping, *, findings: list[dict] | None = None) -> tuple:
    """Read the source tables ``spec`` names, as text, and map them.

    Returns
    -------
    raw : RawSource
        What was read (notes, file names).
    raw_tables : dict of str -> DataFrame
        The source tables as text, with their provenance (``_source``, ``_row``).
    tables : dict of str -> DataFrame
        :func:`apply_mapping` of them (``findings`` as there).
    """
    raw = read_source(resolved, tables=spec.source_tables())
    raw_tables = {name: strings_only(frame) for name, frame in raw.tables.items()}
    return raw, raw_tables, apply_mapping(raw_tables, spec, findings=findings)


def apply_mapping(raw: Mapping[str, pd.DataFrame], mapping: "ColumnMapping | str | Path | dict", *,
                  findings: list[dict] | None = None) -> dict[str, pd.DataFrame]:
    """Map raw source tables to contract tables.

    Parameters
    ----------
    raw : dict of str -> DataFrame
        Source table name (file stem, matched case-insensitively) -> its rows, values
        as text, with the provenance columns ``_source`` and ``_row`` (added when absent).
    mapping : ColumnMapping, or anything :func:`load_mapping` accepts
    findings : list, optional
        Receives one finding (a dict of ``journeylib.data.validate.FINDING_COLUMNS``)
        per column made from its ``default:`` alone because what it reads is absent
        from the export (e.g. an optional lookup table): the export loads, and the
        report says what was assumed.

    Returns
    -------
    dict of str -> DataFrame
        Contract table -> one row per row of each source table that feeds it (feeds
        concatenated in the mapping's order), with the contract columns the mapping
        could make (object dtype, missing = None) and ``_source``/``_row`` of the
        source row. Contract tables that no present source feeds are left out; source
        tables the mapping does not read are ignored.

    Raises
    ------
    MappingError
        Required contract columns whose source columns are absent, or a required
        contract table none of whose source tables is present: all listed at once,
        with "did you mean" hints.
    """
    spec = load_mapping(mapping) if not isinstance(mapping, ColumnMapping) else mapping
    if spec is None:
        raise MappingError("apply_mapping: a mapping is required; got None")
    problems: list[str] = []
    plans: dict[str, list[tuple[Feed, _Ctx, list[str]]]] = {}
    for table, feeds in spec.tables.items():
        contract = TABLES[table]
        plan = []
        for feed in feeds:
            name = _find_table(feed.sources, raw)
            if name is None:
                continue
            frame = _with_provenance(raw[name], name)
            ctx = _Ctx(frame=frame, label=_label(frame, name), aliases=feed.aliases, raw=raw,
                       ids=ID_FORMATS[spec.ids] if spec.ids else None)
            usable = []
            for col, col_spec in feed.columns.items():
                missing = col_spec.missing(ctx)
                if not missing:
                    usable.append(col)
                    why = col_spec.fallback(ctx)
                    if why and findings is not None:
                        findings.append(_default_finding(ctx, table, col, why, col_spec.default))
                    several = col_spec.several(ctx)
                    if several and findings is not None:
                        findings.append({
                            "table": table, "column": col, "code": "several_values", "severity": "info",
                            "rows": several, "example_rows": "",
                            "message": f"{ctx.label} -> {table}.{col}: {several} row(s) list several values "
                                       "(e.g. several associated records); the first of each is used",
                            "suggestion": "export the primary association too (e.g. 'Associated Company IDs "
                                          "(Primary)') to choose it"})
                elif contract.column(col).required:
                    problems.append(f"{ctx.label} -> {table}.{col} (required): " + "; ".join(missing))
            plan.append((feed, ctx, usable))
        if plan:
            plans[table] = plan
        elif contract.required:
            wanted = list(dict.fromkeys(n for feed in feeds for n in feed.sources))
            read = ", ".join(sorted(map(str, raw))) or "none"
            problems.append(f"{table} (required table): none of the source tables {_quoted(wanted)} was found; "
                            f"tables read: {read}{_hint(wanted, list(raw))}")
    if problems:
        where = f"'{spec.name}'" + (f" ({spec.source})" if spec.source else "")
        raise MappingError(
            f"the column mapping {where} does not fit the export:\n  - " + "\n  - ".join(problems)
            + "\nRename the columns or tables in the export, or add the export's names to the mapping as alternatives "
              '(e.g. account_id: [AccountId, "Account ID", "Your Header"]).')
    out: dict[str, pd.DataFrame] = {}
    for table, plan in plans.items():
        frames = []
        for feed, ctx, usable in plan:
            data = {}
            for col in usable:
                values = feed.columns[col].evaluate(ctx)
                if ctx.ids is not None and TABLES[table].column(col).kind == "id":
                    values = ctx.ids(values)
                data[col] = values.to_numpy(dtype=object)
            data[SOURCE_COL] = ctx.frame[SOURCE_COL].to_numpy()
            data[ROW_COL] = ctx.frame[ROW_COL].to_numpy()
            frames.append(data)
        names = [c for c in TABLES[table].names if any(c in f for f in frames)]
        parts = []
        for data in frames:
            n = len(data[ROW_COL])
            cols = {c: pd.Series(data[c] if c in data else [None] * n, dtype=object) for c in names}
            cols[SOURCE_COL] = pd.Series(data[SOURCE_COL], dtype=object)
            cols[ROW_COL] = pd.Series(data[ROW_COL])
            parts.append(pd.DataFrame(cols))
        out[table] = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return out
