"""The layout of docs/architecture.md holds: layers import downwards only, analyses do not import each other,
no package reaches into another's private names, and no module grows past 700 lines."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "journeylib"
# docs/architecture.md, "The packages": a package may import only from lower layers
LAYERS = {
    "errors": 0,
    "schema": 1, "checks": 1, "stages": 1, "config": 1, "yamlfile": 0.5,
    "data": 2,
    "paths": 3, "segments": 3, "survival": 3, "churn": 3, "kpis": 3, "synth": 3, "attribution": 3, "predict": 3,
    "plots": 4,
    "widgets": 5,
    "review": 6,
    "cli": 7, "__main__": 8, "__init__": 8,
}
ANALYSES = {"paths", "segments", "survival", "churn", "kpis", "synth", "attribution", "predict"}
MAX_LINES = 700


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        package = rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem
        parts = ["journeylib", *rel.with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        yield path, package, parts[:-1] if is_package else parts, is_package


def _imports():
    """(module path, its package, imported package, imported names) for every relative import."""
    for path, package, parts, is_package in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = parts if is_package else parts[:-1]
            target = base[:len(base) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            names = [a.name for a in node.names]
            if len(target) >= 2:
                yield path, package, target[1], names
            else:  # "from .. import x"
                for name in names:
                    yield path, package, name, []


def test_every_package_has_a_layer():
    packages = {package for _, package, _, _ in _modules()}
    assert packages <= set(LAYERS), f"add {sorted(packages - set(LAYERS))} to LAYERS and docs/architecture.md"


def test_layers_import_downwards_and_analyses_not_each_other():
    wrong = []
    for path, package, imported, _ in _imports():
        if imported == package or imported == "__version__":
            continue
        if LAYERS.get(imported, 99) >= LAYERS[package] and not (package in ANALYSES and imported in ANALYSES):
            wrong.append(f"{path.relative_to(PACKAGE)} imports {imported} (layer {LAYERS.get(imported)} >= "
                         f"{LAYERS[package]})")
        elif package in ANALYSES and imported in ANALYSES:
            wrong.append(f"{path.relative_to(PACKAGE)}: analysis {package} imports analysis {imported}")
    assert not wrong, "\n".join(wrong)


def test_no_package_imports_another_packages_private_names():
    private = [f"{path.relative_to(PACKAGE)} imports {', '.join(n for n in names if n.startswith('_'))} from "
               f"{imported}" for path, package, imported, names in _imports()
               if imported != package and any(n.startswith("_") for n in names)]
    assert not private, "\n".join(private)


def test_no_module_is_over_700_lines():
    long = {str(p.relative_to(PACKAGE)): n for p, *_ in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules by topic: {long}"
