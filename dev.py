#!/usr/bin/env python3
"""Erlen's developer commands, runnable with nothing but ``python3``.

``python3 dev.py serve`` creates ``.venv``, installs Erlen and what it needs,
and serves the flaskr example (its database created on first run) at
http://127.0.0.1:5000; its other arguments go to ``erlen run`` (``--port 5001``,
``--debug``). Stopping it (Ctrl+C, SIGTERM) stops the server too.
``python3 dev.py test`` does the same setup, then runs the whole test suite
under coverage and prints the coverage report.
``python3 dev.py bench`` runs the benchmark suite against Flask, Bottle, Falcon.
``python3 dev.py docs`` builds the documentation site into ``site/`` (warnings
are errors); ``python3 dev.py docs serve`` serves it at http://127.0.0.1:8000.
``python3 dev.py build --compiled`` builds the wheel with the compiled core
(mypyc; ``setup.py``) into ``dist/``; ``python3 dev.py test --compiled [pytest
args]`` builds it into a temporary folder and runs the suite against it.

The virtual environment is reused while ``pyproject.toml`` is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Mapping
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


#: How long a server child gets to stop after a forwarded signal before it is killed.
STOP_TIMEOUT = 10.0


def _call(cmd: list[str], cwd: Path) -> int:
    """Run ``cmd`` to its end, passing SIGINT, SIGTERM and SIGHUP on to it.

    Without this, ``kill`` (SIGTERM) ends this script at once and leaves the
    server it started running, holding the port. The child gets its own
    session, so a Ctrl+C in the terminal reaches it once, through here (the
    whole group, as the terminal would), and not twice. A child that hasn't
    stopped ``STOP_TIMEOUT`` seconds after a signal is killed.
    """
    if os.name != "posix":  # no process groups: Ctrl+C reaches the child anyway
        return subprocess.call(cmd, cwd=cwd)
    proc = subprocess.Popen(cmd, cwd=cwd, start_new_session=True)
    asked: list[float] = []

    def forward(signum: int, frame: object) -> None:
        asked.append(time.monotonic())
        try:
            if signum == signal.SIGINT:
                os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl+C does
            else:
                # The child stops its own children: erlen's reloader does.
                proc.terminate()
        except ProcessLookupError:
            pass  # it has just exited

    handled = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {}
    for signum in handled:
        # An ignored signal (nohup, a background job of a script) stays ignored.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, forward)
    try:
        while True:
            try:
                # A timeout, so that a child ignoring the signal is noticed.
                rc = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if asked and time.monotonic() - asked[0] > STOP_TIMEOUT:
                    os.killpg(proc.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    # Killed by a signal: the shell's convention, 128 + its number.
    return 128 - rc if rc < 0 else rc


def _option_given(args: list[str], long: str, short: str) -> bool:
    """Whether ``args`` (for ``erlen run``) set an option, in any of click's spellings."""
    for arg in args:
        if arg == "--":
            break
        if arg in (long, short) or arg.startswith((long + "=", short)):
            return True
    return False


def serve_command(args: list[str], environ: Mapping[str, str]) -> list[str]:
    """The ``erlen run`` arguments for ``serve``: 127.0.0.1:5000 unless the user said otherwise."""
    defaults: list[str] = []
    # Given on the command line or as ERLEN_RUN_HOST/ERLEN_RUN_PORT, the
    # user's choice must win; click takes the last of repeated options, which
    # would be no rule to rely on.
    if not _option_given(args, "--host", "-h") and "ERLEN_RUN_HOST" not in environ:
        defaults += ["--host", "127.0.0.1"]
    if not _option_given(args, "--port", "-p") and "ERLEN_RUN_PORT" not in environ:
        defaults += ["--port", "5000"]
    return ["run", *defaults, *args]


def serve(args: list[str]) -> int:
    """Serve examples/flaskr; extra arguments go to ``erlen run`` (e.g. ``--debug``, ``--port``)."""
    ensure_env()
    flaskr = ROOT / "examples" / "flaskr"
    erlen = [str(PY), "-m", "erlen", "--app", "flaskr"]
    # The database lives in examples/flaskr/instance; make it once, keep it after.
    if not (flaskr / "instance" / "flaskr.sqlite").exists():
        rc = _call([*erlen, "init-db"], cwd=flaskr)
        if rc:
            return rc
    return _call([*erlen, *serve_command(args, os.environ)], cwd=flaskr)


def test(args: list[str]) -> int:
    ensure_env()
    if "--compiled" in args:
        return test_compiled([a for a in args if a != "--compiled"])
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
        return _call([str(PY), "-m", "mkdocs", "serve", *args[1:]], cwd=ROOT)
    return _build_docs()


#: What a wheel is built from (copied, so a build never writes into the checkout).
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "CHANGES.md", "MANIFEST.in")


def build_compiled_wheel(out: Path) -> Path:
    """Build the wheel with the compiled core into ``out`` and return its path.

    The sources are copied into a temporary folder first: an in-place build
    would leave extension modules in ``src/erlen``, which Python would then
    import instead of the ``.py`` files being edited. pip builds it in
    isolation, as for a user: setuptools and mypy (the compiler, asked for by
    ``setup.py``) come from the index or pip's cache.
    """
    import shutil
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="erlen-build-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        for name in BUILD_INPUTS:
            shutil.copy2(ROOT / name, tree / name)
        shutil.copytree(
            ROOT / "src",
            tree / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.egg-info"),
        )
        pip = [str(PY), "-m", "pip", "wheel", "--disable-pip-version-check", "-q", "--no-deps"]
        rc = subprocess.call(
            [*pip, "-w", str(tree / "dist"), str(tree)],
            cwd=tmp,
            env={**os.environ, "ERLEN_COMPILE": "1"},
        )
        wheels = list((tree / "dist").glob("erlen-*.whl"))
        if rc or len(wheels) != 1:
            sys.exit("Building the compiled wheel failed; see the output above.")
        target = out / wheels[0].name
        shutil.move(wheels[0], target)
        return target


def build(args: list[str]) -> int:
    """``build --compiled [--out DIR]``: the wheel with the compiled core, into dist/."""
    if "--compiled" not in args:
        sys.exit("usage: python3 dev.py build --compiled [--out DIR]")
    out = Path(args[args.index("--out") + 1]) if "--out" in args else ROOT / "dist"
    ensure_env()
    started = time.monotonic()
    wheel = build_compiled_wheel(out.resolve())
    size = wheel.stat().st_size / 1024
    print(f"{wheel} ({size:.0f} KiB) in {time.monotonic() - started:.0f} s", flush=True)
    return 0


def test_compiled(args: list[str]) -> int:
    """The suite against the compiled core: built, unpacked in a temporary folder, first on the path.

    ``ERLEN_EXPECT_FLAVOUR=compiled`` makes ``tests/test_compiled.py`` fail
    unless every module of ``erlen._compiled.MODULES`` is the extension
    module, so a broken build can't pass by falling back to the ``.py`` files.
    No coverage here: it can't see into extension modules.
    """
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory(prefix="erlen-compiled-") as tmp:
        started = time.monotonic()
        wheel = build_compiled_wheel(Path(tmp) / "dist")
        site = Path(tmp) / "site"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
        print(f"Built {wheel.name} in {time.monotonic() - started:.0f} s", flush=True)
        path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))
        env = {**os.environ, "PYTHONPATH": path, "ERLEN_EXPECT_FLAVOUR": "compiled"}
        return subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env)


def bench(args: list[str]) -> int:
    ensure_env()
    return _run(PY, ROOT / "benchmarks" / "run.py", *args)


COMMANDS = {"serve": serve, "test": test, "bench": bench, "docs": docs, "build": build}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{','.join(COMMANDS)}}} [args...]")
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
