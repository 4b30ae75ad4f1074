"""Erlen's ``flask`` command (erlen.compat.command): installing, refusing, removing, running.

The launcher is written into temporary folders, never into the test venv's
own ``bin``; the commands it runs are real subprocesses, each bounded in time.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from erlen.cli import compat_command
from erlen.compat import _Finder
from erlen.compat.command import (
    MARKER,
    install_flask_command,
    is_erlen_launcher,
    launcher_source,
    real_flask,
    scripts_dir,
    uninstall_flask_command,
)

TIMEOUT = 60

#: A pip-made console script, as Flask's own `flask` is.
PIP_SCRIPT = """#!/venv/bin/python
# -*- coding: utf-8 -*-
import re
import sys
from flask.cli import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""


def _fake_flask(folder: Path, version: str = "3.1.3") -> Path:
    """A real Flask distribution's metadata, as pip leaves it in site-packages."""
    info = folder / f"flask-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: Flask\nVersion: {version}\n")
    return folder


@pytest.fixture
def no_flask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment where no Flask distribution is installed (only an empty folder is searched)."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(site)])
    return site


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


# -- finding a real Flask -----------------------------------------------------


def test_real_flask_is_none_without_flask(no_flask: Path) -> None:
    assert real_flask() is None


def test_real_flask_finds_an_installed_flask(no_flask: Path) -> None:
    _fake_flask(no_flask, "3.0.2")
    dist = real_flask()
    assert dist is not None
    assert dist.version == "3.0.2"


def test_real_flask_does_not_count_the_compat_layers_own_answer(
    no_flask: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the layer on, importlib.metadata answers for 'flask' from the
    # layer (the API version it follows); that is not a Flask to refuse.
    finder = _Finder({}, frozenset({"flask", "werkzeug"}))
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    from importlib.metadata import version

    assert version("flask") == "3.1.3"
    assert real_flask() is None
    _fake_flask(no_flask, "2.3.3")
    found = real_flask()
    assert found is not None
    assert found.version == "2.3.3"


def test_scripts_dir_is_this_environments() -> None:
    assert scripts_dir() == Path(sys.executable).parent


# -- installing ------------------------------------------------------------------


@pytest.mark.usefixtures("no_flask")
def test_install_writes_an_executable_launcher(bindir: Path) -> None:
    path, replaced = install_flask_command(bindir)
    assert (path, replaced) == (bindir / "flask", False)
    text = path.read_text()
    assert text.startswith(f"#!{os.path.abspath(sys.executable)}\n{MARKER}\n")
    assert "from erlen.compat.command import main" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert is_erlen_launcher(path)
    # No temporary file is left beside it.
    assert [p.name for p in bindir.iterdir()] == ["flask"]


@pytest.mark.usefixtures("no_flask")
def test_installing_again_replaces_erlens_launcher(bindir: Path) -> None:
    install_flask_command(bindir, python="/old/python")
    path, replaced = install_flask_command(bindir, python="/new/python")
    assert replaced
    assert path.read_text().startswith("#!/new/python\n")


def test_install_is_refused_while_a_real_flask_is_installed(no_flask: Path, bindir: Path) -> None:
    _fake_flask(no_flask, "3.1.1")
    with pytest.raises(click.ClickException, match=r"Flask 3\.1\.1 is installed here") as e:
        install_flask_command(bindir)
    assert "erlen --compat" in e.value.message
    assert not (bindir / "flask").exists()


@pytest.mark.usefixtures("no_flask")
@pytest.mark.parametrize("kind", ["pip script", "binary", "symlink", "folder", "dangling symlink"])
def test_install_leaves_a_flask_it_did_not_write(bindir: Path, tmp_path: Path, kind: str) -> None:
    target = bindir / "flask"
    if kind == "pip script":
        target.write_text(PIP_SCRIPT)
    elif kind == "binary":
        target.write_bytes(b"\x7fELF\x00\x01" * 400)
    elif kind == "symlink":
        # Even a link to Erlen's own launcher: it is not a file Erlen wrote there.
        real = tmp_path / "elsewhere"
        real.mkdir()
        install_flask_command(real)
        target.symlink_to(real / "flask")
    elif kind == "folder":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "missing")
    before = os.readlink(target) if target.is_symlink() else None
    with pytest.raises(click.ClickException, match="was not written by Erlen; it is left alone"):
        install_flask_command(bindir)
    if kind == "pip script":
        assert target.read_text() == PIP_SCRIPT
    if before is not None:
        assert os.readlink(target) == before
    assert [p.name for p in bindir.iterdir()] == ["flask"]


@pytest.mark.usefixtures("no_flask")
def test_a_marker_past_the_head_of_a_file_does_not_count(bindir: Path) -> None:
    target = bindir / "flask"
    target.write_text("#!/bin/sh\n" + "#\n" * 600 + MARKER + "\n")
    assert not is_erlen_launcher(target)
    # Nor does the marker inside another line.
    target.write_text(f"#!/bin/sh\necho '{MARKER}'\n")
    assert not is_erlen_launcher(target)


def test_an_unreadable_flask_is_not_erlens(bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = bindir / "flask"
    target.write_text(f"#!/bin/sh\n{MARKER}\n")
    assert is_erlen_launcher(target)

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    # (chmod 0 would not do: the tests may run as root, who reads anything.)
    monkeypatch.setattr(Path, "open", denied)
    assert not is_erlen_launcher(target)


@pytest.mark.usefixtures("no_flask")
def test_install_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(click.ClickException, match="No such folder"):
        install_flask_command(tmp_path / "nope")


@pytest.mark.usefixtures("no_flask")
def test_a_failed_write_leaves_no_temporary_file(
    bindir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        install_flask_command(bindir)
    assert list(bindir.iterdir()) == []


# -- removing ----------------------------------------------------------------------


@pytest.mark.usefixtures("no_flask")
def test_uninstall_removes_erlens_launcher(bindir: Path) -> None:
    path, _ = install_flask_command(bindir)
    assert uninstall_flask_command(bindir) == path
    assert not path.exists()
    assert uninstall_flask_command(bindir) is None


def test_uninstall_leaves_a_flask_it_did_not_write(bindir: Path) -> None:
    (bindir / "flask").write_text(PIP_SCRIPT)
    with pytest.raises(click.ClickException, match="not written by Erlen"):
        uninstall_flask_command(bindir)
    assert (bindir / "flask").read_text() == PIP_SCRIPT


# -- the erlen compat commands ------------------------------------------------------


@pytest.mark.usefixtures("no_flask")
def test_erlen_compat_commands(bindir: Path) -> None:
    runner = CliRunner()
    args = ["--scripts-dir", str(bindir)]
    result = runner.invoke(compat_command, ["install-flask-command", *args])
    assert result.exit_code == 0, result.output
    assert result.output == f"Installed Erlen's flask command: {bindir / 'flask'}\n"
    result = runner.invoke(compat_command, ["install-flask-command", *args])
    assert result.output == f"Updated Erlen's flask command: {bindir / 'flask'}\n"
    result = runner.invoke(compat_command, ["uninstall-flask-command", *args])
    assert result.exit_code == 0, result.output
    assert result.output == f"Removed Erlen's flask command: {bindir / 'flask'}\n"
    result = runner.invoke(compat_command, ["uninstall-flask-command", *args])
    assert result.exit_code == 0, result.output
    assert result.output == "There is no flask command to remove.\n"
    assert list(bindir.iterdir()) == []


def test_erlen_compat_install_refusal_is_an_error(bindir: Path) -> None:
    (bindir / "flask").write_text(PIP_SCRIPT)
    result = CliRunner().invoke(
        compat_command, ["uninstall-flask-command", "--scripts-dir", str(bindir)]
    )
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "not written by Erlen" in result.output


def test_the_erlen_command_refuses_in_an_environment_with_flask(bindir: Path) -> None:
    # The test venv has the real Flask (a dev dependency, to compare with).
    dist = real_flask()
    if dist is None:  # pragma: no cover - the dev venv pins Flask
        pytest.skip("Flask is not installed in this environment")
    result = subprocess.run(
        [sys.executable, "-m", "erlen", "compat", "install-flask-command"]
        + ["--scripts-dir", str(bindir)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 1
    assert f"Error: Flask {dist.version} is installed here" in result.stderr
    assert list(bindir.iterdir()) == []


# -- running it ----------------------------------------------------------------------

APP = '''
import sys

import click
import flask
from flask import Flask, g
from flask.cli import with_appcontext

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "hello"


# The shape of Flask-Migrate's `db` group: a plain click group whose
# callback uses `g` under flask.cli.with_appcontext, added to app.cli.
@click.group()
@click.option("-d", "--directory", default=None)
@with_appcontext
def db(directory):
    """Database migrations."""
    g.directory = directory


@db.command()
@with_appcontext
def where():
    click.echo(f"directory={g.directory}")


@db.command()
@click.argument("code", type=int)
def check(code):
    sys.exit(code)


app.cli.add_command(db)


@app.cli.command()
def info():
    from erlen import Erlen

    click.echo(f"erlen={isinstance(flask.current_app._get_current_object(), Erlen)}")
    click.echo(f"name={flask.current_app.name} debug={flask.current_app.debug}")
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "migrating.py").write_text(textwrap.dedent(APP))
    return folder


@pytest.fixture
def flask_exe(bindir: Path) -> Path:
    target = bindir / "flask"
    target.write_text(launcher_source(os.path.abspath(sys.executable)))
    target.chmod(0o755)
    return target


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "ERLEN_")) and k != "PYTHONPATH"
    }
    env.update(extra)
    return env


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=TIMEOUT
    )


def test_flask_runs_an_extensions_commands_from_flask_app(flask_exe: Path, project: Path) -> None:
    result = _run([str(flask_exe), "db", "-d", "migs", "where"], project, FLASK_APP="migrating.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "directory=migs\n"


def test_flask_exit_codes_are_the_commands(flask_exe: Path, project: Path) -> None:
    # `flask db check` tells by its exit status; scripts depend on it.
    result = _run([str(flask_exe), "db", "check", "3"], project, FLASK_APP="migrating")
    assert result.returncode == 3
    result = _run([str(flask_exe), "no-such-command"], project, FLASK_APP="migrating")
    assert result.returncode == 2
    assert "No such command 'no-such-command'" in result.stderr
    assert result.stderr.startswith("Usage: flask ")


def test_flask_reads_flaskenv_and_flask_debug(flask_exe: Path, project: Path) -> None:
    (project / ".flaskenv").write_text("FLASK_APP=migrating.py\nFLASK_DEBUG=1\n")
    (project / ".erlenenv").write_text("ERLEN_APP=nothing_here.py\n")
    result = _run([str(flask_exe), "info"], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "erlen=True\nname=migrating debug=True\n"
    # The environment wins over the file, as in Flask.
    result = _run([str(flask_exe), "info"], project, FLASK_DEBUG="0")
    assert result.stdout.endswith("debug=False\n")


def test_flask_app_option_and_help(flask_exe: Path, project: Path) -> None:
    result = _run([str(flask_exe), "--app", "migrating", "--help"], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: flask [OPTIONS] COMMAND [ARGS]...")
    assert "FLASK_APP" in result.stdout
    commands = {
        line.split()[0] for line in result.stdout.partition("Commands:")[2].splitlines()[1:]
    }
    assert {"db", "info", "routes", "run", "shell"} <= commands
    # Under the layer from the start: there is no --compat to ask for it.
    assert "--compat" not in result.stdout
    assert "(FLASK_DEBUG)" in result.stdout
    result = _run([str(flask_exe), "--app", "migrating", "routes"], project)
    assert "/hello" in result.stdout


def test_flask_version_is_the_compat_layers(flask_exe: Path, project: Path) -> None:
    result = _run([str(flask_exe), "--version"], project)
    assert result.returncode == 0, result.stderr
    assert "Flask 3.1.3 (Erlen's compat layer)" in result.stdout
    assert "\nErlen " in result.stdout


def test_flask_without_an_app_names_flask_app(flask_exe: Path, project: Path) -> None:
    result = _run([str(flask_exe), "routes"], project)
    assert result.returncode == 2
    assert "FLASK_APP" in result.stderr


def test_flask_run_reads_flask_run_variables(flask_exe: Path, project: Path) -> None:
    # An invalid FLASK_RUN_PORT is reported by `run`'s own option: the
    # variable reaches it (and nothing is served).
    result = _run([str(flask_exe), "run"], project, FLASK_APP="migrating", FLASK_RUN_PORT="x")
    assert result.returncode == 2
    assert "Invalid value for '--port'" in result.stderr


def test_flask_loads_flask_commands_plugins(flask_exe: Path, project: Path, tmp_path: Path) -> None:
    # A package registering a command under Flask's entry point group.
    site = tmp_path / "plugins"
    info = site / "flask_greeter-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flask-greeter\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[flask.commands]\ngreet = flask_greeter:greet\n")
    (site / "flask_greeter.py").write_text(
        "import click\n\n@click.command()\ndef greet():\n    click.echo('greetings')\n"
    )
    result = _run([str(flask_exe), "greet"], project, PYTHONPATH=str(site))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "greetings\n"


def test_python_m_erlen_compat_is_the_flask_command(project: Path) -> None:
    result = _run(
        [sys.executable, "-m", "erlen.compat", "db", "-d", "m", "where"],
        project,
        FLASK_APP="migrating",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "directory=m\n"


def test_a_launcher_whose_python_path_has_a_space(bindir: Path, project: Path) -> None:
    # A '#!' line cannot name such an interpreter: /bin/sh starts it.
    spaced = bindir / "my python"
    spaced.mkdir()
    python = spaced / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    source = launcher_source(str(python))
    assert source.startswith("#!/bin/sh\n")
    flask = bindir / "flask"
    flask.write_text(source)
    flask.chmod(0o755)
    assert is_erlen_launcher(flask)
    result = _run([str(flask), "db", "where"], project, FLASK_APP="migrating")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "directory=None\n"


def test_a_long_interpreter_path_uses_the_sh_form() -> None:
    assert launcher_source("/x" * 80).startswith("#!/bin/sh\n")
    assert launcher_source("/usr/bin/python3").startswith("#!/usr/bin/python3\n")
