"""The fault suite (docs/reliability.md): thousands of commands through intake while the
ledger and intake are SIGKILLed and nats-server restarted; every 2xx exactly once.

``make test`` runs the short version; ``make chaos`` sets ``CARELEDGER_CHAOS_SCALE=long``
(ten times the commands and the faults). ``CARELEDGER_CHAOS_SEED`` replays a run's choices
(stories, transports, fault order).
"""

from pathlib import Path

import pytest

from tests.chaos.harness import Plan, run_chaos

pytestmark = pytest.mark.integration


async def test_under_crashes_and_restarts_every_accepted_command_is_kept_exactly_once(
    tmp_path: Path,
) -> None:
    plan = Plan.from_env()
    tally = await run_chaos(tmp_path, plan)
    print()
    print(tally.render())
    print(f"  logs and files: {tmp_path}")

    assert not tally.problems, tally.render()
    assert tally.faults == {
        "ledger-kill": plan.ledger_kills,
        "intake-kill": plan.intake_kills,
        "nats-restart": plan.nats_restarts,
    }
    assert tally.faults_after_load == 0, "some faults came after the load: raise the load"
    crashes = [i for i in tally.incidents if "by itself" in i.what]
    assert not crashes, "\n".join(f"{i.service}: {i.what}\n{i.log}" for i in crashes)
    assert tally.sent >= plan.commands
    assert tally.accepted + tally.rejected + tally.unknown == tally.sent
    assert tally.unknown == 0 and tally.final_5xx == 0
    assert tally.in_stream == tally.in_ledger == tally.accepted + tally.unknown_landed
    assert tally.retried > 0, "the faults never made a caller retry: they proved nothing"
