"""Signed notes and checkpoints: Go's and C2SP's own vectors byte for byte, every tampering
refused by name, and round trips."""

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.ledger.domain.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    checkpoint_text,
    generate_signer,
    open_note,
    parse_checkpoint,
    sign,
    signer_from_text,
    verifier_from_text,
    verifier_of,
    vkey,
)

DASH = "\u2014 "

# golang/mod, sumdb/note/note_test.go (TestNewSigner, TestNewVerifier, TestSign, TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    f"{DASH}PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)
# golang/mod, sumdb/note/note_test.go (TestOpen) and example_test.go (ExampleSign_add_signatures,
# whose GenerateKey reads its 32-byte seed from a reader of zeros).
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    f"{DASH}EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)
# C2SP/C2SP, signed-note.md ("Example" under "Verifier keys").
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    f"This is an example message.\n\n{DASH}example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppz"
    "i2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# C2SP/C2SP, signed-note.md (the opening example: a text with an empty line in it).
QUASIMODO = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
)
# C2SP/C2SP, tlog-checkpoint.md (the opening example; the spec publishes no key for it).
SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_NOTE = (
    f"{SOFA_TEXT}\n{DASH}example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeO"
    "oRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def spec_key_id(name: str, public_key: bytes) -> str:
    """The key id as the brief and signed-note spell it, computed here independently."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4].hex()


def peter() -> tuple[Signer, Verifier]:
    return signer_from_text(PETER_SKEY), verifier_from_text(PETER_VKEY)


def refused(note: str, verifier: Verifier) -> str:
    with pytest.raises(NoteError) as caught:
        open_note(note, verifier)
    return str(caught.value)


# Interoperability


def test_go_s_signer_key_signs_go_s_note_byte_for_byte() -> None:
    signer, verifier = peter()
    assert sign(TEXT, signer) == TEXT + "\n" + PETER_SIG
    assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert verifier_of(signer) == verifier


def test_go_s_verifier_key_opens_go_s_note_and_prints_back_unchanged() -> None:
    _, verifier = peter()
    assert open_note(TEXT + "\n" + PETER_SIG, verifier) == TEXT
    assert vkey(verifier) == PETER_VKEY
    assert f"{verifier.key_id:08x}" == spec_key_id("PeterNeumann", verifier.public_key)


def test_a_zero_seed_named_enoch_root_is_go_s_enoch_root_key_and_signs_as_it_does() -> None:
    signer = signer_from_text(f"PRIVATE+KEY+EnochRoot+af0cfe78+{b64(bytes([1]) + bytes(32))}")
    assert vkey(verifier_of(signer)) == ENOCH_VKEY
    assert sign(TEXT, signer) == TEXT + "\n" + ENOCH_SIG


def test_a_note_signed_by_two_keys_opens_with_either_ignoring_the_other() -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, verifier_from_text(PETER_VKEY)) == TEXT
    assert open_note(note, verifier_from_text(ENOCH_VKEY)) == TEXT


def test_the_signed_note_spec_example_verifies() -> None:
    assert open_note(FOO_NOTE, verifier_from_text(FOO_VKEY)) == "This is an example message.\n"


def test_the_checkpoint_spec_example_parses_and_prints_back_byte_for_byte() -> None:
    checkpoint = parse_checkpoint(SOFA_TEXT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint_text(checkpoint) == SOFA_TEXT


def test_a_signature_sharing_only_the_name_of_our_key_is_ignored_not_failed() -> None:
    _, verifier_key = generate_signer("example.com/behind-the-sofa")
    ours = verifier_from_text(verifier_key)
    message = refused(SOFA_NOTE, ours)
    assert f"no signature by example.com/behind-the-sofa+{ours.key_id:08x}" in message
    assert "signed by example.com/behind-the-sofa+033de0ae" in message  # the example's key id


# Keys


def manglings(key: str) -> list[str]:
    """As Go's TestNewVerifier and TestNewSigner: every proper substring of ``key``, and
    ``key`` with each character in turn replaced by the next one."""
    cuts = {key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)} - {key}
    bumps = [key[:i] + chr(ord(c) + 1) + key[i + 1 :] for i, c in enumerate(key)]
    return sorted(cuts) + bumps


def test_every_mangling_of_go_s_verifier_key_is_refused() -> None:
    mangled = manglings(PETER_VKEY)
    for text in mangled:
        with pytest.raises(NoteError):
            verifier_from_text(text)
    assert len(mangled) > 2000


def test_every_mangling_of_go_s_signer_key_is_refused_without_quoting_the_key() -> None:
    seed = PETER_SKEY.split("+", 4)[4]
    windows = {seed[i : i + 8] for i in range(len(seed) - 7)}
    mangled = manglings(PETER_SKEY)
    for text in mangled:
        with pytest.raises(NoteError) as caught:
            signer_from_text(text)
        assert not any(window in str(caught.value) for window in windows), text
    assert len(mangled) > 3000


def test_go_s_unknown_algorithm_vector_is_refused_naming_the_type_byte() -> None:
    with pytest.raises(NoteError, match="signature type byte is 0x65; only Ed25519"):
        verifier_from_text("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_a_key_of_the_wrong_length_is_refused_even_with_its_own_key_id() -> None:
    # Go's own vector for this ("...10TWBADKEY==") is not canonical base64: refused as such.
    with pytest.raises(NoteError, match="not canonical base64"):
        verifier_from_text(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    short = bytes([1]) + bytes(range(31))
    text = f"short+{spec_key_id('short', short[1:])}+{b64(short)}"
    with pytest.raises(NoteError, match="an Ed25519 key is 32 bytes, not 31"):
        verifier_from_text(text)


def test_a_verifier_key_whose_id_does_not_match_its_key_is_refused_naming_both_ids() -> None:
    with pytest.raises(
        NoteError, match="key id c74f20a4 does not match the key, whose id is c74f20a3"
    ):
        verifier_from_text(PETER_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError, match="8 lowercase hex digits"):
        verifier_from_text(PETER_VKEY.replace("c74f20a3", "C74F20A3"))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "the key name is empty"),
        ("log one", "U+0020"),
        ("log+one", "U+002B"),
        ("log\u00a0one", "U+00A0"),
        ("log\u3000one", "U+3000"),
        ("log\x7fone\x01", "U+0001"),
    ],
)
def test_a_key_name_that_the_spec_forbids_is_refused(name: str, reason: str) -> None:
    with pytest.raises(NoteError) as caught:
        generate_signer(name)
    assert reason in str(caught.value)


def test_a_signer_never_shows_its_private_key() -> None:
    signer, _ = peter()
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])[1:]
    assert seed.hex() not in repr(signer) and repr(seed) not in repr(signer)
    assert "PeterNeumann" in repr(signer)


# Tampering


def test_a_changed_text_is_refused_naming_the_signature_line() -> None:
    note = (TEXT + "\n" + PETER_SIG).replace("your problem,", "your problem;")
    message = refused(note, peter()[1])
    assert "line 4 of the note: the signature by PeterNeumann+c74f20a3 does not verify" in message


def test_a_changed_tree_size_is_refused() -> None:
    signer = signer_from_text(PETER_SKEY)
    note = sign(checkpoint_text(Checkpoint("PeterNeumann", 5, bytes(32))), signer)
    assert "does not verify" in refused(note.replace("\n5\n", "\n6\n"), verifier_of(signer))


def test_a_signature_by_another_key_of_the_same_name_is_not_ours() -> None:
    other = signer_from_text(generate_signer("PeterNeumann")[0])
    message = refused(sign(TEXT, other), peter()[1])
    assert "no signature by PeterNeumann+c74f20a3" in message
    assert f"signed by PeterNeumann+{other.key_id:08x}" in message


def test_another_key_s_signature_under_our_name_and_id_does_not_verify() -> None:
    other = signer_from_text(generate_signer("PeterNeumann")[0])
    forged_line = sign(TEXT, other).rsplit(" ", 1)[1]
    forged = base64.b64decode(forged_line)
    note = TEXT + f"\n{DASH}PeterNeumann {b64(bytes.fromhex('c74f20a3') + forged[4:])}\n"
    assert "PeterNeumann+c74f20a3 does not verify" in refused(note, peter()[1])


def test_a_truncated_signature_is_refused_by_its_length_or_its_base64() -> None:
    raw = base64.b64decode(PETER_SIG.split(" ")[2])
    short = TEXT + f"\n{DASH}PeterNeumann {b64(raw[:-4])}\n"
    assert "is 60 bytes; an Ed25519 signature is 64" in refused(short, peter()[1])
    cut = TEXT + "\n" + PETER_SIG[:-6] + "\n"
    assert "line 4 of the note (the signature by PeterNeumann) is not" in refused(cut, peter()[1])


def test_a_changed_key_id_makes_the_signature_someone_else_s() -> None:
    raw = base64.b64decode(PETER_SIG.split(" ")[2])
    note = TEXT + f"\n{DASH}PeterNeumann {b64(bytes.fromhex('c74f20a4') + raw[4:])}\n"
    message = refused(note, peter()[1])
    assert "no signature by PeterNeumann+c74f20a3; it is signed by PeterNeumann+c74f20a4" in message


def test_every_signature_by_our_key_is_checked_not_only_the_first() -> None:
    raw = bytearray(base64.b64decode(PETER_SIG.split(" ")[2]))
    raw[10] ^= 1
    note = TEXT + "\n" + PETER_SIG + f"{DASH}PeterNeumann {b64(bytes(raw))}\n"
    assert "line 5 of the note: the signature by PeterNeumann+c74f20a3" in refused(note, peter()[1])


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (TEXT, "the note has no empty line"),
        (TEXT + "\n", "no signature line after its empty line (line 3)"),
        (TEXT + "\n" + PETER_SIG[:-1], "line 4 of the note (its last) does not end in a newline"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "line 1 of the note holds the control character U+0001"),
        (TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG, "control character U+000D"),
        ("\udcff" + TEXT + "\n" + PETER_SIG, "the note is not valid UTF-8"),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "line 5 of the note is not a signature"),
        (TEXT + "\n- PeterNeumann x08go/ZJk=\n", "line 4 of the note is not a signature line"),
        (TEXT + "\n" + PETER_SIG.replace("Peter", "Bad Peter"), "(the signature by Bad) is not"),
        (TEXT + "\n" + PETER_SIG * 101, "101 signature lines; at most 100"),
        ("garbage", "no empty line"),
    ],
)
def test_a_malformed_note_is_refused_saying_what_is_wrong(note: str, reason: str) -> None:
    assert reason in refused(note, peter()[1])


def test_signing_refuses_a_text_that_no_verifier_could_open() -> None:
    signer, _ = peter()
    with pytest.raises(NoteError, match="must end in a newline"):
        sign("no newline", signer)
    with pytest.raises(NoteError) as caught:
        sign("fine\nwith\ttab\n", signer)
    assert "line 2 of the text holds the control character U+0009" in str(caught.value)


# Checkpoints


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            SOFA_TEXT.replace("\n20852163", "\n020852163"),
            "line 2 of the checkpoint (the tree size)",
        ),
        (
            SOFA_TEXT.replace("\n20852163", "\n+20852163"),
            "line 2 of the checkpoint (the tree size)",
        ),
        (SOFA_TEXT.replace("\n20852163", "\n-1"), "without leading zeros"),
        (SOFA_TEXT.replace("\n20852163", "\n20_852_163"), "line 2 of the checkpoint"),
        (SOFA_TEXT.replace("\n20852163", "\n\u0663"), "line 2 of the checkpoint"),  # Arabic 3
        (SOFA_TEXT.replace("\n20852163", f"\n{2**63}"), "from 0 to 9223372036854775807"),
        (SOFA_TEXT.replace("CsUY", "CsU"), "line 3 of the checkpoint (the root hash) is not"),
        (SOFA_TEXT.replace("CsUYapGGPo4d", "CsUYapGG"), "decodes to 29 bytes; a root hash is 32"),
        (SOFA_TEXT.replace("2I=", "2J="), "line 3 of the checkpoint (the root hash) is not canon"),
        (SOFA_TEXT[:-1], "must end in a newline"),
        ("example.com/log\n5\n", "at least 3 lines"),
        (SOFA_TEXT + "\nextension\n", "line 4 of the checkpoint is empty"),
        (SOFA_NOTE, "line 4 of the checkpoint is empty; checkpoint lines are non-empty (is this a"),
        ("\n" + SOFA_TEXT, "line 1 of the checkpoint is empty"),
        (SOFA_TEXT + "ext\x00\n", "line 4 of the checkpoint holds the control character U+0000"),
    ],
)
def test_a_malformed_checkpoint_is_refused_naming_the_line(text: str, reason: str) -> None:
    with pytest.raises(NoteError) as caught:
        parse_checkpoint(text)
    assert reason in str(caught.value)


def test_a_tree_size_of_zero_is_written_as_a_single_zero() -> None:
    empty = hashlib.sha256(b"").digest()
    text = checkpoint_text(Checkpoint("example.com/log", 0, empty))
    assert text.split("\n")[1] == "0"
    assert parse_checkpoint(text) == Checkpoint("example.com/log", 0, empty)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"size": -1}, "size is a whole number from 0"),
        ({"size": True}, "size is a whole number from 0"),
        ({"root": bytes(31)}, "root hash is 32 bytes"),
        ({"origin": ""}, "line 1 of the checkpoint is empty"),
        ({"origin": "a\nb"}, "line 1 of the checkpoint holds a newline"),
        ({"extensions": ("ok", "")}, "line 5 of the checkpoint is empty"),
    ],
)
def test_a_checkpoint_that_could_not_be_written_is_refused(
    kwargs: dict[str, object], reason: str
) -> None:
    fields: dict[str, object] = {"origin": "example.com/log", "size": 1, "root": bytes(32)}
    with pytest.raises(NoteError, match=reason):
        Checkpoint(**(fields | kwargs))  # type: ignore[arg-type]


line_text = st.text(st.characters(codec="utf-8", min_codepoint=0x20), min_size=1)


@given(
    origin=line_text,
    size=st.integers(min_value=0, max_value=2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_text, max_size=3),
)
def test_a_checkpoint_reads_back_from_its_text(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(checkpoint_text(checkpoint)) == checkpoint


# Round trips


def test_a_generated_key_signs_and_its_verifier_key_opens() -> None:
    signer_key, verifier_key = generate_signer("careledger.example/ledger")
    signer, verifier = signer_from_text(signer_key), verifier_from_text(verifier_key)
    assert signer_key.startswith(f"PRIVATE+KEY+careledger.example/ledger+{verifier.key_id:08x}+")
    assert verifier_of(signer) == verifier and vkey(verifier) == verifier_key
    assert f"{verifier.key_id:08x}" == spec_key_id(verifier.name, verifier.public_key)
    checkpoint = Checkpoint("careledger.example/ledger", 7, bytes(range(32)), ("ext one",))
    opened = open_note(sign(checkpoint_text(checkpoint), signer), verifier)
    assert parse_checkpoint(opened) == checkpoint


def test_two_generated_keys_differ() -> None:
    assert generate_signer("a") != generate_signer("a")


def test_a_text_with_empty_lines_is_split_at_the_last_one() -> None:
    signer, verifier = peter()
    assert open_note(sign(QUASIMODO, signer), verifier) == QUASIMODO
    assert open_note(sign("\n\n", signer), verifier) == "\n\n"
