"""docs/proofs.md's worked example is what the code checks: its notes open with its
verifier key, its chain hashes and leaves recompute, and its inclusion and consistency
proofs verify against its signed roots (so the document an outsider codes from is true)."""

import base64
import json
import re
from pathlib import Path

from careledger.ledger.domain.chain import link
from careledger.ledger.domain.merkle import leaf, leaf_hash, verify_consistency, verify_inclusion
from careledger.ledger.domain.note import open_note, parse_checkpoint, verifier_from_text
from careledger.ledger.queries.proof import statement_text

DOC = (Path(__file__).resolve().parents[3] / "docs" / "proofs.md").read_text()
EXAMPLE = DOC[DOC.index("## A worked example") :]
BLOCKS = re.findall(r"```(?:json)?\n(.*?)```", EXAMPLE, re.S)


def b64s(text: str) -> list[bytes]:
    return [base64.b64decode(h) for h in re.findall(r"[A-Za-z0-9+/]{43}=", text)]


def test_the_worked_example_checks_with_the_repositorys_own_code() -> None:
    key = verifier_from_text(re.search(r"verifier key: (\S+)", BLOCKS[0]).group(1))  # type: ignore[union-attr]
    three = parse_checkpoint(open_note(BLOCKS[1], key))
    two = parse_checkpoint(open_note(BLOCKS[2], key))
    assert (three.size, two.size) == (3, 2)
    assert three.root.hex() == re.search(r"root, size 3: (\w+)", BLOCKS[0]).group(1)  # type: ignore[union-attr]

    statement = open_note(BLOCKS[3], key)
    items = json.loads(BLOCKS[4])
    assert statement == statement_text("s-a", 3, three.root, [i["sequence"] for i in items])

    for item in items:
        payload = base64.b64decode(item["payload_base64"])
        chain = bytes.fromhex(item["hash"])
        assert link(bytes.fromhex(item["prev_hash"]), item["sequence"], payload) == chain
        hashed = leaf_hash(leaf(item["sequence"], item["subject_prev"], chain, payload))
        path = [base64.b64decode(h) for h in item["inclusion_path"]]
        assert verify_inclusion(item["leaf_index"], 3, hashed, path, three.root)

    consistency = re.search(r"consistency from 2 to 3:\s+\[(.*?)\]", BLOCKS[0], re.S)
    assert verify_consistency(2, 3, two.root, three.root, b64s(consistency.group(1)))  # type: ignore[union-attr]
