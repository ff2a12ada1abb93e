"""Child process: what auditors ask, timed against a ledger file the bench filled.

Through the ledger's own ``registers.query`` (what ``GET /v1/registers/...`` runs, first
page of 100 rows plus the total):

- open complaints by channel (``status=open&channel=…``);
- the consent state of one data subject (``consents?subject_id=…``, with the erasure join);
- one subject's timeline (``timeline?subject_id=…``).

A month's complaints return by channel, through ``returns.complaints_return`` (what
``GET /v1/returns/complaints`` and ``careledger audit return`` run: counts with the DISP
bands from each complaint's calendar, redress per currency, the share in time per regime).

And a report as SQL on the same connection (what ``audit sql`` would ask of an export):
unresolved complaints past the deadline communicated, counted by channel.

Then the proofs of the Merkle tree (``bench.proofs``): inclusion and consistency, timed the
same way, and what they read of the stored tree.

Each run asks each question ``repeat`` times with different parameters (fixed seed) after
a warm-up; p50 and p99 are per run.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

import duckdb

from bench import proofs
from bench.common import child_args, emit, percentile
from bench.events import CHANNELS
from careledger.ledger.deadlines import load_policy
from careledger.ledger.queries.registers import REGISTERS, query
from careledger.ledger.queries.returns import complaints_return

PAST_DEADLINE = """
SELECT channel, count(*) AS complaints
FROM complaints
WHERE resolved_at IS NULL AND deadline_communicated < ?
GROUP BY channel ORDER BY channel
"""


def main() -> None:
    args = child_args()
    con = duckdb.connect(args["db"], read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    rng = random.Random(int(args["seed"]))
    subjects = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT subject_id FROM timeline ORDER BY subject_id LIMIT 5000"
        ).fetchall()
    ]
    events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    months = [dt.date(2025, m, 1) for m in (1, 2, 3, 4)]
    policy = load_policy()  # as the ledger loads it: the shipped files and the environment's

    questions: dict[str, Callable[[], Any]] = {
        "open complaints by channel": lambda: query(
            con.cursor(),
            REGISTERS["complaints"],
            {"status": "open", "channel": rng.choice(CHANNELS)},
            policy,
        ),
        "consent state of a subject": lambda: query(
            con.cursor(), REGISTERS["consents"], {"subject_id": rng.choice(subjects)}, policy
        ),
        "a subject's timeline": lambda: query(
            con.cursor(), REGISTERS["timeline"], {"subject_id": rng.choice(subjects)}, policy
        ),
        "past deadline by channel (SQL)": lambda: (
            con.cursor().execute(PAST_DEADLINE, [f"2025-0{rng.randrange(2, 5)}-15"]).fetchall()
        ),
        "a month's complaints return": lambda: complaints_return(
            con.cursor(), *_month(months, rng.randrange(3)), "channel"
        )["counts"],
    }
    repeat, runs = int(args["repeat"]), int(args["runs"])
    results = _timed(questions, repeat, runs)
    proved = proofs.questions(con, rng)
    proved_results = _timed(proved, repeat, runs)
    tree = proofs.reads(con, rng, proved, repeat) if proved else {}
    con.close()
    emit(
        {
            "events": events,
            "repeat": repeat,
            "questions": results,
            "proofs": proved_results,
            "tree": tree,
        }
    )


def _timed(
    questions: dict[str, Callable[[], Any]], repeat: int, runs: int
) -> dict[str, dict[str, list[float]]]:
    """p50, p99 (ms) and rows (hashes, for a proof) per answer of each question, per run."""
    results: dict[str, dict[str, list[float]]] = {}
    for name, ask in questions.items():
        for _ in range(10):
            ask()
        per_run: dict[str, list[float]] = {"p50_ms": [], "p99_ms": [], "rows": []}
        for _ in range(runs):
            times = []
            rows = 0
            for _ in range(repeat):
                started = time.perf_counter()
                answer = ask()
                times.append((time.perf_counter() - started) * 1000)
                rows += len(answer["items"]) if isinstance(answer, dict) else len(answer)
            times.sort()
            per_run["p50_ms"].append(percentile(times, 50))
            per_run["p99_ms"].append(percentile(times, 99))
            per_run["rows"].append(rows / repeat)
        results[name] = per_run
    return results


def _month(months: list[dt.date], index: int) -> tuple[dt.date, dt.date]:
    return months[index], months[index + 1]


if __name__ == "__main__":
    main()
