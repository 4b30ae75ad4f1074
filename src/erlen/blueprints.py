"""Blueprints: groups of routes, hooks and templates registered on an app later.

A :class:`Blueprint` has the app's setup API, but nothing it is told reaches
an app until :meth:`Erlen.register_blueprint <erlen.Erlen.register_blueprint>`
is called. Routes and other app-level changes are kept as *deferred
functions* and run then, once per registration, with a
:class:`BlueprintSetupState` describing that registration (URL prefix,
subdomain, name). Hooks, error handlers and processors scoped to the
blueprint are copied into the app's dictionaries under the blueprint's full
dotted name, where the app's dispatch already looks for them.

All of this happens at setup time; a blueprint adds no per-request work
beyond what the same hooks registered on the app would cost.
"""

from __future__ import annotations

import os
import typing as t
from collections import defaultdict
from datetime import timedelta
from functools import update_wrapper

from ._utils import cached_property
from .globals import _cv
from .scaffold import Scaffold, _endpoint_from_view_func, _sentinel, setupmethod

if t.TYPE_CHECKING:
    from .app import Erlen
    from .cli import AppGroup
    from .wrappers import Response

__all__ = ["Blueprint", "BlueprintSetupState"]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: A deferred setup function: called with the state of each registration.
DeferredSetupFunction = t.Callable[["BlueprintSetupState"], None]


class BlueprintSetupState:
    """What one registration of a blueprint on an app looks like.

    Deferred functions receive it; it resolves the options given to
    ``register_blueprint`` against the blueprint's own defaults, and its
    :meth:`add_url_rule` adds rules to the app with those applied.

    :param blueprint: The blueprint being registered.
    :param app: The app it is registered on.
    :param options: The options passed to ``register_blueprint`` (for
        nested blueprints, as adjusted by the parent).
    :param first_registration: Whether this is the first time the
        blueprint is registered on this app.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        blueprint: Blueprint,
        app: Erlen,
        options: t.Any,
        first_registration: bool,
    ) -> None:
        #: The app the blueprint is registered on.
        self.app = app
        #: The blueprint being registered.
        self.blueprint = blueprint
        #: The registration options, as given.
        self.options = options
        #: Whether this is the blueprint's first registration on :attr:`app`.
        #: Deferred functions that change the app itself check this, so a
        #: second registration does not add them twice.
        self.first_registration = first_registration

        subdomain = self.options.get("subdomain")
        if subdomain is None:
            subdomain = self.blueprint.subdomain
        #: The subdomain the blueprint's rules match, or ``None``.
        self.subdomain: str | None = subdomain

        url_prefix = self.options.get("url_prefix")
        if url_prefix is None:
            url_prefix = self.blueprint.url_prefix
        #: The prefix put before every rule of the blueprint, or ``None``.
        self.url_prefix: str | None = url_prefix

        #: The blueprint's name in this registration (``name=`` or its own).
        self.name: str = self.options.get("name", blueprint.name)
        #: The dotted name of the parent blueprint, ``""`` at the top level.
        self.name_prefix: str = self.options.get("name_prefix", "")

        #: Default view arguments given to every rule of the blueprint.
        self.url_defaults: dict[str, t.Any] = dict(self.blueprint.url_values_defaults)
        self.url_defaults.update(self.options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        **options: t.Any,
    ) -> None:
        """Add a rule of the blueprint to the app.

        The URL prefix is joined to ``rule`` with exactly one slash, the
        subdomain is applied unless the rule names its own, the
        registration's URL defaults are merged under the rule's own
        ``defaults``, and the endpoint is prefixed with the full dotted name.

        :param rule: The rule string, relative to the URL prefix.
        :param endpoint: The endpoint within the blueprint (default: the
            view's ``__name__``).
        :param view_func: The view function.
        :param options: Other options of :meth:`Erlen.add_url_rule
            <erlen.Erlen.add_url_rule>`.

        .. versionadded:: 0.1
        """
        if self.url_prefix is not None:
            if rule:
                rule = "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/")))
            else:
                rule = self.url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        full_endpoint = f"{self.name_prefix}.{self.name}.{endpoint}".lstrip(".")
        self.app.add_url_rule(rule, full_endpoint, view_func, defaults=defaults, **options)


class Blueprint(Scaffold):
    """A reusable group of views, hooks, templates and static files.

    Use it like the app (``@bp.route``, ``@bp.before_request``, ...), then
    register it with :meth:`Erlen.register_blueprint
    <erlen.Erlen.register_blueprint>`. Its endpoints are named
    ``"<name>.<endpoint>"``, so ``url_for(".index")`` inside one of its views
    means its own ``index``. Hooks, error handlers, context processors and
    URL processors registered on it apply only to its own requests; the
    ``app_*`` variants apply to every request of the app.

    :param name: The blueprint's name: the endpoint prefix, and its key in
        :attr:`Erlen.blueprints <erlen.Erlen.blueprints>`. May not contain
        a dot.
    :param import_name: The blueprint's module name, usually ``__name__``;
        it locates the static and template folders.
    :param static_folder: Static files folder, relative to ``root_path``;
        served at ``static_url_path`` with the endpoint ``"<name>.static"``.
    :param static_url_path: URL of the static files (default: ``/`` + the
        folder's name), under the blueprint's URL prefix.
    :param template_folder: Templates folder, relative to ``root_path``.
        It is searched after the app's, so the app can override a
        blueprint template.
    :param url_prefix: A path put before every rule of the blueprint.
    :param subdomain: The subdomain the blueprint's rules match.
    :param url_defaults: Default view arguments for every rule.
    :param root_path: The blueprint's folder, when it can't be found from
        ``import_name``.
    :param cli_group: The CLI group name for the blueprint's commands
        (default: the blueprint's name; ``None`` adds them to the app's
        group directly).

    .. versionadded:: 0.1
    """

    #: Set by the first registration; later setup calls are refused because
    #: they would reach only the registrations that come after them.
    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,  # type: ignore[assignment]
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self.name = name
        #: The default URL prefix of the blueprint's rules.
        self.url_prefix = url_prefix
        #: The default subdomain of the blueprint's rules.
        self.subdomain = subdomain
        #: Functions run with a :class:`BlueprintSetupState` on each registration.
        self.deferred_functions: list[DeferredSetupFunction] = []
        #: Default view arguments for every rule of the blueprint.
        self.url_values_defaults: dict[str, t.Any] = {} if url_defaults is None else url_defaults
        #: The CLI group name for the blueprint's commands.
        self.cli_group = cli_group
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []

    @cached_property
    def cli(self) -> AppGroup:
        """The blueprint's click command group: ``@bp.cli.command()`` adds a
        command, under the group named by ``cli_group`` (the blueprint's name
        by default; ``None`` puts the commands on the app's own group).

        Created on first use, so a blueprint without commands doesn't load click.

        .. versionadded:: 0.1
        """
        from .cli import AppGroup

        return AppGroup()

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered, so the change would"
                " reach only later registrations.\nMake sure every import, decorator"
                " and function that sets up the blueprint runs before it is registered."
            )

    # -- recording -----------------------------------------------------------

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Keep ``func`` to call with the setup state of every registration.

        Use it to change the app from a blueprint, e.g. in an extension.

        :param func: Called as ``func(state)`` with a :class:`BlueprintSetupState`.

        .. versionadded:: 0.1
        """
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like :meth:`record`, but call ``func`` only on the blueprint's
        first registration on each app.

        For changes to the app itself (an app-wide hook, a template filter),
        which a second registration under another name must not repeat.

        :param func: Called as ``func(state)`` with a :class:`BlueprintSetupState`.

        .. versionadded:: 0.1
        """

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(wrapper, func))

    def make_setup_state(
        self, app: Erlen, options: dict[str, t.Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """Create the :class:`BlueprintSetupState` of a registration.

        Override to use a subclass of the state.

        .. versionadded:: 0.1
        """
        return BlueprintSetupState(self, app, options, first_registration)

    # -- registration --------------------------------------------------------

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` in this one; it is registered when this one is.

        The child's endpoints become ``"<parent>.<child>.<endpoint>"``, its
        URL prefix and subdomain are joined to the parent's, and the
        parent's hooks and error handlers apply to its requests too (the
        child's first).

        :param blueprint: The blueprint to nest.
        :param options: Registration options, as for
            :meth:`Erlen.register_blueprint <erlen.Erlen.register_blueprint>`.
        :raises ValueError: ``blueprint`` is this blueprint.

        .. versionadded:: 0.1
        """
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: Erlen, options: dict[str, t.Any]) -> None:
        """Register the blueprint on ``app``; called by
        :meth:`Erlen.register_blueprint <erlen.Erlen.register_blueprint>`.

        Adds the static route, copies the blueprint's hooks, handlers and
        processors into the app under its full name, runs the deferred
        functions, then registers the nested blueprints.

        :param app: The app to register on.
        :param options: ``url_prefix``, ``subdomain``, ``url_defaults``,
            ``name``, ``cli_group`` (and ``name_prefix``, set for nested
            blueprints).
        :raises ValueError: The name is invalid or already registered on
            the app.

        .. versionadded:: 0.1
        """
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        if not self_name or "." in self_name:
            raise ValueError(
                f"The blueprint name {self_name!r} given with 'name=' may not be empty"
                " or contain a dot '.' character."
            )
        name = f"{name_prefix}.{self_name}".lstrip(".")

        existing = app.blueprints.get(name)
        if existing is not None:
            which = "this" if existing is self else "a different"
            where = f" as '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for {which}"
                f" blueprint{where}. Pass a unique 'name=' to register_blueprint"
                " to register it again."
            )

        first_bp_registration = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_bp_registration)

        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )

        # The name was checked to be new above, so the scoped functions are
        # copied exactly once per name.
        self._merge_blueprint_funcs(app, name)

        for deferred in self.deferred_functions:
            deferred(state)

        self._register_cli(app, name, options)

        for blueprint, bp_options in self._blueprints:
            blueprint.register(app, self._child_options(state, name, blueprint, bp_options))

    @staticmethod
    def _child_options(
        state: BlueprintSetupState, name: str, blueprint: Blueprint, bp_options: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """The options of a nested blueprint, with the parent's subdomain and
        URL prefix joined to its own."""
        bp_options = bp_options.copy()

        subdomain = bp_options.get("subdomain")
        if subdomain is None:
            subdomain = blueprint.subdomain
        if state.subdomain is not None and subdomain is not None:
            bp_options["subdomain"] = f"{subdomain}.{state.subdomain}"
        elif subdomain is not None:
            bp_options["subdomain"] = subdomain
        elif state.subdomain is not None:
            bp_options["subdomain"] = state.subdomain

        url_prefix = bp_options.get("url_prefix")
        if url_prefix is None:
            url_prefix = blueprint.url_prefix
        if state.url_prefix is not None and url_prefix is not None:
            bp_options["url_prefix"] = state.url_prefix.rstrip("/") + "/" + url_prefix.lstrip("/")
        elif url_prefix is not None:
            bp_options["url_prefix"] = url_prefix
        elif state.url_prefix is not None:
            bp_options["url_prefix"] = state.url_prefix

        bp_options["name_prefix"] = name
        return bp_options

    def _merge_blueprint_funcs(self, app: Erlen, name: str) -> None:
        """Copy the blueprint's scoped registrations into the app under ``name``."""

        def scoped(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for key, by_code in self.error_handler_spec.items():
            # Copies, so a registration under another name shares no dict
            # with this one.
            copied = {code: dict(handlers) for code, handlers in by_code.items() if handlers}
            if copied:
                app.error_handler_spec[scoped(key)] = defaultdict(dict, copied)

        # NOTE: endpoints given to the ``endpoint`` decorator are used as
        # written, as in Flask, so a blueprint can supply a view for a rule
        # the app added.
        for endpoint, func in self.view_functions.items():
            app.view_functions[endpoint] = func

        for bp_dict, app_dict in (
            (self.before_request_funcs, app.before_request_funcs),
            (self.after_request_funcs, app.after_request_funcs),
            (self.teardown_request_funcs, app.teardown_request_funcs),
            (self.url_default_functions, app.url_default_functions),
            (self.url_value_preprocessors, app.url_value_preprocessors),
            (self.template_context_processors, app.template_context_processors),
        ):
            for key, funcs in bp_dict.items():
                # PERF: empty lists are not copied; the app's dispatch skips
                # its hook loops while these dicts are empty.
                if funcs:
                    app_dict.setdefault(scoped(key), []).extend(funcs)  # type: ignore[arg-type]

    def _register_cli(self, app: Erlen, name: str, options: dict[str, t.Any]) -> None:
        """Add the blueprint's CLI commands (if it has any) to the app's CLI."""
        # PERF: read from __dict__, so a lazily created ``cli`` group (and
        # click with it) is not created here: a group nobody touched has no
        # commands. The app's group is created only when there are some.
        cli = self.__dict__.get("cli")
        if cli is None or not getattr(cli, "commands", None):
            return
        app_cli = app.cli
        group = options.get("cli_group", self.cli_group)
        if group is None:
            app_cli.commands.update(cli.commands)
            return
        cli.name = name if group is _sentinel else group
        app_cli.add_command(cli)

    # -- routes --------------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: t.Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Record a URL rule, added to the app (with the blueprint's prefixes)
        when the blueprint is registered.

        Arguments are those of :meth:`Erlen.add_url_rule
        <erlen.Erlen.add_url_rule>`; ``rule`` is relative to the URL prefix
        and ``endpoint`` to the blueprint's name.

        :raises ValueError: ``endpoint`` or the view's ``__name__`` contains
            a dot (the dot separates blueprint names).

        .. versionadded:: 0.1
        """
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")

        def add(state: BlueprintSetupState) -> None:
            state.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )

        self.record(add)

    # -- app-wide variants ---------------------------------------------------

    @setupmethod
    def app_template_filter(self, name: str | None = None) -> t.Callable[[_F], _F]:
        """Register the decorated function as a Jinja filter of the app.

        :param name: The filter's name (default: the function's name).

        .. versionadded:: 0.1
        """

        def decorator(f: _F) -> _F:
            self.add_app_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_filter(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja filter of the app when the blueprint is registered.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.add_template_filter(f, name=name))

    @setupmethod
    def app_template_test(self, name: str | None = None) -> t.Callable[[_F], _F]:
        """Register the decorated function as a Jinja test of the app.

        :param name: The test's name (default: the function's name).

        .. versionadded:: 0.1
        """

        def decorator(f: _F) -> _F:
            self.add_app_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_test(self, f: t.Callable[..., bool], name: str | None = None) -> None:
        """Register a Jinja test of the app when the blueprint is registered.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.add_template_test(f, name=name))

    @setupmethod
    def app_template_global(self, name: str | None = None) -> t.Callable[[_F], _F]:
        """Register the decorated function as a Jinja global of the app.

        :param name: The global's name (default: the function's name).

        .. versionadded:: 0.1
        """

        def decorator(f: _F) -> _F:
            self.add_app_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_global(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """Register a Jinja global of the app when the blueprint is registered.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.add_template_global(f, name=name))

    @setupmethod
    def before_app_request(self, f: _F) -> _F:
        """Like :meth:`before_request`, but for every request of the app.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.before_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def after_app_request(self, f: _F) -> _F:
        """Like :meth:`after_request`, but for every request of the app.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.after_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def teardown_app_request(self, f: _F) -> _F:
        """Like :meth:`teardown_request`, but for every request of the app.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_context_processor(self, f: _F) -> _F:
        """Like :meth:`context_processor`, but for every template of the app.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.template_context_processors.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_errorhandler(self, code_or_exception: type[Exception] | int) -> t.Callable[[_F], _F]:
        """Like :meth:`errorhandler`, but for errors of every request of the app.

        .. versionadded:: 0.1
        """

        def decorator(f: _F) -> _F:
            self.record_once(lambda s: s.app.register_error_handler(code_or_exception, f))
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(self, f: _F) -> _F:
        """Like :meth:`url_value_preprocessor`, but for every request of the app.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_url_defaults(self, f: _F) -> _F:
        """Like :meth:`url_defaults`, but for every URL the app builds.

        .. versionadded:: 0.1
        """
        self.record_once(lambda s: s.app.url_default_functions.setdefault(None, []).append(f))
        return f

    # -- files ---------------------------------------------------------------

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Seconds a browser may cache one of the blueprint's static files.

        The current app's ``SEND_FILE_MAX_AGE_DEFAULT`` (``None``: revalidate
        every time). Override to choose by ``filename``.

        .. versionadded:: 0.1
        """
        value = _cv.get().app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> Response:
        """Serve a file from the blueprint's static folder (its ``static`` route).

        :raises RuntimeError: The blueprint has no static folder.
        :raises NotFound: The file does not exist or is outside the folder.

        .. versionadded:: 0.1
        """
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        from .helpers import send_from_directory

        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(t.cast(str, self.static_folder), filename, max_age=max_age)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file relative to the blueprint's :attr:`root_path` for reading.

        :param resource: The path below ``root_path``.
        :param mode: ``"rb"`` (default), ``"r"`` or ``"rt"``.
        :param encoding: The text encoding (text modes only).
        :raises ValueError: ``mode`` is not a read mode.

        .. versionadded:: 0.1
        """
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)
