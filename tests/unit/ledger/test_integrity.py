"""The ledger's check of its own file at open: anchored on the checkpoints it signed (in the
file and, beyond the file's reach, on the stream), with the keys rotated out still trusted,
and the position's head always compared with the last event."""

import datetime as dt
from pathlib import Path

import pytest

from careledger.ledger.domain.note import generate_signer, signer_from_text, verifier_of
from careledger.ledger.queries.integrity import check_at_open
from tests.unit.ledger.events import Ledger, an_id, contact_opened

NOW = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)
OLD = signer_from_text(generate_signer("careledger.test/ledger")[0])
NEW = signer_from_text(generate_signer("careledger.test/ledger")[0])  # same name, rotated


@pytest.fixture
def ledger(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(*(contact_opened(contact_id=an_id(f"c{n}")) for n in range(30)))
    ledger.store.sign_checkpoint(OLD, NOW)
    ledger.feed(*(contact_opened(contact_id=an_id(f"d{n}")) for n in range(10)))
    yield ledger
    ledger.close()


def published(ledger: Ledger) -> str:
    return str(ledger.store.con.execute("SELECT note FROM checkpoints").fetchall()[0][0])


def test_an_untouched_file_passes(ledger: Ledger) -> None:
    assert check_at_open(ledger.store.cursor(), [verifier_of(OLD)], published(ledger)) == []


def test_a_checkpoint_by_a_key_rotated_out_is_checked_with_it(ledger: Ledger) -> None:
    note = published(ledger)
    trusted = [verifier_of(NEW), verifier_of(OLD)]
    assert check_at_open(ledger.store.cursor(), trusted, note) == []
    problems = check_at_open(ledger.store.cursor(), [verifier_of(NEW)], note)
    assert problems and "no signature by careledger.test/ledger+" in problems[0]


def test_deleted_checkpoint_rows_do_not_remove_the_published_anchor(ledger: Ledger) -> None:
    note = published(ledger)
    con = ledger.store.con
    con.execute("DELETE FROM checkpoints")
    con.execute("UPDATE tree_leaves SET hash = ? WHERE leaf_index = 3", [bytes(32)])
    problems = check_at_open(ledger.store.cursor(), [verifier_of(OLD)], note)
    assert problems == [
        "the checkpoint last published on the checkpoint stream (size 30): the stored tree's "
        "root at that size differs from the signed one (the file was changed; the background "
        "verify names the first sequence)"
    ]


def test_a_row_that_says_another_root_than_its_note_is_named(ledger: Ledger) -> None:
    ledger.store.con.execute("UPDATE checkpoints SET root = ?", [bytes(32)])
    problems = check_at_open(ledger.store.cursor(), [verifier_of(OLD)], None)
    assert problems == [
        "the checkpoint of size 30 kept in the file: its row names another size or root than "
        "its note"
    ]


def test_the_head_is_compared_even_when_the_checkpoint_covers_every_leaf(ledger: Ledger) -> None:
    ledger.store.sign_checkpoint(OLD, NOW)  # now at 40: no tail to read
    ledger.store.con.execute("UPDATE ledger_position SET hash = ?", [bytes(32)])
    assert check_at_open(ledger.store.cursor(), [verifier_of(OLD)], None) == [
        "the position's head hash is not the last event's hash"
    ]
    ledger.store.con.execute(
        "UPDATE ledger_position SET sequence = 99, hash = (SELECT hash FROM events "
        "ORDER BY sequence DESC LIMIT 1)"
    )
    assert check_at_open(ledger.store.cursor(), [verifier_of(OLD)], None) == [
        "the position says sequence 99, the last one held is 40"
    ]


def test_a_published_checkpoint_beyond_a_restored_file_waits_for_it_to_catch_up(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.store.sign_checkpoint(OLD, NOW)
    later = str(
        ledger.store.con.execute("SELECT note FROM checkpoints ORDER BY size DESC").fetchall()[0][0]
    )
    restored = Ledger(tmp_path / "restored.duckdb")
    try:
        restored.feed(*(contact_opened(contact_id=an_id(f"c{n}")) for n in range(30)))
        assert check_at_open(restored.store.cursor(), [verifier_of(OLD)], later) == []
    finally:
        restored.close()
