"""I/O: talking to Alertmanager, Prometheus and friends. No textual here."""
