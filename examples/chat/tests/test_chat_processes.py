"""The chat on several processes sharing one Redis: messages, names, people and history.

Two apps made by ``create_app`` on one Redis stand for two server
processes (each has its own broadcast connection and thread); the last
tests start two real uvicorn processes and talk to them over real
WebSockets. All of it needs a real redis-server (the ``redis_url`` fixture).
"""

from __future__ import annotations

import json
import signal
import sys
import time
import typing as t
from pathlib import Path

import pytest
import redis
from chat import create_app

from erlen import Erlen, WebSocketDisconnect
from erlen.testing import ErlenClient

EXAMPLE = Path(__file__).resolve().parents[1]


def make_app(redis_url: str, **config: t.Any) -> Erlen:
    return create_app({"TESTING": True, "BROADCAST_URL": redis_url, **config})


@pytest.fixture
def two(redis_url: str) -> t.Iterator[tuple[ErlenClient, ErlenClient]]:
    """Test clients of two apps on one Redis, as two server processes."""
    one, other = make_app(redis_url), make_app(redis_url)
    yield one.test_client(), other.test_client()
    for app in (one, other):
        app.extensions["broadcast"].close()


def wait_until(check: t.Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_message_said_on_one_process_reaches_the_other(
    two: tuple[ErlenClient, ErlenClient],
) -> None:
    a, b = two
    with a.websocket_connect("/ws/lobby?name=ada") as ada:
        assert ada.receive_json()["people"] == ["ada"]
        ada.receive_json()  # her own "joined"
        ada.send_json({"text": "said before bob came"})
        ada.receive_json()
        with b.websocket_connect("/ws/lobby?name=bob") as bob:
            # Bob, on the other process, sees Ada, and what she said before.
            history = bob.receive_json()
            assert history["people"] == ["ada", "bob"]
            assert [m["text"] for m in history["messages"]] == ["said before bob came"]
            assert ada.receive_json() == {"type": "joined", "name": "bob", "people": ["ada", "bob"]}
            bob.receive_json()
            ada.send_json({"text": "hello from a"})
            assert bob.receive_json()["text"] == "hello from a"
            bob.send_json({"text": "hello from b"})
            assert ada.receive_json()["text"] == "hello from a"  # her own, first
            assert ada.receive_json()["text"] == "hello from b"
            # Both front pages list the room.
            for client in two:
                assert b"Open rooms: lobby" in client.get("/").data
        assert ada.receive_json() == {"type": "left", "name": "bob", "people": ["ada"]}
    for client in two:
        assert b"Open rooms" not in client.get("/").data


def test_a_name_taken_on_one_process_is_refused_on_the_other(
    two: tuple[ErlenClient, ErlenClient],
) -> None:
    a, b = two
    with a.websocket_connect("/ws/lobby?name=Alice") as alice:
        alice.receive_json(), alice.receive_json()
        assert b.post("/join", data={"name": "alice", "room": "lobby"}).status_code == 409
        with b.websocket_connect("/ws/lobby?name=ALICE") as impostor:
            with pytest.raises(WebSocketDisconnect) as closed:
                impostor.receive()
        assert closed.value.code == 4409
        assert b.post("/join", data={"name": "alice", "room": "den"}).status_code == 302
    # Freed when she leaves, on either process.
    assert b.post("/join", data={"name": "alice", "room": "lobby"}).status_code == 302


def test_what_is_kept_in_redis(redis_url: str) -> None:
    app = make_app(redis_url, CHAT_HISTORY=3)
    store: t.Any = redis.Redis.from_url(redis_url, decode_responses=True)  # replies are str
    with app.test_client().websocket_connect("/ws/r1?name=Ada") as ada:
        ada.receive_json(), ada.receive_json()
        for n in range(5):
            ada.send_json({"text": f"m{n}"})
            ada.receive_json()
        assert store.smembers("chat:rooms") == {"r1"}
        assert store.smembers("chat:room:r1:people") == {"ada"}
        assert store.get("chat:room:r1:seat:ada").endswith(" Ada")
        assert 0 < store.ttl("chat:room:r1:seat:ada") <= 30
        history = [json.loads(m)["text"] for m in store.lrange("chat:room:r1:history", 0, -1)]
        assert history == ["m2", "m3", "m4"]  # capped with LTRIM
    # The last one out leaves nothing behind.
    assert store.keys("chat:*") == []
    app.extensions["broadcast"].close()


def test_a_seat_of_a_dead_process_expires(redis_url: str) -> None:
    # A process killed with SIGKILL never frees its seats: they expire.
    gone = make_app(redis_url, CHAT_SEAT_TTL=1)
    assert gone.extensions["chat"].store.claim("lobby", "ghost") is not None
    app = make_app(redis_url, CHAT_SEAT_TTL=1)
    client = app.test_client()
    assert client.post("/join", data={"name": "Ghost", "room": "lobby"}).status_code == 409
    assert app.extensions["chat"].names("lobby") == ["ghost"]
    wait_until(lambda: app.extensions["chat"].names("lobby") == [], timeout=5)
    assert app.extensions["chat"].rooms() == []
    assert client.post("/join", data={"name": "Ghost", "room": "lobby"}).status_code == 302


def test_a_live_connection_keeps_its_seat(redis_url: str) -> None:
    app = make_app(redis_url, CHAT_SEAT_TTL=1)  # renewed every third of a second
    with app.test_client().websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        time.sleep(2.5)  # far past the TTL
        assert app.extensions["chat"].names("lobby") == ["ada"]
        ada.send_json({"text": "still here"})
        assert ada.receive_json()["text"] == "still here"
    app.extensions["broadcast"].close()


def test_a_lost_seat_closes_the_socket(redis_url: str) -> None:
    # Say ada's process stalled past the TTL and someone else took her name:
    # the next renewal finds it and closes her socket, rather than have two adas.
    app = make_app(redis_url, CHAT_SEAT_TTL=1)
    store: t.Any = redis.Redis.from_url(redis_url, decode_responses=True)  # replies are str
    with app.test_client().websocket_connect("/ws/lobby?name=ada") as ada:
        ada.receive_json(), ada.receive_json()
        store.set("chat:room:lobby:seat:ada", "othertoken ada", ex=60)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ada.receive()
        assert closed.value.code == 4409
    assert store.get("chat:room:lobby:seat:ada") == "othertoken ada"  # hers stays hers
    app.extensions["broadcast"].close()


# -- two real server processes -------------------------------------------------------


@pytest.fixture
def servers(
    redis_url: str, tmp_path: Path, client_interface: str
) -> t.Iterator[tuple[t.Any, t.Any]]:
    """Two uvicorn processes serving the chat on free ports, sharing one Redis."""
    if client_interface != "wsgi":
        pytest.skip("real servers: one run is enough (the test client is not used)")
    pytest.importorskip("uvicorn")
    from live_servers import ServerProcess, clean_env

    command = [
        sys.executable, "-m", "uvicorn", "--factory", "chat:create_app",
        "--app-dir", str(EXAMPLE), "--host", "127.0.0.1", "--port", "{port}",
        "--log-level", "warning", "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip
    env = clean_env(ERLEN_BROADCAST_URL=redis_url, ERLEN_CHAT_SEAT_TTL="2")
    with (
        ServerProcess(command, tmp_path, env=env, lifetime=60) as one,
        ServerProcess(command, tmp_path, env=env, lifetime=60) as other,
    ):
        yield one, other


def connect(server: t.Any, room: str, name: str) -> t.Any:
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{server.port}/ws/{room}?name={name}"
    return connect(url, open_timeout=5, close_timeout=2, proxy=None)


def receive(ws: t.Any) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], json.loads(ws.recv(timeout=5)))


def test_two_uvicorn_processes_share_the_rooms(servers: tuple[t.Any, t.Any]) -> None:
    from websockets.exceptions import ConnectionClosed

    one, other = servers
    with connect(one, "lobby", "ada") as ada:
        assert receive(ada) == {"type": "history", "messages": [], "people": ["ada"]}
        assert receive(ada)["type"] == "joined"
        with connect(other, "lobby", "bob") as bob:
            assert receive(bob)["people"] == ["ada", "bob"]
            assert receive(ada) == {"type": "joined", "name": "bob", "people": ["ada", "bob"]}
            assert receive(bob)["type"] == "joined"
            ada.send(json.dumps({"text": "hello from process one"}))
            for ws in (ada, bob):
                event = receive(ws)
                assert (event["name"], event["text"]) == ("ada", "hello from process one")
            bob.send(json.dumps({"text": "hello from process two"}))
            for ws in (ada, bob):
                assert receive(ws)["text"] == "hello from process two"
            # The name is taken on both processes.
            with connect(one, "lobby", "BOB") as impostor:
                with pytest.raises(ConnectionClosed) as closed:
                    impostor.recv(timeout=5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409

            # Process two dies without a word: Bob's seat expires (CHAT_SEAT_TTL=2).
            assert other.proc is not None
            other.proc.send_signal(signal.SIGKILL)
            other.proc.wait(5)

            def bob_is_gone() -> bool:
                time.sleep(0.2)  # one try in five a second is enough
                with connect(one, "lobby", "carol") as carol:
                    return bool(receive(carol)["people"] == ["ada", "carol"])

            wait_until(bob_is_gone, timeout=10)
            with connect(one, "lobby", "bob") as again:
                assert receive(again)["people"] == ["ada", "bob"]


def test_redis_down_is_a_503_not_a_500(caplog: pytest.LogCaptureFixture) -> None:
    from live_servers import free_port

    # Nothing listens there. (Not TESTING: the socket's error is handled as in production.)
    app = make_app(f"redis://127.0.0.1:{free_port()}/0", TESTING=False)
    client = app.test_client()
    for page in (client.get("/"), client.post("/join", data={"name": "ada", "room": "lobby"})):
        assert page.status_code == 503
        assert b"its Redis is down" in page.data
    assert "Redis is unavailable" in caplog.text
    # The socket can't take a seat: it is closed as a server error, nothing hangs.
    with client.websocket_connect("/ws/lobby?name=ada") as ada:
        with pytest.raises(WebSocketDisconnect) as closed:
            ada.receive()
    assert closed.value.code == 1011
