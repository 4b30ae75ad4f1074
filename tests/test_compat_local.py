"""erlen.compat.local: the parts tests/test_compat_wsgi.py leaves out."""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

import pytest

from erlen.compat import local


def test_local_on_a_given_context_var_and_delattr() -> None:
    var: ContextVar[dict[str, t.Any]] = ContextVar("test_local_storage")
    loc = local.Local(var)
    loc.a = 1
    loc.b = 2
    # The values live in the variable passed in.
    assert var.get() == {"a": 1, "b": 2}
    del loc.a
    assert var.get() == {"b": 2}
    with pytest.raises(AttributeError, match="a"):
        del loc.a


def test_local_stack_on_a_given_context_var_and_attribute_proxy() -> None:
    var: ContextVar[list[t.Any]] = ContextVar("test_stack_storage")
    stack = local.LocalStack(var)

    class Req:
        path = "/here"

    proxy = stack("path", unbound_message="no request")
    with pytest.raises(RuntimeError, match="no request"):
        proxy.upper()
    stack.push(Req())
    assert var.get()[-1].path == "/here"
    assert proxy.upper() == "/HERE"
    local.release_local(stack)
    assert var.get() == [] and stack.top is None


def test_local_manager_forms_cleanup_and_decorator() -> None:
    assert local.LocalManager().locals == []
    a, b = local.Local(), local.LocalStack()
    manager = local.LocalManager([a, b])
    assert repr(manager) == "<LocalManager storages: 2>"
    a.x = 1
    b.push(2)

    @manager.middleware
    def app(environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    body = app({}, lambda *args: None)
    assert list(body) == [b"ok"]
    assert a.x == 1  # still there until the response is closed
    body.close()
    assert b.top is None
    with pytest.raises(AttributeError):
        a.x  # noqa: B018
