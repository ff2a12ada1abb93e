"""Application: handlers that load facts, decide and append, behind ports."""
