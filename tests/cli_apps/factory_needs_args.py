from erlen import Erlen


def create_app(config: str) -> Erlen:
    return Erlen(config)
