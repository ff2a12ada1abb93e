"""``make bench``: CareLedger's speed as a ratio to this machine's own ceiling.

Not a test suite (pytest collects only ``tests/``). ``python -m bench.run`` is the entry;
each measurement runs in a fresh child process (``python -m bench.<module> '<json>'``)
so that one figure's heap, threads and imports do not bend the next.
"""
