"""Run the unchanged Flask app on Erlen, inside the root test run.

The root suite also has the real Flask installed (the benchmarks compare
with it), so this folder's tests take the real ``flask``/``werkzeug`` (and
anything imported on top of them) out of ``sys.modules`` for the length of
each test module, install Erlen's compat layer, and put everything back
afterwards: other test files never see the shims.
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import pytest

import erlen.compat

HERE = Path(__file__).resolve().parent
# Everything whose module objects hold on to "flask" once imported.
_SWAPPED = ("flask", "werkzeug", "flask_sqlalchemy", "flask_wtf", "bookshelf")


def _swapped(name: str) -> bool:
    return name.partition(".")[0] in _SWAPPED


@pytest.fixture(scope="module", autouse=True)
def _on_erlen() -> t.Iterator[None]:
    saved = {name: mod for name, mod in sys.modules.items() if _swapped(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(HERE.parent))
    erlen.compat.install()
    try:
        yield
    finally:
        erlen.compat.uninstall()
        sys.path.remove(str(HERE.parent))
        for name in [n for n in sys.modules if _swapped(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture
def app() -> t.Any:
    from bookshelf import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app: t.Any) -> t.Any:
    return app.test_client()
