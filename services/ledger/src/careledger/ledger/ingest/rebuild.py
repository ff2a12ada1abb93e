"""Rebuild every projection from the events the ledger holds, in large batches.

The same ``tables.apply`` as the live consumer, so a rebuild equals the
incremental result row for row (tests compare them). A large log is folded by several
processes, each over its own part of the events (``rebuild_parts``): the folds are
Python, so one process uses one core.
"""

import logging
from collections.abc import Sequence

import duckdb

from careledger.ledger import duck
from careledger.ledger.adapters import rebuild_parts
from careledger.ledger.deadlines import Policy
from careledger.ledger.domain.projection import Projection
from careledger.ledger.ingest import tables
from careledger.ledger.ingest.folding import Progress, chunks, fold

log = logging.getLogger(__name__)


def rebuild_projections(
    source: duckdb.DuckDBPyConnection,
    target: duckdb.DuckDBPyConnection,
    projections: Sequence[Projection],
    progress: Progress | None = None,
    workers: int = 1,
    policy: Policy | None = None,
) -> int:
    """Recreate ``projections`` in ``target`` from the ``events`` table of ``source``,
    in ``workers`` processes where that pays off (the projections of ``policy`` only: a
    worker builds its own from the policy's sources) (in one if they fail: a payload that
    cannot be folded then fails here too); the number of events applied.

    Transactions are the caller's: an in-place rebuild runs in one, so a crash halfway
    leaves the old projections as they were.
    """
    for projection in projections:
        for table in projection.tables:
            target.execute(f"DROP TABLE IF EXISTS {table.name}")
        tables.create(target, projection)
    first, last, total = source.execute(
        "SELECT coalesce(min(sequence), 1), coalesce(max(sequence), 0), count(*) FROM events"
    ).fetchall()[0]
    if policy is not None and rebuild_parts.worth_it(projections, policy, total, workers):
        try:
            return rebuild_parts.rebuild(
                source, target, projections, policy, progress, workers, total
            )
        except rebuild_parts.RebuildFailed as failed:  # e.g. a worker killed for its memory
            log.warning("rebuilding in one process: %s", failed)
            return rebuild_projections(source, target, projections, progress)
    cursor = duck.cursor(source)
    try:
        return fold(chunks(cursor, "events", first, last), target, projections, progress, total)
    finally:
        cursor.close()
