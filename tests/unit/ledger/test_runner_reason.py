"""What the ledger reports as its last error: one line an operator can act on; and a
failure at start is retried and reported like any other."""

import asyncio
from pathlib import Path
from typing import Any

import duckdb

from careledger.ledger.adapters.store import LedgerStore
from careledger.ledger.ingest.runner import Delivery, LedgerRunner, reason
from tests.support.policy import shipped_policy

WAL = '"/var/careledger/ledger.duckdb.wal"'


def test_a_refused_commit_names_the_file_and_the_disk_error() -> None:
    error = duckdb.TransactionException(
        f"TransactionContext Error: Failed to commit: Could not write file {WAL}: "
        "No space left on device"
    )
    assert reason(error) == (
        f"Could not write file {WAL}: No space left on device (TransactionException)"
    )


def test_the_original_error_wins_over_the_rollback_that_followed_it() -> None:
    try:
        try:
            raise duckdb.IOException(f"IO Error: Could not write file {WAL}: File too large")
        except duckdb.Error:
            raise duckdb.TransactionException(  # noqa: B904 - as DuckDB's ROLLBACK would
                "TransactionContext Error: cannot rollback - no transaction is active"
            )
    except duckdb.Error as rollback:
        assert reason(rollback) == f"Could not write file {WAL}: File too large (IOException)"


def test_an_invalidated_database_says_so_and_why_on_one_line() -> None:
    error = duckdb.FatalException(
        "FATAL Error: Failed: database has been invalidated because of a previous fatal "
        "error. The database must be restarted prior to being used again.\nOriginal error: "
        f'"Failed to create checkpoint because of error: Could not write file {WAL}: '
        'File too large"'
    )
    text = reason(error)
    assert "\n" not in text
    assert text == (
        "database invalidated by an earlier failure, reopening it: Failed to create "
        f"checkpoint because of error: Could not write file {WAL}: File too large "
        "(FatalException)"
    )


def test_a_failed_checkpoint_of_the_attached_file_says_so_then_and_after() -> None:
    """DuckDB's words when the store's attached file fails a checkpoint, and on every use
    after it until the file is attached again."""
    failed = duckdb.IOException(
        'IO Error: Checkpoint failed for database "ledger". The database has been '
        f"invalidated. Original error: Could not write file {WAL}: File too large"
    )
    after = duckdb.IOException(
        'IO Error: Database "ledger" has been invalidated because checkpointing failed. '
        "Detach and reattach it before using it again. Original error: Could not write "
        f"file {WAL}: File too large"
    )
    assert reason(failed) == (
        "checkpoint failed, database invalidated, reopening it: "
        f"Could not write file {WAL}: File too large (IOException)"
    )
    assert reason(after) == (
        "database invalidated by a failed checkpoint, reopening it: "
        f"Could not write file {WAL}: File too large (IOException)"
    )


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    assert reason(TimeoutError()) == "TimeoutError"


async def test_a_failure_at_start_is_retried_and_reported_not_fatal(tmp_path: Path) -> None:
    class FlakyConsumer:
        def __init__(self) -> None:
            self.resets: list[int] = []
            self.fetches = 0

        async def reset(self, start_sequence: int) -> None:
            self.resets.append(start_sequence)
            if len(self.resets) == 1:
                raise ConnectionError("nats: no servers available for connection")

        async def fetch(self) -> Delivery:
            self.fetches += 1
            if self.fetches == 2:
                stop.set()
            return Delivery([], nothing_to_ack)

        async def close(self) -> None:
            pass

    async def nothing_to_ack() -> None:
        raise AssertionError("an empty delivery is never acknowledged")

    class NoDeadLetters:
        async def publish(self, rejections: list[Any]) -> None:
            pass

    stop = asyncio.Event()
    consumer = FlakyConsumer()
    store = LedgerStore(tmp_path / "l.duckdb", shipped_policy())
    runner = LedgerRunner(store, consumer, NoDeadLetters())
    try:
        await asyncio.wait_for(runner.run(stop), 10)
    finally:
        store.close()

    assert consumer.resets == [1, 1]  # the failed start, then the retry from position + 1
    assert runner.health.last_error is not None
    assert "no servers available" in runner.health.last_error
    assert runner.health.applying  # caught up after the retry
