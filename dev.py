#!/usr/bin/env python3
"""Erlen's developer commands, runnable with nothing but ``python3``.

``python3 dev.py serve`` creates ``.venv``, installs Erlen and what it needs,
and serves the flaskr example (its database created on first run) at
http://127.0.0.1:5000.
``python3 dev.py test`` does the same setup, then runs the whole test suite
under coverage and prints the coverage report.
``python3 dev.py bench`` runs the benchmark suite against Flask, Bottle, Falcon.
``python3 dev.py docs`` builds the documentation site into ``site/`` (warnings
are errors); ``python3 dev.py docs serve`` serves it at http://127.0.0.1:8000.

The virtual environment is reused while ``pyproject.toml`` is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".erlen-installed"


def _run(*args: str | Path) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT)


def ensure_env() -> None:
    """Create the venv and install ``erlen[dev]`` unless already up to date."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print("Creating .venv ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as e:
            sys.exit(
                f"Creating the virtual environment failed ({e}).\n"
                "Python's venv/ensurepip module is missing; on Debian or Ubuntu"
                " run: apt-get install python3-venv"
            )
    pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if _run(*pip, "--upgrade", "pip") or _run(*pip, "-e", f"{ROOT}[dev]"):
        sys.exit("Installing Erlen's dependencies failed; see the pip output above.")
    STAMP.write_text(digest)


def serve(args: list[str]) -> int:
    """Serve examples/flaskr; extra arguments go to ``erlen run`` (e.g. ``--debug``)."""
    ensure_env()
    flaskr = ROOT / "examples" / "flaskr"
    erlen = [str(PY), "-m", "erlen", "--app", "flaskr"]
    # The database lives in examples/flaskr/instance; make it once, keep it after.
    if not (flaskr / "instance" / "flaskr.sqlite").exists():
        rc = subprocess.call([*erlen, "init-db"], cwd=flaskr)
        if rc:
            return rc
    return subprocess.call(
        [*erlen, "run", "--host", "127.0.0.1", "--port", "5000", *args], cwd=flaskr
    )


def test(args: list[str]) -> int:
    ensure_env()
    docs_rc = _build_docs(check_only=True)
    # The checks first: they take seconds, the suite minutes.
    print("ruff check . && ruff format --check . && mypy --strict (src/erlen) ...", flush=True)
    lint_rc = (
        _run(PY, "-m", "ruff", "check", ".")
        or _run(PY, "-m", "ruff", "format", "--check", ".")
        or _run(PY, "-m", "mypy")
    )
    rc = _run(PY, "-m", "coverage", "run", "-m", "pytest", *args)
    report_rc = _run(PY, "-m", "coverage", "report")
    return rc or docs_rc or lint_rc or report_rc


def _build_docs(check_only: bool = False) -> int:
    """Build the docs site with warnings as errors; skip if MkDocs is missing."""
    if subprocess.call(
        [str(PY), "-c", "import mkdocs, material, mkdocstrings"], stderr=subprocess.DEVNULL
    ):
        print(
            "Skipping the docs build: MkDocs is not installed (pip install -e '.[docs]').",
            flush=True,
        )
        return 0
    # Material prints a banner about MkDocs 2.0 on every build; it is not a warning about our docs.
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if not check_only:
        return _run(PY, "-m", "mkdocs", "build", "--strict")
    import tempfile

    print("Building the docs (mkdocs build --strict) ...", flush=True)
    with tempfile.TemporaryDirectory() as site:
        # NOTE: no --quiet: it hides warnings from the --strict count too.
        rc = _run(PY, "-m", "mkdocs", "build", "--strict", "--site-dir", site)
    if rc:
        print("The docs build failed; see the warnings above.", flush=True)
    return rc


def docs(args: list[str]) -> int:
    """``docs`` builds the site into site/; ``docs serve`` serves it with live reload."""
    ensure_env()
    if args[:1] == ["serve"]:
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
        return _run(PY, "-m", "mkdocs", "serve", *args[1:])
    return _build_docs()


def bench(args: list[str]) -> int:
    ensure_env()
    return _run(PY, ROOT / "benchmarks" / "run.py", *args)


COMMANDS = {"serve": serve, "test": test, "bench": bench, "docs": docs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{','.join(COMMANDS)}}} [args...]")
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
