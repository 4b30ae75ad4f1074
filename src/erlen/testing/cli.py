"""The CLI runner for tests: :class:`ErlenCliRunner` (``app.test_cli_runner()``)."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from ..app import Erlen

__all__ = ["ErlenCliRunner"]


class ErlenCliRunner:
    """Invoke the app's click commands in tests (``app.test_cli_runner()``).

    It wraps a :class:`click.testing.CliRunner` (other attributes, such as
    ``isolated_filesystem``, are the wrapped runner's) and hands every
    command this app, so commands load it instead of looking for one.

    :param app: The app the commands run against.
    :param kwargs: Passed to :class:`click.testing.CliRunner`.
    """

    def __init__(self, app: Erlen, **kwargs: t.Any) -> None:
        from click.testing import CliRunner

        self.app = app
        self._runner = CliRunner(**kwargs)

    def __getattr__(self, name: str) -> t.Any:
        # Only reached for names this class lacks: the wrapped runner's API.
        return getattr(self.__dict__["_runner"], name)

    def invoke(self, cli: t.Any = None, args: t.Any = None, **kwargs: t.Any) -> t.Any:
        """Run a command and return click's ``Result``.

        :param cli: The command (default: ``app.cli``).
        :param args: The command line arguments, a list or a string.
        :param kwargs: Passed to :meth:`click.testing.CliRunner.invoke`;
            without ``obj``, a :class:`~erlen.cli.ScriptInfo` that returns
            this app is given.
        """
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            from ..cli import ScriptInfo

            app = self.app
            # set_debug_flag=False: running a command must not reset the
            # debug setting the test gave the app.
            kwargs["obj"] = ScriptInfo(create_app=lambda: app, set_debug_flag=False)
        return self._runner.invoke(cli, args, **kwargs)
