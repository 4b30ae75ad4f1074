"""The ASGI benchmark app for Starlette, written the way its docs show."""

from __future__ import annotations

from asgi_cases import JSON_DOC
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def user(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"Hello, {request.path_params['name']}!")


async def json_view(request: Request) -> JSONResponse:
    return JSONResponse(JSON_DOC)


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(await request.json())


def create_app() -> Starlette:
    """Build the app with the four ASGI cases' routes."""
    return Starlette(
        routes=[
            Route("/", hello),
            Route("/user/{name}", user),
            Route("/json", json_view),
            Route("/echo", echo, methods=["POST"]),
        ]
    )


app = create_app()
