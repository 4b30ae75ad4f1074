"""The OpenAPI 3.1 document of an app, built from its URL rules and views.

:func:`build_spec` reads the app's rules (paths, path arguments with their
converters' types, methods), the views' docstrings and what the decorators
of :mod:`erlen.typed` declared (input and output models, statuses,
security), and blueprints (as tags). The models' JSON Schemas come from
their libraries (pydantic, msgspec), into ``components/schemas``.

.. versionadded:: 0.2
"""

from __future__ import annotations

import inspect
import re
import typing as t

from ..http import HTTP_STATUS_CODES
from ..routing.converters import (
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UUIDConverter,
)
from ..typed import Input, Output, ViewSpec, view_spec
from ..typed.adapters import Mode, ModelAdapter

if t.TYPE_CHECKING:
    from ..app import Erlen
    from ..routing import Rule

__all__ = ["OPENAPI_VERSION", "PROBLEM_SCHEMA", "build_spec", "converter_schema"]

#: The version of the OpenAPI Specification the documents follow.
OPENAPI_VERSION = "3.1.0"

_REF = "#/components/schemas/{model}"
_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}

#: The JSON Schema of the RFC 9457 bodies of :class:`erlen.typed.ProblemDetails`.
PROBLEM_SCHEMA: dict[str, t.Any] = {
    "title": "ProblemDetails",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "enum": ["json", "query", "form", "headers", "cookies"],
                    },
                    "pointer": {"type": "string"},
                    "detail": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["location", "pointer", "detail", "type"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

# A rule's placeholder, `<name>` or `<converter(args):name>`.
_PLACEHOLDER = re.compile(r"<(?:[^<>]*:)?\s*(\w+)\s*>")


def converter_schema(converter: BaseConverter) -> dict[str, t.Any]:
    """The JSON Schema of a path argument, from the converter that parses it.

    ``int`` is an integer, ``float`` a number (both with their bounds, and
    not below 0 unless ``signed``), ``uuid`` a string of format ``uuid``,
    ``any`` a string ``enum``, and the others (``string``, ``path``,
    custom converters) a string.
    """
    if isinstance(converter, (IntegerConverter, FloatConverter)):
        schema: dict[str, t.Any] = {
            "type": "integer" if isinstance(converter, IntegerConverter) else "number"
        }
        low = converter.min
        if low is None and not converter.signed:
            low = 0
        if low is not None:
            schema["minimum"] = low
        if converter.max is not None:
            schema["maximum"] = converter.max
        return schema
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    if isinstance(converter, AnyConverter):
        return {"type": "string", "enum": list(converter.items)}
    if isinstance(converter, PathConverter):
        return {"type": "string", "pattern": "^[^/].*$"}
    return {"type": "string", "pattern": "^[^/]+$"}


def _docstring(func: t.Callable[..., t.Any]) -> tuple[str | None, str | None]:
    # (summary, description): the first line, then the rest, as Flask users write them.
    doc = inspect.getdoc(func)
    if not doc:
        return None, None
    summary, _, rest = doc.partition("\n")
    return summary.strip() or None, rest.strip() or None


def _model_schemas(
    items: list[Input | Output],
) -> tuple[dict[t.Hashable, dict[str, t.Any]], dict[str, t.Any]]:
    """Each item's schema by ``id(item)``, and the named models' schemas.

    One pass per library over every model, so a model shared by several
    views is one component. Inputs are described as their library
    validates them, outputs as it serializes them.
    """
    by_library: dict[type[ModelAdapter], list[tuple[t.Hashable, Mode, ModelAdapter]]] = {}
    for item in {id(item): item for item in items}.values():
        if item.adapter is not None:
            mode: Mode = "validation" if isinstance(item, Input) else "serialization"
            by_library.setdefault(type(item.adapter), []).append((id(item), mode, item.adapter))
    schemas: dict[t.Hashable, dict[str, t.Any]] = {}
    components: dict[str, t.Any] = {}
    for library, entries in by_library.items():
        found, named = library.json_schemas(entries, _REF)
        schemas.update(found)
        components.update(named)
    return schemas, components


def build_spec(
    app: Erlen,
    *,
    info: dict[str, t.Any],
    security_schemes: dict[str, dict[str, t.Any]] | None = None,
    security: list[str] | None = None,
    servers: list[dict[str, t.Any]] | None = None,
    tags: list[dict[str, t.Any]] | None = None,
    hide: t.Container[str] = (),
) -> dict[str, t.Any]:
    """The OpenAPI 3.1 document of ``app``, as a dict ready for JSON.

    Every rule of the app's URL map is a path, except the ``static`` rule,
    WebSocket rules, redirects, build-only rules, views marked
    ``@doc(hide=True)`` and the endpoints in ``hide``. Each of its methods
    (but ``HEAD`` and the automatic ``OPTIONS``) is an operation; an
    endpoint under a blueprint is tagged with the blueprint's name. For a
    class-based view, a method's handler (``post`` of a ``MethodView``)
    decorated with :mod:`erlen.typed`'s decorators describes its operation.

    :param app: The app.
    :param info: The ``info`` object (``title`` and ``version`` at least).
    :param security_schemes: ``components/securitySchemes``, by name.
    :param security: The schemes (any one of them) every operation accepts
        unless it declares others with :func:`erlen.typed.security`.
    :param servers: The ``servers`` list.
    :param tags: Tag objects (``name``, ``description``) to list first.
    :param hide: Endpoints to leave out.
    """
    operations: list[tuple[str, str, dict[str, t.Any], ViewSpec, Rule]] = []
    schema_items: list[Input | Output] = []
    seen_ids: set[str] = set()
    tag_names: list[str] = [tag["name"] for tag in tags or ()]

    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        view = app.view_functions.get(endpoint) if endpoint is not None else None
        if (
            endpoint is None
            or view is None
            or endpoint == "static"
            or endpoint in hide
            or rule.websocket
            or rule.build_only
            or rule.redirect_to is not None
        ):
            continue
        path = _PLACEHOLDER.sub(r"{\1}", rule.rule)
        methods = sorted(
            m
            for m in rule.methods or ("GET",)
            if m != "HEAD" and not (m == "OPTIONS" and rule.provide_automatic_options)
        )
        blueprint = endpoint.rpartition(".")[0]
        path_params = [
            {"name": name, "in": "path", "required": True, "schema": converter_schema(conv)}
            for name, conv in rule._converters.items()
        ]
        # A class-based view (View.as_view) declares per method, on its handlers.
        view_class = getattr(view, "view_class", None)
        for method in methods:
            handler = getattr(view_class, method.lower(), None) if view_class else None
            source = handler if handler is not None and view_spec(handler) else view
            spec = view_spec(source) or ViewSpec()
            if spec.hidden:
                continue
            summary, description = _docstring(source)
            if summary is None and source is not view:
                summary, description = _docstring(view)
            op_tags = spec.tags if spec.tags is not None else ([blueprint] if blueprint else [])
            for tag in op_tags:
                if tag not in tag_names:
                    tag_names.append(tag)
            op_id = spec.operation_id or endpoint
            if len(methods) > 1:
                op_id = f"{op_id}_{method.lower()}"
            base, n = op_id, 2
            while op_id in seen_ids:  # one endpoint under several rules
                op_id, n = f"{base}_{n}", n + 1
            seen_ids.add(op_id)
            operation: dict[str, t.Any] = {"operationId": op_id}
            if op_tags:
                operation["tags"] = list(op_tags)
            if spec.summary or summary:
                operation["summary"] = spec.summary or summary
            if spec.description or description:
                operation["description"] = spec.description or description
            if spec.deprecated:
                operation["deprecated"] = True
            if path_params:
                operation["parameters"] = [dict(p) for p in path_params]
            if spec.security is not None:
                operation["security"] = [{name: []} for name in spec.security]
            operations.append((path, method.lower(), operation, spec, rule))
            schema_items.extend(spec.inputs)
            schema_items.extend(spec.outputs.values())

    schemas, components = _model_schemas(schema_items)

    def resolve(schema: dict[str, t.Any]) -> dict[str, t.Any]:
        # A model class's schema is a reference to its component.
        return t.cast(dict[str, t.Any], components[schema["$ref"].rpartition("/")[2]])

    paths: dict[str, dict[str, t.Any]] = {}
    needs_problem = False
    for path, method, operation, spec, _ in operations:
        for item in spec.inputs:
            schema = schemas[id(item)]
            if item.location == "json":
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": _media(schema, item.example)},
                }
            elif item.location == "form":
                media = _media(schema, item.example)
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": media,
                        "multipart/form-data": media,
                    },
                }
            else:
                operation.setdefault("parameters", []).extend(_parameters(item, resolve(schema)))
        responses: dict[str, t.Any] = {}
        for status, out in sorted(spec.outputs.items()):
            response: dict[str, t.Any] = {"description": out.description or _phrase(status)}
            if out.adapter is not None:
                response["content"] = {"application/json": _media(schemas[id(out)], out.example)}
            responses[str(status)] = response
        if not responses:
            responses["200"] = {"description": "Successful response"}
        if spec.inputs:
            needs_problem = True
            problems = [422]
            if any(item.location == "json" for item in spec.inputs):
                problems += [400, 415]
            for status in problems:
                responses.setdefault(
                    str(status),
                    {
                        "description": _phrase(status),
                        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
                    },
                )
        for status, text in spec.responses.items():
            if str(status) in responses:
                continue  # an @output's body (or an input error's) is documented already
            response = {"description": text or _phrase(status)}
            if status >= 400:
                # An error the view raises: answered as problem details
                # (erlen.typed.problem_details, or the input errors' own).
                response["content"] = {"application/problem+json": {"schema": _PROBLEM_REF}}
                needs_problem = True
            responses[str(status)] = response
        operation["responses"] = dict(sorted(responses.items()))
        paths.setdefault(path, {})[method] = operation

    if needs_problem:
        components.setdefault("ProblemDetails", PROBLEM_SCHEMA)
    document: dict[str, t.Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if servers:
        document["servers"] = servers
    if security:
        document["security"] = [{name: []} for name in security]
    document["paths"] = paths
    given = {tag["name"]: tag for tag in tags or ()}
    if tag_names:
        document["tags"] = [given.get(name, {"name": name}) for name in tag_names]
    component_doc: dict[str, t.Any] = {}
    if components:
        component_doc["schemas"] = dict(sorted(components.items()))
    if security_schemes:
        component_doc["securitySchemes"] = security_schemes
    if component_doc:
        document["components"] = component_doc
    return document


def _phrase(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Response")


def _media(schema: dict[str, t.Any], example: t.Any) -> dict[str, t.Any]:
    media: dict[str, t.Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return media


def _parameters(item: Input, schema: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One parameter per field of a query, header or cookie model."""
    where = {"query": "query", "headers": "header", "cookies": "cookie"}[item.location]
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    params = []
    for key, name, _ in item._fields:
        prop = dict(properties.get(key, {}))
        param: dict[str, t.Any] = {"name": name, "in": where, "required": key in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        if prop.pop("deprecated", False):
            param["deprecated"] = True
        param["schema"] = prop
        params.append(param)
    return params
