"""The CSV export writes each event's payload as the JSON text it is, so a CSV reader and
then a JSON parser read back the exact bytes the ledger holds (and chained)."""

import csv
import json
from pathlib import Path

from careledger.ledger.queries.export import export
from careledger.stack.nats_server import NatsServer
from tests.integration.ledger_support import ledger_bench
from tests.support.events import contact_pair, publication


def pretty(data: bytes) -> bytes:
    """The same event as another publisher may format it: indented, with CRLF line ends
    (quotes, commas and line ends are what CSV must quote)."""
    return json.dumps(json.loads(data), indent=2).replace("\n", "\r\n").encode()


async def test_a_csv_export_reads_back_every_payload_byte_for_byte_as_json(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "e.duckdb") as bench:
        sequence = await bench.publish(contact_pair() + contact_pair())
        subject, data, headers = publication(contact_pair()[0])
        await bench.publisher.publish(subject, pretty(data), headers=headers)
        await bench.apply_until(sequence + 1)
        held = bench.store.con.execute("SELECT sequence, payload FROM events").fetchall()
        manifest = export(bench.store.con, tmp_path / "csv", "csv", bench.store.projections)

    with (tmp_path / "csv" / "events.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    read_back = {int(row["sequence"]): row["payload"].encode() for row in rows}
    assert read_back == {s: bytes(payload) for s, payload in held}
    assert len(read_back) == sequence + 1
    for row in rows:
        assert json.loads(row["payload"])["event_id"]
    assert b"\r\n" in read_back[sequence + 1] and "\\x22" not in rows[0]["payload"]
    assert "JSON text" in manifest["encodings"]["events.payload"]


async def test_a_parquet_export_keeps_payloads_as_bytes_and_says_so(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with ledger_bench(nats_server, tmp_path / "e.duckdb") as bench:
        await bench.apply_until(await bench.publish(contact_pair()))
        held = bench.store.con.execute("SELECT payload FROM events ORDER BY sequence").fetchall()
        manifest = export(bench.store.con, tmp_path / "pq", "parquet", bench.store.projections)
        path = str(tmp_path / "pq" / "events.parquet")
        written = bench.store.con.execute(
            "SELECT payload FROM read_parquet(?) ORDER BY sequence", [path]
        ).fetchall()
    assert written == held and isinstance(written[0][0], bytes)
    assert "BLOB" in manifest["encodings"]["events.payload"]
    assert json.loads((tmp_path / "pq" / "manifest.json").read_text()) == manifest
