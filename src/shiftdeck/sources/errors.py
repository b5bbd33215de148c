"""The error every source raises (light: imported before httpx is)."""


class SourceError(Exception):
    """A source could not be read; str() is a short reason a person can act on."""
