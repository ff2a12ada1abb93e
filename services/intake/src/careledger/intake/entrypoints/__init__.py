"""Entrypoints: HTTP routes, NATS request/reply, the command line. Thin by rule."""
