from erlen import Erlen

not_an_app = 42


def create_app(name: str = "factory", *, debug: bool = False) -> Erlen:
    app = Erlen(name)
    app.config["FROM_FACTORY"] = debug
    return app


def needs_two(a: str, b: str) -> Erlen:
    return Erlen(f"{a}-{b}")


def broken(a: str = "x") -> Erlen:
    return len(a, a)  # a TypeError raised inside the factory


def gives_none() -> None:
    return None
