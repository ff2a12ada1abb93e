"""What make bench reports of the Merkle tree (issue 17): its phases and their share of the
ledger's loop, judged against 10%, and the proofs' p99, judged against 50 ms at 10M events."""

from typing import Any

from bench.common import LEAVES_PHASE, SIGNING_PHASE, TREE_PHASE
from bench.report import (
    _phase_split,
    planted_rows,
    proof_rows,
    proof_target,
    tree_cost,
    tree_target,
    where_the_time_goes,
)


def ledger_run(tree: float, signing: float, loop: float = 10.0) -> dict[str, Any]:
    return {
        "100000": {
            "batch": 5000,
            "checkpoints": {"signed": 7, "every_s": 1.0},
            "phases_s": {
                "step (total)": loop,
                "fetch (wait for the prefetched batch)": 2.0,
                "ingest (decode, checks, hash)": 3.0,
                "commit (total, DuckDB)": 4.0,
                TREE_PHASE: tree,
                "commit: projection contacts": 1.0,
                SIGNING_PHASE: signing,
                "dead letters": 0.0,
            },
        }
    }


def spread(value: float) -> dict[str, Any]:
    return {"median": value, "min": value, "max": value, "runs": [value]}


def queries(events: int, worst_p99: float) -> dict[str, Any]:
    proofs = {
        "inclusion proof, whole tree": {"p50_ms": spread(3.0), "p99_ms": spread(4.0), "rows": 23},
        "consistency proof, two random sizes": {
            "p50_ms": spread(5.0),
            "p99_ms": spread(worst_p99),
            "rows": 30,
        },
    }
    tree = {
        "tree_size": events,
        "tiles_per_proof": {"inclusion proof, whole tree": 4.0},
        "tile_read_ms": {"p50": 0.8, "p99": 1.5},
    }
    return {"events": events, "repeat": 200, "questions": {}, "proofs": proofs, "tree": tree}


def test_the_tree_and_signing_are_judged_together_as_a_share_of_the_loop() -> None:
    (within,) = tree_target({"ledger": ledger_run(tree=0.6, signing=0.3)})
    assert within["met"] is True
    assert within["figure"].startswith("9.0% of the loop's 10.00 s at 100,000 events")
    assert "7 checkpoints, one every 1 s at most" in within["figure"]
    (beyond,) = tree_target({"ledger": ledger_run(tree=0.8, signing=0.3)})
    assert beyond["met"] is False


def test_a_run_without_the_tree_has_no_tree_target() -> None:
    run = ledger_run(tree=0.0, signing=0.0)
    del run["100000"]["phases_s"][TREE_PHASE]
    assert tree_target({"ledger": run}) == []


def test_signing_is_a_phase_of_the_loop_and_the_tree_a_part_of_the_commit() -> None:
    results = {"ledger": ledger_run(tree=0.6, signing=0.5)}
    split, total = _phase_split(results["ledger"]["100000"])
    assert total == 10.0
    assert (SIGNING_PHASE, 0.5, 0.05) in split
    assert split[-1][0].startswith("other") and abs(split[-1][1] - 0.5) < 1e-9
    table = "\n".join(where_the_time_goes(results))
    assert "| checkpoint signing | 0.50 | 5% | 25.0 ms |" in table
    assert "| ↳ commit: Merkle tree | 0.60 | 6% | 30.0 ms |" in table
    assert "11.0% of the loop (at most 10%;" in table


def test_the_leaves_hashed_in_ingest_count_where_ingest_outlasts_the_commit() -> None:
    run = ledger_run(tree=0.2, signing=0.1)
    run["100000"]["phases_s"][LEAVES_PHASE] = 0.4  # ingest 3.0 s, the commit 4.0 s: hidden
    cost = tree_cost(run["100000"])
    assert cost is not None and abs(cost["share"] - 0.03) < 1e-9
    assert abs(cost["share_with_overlap"] - 0.07) < 1e-9
    run["100000"]["phases_s"]["ingest (decode, checks, hash)"] = 4.25  # outlasts it by 0.25
    slower = tree_cost(run["100000"])
    assert slower is not None and abs(slower["share"] - 0.055) < 1e-9
    table = "\n".join(where_the_time_goes({"ledger": run}))
    assert "| ↳ ingest: Merkle leaves | 0.40 | 4% | 20.0 ms |" in table


def test_proofs_meet_their_target_only_when_measured_at_ten_million_events() -> None:
    (at_10m,) = proof_target({"queries_big": queries(10_000_000, worst_p99=42.0)})
    assert at_10m["met"] is True
    assert at_10m["figure"].startswith(
        "worst p99 42.0 ms (consistency proof, two random sizes) at 10,000,000 events"
    )
    assert "one tile of leaves read alone takes 0.80 ms" in at_10m["bound"]
    (small,) = proof_target({"queries": queries(200_000, worst_p99=42.0)})
    assert small["met"] is False
    assert small["status"] == "met at 200,000 events; not measured at 10M (--query-events)"
    (slow,) = proof_target({"queries_big": queries(10_000_000, worst_p99=51.0)})
    assert slow["met"] is False


def test_proof_rows_stand_beside_the_queries_with_their_target() -> None:
    rows = proof_rows(queries(10_000_000, worst_p99=42.0))
    assert rows[0] == (
        "| proof p50: inclusion proof, whole tree | 3.0 | 3.0 | 3.0 | ms | at 10,000,000 "
        "events, 23 hashes/proof, 4.0 tiles read |"
    )
    assert rows[3].startswith("| proof p99: consistency proof, two random sizes | 42.0 |")
    assert rows[3].endswith("target < 50 ms |")
    assert rows[-1].startswith("| proofs' unit: one tile of 256 leaf hashes read, p50 | 0.8 |")


def test_opening_a_file_that_planted_its_tree_is_reported_and_any_other_open_is_not() -> None:
    (row,) = planted_rows(
        {"events": 10_000_000, "reused": True, "opened_s": 312.4, "tree_planted_over": 10**7}
    )
    assert "the tree planted over 10,000,000 events | 312 |" in row
    assert planted_rows({"events": 10_000_000, "reused": True, "seconds": 3.0}) == []
