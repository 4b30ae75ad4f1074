"""Schemathesis against the API's own served spec, over WSGI and over ASGI.

It generates requests from ``/openapi.json`` (valid ones and invalid ones)
for every operation, sends them with a logged-in user's token, and checks
each response: never a 500, a documented status, a documented content type,
and a body that matches the documented schema.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from bookmarks_helpers import log_in  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from erlen import Erlen, Response  # noqa: E402
from erlen.openapi import OpenAPI  # noqa: E402
from erlen.typed import doc, output  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Cases per operation: a few seconds per interface in all.
EXAMPLES = 25


def _load(app: Erlen, interface: str):
    load = schemathesis.openapi.from_wsgi if interface == "wsgi" else schemathesis.openapi.from_asgi
    return load("/openapi.json", app)


def _run(app: Erlen, interface: str, headers: dict) -> list[str]:
    """Every operation's failures, as text (none is the goal)."""
    failures = []
    operations = [result.ok() for result in _load(app, interface).get_all_operations()]
    assert operations
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup is the latter
            failures.append(f"{operation.label}: {exc}")
    return failures


def test_every_response_matches_the_spec(app, client, client_interface):
    auth = log_in(client)
    # A bookmark to find, so reads of existing ids are generated too.
    client.post("/bookmarks", json={"url": "https://a.example", "title": "A"}, headers=auth)
    assert _run(app, client_interface, auth) == []


def test_the_checks_find_a_response_the_spec_does_not_describe(client_interface):
    # The same run against an app whose view sends what its spec does not
    # say: the run above would fail on such a bug in the example.
    class Item(BaseModel):
        id: int

    app = Erlen("drifted")
    OpenAPI(app)

    @app.get("/item")
    @output(Item)
    def item():
        return Response('{"id": "not a number"}', mimetype="application/json")

    failures = _run(app, client_interface, {})
    assert len(failures) == 1
    assert failures[0].startswith("GET /item")


def test_the_checks_find_an_error_not_sent_as_documented(client_interface):
    # A 404 documented as problem details but sent as the default HTML page
    # (no problem_details handler): the error bodies are checked too.
    app = Erlen("drifted_errors")
    OpenAPI(app)

    @app.get("/gone")
    @doc(responses={404: "Gone"})
    def gone():
        from erlen import abort

        abort(404)

    failures = _run(app, client_interface, {})
    assert len(failures) == 1
    assert failures[0].startswith("GET /gone")
    assert "problem+json" in failures[0]
