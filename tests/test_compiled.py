"""The optional compiled core: which flavour runs, and the build hook that makes it.

The suite runs against the pure-Python modules (``python3 dev.py test``) and
against the compiled ones (``python3 dev.py test --compiled``, which sets
``ERLEN_EXPECT_FLAVOUR=compiled``); :func:`test_the_expected_flavour_runs`
fails either run when the other flavour is what got imported, so a broken
build can't pass by falling back to the ``.py`` files, nor stray extension
modules in ``src/erlen`` hide the edited sources.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import erlen
from erlen import _compiled
from erlen._compiled import MODULES, compiled_modules, flavour, mypyc_attr

ROOT = Path(__file__).resolve().parent.parent


def _load_setup() -> types.ModuleType:
    # Loaded under another name than __main__, so it defines its helpers and builds nothing.
    spec = importlib.util.spec_from_file_location("erlen_setup_script", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


setup_script = _load_setup()


# -- which flavour runs ------------------------------------------------------------


def test_the_expected_flavour_runs() -> None:
    expected = os.environ.get("ERLEN_EXPECT_FLAVOUR", "pure")
    assert flavour() == expected, compiled_modules()
    if expected == "compiled":
        # The whole package comes from the build, not half from the checkout.
        assert not Path(erlen.__file__).is_relative_to(ROOT / "src")


def test_compiled_modules_tells_an_extension_module_from_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = MODULES[0]
    module = sys.modules[name] if name in sys.modules else importlib.import_module(name)
    monkeypatch.setattr(module, "__file__", "/x/matcher.cpython-311-x86_64-linux-gnu.so")
    assert name in compiled_modules()
    monkeypatch.setattr(module, "__file__", "/x/matcher.py")
    assert name not in compiled_modules()


@pytest.mark.parametrize(
    ("compiled", "expected"), [(0, "pure"), (1, "mixed"), (len(MODULES), "compiled")]
)
def test_flavour_names_a_partial_build(
    monkeypatch: pytest.MonkeyPatch, compiled: int, expected: str
) -> None:
    monkeypatch.setattr(_compiled, "compiled_modules", lambda: list(MODULES[:compiled]))
    assert flavour() == expected


def test_mypyc_attr_is_a_no_op_at_run_time() -> None:
    class C:
        pass

    assert mypyc_attr(native_class=False)(C) is C
    assert mypyc_attr("allow_interpreted_subclasses")(C) is C


# -- what compiled modules must keep of Python's behaviour ---------------------------


def test_the_session_serializer_stays_a_python_class(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import json

    from erlen.signing import _CookieSerializer

    serializer = _CookieSerializer(["key"], "salt", json, "hmac", hashlib.sha1)
    # Its methods patched on the class are the ones called (tests fix the clock so).
    monkeypatch.setattr(_CookieSerializer, "get_timestamp", lambda self: 1_700_000_000)
    token = serializer.dumps({"a": 1})
    assert serializer.loads(token, return_timestamp=True)[1].timestamp() == 1_700_000_000
    # Attributes can be set on it, and a subclass can override a method.
    serializer.extra = "kept"  # type: ignore[attr-defined]
    assert serializer.extra == "kept"  # type: ignore[attr-defined]


def test_a_subclass_of_the_session_serializer_works_only_pure() -> None:
    # mypyc's methods of a compiled class check that self is the class itself
    # (for a non-native class, allow_interpreted_subclasses doesn't change
    # that); _CookieSerializer is private, and nothing in Erlen subclasses it.
    import hashlib
    import json

    from erlen.signing import _CookieSerializer

    class Fixed(_CookieSerializer):
        def get_timestamp(self) -> int:
            return 1_600_000_000

    if "erlen.signing" in compiled_modules():
        with pytest.raises(TypeError, match="_CookieSerializer object expected"):
            Fixed(["key"], "salt", json, "hmac", hashlib.sha1)
    else:
        fixed = Fixed(["key"], "salt", json, "hmac", hashlib.sha1)
        assert fixed.loads(fixed.dumps({}), return_timestamp=True)[1].timestamp() == 1_600_000_000


def test_lazy_sha1_is_hashlib_sha1() -> None:
    import hashlib

    from erlen.signing import _LazySha1

    class Holder:
        digest = _LazySha1()

    assert Holder.digest is hashlib.sha1
    assert Holder().digest is hashlib.sha1


# -- setup.py: pure unless asked, the compiled build when asked ---------------------


def test_setup_compiles_exactly_the_modules_of_erlen_compiled() -> None:
    assert setup_script.compiled_module_names() == list(MODULES)
    for path in setup_script.module_paths(MODULES):
        assert (ROOT / path).is_file(), path


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, False), ({"ERLEN_COMPILE": ""}, False), ({"ERLEN_COMPILE": "0"}, False)]
    + [({"ERLEN_COMPILE": "1"}, True), ({"ERLEN_COMPILE": " 1 "}, True)],
)
def test_erlen_compile_chooses_the_build(environ: dict[str, str], expected: bool) -> None:
    assert setup_script.wants_compiled(environ) is expected


@pytest.mark.parametrize("value", ["yes", "true", "2"])
def test_an_unclear_erlen_compile_is_refused(value: str) -> None:
    with pytest.raises(SystemExit, match="ERLEN_COMPILE must be 1"):
        setup_script.wants_compiled({"ERLEN_COMPILE": value})


class _Calls:
    """Stands in for setuptools.setup and mypyc's mypycify, recording their calls."""

    def __init__(self) -> None:
        self.setup: list[dict[str, Any]] = []
        self.mypycify: list[tuple[list[str], dict[str, Any]]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch, *, with_mypyc: bool) -> None:
        import setuptools

        monkeypatch.setattr(setuptools, "setup", lambda **kw: self.setup.append(kw))
        if with_mypyc:
            build = types.ModuleType("mypyc.build")

            def mypycify(paths: list[str], **kwargs: Any) -> list[str]:
                self.mypycify.append((paths, kwargs))
                return ["<extensions>"]

            build.mypycify = mypycify  # type: ignore[attr-defined]
            monkeypatch.setitem(sys.modules, "mypyc", types.ModuleType("mypyc"))
            monkeypatch.setitem(sys.modules, "mypyc.build", build)
        else:
            # None in sys.modules: the import raises ImportError, as without mypy.
            monkeypatch.setitem(sys.modules, "mypyc", None)
            monkeypatch.setitem(sys.modules, "mypyc.build", None)


def test_without_erlen_compile_the_build_is_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _Calls()
    calls.install(monkeypatch, with_mypyc=True)
    monkeypatch.delenv("ERLEN_COMPILE", raising=False)
    monkeypatch.setattr(sys, "argv", ["setup.py", "bdist_wheel"])
    setup_script.main()
    assert calls.setup == [{}]
    assert calls.mypycify == []


def test_erlen_compile_builds_the_modules_with_mypyc(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _Calls()
    calls.install(monkeypatch, with_mypyc=True)
    monkeypatch.setenv("ERLEN_COMPILE", "1")
    monkeypatch.setattr(sys, "argv", ["setup.py", "bdist_wheel", "--dist-dir", "/tmp/x"])
    setup_script.main()
    assert calls.setup == [{"ext_modules": ["<extensions>"]}]
    ((paths, kwargs),) = calls.mypycify
    assert paths == [*setup_script.MYPY_OPTIONS, *setup_script.module_paths(MODULES)]
    assert kwargs["group_name"] == "erlen"


@pytest.mark.parametrize("command", ["egg_info", "dist_info", "sdist"])
def test_metadata_and_sdist_compile_nothing(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    calls = _Calls()
    calls.install(monkeypatch, with_mypyc=True)
    monkeypatch.setenv("ERLEN_COMPILE", "1")
    monkeypatch.setattr(sys, "argv", ["setup.py", command, "--output-dir", "x"])
    setup_script.main()
    assert calls.setup == [{"ext_modules": []}]
    assert calls.mypycify == []


def test_the_compiler_is_a_build_requirement_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # PEP 517's get_requires_for_build_wheel runs "setup.py egg_info".
    calls = _Calls()
    calls.install(monkeypatch, with_mypyc=False)
    monkeypatch.setenv("ERLEN_COMPILE", "1")
    monkeypatch.setattr(sys, "argv", ["setup.py", "egg_info"])
    setup_script.main()
    assert calls.setup == [{"setup_requires": [setup_script.MYPY_REQUIREMENT]}]


def test_a_compiled_build_without_the_compiler_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _Calls()
    calls.install(monkeypatch, with_mypyc=False)
    monkeypatch.setenv("ERLEN_COMPILE", "1")
    monkeypatch.setattr(sys, "argv", ["setup.py", "bdist_wheel"])
    with pytest.raises(SystemExit, match="builds with mypyc"):
        setup_script.main()
    assert calls.setup == []


# -- dev.py's build command -------------------------------------------------------------


def test_dev_build_asks_for_the_compiled_flavour() -> None:
    spec = importlib.util.spec_from_file_location("erlen_dev_for_build", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    assert dev.COMMANDS["build"] is dev.build
    # Only the compiled wheel is built here; a pure one is `python -m build`'s.
    with pytest.raises(SystemExit, match="usage: python3 dev.py build --compiled"):
        dev.build([])
    # The inputs of a build are the files setup.py and pyproject.toml read.
    for name in dev.BUILD_INPUTS:
        assert (ROOT / name).is_file(), name
