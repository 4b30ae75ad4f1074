"""The model libraries behind typed views: one small adapter per library.

:class:`erlen.typed.Input` and :class:`erlen.typed.Output` hold a
:class:`ModelAdapter` and never call a library themselves: the adapter
gives them the library's own validating callables (bound once, at
decoration, so a request pays for nothing but the library's call), turns
the library's exception into the fields of a problem details body, and
names the fields a query, form, header or cookie model reads.

Two libraries are supported: pydantic v2 (its models, and through its
``TypeAdapter`` dataclasses, ``TypedDict`` and any type it validates) and
msgspec (a type that is or holds a ``msgspec.Struct``). :func:`adapter_for`
picks one; neither is imported before a model of its library is declared.

.. versionadded:: 0.2
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing as t

if t.TYPE_CHECKING:
    import msgspec
    from pydantic import TypeAdapter
    from pydantic import ValidationError as PydanticError

__all__ = [
    "FieldError",
    "ModelAdapter",
    "MsgspecAdapter",
    "PydanticAdapter",
    "adapter_for",
    "is_multi",
]

#: One failing field: (path to it in its location, message, error type).
FieldError = tuple[tuple[str | int, ...], str, str]

#: The mode a schema describes: how a model validates input, or how it serializes output.
Mode = t.Literal["validation", "serialization"]


def is_multi(annotation: t.Any) -> bool:
    """Whether a field takes several values (``list[int]``, ``set[str] | None``...)."""
    if annotation in (list, set, frozenset, tuple):
        return True
    origin = t.get_origin(annotation)
    if origin in (list, set, frozenset, tuple):
        return True
    if origin is t.Union or origin is types.UnionType:
        return any(is_multi(arg) for arg in t.get_args(annotation))
    if origin is t.Annotated:
        return is_multi(t.get_args(annotation)[0])
    return False


class ModelAdapter:
    """What typed views need from a model library, for one type.

    :param schema: The type (a model class, ``list[Item]``...).
    """

    #: The library's name (``"pydantic"``, ``"msgspec"``).
    library: t.ClassVar[str]
    #: The library's exceptions for input that does not validate (or is not JSON).
    error_types: tuple[type[Exception], ...]
    #: JSON bytes straight into the type, no dict in between: the library's
    #: own callable, bound at setup so a request pays for nothing else.
    validate_json: t.Callable[[bytes], t.Any]
    #: A dict of strings (from a query string, form, headers or cookies)
    #: into the type, coerced ("3" is an int): the library's own callable.
    validate_python: t.Callable[[t.Any], t.Any]

    def __init__(self, schema: t.Any) -> None:
        #: The type.
        self.schema = schema

    def errors(self, exc: Exception, raw: bytes | None = None) -> list[FieldError] | None:
        """The failing fields of one of :attr:`error_types`; ``None`` if the body is not JSON.

        :param exc: The library's exception.
        :param raw: The JSON body that failed, or ``None`` for another location.
        """
        raise NotImplementedError  # pragma: no cover - abstract

    def dump_json(self, value: t.Any) -> bytes:
        """``value`` checked against the type and serialized, the type's fields only."""
        raise NotImplementedError  # pragma: no cover - abstract

    def fields(self) -> list[tuple[str, bool]] | None:
        """(key the type reads, takes several values?) per field; ``None`` for no record type."""
        raise NotImplementedError  # pragma: no cover - abstract

    @classmethod
    def json_schemas(
        cls, items: list[tuple[t.Hashable, Mode, ModelAdapter]], ref_template: str
    ) -> tuple[dict[t.Hashable, dict[str, t.Any]], dict[str, t.Any]]:
        """The JSON Schemas of several types of this library in one pass.

        :param items: (key, mode, adapter) per schema wanted.
        :param ref_template: How a reference to a named model is written
            (``#/components/schemas/{model}``).
        :return: The schema per key, and the named models' schemas.
        """
        raise NotImplementedError  # pragma: no cover - abstract


class PydanticAdapter(ModelAdapter):
    """pydantic v2: its models, dataclasses, ``TypedDict`` and any type its TypeAdapter takes."""

    library = "pydantic"

    def __init__(self, schema: t.Any) -> None:
        super().__init__(schema)
        from pydantic import TypeAdapter
        from pydantic import ValidationError as PydanticError
        from pydantic_core import SchemaSerializer, SchemaValidator

        #: pydantic's adapter for the type (built once).
        self.adapter: TypeAdapter[t.Any] = TypeAdapter(schema)
        self.error_types = (PydanticError,)
        validator, serializer = self.adapter.validator, self.adapter.serializer
        if isinstance(validator, SchemaValidator) and isinstance(serializer, SchemaSerializer):
            # PERF: pydantic-core's own methods, with the defaults the
            # TypeAdapter's would pass: its Python wrappers cost as much
            # again as validating a small model (a few µs a request). A
            # validator a plugin wraps, or one not built yet, goes through
            # the TypeAdapter.
            self.validate_json = validator.validate_json
            self.validate_python = validator.validate_python
            self._to_json: t.Callable[[t.Any], bytes] = serializer.to_json
            self._validate: t.Callable[..., t.Any] = validator.validate_python
        else:
            self.validate_json = self.adapter.validate_json
            self.validate_python = self.adapter.validate_python
            self._to_json = self.adapter.dump_json
            self._validate = self.adapter.validate_python

    def errors(self, exc: Exception, raw: bytes | None = None) -> list[FieldError] | None:
        """pydantic's errors, each with its ``loc``, ``msg`` and ``type``."""
        found = t.cast("PydanticError", exc).errors(
            include_url=False, include_input=False, include_context=False
        )
        if any(e["type"] == "json_invalid" for e in found):
            return None
        return [(tuple(e["loc"]), e["msg"], e["type"]) for e in found]

    def dump_json(self, value: t.Any) -> bytes:
        """Validated from the value's attributes (an ORM row works), then dumped."""
        # PERF: the functions read, then called (see Input.load).
        validate, to_json = self._validate, self._to_json
        return to_json(validate(value, from_attributes=True))

    def fields(self) -> list[tuple[str, bool]] | None:
        """A model's, a dataclass's (pydantic's or the standard one) or a TypedDict's fields."""
        import typing_extensions
        from pydantic import BaseModel

        schema = self.schema
        if not isinstance(schema, type):
            return None
        infos = None
        if issubclass(schema, BaseModel):
            infos = schema.model_fields
        elif dataclasses.is_dataclass(schema):
            # A pydantic dataclass has pydantic's fields (with their aliases).
            infos = getattr(schema, "__pydantic_fields__", None)
            if infos is None:
                hints = t.get_type_hints(schema, include_extras=True)
                return [
                    (f.name, is_multi(hints.get(f.name)))
                    for f in dataclasses.fields(schema)
                    if f.init
                ]
        elif typing_extensions.is_typeddict(schema):
            hints = t.get_type_hints(schema, include_extras=True)
            return [(name, is_multi(hint)) for name, hint in hints.items()]
        if infos is None:
            return None
        found = []
        for name, info in infos.items():
            key = info.validation_alias if isinstance(info.validation_alias, str) else None
            found.append((key or info.alias or name, is_multi(info.annotation)))
        return found

    @classmethod
    def json_schemas(
        cls, items: list[tuple[t.Hashable, Mode, ModelAdapter]], ref_template: str
    ) -> tuple[dict[t.Hashable, dict[str, t.Any]], dict[str, t.Any]]:
        """pydantic's ``TypeAdapter.json_schemas``: shared models are one component each."""
        from pydantic import TypeAdapter

        schemas, defs = TypeAdapter.json_schemas(
            [(key, mode, t.cast(PydanticAdapter, a).adapter) for key, mode, a in items],
            ref_template=ref_template,
        )
        return {key: schemas[key, mode] for key, mode, _ in items}, dict(defs.get("$defs", {}))


# A step of a msgspec error's path: `.name`, `[3]` or `[...]` (a dict's key).
_MSGSPEC_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_MSGSPEC_FIELD = re.compile(r"Object (missing required|contains unknown) field `(.*)`", re.S)


class MsgspecAdapter(ModelAdapter):
    """msgspec: a ``Struct`` (or a type holding one: ``list[Item]``, ``Item | None``).

    msgspec stops at the first error, so a problem lists one field.
    """

    library = "msgspec"

    def __init__(self, schema: t.Any) -> None:
        super().__init__(schema)
        import functools

        import msgspec

        # A body nested too deep for msgspec's decoder is a RecursionError: a
        # 400 as pydantic's "recursion limit exceeded", never a 500.
        self.error_types = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)
        # A Decoder and an Encoder built once are msgspec's fast path.
        self.validate_json = msgspec.json.Decoder(schema).decode
        # Query strings, forms, headers and cookies are all strings: strict=False
        # lets "3" be an int and "true" a bool, as pydantic's lax mode does.
        self.validate_python = functools.partial(msgspec.convert, type=schema, strict=False)
        self._encode = msgspec.json.Encoder().encode
        self._convert = functools.partial(msgspec.convert, type=schema, from_attributes=True)

    def errors(self, exc: Exception, raw: bytes | None = None) -> list[FieldError] | None:
        """msgspec's one error, its message split into the path (``$.tags[1]``) and the rest."""
        import msgspec

        if not isinstance(exc, msgspec.ValidationError):
            return None  # a DecodeError or too deep: not JSON we take
        if raw is not None:
            # msgspec validates as it decodes, so a body that goes wrong after
            # the first invalid field is reported as that field. Whether it is
            # JSON at all needs a plain decode: paid on the error path only.
            try:
                msgspec.json.decode(raw)
            except (msgspec.DecodeError, RecursionError):
                return None
        # The path is last: "<message> - at `$.tags[1]`" (field names only:
        # a dict's keys are "[...]", so no input can fake the separator).
        message, at, where = str(exc).rpartition(" - at `")
        if not at:
            message, where = where, ""
        loc: list[str | int] = [
            name or (int(i) if i.isdigit() else i)
            for name, i in _MSGSPEC_STEP.findall(where.rstrip("`"))
        ]
        field = _MSGSPEC_FIELD.fullmatch(message)
        if field:
            # As pydantic does: the field is in the path, not in the text.
            loc.append(field.group(2))
            message = f"Object {field.group(1)} field"
            kind = "missing" if field.group(1) == "missing required" else "unknown_field"
        elif message.startswith("Invalid enum value"):
            # msgspec quotes the value sent; errors never echo input back.
            message, kind = "Invalid enum value", "value_error"
        elif message.startswith("Expected `") and "`, got `" in message:
            kind = "type_error"
        else:
            kind = "value_error"
        return [(tuple(loc), message, kind)]

    def dump_json(self, value: t.Any) -> bytes:
        """An instance of the type as it is; anything else converted from its attributes first."""
        if type(value) is not self.schema:
            value = self._convert(value)
        return self._encode(value)

    def fields(self) -> list[tuple[str, bool]] | None:
        """A Struct's (or a dataclass's or TypedDict's) fields by the names msgspec reads."""
        import msgspec

        info = msgspec.inspect.type_info(self.schema)
        if not isinstance(
            info,
            (
                msgspec.inspect.StructType,
                msgspec.inspect.DataclassType,
                msgspec.inspect.TypedDictType,
            ),
        ):
            return None
        return [(f.encode_name, _msgspec_multi(f.type)) for f in info.fields]

    @classmethod
    def json_schemas(
        cls, items: list[tuple[t.Hashable, Mode, ModelAdapter]], ref_template: str
    ) -> tuple[dict[t.Hashable, dict[str, t.Any]], dict[str, t.Any]]:
        """msgspec's ``schema_components``: one mode serves both (msgspec has one shape)."""
        import msgspec

        schemas, components = msgspec.json.schema_components(
            [a.schema for _, _, a in items],
            ref_template=ref_template.replace("{model}", "{name}"),
        )
        return {key: schema for (key, _, _), schema in zip(items, schemas, strict=True)}, dict(
            components
        )


def _msgspec_multi(info: msgspec.inspect.Type) -> bool:
    import msgspec

    many = (
        msgspec.inspect.ListType,
        msgspec.inspect.SetType,
        msgspec.inspect.FrozenSetType,
        msgspec.inspect.VarTupleType,
        msgspec.inspect.TupleType,
    )
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_msgspec_multi(member) for member in info.types)
    return isinstance(info, many)


def _holds_struct(schema: t.Any, struct: type) -> bool:
    if isinstance(schema, type) and not t.get_args(schema):
        return issubclass(schema, struct)
    return any(_holds_struct(arg, struct) for arg in t.get_args(schema))


def adapter_for(schema: t.Any) -> ModelAdapter:
    """The adapter of the library that validates ``schema``.

    msgspec for a type that is or holds a ``msgspec.Struct``; pydantic for
    anything else. A Struct cannot exist before msgspec is imported, so
    msgspec is looked for only when it is: pydantic models never load it.
    """
    msgspec = sys.modules.get("msgspec")
    if msgspec is not None and _holds_struct(schema, msgspec.Struct):
        return MsgspecAdapter(schema)
    return PydanticAdapter(schema)
