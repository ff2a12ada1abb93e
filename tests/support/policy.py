"""The shipped deadline policy, loaded once for the tests that need one (no operator files)."""

import functools

from careledger.ledger.deadlines import Policy, load_policy


@functools.cache
def shipped_policy() -> Policy:
    return load_policy({})
