"""The offline checks of the command line: a proof bundle, and two checkpoints (the log
only appended to between them), with only the ledger's verifier key."""

import argparse
import base64
import binascii
import json
from pathlib import Path
from typing import Any

from careledger.ledger.domain.merkle import verify_consistency
from careledger.ledger.domain.note import (
    Checkpoint,
    NoteError,
    Verifier,
    open_note,
    parse_checkpoint,
    verifier_from_text,
)
from careledger.ledger.queries.bundle_check import check_bundle


def verifier(key: str | None, command: str) -> Verifier:
    """The verifier key given as text, or in a file."""
    if not key:
        raise SystemExit(f"{command}: give --key: the ledger's verifier key (or a file of it)")
    text = Path(key).read_text() if Path(key).is_file() else key
    try:
        return verifier_from_text(text.strip())
    except NoteError as exc:
        raise SystemExit(f"{command}: --key is not a note verifier key: {exc}") from None


def check_proof(args: argparse.Namespace) -> dict[str, Any]:
    command = "careledger audit proof --check"
    key = verifier(args.key, command)
    bundle = read_json(args.check, command)
    checked = check_bundle(bundle, key)
    return {
        "ok": checked.ok and not checked.warnings,  # a first-version bundle proves less
        "proves_less": bool(checked.warnings),
        "file": str(args.check),
        "problems": checked.problems,
        "warnings": checked.warnings,
    }


def read_json(path: Path, command: str) -> Any:
    """The JSON in ``path``; a key given twice in an object is refused (readers disagree on
    which one counts)."""

    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"a key given twice in one object: {', '.join(twice)}")
        return dict(pairs)

    try:
        return json.loads(path.read_text(), object_pairs_hook=once)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{command}: cannot read {path}: {exc}") from None


def read_checkpoint(path: Path, key: Verifier, what: str) -> Checkpoint:
    try:
        return parse_checkpoint(open_note(path.read_text(), key))
    except OSError as exc:
        raise SystemExit(f"careledger audit checkpoint: cannot read {path}: {exc}") from None
    except NoteError as exc:
        raise CheckpointProblem(f"{what} checkpoint ({path}): {exc}") from None


class CheckpointProblem(Exception):
    pass


def check_checkpoints(old: Checkpoint, new: Checkpoint, proof: dict[str, Any]) -> list[str]:
    """Problems with ``new`` extending ``old`` by ``proof`` (the consistency route's JSON)."""
    if old.origin != new.origin:
        return [f"the checkpoints are of two logs: {old.origin!r} and {new.origin!r}"]
    if "consistency_path" not in proof and "errors" in proof:
        return [f"the ledger gave no consistency proof: {proof['errors'][0].get('message')}"]
    if old.size > new.size:
        return [f"the old checkpoint (size {old.size}) is larger than the new ({new.size})"]
    try:
        path = [base64.b64decode(h, validate=True) for h in proof["consistency_path"]]
    except (KeyError, TypeError, binascii.Error) as exc:
        return [f"the consistency proof is unreadable ({exc!r})"]
    if old.size == 0 or verify_consistency(old.size, new.size, old.root, new.root, path):
        return []
    return [
        f"the consistency proof from size {old.size} to {new.size} fails: the new checkpoint "
        "is not an extension of the old one (a forked or rewritten log)"
    ]
