"""contracts/README.md tells other-language publishers the truth about subjects and headers."""

import pytest
from contract_examples import REPO

from careledger.contracts import subjects
from careledger.contracts.commands import FileComplaint

README = (REPO / "contracts" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name",
    [
        subjects.EVENT_STREAM,
        subjects.MSG_ID,
        subjects.EVENT_TYPE,
        subjects.EXPECTED_LAST_SUBJECT_SEQUENCE,
        subjects.IDEMPOTENCY_KEY,
        subjects.aggregate_subject("complaint", "<complaint_id>"),
        subjects.command_subject(FileComplaint),
    ],
)
def test_the_readme_uses_the_names_the_code_uses(name: str) -> None:
    assert f"`{name}`" in README


def test_the_readme_regeneration_command_is_the_make_target() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")

    assert "-m careledger.contracts.schema contracts/schemas" in makefile
    assert "python -m careledger.contracts.schema contracts/schemas" in README


@pytest.mark.parametrize("path", ["src/careledger/contracts", "schemas/index.json", "examples"])
def test_the_places_the_readme_points_to_exist(path: str) -> None:
    assert (REPO / "contracts" / path).exists()
