"""A test session ends with pytest's summary: nothing it leaves behind outlives the
interpreter's last garbage collection and makes DuckDB report leaked objects at exit."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A property test (Hypothesis adds a garbage-collector callback) and a fixture whose
# annotation names a DuckDB type: the two together made every run end with leak reports.
SESSION = """
import duckdb
import pytest
from hypothesis import given, settings, strategies as st


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@settings(max_examples=5, deadline=None, database=None)
@given(st.integers())
def test_a_property(n: int) -> None:
    assert n == n
"""


def test_a_session_with_property_tests_ends_with_the_summary_not_leak_reports(
    tmp_path: Path,
) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_session.py").write_text(SESSION)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (run.stdout + run.stderr).strip()
    assert run.returncode == 0, output
    assert "leaked" not in output
    assert output.splitlines()[-1].startswith("1 passed")
