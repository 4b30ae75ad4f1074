from erlen import Erlen

app = Erlen("default_app")


@app.cli.command()
def hello() -> None:
    print("hello from default app")
