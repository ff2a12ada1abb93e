"""``careledger audit verify``: is the ledger intact, complete and consistent?

1. The hash chain recomputed from the stored bytes matches every stored hash, and every
   event has its key (``event_key``: what the duplicate check asks) and no other.
2. Every message of the stream is in the ledger (as an event with the same bytes, or as a
   rejection), and the ledger holds nothing the stream lacks but what came before the
   first message the stream retains (its max age dropped them: checks 1 and 3 cover them).
   An event's ``recorded_at``, which the chain does not cover, is the instant the stream
   stored it (unless it is a claim kept from before the ledger read the server's clock:
   ``recorded_clock``).
3. Every leaf of the Merkle tree follows from its event (its subject link included), every
   stored node from the leaves, and every signed checkpoint's root from the tree.
4. Every projection equals a fresh rebuild from the events.

The report names the first sequence (or projection row) that differs.
"""

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

import duckdb

from careledger.ledger import duck
from careledger.ledger.adapters import tree
from careledger.ledger.domain.chain import GENESIS, link
from careledger.ledger.domain.event_key import key_of
from careledger.ledger.domain.merkle import TILE, Frontier, Node
from careledger.ledger.domain.projection import Projection
from careledger.ledger.ingest.rebuild import rebuild_projections

# The registers rebuilt in memory to compare: beyond this DuckDB spills rather than
# holding them all (its default limit is 80% of the machine's memory).
COMPARE_MEMORY = "256MB"

StreamMessages = AsyncIterator[tuple[int, bytes, dt.datetime]]  # sequence, bytes, stored at


@dataclass
class Report:
    events: int = 0
    rejected: int = 0
    stream_messages: int | None = None
    before_stream: int = 0  # held, and before the first message the stream still retains
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(con: duckdb.DuckDBPyConnection, report: Report) -> None:
    prev = GENESIS
    for sequence, payload, prev_hash, hash_ in _rows(
        con, "SELECT sequence, payload, prev_hash, hash FROM events ORDER BY sequence"
    ):
        report.events += 1
        if bytes(prev_hash) != prev:
            report.problems.append(
                f"sequence {sequence}: prev_hash does not link to the event before"
            )
            return
        if link(prev, sequence, bytes(payload)) != bytes(hash_):
            report.problems.append(f"sequence {sequence}: stored bytes do not match their hash")
            return
        prev = bytes(hash_)


def verify_event_keys(con: duckdb.DuckDBPyConnection, report: Report) -> None:
    """A missing or wrong key would let a duplicate of that event into the ledger unseen."""
    first = con.execute(
        "SELECT sequence, CASE "
        "WHEN e.event_id IS NULL THEN 'a key without an event' "
        "WHEN count(*) OVER (PARTITION BY sequence) > 1 THEN 'more than one key' "
        "WHEN k.key IS NULL THEN 'missing key' "
        f"WHEN k.key <> {key_of('e.event_id')} THEN 'a key that is not its event id''s' "
        "END AS problem "
        "FROM events e FULL JOIN event_keys k USING (sequence) "
        "QUALIFY problem IS NOT NULL ORDER BY sequence LIMIT 1"
    ).fetchall()
    for sequence, problem in first:
        report.problems.append(f"sequence {sequence}: {problem} in event_keys")


def verify_tree(con: duckdb.DuckDBPyConnection, report: Report, chunk: int = 10_000) -> None:
    """The tree recomputed from the events equals the stored one, leaf by leaf and node by
    node, and each signed checkpoint's root is the recomputed root at its size."""
    stored = _rows(con, "SELECT sequence, subject_prev, hash FROM tree_leaves ORDER BY leaf_index")
    signed = dict(con.execute("SELECT size, root FROM checkpoints").fetchall())
    edge, nodes, pending = Frontier(), list[Node](), list[bytes]()

    def grow() -> None:
        nonlocal edge
        edge, done = edge.append(pending, keep=TILE)
        nodes.extend(done)
        pending.clear()
        if edge.size in signed and bytes(signed[edge.size]) != edge.root():
            report.problems.append(
                f"the checkpoint of size {edge.size}: its root does not follow from the events"
            )

    for row in tree.recomputed(con):
        mine = next(stored, None)
        if mine is None or (mine[0], mine[1], bytes(mine[2])) != (
            row.sequence,
            row.subject_prev,
            row.hash,
        ):
            report.problems.append(
                f"sequence {row.sequence}: its leaf in the Merkle tree does not match the event"
            )
            return
        pending.append(row.hash)
        if len(pending) == chunk or edge.size + len(pending) in signed:
            grow()
            if not report.ok:
                return
    grow()
    if report.ok and next(stored, None) is not None:
        report.problems.append("the Merkle tree has leaves beyond the ledger's events")
    if report.ok:
        _compare_nodes(con, nodes, report)


def _compare_nodes(con: duckdb.DuckDBPyConnection, nodes: list[Node], report: Report) -> None:
    held = _rows(con, "SELECT level, idx, hash FROM tree_nodes ORDER BY level, idx")
    for node in sorted(nodes, key=lambda n: (n.level, n.index)):
        mine = next(held, None)
        if mine is None or (mine[0], mine[1], bytes(mine[2])) != (
            node.level,
            node.index,
            node.hash,
        ):
            report.problems.append(
                f"tree node {node.level}/{node.index} does not follow from the leaves"
            )
            return
    if next(held, None) is not None:
        report.problems.append("the Merkle tree holds nodes its leaves do not make")


async def compare_with_stream(
    con: duckdb.DuckDBPyConnection, stream: StreamMessages, report: Report
) -> None:
    held = _rows_off_the_loop(
        con,
        "SELECT sequence, payload, recorded_at, recorded_clock = 'server', NULL FROM events "
        "UNION ALL SELECT sequence, NULL, NULL, FALSE, payload_sha256 FROM rejected "
        "ORDER BY sequence",
    )
    try:
        await _compare(con, stream, held, report)
    finally:
        await held.aclose()  # its cursor, when the comparison stops early


async def _compare(
    con: duckdb.DuckDBPyConnection,
    stream: StreamMessages,
    held: AsyncGenerator[tuple, None],  # type: ignore[type-arg]
    report: Report,
) -> None:
    report.rejected = con.execute("SELECT count(*) FROM rejected").fetchall()[0][0]
    report.stream_messages = 0
    mine = await anext(held, None)
    async for sequence, data, stored_at in stream:
        if not report.stream_messages:  # what retention (max age) dropped is not missing
            while mine is not None and mine[0] < sequence:
                report.before_stream += 1
                mine = await anext(held, None)
        report.stream_messages += 1
        if mine is None or mine[0] > sequence:
            if not report.problems:
                report.problems.append(
                    f"sequence {sequence}: in the stream, missing from the ledger"
                )
            continue
        if mine[0] < sequence:
            report.problems.append(f"sequence {mine[0]}: in the ledger, not in the stream")
            return
        if mine[4] is not None:  # a rejection keeps the SHA-256 of the bytes, not the bytes
            same = hashlib.sha256(data).hexdigest() == mine[4]
        else:
            same = bytes(mine[1]) == data
        if not same:
            report.problems.append(f"sequence {sequence}: ledger bytes differ from the stream")
            return
        if mine[3] and mine[2] != stored_at:  # stored by the server's clock (log_tables)
            report.problems.append(
                f"sequence {sequence}: recorded_at {mine[2].isoformat()} is not when the "
                f"stream stored it ({stored_at.isoformat()})"
            )
            return
        mine = await anext(held, None)
    if mine is not None and not report.problems:
        report.problems.append(f"sequence {mine[0]}: in the ledger, not in the stream")


def compare_with_rebuild(
    con: duckdb.DuckDBPyConnection,
    report: Report,
    projections: Sequence[Projection],
) -> None:
    fresh = duck.scratch(COMPARE_MEMORY)
    rebuild_projections(con, fresh, projections)
    for table in (table for projection in projections for table in projection.tables):
        key = ", ".join(table.key)
        cols = ", ".join(table.columns)
        live = con.execute(f"SELECT {cols} FROM {table.name} ORDER BY {key}").fetchall()
        rebuilt = fresh.execute(f"SELECT {cols} FROM {table.name} ORDER BY {key}").fetchall()
        for a, b in zip(live, rebuilt, strict=False):
            if a != b:
                key_values = {k: a[list(table.columns).index(k)] for k in table.key}
                report.problems.append(
                    f"{table.name} row {key_values} differs from a rebuild from the events"
                )
                break
        else:
            if len(live) != len(rebuilt):
                report.problems.append(
                    f"{table.name} has {len(live)} rows, a rebuild has {len(rebuilt)}"
                )
    fresh.close()


async def _rows_off_the_loop(
    con: duckdb.DuckDBPyConnection, sql: str, chunk: int = 10_000
) -> AsyncGenerator[tuple, None]:  # type: ignore[type-arg]
    """``_rows``, each chunk read in a worker thread: the stream's side runs on the loop."""
    cursor = duck.cursor(con)
    try:
        await asyncio.to_thread(cursor.execute, sql)
        while rows := await asyncio.to_thread(cursor.fetchmany, chunk):
            for row in rows:
                yield row
    finally:
        cursor.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, chunk: int = 10_000) -> Iterator[tuple]:  # type: ignore[type-arg]
    cursor = duck.cursor(con)
    cursor.execute(sql)
    while rows := cursor.fetchmany(chunk):
        yield from rows
    cursor.close()


async def verify(
    con: duckdb.DuckDBPyConnection,
    stream: StreamMessages | None,
    projections: Sequence[Projection],
) -> Report:
    """Every check; the rebuild only when the chain holds (corrupt bytes prove nothing). The
    checks of the file run in a worker thread, off the event loop."""
    report = Report()

    def chain_keys_tree() -> None:
        verify_chain(con, report)
        if report.ok:
            verify_event_keys(con, report)
        if report.ok:
            verify_tree(con, report)

    await asyncio.to_thread(chain_keys_tree)
    if stream is not None:
        await compare_with_stream(con, stream, report)
    if report.ok:
        await asyncio.to_thread(compare_with_rebuild, con, report, projections)
    return report
