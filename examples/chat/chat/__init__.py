"""A chat room over WebSockets: pick a name and a room, talk to whoever is there.

Served by an ASGI server (WebSockets need one)::

    uvicorn --factory chat:create_app

One process keeps the rooms in memory. Several processes (or machines)
share them through Redis: start each with the same Redis URL::

    ERLEN_BROADCAST_URL=redis://127.0.0.1:6379/0 uvicorn --factory chat:create_app --port 8001
    ERLEN_BROADCAST_URL=redis://127.0.0.1:6379/0 uvicorn --factory chat:create_app --port 8002
"""

from __future__ import annotations

import typing as t

from erlen import Erlen
from erlen.broadcast import Broadcast

from .hub import Hub
from .rooms import MemoryRooms, RedisRooms


def create_app(config: dict[str, t.Any] | None = None) -> Erlen:
    """Build the chat app.

    Settings come from the defaults below, then ``ERLEN_*`` environment
    variables (``ERLEN_BROADCAST_URL=redis://...``), then ``config`` (e.g.
    ``TESTING``).
    """
    app = Erlen(__name__)
    app.config.update(
        BROADCAST_URL="memory://",  # or redis://host:6379/0 to share the rooms between processes
        CHAT_HISTORY=50,  # messages a newcomer sees
        CHAT_MAX_TEXT=500,  # characters in one message
        CHAT_SEAT_TTL=30,  # seconds the name of someone on a killed process stays taken (Redis)
        WEBSOCKET_MAX_MESSAGE_SIZE=4096,  # bytes in one WebSocket frame
    )
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
    broadcast = Broadcast(app)
    url = broadcast.url
    store: MemoryRooms | RedisRooms
    if url.startswith(("redis://", "rediss://")):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Fail fast rather than hold a page or a socket while Redis is away:
        # short timeouts, and one retry after a broken connection only.
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        )
        store = RedisRooms(client, app.config["CHAT_HISTORY"], app.config["CHAT_SEAT_TTL"])

        @app.errorhandler(redis.RedisError)
        def redis_down(error: redis.RedisError) -> tuple[str, int]:
            app.logger.error("Redis is unavailable: %s", error)
            return "The chat is unavailable for a moment (its Redis is down): try again soon.", 503
    else:
        store = MemoryRooms(app.config["CHAT_HISTORY"])
    app.extensions["chat"] = Hub(store, broadcast, app.config["CHAT_SEAT_TTL"])

    from . import views

    app.register_blueprint(views.bp)
    return app
