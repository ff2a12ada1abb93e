"""Application: applying a batch of log messages to the store, exactly once."""
