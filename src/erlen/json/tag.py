"""Tagged JSON: JSON that keeps a few Python types JSON itself can't express.

The session cookie stores its data with :class:`TaggedJSONSerializer`. A value
JSON can't represent as is becomes a one-key object whose key names its type,
``{" t": [1, 2]}`` for the tuple ``(1, 2)``, and is turned back into that type
when the JSON is read. The tags are Flask's, so a session cookie written by a
Flask app with the same secret key reads in Erlen, and the other way round:

- ``" t"``: a :class:`tuple`, as a list;
- ``" b"``: :class:`bytes`, as standard base64 text;
- ``" m"``: anything with ``__html__``, as its HTML (read back as
  :class:`~markupsafe.Markup`);
- ``" u"``: a :class:`~uuid.UUID`, as 32 hex digits;
- ``" d"``: a :class:`~datetime.datetime`, as an HTTP date (whole seconds,
  UTC);
- ``" di"``: a dict whose only key looks like a tag, with ``"__"`` appended
  to that key so it is not mistaken for one.

Add a type by subclassing :class:`JSONTag` and registering it::

    from erlen.json.tag import JSONTag

    class TagOrderedDict(JSONTag):
        __slots__ = ()
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)

    app.session_interface.serializer.register(TagOrderedDict, index=0)

.. versionadded:: 0.1
"""

from __future__ import annotations

import json as _json
import sys
import typing as t
from base64 import b64decode, b64encode
from datetime import datetime

from ..globals import _cv
from ..http import http_date, parse_date
from . import DefaultJSONProvider, _default

__all__ = [
    "JSONTag",
    "TagDict",
    "PassDict",
    "TagTuple",
    "PassList",
    "TagBytes",
    "TagMarkup",
    "TagUUID",
    "TagDateTime",
    "TaggedJSONSerializer",
]


class JSONTag:
    """One type the :class:`TaggedJSONSerializer` knows how to keep.

    Subclasses set :attr:`key` and implement :meth:`check`, :meth:`to_json`
    and :meth:`to_python`.

    :param serializer: The serializer the tag is registered with; use its
        :meth:`~TaggedJSONSerializer.tag` to tag values nested in this one.

    .. versionadded:: 0.1
    """

    __slots__ = ("serializer",)

    #: The key marking a tagged value (e.g. ``" t"``). A tag with an empty
    #: key is applied when serializing but never looked up when reading
    #: (the pass-through tags for dicts and lists).
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Whether this tag handles ``value``.

        :param value: The value being serialized.
        """
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """Convert ``value`` into something JSON can hold (without the tag key).

        :param value: A value :meth:`check` accepted.
        """
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """Convert the JSON form made by :meth:`to_json` back into the Python value.

        :param value: The JSON value found under :attr:`key`.
        """
        raise NotImplementedError

    def tag(self, value: t.Any) -> t.Any:
        """The tagged JSON form of ``value``: ``{key: to_json(value)}``.

        :param value: A value :meth:`check` accepted.
        """
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A dict with exactly one key that is a registered tag key.

    Without this, ``{" t": [1]}`` would come back as the tuple ``(1,)``. The
    key gets ``"__"`` appended inside a ``" di"`` tag, and loses it when read.

    .. versionadded:: 0.1
    """

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: t.Any) -> t.Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: t.Any) -> t.Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Any other dict: stays a JSON object, its values are tagged.

    .. versionadded:: 0.1
    """

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        # JSON object keys are strings; the values may need tags.
        tag = self.serializer.tag
        return {k: tag(v) for k, v in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, stored as a list under ``" t"``.

    .. versionadded:: 0.1
    """

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        return tuple(value)


class PassList(JSONTag):
    """A list: stays a JSON array, its items are tagged.

    .. versionadded:: 0.1
    """

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        tag = self.serializer.tag
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, as standard (not URL-safe) base64 text under ``" b"``.

    .. versionadded:: 0.1
    """

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """An object with ``__html__`` (markup that is safe as is), under ``" m"``.

    The HTML is stored as text and read back as :class:`~markupsafe.Markup`,
    so it stays marked safe.

    .. versionadded:: 0.1
    """

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        # PERF: markupsafe is imported only when a cookie holds markup.
        from markupsafe import Markup

        return Markup(value)


class TagUUID(JSONTag):
    """A :class:`~uuid.UUID`, as 32 hex digits under ``" u"``.

    .. versionadded:: 0.1
    """

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        # PERF: uuid is imported lazily (it is slow to import); a UUID can
        # only exist once something imported the module.
        uuid = sys.modules.get("uuid")
        return uuid is not None and isinstance(value, uuid.UUID)

    def to_json(self, value: t.Any) -> t.Any:
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        from uuid import UUID

        return UUID(value)


class TagDateTime(JSONTag):
    """A :class:`~datetime.datetime`, as an HTTP date under ``" d"``.

    The HTTP date format keeps whole seconds only, and a naive datetime is
    taken to be UTC already; the value read back is an aware UTC datetime.

    .. versionadded:: 0.1
    """

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        return parse_date(value)


#: The tags a :class:`TaggedJSONSerializer` starts with. None of them accepts
#: a plain ``str``, ``int``, ``float``, ``bool`` or ``None``.
_BUILTIN_TAGS = (TagDict, PassDict, TagTuple, PassList, TagBytes, TagMarkup, TagUUID, TagDateTime)

#: Exact types JSON holds as is. ``bool`` is a subclass of ``int`` but is
#: listed since the check compares exact classes.
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))

# PERF: one compact, key-sorted encoder for use outside an app context,
# built once (json.dumps with arguments builds an encoder per call).
_standalone_encoder = _json.JSONEncoder(
    ensure_ascii=True, sort_keys=True, separators=(",", ":"), default=_default
)

# PERF: for data that needs no tags (see _needs_no_tags), the C encoder
# itself, made once with the settings of the encoders above (ASCII only,
# sorted keys, compact). JSONEncoder.encode() makes one per call. No circular
# check (markers=None): _needs_no_tags only passes data of bounded depth, so
# acyclic. The default function is never reached: the data holds only types
# JSON takes as they are. None without the C accelerator (then no shortcut).
_c_make_encoder = getattr(_json.encoder, "c_make_encoder", None)
_plain_encoder = (
    _c_make_encoder(
        None, None, _json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
    )
    if _c_make_encoder is not None
    else None
)

# PERF: the C scanner of a decoder without hooks, for JSON that can hold no
# tagged object (see TaggedJSONSerializer.loads).
_plain_scan = _json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__, not in the stubs

#: How deep _needs_no_tags looks into nested dicts and lists before giving up
#: (deeper data, or a cycle, takes the general path).
_MAX_PLAIN_DEPTH = 16


def _needs_no_tags(
    value: dict[t.Any, t.Any] | list[t.Any], tags: dict[str, JSONTag], depth: int = 0
) -> bool:
    """Whether the built-in tags would leave ``value`` (a dict or list) as it is.

    True when it holds only plain scalars (exact ``str``, ``int``, ``float``,
    ``bool``, ``None``) and dicts and lists of them, none of the dicts being
    a one-key dict with a registered tag key (which :class:`TagDict` would
    tag). Only meaningful while no custom tag is registered.
    """
    if value.__class__ is dict:
        if len(value) == 1 and next(iter(value)) in tags:
            return False
        items: t.Iterable[t.Any] = value.values()
    else:
        items = value
    for item in items:
        cls = item.__class__
        if cls in _PLAIN_TYPES:
            continue
        if (
            (cls is dict or cls is list)
            and depth < _MAX_PLAIN_DEPTH
            and _needs_no_tags(item, tags, depth + 1)
        ):
            continue
        return False
    return True


class TaggedJSONSerializer:
    """Serialize to JSON with type tags, and back (what the session cookie holds).

    :meth:`dumps` writes compact JSON with sorted keys, through the current
    app's JSON provider when an app context is active (like Flask), through
    the standard library otherwise.

    .. versionadded:: 0.1
    """

    __slots__ = (
        "tags",
        "order",
        "_plain_ok",
        "_decoder",
        "_key_needles",
        "_plain_providers",
        "_stock",
    )

    #: Tag classes registered by ``__init__``, in the order they are tried.
    default_tags: list[type[JSONTag]] = list(_BUILTIN_TAGS)

    def __init__(self) -> None:
        #: Registered tags by key, used when reading.
        self.tags: dict[str, JSONTag] = {}
        #: Registered tags in the order :meth:`tag` tries them.
        self.order: list[JSONTag] = []
        self._plain_ok = True
        # PERF: for each tag key, how JSON text holding it as a key must
        # start it: a quote and its first character (see loads).
        self._key_needles: tuple[str, ...] = ()
        # PERF: whether each DefaultJSONProvider subclass met so far writes
        # through the stock dumps() and _encoder() (see dumps).
        self._plain_providers: dict[type, bool] = {}
        # Whether tag() and untag() are this class's: the shortcuts in
        # dumps() and loads() assume what they do.
        cls = type(self)
        self._stock = (
            cls.tag is TaggedJSONSerializer.tag and cls.untag is TaggedJSONSerializer.untag
        )
        # PERF: the decoder calls the hook on every object it reads,
        # innermost first: the order _untag_scan visits them in, without a
        # second walk over the data.
        self._decoder = _json.JSONDecoder(object_hook=self.untag)
        for tag_class in self.default_tags:
            self.register(tag_class)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag.

        :param tag_class: The :class:`JSONTag` subclass; it is instantiated
            with this serializer.
        :param force: Replace a registered tag with the same key instead of
            raising.
        :param index: Where to insert the tag in the order tags are tried
            (``None``: last). Tags earlier in the order win when several
            accept a value.
        :raises KeyError: A tag with the same key is registered and
            ``force`` is false.
        """
        tag = tag_class(self)
        key = tag.key
        if key:
            if not force and key in self.tags:
                raise KeyError(f"Tag '{key}' is already registered.")
            self.tags[key] = tag
            self._key_needles = tuple(sorted({f'"{k[:1]}' for k in self.tags}))
        if tag_class not in _BUILTIN_TAGS:
            # A custom tag may accept plain strings or numbers, so the
            # shortcut in tag() must go.
            self._plain_ok = False
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: t.Any) -> t.Any:
        """``value`` with tags applied (nested values included), ready for JSON.

        :param value: The value to convert.
        """
        # PERF: most session values are plain strings and numbers, which no
        # built-in tag takes; skip trying the eight checks for them.
        if value.__class__ in _PLAIN_TYPES and self._plain_ok:
            return value
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """Turn one tagged object back into its value; other dicts come back as is.

        Nested values are not visited (see :meth:`loads`).

        :param value: A dict read from JSON.
        """
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def _untag_scan(self, value: t.Any) -> t.Any:
        # Inside out: a tag's to_python receives already converted values.
        # PERF: exact class checks; JSON parsers return plain dicts and lists.
        if value.__class__ is dict:
            scan = self._untag_scan
            return self.untag({k: scan(v) for k, v in value.items()})
        if value.__class__ is list:
            scan = self._untag_scan
            return [scan(item) for item in value]
        return value

    def dumps(self, value: t.Any) -> str:
        """Tag ``value`` and serialize it to compact JSON with sorted keys.

        :param value: The value to serialize.
        """
        ctx = _cv.get(None)
        if (
            value.__class__ is dict
            and self._plain_ok
            and self._stock
            and _plain_encoder is not None
            and _needs_no_tags(value, self.tags)
        ):
            # PERF: nothing to tag (the usual session: strings, numbers,
            # flags). Tagging would copy the data unchanged; encode it as is
            # with the C encoder, when the encoder that would be used has
            # the same settings (so the text is the same).
            if ctx is None:
                return "".join(_plain_encoder(value, 0))
            provider = ctx.app.json
            # Both attributes are DefaultJSONProvider's; the app's provider is
            # one unless replaced, and a replacement would have to mimic them.
            if (
                provider.ensure_ascii  # type: ignore[attr-defined]
                and provider.sort_keys  # type: ignore[attr-defined]
                and self._is_plain_provider(type(provider))
            ):
                return "".join(_plain_encoder(value, 0))
        tagged = self.tag(value)
        if ctx is None:
            return _standalone_encoder.encode(tagged)
        provider = ctx.app.json
        if type(provider).dumps is DefaultJSONProvider.dumps:
            # PERF: without arguments the default provider uses its cached
            # encoder, which is already compact with sorted keys.
            return provider.dumps(tagged)
        return provider.dumps(tagged, separators=(",", ":"))

    def _is_plain_provider(self, cls: type) -> bool:
        """Whether ``cls`` (a JSON provider class) is DefaultJSONProvider or a
        subclass that keeps its ``dumps`` and ``_encoder``."""
        plain = self._plain_providers.get(cls)
        if plain is None:
            plain = self._plain_providers[cls] = (
                issubclass(cls, DefaultJSONProvider)
                and cls.dumps is DefaultJSONProvider.dumps
                and cls._encoder is DefaultJSONProvider._encoder
            )
        return plain

    def loads(self, value: str | bytes) -> t.Any:
        """Parse JSON and turn tagged objects back into their values.

        :param value: The JSON text.
        """
        ctx = _cv.get(None)
        if value.__class__ is str and (
            ctx is None or type(ctx.app.json).loads is DefaultJSONProvider.loads
        ):
            if self._stock and "\\" not in value:
                # PERF: without escapes, a key appears in the text exactly as
                # it is: '"' and its characters. When no string starts like a
                # tag key, no object can be a tagged one and untag() would
                # return every object as is: parse without the hook, with
                # the C scanner alone (what decode() runs after skipping
                # whitespace). Anything unusual (whitespace around the
                # value, trailing data, a syntax error) takes the full path,
                # which gives the same result or raises the same error.
                for needle in self._key_needles:
                    if needle in value:
                        break
                else:
                    try:
                        obj, end = _plain_scan(value, 0)
                    except (StopIteration, ValueError):
                        pass
                    else:
                        if end == len(value):
                            return obj
            return self._decoder.decode(value)
        data = _json.loads(value) if ctx is None else ctx.app.json.loads(value)
        return self._untag_scan(data)
