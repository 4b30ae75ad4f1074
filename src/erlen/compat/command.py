"""Erlen's ``flask`` command: Flask's command line on Erlen, with the compat layer on.

Tools and test suites run ``flask db upgrade``, ``flask run`` or ``flask
routes`` by name. ``erlen compat install-flask-command`` writes a ``flask``
launcher into the running environment's scripts folder (a venv's ``bin``);
it calls :func:`main`, which installs the compat layer and runs Erlen's
command line as Flask's ``flask`` would run: ``FLASK_`` variables, ``--app``
or ``FLASK_APP``, ``.flaskenv`` and ``.env``, the commands that extensions
add to ``app.cli``, and ``flask.commands`` plugins. ``erlen compat
uninstall-flask-command`` removes it. ``python -m erlen.compat`` is the same
command without a launcher.

The launcher is only written where it cannot shadow the real thing: never
while a real Flask distribution is installed, and never over a ``flask``
file that the install did not write.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from importlib.metadata import Distribution, distributions
from pathlib import Path

import click

from ..cli import ErlenGroup, _compat_option, _debug_option, _set_debug
from .cli import version_option

__all__ = [
    "MARKER",
    "cli",
    "install_flask_command",
    "is_erlen_launcher",
    "launcher_source",
    "main",
    "real_flask",
    "uninstall_flask_command",
]

#: The line that marks a ``flask`` file as Erlen's launcher: only a file
#: holding it is replaced or removed.
MARKER = "# erlen-compat-flask-command"

# Where in a file the marker is looked for: the launcher has it on its
# second or fourth line; a pip-made script or binary is never read whole.
_HEAD = 1024

# The kernel reads at most this much of a '#!' line on Linux (127 before 5.1).
_SHEBANG_MAX = 127


class FlaskCommandGroup(ErlenGroup):
    """The ``flask`` command's group: :class:`~erlen.cli.ErlenGroup` with Flask's plugins.

    Besides Erlen's ``erlen.commands``, the commands installed packages
    register under Flask's ``flask.commands`` entry point group are offered,
    as Flask's ``flask`` offers them.

    .. versionadded:: 0.1
    """

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        from importlib.metadata import entry_points

        for ep in entry_points(group="flask.commands"):
            self.add_command(ep.load(), ep.name)
        super()._load_plugin_commands()


_flask_debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Turn debug mode on or off (FLASK_DEBUG).",
    expose_value=False,
    callback=_set_debug,
)


def _flask_cli() -> FlaskCommandGroup:
    group = FlaskCommandGroup(
        name="flask",
        help=(
            "Run and manage a Flask app, on Erlen (Erlen's compat layer is on).\n\n"
            "Name the app with '--app' or the FLASK_APP variable; without either,\n"
            "'wsgi.py' or 'app.py' in the current folder is used. '--debug' or\n"
            "FLASK_DEBUG=1 turns debug mode on. With python-dotenv installed,\n"
            "variables in '.flaskenv' and '.env' are loaded first."
        ),
        add_version_option=False,
        # Options read FLASK_ variables (FLASK_APP, FLASK_DEBUG,
        # FLASK_RUN_PORT, ...), as under Flask's own command.
        context_settings={"auto_envvar_prefix": "FLASK"},
    )
    # The layer is on before any option is read: '--compat' would only be
    # noise in the help. '--debug' says which variable it reads here.
    group.params = [
        _flask_debug_option if p is _debug_option else p
        for p in group.params
        if p is not _compat_option
    ]
    group.params.append(version_option)
    return group


#: The ``flask`` command (run by :func:`main`).
cli = _flask_cli()


def main() -> None:
    """Run the ``flask`` command: install the compat layer, then Erlen's command line.

    What the launcher written by :func:`install_flask_command` and
    ``python -m erlen.compat`` call.
    """
    from . import install

    install()
    # As the erlen command does: a stray unguarded app.run() in the app's
    # module must not start a second server.
    os.environ["ERLEN_RUN_FROM_CLI"] = "true"
    cli.main()


def real_flask() -> Distribution | None:
    """The real Flask distribution installed where this Python imports from, if any.

    The compat layer's own answer for ``flask`` (it reports Flask's API
    version when it is installed) does not count.
    """
    from . import _ShimDistribution

    for dist in distributions(name="flask"):
        if not isinstance(dist, _ShimDistribution):
            return dist
    return None


def scripts_dir() -> Path:
    """The running environment's scripts folder (a venv's ``bin``), where pip puts commands."""
    return Path(sysconfig.get_path("scripts"))


def is_erlen_launcher(path: Path) -> bool:
    """Whether ``path`` is a launcher :func:`install_flask_command` wrote."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except OSError:
        return False
    return MARKER.encode() in head.splitlines()


def launcher_source(python: str) -> str:
    """The ``flask`` launcher's text, run by the interpreter ``python``."""
    if " " in python or len(python) + 2 > _SHEBANG_MAX:
        # A '#!' line cannot hold such a path: /bin/sh runs the interpreter
        # on this same file, which Python reads as a string and a comment.
        head = f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n"
    else:
        head = f"#!{python}\n"
    return (
        f"{head}{MARKER}\n"
        "# Flask's `flask` command on Erlen (Erlen's compat layer on). Written by\n"
        "# `erlen compat install-flask-command`; `erlen compat uninstall-flask-command`\n"
        "# removes it.\n"
        "import sys\n\n"
        "from erlen.compat.command import main\n\n"
        'if __name__ == "__main__":\n'
        "    sys.exit(main())\n"
    )


def _target(folder: str | os.PathLike[str] | None) -> Path:
    return (Path(folder) if folder is not None else scripts_dir()) / "flask"


def install_flask_command(
    folder: str | os.PathLike[str] | None = None, python: str | None = None
) -> tuple[Path, bool]:
    """Write the ``flask`` launcher.

    :param folder: Where to write it (default: :func:`scripts_dir`).
    :param python: The interpreter it runs (default: this one).
    :return: The launcher's path, and whether an earlier launcher was replaced.
    :raises click.ClickException: Windows (where commands are ``.exe``
        files), a real Flask is installed, or ``flask`` there is not an
        Erlen launcher.
    """
    if os.name == "nt":  # pragma: no cover - the tests run on POSIX
        raise click.ClickException(
            "The flask launcher is a POSIX script; on Windows run 'python -m erlen.compat'"
            " where you would run 'flask'."
        )
    dist = real_flask()
    if dist is not None:
        raise click.ClickException(
            f"Flask {dist.version} is installed here ({dist.locate_file('')}), and its 'flask'"
            " command runs the real Flask. Uninstall Flask to use Erlen's, or run"
            " 'erlen --compat' (or 'python -m erlen.compat') instead."
        )
    target = _target(folder)
    replaced = os.path.lexists(target)
    if replaced and not is_erlen_launcher(target):
        raise click.ClickException(
            f"{str(target)!r} exists and was not written by Erlen; it is left alone. Remove it"
            " first if Erlen's 'flask' should take its place."
        )
    if not target.parent.is_dir():
        raise click.ClickException(f"No such folder: {str(target.parent)!r}.")
    text = launcher_source(python or _interpreter())
    # Written beside the target and renamed over it: a 'flask' running at
    # this moment never reads half a file.
    fd, tmp = tempfile.mkstemp(prefix=".flask-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # mkstemp makes it private (0600); a command is everyone's to run.
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return target, replaced


def uninstall_flask_command(folder: str | os.PathLike[str] | None = None) -> Path | None:
    """Remove the ``flask`` launcher.

    :param folder: Where it is (default: :func:`scripts_dir`).
    :return: The removed launcher's path, or ``None`` when there was none.
    :raises click.ClickException: ``flask`` there is not an Erlen launcher.
    """
    target = _target(folder)
    if not os.path.lexists(target):
        return None
    if not is_erlen_launcher(target):
        raise click.ClickException(
            f"{str(target)!r} was not written by Erlen (it may be Flask's own command);"
            " it is left alone."
        )
    target.unlink()
    return target


def _interpreter() -> str:
    # A venv's python is a symlink to the base interpreter: keeping the
    # link (not resolving it) keeps the venv's site-packages.
    return os.path.abspath(sys.executable)
