"""Configuration: a dict with loaders, and attribute shortcuts on the app."""

from __future__ import annotations

import errno
import json
import os
import sys
import types
import typing as t

from ._utils import import_string

__all__ = ["Config", "ConfigAttribute"]

_T = t.TypeVar("_T")


class ConfigAttribute(t.Generic[_T]):
    """An app attribute that reads and writes a config key (``app.debug``).

    :param name: The config key.
    :param get_converter: Applied to the value on read.
    """

    def __init__(self, name: str, get_converter: t.Callable[[t.Any], _T] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @t.overload
    def __get__(self, obj: None, owner: None) -> ConfigAttribute[_T]: ...

    @t.overload
    def __get__(self, obj: t.Any, owner: t.Any) -> _T: ...

    def __get__(self, obj: t.Any, owner: t.Any = None) -> t.Any:
        if obj is None:
            return self
        rv = obj.config[self.__name__]
        if self.get_converter is not None:
            rv = self.get_converter(rv)
        return rv

    def __set__(self, obj: t.Any, value: t.Any) -> None:
        obj.config[self.__name__] = value


class Config(dict):  # type: ignore[type-arg]
    """The app's configuration: a dict with ways to fill it.

    Only upper-case keys are taken from objects, files and mappings, so
    helper names in a config module don't leak in.

    :param root_path: Relative file names are resolved against it.
    :param defaults: Initial values.

    .. versionadded:: 0.1
    """

    def __init__(
        self, root_path: str | os.PathLike[str] = ".", defaults: dict[str, t.Any] | None = None
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = os.fspath(root_path)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load a Python config file named by an environment variable.

        :param silent: Return ``False`` instead of raising when the variable is unset.
        """
        rv = os.environ.get(variable_name)
        if not rv:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and"
                " so no configuration could be loaded. Set it to the path of"
                " a configuration file."
            )
        return self.from_pyfile(rv, silent=silent)

    def from_prefixed_env(
        self, prefix: str | None = None, *, loads: t.Callable[[str], t.Any] = json.loads
    ) -> bool:
        """Load ``PREFIX_KEY`` environment variables as ``KEY``.

        Values are parsed with ``loads`` (JSON by default) and kept as strings
        when that fails; ``PREFIX_A__B`` sets ``config["A"]["B"]``.

        :param prefix: ``ERLEN`` by default; ``FLASK`` under the compat
            layer, as a Flask app expects.
        """
        if prefix is None:
            # The compat layer's flask module has __shim__; a real Flask's is
            # not Erlen's business.
            shim = sys.modules.get("flask")
            prefix = "FLASK" if shim is not None and hasattr(shim, "__shim__") else "ERLEN"
        prefix = f"{prefix}_"
        for key in sorted(os.environ):
            if not key.startswith(prefix):
                continue
            value: t.Any = os.environ[key]
            key = key[len(prefix) :]
            try:
                value = loads(value)
            except Exception:
                pass
            if "__" not in key:
                self[key] = value
                continue
            current: dict[str, t.Any] = self
            *parts, tail = key.split("__")
            for part in parts:
                if part not in current:
                    current[part] = {}
                current = current[part]
            current[tail] = value
        return True

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Execute a Python file and load its upper-case names.

        :param silent: Return ``False`` when the file is missing.
        """
        filename = os.path.join(self.root_path, filename)
        d = types.ModuleType("config")
        d.__file__ = filename
        try:
            with open(filename, mode="rb") as config_file:
                exec(compile(config_file.read(), filename, "exec"), d.__dict__)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        self.from_object(d)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the upper-case attributes of an object, class or module (or its import path)."""
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: t.Callable[[t.IO[t.Any]], t.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a file with ``load`` (``json.load``, ``tomllib.load`` with ``text=False``)."""
        filename = os.path.join(self.root_path, filename)
        try:
            with open(filename, "r" if text else "rb") as f:
                obj = load(f)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        return self.from_mapping(obj)

    def from_mapping(self, mapping: t.Mapping[str, t.Any] | None = None, **kwargs: t.Any) -> bool:
        """Load the upper-case keys of a mapping and keyword arguments."""
        mappings: dict[str, t.Any] = {}
        if mapping is not None:
            mappings.update(mapping)
        mappings.update(kwargs)
        for key, value in mappings.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """The keys starting with ``namespace`` (``"IMAGE_STORE_"``), as a dict."""
        rv = {}
        for k, v in self.items():
            if not k.startswith(namespace):
                continue
            key = k[len(namespace) :] if trim_namespace else k
            if lowercase:
                key = key.lower()
            rv[key] = v
        return rv

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
