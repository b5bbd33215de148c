"""Small service objects the app wires together and injects into screens: no textual here,
no UI state; each does one job (the journal's writes, ack extensions, runbooks, metrics, the
clipboard)."""
