"""Class-based views: View and MethodView."""

from __future__ import annotations

import functools
import typing as t

import pytest

from erlen import Blueprint, Erlen, request
from erlen.views import MethodView, View, http_method_funcs


def test_view_basics(app: Erlen, client: t.Any) -> None:
    class Index(View):
        """The index view."""

        methods = ["GET", "POST"]

        def dispatch_request(self) -> str:
            return request.method

    view = Index.as_view("index")
    assert view.__name__ == "index"
    # issue 15, finding 1: each as_view() function has its own qualified name
    # (it was "View.as_view.<locals>.view" for all of them).
    assert view.__qualname__.endswith("Index.index")
    assert Index.as_view("other").__qualname__.endswith("Index.other")
    assert view.__doc__ == "The index view."
    assert view.__module__ == __name__
    assert view.view_class is Index  # type: ignore[attr-defined]
    assert view.methods == ["GET", "POST"]  # type: ignore[attr-defined]
    assert view.provide_automatic_options is None  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert client.get("/").text == "GET"
    assert client.post("/").text == "POST"
    assert client.put("/").status_code == 405
    assert sorted(client.options("/").headers["Allow"].split(", ")) == [
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
    ]


def test_view_default_methods_and_args(app: Erlen, client: t.Any) -> None:
    class Greet(View):
        def __init__(self, greeting: str, *, punct: str = ".") -> None:
            self.greeting = greeting
            self.punct = punct

        def dispatch_request(self, name: str) -> str:
            return f"{self.greeting}, {name}{self.punct}"

    app.add_url_rule("/<name>", view_func=Greet.as_view("greet", "Hi", punct="!"))
    assert client.get("/you").text == "Hi, you!"
    assert client.post("/you").status_code == 405


def test_view_not_implemented(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/", view_func=View.as_view("index"))
    with pytest.raises(NotImplementedError):
        client.get("/")


def test_provide_automatic_options(app: Erlen, client: t.Any) -> None:
    class NoOptions(View):
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "view"

    app.add_url_rule("/", view_func=NoOptions.as_view("index"))
    assert client.options("/").status_code == 405


def test_init_every_request(app: Erlen, client: t.Any) -> None:
    created: list[object] = []

    class Counter(View):
        def __init__(self) -> None:
            created.append(self)
            self.count = 0

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    class Shared(Counter):
        init_every_request = False

    app.add_url_rule("/new", view_func=Counter.as_view("new"))
    app.add_url_rule("/shared", view_func=Shared.as_view("shared"))
    assert len(created) == 1  # the shared instance, made by as_view
    assert [client.get("/new").text for _ in range(2)] == ["1", "1"]
    assert len(created) == 3
    assert [client.get("/shared").text for _ in range(2)] == ["1", "2"]
    assert len(created) == 3


def test_view_class_attribute_can_be_replaced(app: Erlen, client: t.Any) -> None:
    # The instance comes from view.view_class, so tools may swap the class.
    class A(View):
        def dispatch_request(self) -> str:
            return "a"

    class B(View):
        def dispatch_request(self) -> str:
            return "b"

    view = A.as_view("index")
    view.view_class = B  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert client.get("/").text == "b"


def test_decorators(app: Erlen, client: t.Any) -> None:
    seen_names: list[str] = []

    def add_header(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        seen_names.append(f.__name__)

        @functools.wraps(f)
        def wrapper(**kwargs: t.Any) -> t.Any:
            return f(**kwargs) + " decorated"

        return wrapper

    def exclaim(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def wrapper(**kwargs: t.Any) -> t.Any:
            return f(**kwargs) + "!"

        return wrapper

    class Index(View):
        decorators = [add_header, exclaim]

        def dispatch_request(self) -> str:
            return "view"

    view = Index.as_view("index")
    # Decorators see the view's name; attributes end up on the outermost function.
    assert seen_names == ["index"]
    assert view.__name__ == "index"
    assert view.__qualname__.endswith("Index.index")
    assert view.view_class is Index  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert client.get("/").text == "view decorated!"


def test_async_view(app: Erlen, client: t.Any) -> None:
    class Index(View):
        async def dispatch_request(self, n: str) -> str:
            return f"async {n}"

    app.add_url_rule("/<n>", view_func=Index.as_view("index"))
    assert client.get("/1").text == "async 1"
    assert client.get("/2").text == "async 2"


def test_view_in_blueprint(app: Erlen, client: t.Any) -> None:
    class Index(View):
        def dispatch_request(self) -> str:
            return request.endpoint or ""

    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", view_func=Index.as_view("index"))
    app.register_blueprint(bp)
    assert client.get("/bp/").text == "bp.index"


# -- MethodView -----------------------------------------------------------------------


class Resource(MethodView):
    def get(self, id: int | None = None) -> str:
        return f"get {id}"

    def post(self, id: int | None = None) -> str:
        return f"post {id}"


def test_http_method_funcs() -> None:
    assert http_method_funcs == {
        "get",
        "post",
        "head",
        "options",
        "delete",
        "put",
        "trace",
        "patch",
    }


def test_method_view_methods() -> None:
    assert Resource.methods == {"GET", "POST"}
    assert MethodView.methods is None


def test_method_view_dispatch(app: Erlen, client: t.Any) -> None:
    app.add_url_rule("/<int:id>", view_func=Resource.as_view("resource"))
    assert client.get("/3").text == "get 3"
    assert client.post("/4").text == "post 4"
    r = client.delete("/4")
    assert r.status_code == 405
    assert sorted(r.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_head_falls_back_to_get(app: Erlen, client: t.Any) -> None:
    calls: list[str] = []

    class Page(MethodView):
        def get(self) -> tuple[str, dict[str, str]]:
            calls.append(request.method)
            return "body", {"X-Get": "yes"}

    app.add_url_rule("/", view_func=Page.as_view("page"))
    r = client.head("/")
    assert r.status_code == 200
    assert r.headers["X-Get"] == "yes"
    assert r.data == b""
    assert calls == ["HEAD"]


def test_explicit_head_handler(app: Erlen, client: t.Any) -> None:
    class Page(MethodView):
        def get(self) -> str:
            return "get"

        def head(self) -> tuple[str, dict[str, str]]:
            return "", {"X-Head": "yes"}

    assert Page.methods == {"GET", "HEAD"}
    app.add_url_rule("/", view_func=Page.as_view("page"))
    assert client.head("/").headers["X-Head"] == "yes"


def test_inherited_methods() -> None:
    class Base(MethodView):
        def get(self) -> str:
            return "get"

    class Child(Base):
        def delete(self) -> str:
            return "delete"

    class Mixin:
        def put(self) -> str:
            return "put"

    class WithMixin(Mixin, Child):
        pass

    assert Child.methods == {"GET", "DELETE"}
    assert WithMixin.methods == {"GET", "DELETE", "PUT"}


def test_methods_from_base_attribute() -> None:
    # A base's explicit methods carry over, even without handlers for them.
    class Base(MethodView):
        methods = ["PROPFIND"]

    class Child(Base):
        def get(self) -> str:
            return "get"

    assert Child.methods == {"PROPFIND", "GET"}


def test_explicit_methods_kept() -> None:
    class Explicit(MethodView):
        methods = ["GET"]

        def get(self) -> str:
            return "get"

        def post(self) -> str:
            return "post"

    assert Explicit.methods == ["GET"]


def test_no_handlers_leaves_methods_unset() -> None:
    class Empty(MethodView):
        pass

    assert Empty.methods is None


def test_missing_handler_is_405(app: Erlen, client: t.Any) -> None:
    class Partial(MethodView):
        methods = ["GET", "POST"]

        def get(self) -> str:
            return "get"

    app.add_url_rule("/", view_func=Partial.as_view("partial"))
    assert client.get("/").text == "get"
    r = client.post("/")
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"


def test_method_view_async_handlers(app: Erlen, client: t.Any) -> None:
    class Async(MethodView):
        async def get(self, n: int) -> str:
            return f"async get {n}"

        def post(self, n: int) -> str:
            return f"sync post {n}"

    app.add_url_rule("/<int:n>", view_func=Async.as_view("async"))
    assert client.get("/1").text == "async get 1"
    assert client.head("/1").status_code == 200
    assert client.post("/2").text == "sync post 2"
    # The instance is not part of the sync-wrapper cache key.
    assert len(app._sync_cache) == 1


def test_method_view_non_method_handler(app: Erlen, client: t.Any) -> None:
    # A handler set on the instance is a plain callable, not a bound method.
    class Dynamic(MethodView):
        methods = ["GET"]

        def __init__(self) -> None:
            self.get = lambda: "instance handler"

    app.add_url_rule("/", view_func=Dynamic.as_view("dynamic"))
    assert client.get("/").text == "instance handler"


def test_method_view_shared_instance(app: Erlen, client: t.Any) -> None:
    class Counter(MethodView):
        init_every_request = False

        def __init__(self) -> None:
            self.count = 0

        def get(self) -> str:
            self.count += 1
            return str(self.count)

    app.add_url_rule("/", view_func=Counter.as_view("counter"))
    assert [client.get("/").text for _ in range(3)] == ["1", "2", "3"]
