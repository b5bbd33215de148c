"""Sanitising once per distinct string.

Label names, label values and annotation texts repeat across thousands of alerts (every
`severity=warning`, every shared summary). A CleanCache remembers what each raw string cleans
to, and hands every alert the same cleaned (and interned) string object. It is bounded: a store
that outgrows its limit is emptied and refills with what the next polls bring, so a storm of
unique pod names costs at most one `clean()` per string per refill, never unbounded memory.
"""

from __future__ import annotations

import sys

from .sanitize import MAX_FIELD, clean, clean_mapping

NAME_LIMIT = 1024
"""Label and annotation names are cut at this many characters (as `clean_mapping` does)."""

URL_LIMIT = 8192
"""Generator URLs are cut at this many characters."""

DEFAULT_ENTRIES = 8_192
"""Strings each store keeps before it is emptied. What it saves is the strings many alerts
share (names, severities, namespaces): a few hundred, back after each emptying. The unique
ones (pod names, descriptions) only pass through; in the storm bench a 65,536-entry store
filled and emptied every ~70 s and held ~130k strings at its peak."""


class CleanCache:
    """Cleaned text by raw text: one store for names (cut at NAME_LIMIT), one for values, one
    for URLs (URL_LIMIT); and one tuple object per distinct tuple of clean texts."""

    __slots__ = ("_names", "_texts", "_urls", "_tuples", "max_entries")

    def __init__(self, max_entries: int = DEFAULT_ENTRIES) -> None:
        self.max_entries = max_entries
        self._names: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._urls: dict[str, str] = {}
        self._tuples: dict[tuple[str, ...], tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._names) + len(self._texts) + len(self._urls) + len(self._tuples)

    def name(self, raw: object) -> str:
        found = self._names.get(raw) if type(raw) is str else None
        return found if found is not None else self._miss(self._names, raw, NAME_LIMIT)

    def text(self, raw: object) -> str:
        found = self._texts.get(raw) if type(raw) is str else None
        return found if found is not None else self._miss(self._texts, raw, MAX_FIELD)

    def url(self, raw: object) -> str:
        """A generator URL: one per rule, shared by all of its alerts."""
        found = self._urls.get(raw) if type(raw) is str else None
        return found if found is not None else self._miss(self._urls, raw, URL_LIMIT)

    def shared(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        """The one tuple equal to `texts` (clean already): an alert's receivers, its
        instances, the same for thousands of alerts."""
        found = self._tuples.get(texts)
        if found is not None:
            return found
        if len(self._tuples) >= self.max_entries:
            self._tuples.clear()
        self._tuples[texts] = texts
        return texts

    def mapping(self, raw: object) -> dict[str, str]:
        """Like `sanitize.clean_mapping(raw, intern=True)`, with each distinct string cleaned
        once: a non-mapping gives an empty map."""
        if not isinstance(raw, dict):
            return {}
        names, texts = self._names, self._texts
        cleaned = {}
        for key, value in raw.items():
            name = names.get(key) if type(key) is str else None
            if name is None:
                name = self._miss(names, key, NAME_LIMIT)
            text = texts.get(value) if type(value) is str else None
            if text is None:
                text = self._miss(texts, value, MAX_FIELD)
            cleaned[name] = text
        return cleaned

    def _miss(self, store: dict[str, str], raw: object, limit: int) -> str:
        cleaned = sys.intern(clean(raw, limit))
        if type(raw) is str:
            if len(store) >= self.max_entries:
                store.clear()
            # Keyed by the cleaned object when it equals the raw text, so the store keeps no
            # second copy of the string alive.
            store[cleaned if cleaned == raw else raw] = cleaned
        return cleaned


def clean_map(raw: object, cache: CleanCache | None) -> dict[str, str]:
    """`cache.mapping(raw)`, or without a cache `clean_mapping(raw, intern=True)`."""
    return cache.mapping(raw) if cache is not None else clean_mapping(raw, intern=True)


def clean_url(raw: object, cache: CleanCache | None) -> str:
    """`cache.url(raw)`, or without a cache `clean(raw, URL_LIMIT)`."""
    return cache.url(raw) if cache is not None else clean(raw, URL_LIMIT)


def shared(texts: tuple[str, ...], cache: CleanCache | None) -> tuple[str, ...]:
    """`cache.shared(texts)`, or `texts` without a cache."""
    return cache.shared(texts) if cache is not None else texts
