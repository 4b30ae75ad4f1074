import click

from erlen import Erlen, current_app

app = Erlen("commands")


@app.cli.command("greet")
@click.argument("name", default="World")
def greet(name: str) -> None:
    """Greet someone from inside the app context."""
    click.echo(f"Hello, {name}, from {current_app.name}!")


@app.cli.command(with_appcontext=False)
def plain() -> None:
    """A command that doesn't need the app."""
    from erlen.globals import _cv

    click.echo(f"context active: {_cv.get(None) is not None}")
