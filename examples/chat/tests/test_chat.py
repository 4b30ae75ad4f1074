"""The chat example: pages, joining, talking, limits, leaving."""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime

import pytest

from erlen import Erlen, WebSocketDisconnect
from erlen.testing import ErlenClient, WebSocketRejected


def test_front_page_and_join_form(client: ErlenClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and b"Join a room" in page.data
    joined = client.post("/join", data={"name": "ada", "room": "lobby"})
    assert joined.status_code == 302 and joined.headers["Location"] == "/room/lobby?name=ada"
    bad = client.post("/join", data={"name": "<script>", "room": "lobby"})
    assert bad.status_code == 400 and b"1 to 32 letters" in bad.data and b"<script>" not in bad.data


def test_room_page(client: ErlenClient) -> None:
    page = client.get("/room/lobby?name=ada")
    assert page.status_code == 200
    assert b'data-socket="/ws/lobby?name=ada"' in page.data and b"chat.js" in page.data
    assert client.get("/room/lobby").status_code == 302  # no name: back to the front page
    assert client.get("/room/%20bad!?name=ada").status_code == 404


def test_two_people_talk(client: ErlenClient, app: Erlen) -> None:
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        assert ada.receive_json() == {"type": "history", "messages": [], "people": ["ada"]}
        assert ada.receive_json()["type"] == "joined"
        with client.websocket_connect("/ws/lobby?name=bob") as bob:
            assert bob.receive_json()["people"] == ["ada", "bob"]
            assert bob.receive_json() == {"type": "joined", "name": "bob", "people": ["ada", "bob"]}
            assert ada.receive_json() == {"type": "joined", "name": "bob", "people": ["ada", "bob"]}
            ada.send_json({"text": "  hello bob  "})
            for ws in (ada, bob):
                event = ws.receive_json()
                assert (event["type"], event["name"], event["text"]) == (
                    "message",
                    "ada",
                    "hello bob",
                )
            assert client.get("/").data.count(b"lobby") >= 1
        left = ada.receive_json()
        assert left == {"type": "left", "name": "bob", "people": ["ada"]}
    assert app.extensions["chat"].rooms() == []


def test_history_keeps_the_last_messages(client: ErlenClient) -> None:
    with client.websocket_connect("/ws/r1?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        for i in range(5):
            ada.send_json({"text": f"m{i}"})
            ada.receive_json()
        with client.websocket_connect("/ws/r1?name=bob") as bob:
            history = bob.receive_json()
            assert [m["text"] for m in history["messages"]] == ["m2", "m3", "m4"]


def test_rooms_are_separate(client: ErlenClient) -> None:
    with (
        client.websocket_connect("/ws/a?name=ada") as ada,
        client.websocket_connect("/ws/b?name=bob") as bob,
    ):
        ada.receive_json(), ada.receive_json(), bob.receive_json(), bob.receive_json()
        bob.send_json({"text": "only b"})
        assert bob.receive_json()["text"] == "only b"
        ada.send_json({"text": "only a"})
        assert ada.receive_json()["text"] == "only a"  # not bob's message first


@pytest.mark.parametrize("payload", [{"text": ""}, {"nope": 1}, [1, 2], {"text": "x" * 21}])
def test_bad_messages_get_an_error_event(client: ErlenClient, payload: t.Any) -> None:
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        ada.send_json(payload)
        assert ada.receive_json()["type"] == "error"
        ada.send_json({"text": "still here"})
        assert ada.receive_json()["text"] == "still here"


def test_not_json_and_too_big_close_the_socket(client: ErlenClient, app: Erlen) -> None:
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        ada.send_text("not json")
        with pytest.raises(WebSocketDisconnect) as closed:
            ada.receive()
        assert closed.value.code == 1007
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        ada.send_text("x" * 5000)
        with pytest.raises(WebSocketDisconnect) as closed:
            ada.receive()
        assert closed.value.code == 1009
    assert app.extensions["chat"].rooms() == []


@pytest.mark.parametrize("path", ["/ws/lobby", "/ws/lobby?name=", "/ws/bad%21room?name=ada"])
def test_bad_handshake_is_refused(client: ErlenClient, path: str) -> None:
    with pytest.raises(WebSocketRejected) as refused:
        client.websocket_connect(path).__enter__()
    assert refused.value.status_code == 400


def test_a_name_in_the_room_is_refused_on_the_form(client: ErlenClient) -> None:
    with client.websocket_connect("/ws/lobby?name=Alice") as alice:
        alice.receive_json(), alice.receive_json()
        for name in ("Alice", "alice", "ALICE"):
            refused = client.post("/join", data={"name": name, "room": "lobby"})
            assert refused.status_code == 409
            assert f"Someone called {name} is already in lobby".encode() in refused.data
        # The same name elsewhere, or another name here, is fine.
        assert client.post("/join", data={"name": "alice", "room": "den"}).status_code == 302
        assert client.post("/join", data={"name": "bob", "room": "lobby"}).status_code == 302
    assert client.post("/join", data={"name": "alice", "room": "lobby"}).status_code == 302


def test_a_name_in_the_room_is_refused_on_the_socket(client: ErlenClient, app: Erlen) -> None:
    # The page's form is not the only way in: the socket decides.
    with client.websocket_connect("/ws/lobby?name=Alice") as alice:
        alice.receive_json(), alice.receive_json()
        with client.websocket_connect("/ws/lobby?name=aLiCe") as impostor:
            with pytest.raises(WebSocketDisconnect) as closed:
                impostor.receive()
        assert closed.value.code == 4409
        assert closed.value.reason == "Someone called aLiCe is already in lobby: pick another name."
        assert app.extensions["chat"].names("lobby") == ["Alice"]
        # Alice heard nothing of it, and is still connected.
        alice.send_json({"text": "still me"})
        event = alice.receive_json()
        assert (event["type"], event["name"]) == ("message", "Alice")
    # Once she has left, the name is free again.
    with client.websocket_connect("/ws/lobby?name=alice") as again:
        assert again.receive_json()["people"] == ["alice"]


def test_message_times_are_utc_iso(client: ErlenClient) -> None:
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        before = datetime.now(UTC).replace(microsecond=0)
        ada.send_json({"text": "what time is it"})
        at = ada.receive_json()["at"]
        after = datetime.now(UTC)
    # The script turns it into the reader's local time: it must say it is UTC.
    assert isinstance(at, str) and at.endswith("Z")
    assert before <= datetime.fromisoformat(at.replace("Z", "+00:00")) <= after


def test_one_process_in_memory_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from chat import create_app
    from chat.rooms import MemoryRooms, RedisRooms

    monkeypatch.delenv("ERLEN_BROADCAST_URL", raising=False)
    assert isinstance(create_app().extensions["chat"].store, MemoryRooms)
    # The environment switches it to Redis (nothing connects until used).
    monkeypatch.setenv("ERLEN_BROADCAST_URL", "redis://127.0.0.1:6379/0")
    app = create_app()
    assert app.extensions["broadcast"].url == "redis://127.0.0.1:6379/0"
    assert isinstance(app.extensions["chat"].store, RedisRooms)
