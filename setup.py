"""Erlen's build hook: pure Python by default, the compiled core on request.

Everything about the package is in ``pyproject.toml``; this file only adds
extension modules, and only when ``ERLEN_COMPILE=1`` is set::

    ERLEN_COMPILE=1 pip install .            # compiles erlen._compiled.MODULES with mypyc
    ERLEN_COMPILE=1 python -m build --wheel  # a platform wheel with them
    python3 dev.py build --compiled          # the same wheel into dist/, with .venv's mypy

Without it (``pip install .``, ``pip install -e .``, the sdist) nothing is
compiled and the wheel stays ``py3-none-any``. The compiler is mypy's mypyc:
under build isolation it is asked for through ``setup_requires`` (which
setuptools' PEP 517 backend reports as a build requirement), so it is
needed at build time only, and only by a compiled build.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
#: The compiler: mypyc ships with mypy. The floor is the release tested here.
MYPY_REQUIREMENT = "mypy>=1.11"
#: The mypy options of the compile: the build environment has none of Erlen's
#: dependencies, and the modules it compiles import none of them, so imports
#: it cannot find are Any and errors in modules it is not compiling are not
#: its concern (``mypy --strict`` over the whole tree is checked by the tests).
MYPY_OPTIONS = ("--ignore-missing-imports", "--follow-imports=silent")
#: The commands that only write metadata or an sdist: nothing to compile.
METADATA_COMMANDS = frozenset({"egg_info", "dist_info", "sdist"})


def compiled_module_names() -> list[str]:
    """``erlen._compiled.MODULES``, read from its source (Erlen isn't importable here)."""
    tree = ast.parse((ROOT / "src" / "erlen" / "_compiled.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "MODULES"
            and node.value is not None
        ):
            return list(ast.literal_eval(node.value))
    raise RuntimeError("src/erlen/_compiled.py defines no MODULES")


def module_paths(names: Sequence[str]) -> list[str]:
    """The source files of module ``names``, relative to this folder (as setuptools wants)."""
    return ["src/" + name.replace(".", "/") + ".py" for name in names]


def wants_compiled(environ: Mapping[str, str]) -> bool:
    """Whether ``ERLEN_COMPILE`` asks for the compiled build (``1``; unset, empty or ``0``: not).

    :raises SystemExit: Any other value, rather than guess.
    """
    value = environ.get("ERLEN_COMPILE", "").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise SystemExit(f"ERLEN_COMPILE must be 1 (compile) or 0 (pure Python), not {value!r}")


def ext_modules(argv: Sequence[str]) -> list[object]:
    """The extension modules of the compiled build (none for a metadata-only command)."""
    # The first word that isn't an option is the command (setuptools' backend
    # passes e.g. "dist_info --output-dir DIR").
    command = next((arg for arg in argv[1:] if not arg.startswith("-")), "")
    if command in METADATA_COMMANDS:
        return []
    from mypyc.build import mypycify

    # One shared library (erlen__mypyc) for the group: calls between the
    # compiled modules stay native.
    return list(
        mypycify(
            [*MYPY_OPTIONS, *module_paths(compiled_module_names())],
            opt_level="3",
            group_name="erlen",
        )
    )


def main() -> None:
    from setuptools import setup

    if not wants_compiled(os.environ):
        setup()
        return
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        if "egg_info" in sys.argv:
            # PEP 517's get_requires_for_build_wheel runs "egg_info": setuptools'
            # backend turns setup_requires into the build requirements the
            # frontend installs before it builds the wheel.
            setup(setup_requires=[MYPY_REQUIREMENT])
            return
        raise SystemExit(
            f"ERLEN_COMPILE=1 builds with mypyc: install {MYPY_REQUIREMENT!r} into the"
            " build environment (or build with build isolation, which does)."
        ) from None
    setup(ext_modules=ext_modules(sys.argv))


if __name__ == "__main__":
    main()
