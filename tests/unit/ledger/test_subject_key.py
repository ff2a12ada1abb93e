"""Registers asked by subject: the subject key finds the candidates, ``subject_id`` decides."""

from pathlib import Path

from careledger.ledger.domain.projections.subject_key import subject_key
from careledger.ledger.queries.registers import REGISTERS, query
from tests.support.policy import shipped_policy
from tests.unit.ledger.events import Ledger, an_id, at, consent_given, contact_opened

# Two subject ids with the same CRC-32 (found by a birthday search; the test checks it).
ONE, OTHER = "9ef70b69-2531-4663-8a2f-da139eb6b43d", "f827f5ee-413f-4ceb-bfb9-0cd24f4674f9"


def test_the_key_is_the_standard_crc32_so_files_and_versions_agree() -> None:
    assert subject_key("123456789") == 0xCBF43926  # CRC-32's published check value
    assert subject_key(ONE) == subject_key(OTHER)


def test_subjects_sharing_a_key_each_get_only_their_own_rows(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(
        contact_opened(at(0), subject_id=ONE, contact_id=an_id("c1")),
        contact_opened(at(1), subject_id=OTHER, contact_id=an_id("c2")),
        consent_given(at(2), subject_id=ONE, consent_id=an_id("k1"), contact_id=None),
        consent_given(at(3), subject_id=OTHER, consent_id=an_id("k2"), contact_id=None),
        contact_opened(at(4), subject_id=ONE, contact_id=an_id("c3")),
    )
    con = ledger.store.cursor()
    for register in ("timeline", "consents"):
        for subject in (ONE, OTHER):
            page = query(con, REGISTERS[register], {"subject_id": subject}, shipped_policy())
            assert page["items"], (register, subject)
            assert {item["subject_id"] for item in page["items"]} == {subject}
            assert page["total"] == len(page["items"])
            assert all("subject_key" not in item for item in page["items"])
    assert query(con, REGISTERS["timeline"], {"subject_id": ONE}, shipped_policy())["total"] == 3


def test_a_register_without_the_key_answers_as_before(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    ledger.feed(contact_opened(at(0), subject_id=ONE, contact_id=an_id("c1")))
    page = query(
        ledger.store.cursor(), REGISTERS["contacts"], {"subject_id": ONE}, shipped_policy()
    )
    assert [item["subject_id"] for item in page["items"]] == [ONE]
