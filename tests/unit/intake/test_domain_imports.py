"""Dependencies point inward: intake's domain imports the standard library and contracts only."""

import ast
import sys
from pathlib import Path

import careledger.intake.domain as domain

ALLOWED = ("careledger.contracts", "careledger.intake.domain")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_the_domain_imports_nothing_but_the_standard_library_and_the_contracts() -> None:
    files = sorted(Path(domain.__file__).parent.glob("*.py"))
    outside = {
        f"{path.name}: {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] not in sys.stdlib_module_names and not module.startswith(ALLOWED)
    }
    assert len(files) > 5
    assert outside == set()
