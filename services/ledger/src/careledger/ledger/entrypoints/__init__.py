"""Entrypoints: the service, its HTTP API and the careledger command line. Thin."""
