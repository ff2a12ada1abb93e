"""The deadline policy of a process: regimes, calendars and body-deadline rules, loaded
together from the shipped files and the operator's (named by the environment), once, by
the composition root, and passed to whatever computes or reads a deadline."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from careledger.ledger.deadlines._bodies import ENV_FILE, BodyRule, load_body_rules
from careledger.ledger.deadlines._calendars import ENV_DIR as CALENDARS_DIR
from careledger.ledger.deadlines._calendars import Calendars, load_calendars
from careledger.ledger.deadlines._catalogue import ENV_YEARS
from careledger.ledger.deadlines._policy import Regime
from careledger.ledger.deadlines._regimes import ENV_DIR as REGIMES_DIR
from careledger.ledger.deadlines._regimes import load_regimes

VARIABLES = (REGIMES_DIR, CALENDARS_DIR, ENV_YEARS, ENV_FILE)


@dataclass(frozen=True)
class Policy:
    """``sources``: the variables it was loaded with, so that another process (a rebuild
    worker) loads the same policy."""

    regimes: tuple[Regime, ...]
    calendars: Calendars
    body_rules: tuple[BodyRule, ...]
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)


def load_policy(environ: Mapping[str, str] | None = None) -> Policy:
    """The shipped policy plus the operator's files named in ``environ`` (the process's
    environment if not given). A malformed file raises ``PolicyFileError``."""
    env = os.environ if environ is None else environ
    sources = {name: env[name] for name in VARIABLES if env.get(name)}
    return Policy(
        regimes=tuple(load_regimes(environ=sources)),
        calendars=load_calendars(environ=sources),
        body_rules=load_body_rules(environ=sources),
        sources=sources,
    )
