"""CareLedger ledger: the event log, kept as a tamper-evident DuckDB audit trail."""
