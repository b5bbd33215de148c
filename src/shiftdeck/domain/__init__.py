"""Pure logic: no I/O, no textual. Everything here is a frozen dataclass or a function."""
