"""The verifier keys of signing keys rotated out: read from their file at start (a bad line
stops the ledger, naming it), and trusted beside the current key."""

from pathlib import Path

import pytest

from careledger.ledger.adapters.signing_key import SigningKeyError
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.domain.note import generate_signer
from careledger.ledger.settings import Settings
from careledger.stack.secrets import ensure_checkpoint_key
from tests.support.principals import write_principals


def settings(tmp_path: Path, retired: str | None) -> Settings:
    principals = write_principals(tmp_path)
    path = None
    if retired is not None:
        path = tmp_path / "retired.keys"
        path.write_text(retired)
    return Settings(
        auditors_file=principals.auditors_file,
        checkpoint_key_file=principals.checkpoint_key_file,
        retired_keys_file=path,
    )


def test_the_keys_rotated_out_are_trusted_beside_the_current_one(tmp_path: Path) -> None:
    _, old = generate_signer("careledger.test/ledger")
    service = LedgerService(settings(tmp_path, f"# rotated 2026-12\n{old}\n\n"), {})
    assert [f"{v.name}+{v.key_id:08x}" for v in service.verifiers[1:]] == [
        "+".join(old.split("+")[:2])
    ]
    assert service.verifiers[0] == service.verifier


def test_a_bad_line_in_the_retired_keys_file_stops_the_ledger_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match=r"retired\.keys, line 2: "):
        LedgerService(settings(tmp_path, "# ok\nnot a key\n"), {})


def test_no_signing_key_no_ledger(tmp_path: Path) -> None:
    principals = write_principals(tmp_path)
    with pytest.raises(SigningKeyError, match="CARELEDGER_CHECKPOINT_KEY_FILE is not set"):
        LedgerService(Settings(auditors_file=principals.auditors_file), {})
    key = tmp_path / "loose.key"
    ensure_checkpoint_key(key, "careledger.test/ledger")
    key.chmod(0o640)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        LedgerService(Settings(auditors_file=principals.auditors_file, checkpoint_key_file=key), {})
