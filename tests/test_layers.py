"""The layers of ARCHITECTURE.md, checked against the code.

The table under "## Layers" lists every module of ``src/erlen`` in one row,
from the top layer down. A function-level import (one inside a function
body, where cycles hide) must point to the importer's own layer or one
below it. Exceptions are named in :data:`FACADES`, each with its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "erlen"

#: (importer, imported) pairs allowed to point up, and why. Keep it short.
FACADES: dict[tuple[str, str], str] = {
    ("erlen.wrappers", "erlen.wsgi"): (
        "Werkzeug's API on the classes: a Response is a WSGI application (Response.__call__)"
        " and Request.from_values builds a request from an environ; the import waits for"
        " the call, so the core never loads an adapter by itself"
    ),
    ("erlen.blueprints", "erlen.cli"): (
        "Flask's API: Blueprint.cli is the CLI's AppGroup; only reading it (to add a"
        " command) loads the CLI and click"
    ),
    ("erlen.wrappers", "erlen.testing"): (
        "Request.from_values takes EnvironBuilder's arguments (extensions' test suites call"
        " it on flask.Request); only that call loads the test tooling"
    ),
}


def _layers() -> dict[str, int]:
    """Module name → layer index (0 is the top) from ARCHITECTURE.md's table."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    layers: dict[str, int] = {}
    for index, row in enumerate(rows):
        cells = row.split("|")
        for name in re.findall(r"`([\w.]+)`", cells[2]):
            assert name not in layers, f"{name} is in two rows of ARCHITECTURE.md's layer table"
            layers[name] = index
    return layers


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(path: Path) -> list[str]:
    parts = _module_name(path).split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of an erlen module inside a function body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _package(path)[: len(_package(path)) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                # `from . import helpers` names a submodule: check that one.
                for alias in node.names:
                    candidate = f"{module}.{alias.name}"
                    if (SRC.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                        SRC.parent / candidate.replace(".", "/")
                    ).is_dir():
                        found.append((node.lineno, candidate))
                    else:
                        found.append((node.lineno, module))
            elif isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name == "erlen" or name.startswith("erlen.")]


def _owner(name: str, layers: dict[str, int]) -> str | None:
    """The table entry of a module (a submodule not listed falls under its package)."""
    while name:
        if name in layers:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_facade(importer: str, target: str) -> bool:
    """Whether ``FACADES`` names the pair (an entry for a package covers its modules)."""
    while importer:
        if (importer, target) in FACADES:
            return True
        importer = importer.rpartition(".")[0]
    return False


MODULES = sorted(SRC.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    layers = _layers()
    missing = [_module_name(p) for p in MODULES if _module_name(p) not in layers]
    assert not missing, f"add these modules to ARCHITECTURE.md's layer table: {missing}"
    gone = sorted(set(layers) - {_module_name(p) for p in MODULES})
    assert not gone, f"ARCHITECTURE.md's layer table lists modules that do not exist: {gone}"


@pytest.mark.parametrize("path", MODULES, ids=[_module_name(p) for p in MODULES])
def test_function_level_imports_point_down(path: Path) -> None:
    layers = _layers()
    importer = _module_name(path)
    upward = []
    for line, name in _function_level_imports(path):
        target = _owner(name, layers)
        assert target is not None, f"{importer}:{line} imports {name}, which is in no layer"
        if layers[target] < layers[importer] and not _is_facade(importer, target):
            upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not upward, "imports that point up the layers of ARCHITECTURE.md:\n" + "\n".join(upward)


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    # The checker itself: an import of the app from the core is caught.
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from erlen.app import Erlen\n    return Erlen\n")
    assert _function_level_imports(module) == [(2, "erlen.app")]
    layers = _layers()
    assert layers["erlen.app"] < layers["erlen.wrappers"]


def test_facades_are_explained() -> None:
    for pair, reason in FACADES.items():
        assert len(reason) > 20, f"say why {pair} may point up"


def test_every_facade_is_still_used() -> None:
    # A facade whose import went away must leave the list.
    layers = _layers()
    used = {
        (_module_name(path), _owner(name, layers))
        for path in MODULES
        for _, name in _function_level_imports(path)
    }
    for importer, target in FACADES:
        assert any(i == importer or i.startswith(importer + ".") for i, t in used if t == target), (
            importer,
            target,
        )
