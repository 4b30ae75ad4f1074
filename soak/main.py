"""The App Engine-style entry point: ``gunicorn main:app`` from this folder."""

from apps import create_app

app = create_app("erlen")
