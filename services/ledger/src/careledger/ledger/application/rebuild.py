"""Rebuild every projection from the events the ledger holds, in large batches.

The same ``RowProjection.apply`` as the live consumer, so a rebuild equals the
incremental result row for row (tests compare them).
"""

from collections.abc import Callable, Sequence

import duckdb

from careledger.contracts import decode_event
from careledger.ledger.application.applied import Applied
from careledger.ledger.projections import PROJECTIONS, RowProjection

Progress = Callable[[int, int], None]
CHUNK = 50_000


def rebuild_projections(
    source: duckdb.DuckDBPyConnection,
    target: duckdb.DuckDBPyConnection,
    projections: Sequence[RowProjection] = PROJECTIONS,
    progress: Progress | None = None,
) -> int:
    """Recreate ``projections`` in ``target`` from the ``events`` table of ``source``.

    Transactions are the caller's: an in-place rebuild runs in one, so a crash halfway
    leaves the old projections as they were.
    """
    for projection in projections:
        target.execute(f"DROP TABLE IF EXISTS {projection.name}")
        projection.create(target)
    total = source.execute("SELECT count(*) FROM events").fetchall()[0][0]
    cursor = source.cursor()
    cursor.execute("SELECT sequence, subject, payload, hash FROM events ORDER BY sequence")
    done = 0
    while rows := cursor.fetchmany(CHUNK):
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
