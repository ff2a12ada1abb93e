"""Dependencies point inward: each service's domain imports the standard library, the
contracts and (the ledger's) the deadline engine, nothing that does I/O; the ledger's
runner knows its store and consumer only through Protocols."""

import ast
import sys
from pathlib import Path

import pytest

import careledger.intake.domain as intake_domain
import careledger.ledger.domain as ledger_domain
import careledger.ledger.ingest.runner as runner

INWARD = {
    "intake": (intake_domain, ("careledger.contracts", "careledger.intake.domain")),
    "ledger": (
        ledger_domain,
        (
            "careledger.contracts",
            "careledger.ledger.domain",
            "careledger.ledger.deadlines",
            # Ed25519 for signed notes: computation, no I/O
            "cryptography.exceptions",
            "cryptography.hazmat.primitives.asymmetric.ed25519",
        ),
    ),
}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def outside(files: list[Path], allowed: tuple[str, ...]) -> set[str]:
    return {
        f"{path.name}: {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] not in sys.stdlib_module_names and not module.startswith(allowed)
    }


@pytest.mark.parametrize("service", sorted(INWARD))
def test_a_domain_imports_nothing_but_the_standard_library_and_what_is_inward(
    service: str,
) -> None:
    package, allowed = INWARD[service]
    files = sorted(Path(package.__file__).parent.rglob("*.py"))
    assert len(files) > 5
    assert outside(files, allowed) == set()


def test_the_check_names_a_domain_module_that_imports_duckdb(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text("import duckdb\nfrom careledger.ledger.adapters.store import LedgerStore\n")
    found = outside([leaky], INWARD["ledger"][1])
    assert found == {"leaky.py: duckdb", "leaky.py: careledger.ledger.adapters.store"}


def test_the_runner_knows_the_store_and_the_consumer_only_through_protocols() -> None:
    modules = imported_modules(Path(runner.__file__))
    assert not {
        m for m in modules if m.startswith(("nats", "duckdb", "careledger.ledger.adapters"))
    }
