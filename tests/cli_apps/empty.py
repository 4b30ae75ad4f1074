"""A module without any app."""
