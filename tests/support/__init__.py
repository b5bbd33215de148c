"""Helpers shared by the tests (and by bench/, which puts this directory on sys.path and imports
`servers` and `pty_driver` by bare name). Test modules import from here, never from each other:
tests/test_support_imports.py checks it."""
