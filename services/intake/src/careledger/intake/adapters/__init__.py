"""Adapters: the real I/O behind the application ports (JetStream log, the shared vault)."""
