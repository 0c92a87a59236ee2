"""The HTTP side: the JSON API (and, to come, the operator console)."""
