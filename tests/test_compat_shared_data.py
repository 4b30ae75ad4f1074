"""erlen.compat.shared_data: the package loader's edges, from a zip too."""

from __future__ import annotations

import sys
import typing as t
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from erlen._utils import call_wsgi_app
from erlen.compat._glue import create_environ
from erlen.compat.shared_data import SharedDataMiddleware


def fallback(env: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def get(app: SharedDataMiddleware, path: str) -> tuple[str, dict[str, str], bytes]:
    status, headers, body = call_wsgi_app(app, create_environ(path))
    return status, dict(headers), body


def test_an_unknown_export_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="/x"):
        SharedDataMiddleware(fallback, {"/x": 42})  # type: ignore[arg-type]


@pytest.fixture
def zipped_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = "erlen_test_zipped_pkg"
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        zf.writestr(f"{name}/static/hello.txt", "hello from a zip")
        zf.writestr(f"{name}/static/sub/inner.txt", "inner")
    monkeypatch.syspath_prepend(str(archive))
    yield name
    sys.modules.pop(name, None)


def test_package_loader_serves_files_from_a_zip(zipped_package: str) -> None:
    app = SharedDataMiddleware(fallback, {"/s": (zipped_package, "static")})
    status, headers, body = get(app, "/s/hello.txt")
    assert (status, body) == ("200 OK", b"hello from a zip")
    assert headers["Content-Length"] == "16"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert get(app, "/s/sub/inner.txt")[2] == b"inner"


@pytest.mark.parametrize("path", ["/s", "/s/", "/s/missing.txt", "/s/sub", "/s/../__init__.py"])
def test_package_loader_passes_on_what_it_does_not_serve(zipped_package: str, path: str) -> None:
    app = SharedDataMiddleware(fallback, {"/s": (zipped_package, "static")})
    assert get(app, path)[2] == b"app"
