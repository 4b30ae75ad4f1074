"""The release as a user gets it: the sdist and wheel, installed into a fresh venv.

``python -m build`` makes the sdist and, from it, the wheel (so a file the
sdist forgets is missing from the wheel too); ``twine check`` lints both. The
wheel is then installed into a new virtual environment outside the checkout
(no editable install; pip takes the dependencies from the index or its
cache), and an app in a folder of its own is run with that environment's
``erlen`` command: templates, static files and the debugger's own assets
must all come from the installed package, not from the source tree.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest
from live_servers import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "erlen"


def _source_version() -> str:
    # Read, not imported: the version must be readable without importing erlen,
    # which is how setuptools' dynamic version gets it too.
    tree = ast.parse((SRC / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError("src/erlen/__init__.py sets no __version__")


VERSION = _source_version()


def _run(
    args: list[str | Path],
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run a command to its end (bounded by ``timeout``) and return its stdout; fail on an error."""
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _outside_env() -> dict[str, str]:
    # Nothing that would point the installed interpreter back at the checkout,
    # the dev venv, or Erlen settings of the environment running the tests.
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("ERLEN_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the sdist and the wheel ``python -m build`` made of the checkout."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], timeout=180)
    return out


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (path,) = dist.glob("*.tar.gz")
    return path


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (path,) = dist.glob("*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a new venv with the wheel installed (not editable)."""
    env_dir = tmp_path_factory.mktemp("venv")
    # No pip of its own (seconds saved): the dev venv's pip installs into it.
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel],
        timeout=300,
        cwd=env_dir,
        env=_outside_env(),
    )
    return bin_dir


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """An app with a template, a static file and a view that fails, outside the checkout."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "templates" / "index.html").write_text(
        "<link rel=\"stylesheet\" href=\"{{ url_for('static', filename='site.css') }}\">"
        "<p>Hello {{ name }} from {{ erlen_file }}</p>"
    )
    (tmp_path / "static" / "site.css").write_text("body { color: teal }\n")
    (tmp_path / "shop.py").write_text(
        "import erlen\n"
        "from erlen import Erlen, render_template\n\n"
        "app = Erlen(__name__)\n\n\n"
        '@app.route("/")\n'
        "def index():\n"
        '    return render_template("index.html", name="wheel", erlen_file=erlen.__file__)\n\n\n'
        '@app.route("/fail")\n'
        "def fail():\n"
        '    raise RuntimeError("raised in the installed app")\n'
    )
    return tmp_path


def test_version_is_written_once() -> None:
    # pyproject.toml takes it from erlen.__version__ rather than repeating it.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^dynamic = \[\"version\"\]$", pyproject, re.M)
    assert re.search(r"^version = \{ attr = \"erlen.__version__\" \}$", pyproject, re.M)
    assert not re.search(r"^version = \"", pyproject, re.M)
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", VERSION)


def test_changelog_has_a_section_for_this_version() -> None:
    changes = (ROOT / "CHANGES.md").read_text()
    assert re.search(rf"^## Version {re.escape(VERSION)}\b", changes, re.M), (
        f"CHANGES.md has no '## Version {VERSION}' section"
    )


def test_sdist_and_wheel_pass_twine_check(sdist: Path, wheel: Path) -> None:
    assert sdist.name == f"erlen-{VERSION}.tar.gz"
    assert wheel.name == f"erlen-{VERSION}-py3-none-any.whl"
    output = _run([sys.executable, "-m", "twine", "check", "--strict", sdist, wheel], timeout=60)
    assert output.count("PASSED") == 2, output


def test_wheel_carries_the_license_and_package_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        metadata = whl.read(f"erlen-{VERSION}.dist-info/METADATA").decode()
        license_text = whl.read(f"erlen-{VERSION}.dist-info/licenses/LICENSE").decode()
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "License-Expression: BSD-3-Clause" in metadata
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "Description-Content-Type: text/markdown" in metadata
    for data in (
        "erlen/py.typed",
        "erlen/debug/shared/debugger.js",
        "erlen/debug/shared/style.css",
        "erlen/openapi/ui/init.js",
        "erlen/openapi/ui/swagger-ui/swagger-ui-bundle.js",
        "erlen/openapi/ui/swagger-ui/swagger-ui.css",
        "erlen/openapi/ui/swagger-ui/LICENSE",
    ):
        assert data in names
    # Every module of the source tree, and nothing from tests or examples.
    modules = {f"erlen/{p.relative_to(SRC).as_posix()}" for p in SRC.rglob("*.py")}
    assert modules <= names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "benchmarks/"))]
    # Pure Python unless ERLEN_COMPILE=1 asks for the compiled core (setup.py).
    assert wheel.name.endswith("-py3-none-any.whl")
    assert not [n for n in names if n.endswith((".so", ".pyd"))]


def test_sdist_carries_license_changelog_and_sources(sdist: Path) -> None:
    top = f"erlen-{VERSION}"
    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
    for path in ("LICENSE", "README.md", "CHANGES.md", "pyproject.toml", "setup.py"):
        assert f"{top}/{path}" in names
    assert f"{top}/src/erlen/debug/shared/debugger.js" in names
    # The suite needs the whole repository, so none of it is shipped half.
    assert not [n for n in names if n.startswith(f"{top}/tests/")]


def test_installed_erlen_is_the_wheel(installed: Path, tmp_path: Path) -> None:
    python = installed / "python"
    where = _run(
        [python, "-c", "import erlen, sys; print(erlen.__file__); print(erlen.__version__)"],
        timeout=60,
        cwd=tmp_path,
        env=_outside_env(),
    ).split()
    assert where[1] == VERSION
    location = Path(where[0]).resolve()
    assert location.is_relative_to(installed.parent.resolve())
    assert not location.is_relative_to(ROOT)
    # Installed by a plain (non-editable) install: no .pth or finder pointing back here.
    site = location.parent.parent
    for pth in site.glob("*.pth"):
        assert str(ROOT) not in pth.read_text(), pth


def test_installed_command_lists_routes_and_version(installed: Path, app_dir: Path) -> None:
    erlen = installed / "erlen"
    routes = _run([erlen, "--app", "shop", "routes"], timeout=60, cwd=app_dir, env=_outside_env())
    assert re.search(r"^index\s+GET\s+/\s*$", routes, re.M), routes
    assert re.search(r"^fail\s+GET\s+/fail\s*$", routes, re.M), routes
    assert re.search(r"^static\s+GET\s+/static/<path:filename>\s*$", routes, re.M), routes
    assert f"Erlen {VERSION}" in _run([erlen, "--version"], timeout=60, env=_outside_env())


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read()


def test_installed_app_serves_templates_static_files_and_the_debugger(
    installed: Path, app_dir: Path
) -> None:
    command = [str(installed / "erlen"), "--app", "shop", "run", "--debug", "--no-reload"]
    command += ["--port", "{port}"]
    with ServerProcess(command, cwd=app_dir, env=_outside_env(), lifetime=60) as server:
        status, body = _get(server.url + "/")
        assert status == 200
        page = body.decode()
        assert '<link rel="stylesheet" href="/static/site.css">' in page
        # erlen.__file__ as the app saw it: the venv's copy, not the checkout's.
        assert f"Hello wheel from {installed.parent}" in page
        assert str(SRC) not in page

        assert _get(server.url + "/static/site.css") == (200, b"body { color: teal }\n")

        # The debugger's assets are package data: served from the installed wheel.
        for name in ("debugger.js", "style.css"):
            status, body = _get(f"{server.url}/__debugger__?cmd=resource&f={name}")
            assert status == 200, name
            assert body == (SRC / "debug" / "shared" / name).read_bytes()

        status, body = _get(server.url + "/fail")
        assert status == 500
        assert b"raised in the installed app" in body
        assert b'<script src="/__debugger__?cmd=resource&amp;f=debugger.js">' in body
    assert "Debugger is active" in server.output()
