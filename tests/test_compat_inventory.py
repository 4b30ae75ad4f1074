"""The compat layer's surface against the real Flask and Werkzeug's public names.

The inventory is every public name of every public module of the installed
Flask and Werkzeug (the dev extra pins Flask 3.1.3 and Werkzeug 3.1.9). The
rule, written down in ``docs/compat.md``:

- a module is public when no part of its dotted path starts with ``_``;
- its public names are its ``__all__`` when it has one; otherwise the names
  its source binds at the top level (``def``, ``class``, assignment, also
  inside ``if``/``try`` but not under ``if TYPE_CHECKING``) plus the names it
  re-exports the typing way (``from x import y as y``), leaving out names
  starting with ``_``, modules, and ``TypeVar``/``ParamSpec``/``NewType``
  helpers.

Every such name must be provided by ``erlen.compat`` or be on the one
exclusion list in ``docs/compat.md``, and every entry of that list must
still be needed. The inventory is built in a subprocess (running this file):
the compat layer refuses to install once the real ``flask`` is imported.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import subprocess
import sys
import types
import typing as t
from pathlib import Path

DOCS = Path(__file__).parent.parent / "docs" / "compat.md"
ROOTS = ("flask", "werkzeug")
_HELPERS = frozenset({"TypeVar", "ParamSpec", "TypeVarTuple", "NewType"})


def _is_typing_helper(value: ast.expr | None) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _HELPERS


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def _bound_names(body: list[ast.stmt]) -> t.Iterator[str]:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.Assign) and not _is_typing_helper(node.value):
            for target in node.targets:
                yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.value is not None and not _is_typing_helper(node.value):
                yield node.target.id
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            # Only the explicit re-export form, `import a as a` / `from m import x as x`.
            for alias in node.names:
                if alias.asname is not None and alias.asname == alias.name.rpartition(".")[2]:
                    yield alias.asname
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _bound_names(node.body)
            yield from _bound_names(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _bound_names(node.body)
            for handler in node.handlers:
                yield from _bound_names(handler.body)
            yield from _bound_names(node.orelse)
            yield from _bound_names(node.finalbody)


def build_inventory() -> dict[str, list[str]]:
    """``{module: [public names]}`` of the real Flask and Werkzeug (imports them)."""
    inventory: dict[str, list[str]] = {}
    for root in ROOTS:
        package = importlib.import_module(root)
        found = pkgutil.walk_packages(package.__path__, f"{root}.")
        for name in [root, *sorted(m.name for m in found)]:
            if any(part.startswith("_") for part in name.split(".")):
                continue
            module = importlib.import_module(name)
            names = getattr(module, "__all__", None)
            if names is None:
                tree = ast.parse(Path(t.cast(str, module.__file__)).read_text("utf-8"))
                names = {
                    n
                    for n in _bound_names(tree.body)
                    if not n.startswith("_")
                    and not isinstance(getattr(module, n, None), types.ModuleType)
                }
            inventory[name] = sorted(names)
    return inventory


def read_exclusions() -> dict[str, str]:
    """The exclusion list of ``docs/compat.md``: ``{entry: reason}``.

    It is the table between the ``<!-- inventory-exclusions -->`` marker and
    the next section; each
    backticked ``module.name`` (or ``module.*``: that module and its
    submodules) in a row's first cell is an entry, the second cell its reason.
    """
    text = DOCS.read_text("utf-8").partition("<!-- inventory-exclusions -->")[2]
    text = text.partition("\n## ")[0]
    entries: dict[str, str] = {}
    rows = re.findall(r"^\|(.+?)\|(.+)\|\s*$", text.lstrip(), re.M)
    for first, reason in rows:
        if set(first.strip()) <= {"-", " "} or first.strip() == "names":
            continue
        for entry in re.findall(r"`([^`]+)`", first):
            assert entry not in entries, f"{entry} is listed twice"
            entries[entry] = reason.strip()
    return entries


def _covers(entry: str, module: str, name: str) -> bool:
    if entry.endswith(".*"):
        prefix = entry[:-2]
        return module == prefix or module.startswith(f"{prefix}.")
    return entry == f"{module}.{name}"


def _real_inventory() -> dict[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, __file__],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return t.cast(dict[str, list[str]], json.loads(proc.stdout))


def _provided(inventory: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The (module, name) pairs of ``inventory`` the compat layer answers, in a subprocess."""
    code = (
        "import importlib, json, sys\n"
        "import erlen.compat\n"
        "erlen.compat.install()\n"
        "inventory = json.load(sys.stdin)\n"
        "found = []\n"
        "for module, names in inventory.items():\n"
        "    try:\n"
        "        mod = importlib.import_module(module)\n"
        "    except erlen.compat.CompatImportError:\n"
        "        continue\n"
        "    found += [(module, n) for n in names if hasattr(mod, n)]\n"
        "print(json.dumps(found))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(inventory),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return {(m, n) for m, n in json.loads(proc.stdout)}


def test_every_public_name_is_provided_or_excluded() -> None:
    inventory = _real_inventory()
    exclusions = read_exclusions()
    provided = _provided(inventory)
    missing = [
        f"{module}.{name}"
        for module, names in inventory.items()
        for name in names
        if (module, name) not in provided and not any(_covers(e, module, name) for e in exclusions)
    ]
    assert not missing, (
        "provide these in erlen.compat or add them to the exclusion list in docs/compat.md: "
        + ", ".join(missing)
    )
    # Each excluded name is really missing, and names something real: the list stays short.
    for entry in exclusions:
        covered = [
            (module, name)
            for module, names in inventory.items()
            for name in names or [""]
            if _covers(entry, module, name)
        ]
        assert covered, f"{entry} in docs/compat.md's exclusion list is not in Flask or Werkzeug"
        assert not all(pair in provided for pair in covered), (
            f"{entry} is provided now; take it off docs/compat.md's exclusion list"
        )


def test_the_inventory_rule() -> None:
    # The rule on a small module: defined and re-exported names count; plain
    # imports, private names, TypeVars and TYPE_CHECKING imports do not.
    source = (
        "import typing as t\n"
        "from os import path\n"
        "from .x import Shown as Shown, Hidden as Other\n"
        "if t.TYPE_CHECKING:\n"
        "    from .y import OnlyTyping as OnlyTyping\n"
        "T = t.TypeVar('T')\n"
        "CONST = 1\n"
        "_private = 2\n"
        "try:\n"
        "    import fast as fast\n"
        "except ImportError:\n"
        "    fast = None\n"
        "def func(): ...\n"
        "class Thing: ...\n"
    )
    names = set(_bound_names(ast.parse(source).body))
    assert names == {"Shown", "CONST", "_private", "fast", "func", "Thing"}


def test_the_exclusion_list_is_read() -> None:
    exclusions = read_exclusions()
    assert exclusions, "docs/compat.md has no exclusion table after its marker"
    assert all(reason for reason in exclusions.values())
    assert _covers("werkzeug.sansio.*", "werkzeug.sansio.multipart", "Field")
    assert not _covers("werkzeug.sansio.*", "werkzeug.sansiox", "Field")
    assert _covers("werkzeug.local.Local", "werkzeug.local", "Local")
    assert not _covers("werkzeug.local.Local", "werkzeug.local", "LocalStack")


if __name__ == "__main__":
    json.dump(build_inventory(), sys.stdout)
