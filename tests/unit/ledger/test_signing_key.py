"""The signing key file: created 0600 and never replaced, loaded only when private to its owner."""

import os
import stat
from pathlib import Path

import pytest

from careledger.ledger.adapters.signing_key import SigningKeyError, create_key_file, load_signer
from careledger.ledger.domain.note import open_note, sign, verifier_from_text, verifier_of

NAME = "careledger.example/ledger"


def refusal(path: Path) -> str:
    with pytest.raises(SigningKeyError) as caught:
        load_signer(path)
    return str(caught.value)


def test_a_new_key_file_is_0600_even_under_an_open_umask_and_loads_as_the_key_it_announced(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys" / "ledger.key"
    previous = os.umask(0)
    try:
        verifier_key = create_key_file(path, NAME)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    signer = load_signer(path)
    verifier = verifier_from_text(verifier_key)
    assert verifier_of(signer) == verifier
    assert open_note(sign("hello\n", signer), verifier) == "hello\n"
    line = path.read_text()
    assert line.startswith(f"PRIVATE+KEY+{NAME}+{verifier.key_id:08x}+")
    assert line.endswith("\n") and line.count("\n") == 1


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    create_key_file(path, NAME)
    before = path.read_bytes()
    with pytest.raises(SigningKeyError) as caught:
        create_key_file(path, "another")
    assert f"{path} exists; a signing key is never overwritten" in str(caught.value)
    assert path.read_bytes() == before


def test_a_symlink_at_the_key_path_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    path = tmp_path / "ledger.key"
    path.symlink_to(target)
    with pytest.raises(SigningKeyError, match="exists"):
        create_key_file(path, NAME)
    assert not target.exists()


def test_a_bad_key_name_makes_no_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    with pytest.raises(SigningKeyError) as caught:
        create_key_file(path, "two words")
    assert f"{path}: cannot make a key named 'two words'" in str(caught.value)
    assert not path.exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700])
def test_a_key_file_others_could_read_or_write_is_refused_naming_the_fix(
    tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "ledger.key"
    create_key_file(path, NAME)
    path.chmod(mode)
    message = refusal(path)
    assert f"{path} has mode {mode:04o}, wider than 0600" in message
    assert f"Fix: chmod 600 {path}" in message


def test_a_read_only_key_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    verifier_key = create_key_file(path, NAME)
    path.chmod(0o400)
    assert verifier_of(load_signer(path)) == verifier_from_text(verifier_key)


def test_a_missing_key_file_is_refused_saying_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    message = refusal(path)
    assert (
        f"{path}: no signing key there; make one with `careledger admin checkpoint-key" in message
    )
    assert f"--out {path}`" in message


def test_a_key_file_without_a_final_newline_loads(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    create_key_file(path, NAME)
    path.write_text(path.read_text().rstrip("\n"))
    assert load_signer(path).name == NAME


def test_a_malformed_key_file_is_refused_without_quoting_its_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    create_key_file(path, NAME)
    text = path.read_text()
    seed = text.rstrip("\n").split("+", 4)[4]
    path.write_text(text.replace("PRIVATE+KEY+", "PRIVATE+KEY+x"))  # the key id no longer matches
    message = refusal(path)
    assert f"{path}: not a signer key (signer key x{NAME}: key id" in message
    assert "PRIVATE+KEY+<name>+<key id>+<key>" in message
    assert seed not in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe", "it is not UTF-8 text"),
        (b"", "a signer key is PRIVATE+KEY+"),
        (b"x" * 5000, "is over 4096 bytes"),
        (b"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", "PRIVATE+KEY+"),
    ],
)
def test_a_file_that_is_not_a_signer_key_is_refused(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "ledger.key"
    path.write_bytes(content)
    path.chmod(0o600)
    assert reason in refusal(path)


def test_a_key_path_that_is_a_directory_or_a_fifo_is_refused_without_waiting(
    tmp_path: Path,
) -> None:
    directory, fifo = tmp_path / "dir", tmp_path / "fifo"
    directory.mkdir(mode=0o700)
    os.mkfifo(fifo, 0o600)
    assert f"{directory} is not a regular file" in refusal(directory)
    assert f"{fifo} is not a regular file" in refusal(fifo)
