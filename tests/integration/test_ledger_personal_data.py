"""Personal data is shown at read time, to a DPO only, for a stated purpose, and every
such read is recorded before anything is revealed."""

import asyncio
import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from careledger.ledger.adapters.access_log import ACCESS_STREAM
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.settings import Settings
from tests.integration.conftest import RunningIntake
from tests.support.nats import service_settings
from tests.support.scenario import PERSONAL, Story
from tests.support.streams import stored_messages

TOKENS = {"dpo": "dpo-token-0123456789", "auditor": "auditor-token-0123456789"}


def auditors_file(tmp_path: Path) -> Path:
    path = tmp_path / "auditors.toml"
    entries = [
        ("dpo-maria", ["auditor", "dpo"], TOKENS["dpo"]),
        ("auditor-jon", ["auditor"], TOKENS["auditor"]),
    ]
    path.write_text(
        "".join(
            f'[[auditor]]\nname = "{name}"\nroles = {json.dumps(roles)}\n'
            f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n\n'
            for name, roles, token in entries
        )
    )
    return path


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


async def caught_up(client: AsyncTestClient[Any], sequence: int) -> None:
    for _ in range(100):
        position = (await client.get("/v1/ledger/position", headers=bearer("auditor"))).json()
        if position["ledger_sequence"] >= sequence:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"ledger stuck at {position}")


async def test_only_a_dpo_with_a_purpose_sees_personal_data_and_the_read_is_recorded(
    intake: RunningIntake, tmp_path: Path
) -> None:
    story = Story()
    for command, payload in story.commands()[:3]:
        assert (await intake.post(command, payload, str(uuid.uuid4()))).status_code == 201
    settings = Settings(
        **service_settings(intake.server, "ledger"),
        db_path=tmp_path / "l.duckdb",
        auditors_file=auditors_file(tmp_path),
        checkpoint_key_file=intake.principals.checkpoint_key_file,
    )
    environ = {"CARELEDGER_MASTER_KEY": base64.b64encode(intake.master_key).decode()}
    route = f"/v1/subjects/{story.subject_id}/personal-data"
    async with AsyncTestClient(LedgerService(settings, environ).http_app()) as ledger:
        await caught_up(ledger, 3)
        anonymous = await ledger.get("/v1/registers/complaints")
        as_auditor = await ledger.get(
            route + "?purpose=complaint+review", headers=bearer("auditor")
        )
        no_purpose = await ledger.get(route, headers=bearer("dpo"))
        as_dpo = await ledger.get(route + "?purpose=access+request+art+15", headers=bearer("dpo"))

        erase = dict(story.commands())["erase-subject"]
        assert (await intake.post("erase-subject", erase, "erase-key-1")).status_code == 201
        await caught_up(ledger, 4)
        after_erasure = await ledger.get(route + "?purpose=erasure+check", headers=bearer("dpo"))

    assert (anonymous.status_code, as_auditor.status_code, no_purpose.status_code) == (
        401,
        403,
        400,
    )
    assert as_dpo.status_code == 200, as_dpo.text
    revealed = [r["personal"] for r in as_dpo.json()["records"]]
    assert revealed == [
        {"name": PERSONAL["name"]},
        {"phone": PERSONAL["phone"]},
        {"email": PERSONAL["email"], "text": PERSONAL["text"]},
    ]
    assert [r["personal"] for r in after_erasure.json()["records"]] == [None, None, None]
    reads = [json.loads(m.data) for m in await stored_messages(intake.server, ACCESS_STREAM)]
    assert [(r["reader"], r["purpose"], r["records"]) for r in reads] == [
        ("dpo-maria", "access request art 15", 3),
        ("dpo-maria", "erasure check", 3),
    ]
    assert reads[0]["read_id"] == as_dpo.json()["read_id"]
