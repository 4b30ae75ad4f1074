"""The bookmarks API, request by request, over WSGI and ASGI."""

from __future__ import annotations

import time

from bookmarks_helpers import log_in
from openapi_spec_validator import validate


def _save(client, auth, url="https://a.example", title="A", tags=()):
    rv = client.post(
        "/bookmarks", json={"url": url, "title": title, "tags": list(tags)}, headers=auth
    )
    assert rv.status_code == 201, rv.data
    return rv.json


def test_register_and_log_in(client):
    rv = client.post("/auth/users", json={"username": "ada", "password": "correct horse"})
    assert rv.status_code == 201
    assert rv.json == {"id": 1, "username": "ada"}  # never the password hash
    rv = client.post("/auth/tokens", json={"username": "ada", "password": "correct horse"})
    assert rv.status_code == 201
    assert rv.json["token_type"] == "bearer"
    assert rv.json["expires_in"] == 3600
    assert len(rv.json["access_token"]) > 30


def test_taken_username_is_409(client):
    body = {"username": "ada", "password": "correct horse"}
    client.post("/auth/users", json=body)
    rv = client.post("/auth/users", json=body)
    assert rv.status_code == 409
    assert rv.content_type == "application/problem+json"
    assert rv.json["detail"] == "The username is taken."


def test_wrong_password_is_401(client):
    client.post("/auth/users", json={"username": "ada", "password": "correct horse"})
    for name, password in [("ada", "wrong horse"), ("bob", "correct horse")]:
        rv = client.post("/auth/tokens", json={"username": name, "password": password})
        assert rv.status_code == 401
        assert rv.headers["WWW-Authenticate"] == "Bearer"


def test_invalid_credentials_are_422(client):
    rv = client.post("/auth/users", json={"username": "A D A", "password": "short"})
    assert rv.status_code == 422
    assert {e["pointer"] for e in rv.json["errors"]} == {"/username", "/password"}


def test_bookmarks_need_a_token(client):
    for method, url in [("GET", "/bookmarks"), ("POST", "/bookmarks"), ("GET", "/tags")]:
        rv = client.open(url, method=method)
        assert rv.status_code == 401
        assert rv.headers["WWW-Authenticate"] == "Bearer"
        assert rv.content_type == "application/problem+json"
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/bookmarks", headers=bad).status_code == 401
    assert client.get("/bookmarks", headers={"Authorization": "Basic YTpi"}).status_code == 401


def test_create_read_update_delete(client, auth):
    made = _save(client, auth, tags=["python", "web", "python"])
    assert made["tags"] == ["python", "web"]
    assert made["created"].endswith("Z")
    id = made["id"]
    assert client.get(f"/bookmarks/{id}", headers=auth).json == made
    rv = client.patch(f"/bookmarks/{id}", json={"title": "B", "tags": ["x"]}, headers=auth)
    assert (rv.json["title"], rv.json["tags"], rv.json["url"]) == ("B", ["x"], "https://a.example")
    rv = client.delete(f"/bookmarks/{id}", headers=auth)
    assert (rv.status_code, rv.data) == (204, b"")
    assert client.get(f"/bookmarks/{id}", headers=auth).status_code == 404


def test_same_url_twice_is_409(client, auth):
    _save(client, auth)
    rv = client.post(
        "/bookmarks", json={"url": "https://a.example", "title": "again"}, headers=auth
    )
    assert rv.status_code == 409


def test_invalid_bookmark_is_422(client, auth):
    rv = client.post(
        "/bookmarks", json={"url": "ftp://x", "title": "", "tags": ["Not A Tag"]}, headers=auth
    )
    assert rv.status_code == 422
    assert {e["pointer"] for e in rv.json["errors"]} == {"/url", "/title", "/tags/0"}


def test_list_filter_and_pages(client, auth):
    for n in range(5):
        _save(
            client,
            auth,
            url=f"https://{n}.example",
            title=f"Site {n}",
            tags=["odd" if n % 2 else "even"],
        )
    rv = client.get("/bookmarks?per_page=2&page=2", headers=auth)
    assert [b["title"] for b in rv.json["items"]] == ["Site 2", "Site 1"]
    assert (rv.json["total"], rv.json["page"], rv.json["per_page"]) == (5, 2, 2)
    rv = client.get("/bookmarks?tag=odd&q=SITE%203", headers=auth)
    assert [b["title"] for b in rv.json["items"]] == ["Site 3"]
    assert client.get("/bookmarks?per_page=1000", headers=auth).status_code == 422
    assert client.get("/tags", headers=auth).json == [
        {"name": "even", "count": 3},
        {"name": "odd", "count": 2},
    ]


def test_users_see_only_their_own(client, auth):
    mine = _save(client, auth)
    bob = log_in(client, "bob")
    assert client.get(f"/bookmarks/{mine['id']}", headers=bob).status_code == 404
    assert client.delete(f"/bookmarks/{mine['id']}", headers=bob).status_code == 404
    assert client.get("/bookmarks", headers=bob).json["total"] == 0
    assert client.get("/tags", headers=bob).json == []


def test_log_out_revokes_the_token(client, auth):
    assert client.delete("/auth/tokens", headers=auth).status_code == 204
    assert client.get("/bookmarks", headers=auth).status_code == 401
    assert client.delete("/auth/tokens", headers=auth).status_code == 401


def test_tokens_expire(app, client):
    app.config["TOKEN_LIFETIME"] = 0
    auth = log_in(client)
    time.sleep(0.01)
    assert client.get("/bookmarks", headers=auth).status_code == 401


def test_spec_and_reference_page(client):
    spec = client.get("/openapi.json").json
    validate(spec)
    assert spec["info"]["title"] == "Bookmarks"
    assert sorted(spec["paths"]) == [
        "/auth/tokens",
        "/auth/users",
        "/bookmarks",
        "/bookmarks/{id}",
        "/tags",
    ]
    assert spec["security"] == [{"token": []}]
    assert spec["paths"]["/auth/users"]["post"]["security"] == []
    # The errors the views raise are documented, each with a problem details body.
    problem = {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    declared = {
        ("/auth/users", "post"): {"409", "422"},
        ("/auth/tokens", "post"): {"401", "422"},
        ("/auth/tokens", "delete"): {"401"},
        ("/bookmarks", "post"): {"401", "409", "422"},
        ("/bookmarks/{id}", "get"): {"401", "404"},
        ("/bookmarks/{id}", "patch"): {"401", "404", "422"},
        ("/bookmarks/{id}", "delete"): {"401", "404"},
        ("/tags", "get"): {"401"},
    }
    for (path, method), statuses in declared.items():
        responses = spec["paths"][path][method]["responses"]
        for status in statuses:
            assert responses[status]["content"] == {"application/problem+json": problem}, (
                path,
                method,
                status,
            )
    assert client.get("/docs").status_code == 200
    rv = client.get("/")
    assert (rv.status_code, rv.headers["Location"]) == (302, "/docs")
