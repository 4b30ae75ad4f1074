"""OpenAPI 3.1 for an app: the spec served at a URL and printed by ``erlen openapi``.

Set up like a Flask extension::

    api = OpenAPI(app, title="Bookmarks", version="1.0")

The document is built from the app's rules and the declarations of
:mod:`erlen.typed` (:func:`~erlen.openapi.spec.build_spec`) on first use,
then kept: the app's setup is frozen once it has served a request. It is
served at the ``OPENAPI_URL`` config key (``/openapi.json`` by default;
``None`` serves nothing), and the ``erlen openapi`` command prints it. An
interactive reference page, Swagger UI from files shipped inside the
package (no CDN: it works offline), is served at ``OPENAPI_DOCS_URL``
(``/docs`` by default; ``None`` serves none).

.. versionadded:: 0.2
"""

from __future__ import annotations

import json
import threading
import typing as t
from html import escape
from pathlib import Path

from ..exceptions import NotFound
from ..globals import _cv
from ..helpers import send_from_directory, url_for
from ..typed import doc
from .spec import build_spec

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..wrappers import Response

__all__ = ["OpenAPI", "api_key", "bearer_auth", "session_cookie"]

#: The endpoint of the served spec.
SPEC_ENDPOINT = "openapi_spec"
#: The endpoints of the reference page and of its files.
DOCS_ENDPOINT = "openapi_docs"
ASSET_ENDPOINT = "openapi_docs_asset"

# Swagger UI (vendored by scripts/vendor_swagger_ui.py) and the page's own script.
_UI = Path(__file__).parent / "ui"
_ASSETS = {
    "swagger-ui-bundle.js": _UI / "swagger-ui",
    "swagger-ui.css": _UI / "swagger-ui",
    "init.js": _UI,
}


def bearer_auth(
    bearer_format: str | None = None, description: str | None = None
) -> dict[str, t.Any]:
    """A security scheme: a token in ``Authorization: Bearer <token>``.

    :param bearer_format: A hint such as ``"JWT"``.
    :param description: Shown in the reference.
    """
    scheme: dict[str, t.Any] = {"type": "http", "scheme": "bearer"}
    if bearer_format:
        scheme["bearerFormat"] = bearer_format
    if description:
        scheme["description"] = description
    return scheme


def api_key(
    name: str, location: str = "header", description: str | None = None
) -> dict[str, t.Any]:
    """A security scheme: a key in a header, the query string or a cookie.

    :param name: The header, query parameter or cookie name (``X-API-Key``).
    :param location: ``"header"``, ``"query"`` or ``"cookie"``.
    :param description: Shown in the reference.
    :raises ValueError: Another location.
    """
    if location not in ("header", "query", "cookie"):
        raise ValueError(f"location must be 'header', 'query' or 'cookie', not {location!r}")
    scheme: dict[str, t.Any] = {"type": "apiKey", "in": location, "name": name}
    if description:
        scheme["description"] = description
    return scheme


def session_cookie(name: str | None = None, description: str | None = None) -> dict[str, t.Any]:
    """A security scheme: the app's session cookie (after a login).

    :param name: The cookie's name; the app's ``SESSION_COOKIE_NAME`` when
        the spec is built if not given.
    :param description: Shown in the reference.
    """
    # A name of None is filled from the app's config when the spec is built.
    return {
        "type": "apiKey",
        "in": "cookie",
        "name": name,
        "description": description or "The session cookie set at login.",
    }


class OpenAPI:
    """The OpenAPI document of an app, served and on the command line.

    ``OpenAPI(app, ...)`` or ``api = OpenAPI(...)`` then
    ``api.init_app(app)`` in an app factory. ``init_app`` reads the
    ``OPENAPI_URL`` config key (``"/openapi.json"`` by default; ``None``
    serves nothing), adds that route and the ``erlen openapi`` command,
    and ``OPENAPI_DOCS_URL`` (``"/docs"`` by default; ``None`` serves
    none) for the reference page, with its files under that URL.

    :param app: The app, or ``None`` to call :meth:`init_app` later.
    :param title: The API's title; the app's name by default.
    :param version: The API's version (not OpenAPI's).
    :param description: The API's description (Markdown).
    :param security_schemes: Named security schemes
        (:func:`bearer_auth`, :func:`api_key`, :func:`session_cookie`, or
        any OpenAPI Security Scheme object).
    :param security: The names of the schemes (any one of them) every view
        accepts unless it declares others with :func:`erlen.typed.security`.
    :param servers: OpenAPI Server objects (``[{"url": "https://api.example"}]``).
    :param tags: Tag objects (``{"name": "bookmarks", "description": "..."}``);
        blueprints' names are tags too.
    :param info: More members of the ``info`` object (``contact``, ``license``...).
    """

    def __init__(
        self,
        app: Erlen | None = None,
        *,
        title: str | None = None,
        version: str = "0.1.0",
        description: str | None = None,
        security_schemes: dict[str, dict[str, t.Any]] | None = None,
        security: list[str] | None = None,
        servers: list[dict[str, t.Any]] | None = None,
        tags: list[dict[str, t.Any]] | None = None,
        info: dict[str, t.Any] | None = None,
    ) -> None:
        self.title = title
        self.version = version
        self.description = description
        self.security_schemes = dict(security_schemes or {})
        unknown = [name for name in security or () if name not in self.security_schemes]
        if unknown:
            raise ValueError(f"security names schemes that are not declared: {unknown}")
        self.security = list(security) if security is not None else None
        self.servers = servers
        self.tags = tags
        self.info = dict(info or {})
        self._lock = threading.Lock()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Serve the spec at ``OPENAPI_URL`` and add the ``erlen openapi`` command."""
        app.extensions["openapi"] = self
        url = app.config.setdefault("OPENAPI_URL", "/openapi.json")
        if url:
            app.add_url_rule(url, SPEC_ENDPOINT, doc(hide=True)(_serve_spec))
        explicit = "OPENAPI_DOCS_URL" in app.config
        docs_url = app.config.setdefault("OPENAPI_DOCS_URL", "/docs")
        if docs_url and not url:
            # The page reads the spec from its URL: without one, no page,
            # which is an error only when a page was asked for.
            if explicit:
                raise ValueError(
                    "OPENAPI_DOCS_URL needs OPENAPI_URL: the page reads the spec there"
                )
            docs_url = None
        if docs_url:
            app.add_url_rule(docs_url, DOCS_ENDPOINT, doc(hide=True)(_serve_docs))
            app.add_url_rule(
                f"{docs_url.rstrip('/')}/<filename>", ASSET_ENDPOINT, doc(hide=True)(_serve_asset)
            )

        app.cli.command("openapi")(_openapi_command)

    def spec(self, app: Erlen) -> dict[str, t.Any]:
        """The app's OpenAPI document; built on the first call, then the same dict.

        :raises ValueError: A view names a security scheme that is not declared.
        """
        # Under the lock: two first requests at once build it once. The
        # served JSON is cached apart, so this runs once per app anyway.
        with self._lock:
            cached = app.extensions.get("openapi_spec")
            if cached is None:
                cached = self._build(app)
                app.extensions["openapi_spec"] = cached
        return t.cast(dict[str, t.Any], cached)

    def _build(self, app: Erlen) -> dict[str, t.Any]:
        info: dict[str, t.Any] = {"title": self.title or app.name, "version": self.version}
        if self.description:
            info["description"] = self.description
        info.update(self.info)
        schemes = {}
        for name, scheme in self.security_schemes.items():
            if scheme.get("in") == "cookie" and scheme.get("name") is None:
                scheme = {**scheme, "name": app.config["SESSION_COOKIE_NAME"]}
            schemes[name] = scheme
        document = build_spec(
            app,
            info=info,
            security_schemes=schemes,
            security=self.security,
            servers=self.servers,
            tags=self.tags,
        )
        for path in document["paths"].values():
            for operation in path.values():
                for requirement in operation.get("security", ()):
                    unknown = [name for name in requirement if name not in schemes]
                    if unknown:
                        raise ValueError(
                            f"operation {operation['operationId']!r} names security schemes"
                            f" that are not declared: {unknown}"
                        )
        return document


def _openapi_command() -> None:
    """Print the app's OpenAPI document (JSON): erlen openapi > openapi.json."""
    import click

    app = _cv.get().app
    click.echo(json.dumps(app.extensions["openapi"].spec(app), indent=2))


def _serve_spec() -> Response:
    # The JSON is made once: the spec does not change while the app serves.
    app = _cv.get().app
    body = app.extensions.get("openapi_spec_json")
    if body is None:
        api: OpenAPI = app.extensions["openapi"]
        body = json.dumps(api.spec(app)).encode()
        app.extensions["openapi_spec_json"] = body
    return app.response_class(body, mimetype="application/json")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def _serve_docs() -> Response:
    # Made per request (the page is rarely asked for): its URLs follow the
    # mount point the request came through.
    app = _cv.get().app
    api: OpenAPI = app.extensions["openapi"]
    body = _PAGE.format(
        title=escape(f"{api.title or app.name} – API reference"),
        spec=escape(url_for(SPEC_ENDPOINT)),
        css=escape(url_for(ASSET_ENDPOINT, filename="swagger-ui.css")),
        bundle=escape(url_for(ASSET_ENDPOINT, filename="swagger-ui-bundle.js")),
        init=escape(url_for(ASSET_ENDPOINT, filename="init.js")),
    )
    return app.response_class(body, mimetype="text/html")


def _serve_asset(filename: str) -> Response:
    folder = _ASSETS.get(filename)
    if folder is None:
        raise NotFound()
    # Cached for a day, revalidated after: the files change only with Erlen.
    return send_from_directory(folder, filename, max_age=86400)
