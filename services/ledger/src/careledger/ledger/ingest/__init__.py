"""The write side: a batch of log messages applied to the store, exactly once."""
