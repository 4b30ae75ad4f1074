"""Helpers for the bookmarks API's tests."""

from __future__ import annotations

from erlen.testing import ErlenClient


def log_in(client: ErlenClient, username: str = "ada", password: str = "correct horse") -> dict:
    """Register ``username`` and log in: the headers that carry the token."""
    client.post("/auth/users", json={"username": username, "password": password})
    rv = client.post("/auth/tokens", json={"username": username, "password": password})
    assert rv.status_code == 201, rv.data
    return {"Authorization": f"Bearer {rv.json['access_token']}"}
