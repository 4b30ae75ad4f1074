"""The ``erlen`` command line: find an app, then run, inspect or script it.

``erlen --app hello run`` imports ``hello``, finds the :class:`~erlen.Erlen`
app in it and serves it with the development server. Apps add their own
commands with ``@app.cli.command()``; those show up in ``erlen --help`` and
run inside an application context.

How the app is found (the first rule that gives one wins):

* ``--app`` / ``ERLEN_APP``: ``module``, ``module:name``,
  ``module:factory(literal, args)``, or a file path such as ``src/hello.py``;
* otherwise ``wsgi.py`` or ``app.py`` in the current directory (or
  ``--app-dir``);
* within the module: an attribute ``app`` or ``application``, else the only
  :class:`~erlen.Erlen` instance, else a factory ``create_app`` or
  ``make_app`` called without arguments.

This module imports click, so :mod:`erlen` itself only loads it when a
command line is built (``app.cli`` or the ``erlen`` script).
"""

from __future__ import annotations

import os
import platform
import sys
import traceback
import typing as t
from functools import update_wrapper

import click
from click.core import ParameterSource

from .cli_discovery import (  # noqa: F401 - erlen.cli is where Flask keeps these names
    DEFAULT_APP_FILES,
    NoAppException,
    _names_a_file,
    _NoAppFound,
    _split_import_path,
    find_app_by_string,
    find_best_app,
    locate_app,
    prepare_import,
)

if t.TYPE_CHECKING:
    from types import ModuleType

    from .app import Erlen

__all__ = [
    "AppGroup",
    "CertParamType",
    "ErlenGroup",
    "FlaskGroup",
    "NoAppException",
    "ScriptInfo",
    "load_dotenv",
    "locate_app",
    "main",
    "pass_script_info",
    "prepare_import",
    "with_appcontext",
]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: The dotenv files loaded by default, lowest priority first.
DEFAULT_ENV_FILES = (".erlenenv", ".env")


def get_debug_flag() -> bool:
    """Whether ``ERLEN_DEBUG`` asks for debug mode (anything but empty, 0, false, no, off)."""
    value = os.environ.get("ERLEN_DEBUG", "")
    return bool(value) and value.lower() not in ("0", "false", "no", "off")


class ScriptInfo:
    """What the commands need to load the app, shared through click's context.

    :param app_import_path: What ``--app`` gave, or ``None`` to look for
        ``wsgi.py``/``app.py``.
    :param create_app: A function returning the app; wins over the import
        path.
    :param set_debug_flag: Set ``app.debug`` from ``--debug``/``ERLEN_DEBUG``
        after loading.
    :param load_dotenv_defaults: Load ``.erlenenv`` and ``.env`` (unless
        ``ERLEN_SKIP_DOTENV`` is true when the command line is parsed).
    :param app_dir: The folder that a relative app path, ``wsgi.py`` and
        ``app.py`` are relative to (default: the current one).

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., Erlen] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
        app_dir: str | None = None,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = load_dotenv_defaults
        self.app_dir = app_dir
        #: Free space for commands and extensions to share data.
        self.data: dict[t.Any, t.Any] = {}
        self._loaded_app: Erlen | None = None

    def load_app(self) -> Erlen:
        """Load the app once and return it (the same object on later calls).

        :raises NoAppException: Nothing gives an app.
        """
        if self._loaded_app is not None:
            return self._loaded_app

        app: Erlen | None = None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, name = _split_import_path(self.app_import_path)
            target = self._path(path)
            if _names_a_file(path) and not os.path.exists(target):
                # Checked first: the module name alone ('app') could import
                # some other module of that name from the Python path.
                full = os.path.abspath(target)
                where = "" if full == path else f" ({full!r})"
                raise NoAppException(f"Could not import {path!r}: no such file or folder{where}.")
            module_name = prepare_import(target)
            app = locate_app(module_name, name, raise_if_not_found=False)
            if app is None:
                # prepare_import put the module's folder first on sys.path.
                raise NoAppException(
                    f"Could not import {module_name!r}: no such module or file in"
                    f" {sys.path[0]!r} or on the Python path."
                )
        else:
            for filename in DEFAULT_APP_FILES:
                app = locate_app(
                    prepare_import(self._path(filename)), None, raise_if_not_found=False
                )
                if app is not None:
                    break
            else:
                folder = os.path.abspath(self.app_dir or os.curdir)
                compat = _compat_cli()
                variable = "ERLEN_APP" if compat is None else compat.APP_VARIABLE
                raise _NoAppFound(
                    f"Could not find an Erlen app: give one with '--app' or {variable}, or put"
                    f" it in 'wsgi.py' or 'app.py' in {folder!r}."
                )

        if app is None:
            raise NoAppException("The app factory returned None, not an Erlen app.")
        if self.set_debug_flag:
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app

    def _path(self, path: str) -> str:
        # Relative app paths are relative to --app-dir when it is given.
        return os.path.join(self.app_dir, path) if self.app_dir is not None else path


#: Decorator passing the :class:`ScriptInfo` as the first argument.
pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: _F) -> _F:
    """Run the decorated command inside the app's application context.

    The app is loaded when the command runs; an already active context
    (e.g. in tests) is used as is. Commands of :class:`AppGroup` get this
    unless registered with ``with_appcontext=False``.

    .. versionadded:: 0.1
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        from .globals import _cv

        if _cv.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(decorator, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A click group whose commands run inside the app context by default.

    ``app.cli`` is one. Pass ``with_appcontext=False`` to
    :meth:`command` for a command that doesn't need the app; :meth:`group`
    makes nested :class:`AppGroup` groups.

    .. versionadded:: 0.1
    """

    def command(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Register a command, wrapped in :func:`with_appcontext` unless told not to."""
        wrap = kwargs.pop("with_appcontext", True)
        func: t.Callable[..., t.Any] | None = None
        if len(args) == 1 and callable(args[0]):
            # Bare ``@group.command`` without parentheses.
            func, args = args[0], ()

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            command: click.Command = click.Group.command(self, *args, **kwargs)(f)
            return command

        if func is not None:
            return decorator(func)
        return decorator

    def group(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Register a sub-group, an :class:`AppGroup` unless ``cls`` is given."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)


# -- the top-level options ----------------------------------------------------


def _script_info(ctx: click.Context) -> ScriptInfo:
    return ctx.ensure_object(ScriptInfo)


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None and (compat := _compat_cli()) is not None:
        value = os.environ.get(compat.APP_VARIABLE) or None
    if value is not None:
        _script_info(ctx).app_import_path = value
    return value


def _set_app_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        _script_info(ctx).app_dir = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    # Only an explicit flag or ERLEN_DEBUG counts; the default must not
    # override what the environment says. The value goes into the
    # environment so the app (and make_config) see it wherever they look.
    source = ctx.get_parameter_source(param.name)
    if source is None or source in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        return None
    os.environ["ERLEN_DEBUG"] = "1" if value else "0"
    return value


def _load_env_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    info = _script_info(ctx)
    if value is not None and not _have_dotenv():
        raise click.BadParameter(
            "python-dotenv must be installed to load an env file (pip install python-dotenv).",
            ctx=ctx,
            param=param,
        )
    # The variable is read here, not when the ScriptInfo is made: under
    # '--compat' only now is the layer on (and FLASK_SKIP_DOTENV read).
    defaults = info.load_dotenv_defaults and not _dotenv_skipped()
    if value is not None or defaults:
        load_dotenv(value, load_defaults=defaults)
    return value


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from . import __version__

    click.echo(
        f"Python {platform.python_version()}\nErlen {__version__}\nClick {_dist_version('click')}",
        color=ctx.color,
    )
    ctx.exit()


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - click is a dependency
        return "unknown"


_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help="Load environment variables from this file (needs python-dotenv). Variables already set win.",
    is_eager=True,
    expose_value=False,
    callback=_load_env_file,
)
_app_dir_option = click.Option(
    ["--app-dir"],
    type=click.Path(exists=True, file_okay=False),
    help="Look for the app (and wsgi.py/app.py) relative to this folder instead of the current one.",
    is_eager=True,
    expose_value=False,
    callback=_set_app_dir,
)
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    help=(
        "The app to load: 'module', 'module:name', 'module:create_app(\"arg\")' or a"
        " path to a .py file. Default: wsgi.py or app.py here."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
)
_debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Turn debug mode on or off (ERLEN_DEBUG).",
    expose_value=False,
    callback=_set_debug,
)


def _set_compat(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    # Before the app is imported (that happens when a command is looked up),
    # so the app's `import flask` gets Erlen.
    if value:
        from .compat import install

        install()
    return value


_compat_option = click.Option(
    ["--compat/--no-compat"],
    default=False,
    help="Run a Flask app unchanged: 'flask' and 'werkzeug' imports resolve to Erlen (ERLEN_COMPAT).",
    is_eager=True,
    expose_value=False,
    callback=_set_compat,
)
_version_option = click.Option(
    ["--version"],
    help="Show the Erlen and Python versions.",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_show_version,
)


_LISTING = "erlen.listing_commands"


class ErlenGroup(AppGroup):
    """The ``erlen`` command: an :class:`AppGroup` that also offers the app's commands.

    It adds ``--app``, ``--app-dir``, ``--env-file``, ``--debug``,
    ``--compat`` (see :mod:`erlen.compat`) and ``--version``, the ``run``,
    ``shell`` and ``routes`` commands, commands installed packages register
    under the ``erlen.commands`` entry point group, and the commands of the
    loaded app's ``app.cli``. Options can also be set with ``ERLEN_``
    variables (``ERLEN_APP``, ``ERLEN_COMPAT``, ``ERLEN_RUN_PORT``, ...).

    :param add_default_commands: Add ``run``, ``shell`` and ``routes``.
    :param create_app: A function returning the app, instead of discovery.
    :param add_version_option: Add ``--version``.
    :param load_dotenv: Load ``.erlenenv`` and ``.env`` first.
    :param set_debug_flag: Set ``app.debug`` from ``--debug``/``ERLEN_DEBUG``.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: t.Callable[..., Erlen] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        # The env files go before the app options so that ERLEN_APP set in
        # them is seen, after --compat so that under the layer they are Flask's.
        params.extend(
            (_compat_option, _env_file_option, _app_dir_option, _app_option, _debug_option)
        )
        if add_version_option:
            params.append(_version_option)
        settings = dict(extra.pop("context_settings", None) or {})
        settings.setdefault("auto_envvar_prefix", "ERLEN")
        super().__init__(params=params, context_settings=settings, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
        self._plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        from importlib.metadata import entry_points

        for ep in entry_points(group="erlen.commands"):
            self.add_command(ep.load(), ep.name)
        self._plugins_loaded = True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in or plugin command, else one from the app's ``cli``."""
        self._load_plugin_commands()
        rv = super().get_command(ctx, cmd_name)
        if rv is not None:
            return rv
        try:
            app = _script_info(ctx).load_app()
        except NoAppException as e:
            # Say why the app's commands are missing before click reports
            # the unknown command.
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        from .globals import _cv

        # App commands run inside the app context, like with_appcontext;
        # listing them for the help needs none. (The help is shown while
        # parsing, where click never closes the context, so a context
        # pushed then would stay active.)
        current = _cv.get(None)
        if not ctx.meta.get(_LISTING) and (current is None or current.app is not app):
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command list for the help, app commands included."""
        ctx.meta[_LISTING] = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            del ctx.meta[_LISTING]

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in, plugin and app command names, sorted."""
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        try:
            names.update(_script_info(ctx).load_app().cli.list_commands(ctx))
        except _NoAppFound as e:
            # No app named, none here: the help is all that was asked for
            # (Flask says where to name one, and so does the compat layer).
            if _compat_cli() is not None:
                click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except NoAppException as e:
            # --help still works without an app; say why its commands are missing.
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            # A broken app must not hide the help, but its error must show.
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        """Start the context with a :class:`ScriptInfo` built from this group's settings."""
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse; with no arguments, still read env files and ``ERLEN_APP`` for the help."""
        if not args and self.no_args_is_help:
            # click shows the help before processing options, so the app's
            # commands would be missing from it.
            _compat_option.handle_parse_result(ctx, {}, [])
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)


#: Flask's name for :class:`ErlenGroup`, for code ported from Flask.
FlaskGroup = ErlenGroup


# -- dotenv --------------------------------------------------------------------


def _have_dotenv() -> bool:
    try:
        import dotenv  # noqa: F401
    except ImportError:
        return False
    return True


def _compat_cli() -> ModuleType | None:
    """:mod:`erlen.compat.cli`, which has Flask's names for the CLI, when the compat layer is on."""
    # Only a process that imported erlen.compat can have installed it: for
    # every other one this is a dict lookup.
    compat = sys.modules.get("erlen.compat")
    if compat is None or not compat.is_installed():
        return None
    from .compat import cli

    return cli


def _dotenv_skipped() -> bool:
    """Whether ``ERLEN_SKIP_DOTENV`` (or, under the compat layer, ``FLASK_SKIP_DOTENV``) is true."""
    compat = _compat_cli()
    if compat is not None:
        return bool(compat.dotenv_skipped())
    return os.environ.get("ERLEN_SKIP_DOTENV", "").lower() not in ("", "0", "false", "no")


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Load environment variables from dotenv files (needs python-dotenv).

    The defaults ``.erlenenv`` then ``.env`` (``.flaskenv`` then ``.env``
    under the compat layer) are searched from the current folder upward;
    ``path`` is loaded last and wins over them. Variables already in the
    environment are never changed.

    :param path: An extra file to load.
    :param load_defaults: Load ``.erlenenv`` and ``.env``.
    :return: Whether any variable was read. Without python-dotenv nothing
        is loaded (a tip is shown when such files are present) and the
        result is ``False``.

    .. versionadded:: 0.1
    """
    compat = _compat_cli()
    env_files = DEFAULT_ENV_FILES if compat is None else compat.ENV_FILES
    try:
        import dotenv
    except ImportError:
        if path or any(os.path.isfile(name) for name in env_files):
            click.secho(
                " * Tip: there are .env files here. Install python-dotenv to use them.",
                fg="yellow",
                err=True,
            )
        return False

    data: dict[str, str | None] = {}
    if load_defaults:
        for name in env_files:
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                data.update(dotenv.dotenv_values(found, encoding="utf-8"))
    if path is not None and os.path.isfile(path):
        data.update(dotenv.dotenv_values(path, encoding="utf-8"))

    for key, value in data.items():
        if key not in os.environ and value is not None:
            os.environ[key] = value
    return bool(data)


# -- built-in commands ---------------------------------------------------------


class CertParamType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """The ``run --cert`` value: a certificate file, ``adhoc``, or an importable :class:`ssl.SSLContext`.

    A path must name an existing file (it becomes an absolute path; ``--key``
    then names the key file). ``adhoc`` asks for a throwaway self-signed
    certificate, which needs the ``cryptography`` package. Anything else is
    imported (``module:name`` or ``module.name``) and must be an
    :class:`ssl.SSLContext`.

    .. versionadded:: 0.1
    """

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        try:
            import ssl
        except ImportError:
            raise click.BadParameter(
                'Using "--cert" needs a Python built with the ssl module.', ctx, param
            ) from None
        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            if str(value).lower() == "adhoc":
                try:
                    import cryptography  # noqa: F401 - only whether it is there
                except ImportError:
                    raise click.BadParameter(
                        "An ad-hoc certificate is made with the cryptography package:"
                        " pip install cryptography.",
                        ctx,
                        param,
                    ) from None
                return "adhoc"
            from ._utils import import_string

            found = import_string(str(value), silent=True)
            if isinstance(found, ssl.SSLContext):
                return found
            raise click.BadParameter(
                f"{value!r} is not a certificate file, 'adhoc', or the import path of an"
                " ssl.SSLContext.",
                ctx,
                param,
            ) from None


def _validate_key(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Pair ``--key`` with ``--cert`` in ``ctx.params["cert"]``: a key file needs a certificate file."""
    # --cert is eager, so it is already converted whichever comes first.
    cert = ctx.params.get("cert")
    takes_no_key = cert == "adhoc" or (
        cert is not None and not isinstance(cert, (str, tuple))  # an ssl.SSLContext
    )
    if value is None:
        if cert is not None and not takes_no_key:
            raise click.BadParameter('Required when using "--cert" with a file.', ctx, param)
        return
    if cert == "adhoc":
        raise click.BadParameter('"--key" is not used with "--cert adhoc".', ctx, param)
    if takes_no_key:
        raise click.BadParameter(
            '"--key" is not used when "--cert" is an SSLContext (it holds its key).', ctx, param
        )
    if cert is None:
        raise click.BadParameter('"--cert" must be given too.', ctx, param)
    ctx.params["cert"] = (cert, value)


def _split_paths(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    # A list in ctx.params, as Flask's path-list option type gives.
    if not value:
        return None
    return [path for path in value.split(os.pathsep) if path]


@click.command("run", short_help="Run a development server.")
@click.option(
    "--host", "-h", default="127.0.0.1", show_default=True, help="The interface to bind to."
)
@click.option("--port", "-p", default=5000, show_default=True, help="The port to bind to.")
@click.option(
    "--cert",
    type=CertParamType(),
    is_eager=True,
    help="Serve HTTPS with this certificate file (and --key), 'adhoc', or an"
    " importable ssl.SSLContext ('module:name').",
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_validate_key,
    expose_value=False,
    help="The key file of the --cert certificate file.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart when a source file changes (default: on in debug mode).",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Show an interactive debugger on errors (default: on in debug mode).",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    help="Handle each connection in its own thread.",
)
@click.option(
    "--extra-files",
    default=None,
    callback=_split_paths,
    help=f"More files the reloader watches, separated by {os.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    default=None,
    callback=_split_paths,
    help=f"Files the reloader ignores (fnmatch patterns), separated by {os.pathsep!r}.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    cert: t.Any,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Run a development server for the app.

    It is for development only: use a production WSGI server (gunicorn,
    waitress, ...) to deploy. In debug mode the reloader and debugger are
    asked for by default.
    """
    from .serving import is_running_from_reloader, run_simple

    app: t.Any
    try:
        app = info.load_app()
    except Exception as e:
        if not is_running_from_reloader():
            raise  # the first load: fail now, with the error
        # The reloader's child after a bad edit (a syntax error, say). Exiting
        # would leave the watcher holding the port with nobody serving it, so
        # requests would wait until the next edit. Serve the error instead:
        # the debugger shows the import's traceback, and the next change to a
        # watched file restarts this child with the fixed code.
        traceback.print_exc()
        app = _import_error_app(e)
        debug = get_debug_flag()
        reload = True  # this is the reloader's child, whatever the default
    else:
        debug = get_debug_flag() if info.set_debug_flag else app.debug
    if reload is None:
        reload = debug
    if debugger is None:
        debugger = debug

    # The reloader's child runs this command again on every restart; the
    # watcher has said it all once.
    if not is_running_from_reloader():
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")
    run_simple(
        host,
        port,
        app,
        threaded=with_threads,
        use_reloader=reload,
        use_debugger=debugger,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
        asgi=None,  # the ASGI side (WebSockets) when uvicorn is installed
        ssl_context=cert,
    )


def _import_error_app(error: Exception) -> t.Callable[..., t.Any]:
    """A WSGI app that raises ``error`` (why the app could not be loaded) on every request."""

    # Raising adds this frame to the traceback; restarting from the original
    # one each time keeps it from growing by a frame per request.
    original = error.__traceback__

    def import_error_app(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        raise error.with_traceback(original)

    return import_error_app


# As in Flask, ``erlen run --debug`` works as well as ``erlen --debug run``.
run_command.params.insert(0, _debug_option)


@click.command("shell", short_help="Run a Python shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell with the app's context active.

    ``app``, ``g`` and the names from the app's shell context processors are
    defined. The file named by ``PYTHONSTARTUP`` runs first, as in the
    plain interpreter.
    """
    import code

    from .globals import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    banner = f"Python {sys.version} on {sys.platform}\nApp: {app.import_name}\nInstance: {app.instance_path}"
    namespace: dict[str, t.Any] = {}

    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup, encoding="utf-8") as f:
            exec(compile(f.read(), startup, "exec"), namespace)

    namespace.update(app.make_shell_context())

    hook = getattr(sys, "__interactivehook__", None)
    # Only a real terminal gets readline: the hook reads and later writes
    # ~/.python_history, which piped input (and tests) must not touch.
    if hook is not None and sys.stdin.isatty():  # pragma: no cover - needs a terminal
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            readline.set_completer(Completer(namespace).complete)
        hook()

    code.interact(banner=banner, local=namespace)


@click.command("routes", short_help="Show the app's routes.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    show_default=True,
    help="Sort by this column; 'match' keeps the order the rules were registered in.",
)
@click.option("--all-methods", is_flag=True, help="Also show HEAD and OPTIONS.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show every route: its endpoint, methods and rule."""
    from .globals import current_app

    url_map = current_app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return

    hidden = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = url_map.host_matching

    def domain(rule: t.Any) -> str:
        return (rule.host if host_matching else rule.subdomain) or ""

    # The domain column only appears when some rule has one.
    has_domain = any(domain(rule) for rule in rules)
    headers = ["Endpoint", "Methods"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
    headers.append("Rule")

    rows: list[list[str]] = []
    for rule in rules:
        row: list[str] = [str(rule.endpoint), ", ".join(sorted((rule.methods or set()) - hidden))]
        if has_domain:
            row.append(domain(rule))
        row.append(rule.rule)
        rows.append(row)

    columns = {"endpoint": 0, "methods": 1, "rule": len(headers) - 1}
    if has_domain:
        columns["domain"] = 2
    if sort in columns:
        rows.sort(key=lambda row: row[columns[sort]])
    # 'match' (and 'domain' with no domains) keep the map's order.

    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * w for w in widths], *rows]:
        click.echo(
            "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )


#: The ``erlen`` command.
cli = ErlenGroup(
    name="erlen",
    help=(
        "Run and manage an Erlen app.\n\n"
        "Name the app with '--app' or the ERLEN_APP variable; without either,\n"
        "'wsgi.py' or 'app.py' in the current folder is used. '--debug' or\n"
        "ERLEN_DEBUG=1 turns debug mode on. With python-dotenv installed,\n"
        "variables in '.erlenenv' and '.env' are loaded first."
    ),
)


# -- erlen compat ---------------------------------------------------------------
# Only on the erlen command itself, not on every ErlenGroup; erlen.compat is
# imported when one of these runs.

_scripts_dir_option = click.option(
    "--scripts-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="The folder of the flask command. Default: this environment's scripts folder.",
)


@click.group("compat", short_help="Tools for Erlen's Flask compat layer.")
def compat_command() -> None:
    """Tools for running Flask code on Erlen's compat layer (erlen.compat)."""


@compat_command.command("install-flask-command")
@_scripts_dir_option
def install_flask_command(scripts_dir: str | None) -> None:
    """Write a 'flask' command that is Erlen's command line with the compat layer on.

    Tools and tests that run 'flask db upgrade', 'flask run', ... then get
    Erlen. It is refused while the real Flask is installed, and over a
    'flask' file that Erlen did not write.
    """
    from .compat.command import install_flask_command

    path, replaced = install_flask_command(scripts_dir)
    click.echo(f"{'Updated' if replaced else 'Installed'} Erlen's flask command: {path}")


@compat_command.command("uninstall-flask-command")
@_scripts_dir_option
def uninstall_flask_command(scripts_dir: str | None) -> None:
    """Remove the 'flask' command that install-flask-command wrote (nothing else)."""
    from .compat.command import uninstall_flask_command

    path = uninstall_flask_command(scripts_dir)
    if path is None:
        click.echo("There is no flask command to remove.")
    else:
        click.echo(f"Removed Erlen's flask command: {path}")


cli.add_command(compat_command)


def main() -> None:
    """The ``erlen`` console script."""
    # Tells app.run() that the CLI serves the app, so a stray unguarded
    # app.run() in the imported module doesn't block the command.
    os.environ["ERLEN_RUN_FROM_CLI"] = "true"
    cli.main()


if __name__ == "__main__":  # pragma: no cover
    main()
