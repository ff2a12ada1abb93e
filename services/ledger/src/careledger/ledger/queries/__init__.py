"""The read side: the questions auditors ask of the registers and the log."""
