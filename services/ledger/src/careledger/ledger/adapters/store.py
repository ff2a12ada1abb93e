"""The DuckDB store: events with their hash chain, rejections, position and projections,
all written in one transaction per batch.

One process writes the file (DuckDB allows one writer); queries use cursors of the same
connection. Inserts are columnar (Arrow), never row by row.
"""

import datetime as dt
import hashlib
import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa

from careledger.ledger import duck
from careledger.ledger.adapters import checkpoints, tree
from careledger.ledger.adapters.log_tables import (
    CLOCK_THE_LOG,
    EVENT_KEYS,
    SCHEMA,
    event_rows,
    rejected_rows,
    scrubbed,
)
from careledger.ledger.adapters.rebuild_parts import default_workers
from careledger.ledger.deadlines import Policy
from careledger.ledger.domain.event_key import key_of
from careledger.ledger.domain.merkle import Frontier
from careledger.ledger.domain.note import Checkpoint, Signer, checkpoint_text, sign
from careledger.ledger.domain.projections import Projection, projections
from careledger.ledger.domain.references import Ref
from careledger.ledger.domain.rows import Table
from careledger.ledger.domain.signed import Signed
from careledger.ledger.duck import registered
from careledger.ledger.ingest import tables, tallies
from careledger.ledger.ingest.ingest import CONSENT_ID, Outcome, Position, Rejection
from careledger.ledger.ingest.rebuild import rebuild_projections

EXISTENCE = (
    ("contact", "contacts", "contact_id"),
    ("consent", "consents", "consent_id"),
    ("complaint", "complaints", "complaint_id"),
)

log = logging.getLogger(__name__)
VERSIONS = (
    "CREATE TABLE IF NOT EXISTS projection_versions (name VARCHAR PRIMARY KEY, version INTEGER)"
)
CHECKPOINT_THRESHOLD = "64MB"
MEMORY_LIMIT = "128MB"
DATABASE = "ledger"  # the name the file is attached under


class LedgerStore:
    def __init__(
        self,
        path: str | Path,
        policy: Policy,
        rebuild_workers: int = 0,
    ) -> None:
        """``policy``: the deadline policy the registers are computed by.
        ``rebuild_workers``: processes for rebuilding outdated registers on open (0: one
        per available core; ``rebuild_parts``)."""
        self.path = str(path)
        self.policy = policy
        self.projections: tuple[Projection, ...] = projections(policy)
        self.rebuild_workers = rebuild_workers
        self.con = duck.attached(self.path, DATABASE)
        # Memory stays flat as the log grows: a WAL of at most CHECKPOINT_THRESHOLD is held
        # in memory before a checkpoint writes it out (with 1GB everything applied stayed
        # in memory), and cached blocks are bounded by MEMORY_LIMIT (DuckDB's default is
        # 80% of RAM). Larger thresholds stall less often but hold more (docs/performance.md).
        self.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        # GLOBAL: the cursors queries use are connections of their own, with their own
        # session settings; a host in another zone would otherwise see local offsets.
        self.con.execute("SET GLOBAL TimeZone = 'UTC'")
        self.con.execute(SCHEMA)
        self._key_the_log()
        self._clock_the_log()
        self._hash_the_rejected()
        self._plant_the_tree()
        self._bring_projections_up_to_date()
        self.checkpoint()  # a WAL left by a crash is folded in once, not replayed each start
        # ``known`` and ``existing`` ask on a connection of their own: the runner ingests
        # the next batch while this one commits on ``con``.
        self._reader = self.cursor()

    def _key_the_log(self) -> None:
        """A file written before ``event_keys`` existed gets every event's key, in one
        transaction (a crash leaves the file as it was, and the next open does it again)."""
        if self._columns("event_keys"):
            return
        with self.transaction():
            self.con.execute(EVENT_KEYS)
            held = self.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
            if held:
                log.warning("keying %d events for the duplicate check: new in this version", held)
            self.con.execute(
                f"INSERT INTO event_keys SELECT sequence, {key_of('event_id')} FROM events"
            )

    def _plant_the_tree(self) -> None:
        """A file written before the Merkle tree existed gets one over all its events, in
        one transaction (``adapters/tree``)."""
        self.con.execute(tree.SCHEMA + checkpoints.SCHEMA)
        if tree.size(self.con):
            return
        held = self.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        if not held:
            return
        log.warning("planting the Merkle tree over %d events: new in this version", held)
        with self.transaction():
            edge, chunk = Frontier(), []
            for row in tree.recomputed(self.con):
                chunk.append(row)
                if len(chunk) == 10_000:
                    edge, chunk = tree.store(self.con, edge, chunk), []
            tree.store(self.con, edge, chunk)

    def sign_checkpoint(self, signer: Signer, now: dt.datetime) -> Signed | None:
        """Sign and keep a checkpoint of the tree as committed, if it grew since the last
        one (None if not). The note's origin is the key's name."""
        edge, last = tree.frontier(self.con), checkpoints.latest(self.con)
        if edge.size == 0 or (last is not None and last.size >= edge.size):
            return None
        root = edge.root()
        note = sign(checkpoint_text(Checkpoint(signer.name, edge.size, root)), signer)
        signed = Signed(edge.size, root, note, now)
        with self.transaction():
            checkpoints.record(self.con, signed)
        return signed

    def _hash_the_rejected(self) -> None:
        """A file written when rejections kept their bytes keeps their SHA-256 instead (the
        bytes may hold personal data a publisher put where none belongs; the dead letter
        keeps them for a bounded time), with addresses left out of their subjects and
        reasons. One transaction."""
        if "payload" not in self._columns("rejected"):
            return
        with self.transaction():
            held = self.con.execute("SELECT sequence, subject, reason, payload FROM rejected")
            rows = held.fetchall()
            if rows:
                log.warning(
                    "%d rejections keep the SHA-256 of their bytes, not the bytes", len(rows)
                )
            self.con.execute("ALTER TABLE rejected ADD COLUMN payload_sha256 VARCHAR")
            for sequence, subject, reason, payload in rows:
                self.con.execute(
                    "UPDATE rejected SET payload_sha256 = ?, subject = ?, reason = ? "
                    "WHERE sequence = ?",
                    [
                        hashlib.sha256(payload).hexdigest(),
                        scrubbed(subject),
                        scrubbed(reason),
                        sequence,
                    ],
                )
            self.con.execute("ALTER TABLE rejected DROP COLUMN payload")

    def _clock_the_log(self) -> None:
        """A file written before the ledger read the server's clock keeps each event's
        ``recorded_at`` (the publisher's claim: the instant the stream stored it cannot be
        had offline), copies it to ``claimed_recorded_at`` and marks it ``publisher``
        (``log_tables``). One transaction, as for the keys."""
        if "recorded_clock" in self._columns("events"):
            return
        with self.transaction():
            held = self.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
            if held:
                log.warning(
                    "%d events keep the recorded_at their publishers claimed: applied before "
                    "the ledger read the server's clock (recorded_clock = 'publisher')",
                    held,
                )
            self.con.execute(CLOCK_THE_LOG)

    def _bring_projections_up_to_date(self) -> None:
        """Rebuild from the events every projection whose table is missing, has other
        columns, or was built by another ``version`` of its rules (an upgrade added or
        changed the register): registers are derived data, so the log decides, and a new
        register covers every past event. A tally alone out of date is recomputed from its
        register, which is up to date. One transaction: a crash leaves the old tables."""
        self.con.execute(VERSIONS)
        built = dict(self.con.execute("SELECT name, version FROM projection_versions").fetchall())

        def current(name: str, version: int, table: Table) -> bool:
            return built.get(name) == version and self._columns(name) == list(table.columns)

        outdated = [p for p in self.projections if not current(p.name, p.version, p.table)]
        stale = [
            (p, t)
            for p in self.projections
            if p not in outdated
            for t in p.tallies
            if not current(t.name, t.version, t.table)
        ]
        if not outdated and not stale:
            return
        with self.transaction():
            if outdated:
                self._rebuild(outdated)
            for projection, tally in stale:
                log.warning("counting %s from %s: new or changed", tally.name, projection.name)
                self.con.execute(f"DROP TABLE IF EXISTS {tally.name}")
                self.con.execute(tally.table.ddl())
                tallies.recompute(self.con, tally, projection.table)
            counted = [t for p in outdated for t in p.tallies] + [t for _, t in stale]
            done = [(p.name, p.version) for p in outdated] + [(t.name, t.version) for t in counted]
            values = ", ".join("(?, ?)" for _ in done)
            self.con.execute(
                f"INSERT OR REPLACE INTO projection_versions VALUES {values}",
                [v for pair in done for v in pair],
            )

    def _rebuild(self, outdated: Sequence[Projection]) -> None:
        held = self.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        if held:
            names = ", ".join(p.name for p in outdated)
            log.warning("rebuilding %s from %d events: new or changed in this version", names, held)
        workers = self.rebuild_workers or default_workers()
        rebuild_projections(self.con, self.con, outdated, _log_progress, workers, self.policy)

    def _columns(self, table: str) -> list[str]:
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = 'main' "
            "AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [row[0] for row in rows]

    def checkpoint(self) -> None:
        self.con.execute(f"CHECKPOINT {DATABASE}")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own on the ledger's file, for a query in another thread."""
        return duck.cursor(self.con, DATABASE)

    def close(self) -> None:
        self._reader.close()
        self.con.close()

    def position(self) -> Position:
        rows = self.con.execute(
            "SELECT sequence, hash FROM ledger_position WHERE id = 1"
        ).fetchall()
        edge = tree.frontier(self.con)
        return Position(rows[0][0], bytes(rows[0][1]), edge) if rows else Position(tree=edge)

    def latest_of_subjects(self, subject_ids: Collection[str]) -> dict[str, int]:
        """The sequence of each subject's latest event the tree holds (``adapters/tree``)."""
        return tree.latest_of_subjects(self._reader, subject_ids)

    def known(self, event_ids: Collection[str]) -> set[str]:
        """Which of these event ids the ledger already holds: their keys find the
        candidates (``event_key``), whose ids, read by sequence, decide."""
        if not event_ids:
            return set()
        ids = pa.table({"event_id": pa.array(list(event_ids), pa.string())})
        with registered(self._reader, "candidate_ids", ids):
            rows = self._reader.execute(
                "SELECT event_id FROM events WHERE sequence IN (SELECT sequence FROM event_keys "
                f"WHERE key IN (SELECT {key_of('event_id')} FROM candidate_ids))"
            ).fetchall()
        return {row[0] for row in rows} & set(event_ids)

    def consent_ids(self, payloads: Sequence[bytes]) -> list[str | None]:
        """The consent id SQL over the log reads in each payload (``ingest.CONSENT_ID``)."""
        if not payloads:
            return []
        rows = pa.table(
            {
                "i": pa.array(range(len(payloads)), pa.int64()),
                "payload": pa.array(payloads, pa.binary()),
            }
        )
        with registered(self._reader, "candidate_payloads", rows):
            found = self._reader.execute(
                f"SELECT {CONSENT_ID} FROM candidate_payloads ORDER BY i"
            ).fetchall()
        return [row[0] for row in found]

    def existing(self, refs: Collection[Ref]) -> set[Ref]:
        """Which of these contacts, consents and complaints the registers hold."""
        found: set[Ref] = set()
        kept = {p.name for p in self.projections}
        for kind, table, column in EXISTENCE:
            ids = [ref_id for k, ref_id in refs if k == kind]
            if ids and table not in kept:  # a store without that register cannot tell
                found |= {(kind, ref_id) for ref_id in ids}
            elif ids:
                rows = self._reader.execute(
                    f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN (SELECT unnest(?))",
                    [ids],
                ).fetchall()
                found |= {(kind, row[0]) for row in rows}
        return found

    def commit(self, outcome: Outcome, previous: Position) -> None:
        """Events and their leaves in the tree, rejections, every projection and the
        position: all or nothing."""
        with self.transaction():
            self.commit_rows(outcome, previous)

    def commit_rows(self, outcome: Outcome, previous: Position) -> None:
        """What ``commit`` writes, inside the caller's transaction."""
        self._append_events(outcome, previous)
        tree.append(self.con, previous.tree.size, outcome)
        self._append_rejected(outcome.rejected)
        for projection in self.projections:
            tables.apply(self.con, projection, outcome.applied)
        self.con.execute(
            "INSERT OR REPLACE INTO ledger_position VALUES (1, ?, ?)",
            [outcome.position.sequence, outcome.position.hash],
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def _append_events(self, outcome: Outcome, previous: Position) -> None:
        if outcome.applied:
            with registered(self.con, "new_events", event_rows(outcome, previous)):
                self.con.execute("INSERT INTO events SELECT * FROM new_events")
                self.con.execute(
                    f"INSERT INTO event_keys SELECT sequence, {key_of('event_id')} FROM new_events"
                )

    def _append_rejected(self, rejected: list[Rejection]) -> None:
        if rejected:
            with registered(self.con, "new_rejected", rejected_rows(rejected)):
                self.con.execute(
                    "INSERT INTO rejected (sequence, subject, rule, reason, payload_sha256) "
                    "SELECT * FROM new_rejected"
                )

    def reopen(self) -> None:
        """Connect to the file again. After a failed checkpoint (disk full) DuckDB
        invalidates the database ("must be restarted"); a new connection replays the WAL."""
        for con in (self._reader, self.con):
            with suppress(duckdb.Error):  # already unusable; the new connection replaces it
                con.close()
        kept = self.projections
        LedgerStore.__init__(self, self.path, self.policy, self.rebuild_workers)
        self.projections = kept


def _log_progress(done: int, total: int) -> None:
    log.info("rebuilt %d of %d events", done, total)
