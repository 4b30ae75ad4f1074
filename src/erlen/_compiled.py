"""The optional compiled core: which modules it compiles, and which are loaded compiled.

``ERLEN_COMPILE=1 pip install .`` compiles the modules of :data:`MODULES`
with mypyc into extension modules that sit beside their ``.py`` sources in
the package; Python's import system then prefers the extension module. A
plain install (``pip install erlen``, ``pip install -e .``, the sdist) has
none, and the ``.py`` modules run: the same behaviour, only slower. So the
list here is read by ``setup.py`` (by path, without importing Erlen) and by
the test suite, which asserts the flavour it expects (``tests/test_compiled.py``).

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    # mypyc reads the decorator by its name in mypy_extensions; at run time
    # (pure or compiled) it is the no-op below, so mypy_extensions is needed
    # by nobody but the compiler.
    from mypy_extensions import mypyc_attr as mypyc_attr
else:

    def mypyc_attr(*attrs: str, **kwattrs: object) -> t.Callable[[t.Any], t.Any]:
        """The compiler's class options, a no-op when running (see above)."""
        return lambda cls: cls


__all__ = ["MODULES", "compiled_modules", "flavour"]

#: The modules the compiled build compiles: hot, self-contained parsing and
#: matching on plain values (measured one by one, see benchmarks/README.md).
#: Public classes that users subclass or patch (``MultiDict``, ``Headers``,
#: the converters, ``Request``/``Response``) live elsewhere and stay Python.
MODULES: tuple[str, ...] = (
    "erlen.routing.matcher",
    "erlen.http.urls",
    "erlen.http.cookies",
    "erlen.http.headers",
    "erlen.signing",
)


def compiled_modules() -> list[str]:
    """The names in :data:`MODULES` that this interpreter loaded from an extension module."""
    # Here, not at the top: signing imports this module on ``import erlen``.
    import importlib
    import importlib.machinery

    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return [
        name
        for name in MODULES
        if (getattr(importlib.import_module(name), "__file__", None) or "").endswith(suffixes)
    ]


def flavour() -> str:
    """``"compiled"`` when every module of :data:`MODULES` is compiled, ``"pure"``
    when none is, else ``"mixed"`` (a broken or partial build)."""
    count = len(compiled_modules())
    if count == len(MODULES):
        return "compiled"
    return "pure" if count == 0 else "mixed"
