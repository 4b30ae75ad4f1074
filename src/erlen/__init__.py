"""Erlen."""
