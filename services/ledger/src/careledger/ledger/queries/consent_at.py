"""Was purpose P consented by subject S at instant T — and what proves it?

The consent register of S replayed up to T (``as_of.replay``, either axis). The answer
names the consent that held at T (or, if none did, the latest one for P), the evidence
of its ``ConsentGiven`` event (notice shown, evidence reference, mechanism, who captured
it) with the event's log sequence and hash, and the ``ConsentWithdrawn`` event that ended
it, if it was withdrawn by T. Each event's ``recorded_at`` is when the stream stored it;
``claimed_recorded_at`` what its publisher wrote, shown beside it and never used.
``consented`` is true when some consent of S to P was given and not withdrawn by T, and S
had not been erased by T (erasure ends the processing the consent allowed; the proof
itself is kept).
"""

import datetime as dt
from typing import Any

import duckdb

from careledger.ledger.domain.projections import consents, erasures
from careledger.ledger.queries.as_of import Axis, replay
from careledger.ledger.queries.registers.consents import WITH_ERASURE

REPLAYED = (consents.PROJECTION, erasures.PROJECTION)  # neither depends on the policy


def consent_at(
    ledger: duckdb.DuckDBPyConnection,
    subject_id: str,
    purpose: str,
    at: dt.datetime,
    axis: Axis = "occurred",
) -> dict[str, Any]:
    with replay(ledger, at, axis, subject_id=subject_id, projections=REPLAYED) as state:
        result = state.con.execute(
            f"SELECT * FROM ({WITH_ERASURE}) WHERE subject_id = ? AND purpose = ? "
            "ORDER BY given_at, consent_id",
            [subject_id, purpose],
        )
        columns = [d[0] for d in result.description]
        rows = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
        about = state.about()
    given = [r for r in rows if r["state"] == "given"]
    chosen = given[-1] if given else (rows[-1] if rows else None)
    erased_at = rows[0]["subject_erased_at"] if rows else None
    located = _locate(ledger, [i for r in rows for i in r["event_ids"]])
    return {
        "subject_id": subject_id,
        "purpose": purpose,
        "consented": bool(given) and erased_at is None,
        "state": chosen["state"] if chosen else "never_given",
        "consent_id": chosen["consent_id"] if chosen else None,
        "given": _given(chosen, located) if chosen else None,
        "withdrawn": _withdrawn(chosen, located) if chosen else None,
        "subject_erased_at": erased_at,
        "consents": [
            {k: r[k] for k in ("consent_id", "state", "given_at", "withdrawn_at")} for r in rows
        ],
    } | about


def _locate(ledger: duckdb.DuckDBPyConnection, event_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each event's place in the log: sequence, hash, when it occurred, when the log
    recorded it, and when its publisher claimed it was recorded."""
    if not event_ids:
        return {}
    found = ledger.execute(
        "SELECT event_id, sequence, hash, occurred_at, recorded_at, claimed_recorded_at "
        "FROM events WHERE event_id IN (SELECT unnest(?))",
        [event_ids],
    ).fetchall()
    return {
        event_id: {
            "event_id": event_id,
            "sequence": sequence,
            "hash": bytes(hash_).hex(),
            "occurred_at": occurred_at,
            "recorded_at": recorded_at,
            "claimed_recorded_at": claimed,
        }
        for event_id, sequence, hash_, occurred_at, recorded_at, claimed in found
    }


def _given(row: dict[str, Any], located: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return located[row["event_ids"][0]] | {
        "controller": row["controller"],
        "lawful_basis": row["lawful_basis"],
        "mechanism": row["mechanism"],
        "notice": {
            "id": row["notice_id"],
            "version": row["notice_version"],
            "sha256": row["notice_sha256"],
            "shown_at": row["notice_shown_at"],
        },
        "evidence": {"kind": row["evidence_kind"], "reference": row["evidence_reference"]},
        "channel": row["channel"],
        "contact_id": row["contact_id"],
        "captured_by": row["captured_by"],
    }


def _withdrawn(row: dict[str, Any], located: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if row["state"] != "withdrawn":
        return None
    return located[row["event_ids"][-1]] | {
        "channel": row["withdrawal_channel"],
        "withdrawn_by": row["withdrawn_by"],
    }
