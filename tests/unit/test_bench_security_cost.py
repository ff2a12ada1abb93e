"""The security cost make bench reports: the median of back-to-back secure/insecure ratios,
met when it is at most 15%."""

import pytest
from bench.security import COST_LIMIT, cost


def test_the_cost_is_one_minus_the_median_pairwise_ratio() -> None:
    judged = cost([90.0, 80.0, 100.0], [100.0, 100.0, 100.0])
    assert judged["cost"] == pytest.approx(0.10)
    assert judged["met"] is True


def test_a_cost_above_the_limit_is_not_met() -> None:
    assert pytest.approx(0.15) == COST_LIMIT
    assert cost([80.0], [100.0])["met"] is False


def test_pairs_not_medians_decide_when_the_machine_drifts() -> None:
    """Runs that slow down together (A B A B) cost nothing, whatever their medians say."""
    judged = cost([100.0, 50.0, 50.0], [100.0, 50.0, 50.0])
    assert judged["cost"] == pytest.approx(0.0)
