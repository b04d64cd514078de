"""The `demo` command: the whole call center against the built-in Asterisk simulator, with a live view."""
