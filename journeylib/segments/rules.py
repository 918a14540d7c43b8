"""Rule-based personas from a YAML of firmographic rules, with overlaps and unmatched accounts.

Part of :mod:`journeylib.segments`; import the public names from there.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..errors import ParameterError, did_you_mean
from ..schema import ACCOUNT_ID
from .columns import DEFAULT_RULES_FILE, _check_features

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
    """Rule-based personas from a YAML file, a dict or a list (default: ``journeylib/segments/personas_rules.yml``).

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
