"""Typed views: validated input and typed output with pydantic or msgspec models.

Three decorators, placed under the route decorator, declare what a view
takes and what it returns::

    @app.post("/bookmarks")
    @input(BookmarkIn)
    @output(BookmarkOut, status=201)
    def create_bookmark(body: BookmarkIn) -> BookmarkOut: ...

:func:`input` validates one part of the request (the JSON body by default;
the query string, form data, headers or cookies with ``location=``) with
the model's library (pydantic; msgspec for a ``msgspec.Struct``; see
:mod:`erlen.typed.adapters`) and passes the result to the view as a
keyword argument.
:func:`output` serializes what the view returns through a model, so a field
the model does not have never reaches the client. :func:`doc` and
:func:`security` only describe the view for :mod:`erlen.openapi`.

Invalid input is a :class:`ValidationError` (422) and a body that is not
JSON an :class:`InvalidJSON` (400), both answered as RFC 9457
``application/problem+json``; register an error handler for either class
(or for the code) to answer in another format.

pydantic (``pip install erlen[openapi]``) is imported when a decorator is
first given one of its models, msgspec (``erlen[msgspec]``) when one is
given a Struct; neither by ``import erlen``. A view without these decorators is
not touched: the work happens in a wrapper around the decorated view only.

.. versionadded:: 0.2
"""

from __future__ import annotations

import functools
import json
import typing as t
from dataclasses import dataclass, field
from types import FunctionType

from ..concurrency import is_async
from ..datastructures import ImmutableMultiDict, MultiDict
from ..dispatch import split_response_tuple
from ..exceptions import BadRequest, HTTPException, UnprocessableEntity, UnsupportedMediaType
from ..globals import _cv
from ..wrappers import Response
from ..wrappers.response import _bytes_response
from .adapters import ModelAdapter, adapter_for, is_multi

# PERF: bound once (CPython 3.11 builds a bound method for `_cv.get` on
# every call); Response's own __init__, which _bytes_response stands for.
_cv_get = _cv.get
_RESPONSE_INIT = Response.__init__

if t.TYPE_CHECKING:
    from ..wrappers import Request

__all__ = [
    "LOCATIONS",
    "Input",
    "InvalidJSON",
    "NotJSON",
    "Output",
    "ProblemDetails",
    "ValidationError",
    "ViewSpec",
    "doc",
    "input",
    "output",
    "problem_details",
    "security",
    "view_spec",
]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: Where :func:`input` can read from, with the keyword argument each passes
#: the validated object as unless ``arg=`` names another.
LOCATIONS: dict[str, str] = {
    "json": "body",
    "query": "query",
    "form": "form",
    "headers": "headers",
    "cookies": "cookies",
}

_SPEC_ATTR = "_erlen_view_spec"
#: The request's multi-value mappings that keep each key's values as a list.
_LISTS_BY_KEY = (ImmutableMultiDict, MultiDict)
_dict_items = dict.items


# -- errors --------------------------------------------------------------------


class ProblemDetails(HTTPException):
    """An HTTP error answered as RFC 9457 ``application/problem+json``.

    The body has ``type`` (``about:blank``: the status says it all),
    ``title`` (the status's reason phrase), ``status``, ``detail`` (the
    description) and, when there are any, ``errors``: one object per
    failing field, each with ``location`` (``json``, ``query``, ``form``,
    ``headers`` or ``cookies``), ``pointer`` (a JSON pointer to the field
    in that location, RFC 6901, e.g. ``/tags/0``), ``detail`` (the message)
    and ``type`` (the library's error type, e.g. ``missing``).

    :param errors: The failing fields, in the shape above.
    :param description: The ``detail`` member; the class's default if not given.
    """

    def __init__(
        self, errors: list[dict[str, t.Any]] | None = None, description: str | None = None
    ) -> None:
        super().__init__(description)
        #: The failing fields (see the class description).
        self.errors: list[dict[str, t.Any]] = errors or []

    def to_dict(self) -> dict[str, t.Any]:
        """The problem details object sent as the body."""
        problem: dict[str, t.Any] = {
            "type": "about:blank",
            "title": self.name,
            "status": self.code,
            "detail": self.description,
        }
        if self.errors:
            problem["errors"] = self.errors
        return problem

    def get_body(self, environ: t.Any = None, scope: t.Any = None) -> str:
        """The problem details as JSON."""
        return json.dumps(self.to_dict())

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        """``Content-Type: application/problem+json``."""
        return [("Content-Type", "application/problem+json")]


class ValidationError(ProblemDetails, UnprocessableEntity):
    """*422*: the input did not validate; :attr:`errors` lists every failing field.

    Not pydantic's exception of the same name: this one is the HTTP error a
    view's invalid input becomes.
    """

    description = "The request's input did not validate."


class InvalidJSON(ProblemDetails, BadRequest):
    """*400*: the body of a request to a view taking JSON is not JSON at all."""

    description = "The request body is not valid JSON."


class NotJSON(ProblemDetails, UnsupportedMediaType):
    """*415*: a view taking a JSON body got another ``Content-Type``."""

    description = "The request body must be JSON (Content-Type: application/json)."


def problem_details(error: HTTPException) -> Response:
    """An error handler answering every HTTP error as RFC 9457 problem details.

    Register it for :class:`~erlen.exceptions.HTTPException` (``app.
    register_error_handler(HTTPException, problem_details)``) and an
    ``abort(404, "No such bookmark.")`` is answered as
    ``application/problem+json``, the body :mod:`erlen.openapi` documents
    for the 4xx and 5xx statuses a view declares with
    ``@doc(responses=...)``, like the input errors of :func:`input`. The
    error's own headers (``WWW-Authenticate``, ``Allow``...) are kept; an
    error carrying a ready response (``abort(response)``) is sent as it is.
    """
    response = error.get_response()
    if isinstance(error, ProblemDetails) or error.response is not None:
        return response
    body = {
        "type": "about:blank",
        "title": error.name,
        "status": response.status_code,
        "detail": error.description,
    }
    response.set_data(json.dumps(body))
    response.content_type = "application/problem+json"
    return response


# -- what a view declares ------------------------------------------------------


def _pointer(loc: t.Iterable[str | int]) -> str:
    # RFC 6901: "~" and "/" in a key are escaped as "~0" and "~1".
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in loc)


#: Kept importable by its old name: whether a field annotation takes several values.
_is_multi = is_multi


@dataclass(eq=False)
class Input:
    """One :func:`input` declaration: a model read from one location of the request."""

    #: The model (or, for ``json``, any type its library validates, e.g. ``list[Item]``).
    schema: t.Any
    #: One of :data:`LOCATIONS`.
    location: str
    #: The keyword argument the view gets the validated object as.
    arg: str
    #: An example value for the spec, or ``None``.
    example: t.Any = None
    #: The model's library adapter (built once, at decoration): pydantic's, or
    #: msgspec's for a ``msgspec.Struct``.
    adapter: ModelAdapter = field(init=False, repr=False)
    # (key the model reads, name in the request, several values?) per field,
    # for headers and cookies; keys with several values for query and form.
    _fields: tuple[tuple[str, str, bool], ...] = field(init=False, repr=False, default=())
    _multi: frozenset[str] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        self.adapter = adapter_for(self.schema)
        if self.location == "json":
            return
        found = self.adapter.fields()
        if found is None:
            raise TypeError(
                f"@input(location={self.location!r}) takes a model class (a pydantic model,"
                f" a msgspec Struct, a dataclass or a TypedDict), not {self.schema!r}"
            )
        # Headers are named with hyphens; a Python name can't have one.
        hyphens = self.location == "headers"
        self._fields = tuple(
            (key, key.replace("_", "-") if hyphens else key, multi) for key, multi in found
        )
        self._multi = frozenset(key for key, multi in found if multi)

    def load(self, request: Request) -> t.Any:
        """Validate this input from ``request`` and return the object.

        :raises ValidationError: The input does not validate.
        :raises InvalidJSON: The body is not JSON (``json`` only).
        :raises NotJSON: The content type is not JSON (``json`` only).
        """
        adapter = self.adapter
        raw = None
        try:
            if self.location == "json":
                if (
                    request._plain_json
                    and request._cached_data is not None
                    and request.mimetype == "application/json"
                ):
                    # PERF: what is_json and get_data() answer for a JSON
                    # body in memory (the ASGI side's), without two calls.
                    raw = request._cached_data
                else:
                    if not request.is_json:
                        raise NotJSON()
                    raw = request.get_data(cache=True)
                # Straight from the bytes into the model: no dict in between.
                # PERF: the adapter's function read, then called (CPython
                # 3.11 specializes the read of an instance attribute, not a
                # method-style call of one).
                validate = adapter.validate_json
                return validate(raw)
            validate = adapter.validate_python
            return validate(self._data(request))
        except adapter.error_types as exc:
            errors = adapter.errors(exc, raw)
            if errors is None:
                raise InvalidJSON() from None
            # Errors name the field as the client sent it (a header's name).
            names: dict[str | int, str | int] = {key: name for key, name, _ in self._fields}
            raise ValidationError(
                [
                    {
                        "location": self.location,
                        "pointer": _pointer((names.get(loc[0], loc[0]), *loc[1:]) if loc else ()),
                        "detail": message,
                        "type": kind,
                    }
                    for loc, message, kind in errors
                ]
            ) from None

    def _data(self, request: Request) -> dict[str, t.Any]:
        location = self.location
        if location in ("query", "form"):
            parts = [request.args] if location == "query" else [request.form, request.files]
            multi = self._multi
            data: dict[str, t.Any] = {}
            for part in parts:
                if type(part) in _LISTS_BY_KEY:
                    # PERF: a MultiDict is a dict of each key's list: read
                    # the lists, not each through getlist or __getitem__.
                    for key, found in _dict_items(part):
                        if key in multi:
                            data[key] = list(found)
                        elif found:
                            data[key] = found[0]
                        else:
                            data[key] = part[key]  # raises as the MultiDict does
                    continue
                for key in part:
                    data[key] = part.getlist(key) if key in multi else part[key]
            return data
        values: t.Any = request.headers if location == "headers" else request.cookies
        data = {}
        for key, source, multi_valued in self._fields:
            if multi_valued:
                found = values.getlist(source)
                if found and location == "headers":
                    # A repeated header is the same as one with the values
                    # joined by commas (RFC 9110 section 5.3), which is all a
                    # WSGI server passes on: split, so both interfaces agree.
                    found = [v.strip() for value in found for v in value.split(",") if v.strip()]
                if found:
                    data[key] = found
            else:
                value = values.get(source)
                if value is not None:
                    data[key] = value
        return data


@dataclass(eq=False)
class Output:
    """One :func:`output` declaration: the model of the body sent with one status."""

    #: The model (any type its library serializes), or ``None`` for no body.
    schema: t.Any
    #: The status code.
    status: int
    #: The response's description in the spec.
    description: str | None = None
    #: An example value for the spec, or ``None``.
    example: t.Any = None
    #: The model's library adapter, or ``None`` for no body (built once, at decoration).
    adapter: ModelAdapter | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.adapter = None if self.schema is None else adapter_for(self.schema)

    def dump(self, value: t.Any) -> bytes:
        """``value`` validated against the model and serialized to JSON.

        The model's own fields only: a subclass instance, a dict or an
        object with more attributes loses the rest.
        """
        adapter = self.adapter
        if adapter is None:
            return b""
        return adapter.dump_json(value)


@dataclass(eq=False)
class ViewSpec:
    """What the decorators of :mod:`erlen.typed` declared about one view.

    :mod:`erlen.openapi` reads it to describe the view; :func:`view_spec`
    gets it from a view function.
    """

    #: The :func:`input` declarations, top to bottom.
    inputs: list[Input] = field(default_factory=list)
    #: The :func:`output` declarations by status.
    outputs: dict[int, Output] = field(default_factory=dict)
    #: The summary; the first line of the docstring if not given.
    summary: str | None = None
    #: The description; the rest of the docstring if not given.
    description: str | None = None
    #: Tags; the blueprint's name if not given.
    tags: list[str] | None = None
    #: Names of security schemes any one of which the view accepts; ``[]``
    #: for a public view; ``None`` for the API's default.
    security: list[str] | None = None
    #: More documented responses: status → description (``None``: the reason
    #: phrase). A 4xx or 5xx one has a problem details body in the spec.
    responses: dict[int, str | None] = field(default_factory=dict)
    #: Left out of the spec.
    hidden: bool = False
    #: Marked deprecated in the spec.
    deprecated: bool = False
    #: The ``operationId``; the endpoint if not given.
    operation_id: str | None = None
    # Whether a wrapper that loads the inputs and renders the outputs exists.
    _wrapped: bool = False
    # The wrapped function, and whether its parameters are exactly the
    # inputs, in their order (see _by_position).
    _func: t.Any = None
    _by_position: bool = False
    # The status a return value without one gets (the lowest declared).
    _default_status: int = 200

    def render(self, rv: t.Any) -> t.Any:
        """Turn a view's return value into a response through its output model.

        A :class:`~erlen.Response` (``send_file``, ``redirect``, a stream
        made with ``Response(generator)``) and a generator pass through
        untouched. Otherwise ``rv`` is a body, ``(body, status)``,
        ``(body, headers)`` or ``(body, status, headers)`` as for any view.

        :raises LookupError: The status has no :func:`output` declaration
            (a 500: the view and its declarations disagree).
        :raises TypeError: A tuple of another length.
        """
        kind = type(rv)
        through = _PASSES.get(kind)
        if through is None:
            through = _passes(kind)
        if through:
            return rv
        headers = None
        if kind is not tuple:
            # PERF: the common case, a body alone, without the tuple's steps.
            code = self._default_status
        else:
            rv, status, headers = split_response_tuple(rv)
            if status is None:
                code = self._default_status
            elif isinstance(status, int):
                code = status
            else:
                code = int(str(status).split(None, 1)[0])
        out = self.outputs.get(code)
        if out is None:
            raise LookupError(
                f"the view returned status {code}, which no @output declares"
                f" (declared: {sorted(self.outputs)})"
            )
        cls = _cv_get().app.response_class
        adapter = out.adapter
        if adapter is None:
            return cls(None, code, headers)
        # PERF: out.dump(rv) without its call.
        body = adapter.dump_json(rv)
        if headers is None and cls.__init__ is _RESPONSE_INIT:
            # PERF: the common case, without Response.__init__'s argument handling.
            return _bytes_response(cls, body, code, "application/json")
        return cls(body, code, headers, mimetype="application/json")


#: Whether a view's return value of a type passes through ``render`` untouched, by type.
_PASSES: dict[type, bool] = {}


def _passes(cls: type) -> bool:
    """Whether values of ``cls`` are responses or iterators (``render`` leaves them alone).

    PERF: asked of the type, once per type: ``hasattr`` on a pydantic model
    instance goes through its ``__getattr__``, which raises (twice a
    request for a view returning a model). Python finds ``__next__`` and
    ``__anext__`` on the type anyway.
    """
    through = issubclass(cls, Response) or hasattr(cls, "__next__") or hasattr(cls, "__anext__")
    if len(_PASSES) < 512:  # bounded: views return few types
        _PASSES[cls] = through
    return through


def view_spec(func: t.Callable[..., t.Any]) -> ViewSpec | None:
    """The :class:`ViewSpec` of a view decorated with this module's decorators, or ``None``."""
    return getattr(func, _SPEC_ATTR, None)


def _spec(func: t.Callable[..., t.Any]) -> ViewSpec:
    spec = view_spec(func)
    if spec is None:
        spec = ViewSpec()
        setattr(func, _SPEC_ATTR, spec)
    return spec


def _typed(func: _F) -> _F:
    """``func`` wrapped to load its inputs and render its outputs, once."""
    spec = _spec(func)
    if spec._wrapped:
        # Already wrapped (possibly under other functools.wraps decorators,
        # which copy the attribute): the wrapper reads the shared spec.
        return func
    spec._wrapped = True
    spec._func = func
    inputs = spec.inputs
    outputs = spec.outputs
    render = spec.render

    # PERF: the inputs are loaded in the wrappers themselves, not by a shared
    # helper (a call fewer per request). Called with nothing else to pass
    # (no URL arguments), a view whose parameters are its inputs gets them
    # positionally: a `*args, **kwargs` call costs about 1.3 k instructions
    # more than a plain one.
    if is_async(func):

        async def async_view(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if inputs:
                request: Request = _cv_get().request  # type: ignore[assignment]
                if spec._by_position and not args and not kwargs:
                    if len(inputs) == 1:
                        rv = await func(inputs[0].load(request))
                    else:
                        rv = await func(*[item.load(request) for item in inputs])
                    return render(rv) if outputs else rv
                for item in inputs:
                    kwargs[item.arg] = item.load(request)
            rv = await func(*args, **kwargs)
            return render(rv) if outputs else rv

        return t.cast(_F, functools.wraps(func)(async_view))

    def view(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if inputs:
            request: Request = _cv_get().request  # type: ignore[assignment]
            if spec._by_position and not args and not kwargs:
                if len(inputs) == 1:
                    rv = func(inputs[0].load(request))
                else:
                    rv = func(*[item.load(request) for item in inputs])
                return render(rv) if outputs else rv
            for item in inputs:
                kwargs[item.arg] = item.load(request)
        rv = func(*args, **kwargs)
        return render(rv) if outputs else rv

    return t.cast(_F, functools.wraps(func)(view))


def _by_position(func: t.Any, inputs: list[Input]) -> bool:
    """Whether ``inputs`` are exactly ``func``'s parameters, in their order.

    Then passing them positionally binds each to the parameter a keyword
    would. Asked of the function's own code (not of a signature that
    ``__wrapped__`` may describe): a wrapper taking ``*args, **kwargs``
    has no such parameters and keeps the keyword call.
    """
    if type(func) is not FunctionType:
        return False
    code = func.__code__
    count = code.co_argcount
    return (
        count == len(inputs)
        and not code.co_posonlyargcount
        and not code.co_kwonlyargcount
        and code.co_varnames[:count] == tuple(item.arg for item in inputs)
    )


# -- the decorators ------------------------------------------------------------


def input(
    schema: t.Any,
    location: str = "json",
    *,
    arg: str | None = None,
    example: t.Any = None,
) -> t.Callable[[_F], _F]:
    """Validate part of the request with ``schema`` and pass the result to the view.

    ``@input(BookmarkIn)`` reads the JSON body (``Content-Type:
    application/json``) straight into the model; ``location="query"``,
    ``"form"`` (form fields and files), ``"headers"`` or ``"cookies"``
    read that part instead, where ``schema`` must be a record type: a
    pydantic model, a msgspec Struct, a dataclass or a ``TypedDict``. A field typed as a list (``list[str]``) takes every value of a
    repeated key; the others take the first. A header field's name has
    ``_`` for ``-`` (``x_request_id`` reads ``X-Request-Id``) unless it has
    an alias.

    The validated object is passed as the keyword argument ``arg``:
    ``body``, ``query``, ``form``, ``headers`` or ``cookies`` by default
    (:data:`LOCATIONS`). Inputs are validated in the order of the
    decorators, top first, right before the view runs.

    :param schema: A pydantic model or msgspec Struct class, a dataclass
        or a ``TypedDict`` (or, for ``json``, any type its library
        validates: ``list[Item]``...).
    :param location: One of :data:`LOCATIONS`.
    :param arg: The keyword argument's name.
    :param example: An example value shown in the spec.
    :raises ValueError: An unknown location, or a second input with the same ``arg``.
    """
    if location not in LOCATIONS:
        raise ValueError(f"location must be one of {', '.join(LOCATIONS)}, not {location!r}")
    item = Input(schema, location, arg or LOCATIONS[location], example)

    def decorator(f: _F) -> _F:
        wrapped = _typed(f)
        spec = _spec(wrapped)
        if any(other.arg == item.arg for other in spec.inputs):
            raise ValueError(f"two inputs of the view are passed as {item.arg!r}: give one arg=")
        # Decorators apply bottom up; keep the order they are written in.
        spec.inputs.insert(0, item)
        spec._by_position = _by_position(spec._func, spec.inputs)
        return wrapped

    return decorator


def output(
    schema: t.Any,
    status: int = 200,
    *,
    description: str | None = None,
    example: t.Any = None,
) -> t.Callable[[_F], _F]:
    """Serialize what the view returns through ``schema``.

    The view returns a model instance, a dict or any object with the
    model's attributes (an ORM row), alone or as ``(value, status)``,
    ``(value, headers)`` or ``(value, status, headers)``; it is validated
    against ``schema`` and sent as JSON. Only the model's fields are sent:
    a password hash on the object stays on the server.

    Use the decorator once per status (``@output(Item, 201)`` and
    ``@output(Problem, 409)``); a return without a status gets the lowest
    declared one. ``schema=None`` declares a status with no body (204). A
    returned :class:`~erlen.Response` (``send_file``, ``redirect``, a
    stream) or a generator passes through untouched.

    A value that does not fit the model, or a status no decorator
    declares, is a bug in the view: a 500, logged as usual.

    :param schema: A pydantic model or msgspec Struct class, or any type
        its library serializes (``list[Item]``), or ``None``.
    :param status: The status code this model is sent with.
    :param description: The response's description in the spec.
    :param example: An example value shown in the spec.
    """
    item = Output(schema, int(status), description, example)

    def decorator(f: _F) -> _F:
        wrapped = _typed(f)
        spec = _spec(wrapped)
        spec.outputs[item.status] = item
        spec._default_status = min(spec.outputs)
        return wrapped

    return decorator


def doc(
    summary: str | None = None,
    description: str | None = None,
    *,
    tags: list[str] | None = None,
    responses: dict[int, str | None] | None = None,
    operation_id: str | None = None,
    deprecated: bool = False,
    hide: bool = False,
) -> t.Callable[[_F], _F]:
    """Describe the view in the spec; it changes nothing at run time.

    :param summary: One line; the docstring's first line by default.
    :param description: The docstring's other lines by default.
    :param tags: Groups in the reference; the blueprint's name by default.
    :param responses: More statuses the view may answer with, each with
        its description (``{404: "No such bookmark"}``; ``None`` for the
        status's reason phrase). A 4xx or 5xx one is documented with an
        ``application/problem+json`` body (the ``ProblemDetails``
        schema), as :func:`problem_details` answers; declare another body
        with ``@output(Model, status=...)`` instead.
    :param operation_id: The operation's id; the endpoint by default.
    :param deprecated: Mark the operation deprecated.
    :param hide: Leave the view out of the spec.
    """

    def decorator(f: _F) -> _F:
        spec = _spec(f)
        if summary is not None:
            spec.summary = summary
        if description is not None:
            spec.description = description
        if tags is not None:
            spec.tags = list(tags)
        if responses:
            spec.responses.update(responses)
        if operation_id is not None:
            spec.operation_id = operation_id
        spec.deprecated = spec.deprecated or deprecated
        spec.hidden = spec.hidden or hide
        return f

    return decorator


def security(*schemes: str) -> t.Callable[[_F], _F]:
    """Declare the security schemes the view accepts (any one of them).

    The names are those given to :class:`erlen.openapi.OpenAPI`'s
    ``security_schemes``. ``@security()`` with no name marks a public view
    in an API whose default requires one. This only documents: the view
    (or a ``before_request`` function) still checks the credentials.
    """

    def decorator(f: _F) -> _F:
        _spec(f).security = list(schemes)
        return f

    return decorator
