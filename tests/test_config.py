"""Config loading."""

from __future__ import annotations

import json

import pytest

from erlen import Config, Erlen


class Settings:
    SECRET = "s"
    lower = "ignored"


def test_from_object_and_string(tmp_path):
    c = Config(tmp_path)
    c.from_object(Settings)
    assert c["SECRET"] == "s" and "lower" not in c
    c.from_object("json.decoder")  # upper-case names of a module
    assert "JSONArray" not in c


def test_from_pyfile_and_envvar(tmp_path, monkeypatch):
    (tmp_path / "cfg.py").write_text("DEBUG = True\nvalue = 1\n")
    c = Config(tmp_path)
    assert c.from_pyfile("cfg.py")
    assert c["DEBUG"] is True and "value" not in c
    assert c.from_pyfile("missing.py", silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        c.from_pyfile("missing.py")
    monkeypatch.setenv("MY_CFG", str(tmp_path / "cfg.py"))
    assert Config(tmp_path).from_envvar("MY_CFG")
    monkeypatch.delenv("MY_CFG")
    assert Config(tmp_path).from_envvar("MY_CFG", silent=True) is False
    with pytest.raises(RuntimeError, match="MY_CFG"):
        Config(tmp_path).from_envvar("MY_CFG")


def test_from_file(tmp_path):
    import tomllib

    (tmp_path / "c.json").write_text(json.dumps({"A": 1, "b": 2}))
    (tmp_path / "c.toml").write_text("B = 'x'\n")
    c = Config(tmp_path)
    c.from_file("c.json", load=json.load)
    c.from_file("c.toml", load=tomllib.load, text=False)
    assert c["A"] == 1 and c["B"] == "x" and "b" not in c
    assert c.from_file("none.json", load=json.load, silent=True) is False
    with pytest.raises(OSError):
        c.from_file("none.json", load=json.load)


def test_from_prefixed_env(monkeypatch):
    monkeypatch.setenv("ERLEN_SECRET_KEY", "plain string")
    monkeypatch.setenv("ERLEN_NUM", "42")
    monkeypatch.setenv("ERLEN_DB__HOST", '"db"')
    monkeypatch.setenv("ERLEN_DB__PORT", "5432")
    monkeypatch.setenv("OTHER_X", "1")
    c = Config(".")
    c.from_prefixed_env()
    assert c["SECRET_KEY"] == "plain string"
    assert c["NUM"] == 42
    assert c["DB"] == {"HOST": "db", "PORT": 5432}
    assert "X" not in c


def test_from_mapping_and_namespace():
    c = Config(".")
    c.from_mapping({"IMAGE_STORE_TYPE": "fs", "x": 1}, IMAGE_STORE_PATH="/p")
    assert "x" not in c
    assert c.get_namespace("IMAGE_STORE_") == {"type": "fs", "path": "/p"}
    assert c.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False) == {
        "IMAGE_STORE_TYPE": "fs",
        "IMAGE_STORE_PATH": "/p",
    }
    assert repr(c).startswith("<Config")


def test_app_config_instance_relative(tmp_path, monkeypatch):
    app = Erlen(
        "cfg",
        root_path=str(tmp_path),
        instance_path=str(tmp_path / "inst"),
        instance_relative_config=True,
    )
    assert app.config.root_path == str(tmp_path / "inst")
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    assert Erlen("cfg2", root_path=str(tmp_path)).debug is True
    a = Erlen("cfg3", root_path=str(tmp_path))
    a.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert a.permanent_session_lifetime.total_seconds() == 60
