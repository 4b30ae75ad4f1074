"""How the ``erlen`` command finds the app it is given: ``--app``, ``ERLEN_APP`` or a default file.

``locate_app`` imports a module (or a file path) and picks the app in it:
an attribute ``app`` or ``application``, else the only
:class:`~erlen.Erlen` instance, else a factory ``create_app`` or ``make_app``
called without arguments; ``module:name`` and ``module:factory(args)`` name
one. :mod:`erlen.cli` re-exports these names, where Flask keeps them.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import traceback
import typing as t

import click

if t.TYPE_CHECKING:
    from types import ModuleType, TracebackType

    from .app import Erlen

#: The files ``erlen`` looks for when no app is named.
DEFAULT_APP_FILES = ("wsgi.py", "app.py")


class NoAppException(click.UsageError):
    """No application could be found or loaded from what the user gave.

    It is a :class:`click.UsageError`, so click turns it into an error
    message and exit status 2 rather than a traceback.
    """

    def show(self, file: t.IO[t.Any] | None = None) -> None:
        """Print the message on one line, without the usage help.

        The usage block click adds for usage errors is about the command's
        options, which are fine here: only the app is wrong.
        """
        click.echo(f"Error: {self.format_message()}", file=file, err=file is None)


class _NoAppFound(NoAppException):
    """No app was named and none was found where one is looked for.

    The help doesn't report it: outside an app's folder the user may only
    want to read the help.
    """


def _names_a_file(path: str) -> bool:
    """Whether an ``--app`` value is a file path rather than a module name."""
    return path.endswith(".py") or "/" in path or os.sep in path


def _is_app(value: object) -> bool:
    from .app import Erlen

    return isinstance(value, Erlen)


def _failed_in_call(func: t.Callable[..., t.Any], tb: TracebackType | None) -> bool:
    """Whether a ``TypeError`` came from inside ``func`` rather than from calling it.

    A call with the wrong arguments fails before the function's frame
    exists, so the traceback never reaches the function's code.
    """
    code = getattr(func, "__code__", None)
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return True
        tb = tb.tb_next
    return False


def _call_factory(
    module: ModuleType,
    name: str,
    func: t.Callable[..., t.Any],
    args: list[t.Any],
    kwargs: dict[str, t.Any],
    hint: str,
) -> t.Any:
    try:
        return func(*args, **kwargs)
    except TypeError as e:
        if _failed_in_call(func, e.__traceback__):
            raise  # a bug inside the factory: the user needs its traceback
        raise NoAppException(
            f"The factory {name!r} in module {module.__name__!r} {hint}: {e}."
        ) from None


def find_best_app(module: ModuleType) -> Erlen:
    """Find the app in ``module`` by the default rules.

    :raises NoAppException: Several apps, a factory that needs arguments,
        or nothing that gives an app.
    """
    for attr in ("app", "application"):
        value = getattr(module, attr, None)
        if _is_app(value):
            return t.cast("Erlen", value)

    found = [value for value in vars(module).values() if _is_app(value)]
    if len(found) == 1:
        return t.cast("Erlen", found[0])
    if len(found) > 1:
        raise NoAppException(
            f"Found {len(found)} Erlen apps in module {module.__name__!r}; name the one"
            f" to use with '--app {module.__name__}:NAME'."
        )

    for attr in ("create_app", "make_app"):
        factory = getattr(module, attr, None)
        if inspect.isfunction(factory):
            app = _call_factory(
                module,
                attr,
                factory,
                [],
                {},
                f"can't be called without arguments (give them with '--app {module.__name__}:{attr}(...)')",
            )
            if _is_app(app):
                return t.cast("Erlen", app)

    raise NoAppException(
        f"Found no Erlen app or factory in module {module.__name__!r}: looked for 'app',"
        f" 'application', an Erlen instance, 'create_app' and 'make_app'. Name it with"
        f" '--app {module.__name__}:NAME'."
    )


def find_app_by_string(module: ModuleType, app_name: str) -> Erlen:
    """Get the app ``app_name`` names in ``module``: ``name`` or ``factory(args)``.

    Arguments of a factory call must be Python literals; they are read with
    :func:`ast.literal_eval`, never executed.

    :raises NoAppException: The string can't be parsed, names nothing, or
        does not give an app.
    """
    where = f"{module.__name__}:{app_name}"
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Can't read {app_name!r} as an attribute name or a function call."
        ) from None

    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    if isinstance(expr, ast.Name):
        name = expr.id
        is_call = False
    elif isinstance(expr, ast.Call):
        if not isinstance(expr.func, ast.Name):
            raise NoAppException(
                f"The factory in {app_name!r} must be a plain name, like 'create_app(...)'."
            )
        name = expr.func.id
        is_call = True
        try:
            args = [ast.literal_eval(arg) for arg in expr.args]
            kwargs = {
                kw.arg: ast.literal_eval(kw.value) for kw in expr.keywords if kw.arg is not None
            }
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise NoAppException(
                f"The arguments in {app_name!r} must be Python literals (strings, numbers,"
                " lists, dicts, True/False/None)."
            ) from None
    else:
        raise NoAppException(f"Can't read {app_name!r} as an attribute name or a function call.")

    try:
        value = getattr(module, name)
    except AttributeError:
        raise NoAppException(f"Module {module.__name__!r} has no attribute {name!r}.") from None

    if inspect.isfunction(value):
        value = _call_factory(
            module, name, value, args, kwargs, "can't be called with the given arguments"
        )
    elif is_call:
        raise NoAppException(
            f"{name!r} in module {module.__name__!r} is not a function, so it can't be called."
        )

    if _is_app(value):
        return t.cast("Erlen", value)
    raise NoAppException(f"'{where}' gave a {type(value).__name__}, not an Erlen app.")


def prepare_import(path: str) -> str:
    """Make ``path`` importable and return its module name.

    A file path (``src/hello.py``) or a package folder is turned into a
    dotted name, walking up through packages (folders with
    ``__init__.py``); the folder above the top package goes first on
    :data:`sys.path`. A plain module name is returned unchanged.
    """
    path = os.path.realpath(path)
    base, ext = os.path.splitext(path)
    if ext == ".py":
        path = base
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)

    parts: list[str] = []
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break

    if sys.path[:1] != [path]:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def _module_missing(error: ImportError, module_name: str) -> bool:
    """Whether ``error`` says ``module_name`` (or a package above it) doesn't exist.

    Any other import error came from code inside the module, and hiding it
    behind "not found" would send the user looking in the wrong place.
    """
    if not isinstance(error, ModuleNotFoundError) or error.name is None:
        return False
    return module_name == error.name or module_name.startswith(error.name + ".")


def _where_raised(tb: TracebackType | None) -> str:
    frames = traceback.extract_tb(tb)
    # The innermost frame outside importlib (and this module) is the line
    # that failed.
    for frame in reversed(frames):
        if "importlib" not in frame.filename and frame.filename != __file__:
            return f" ({frame.filename}, line {frame.lineno})"
    return ""


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[True] = True
) -> Erlen: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[False] = ...
) -> Erlen | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Erlen | None:
    """Import ``module_name`` and find the app in it.

    :param app_name: ``name`` or ``factory(args)``; ``None`` uses the
        default rules (:func:`find_best_app`).
    :param raise_if_not_found: When the module doesn't exist, return
        ``None`` instead of raising.
    :raises NoAppException: The module doesn't exist, raised
        :class:`ImportError` while importing, or holds no app.
    """
    try:
        __import__(module_name)
    except ImportError as e:
        if not _module_missing(e, module_name):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised: {e}{_where_raised(e.__traceback__)}"
            ) from None
        if raise_if_not_found:
            raise NoAppException(
                f"Could not import {module_name!r}: no such module or file."
            ) from None
        return None

    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def _split_import_path(value: str) -> tuple[str, str | None]:
    """Split ``module:name``, leaving a Windows drive (``C:\\``) in the path."""
    start = 0
    while True:
        index = value.find(":", start)
        if index == -1:
            return value, None
        if value[index + 1 : index + 2] not in ("\\", "/"):
            return value[:index], value[index + 1 :]
        start = index + 1
