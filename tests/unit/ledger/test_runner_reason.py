"""What the ledger reports as its last error: one line an operator can act on."""

import duckdb

from careledger.ledger.application.runner import reason

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


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    assert reason(TimeoutError()) == "TimeoutError"
