"""keys.KEYS and the bindings agree: same default keys for the same id, and no row without a
binding (the help screen, the palette and the keymap check all read KEYS)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode

import shiftdeck
from shiftdeck.keys import BY_ID, KEYS, keymap_problems, split_keys


def _bindings() -> list[tuple[str, Binding]]:
    """(class name, binding) for every Binding with an id declared in shiftdeck's app,
    screens and widgets."""
    found = []
    for module_info in pkgutil.walk_packages(shiftdeck.__path__, "shiftdeck."):
        name = module_info.name
        if not (name == "shiftdeck.app" or name.startswith(("shiftdeck.screens.",
                                                             "shiftdeck.widgets."))):
            continue
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, DOMNode) and cls.__module__ == name:
                for binding in cls.__dict__.get("BINDINGS", []):
                    if isinstance(binding, Binding) and binding.id:
                        found.append((f"{name}.{cls.__name__}", binding))
    return found


def test_the_walk_finds_the_bindings():
    ids = {binding.id for _, binding in _bindings()}
    assert {"quit", "cursor_down", "ack_alert", "expire_silence", "close_help"} <= ids


def test_every_binding_in_keys_has_the_same_default_keys():
    wrong = [f"{where}: {b.id} is {b.key!r}, KEYS says {BY_ID[b.id].keys!r}"
             for where, b in _bindings()
             if b.id in BY_ID and split_keys(b.key) != split_keys(BY_ID[b.id].keys)]
    assert wrong == []


def test_every_keys_row_is_a_binding_somewhere():
    bound = {binding.id for _, binding in _bindings()}
    assert [row.id for row in KEYS if row.id not in bound] == []


def test_keys_rows_have_unique_ids_and_the_defaults_do_not_collide():
    assert len(BY_ID) == len(KEYS)
    assert keymap_problems({}) == []
