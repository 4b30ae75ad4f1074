"""erlen.compat.cli's show_server_banner: what it prints, and when it stays quiet."""

from __future__ import annotations

import pytest

from erlen.compat.cli import show_server_banner
from erlen.serving import RUN_MAIN_ENV


@pytest.fixture
def not_reloader_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUN_MAIN_ENV, raising=False)


@pytest.mark.usefixtures("not_reloader_child")
@pytest.mark.parametrize(
    ("debug", "path", "out"),
    [
        (False, None, " * Debug mode: off\n"),
        (None, "app", " * Serving Erlen app 'app'\n"),
        (None, None, ""),
    ],
)
def test_banner_prints_what_it_knows(
    capsys: pytest.CaptureFixture[str], debug: bool | None, path: str | None, out: str
) -> None:
    show_server_banner(debug, path)  # type: ignore[arg-type]
    assert capsys.readouterr().out == out


def test_banner_is_quiet_in_the_reloader_child(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUN_MAIN_ENV, "true")
    show_server_banner(True, "app")
    assert capsys.readouterr().out == ""
