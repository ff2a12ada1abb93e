"""The local stack: an embedded nats-server process and the CareLedger services."""
