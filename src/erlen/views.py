"""Class-based views: :class:`View` and :class:`MethodView`.

A class-based view is turned into an ordinary view function with
:meth:`View.as_view`, then registered like any other view::

    class UserAPI(MethodView):
        def get(self, id):
            ...

        def post(self, id):
            ...

    app.add_url_rule("/users/<int:id>", view_func=UserAPI.as_view("user"))
"""

from __future__ import annotations

import typing as t

from .exceptions import MethodNotAllowed
from .globals import _cv

__all__ = ["View", "MethodView", "http_method_funcs"]

_F = t.Callable[..., t.Any]

#: The method names :class:`MethodView` looks for on its subclasses.
http_method_funcs = frozenset(["get", "post", "head", "options", "delete", "put", "trace", "patch"])


def _call(func: t.Callable[..., t.Any], kwargs: dict[str, t.Any]) -> t.Any:
    """Call ``func(**kwargs)`` through the current app's ``ensure_sync``."""
    ensure_sync = _cv.get().app.ensure_sync
    # PERF: ensure_sync caches the wrappers of coroutine functions; a bound
    # method is new on every access (and with a new instance per request,
    # never equal to an earlier one), so the plain function is passed and
    # the instance given as an argument, which keeps the cache small and
    # lets the plain-function fast path apply.
    underlying = getattr(func, "__func__", None)
    if underlying is not None:
        return ensure_sync(underlying)(func.__self__, **kwargs)  # type: ignore[attr-defined]
    return ensure_sync(func)(**kwargs)


class View:
    """A view written as a class; subclass it and implement :meth:`dispatch_request`.

    :meth:`as_view` turns the class into a view function. By default each
    request gets a new instance, so attributes set on ``self`` don't leak
    between requests.

    .. code-block:: python

        class Hello(View):
            def __init__(self, greeting):
                self.greeting = greeting

            def dispatch_request(self, name):
                return f"{self.greeting}, {name}!"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello", "Hi"))

    .. versionadded:: 0.1
    """

    #: The methods the view accepts, used when the view is registered
    #: without ``methods=`` (default: ``GET`` only).
    methods: t.ClassVar[t.Collection[str] | None] = None

    #: Whether to answer ``OPTIONS`` automatically; ``None`` leaves it to
    #: the app (automatic unless the view accepts ``OPTIONS`` itself).
    provide_automatic_options: t.ClassVar[bool | None] = None

    #: Decorators applied, in order, to the view function made by
    #: :meth:`as_view` (the class itself can't be decorated usefully).
    decorators: t.ClassVar[list[t.Callable[..., t.Any]]] = []

    #: Create a new instance for every request. ``False`` creates one
    #: instance in :meth:`as_view` and shares it between all requests (and
    #: threads): faster, but then ``self`` must not hold request data.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self) -> t.Any:
        """Handle the request; the URL's variables are passed as keyword arguments.

        Return what a view function would return. Subclasses must
        implement it; it may be ``async``.

        .. versionadded:: 0.1
        """
        raise NotImplementedError()

    @classmethod
    def as_view(cls, name: str, *class_args: t.Any, **class_kwargs: t.Any) -> _F:
        """Make a view function that dispatches to an instance of the class.

        The function has the attributes ``add_url_rule`` reads:
        ``methods``, ``provide_automatic_options``, plus ``view_class``
        (this class), and takes its ``__name__`` from ``name``, its
        ``__qualname__`` from both (``"ClassName.name"``), its ``__doc__``
        and ``__module__`` from the class. :attr:`decorators` are applied
        to it.

        :param name: The view's name, the default endpoint.
        :param class_args: Positional arguments for the class's constructor.
        :param class_kwargs: Keyword arguments for the class's constructor.

        .. versionadded:: 0.1
        """
        if cls.init_every_request:

            def view(**kwargs: t.Any) -> t.Any:
                self = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return _call(self.dispatch_request, kwargs)

        else:
            instance = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> t.Any:
                return _call(instance.dispatch_request, kwargs)

        # NOTE: each view function gets its own qualified name: without it,
        # every as_view() function would be "View.as_view.<locals>.view",
        # and anything that tells views apart by module and qualified name
        # (logging, profilers, csrf.exempt("module.Class.name")) would see
        # one view (issue 15, finding 1).
        qualname = f"{cls.__qualname__}.{name}"
        if cls.decorators:
            # Set before decorating, so decorators that copy these (with
            # functools.wraps) see the view's real name.
            view.__name__ = name
            view.__qualname__ = qualname
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)

        # Set after decorating, on the outermost function, which is what
        # gets registered and what view.view_class is looked up on.
        view.view_class = cls  # type: ignore[attr-defined]
        view.__name__ = name
        view.__qualname__ = qualname
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods  # type: ignore[attr-defined]
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """A view that dispatches to the method named after the HTTP method.

    ``GET`` calls ``self.get(**kwargs)``, ``POST`` calls ``self.post``, and
    so on. :attr:`~View.methods` is filled in from the handlers the class
    defines or inherits, so routing answers 405 for the others. ``HEAD``
    falls back to ``get`` when there is no ``head``. Handlers may be
    ``async``.

    .. code-block:: python

        class Counter(MethodView):
            def get(self):
                return str(session.get("count", 0))

            def post(self):
                session["count"] = session.get("count", 0) + 1
                return "", 204

        app.add_url_rule("/counter", view_func=Counter.as_view("counter"))

    .. versionadded:: 0.1
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # A class that sets methods itself keeps them.
        if "methods" not in cls.__dict__:
            methods: set[str] = set()
            for base in cls.__bases__:
                base_methods = getattr(base, "methods", None)
                if base_methods:
                    methods.update(base_methods)
            for key in http_method_funcs:
                if hasattr(cls, key):
                    methods.add(key.upper())
            if methods:
                cls.methods = methods

    def dispatch_request(self, **kwargs: t.Any) -> t.Any:
        """Call the handler of the request's method with the URL's variables.

        :raises MethodNotAllowed: The class has no handler for the method
            (possible only when :attr:`~View.methods` names it explicitly).

        .. versionadded:: 0.1
        """
        method = _cv.get().request.method  # type: ignore[union-attr]
        meth = getattr(self, method.lower(), None)
        if meth is None and method == "HEAD":
            meth = getattr(self, "get", None)
        if meth is None:
            # NOTE: Flask asserts here; a 405 listing the handled methods
            # is the accurate answer and survives ``python -O``.
            valid = sorted(
                m.upper() for m in http_method_funcs if getattr(self, m, None) is not None
            )
            raise MethodNotAllowed(valid_methods=valid)
        return _call(meth, kwargs)
