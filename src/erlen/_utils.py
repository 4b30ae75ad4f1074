"""Small internal helpers shared by several modules."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import typing as t

_T = t.TypeVar("_T")


class cached_property(t.Generic[_T]):
    """A property computed on first access and then stored on the instance.

    Unlike :func:`functools.cached_property` before Python 3.12, it takes no
    lock: per-request objects are used by one thread at a time, and the lock
    would cost every first access. Assigning to the attribute overrides the
    value; deleting it makes the next access compute it again.
    """

    def __init__(self, func: t.Callable[[t.Any], _T]) -> None:
        self.func = func
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__module__ = func.__module__

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    @t.overload
    def __get__(self, obj: None, owner: type | None = None) -> cached_property[_T]: ...

    @t.overload
    def __get__(self, obj: object, owner: type | None = None) -> _T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        # PERF: a non-data descriptor: once stored in __dict__, later reads
        # never reach this method.
        value = obj.__dict__[self.__name__] = self.func(obj)
        return value


def import_string(import_name: str, silent: bool = False) -> t.Any:
    """Import an object from a dotted path (``"pkg.mod:obj"`` or ``"pkg.mod.obj"``).

    :param silent: Return ``None`` instead of raising when the import fails.
    :raises ImportError: The module or attribute does not exist.
    """
    import_name = import_name.replace(":", ".")
    try:
        try:
            __import__(import_name)
        except ImportError:
            if "." not in import_name:
                raise
        else:
            return sys.modules[import_name]
        module_name, obj_name = import_name.rsplit(".", 1)
        module = importlib.import_module(module_name)
        try:
            return getattr(module, obj_name)
        except AttributeError as e:
            raise ImportError(f"module {module_name!r} has no attribute {obj_name!r}") from e
    except ImportError:
        if not silent:
            raise
    return None


def get_root_path(import_name: str) -> str:
    """The folder of the module or package named ``import_name``.

    Falls back to the current working directory for ``__main__`` run
    interactively, where there is no file to anchor on.
    """
    import os

    module = sys.modules.get(import_name)
    filename: str | None = getattr(module, "__file__", None) if module is not None else None
    if filename:
        return os.path.dirname(os.path.abspath(filename))
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None or spec.origin == "namespace":
        return os.getcwd()
    return os.path.dirname(os.path.abspath(spec.origin))


def defined_once(cls: type, name: str) -> bool:
    """Whether exactly one class in ``cls``'s MRO defines ``name``: the class
    that introduced it, with no subclass or mixin redefining it.

    PERF: features take a fast path when an app method or attribute is
    Erlen's own (``permanent_session_lifetime``, ``update_template_context``)
    and check that with this once per app class, instead of importing the
    app class to compare with (the app imports them, not the reverse).

    :param cls: The class to look at.
    :param name: The attribute name.
    """
    return sum(name in klass.__dict__ for klass in cls.__mro__) == 1


def call_wsgi_app(
    wsgi_app: t.Callable[..., t.Any], environ: dict[str, t.Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI application and collect its status, headers and whole body.

    The body iterable is closed afterwards, as a server would (PEP 3333).
    A second ``start_response`` call with ``exc_info`` re-raises that error.
    """
    started: list[t.Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return _no_write

    result = wsgi_app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], started[1], body


def _no_write(data: bytes) -> None:
    """The ``write`` callable ``start_response`` returns: refused, so no byte is lost silently."""
    raise RuntimeError(
        "This caller of WSGI apps does not support the WSGI write() callable; return the body as an iterable."
    )
