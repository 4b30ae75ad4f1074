"""``flask.cli`` names that :mod:`erlen.cli` spells differently or leaves out.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import platform
import typing as t

import click

__all__ = ["SeparatedPathType", "get_version", "show_server_banner", "version_option"]

# What erlen.cli reads instead of its own names while the compat layer is
# installed (Erlen's, not in Flask's flask.cli).
#: The default dotenv files, lowest priority first, as Flask names them.
ENV_FILES = (".flaskenv", ".env")
#: The variable naming the app, in the CLI's messages and read when
#: ``ERLEN_APP`` is unset.
APP_VARIABLE = "FLASK_APP"


def dotenv_skipped() -> bool:
    """Whether ``ERLEN_SKIP_DOTENV`` or ``FLASK_SKIP_DOTENV`` turns the default dotenv files off."""
    from ._glue import get_load_dotenv

    return not get_load_dotenv()


def get_version(ctx: click.Context, param: click.Parameter, value: t.Any) -> None:
    """A ``--version`` option's callback: print the Python, Flask API, Werkzeug API and Erlen versions."""
    if not value or ctx.resilient_parsing:
        return
    from .. import __version__
    from ._glue import FLASK_VERSION, WERKZEUG_VERSION

    click.echo(
        f"Python {platform.python_version()}\nFlask {FLASK_VERSION} (Erlen's compat layer)\n"
        f"Werkzeug {WERKZEUG_VERSION} (Erlen's compat layer)\nErlen {__version__}",
        color=ctx.color,
    )
    ctx.exit()


version_option = click.Option(
    ["--version"],
    help="Show the Flask version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


def show_server_banner(debug: bool, app_import_path: str | None) -> None:
    """Print which app is served and whether debug mode is on (not again in a reloader child)."""
    from ..serving import is_running_from_reloader

    if is_running_from_reloader():
        return
    if app_import_path is not None:
        click.echo(f" * Serving Erlen app '{app_import_path}'")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")


class SeparatedPathType(click.Path):
    """A ``click.Path`` option value holding several paths, split like ``PATH`` (``os.pathsep``)."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        items = self.split_envvar_value(value) if isinstance(value, str) else value
        return [super(SeparatedPathType, self).convert(item, param, ctx) for item in items]

    def split_envvar_value(self, rv: str) -> t.Sequence[str]:
        return [item for item in rv.split(os.pathsep) if item]
