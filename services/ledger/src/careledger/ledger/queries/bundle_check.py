"""Checking a subject's proof bundle offline, with only the ledger's verifier key: what a
third party runs (``careledger audit proof --check FILE --key KEY``; docs/proofs.md).

Pure: the bundle and the key in, every problem out, each naming the item or signature
that fails (malformed input is a problem reported, never an exception).
"""

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from careledger.contracts.vocabulary import OPAQUE_ID_PATTERN
from careledger.ledger.domain.merkle import leaf, leaf_hash, verify_inclusion
from careledger.ledger.domain.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_note,
    parse_checkpoint,
)
from careledger.ledger.queries.proof import (
    FIRST_FORMAT,
    FORMAT,
    check_first_version,
    checked_payload,
    statement_text,
)

SECOND_VERSION_FIELDS = ("subject_prev", "leaf_index", "inclusion_path")
SUBJECT = re.compile(OPAQUE_ID_PATTERN)
MAX_SEQUENCE = 2**63 - 1
FIRST_VERSION_WARNING = (
    "a careledger-proof/1 bundle: its chain links are checked, but nothing in it is signed "
    "and an item left out of it cannot be seen; ask the ledger for a careledger-proof/2 one"
)


@dataclass
class Checked:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_bundle(bundle: Any, verifier: Verifier) -> Checked:
    if isinstance(bundle, Mapping) and bundle.get("format") == FIRST_FORMAT:
        return _first_version(bundle)
    if not isinstance(bundle, Mapping) or bundle.get("format") != FORMAT:
        found = bundle.get("format") if isinstance(bundle, Mapping) else type(bundle).__name__
        return Checked([f"format is {found!r}, not {FORMAT!r} or {FIRST_FORMAT!r}"])
    try:
        checkpoint = parse_checkpoint(open_note(str(bundle.get("checkpoint")), verifier))
    except NoteError as exc:
        return Checked([f"checkpoint: {exc}"])
    if checkpoint.origin != verifier.name:
        return Checked([f"checkpoint: of the log {checkpoint.origin!r}, not {verifier.name!r}"])
    items, subject = bundle.get("items"), bundle.get("subject_id")
    if not isinstance(items, list):
        return Checked(["items is not a list"])
    if not isinstance(subject, str) or not SUBJECT.fullmatch(subject):
        return Checked([f"subject_id {subject!r} is not an opaque id"])
    problems = _check_statement(bundle, checkpoint, items, verifier)
    previous = 0
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(f"item {n}: not an object")
            continue
        found = _check_item(item, subject, previous, checkpoint)
        problems += [f"item {n} (sequence {item.get('sequence')}): {p}" for p in found]
        previous = item.get("sequence", -1)
    return Checked(problems + _check_erased(bundle.get("erased"), items))


def _first_version(bundle: Mapping[str, Any]) -> Checked:
    """A first-version bundle proves less; one that carries second-version fields is a
    second-version bundle relabelled to escape its signatures."""
    raw = bundle.get("items")
    items: list[Any] = raw if isinstance(raw, list) else []
    later = {"checkpoint", "statement"} & set(bundle) or {
        k for i in items if isinstance(i, Mapping) for k in SECOND_VERSION_FIELDS if k in i
    }
    if later:
        named = ", ".join(sorted(later))
        return Checked([f"a {FIRST_FORMAT} bundle with {FORMAT} fields ({named}): relabelled?"])
    return Checked(check_first_version(bundle), [FIRST_VERSION_WARNING])


def _check_erased(erased: Any, items: list[Any]) -> list[str]:
    """``erased`` is null without a SubjectErased item, else that item's own fields."""
    erasures = [i for i in items if isinstance(i, Mapping) and i.get("type") == "SubjectErased"]
    if not erasures:
        return [] if erased is None else ["erased names an erasure no item holds"]
    expected = {k: erasures[0].get(k) for k in ("sequence", "event_id", "occurred_at")}
    if erased != expected:
        return ["erased does not agree with the SubjectErased item"]
    return []


def _check_statement(
    bundle: Mapping[str, Any], checkpoint: Checkpoint, items: list[Any], verifier: Verifier
) -> list[str]:
    try:
        text = open_note(str(bundle.get("statement")), verifier)
    except NoteError as exc:
        return [f"statement: {exc}"]
    sequences = [i.get("sequence") for i in items if isinstance(i, Mapping)]
    if not all(isinstance(q, int) for q in sequences):
        return ["statement: not every item has a whole-number sequence"]
    numbers = [int(q) for q in sequences if isinstance(q, int)]
    expected = statement_text(
        str(bundle.get("subject_id")), checkpoint.size, checkpoint.root, numbers
    )
    if text == expected:
        return []
    signed = text.splitlines()[4:]
    if text.splitlines()[:3] != expected.splitlines()[:3]:
        return ["statement: signed for another subject or another checkpoint than the bundle's"]
    missing = [s for s in signed if s not in {str(q) for q in sequences}]
    extra = [q for q in sequences if str(q) not in signed]
    return [
        "statement: the ledger signed other sequences than the items'"
        + (f"; items missing: {', '.join(missing)}" if missing else "")
        + (f"; items it did not sign: {', '.join(map(str, extra))}" if extra else "")
    ]


def _check_item(item: Any, subject: Any, previous: int, checkpoint: Checkpoint) -> list[str]:
    try:
        payload = base64.b64decode(item["payload_base64"], validate=True)
        prev_hash, hash_ = bytes.fromhex(item["prev_hash"]), bytes.fromhex(item["hash"])
        sequence, subject_prev = _whole(item["sequence"]), _whole(item["subject_prev"])
        index = _whole(item["leaf_index"])
        path = [base64.b64decode(h, validate=True) for h in item["inclusion_path"]]
    except (KeyError, ValueError, TypeError, binascii.Error) as exc:
        return [f"unreadable ({exc!r})"]
    problems, event = checked_payload(item, sequence, prev_hash, hash_, payload, subject)
    if subject_prev != previous:
        problems.append(
            f"links to sequence {subject_prev} as the subject's event before it, but the "
            f"bundle's is {previous or 'none (0)'}: an item is missing before it"
        )
    included = leaf_hash(leaf(sequence, subject_prev, hash_, payload))
    if not verify_inclusion(index, checkpoint.size, included, path, checkpoint.root):
        problems.append(f"not included at leaf {index} in the checkpoint's tree")
    if isinstance(event, dict) and _instant(event.get("occurred_at")) != _instant(
        item.get("occurred_at")
    ):
        problems.append("occurred_at is not the payload's")
    return problems


def _instant(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _whole(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEQUENCE:
        raise ValueError(f"{value!r} is not a whole number up to 2**63 - 1")
    return value
