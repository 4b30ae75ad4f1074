"""Run Flask apps and Flask extensions unchanged on Erlen.

:func:`install` makes ``import flask`` (and ``flask.globals``,
``flask.ctx``, ...) and the ``werkzeug`` names that apps and extensions use
resolve to Erlen's own objects::

    import erlen.compat
    erlen.compat.install()

    import flask                     # Erlen underneath
    assert flask.Flask is erlen.Erlen
    assert flask.request is erlen.request

Without code changes: ``erlen --compat --app module run``, ``ERLEN_COMPAT=1``
for the ``erlen`` command, and ``pytest --erlen-compat`` (or the ``erlen_compat``
ini setting) for test suites.

The shim modules are made by an import hook (a :data:`sys.meta_path`
finder) when first imported; their names resolve on first access, so nothing
costs anything until used, and nothing at all without :func:`install`.
A name Erlen does not provide raises :class:`CompatImportError`, which says
so. See ``docs/compat.md`` for what is covered and the known gaps.

.. versionadded:: 0.1
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import sys
import types
import typing as t
from pathlib import Path

from ._table import FLASK, WERKZEUG, Shim

__all__ = ["CompatImportError", "CompatModuleNotFoundError", "install", "uninstall", "is_installed"]

_DOCS = "see docs/compat.md for what Erlen's compat layer covers"


class CompatImportError(ImportError):
    """A ``flask`` or ``werkzeug`` module or name that Erlen's compat layer does not provide.

    .. versionadded:: 0.1
    """


class CompatModuleNotFoundError(CompatImportError, ModuleNotFoundError):
    """A ``flask`` or ``werkzeug`` module the compat layer does not provide, imported as a module.

    ``import werkzeug.contrib.fixers`` raises it, a :class:`ModuleNotFoundError`
    as with the real package for a module it lacks, so the usual fallback
    ``except ModuleNotFoundError: from werkzeug.middleware.proxy_fix import
    ProxyFix`` works; ``from werkzeug import contrib`` raises a plain
    :class:`CompatImportError`, as a missing name does.

    .. versionadded:: 0.1
    """


def _from_import() -> bool:
    """Whether the import being made is a ``from x import name`` asking for ``x.name``.

    Python answers those through ``importlib._bootstrap._handle_fromlist``,
    which hides a :class:`ModuleNotFoundError` for the asked name behind its
    own "cannot import name" error: the explanation would be lost.
    """
    # NOTE: walks only the import machinery's frames above create_module
    # (the first other frame is the importing code), on a failed import only.
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        if frame.f_code.co_name == "_handle_fromlist":
            return True
        frame = frame.f_back
    return False


class CompatAttributeError(AttributeError):
    """A name missing from a shim module, read as an attribute.

    An :class:`AttributeError`, so ``hasattr(flask, "x")`` and
    ``getattr(flask, "x", None)`` work as with any module; ``from flask
    import x`` turns it into a :class:`CompatImportError`.

    .. versionadded:: 0.1
    """


class ShimModule(types.ModuleType):
    """A ``flask``/``werkzeug`` module whose names are Erlen's objects.

    A name is looked up on first access (see :class:`~erlen.compat._table.Shim`)
    and then stored on the module, so later reads are plain attribute reads.

    .. versionadded:: 0.1
    """

    __shim__: Shim

    def __getattr__(self, name: str) -> t.Any:
        if name == "__all__":
            # For `from flask import *`: every public name, resolved on use.
            value: t.Any = [n for n in self.__dir__() if not n.startswith("_")]
        else:
            value = _resolve(self, name)
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        names = set(super().__dir__()) | set(self.__shim__.names)
        for source in self.__shim__.sources:
            names.update(n for n in dir(importlib.import_module(source)) if not n.startswith("_"))
        return sorted(names)


def _resolve(module: ShimModule, name: str) -> t.Any:
    shim = module.__shim__
    target = shim.names.get(name)
    if target is not None:
        mod_name, _, attr = target.partition(":")
        module_ = importlib.import_module(mod_name)
        # A target without ":attr" is the module itself.
        return getattr(module_, attr) if attr else module_
    full = f"{module.__name__}.{name}"
    if full in _tables():
        # A submodule read as an attribute before it was imported
        # (``flask.json`` after ``import flask``), as the real packages allow.
        return importlib.import_module(full)
    if not name.startswith("_"):
        for source in shim.sources:
            value = getattr(importlib.import_module(source), name, _missing)
            if value is not _missing:
                return value
    raise CompatAttributeError(
        f"module {module.__name__!r} (Erlen's compat layer) has no attribute {name!r}: "
        f"Erlen does not provide '{full}'; {_DOCS}",
        name=name,
        obj=module,
    )


_missing: t.Any = object()


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes the shim modules; the one import hook :func:`install` adds."""

    def __init__(self, tables: dict[str, Shim], roots: frozenset[str]) -> None:
        self.tables = tables
        self.roots = roots

    def find_spec(
        self,
        fullname: str,
        path: t.Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.roots:
            return None
        # Every shim is a package (an empty __path__), so that even
        # `from werkzeug.utils import missing` asks this finder for
        # `werkzeug.utils.missing` and gets the explanatory error below
        # rather than Python's generic "cannot import name".
        return importlib.machinery.ModuleSpec(
            fullname, self, origin="erlen.compat", is_package=True
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        shim = self.tables.get(spec.name)
        if shim is None:
            parent, _, name = spec.name.rpartition(".")
            error = CompatImportError if _from_import() else CompatModuleNotFoundError
            raise error(
                f"'{name}' cannot be imported from '{parent}': Erlen's compat layer does not"
                f" provide '{spec.name}' (neither a name nor a module); {_DOCS}",
                name=spec.name,
            )
        module = ShimModule(spec.name, f"Erlen's stand-in for {spec.name} (erlen.compat).")
        module.__shim__ = shim
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: names resolve on first access."""

    def find_distributions(
        self, context: t.Any = None
    ) -> t.Iterator[importlib.metadata.Distribution]:
        """Answer ``importlib.metadata`` for the provided packages.

        Code checks ``importlib.metadata.version("flask")`` the way it reads
        ``flask.__version__``; where Flask is not installed that would raise
        :class:`~importlib.metadata.PackageNotFoundError`. The answer is the
        version of the API the layer follows.
        """
        name = getattr(context, "name", None)
        for root in sorted(self.roots):
            if name is None or name.lower().replace("_", "-") == root:
                yield _ShimDistribution(root)


class _ShimDistribution(importlib.metadata.Distribution):
    """The metadata of a package the compat layer provides: its name and API version."""

    def __init__(self, name: str) -> None:
        self._name = name

    def read_text(self, filename: str) -> str | None:
        if filename in ("METADATA", "PKG-INFO"):
            from ._glue import FLASK_VERSION, WERKZEUG_VERSION

            version = FLASK_VERSION if self._name == "flask" else WERKZEUG_VERSION
            return (
                f"Metadata-Version: 2.1\nName: {self._name.capitalize()}\nVersion: {version}\n"
                "Summary: Provided by Erlen's compat layer (erlen.compat)\n"
            )
        return None

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        return Path(__file__).parent / path


_finder: _Finder | None = None


def _tables() -> dict[str, Shim]:
    return _finder.tables if _finder is not None else {}


def is_installed() -> bool:
    """Whether :func:`install` is in effect.

    .. versionadded:: 0.1
    """
    return _finder is not None


def install(werkzeug: bool = True) -> None:
    """Make ``flask`` and ``werkzeug`` imports resolve to Erlen's objects.

    Call it before anything imports Flask: a module that already imported the
    real Flask keeps it, so mixing the two is refused. Calling it again is a
    no-op.

    :param werkzeug: Also provide the ``werkzeug`` names, from Erlen, even
        when the real Werkzeug is installed. This is the default because Flask
        code mixes the two freely (``raise werkzeug.exceptions.NotFound()`` in
        a view, ``isinstance(rv, werkzeug.wrappers.Response)`` in an
        extension), and only Erlen's own types make those work. ``False``
        leaves ``werkzeug`` to the real package, for code that uses it on its
        own (pure WSGI middleware, say).
    :raises RuntimeError: The real Flask (or, when Werkzeug is provided, the
        real Werkzeug) was already imported.

    While installed, response status lines take Werkzeug's upper-case reason
    phrase (``"404 NOT FOUND"``), as Flask apps' tests expect; see
    :func:`uninstall`.

    .. versionadded:: 0.1
    """
    global _finder
    if _finder is not None:
        return
    roots = ("flask", "werkzeug") if werkzeug else ("flask",)
    for root in roots:
        if root in sys.modules:
            raise RuntimeError(
                f"erlen.compat.install() must run before {root!r} is imported, but the real"
                f" {root!r} is already in sys.modules (imported from"
                f" {getattr(sys.modules[root], '__file__', None)!r}). Call install() first, e.g."
                " at the top of your entry point, or use 'erlen --compat', ERLEN_COMPAT=1 or"
                " 'pytest --erlen-compat'."
            )
    tables = dict(FLASK)
    if werkzeug:
        tables.update(WERKZEUG)
    _finder = _Finder(tables, frozenset(roots))
    sys.meta_path.insert(0, _finder)
    from ..wrappers.response import _upper_case_reasons

    _upper_case_reasons(True)
    from .. import dispatch, wsgi

    # Flask's warning filters name the module Werkzeug's routing warnings
    # come from in Flask.
    dispatch.warning_module = "flask.app"
    # Flask code reads the request back from its environ, as Werkzeug's
    # request puts it there.
    wsgi.set_werkzeug_request = True


def uninstall() -> None:
    """Undo :func:`install`: remove the import hook and the shim modules.

    Modules that imported ``flask`` keep the objects they got, and status
    lines go back to the RFC 9110 reason phrases (``"404 Not Found"``).
    Meant for tests and tools; an app does not need it.

    .. versionadded:: 0.1
    """
    global _finder
    if _finder is None:
        return
    sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n.partition(".")[0] in _finder.roots]:
        if isinstance(sys.modules[name], ShimModule):
            del sys.modules[name]
    _finder = None
    from ..wrappers.response import _upper_case_reasons

    _upper_case_reasons(False)
    from .. import dispatch, wsgi

    dispatch.warning_module = None
    wsgi.set_werkzeug_request = False
