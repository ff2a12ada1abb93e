"""A proof bundle for one data subject: every event the ledger holds about them, in log
order, each with its log position, the exact bytes that were hashed, and its place in the
hash chain — so a third party can check it without trusting the ledger's registers.

Only events are included: they are what the chain covers. Messages the ledger rejected
(``rejected`` table, dead-letter stream) are not: they were never accepted as facts, are
outside the chain, and their payload — unvalidated — cannot be attributed to a subject.
The payloads carry vault references and salted commitments, never personal data, so a
bundle can be handed over as it is; an erased subject's bundle still holds every event,
the ``SubjectErased`` among them.
"""

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import duckdb

from careledger.ledger.adapters import checkpoints, tree
from careledger.ledger.domain.chain import link
from careledger.ledger.domain.merkle import inclusion_proof
from careledger.ledger.domain.note import Signer, sign

FORMAT = "careledger-proof/2"
FIRST_FORMAT = "careledger-proof/1"
STATEMENT = "careledger-subject-statement/1"
HOW_TO_CHECK = (
    "With the ledger's note verifier key, got from the ledger's operator (not from this "
    "file): open checkpoint and statement (C2SP signed notes); the statement names this "
    "subject, the checkpoint's size and root, and exactly the items' sequences. For each "
    "item: hash = SHA-256(prev_hash || sequence as 8-byte big-endian || payload); the "
    "payload's event_id, type and subject_id are the item's; subject_prev is 0 for the first "
    "item and the sequence of the item before for the others; the RFC 9162 leaf "
    "(sequence, subject_prev as 8-byte big-endian, hash, payload) is included at leaf_index "
    "in the checkpoint's tree by inclusion_path. docs/proofs.md gives every byte; "
    "`careledger audit proof --check FILE --key KEY` runs all of it offline."
)


class NoCheckpoint(LookupError):
    """Nothing to prove against yet."""


def statement_text(subject_id: str, size: int, root: bytes, sequences: list[int]) -> str:
    """What the ledger signs about a subject: every sequence it holds about them in the
    tree of ``size`` leaves (an omission is then a signed statement, not an invisible one).
    The subject id is one token: ValueError for one with whitespace in it."""
    if not subject_id or any(c.isspace() for c in subject_id):
        raise ValueError(f"a subject id has no whitespace: {subject_id!r}")
    lines = [
        STATEMENT,
        f"subject {subject_id}",
        f"tree {size} {base64.b64encode(root).decode()}",
        f"sequences {len(sequences)}",
        *map(str, sequences),
    ]
    return "\n".join(lines) + "\n"


def proof_bundle(
    ledger: duckdb.DuckDBPyConnection,
    subject_id: str,
    signer: Signer,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every event about ``subject_id`` in the tree of the latest signed checkpoint, each
    with its chain links and inclusion proof, the checkpoint, and the signed statement."""
    ledger.execute("BEGIN TRANSACTION")  # the checkpoint, items and tiles from one snapshot
    try:
        latest = checkpoints.latest(ledger)
        if latest is None:
            raise NoCheckpoint("no checkpoint signed yet: the ledger holds no event")
        size = latest.size
        rows = ledger.execute(
            "SELECT e.sequence, e.event_id, e.type, e.occurred_at, e.recorded_at, e.payload, "
            "e.prev_hash, e.hash, l.subject_prev, l.leaf_index FROM events e "
            "JOIN tree_leaves l USING (sequence) WHERE e.subject_id = ? AND l.leaf_index < ? "
            "ORDER BY e.sequence",
            [subject_id, size],
        ).fetchall()
        reader = tree.Reader(ledger)
        paths = [inclusion_proof(row[9], size, reader.subtree) for row in rows]
    finally:
        ledger.execute("ROLLBACK")
    items = [
        {
            "sequence": sequence,
            "event_id": event_id,
            "type": type_,
            "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(),
            "recorded_at": recorded_at.astimezone(dt.UTC).isoformat(),
            "payload_base64": base64.b64encode(bytes(payload)).decode(),
            "prev_hash": bytes(prev_hash).hex(),
            "hash": bytes(hash_).hex(),
            "subject_prev": subject_prev,
            "leaf_index": leaf_index,
            "inclusion_path": [base64.b64encode(h).decode() for h in path],
        }
        for (
            sequence,
            event_id,
            type_,
            occurred_at,
            recorded_at,
            payload,
            prev_hash,
            hash_,
            subject_prev,
            leaf_index,
        ), path in zip(rows, paths, strict=True)
    ]
    statement = statement_text(subject_id, size, latest.root, [i["sequence"] for i in items])
    erasure = next((i for i in items if i["type"] == "SubjectErased"), None)
    return {
        "format": FORMAT,
        "subject_id": subject_id,
        "generated_at": (now or dt.datetime.now(dt.UTC)).isoformat(),
        "checkpoint": latest.note,
        "statement": sign(statement, signer),
        "erased": {k: erasure[k] for k in ("sequence", "event_id", "occurred_at")}
        if erasure
        else None,
        "how_to_check": HOW_TO_CHECK,
        "items": items,
    }


def check_first_version(bundle: Any) -> list[str]:
    """Every problem a third party would find in ``bundle``, each naming its item; [] if none.

    Pure: needs only the bundle (no ledger, no network). It shows that each item's hash
    follows from its bytes and the hash before it, that neighbouring sequences link, and
    that the head and the erasure marker agree with the items. That the items are the
    ledger's, and all of them, is shown by comparing their hashes with the ledger's own
    (``verify``, or an export's ``events``): the bundle alone cannot prove what it omits.
    Malformed input is a problem reported, never an exception."""
    if not isinstance(bundle, Mapping):
        return ["not a proof bundle (a JSON object with format, items, ledger_head)"]
    if bundle.get("format") != FIRST_FORMAT:
        return [f"format is {bundle.get('format')!r}, not {FIRST_FORMAT!r}"]
    items = bundle.get("items")
    if not isinstance(items, list):
        return ["items is not a list"]
    problems: list[str] = []
    previous: Mapping[str, Any] | None = None
    for n, item in enumerate(items):
        if not isinstance(item, Mapping) or not _is_int(item.get("sequence")):
            problems.append(f"item {n}: not an object with an integer sequence")
            continue
        where = f"item {n} (sequence {item['sequence']})"
        problems += [f"{where}: {p}" for p in _check_item(item, bundle.get("subject_id"))]
        if previous is not None:
            if item["sequence"] <= previous["sequence"]:
                problems.append(f"{where}: sequences are not in increasing order")
            elif item["sequence"] == previous["sequence"] + 1 and item.get(
                "prev_hash"
            ) != previous.get("hash"):
                problems.append(f"{where}: prev_hash is not the hash of the item before")
        previous = item
    return (
        problems
        + _check_head(bundle.get("ledger_head"), items, previous)
        + _check_erased(bundle, items)
    )


def _check_head(head: Any, items: list[Any], last: Mapping[str, Any] | None) -> list[str]:
    if not (isinstance(head, Mapping) and _is_int(head.get("sequence")) and _is_hash(head)):
        return ["ledger_head is not {sequence: an integer, hash: 64 hex digits}"]
    problems = []
    if last is not None and head["sequence"] < last["sequence"]:
        problems.append("ledger_head is older than the last item")
    for item in items:
        at_head = isinstance(item, Mapping) and item.get("sequence") == head["sequence"]
        if at_head and item.get("hash") != head["hash"]:
            problems.append(f"ledger_head: hash differs from item at sequence {head['sequence']}")
    return problems


def _check_erased(bundle: Mapping[str, Any], items: list[Any]) -> list[str]:
    erasures = [i for i in items if isinstance(i, Mapping) and i.get("type") == "SubjectErased"]
    if bool(bundle.get("erased")) != bool(erasures):
        return ["erased does not agree with the items (a SubjectErased item, or none)"]
    return []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_hash(head: Mapping[str, Any]) -> bool:
    value = head.get("hash")
    return isinstance(value, str) and len(value) == 64 and all(c in HEX for c in value)


HEX = frozenset("0123456789abcdef")


def _check_item(item: Mapping[str, Any], subject_id: Any) -> list[str]:
    try:
        payload = base64.b64decode(item["payload_base64"], validate=True)
        prev_hash, hash_ = bytes.fromhex(item["prev_hash"]), bytes.fromhex(item["hash"])
        sequence = int(item["sequence"])
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        return [f"unreadable ({exc!r})"]
    if not 0 <= sequence < 2**63:
        return [f"sequence {sequence} is not a stream sequence"]
    problems, _ = checked_payload(item, sequence, prev_hash, hash_, payload, subject_id)
    return problems


def checked_payload(
    item: Mapping[str, Any],
    sequence: int,
    prev_hash: bytes,
    hash_: bytes,
    payload: bytes,
    subject_id: Any,
) -> tuple[list[str], Any]:
    """What a third party finds wrong with an item's chain link and its payload's ids (the
    same in every bundle version), and the payload's JSON (None if it is not JSON)."""
    problems = []
    if len(prev_hash) != 32 or link(prev_hash, sequence, payload) != hash_:
        problems.append("hash does not match prev_hash, sequence and payload")
    try:
        event = json.loads(payload)
    except ValueError:
        return [*problems, "payload is not JSON"], None
    for key, expected in (
        ("event_id", item.get("event_id")),
        ("type", item.get("type")),
        ("subject_id", subject_id),
    ):
        if not isinstance(event, dict) or event.get(key) != expected:
            problems.append(f"payload {key} is not {expected!r}")
    return problems, event
