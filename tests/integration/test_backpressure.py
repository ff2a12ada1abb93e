"""A stopped ledger does not stop intake; restarted, it catches up with nothing lost."""

import asyncio
import uuid
from pathlib import Path

from tests.integration.conftest import RunningIntake
from tests.support.ledger_process import LedgerProcess
from tests.support.scenario import Story
from tests.support.streams import stored_messages

STORIES = 40


async def test_intake_keeps_accepting_while_the_ledger_is_down_and_the_ledger_catches_up(
    intake: RunningIntake, tmp_path: Path
) -> None:
    ledger = LedgerProcess(intake.server.access("ledger"), tmp_path / "ledger.duckdb").start()
    first = Story()
    await intake.post("open-contact", dict(first.commands())["open-contact"], "before-stop")
    await asyncio.to_thread(ledger.wait_caught_up, 1)
    ledger.stop()

    statuses = []
    for _ in range(STORIES):
        for command, payload in Story().commands()[:3]:
            response = await intake.post(command, payload, f"down-{uuid.uuid4()}")
            statuses.append(response.status_code)
    last = (await stored_messages(intake.server))[-1].sequence

    ledger.start()
    try:
        behind = ledger.get("/v1/ledger/position")
        caught_up = await asyncio.to_thread(ledger.wait_caught_up, last)
        events = ledger.get("/v1/registers/contacts?limit=1")["total"]
    finally:
        ledger.stop()
    assert statuses == [201] * (3 * STORIES)
    assert behind["stream_sequence"] == last == 1 + 3 * STORIES
    assert behind["ledger_sequence"] + behind["lag"] == last
    assert (caught_up["ledger_sequence"], caught_up["lag"]) == (last, 0)
    assert events == 1 + STORIES
