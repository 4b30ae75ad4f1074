"""``werkzeug.utils`` names that Erlen has no counterpart for.

Descriptors over ``environ``/``headers``, content-type and redirect
helpers, module discovery, and :func:`import_string` raising Werkzeug's
:class:`ImportStringError`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import pkgutil
import sys
import typing as t
from collections.abc import Callable, Iterator

from .._utils import import_string as _import_string

_T = t.TypeVar("_T")

if t.TYPE_CHECKING:
    from ..wrappers import Response

__all__ = [
    "ImportStringError",
    "append_slash_redirect",
    "cached_property",
    "environ_property",
    "find_modules",
    "get_content_type",
    "header_property",
    "import_string",
]

_missing: t.Any = object()
# Besides text/*, the types whose body is text and so takes a charset.
_TEXT_TYPES = frozenset(("application/ecmascript", "application/javascript", "application/xml"))


class ImportStringError(ImportError):
    """:func:`import_string` could not import ``import_name``; ``exception`` says why."""

    def __init__(self, import_name: str, exception: BaseException) -> None:
        self.import_name = import_name
        self.exception = exception
        super().__init__(f"import_string() failed for {import_name!r}: {exception}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.import_name!r}, {self.exception!r})>"


def import_string(import_name: str, silent: bool = False) -> t.Any:
    """Import an object from ``"pkg.mod:obj"`` or ``"pkg.mod.obj"``.

    :param silent: Return ``None`` instead of raising.
    :raises ImportStringError: The import failed.
    """
    try:
        return _import_string(import_name)
    except ImportError as e:
        if silent:
            return None
        raise ImportStringError(import_name, e).with_traceback(sys.exc_info()[2]) from None


def get_content_type(mimetype: str, charset: str) -> str:
    """``mimetype`` with ``; charset=...`` added when it is a text type without one."""
    is_text = mimetype.startswith("text/") or mimetype in _TEXT_TYPES or mimetype.endswith("+xml")
    if is_text and "charset" not in mimetype.lower():
        return f"{mimetype}; charset={charset}"
    return mimetype


def append_slash_redirect(environ: t.Mapping[str, t.Any], code: int = 308) -> Response:
    """A redirect to the request's path with a ``/`` added (relative, keeps the query)."""
    from ..helpers import redirect
    from ..wrappers import Response as _Response

    tail = environ.get("PATH_INFO", "").rpartition("/")[2]
    location = f"{tail}/" if tail else "./"
    query = environ.get("QUERY_STRING")
    if query:
        location = f"{location}?{query}"
    return redirect(location, code, _Response)


def find_modules(
    import_path: str, include_packages: bool = False, recursive: bool = False
) -> Iterator[str]:
    """The dotted names of the modules in package ``import_path``.

    :param include_packages: Also yield subpackages.
    :param recursive: Descend into subpackages.
    :raises ValueError: ``import_path`` is not a package.
    """
    package = _import_string(import_path)
    path = getattr(package, "__path__", None)
    if path is None:
        raise ValueError(f"{import_path!r} is not a package")
    for info in pkgutil.iter_modules(path, f"{package.__name__}."):
        if info.ispkg:
            if include_packages:
                yield info.name
            if recursive:
                yield from find_modules(info.name, include_packages, True)
        else:
            yield info.name


class _DictProperty:
    """A property backed by a key of a mapping on the object."""

    read_only = False
    source: t.ClassVar[str]

    def __init__(
        self,
        name: str,
        default: t.Any = None,
        load_func: Callable[[t.Any], t.Any] | None = None,
        dump_func: Callable[[t.Any], t.Any] | None = None,
        read_only: bool | None = None,
        doc: str | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self.load_func = load_func
        self.dump_func = dump_func
        if read_only is not None:
            self.read_only = read_only
        self.__doc__ = doc

    def _mapping(self, obj: t.Any) -> t.Any:
        return getattr(obj, self.source)

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        mapping = self._mapping(obj)
        if self.name not in mapping:
            return self.default
        value = mapping[self.name]
        if self.load_func is not None:
            try:
                value = self.load_func(value)
            except (ValueError, TypeError):
                value = self.default
        return value

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        if self.read_only:
            raise AttributeError("read only property")
        if self.dump_func is not None:
            value = self.dump_func(value)
        self._mapping(obj)[self.name] = value

    def __delete__(self, obj: t.Any) -> None:
        if self.read_only:
            raise AttributeError("read only property")
        mapping = self._mapping(obj)
        if self.name in mapping:
            del mapping[self.name]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class environ_property(_DictProperty):  # noqa: N801 - Werkzeug's name
    """A read-only (by default) property over a key of ``self.environ``."""

    read_only = True
    source = "environ"


class header_property(_DictProperty):  # noqa: N801 - Werkzeug's name
    """A property over a header of ``self.headers``."""

    source = "headers"


class cached_property(property, t.Generic[_T]):  # noqa: N801 - Werkzeug's name
    """Werkzeug's cached property: computed on first access, then kept on the instance.

    Erlen's own (``erlen._utils.cached_property``) is a plain descriptor that
    steps aside once the value is stored, the cheapest read there is. Code
    written for Werkzeug relies on more, so ``werkzeug.utils.cached_property``
    is this one: a :class:`property` (``isinstance`` says so), assigning to the
    attribute stores the value, deleting it drops the value so the next access
    computes it again, and deleting a value that was never computed raises
    ``KeyError`` (Flask-Dance catches exactly that). A class with ``__slots__``
    and no ``__dict__`` keeps the value in a ``_cache_<name>`` slot.
    """

    def __init__(
        self, fget: Callable[[t.Any], _T], name: str | None = None, doc: str | None = None
    ) -> None:
        super().__init__(fget, doc=doc)
        self.__name__ = name or fget.__name__
        self.slot_name = f"_cache_{self.__name__}"
        self.__module__ = fget.__module__

    def __set__(self, obj: object, value: _T) -> None:
        store = getattr(obj, "__dict__", None)
        if store is None:
            setattr(obj, self.slot_name, value)
        else:
            store[self.__name__] = value

    def __get__(self, obj: object, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        store = getattr(obj, "__dict__", None)
        if store is None:
            value = getattr(obj, self.slot_name, _missing)
        else:
            value = store.get(self.__name__, _missing)
        if value is _missing:
            assert self.fget is not None
            value = self.fget(obj)
            self.__set__(obj, value)
        return value

    def __delete__(self, obj: object) -> None:
        store = getattr(obj, "__dict__", None)
        if store is None:
            setattr(obj, self.slot_name, _missing)
        else:
            # KeyError when nothing is cached, as Werkzeug's.
            del store[self.__name__]
