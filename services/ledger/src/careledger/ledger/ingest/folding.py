"""Events read back from a table in log order and folded into projections: what a
rebuild does, in one process or in each worker of one (``rebuild_parts``)."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb

from careledger.contracts import decode_event
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projections import Projection
from careledger.ledger.ingest import tables

Progress = Callable[[int, int], None]
CHUNK = 50_000
COLUMNS = "sequence, subject, payload, hash, recorded_at"  # what ``decoded`` reads


def chunks(
    con: duckdb.DuckDBPyConnection, relation: str, first: int, last: int, where: str = "TRUE"
) -> Iterator[list[Applied]]:
    """The events of ``relation`` in log order, ``CHUNK`` sequences at a time, decoded.

    By ranges of sequences, not one ORDER BY over the log: that sorts every payload at
    once and needs memory in proportion to the log (beyond the store's memory limit).
    """
    for start in range(first, last + 1, CHUNK):
        rows = con.execute(
            f"SELECT {COLUMNS} FROM {relation} "
            f"WHERE sequence >= ? AND sequence < ? AND {where} ORDER BY sequence",
            [start, start + CHUNK],
        ).fetchall()
        yield decoded(rows)


def decoded(rows: list[tuple[Any, ...]]) -> list[Applied]:
    """Rows of ``COLUMNS`` from ``events``, as applied events: recorded when the log says,
    never when the payload claims."""
    return [
        Applied(seq, decode_event(bytes(data)), bytes(h), subj, bytes(data), recorded_at=at)
        for seq, subj, data, h, at in rows
    ]


def fold(
    batches: Iterator[list[Applied]],
    target: duckdb.DuckDBPyConnection,
    projections: Sequence[Projection],
    progress: Progress | None = None,
    total: int = 0,
) -> int:
    """Apply each batch to every projection in ``target``; the number of events applied."""
    done = 0
    for batch in batches:
        for projection in projections:
            tables.apply(target, projection, batch)
        done += len(batch)
        if progress:
            progress(done, total)
    return done
