"""The ledger's domain: pure rules and projections. Imports only the standard library,
the contracts and the deadline engine; no DuckDB, NATS or HTTP (a test checks it)."""
