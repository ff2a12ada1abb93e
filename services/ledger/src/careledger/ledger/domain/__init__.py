"""The ledger's domain: pure rules and projections. Imports only the standard library,
the contracts, the deadline engine and Ed25519 (signed notes); no DuckDB, NATS or HTTP (a
test checks it)."""
