"""Adapters: the real I/O behind the application ports (JetStream, KV vault)."""
