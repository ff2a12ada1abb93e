"""The attack suite: every attack on the trail that issue 16 lists, and its neighbours, tried
against real nats-server processes and real services. Each test is one attack and passes
only when the attack is refused; the session ends with how many were tried and how many
succeeded (any failed test here is an attack that succeeded)."""

from collections import Counter

import pytest

_OUTCOMES: Counter[str] = Counter()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in item.nodeid:
            item.add_marker(pytest.mark.attack)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/security/" not in report.nodeid:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _OUTCOMES["tried"] += 1
        if report.failed:
            _OUTCOMES["succeeded"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _OUTCOMES["tried"]:
        terminalreporter.write_line(
            f"attack suite: {_OUTCOMES['tried']} attacks tried, {_OUTCOMES['succeeded']} succeeded"
        )


# The in-process intake of the integration tests, for the HTTP attacks on it.
from tests.integration.conftest import intake, master_key  # noqa: E402, F401
