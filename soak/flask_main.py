"""The same app on Flask, for the side-by-side soak: ``gunicorn flask_main:app``."""

from apps import create_app

app = create_app("flask")
