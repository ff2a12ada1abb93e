"""The complaints return over HTTP, from a ledger consuming a real nats-server: JSON,
CSV and Parquet files with a manifest, and field-level refusals."""

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from litestar.testing import AsyncTestClient

from careledger.contracts.events import Event
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.settings import Settings
from careledger.stack.nats_server import NatsServer
from tests.support.events import publication
from tests.support.nats import connect, service_settings
from tests.support.principals import write_principals
from tests.unit.ledger.events import an_id, complaint_filed, complaint_resolved

UTC = dt.UTC
ROUTE = "/v1/returns/complaints"
MAY = {"from": "2026-05-01", "to": "2026-06-01"}


def story() -> list[Event]:
    """Four complaints in England: one outstanding from April, one closed on its third
    business day over the spring bank holiday (Mon 25 May), one closed after 8 weeks, one
    still open; the first two by phone, the others by email."""

    def complaint(name: str, received: dt.datetime, channel: str) -> Event:
        return complaint_filed(
            received,
            complaint_id=an_id(f"http-return-{name}"),
            jurisdiction="GB-ENG",
            sector="financial",
            kind="complaint",
            channel=channel,
            regimes=[],
        )

    def resolved(name: str, when: dt.datetime, outcome: str, amount: str | None) -> Event:
        redress = {"amount": amount, "currency": "GBP", "kind": "refund"} if amount else None
        return complaint_resolved(
            when, complaint_id=an_id(f"http-return-{name}"), outcome=outcome, redress=redress
        )

    return [
        complaint("old", dt.datetime(2026, 3, 2, 10, tzinfo=UTC), "email"),
        complaint("april", dt.datetime(2026, 4, 20, 10, tzinfo=UTC), "phone"),
        complaint("quick", dt.datetime(2026, 5, 22, 9, tzinfo=UTC), "phone"),
        complaint("open", dt.datetime(2026, 5, 26, 9, tzinfo=UTC), "email"),
        resolved("quick", dt.datetime(2026, 5, 28, 15, tzinfo=UTC), "partially_upheld", "40.00"),
        resolved("old", dt.datetime(2026, 5, 29, 15, tzinfo=UTC), "rejected", None),
    ]


@pytest.fixture
async def ledger(nats_server: NatsServer, tmp_path: Path) -> Any:
    principals = write_principals(tmp_path / "principals")
    nc = await connect(nats_server, "publisher")
    js = nc.jetstream()
    last = 0
    for event in story():
        subject, data, headers = publication(event)
        last = (await js.publish(subject, data, headers=headers)).seq
    await nc.close()
    settings = Settings(
        **service_settings(nats_server, "ledger"),
        db_path=tmp_path / "ledger.duckdb",
        export_dir=tmp_path / "exports",
        auditors_file=principals.auditors_file,
        checkpoint_key_file=principals.checkpoint_key_file,
    )
    async with AsyncTestClient(LedgerService(settings, {}).http_app()) as client:
        client.headers.update(principals.auditor_headers())
        for _ in range(100):
            if (await client.get("/v1/ledger/position")).json()["ledger_sequence"] >= last:
                break
            await asyncio.sleep(0.1)
        yield client


async def test_the_return_answers_in_json_with_a_total_row(ledger: AsyncTestClient[Any]) -> None:
    answer = await ledger.get(ROUTE, params=MAY | {"by": "channel"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    counts = {(r["total"], r["channel"]): r for r in body["counts"]}
    assert list(counts) == [(False, "email"), (False, "phone"), (True, None)]
    total = counts[True, None]
    assert (total["outstanding_at_start"], total["opened"], total["closed"]) == (2, 2, 2)
    assert (total["closed_within_3_business_days"], total["closed_after_8_weeks"]) == (1, 1)
    assert (total["upheld"], total["redress_paid"]) == (1, 1)
    assert counts[False, "phone"]["closed_within_3_business_days"] == 1
    paid = {"currency": "GBP", "complaints": 1, "amount": "40.0000"}
    assert body["redress"] == [
        {"total": False, "channel": "phone"} | paid,
        {"total": True, "channel": None} | paid,
    ]
    fca = next(r for r in body["regimes"] if r["regime_id"] == "uk.fca.disp")
    assert (fca["with_deadline"], fca["within_deadline"], fca["share_within_deadline"]) == (
        2,
        1,
        0.5,
    )
    assert body["period"] == {"from": "2026-05-01", "to": "2026-06-01", "timezone": "UTC"}
    assert body["log_position"]["sequence"] == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-06-01", "by": "channel"}, "from"),
        ({"from": "1 May 2026", "to": "2026-06-01", "by": "channel"}, "from"),
        ({"from": "2026-05-01", "by": "channel"}, "to"),
        ({"from": "2026-06-01", "to": "2026-05-01", "by": "channel"}, "to"),
        ({"from": "2026-05-01", "to": "2026-05-01", "by": "channel"}, "to"),
        (MAY | {"by": "agent"}, "by"),
        (MAY, "by"),
        ({"period": "next-year", "by": "channel"}, "period"),
        (MAY | {"period": "last-month", "by": "channel"}, "period"),
    ],
)
async def test_a_bad_question_is_refused_naming_the_field(
    ledger: AsyncTestClient[Any], params: dict[str, str], field: str
) -> None:
    answer = await ledger.get(ROUTE, params=params)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_files_are_written_with_a_manifest_and_match_the_json(
    ledger: AsyncTestClient[Any], tmp_path: Path
) -> None:
    rows = (await ledger.get(ROUTE, params=MAY | {"by": "product"})).json()
    made = await ledger.post(ROUTE, params=MAY | {"by": "product", "format": "csv"})
    refused = await ledger.post(ROUTE, params=MAY | {"by": "product", "format": "xlsx"})
    assert made.status_code == 201, made.text
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (400, "format")
    directory = Path(made.json()["directory"])
    assert directory.parent == (tmp_path / "exports").resolve()
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest == made.json()["manifest"]
    assert manifest["log_position"] == rows["log_position"]
    csv = duckdb.connect().execute(f"SELECT * FROM read_csv('{directory / 'counts.csv'}')")
    counts = csv.fetchall()
    assert [(r[0], r[1], r[3]) for r in counts] == [
        (r["total"], r["product"], r["opened"]) for r in rows["counts"]
    ]
    assert {f["table"]: f["rows"] for f in manifest["files"]} == {
        "counts": len(rows["counts"]),
        "redress": len(rows["redress"]),
        "regimes": len(rows["regimes"]),
    }
