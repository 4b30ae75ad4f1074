"""Jinja templates: the app's environment, its loader and the render functions.

Each app owns one :class:`Environment`, built the first time
:attr:`Erlen.jinja_env <erlen.Erlen.jinja_env>` is read. It finds templates
in the app's template folder and then in each blueprint's, and carries the
globals Flask templates rely on (``url_for``, ``config``, ``request``,
``session``, ``g``, ``get_flashed_messages``) and a ``tojson`` filter that is
safe inside ``<script>``.

:func:`render_template` and friends add the context processors' values to
the context, send the template signals when someone listens, and leave the
rest to Jinja.

This module imports Jinja, so :mod:`erlen.app` imports it only when the
environment is first needed.
"""

from __future__ import annotations

import itertools
import typing as t
import weakref

from jinja2 import BaseLoader, Template, TemplateNotFound
from jinja2 import Environment as _JinjaEnvironment
from jinja2.utils import LRUCache
from markupsafe import Markup

from . import signals as _signals
from ._utils import defined_once
from .datastructures.mixins import UpdateDictMixin
from .globals import _cv, _default_template_ctx_processor, _no_app_msg, g, request, session

if t.TYPE_CHECKING:
    from .app import Erlen
    from .scaffold import Scaffold

__all__ = [
    "Environment",
    "DispatchingJinjaLoader",
    "create_jinja_environment",
    "update_template_context",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
    "get_template_attribute",
]

#: How many compiled :func:`render_template_string` sources an environment keeps.
_STRING_CACHE_SIZE = 64

#: Per app class: whether ``update_template_context`` is Erlen's own (no
#: subclass redefines it). PERF: then a render builds the context directly
#: instead of calling the method.
_plain_update_template_context: dict[type, bool] = {}


class Environment(_JinjaEnvironment):
    """A Jinja environment that belongs to an application.

    Unless a ``loader`` is passed, it loads templates through the app's
    global loader (see :class:`DispatchingJinjaLoader`), which searches the
    app's template folder and then its blueprints'.

    Its :attr:`globals` is a dict that passes every change on to the
    templates already loaded, which therefore see globals added later, as
    with Jinja's own environment.

    :param app: The application the environment serves.
    :param options: Any :class:`jinja2.Environment` option.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Erlen, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = _global_loader(app)
        super().__init__(**options)
        #: The application the environment belongs to.
        self.app = app
        self.globals = _EnvironmentGlobals(self.globals)
        # PERF: compiled render_template_string sources, so a string rendered
        # again is not compiled again; off when the environment caches nothing.
        self._erlen_strings: LRUCache | None = (
            LRUCache(_STRING_CACHE_SIZE) if self.cache is not None else None
        )

    def make_globals(self, d: t.MutableMapping[str, t.Any] | None) -> t.MutableMapping[str, t.Any]:
        """The globals of a new template: ``d`` over the environment's globals.

        Same behavior as Jinja's :class:`~collections.ChainMap` (changes to
        :attr:`globals` show in templates already loaded; changing a
        template's globals leaves the environment's alone), but the mapping
        is a dict holding both, which Jinja copies in C on each render.
        """
        env_globals = self.globals
        if not isinstance(env_globals, _EnvironmentGlobals):
            # Someone replaced the environment's globals: Jinja's own view.
            return super().make_globals(d)
        return _TemplateGlobals({} if d is None else d, env_globals)


# PERF: Jinja copies a template's globals into a new dict on every render
# (jinja2.runtime.new_context), and reads them once more for the context's
# key set. A ChainMap makes both copies Python-level loops over every name;
# a dict is copied in C. The two classes below keep each template's globals
# a dict with the merged names, and push every change of the environment's
# globals to the loaded templates, so the dicts never go stale.


class _EnvironmentGlobals(UpdateDictMixin):
    """:attr:`Environment.globals`: a dict that tells loaded templates of changes.

    Every mutating method (:class:`~erlen.datastructures.mixins.UpdateDictMixin`'s)
    updates the dict, then the globals of each template loaded from the
    environment that is still alive (they are held weakly).
    """

    __slots__ = ("_templates", "_next_id")

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._templates: weakref.WeakValueDictionary[int, _TemplateGlobals] = (
            weakref.WeakValueDictionary()
        )
        self._next_id = itertools.count().__next__

    def _add_template(self, template_globals: _TemplateGlobals) -> None:
        self._templates[self._next_id()] = template_globals

    def _changed(self) -> None:
        # A snapshot: another thread may be loading a template meanwhile.
        for ref in self._templates.valuerefs():
            template_globals = ref()
            if template_globals is not None:
                template_globals._merge()


class _TemplateGlobals(dict):  # type: ignore[type-arg]
    """A template's globals: its own names over the environment's, in one dict.

    Mutations behave as on Jinja's ``ChainMap(own, environment_globals)``:
    they change only the template's own names, which hide the environment's;
    deleting an own name shows the environment's value again, and deleting
    a name the template does not own raises :class:`KeyError`.
    """

    __slots__ = ("_own", "_env", "__weakref__")

    def __init__(self, own: t.MutableMapping[str, t.Any], env_globals: _EnvironmentGlobals) -> None:
        super().__init__()
        self._own = own
        self._env = env_globals
        # Registered before the names are copied, so that a change made
        # meanwhile in another thread is not missed.
        env_globals._add_template(self)
        self._merge()

    def _merge(self) -> None:
        merged = dict(self._env)
        merged.update(self._own)
        # Names are never missing in between, for a render in another thread.
        for key in self.keys() - merged.keys():
            super().pop(key, None)
        super().update(merged)

    def _not_own(self, key: t.Any) -> KeyError:
        return KeyError(f"Key not found in the first mapping: {key!r}")

    def __setitem__(self, key: t.Any, value: t.Any) -> None:
        self._own[key] = value
        super().__setitem__(key, value)

    def __delitem__(self, key: t.Any) -> None:
        try:
            del self._own[key]
        except KeyError:
            raise self._not_own(key) from None
        self._merge()

    def __ior__(self, other: t.Any) -> _TemplateGlobals:  # type: ignore[misc]  # see above
        self._own.update(other)
        self._merge()
        return self

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._own.update(*args, **kwargs)
        self._merge()

    def setdefault(self, key: t.Any, default: t.Any = None) -> t.Any:
        if key in self:
            return self[key]
        self[key] = default
        return default

    def pop(self, key: t.Any, *default: t.Any) -> t.Any:
        try:
            rv = self._own.pop(key, *default)
        except KeyError:
            raise self._not_own(key) from None
        self._merge()
        return rv

    def popitem(self) -> tuple[t.Any, t.Any]:
        try:
            rv = self._own.popitem()
        except KeyError:
            raise KeyError("No keys found in the first mapping.") from None
        self._merge()
        return rv

    def clear(self) -> None:
        self._own.clear()
        self._merge()

    def copy(self) -> _TemplateGlobals:
        """A new mapping with a copy of the own names, over the same environment globals."""
        return _TemplateGlobals(dict(self._own), self._env)

    __copy__ = copy


def _global_loader(app: Erlen) -> BaseLoader:
    # An app may provide Flask's create_global_jinja_loader() hook.
    factory = getattr(app, "create_global_jinja_loader", None)
    if factory is not None:
        return t.cast(BaseLoader, factory())
    return DispatchingJinjaLoader(app)


class DispatchingJinjaLoader(BaseLoader):
    """Loads a template from the app's loader, then from each blueprint's.

    The app's :attr:`~erlen.scaffold.Scaffold.jinja_loader` is asked first,
    then those of the blueprints in registration order; the first that has
    the template wins. With ``EXPLAIN_TEMPLATE_LOADING`` set, every loader is
    asked and the attempts are logged on the app's logger at INFO level.

    Jinja calls the loader only when a template is not in its cache, so the
    search costs nothing once a template is loaded.

    :param app: The application whose loaders to search.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Erlen) -> None:
        self.app = app

    def get_source(
        self, environment: _JinjaEnvironment, template: str
    ) -> tuple[str, str | None, t.Callable[[], bool] | None]:
        """Return the source, file name and up-to-date check of ``template``.

        :raises jinja2.TemplateNotFound: No loader has the template.
        """
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        for _owner, loader in self._iter_loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def _get_source_explained(
        self, environment: _JinjaEnvironment, template: str
    ) -> tuple[str, str | None, t.Callable[[], bool] | None]:
        attempts: list[tuple[Scaffold, BaseLoader, tuple[str, str | None, t.Any] | None]] = []
        found = None
        for owner, loader in self._iter_loaders():
            try:
                rv = loader.get_source(environment, template)
            except TemplateNotFound:
                rv = None
            attempts.append((owner, loader, rv))
            if found is None:
                found = rv
        _explain_loading(self.app, template, attempts)
        if found is None:
            raise TemplateNotFound(template)
        return found

    def _iter_loaders(self) -> t.Iterator[tuple[Scaffold, BaseLoader]]:
        app = self.app
        loader = app.jinja_loader
        if loader is not None:
            yield app, loader
        for blueprint in app.blueprints.values():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        """The names of all templates every loader knows, sorted."""
        names: set[str] = set()
        for _owner, loader in self._iter_loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _explain_loading(
    app: Erlen,
    template: str,
    attempts: list[tuple[Scaffold, BaseLoader, tuple[str, str | None, t.Any] | None]],
) -> None:
    # The numbered "trying loader of ..." lines and the error's sentences are
    # worded as Flask's explanation is: tools and tests look for them.
    lines = [f"Locating template {template!r}:"]
    hits = 0
    for number, (owner, loader, rv) in enumerate(attempts, 1):
        if owner is app:
            what = f"application {app.import_name!r}"
        else:
            what = f"blueprint {owner.name!r} ({owner.import_name})"
        lines.append(f"  {number}: trying loader of {what}")
        lines.append(f"       class: {type(loader).__module__}.{type(loader).__name__}")
        searchpath = getattr(loader, "searchpath", None)
        if searchpath is not None:
            lines.append(f"       searched: {', '.join(map(str, searchpath))}")
        if rv is None:
            lines.append("       -> not found")
        else:
            hits += 1
            lines.append(f"       -> found at {rv[1]!r}")
    if not attempts:
        lines.append("  No loader to ask: neither the app nor a blueprint has a template folder.")
    if hits == 0:
        lines.append(
            "Error: the template could not be found. Is it inside one of the folders above?"
        )
        ctx = _cv.get(None)
        blueprint = ctx.request.blueprint if ctx is not None and ctx.request is not None else None
        if blueprint is not None:
            lines.append(
                "  The template was looked up from an endpoint that belongs to the blueprint"
                f" {blueprint!r}. Every blueprint's template_folder is searched, after the"
                " app's, whichever blueprint asks."
            )
            lines.append("  See https://flask.palletsprojects.com/blueprints/#templates")
    elif hits > 1:
        lines.append(
            "Warning: more than one loader has this template; the first one is used."
            " Put blueprint templates in a subfolder named after the blueprint to avoid this."
        )
    app.logger.info("\n".join(lines))


def create_jinja_environment(app: Erlen) -> Environment:
    """Build the Jinja environment of ``app`` (what :attr:`Erlen.jinja_env` holds).

    Options come from the app's ``jinja_options`` (if it has that Flask
    attribute) and then :attr:`Erlen.jinja_env_options`. Unless given there,
    ``autoescape`` is :meth:`Erlen.select_jinja_autoescape` and
    ``auto_reload`` is ``TEMPLATES_AUTO_RELOAD``, or debug mode when that is
    ``None``. The class is the app's ``jinja_environment`` attribute if set,
    else :class:`Environment`.

    Added globals: ``url_for``, ``get_flashed_messages``, ``config``,
    ``request``, ``session`` and ``g``; the ``tojson`` filter; and whatever
    was registered with ``add_template_filter``, ``add_template_global`` and
    ``add_template_test``.

    :param app: The application.

    .. versionadded:: 0.1
    """
    options: dict[str, t.Any] = dict(getattr(app, "jinja_options", None) or ())
    options.update(app.jinja_env_options)
    if "autoescape" not in options:
        options["autoescape"] = app.select_jinja_autoescape
    if "auto_reload" not in options:
        auto_reload = app.config["TEMPLATES_AUTO_RELOAD"]
        options["auto_reload"] = app.debug if auto_reload is None else auto_reload
    env_class = getattr(app, "jinja_environment", None) or Environment
    env: Environment = env_class(app, **options)

    def dumps(obj: t.Any, **kwargs: t.Any) -> str:
        # Read app.json at call time: the provider may be replaced after the
        # environment exists.
        return app.json.dumps(obj, **kwargs)

    def tojson(value: t.Any, indent: int | None = None) -> Markup:
        # As Jinja's own filter, which Flask uses: the provider's dumps with
        # the "json.dumps_kwargs" policy (sort_keys=True unless changed), so
        # the output is Flask's, separators and key order included.
        kwargs = env.policies["json.dumps_kwargs"]
        if indent is not None:
            kwargs = {**kwargs, "indent": indent}
        rv = app.json.dumps(value, **kwargs)
        # Escaping these keeps the output inert inside <script> (no "</script>",
        # no "<!--") and inside single-quoted HTML attributes.
        return Markup(
            rv.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("'", "\\u0027")
        )

    env.globals.update(
        url_for=app.url_for,
        get_flashed_messages=_flashed_messages_global(),
        config=app.config,
        request=request,
        session=session,
        g=g,
    )
    env.globals.update(app.template_globals)
    env.filters["tojson"] = tojson
    env.filters.update(app.template_filters)
    env.tests.update(app.template_tests)
    env.policies["json.dumps_function"] = dumps
    return env


def _flashed_messages_global() -> t.Callable[..., t.Any]:
    from . import helpers

    func = getattr(helpers, "get_flashed_messages", None)
    if func is not None:
        return t.cast("t.Callable[..., t.Any]", func)

    def get_flashed_messages(*args: t.Any, **kwargs: t.Any) -> t.Any:
        # Message flashing may arrive after this environment was built.
        from .helpers import get_flashed_messages as func

        return func(*args, **kwargs)

    return get_flashed_messages


def _build_context(app: Erlen, ctx: t.Any, context: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A new dict: the default values, then the context processors', then ``context``."""
    if ctx is None:
        rv: dict[str, t.Any] = {}
        req = None
    else:
        req = ctx.request
        if req is None:
            rv = {"g": ctx.g}
        else:
            # The session stays lazy: the proxy opens it only if the template
            # reads it; an already open one is passed as is.
            opened = ctx._session
            rv = {"g": ctx.g, "request": req, "session": session if opened is None else opened}
    processors = app.template_context_processors
    if processors:
        # PERF: request.blueprints is computed only when some blueprint has
        # context processors.
        if req is not None and len(processors) > (None in processors):
            names: t.Iterable[str | None] = (None, *reversed(req.blueprints))
        else:
            names = (None,)
        ensure_sync = app.ensure_sync
        for name in names:
            for func in processors.get(name, ()):
                # The default processor's values are already in rv (with the
                # session kept lazy).
                if func is not _default_template_ctx_processor:
                    rv.update(ensure_sync(func)())
    if context:
        rv.update(context)
    return rv


def update_template_context(app: Erlen, context: dict[str, t.Any]) -> None:
    """Add the default and context-processor values to ``context`` in place.

    Inside an app context ``g`` is added, inside a request also ``request``
    and ``session`` (the lazy proxy, unless the session is already open).
    Then the app's context processors run, and in a request those of the
    current blueprints, outermost first. Keys already in ``context`` keep
    their values.

    :param app: The application whose processors to run.
    :param context: The template context to update.

    .. versionadded:: 0.1
    """
    context.update(_build_context(app, _cv.get(None), context))


def _current() -> t.Any:
    ctx = _cv.get(None)
    if ctx is None:
        raise RuntimeError(_no_app_msg)
    return ctx


def _prepare(app: Erlen, ctx: t.Any, context: dict[str, t.Any]) -> dict[str, t.Any]:
    cls = type(app)
    plain = _plain_update_template_context.get(cls)
    if plain is None:
        plain = _plain_update_template_context[cls] = defined_once(cls, "update_template_context")
    if plain:
        return _build_context(app, ctx, context)
    app.update_template_context(context)
    return context


def _render(app: Erlen, ctx: t.Any, template: Template, context: dict[str, t.Any]) -> str:
    context = _prepare(app, ctx, context)
    if _signals.before_render_template.receivers:
        _signals.before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    rv = template.render(context)
    if _signals.template_rendered.receivers:
        _signals.template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return rv


def _stream(
    app: Erlen, ctx: t.Any, template: Template, context: dict[str, t.Any]
) -> t.Iterator[str]:
    context = _prepare(app, ctx, context)
    if _signals.before_render_template.receivers:
        _signals.before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    def generate() -> t.Iterator[str]:
        yield from template.generate(context)
        if _signals.template_rendered.receivers:
            _signals.template_rendered.send(
                app, _async_wrapper=app.ensure_sync, template=template, context=context
            )

    rv = generate()
    if ctx.request is not None:
        from .helpers import stream_with_context

        rv = stream_with_context(rv)
    return rv


def _get_template(env: _JinjaEnvironment, template_name_or_list: t.Any) -> Template:
    # PERF: a plain name, the common case, skips the type dispatch.
    if type(template_name_or_list) is str:
        return env.get_template(template_name_or_list)
    return env.get_or_select_template(template_name_or_list)


def _from_string(env: _JinjaEnvironment, source: str) -> Template:
    cache = getattr(env, "_erlen_strings", None)
    if cache is None:
        return env.from_string(source)
    template = cache.get(source)
    if template is None:
        template = cache[source] = env.from_string(source)
    return t.cast(Template, template)


_TemplateNames = str | Template | t.Iterable[str | Template]


def render_template(template_name_or_list: _TemplateNames, **context: t.Any) -> str:
    """Render a template from the template folders with the given context.

    ``render_template("user.html", user=user)``. Given a list of names, the
    first template that exists is used. The context also holds ``g``,
    ``request`` and ``session`` and the context processors' values; the
    keyword arguments win over those.

    :param template_name_or_list: A template name, a
        :class:`jinja2.Template`, or a list of either.
    :param context: Variables for the template.
    :raises jinja2.TemplateNotFound: No template of that name exists.
    :raises RuntimeError: No application context is active.

    .. versionadded:: 0.1
    """
    ctx = _current()
    app = ctx.app
    return _render(app, ctx, _get_template(app.jinja_env, template_name_or_list), context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render a template given as a string, with the given context.

    Autoescaping is on (see :meth:`Erlen.select_jinja_autoescape`). The
    compiled template is kept for the next call with the same source.

    :param source: The template source.
    :param context: Variables for the template.
    :raises RuntimeError: No application context is active.

    .. versionadded:: 0.1
    """
    ctx = _current()
    app = ctx.app
    return _render(app, ctx, _from_string(app.jinja_env, source), context)


def stream_template(template_name_or_list: _TemplateNames, **context: t.Any) -> t.Iterator[str]:
    """Render a template piece by piece, as an iterator of strings.

    Return it from a view to stream the response. In a request, the request
    context stays active until the stream ends (see
    :func:`~erlen.stream_with_context`), so the template may use
    ``request``. ``template_rendered`` is sent once the stream is exhausted.

    :param template_name_or_list: As for :func:`render_template`.
    :param context: Variables for the template.

    .. versionadded:: 0.1
    """
    ctx = _current()
    app = ctx.app
    return _stream(app, ctx, _get_template(app.jinja_env, template_name_or_list), context)


def stream_template_string(source: str, **context: t.Any) -> t.Iterator[str]:
    """Render a template given as a string piece by piece (see :func:`stream_template`).

    :param source: The template source.
    :param context: Variables for the template.

    .. versionadded:: 0.1
    """
    ctx = _current()
    app = ctx.app
    return _stream(app, ctx, _from_string(app.jinja_env, source), context)


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """Return a macro or variable that a template exports, to call from Python.

    With ``_helpers.html`` defining ``{% macro hello(name) %}``,
    ``get_template_attribute("_helpers.html", "hello")("World")`` renders
    the macro. The template module is built without the request context
    values.

    :param template_name: The template to load.
    :param attribute: The name to read from the template's module.
    :raises AttributeError: The template does not define ``attribute``.

    .. versionadded:: 0.1
    """
    return getattr(_current().app.jinja_env.get_template(template_name).module, attribute)
