from erlen import Erlen


def make_app() -> Erlen:
    return Erlen("made")
