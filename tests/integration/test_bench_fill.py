"""The bench's ledger file fill: a fill that was stopped continues to the same log."""

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from bench import ledger_file

from careledger.contracts.events import Event

COUNT = 12_000


def log_of(db: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT sequence, payload, hash FROM events ORDER BY sequence"
        ).fetchall()
    finally:
        con.close()


def test_a_stopped_fill_continues_to_the_log_an_unbroken_fill_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_file, "BATCH", 1000)
    whole = tmp_path / "whole.duckdb"
    ledger_file.fill(whole, COUNT, seed=5)

    stream = ledger_file.stream

    def stops_after(factory: object, count: int) -> Iterator[Event]:
        for n, event in enumerate(stream(factory, count), start=1):  # type: ignore[arg-type]
            if n > 7_500:
                raise KeyboardInterrupt
            yield event

    broken = tmp_path / "broken.duckdb"
    monkeypatch.setattr(ledger_file, "stream", stops_after)
    with pytest.raises(KeyboardInterrupt):
        ledger_file.fill(broken, COUNT, seed=5)
    assert len(log_of(broken)) == 7_000
    monkeypatch.setattr(ledger_file, "stream", stream)
    result = ledger_file.fill(broken, COUNT, seed=5)
    assert result["continued_from"] == 7_000
    assert log_of(broken) == log_of(whole)
    assert ledger_file.fill(broken, COUNT, seed=5)["reused"] is True
