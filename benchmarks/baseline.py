"""Erlen at another git revision, importable beside today's as ``erlen_baseline``.

``--baseline REV`` (``run.py``, ``asgi_run.py``) adds a framework ``erlen@REV``:
``src/erlen`` as of ``REV`` (``git archive``), unpacked into a temporary folder
as the package ``erlen_baseline``, and the same app module (``apps_erlen.py``,
``apps_asgi_erlen.py``) run from its source with ``erlen`` renamed, so both
versions answer the same app in one process.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "erlen_baseline"
#: The absolute imports of Erlen (``from erlen...``, ``import erlen``), line by line.
_IMPORT = re.compile(r"^(\s*(?:from|import) )erlen\b", re.MULTILINE)


def _rename(source: str) -> str:
    return _IMPORT.sub(rf"\g<1>{PACKAGE}", source)


@functools.cache
def install(rev: str) -> Path:
    """Unpack ``src/erlen`` at ``rev`` as ``erlen_baseline`` on ``sys.path``; return its folder."""
    archive = subprocess.run(
        ["git", "archive", rev, "src/erlen"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="erlen-baseline-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = (folder / "src" / "erlen").rename(folder / PACKAGE)
    for path in package.rglob("*.py"):
        path.write_text(_rename(path.read_text()))
    sys.path.insert(0, str(folder))
    return package


def import_apps(module: str, rev: str = "") -> ModuleType:
    """Import the app module ``module``; with ``rev``, a copy of it on Erlen at ``rev``.

    The copy runs from the module's own source with ``erlen`` renamed, under
    the name ``<module>@<rev>`` and the same ``__file__`` (so the app finds
    the same templates).
    """
    if not rev:
        return importlib.import_module(module)
    install(rev)
    name = f"{module}@{rev}"
    if name not in sys.modules:
        path = importlib.util.find_spec(module).origin
        copy = sys.modules[name] = ModuleType(name)
        copy.__file__ = path
        exec(compile(_rename(Path(path).read_text()), path, "exec"), copy.__dict__)
    return sys.modules[name]
