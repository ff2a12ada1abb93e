"""The vocabularies whose order or grouping carries a rule, read from their Literal types."""

from typing import get_args

from careledger.contracts.vocabulary import (
    ESCALATION_ORDER,
    INTERNAL_LEVELS,
    AffirmativeMechanism,
    ConsentMechanism,
)


def test_the_internal_levels_are_the_lowest_rungs_of_the_escalation_order() -> None:
    lowest = ESCALATION_ORDER[: len(INTERNAL_LEVELS)]

    assert set(lowest) == INTERNAL_LEVELS
    assert lowest[0] == "frontline"
    assert ESCALATION_ORDER[-1] == "court"


def test_a_caller_may_claim_every_affirmative_mechanism_and_three_that_are_not_consent() -> None:
    claimable = set(get_args(ConsentMechanism))

    assert claimable > set(get_args(AffirmativeMechanism))
    assert claimable - set(get_args(AffirmativeMechanism)) == {
        "pre_ticked_box",
        "silence",
        "inactivity",
    }
