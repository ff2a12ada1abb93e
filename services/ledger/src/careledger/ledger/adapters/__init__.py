"""Adapters: JetStream consumer and dead letters, the DuckDB store."""
