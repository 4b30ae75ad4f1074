"""Werkzeug's context-local objects: ``Local``, ``LocalStack``, ``LocalManager``.

Flask 3 no longer uses them and Erlen keeps its contexts in one context
variable (:mod:`erlen.globals`); code that made its own locals with
Werkzeug still can. Each is backed by a :class:`~contextvars.ContextVar`,
so values are per thread and per ``asyncio`` task.

.. versionadded:: 0.1
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar

from ..globals import LocalProxy

__all__ = ["Local", "LocalManager", "LocalStack", "release_local"]


def _proxy(get: Callable[[], t.Any], unbound_message: str | None) -> LocalProxy:
    message = unbound_message or "object is not bound"

    def bound() -> t.Any:
        # Erlen's proxies expect RuntimeError when there is nothing to forward to.
        try:
            return get()
        except (AttributeError, LookupError):
            raise RuntimeError(message) from None

    return LocalProxy(bound)


class Local:
    """A namespace whose attributes are local to the current context (thread or task).

    :param context_var: The variable holding the values (a new one by default).
    """

    __slots__ = ("_storage",)

    def __init__(self, context_var: ContextVar[dict[str, t.Any]] | None = None) -> None:
        if context_var is None:
            context_var = ContextVar(f"erlen.compat.Local<{id(self)}>.storage")
        object.__setattr__(self, "_storage", context_var)

    def __iter__(self) -> Iterator[tuple[str, t.Any]]:
        return iter(self._storage.get({}).items())

    def __call__(self, name: str, *, unbound_message: str | None = None) -> LocalProxy:
        """A proxy to the attribute ``name`` of this local."""
        return _proxy(lambda: getattr(self, name), unbound_message)

    def __release_local__(self) -> None:
        self._storage.set({})

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self._storage.get({})[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        # A new dict each time: a context copied from this one keeps its own values.
        self._storage.set({**self._storage.get({}), name: value})

    def __delattr__(self, name: str) -> None:
        values = dict(self._storage.get({}))
        try:
            del values[name]
        except KeyError:
            raise AttributeError(name) from None
        self._storage.set(values)


class LocalStack:
    """A stack local to the current context (thread or task).

    :param context_var: The variable holding the stack (a new one by default).
    """

    __slots__ = ("_storage",)

    def __init__(self, context_var: ContextVar[list[t.Any]] | None = None) -> None:
        if context_var is None:
            context_var = ContextVar(f"erlen.compat.LocalStack<{id(self)}>.storage")
        self._storage = context_var

    def __release_local__(self) -> None:
        self._storage.set([])

    def push(self, obj: t.Any) -> list[t.Any]:
        """Push ``obj``; returns the stack."""
        stack = [*self._storage.get([]), obj]
        self._storage.set(stack)
        return stack

    def pop(self) -> t.Any:
        """Remove and return the top item; ``None`` when empty."""
        stack = self._storage.get([])
        if not stack:
            return None
        self._storage.set(stack[:-1])
        return stack[-1]

    @property
    def top(self) -> t.Any:
        """The top item, or ``None``."""
        stack = self._storage.get([])
        return stack[-1] if stack else None

    def __call__(
        self, name: str | None = None, *, unbound_message: str | None = None
    ) -> LocalProxy:
        """A proxy to the top item (or to its attribute ``name``)."""

        def get() -> t.Any:
            stack = self._storage.get([])
            if not stack:
                raise LookupError
            return stack[-1] if name is None else getattr(stack[-1], name)

        return _proxy(get, unbound_message)


def release_local(local: Local | LocalStack) -> None:
    """Empty ``local`` in the current context."""
    local.__release_local__()


class LocalManager:
    """Releases a set of locals at the end of each request (:meth:`make_middleware`).

    :param locals: A :class:`Local` or :class:`LocalStack`, or several.
    """

    def __init__(
        self, locals: Local | LocalStack | Iterable[Local | LocalStack] | None = None
    ) -> None:  # noqa: A002
        if locals is None:
            self.locals: list[Local | LocalStack] = []
        elif isinstance(locals, (Local, LocalStack)):
            self.locals = [locals]
        else:
            self.locals = list(locals)

    def cleanup(self) -> None:
        """Release every managed local in the current context."""
        for local in self.locals:
            release_local(local)

    def make_middleware(self, app: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a WSGI app so the locals are released after each response."""
        from ..wsgi import ClosingIterator

        def application(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
            return ClosingIterator(app(environ, start_response), [self.cleanup])

        return application

    def middleware(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """:meth:`make_middleware` as a decorator."""
        return self.make_middleware(func)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} storages: {len(self.locals)}>"
