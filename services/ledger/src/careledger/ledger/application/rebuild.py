"""Rebuild every projection from the events the ledger holds, in large batches.

The same ``Projection.apply`` as the live consumer, so a rebuild equals the
incremental result row for row (tests compare them).
"""

from collections.abc import Callable, Sequence

import duckdb

from careledger.contracts import decode_event
from careledger.ledger import duck
from careledger.ledger.application.applied import Applied
from careledger.ledger.projections import PROJECTIONS, Projection

Progress = Callable[[int, int], None]
CHUNK = 50_000


def rebuild_projections(
    source: duckdb.DuckDBPyConnection,
    target: duckdb.DuckDBPyConnection,
    projections: Sequence[Projection] = PROJECTIONS,
    progress: Progress | None = None,
) -> int:
    """Recreate ``projections`` in ``target`` from the ``events`` table of ``source``.

    Transactions are the caller's: an in-place rebuild runs in one, so a crash halfway
    leaves the old projections as they were.
    """
    for projection in projections:
        target.execute(f"DROP TABLE IF EXISTS {projection.name}")
        projection.create(target)
    first, last, total = source.execute(
        "SELECT coalesce(min(sequence), 1), coalesce(max(sequence), 0), count(*) FROM events"
    ).fetchall()[0]
    cursor = duck.cursor(source)
    done = 0
    # By ranges of sequences, not one ORDER BY over the log: that sorts every payload at
    # once and needs memory in proportion to the log (beyond the store's memory limit).
    for start in range(first, last + 1, CHUNK):
        rows = cursor.execute(
            "SELECT sequence, subject, payload, hash FROM events "
            "WHERE sequence >= ? AND sequence < ? ORDER BY sequence",
            [start, start + CHUNK],
        ).fetchall()
        batch = [
            Applied(seq, decode_event(bytes(data)), bytes(h), subj, bytes(data))
            for seq, subj, data, h in rows
        ]
        for projection in projections:
            projection.apply(target, batch)
        done += len(batch)
        if progress:
            progress(done, total)
    cursor.close()
    return done
