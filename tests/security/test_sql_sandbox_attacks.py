"""`careledger audit sql` reads the export's Parquet files and nothing else, within limits.

Every query here runs in real DuckDB over a real export of a real ledger file. Beside the
export lies a secret, as the vault master key lies beside the exports under var/.
"""

import json
import time
from pathlib import Path
from typing import Any

import pytest

from careledger.ledger.entrypoints import cli
from careledger.ledger.entrypoints.offline import Limits, sql
from careledger.ledger.queries.export import export
from tests.unit.ledger.events import Ledger, complaint_filed, contact_opened

SECRET = "master-key-7f3a9c-never-readable"
README_QUERY = (
    "SELECT channel, count(*) AS complaints FROM complaints GROUP BY channel ORDER BY channel"
)
ENDLESS = "SELECT count(*) FROM range(100000) a, range(100000) b, range(100000) c"


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """An export of a ledger holding one complaint, a secret beside it, and the ledger's
    own answer to the README's query."""
    root = tmp_path_factory.mktemp("var")
    ledger = Ledger(root / "ledger.duckdb")
    try:
        ledger.feed(contact_opened(), complaint_filed())
        export(ledger.store.con, root / "exports" / "log-2", "parquet", ledger.store.projections)
        expected = ledger.rows(README_QUERY)
    finally:
        ledger.close()
    (root / "exports" / "master.key").write_text(SECRET)
    (root / "master.key").write_text(SECRET)
    return root / "exports" / "log-2", expected


@pytest.fixture
def snapshot(place: tuple[Path, list[dict[str, Any]]]) -> Path:
    return place[0]


def refused_by(answer: dict[str, Any]) -> str:
    """The rule that refused the query (the test fails if the query answered)."""
    assert "rows" not in answer, answer
    assert answer["http_status"] == 400
    [error] = answer["errors"]
    assert SECRET not in json.dumps(answer, default=str)
    rule: str = error["rule"]
    return rule


def test_the_readmes_query_answers_as_the_ledger_itself_does(
    place: tuple[Path, list[dict[str, Any]]],
) -> None:
    snapshot, expected = place

    answer = sql(snapshot, README_QUERY)

    assert answer["rows"] == expected
    assert sum(row["complaints"] for row in answer["rows"]) == 1


def test_every_file_of_the_export_is_a_view_and_can_be_read_by_its_path(snapshot: Path) -> None:
    path = snapshot / "events.parquet"

    answer = sql(snapshot, f"SELECT count(*) AS n FROM read_parquet('{path}')")
    views = sql(snapshot, "SELECT count(*) AS n FROM events")

    assert answer["rows"] == views["rows"] == [{"n": 2}]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_text('{var}/master.key')",
        "SELECT * FROM read_text('{export}/../master.key')",
        "SELECT * FROM read_blob('{var}/master.key')",
        "SELECT * FROM read_csv('{var}/master.key', header = false)",
        "SELECT * FROM read_parquet('{var}/master.key')",
        "SELECT * FROM read_parquet(['{export}/events.parquet', '{var}/master.key'])",
        "SELECT * FROM read_json('/proc/self/environ')",
        "SELECT * FROM read_text('file://{var}/master.key')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM glob('{var}/*')",
        "SELECT * FROM read_parquet('{export}/*.parquet')",
        "WITH k AS (SELECT content FROM read_text('{var}/master.key')) SELECT * FROM k",
        "FROM read_text('{var}/master.key')",
        "SELECT * FROM duckdb_extensions()",
        "SELECT * FROM duckdb_secrets()",
    ],
)
def test_no_file_or_directory_outside_the_export_can_be_read(snapshot: Path, query: str) -> None:
    attack = query.format(var=snapshot.parents[1], export=snapshot)

    assert refused_by(sql(snapshot, attack)) == "external_access"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
        "SELECT * FROM read_csv('s3://bucket/x.csv')",
        "SELECT * FROM 'https://example.com/x.csv'",
        "SELECT * FROM iceberg_scan('https://example.com/table')",
        "SELECT * FROM read_xlsx('{export}/events.parquet')",
    ],
)
def test_no_url_is_fetched_and_no_extension_installed_or_loaded(
    snapshot: Path, query: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    assert refused_by(sql(snapshot, query.format(export=snapshot))) == "external_access"
    assert list(tmp_path.iterdir()) == []  # no ~/.duckdb/extensions: nothing was installed


@pytest.mark.parametrize(
    "query",
    [
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
        "PRAGMA enable_external_access",
        "ATTACH '/tmp/other.duckdb'",
        "COPY (SELECT 1) TO '/tmp/out.csv'",
        "SELECT 1; SET enable_external_access = true",
        "CALL glob('/*')",
    ],
)
def test_only_one_select_statement_runs(snapshot: Path, query: str) -> None:
    assert refused_by(sql(snapshot, query)) == "select_only"


def test_a_select_cannot_smuggle_another_statement_through_query(snapshot: Path) -> None:
    smuggled = "SELECT * FROM query('SET enable_external_access = true')"

    assert refused_by(sql(snapshot, smuggled)) == "valid_sql"
    assert refused_by(sql(snapshot, "SELECT * FROM read_text('/etc/passwd')")) == "external_access"


def test_the_sandbox_reports_itself_shut_and_locked(snapshot: Path) -> None:
    names = (
        "enable_external_access",
        "lock_configuration",
        "autoinstall_known_extensions",
        "autoload_known_extensions",
        "temp_directory",
    )
    asked = ", ".join(f"current_setting('{name}') AS {name}" for name in names)

    [settings] = sql(snapshot, f"SELECT {asked}")["rows"]

    assert settings == {
        "enable_external_access": False,
        "lock_configuration": True,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "temp_directory": "",
    }


def test_a_query_that_runs_past_the_time_limit_is_interrupted(snapshot: Path) -> None:
    started = time.monotonic()

    answer = sql(snapshot, ENDLESS, Limits(seconds=0.5))

    assert refused_by(answer) == "time_limit"
    assert "0.5 s" in answer["errors"][0]["message"]
    assert time.monotonic() - started < 60


def test_a_query_that_needs_more_than_the_memory_limit_fails(snapshot: Path) -> None:
    answer = sql(snapshot, "SELECT list(range) FROM range(200000000)")

    assert refused_by(answer) == "memory_limit"
    assert Limits().memory in answer["errors"][0]["message"]


def test_an_answer_longer_than_the_row_limit_is_refused(snapshot: Path) -> None:
    assert refused_by(sql(snapshot, "SELECT * FROM range(6)", Limits(rows=5))) == "row_limit"
    assert len(sql(snapshot, "SELECT * FROM range(5)", Limits(rows=5))["rows"]) == 5


def test_a_memory_limit_that_is_not_a_size_is_refused_by_name(snapshot: Path) -> None:
    answer = sql(snapshot, README_QUERY, Limits(memory="plenty"))

    assert refused_by(answer) == "memory_limit"
    assert answer["errors"][0]["field"] == "memory_limit"


def test_a_file_with_an_awkward_name_is_a_quoted_view(tmp_path: Path, snapshot: Path) -> None:
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / 'it"s; DROP.parquet').write_bytes((snapshot / "events.parquet").read_bytes())

    answer = sql(odd, 'SELECT count(*) AS n FROM "it""s; DROP"')

    assert answer["rows"] == [{"n": 2}]


def test_a_symlink_in_the_export_does_not_open_the_file_it_points_to(
    tmp_path: Path, snapshot: Path
) -> None:
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "events.parquet").write_bytes((snapshot / "events.parquet").read_bytes())
    (planted / "vault.parquet").symlink_to(snapshot.parents[1] / "master.key")

    assert refused_by(sql(planted, "SELECT * FROM vault")) == "valid_sql"
    attack = f"SELECT * FROM read_text('{planted}/vault.parquet')"
    assert refused_by(sql(planted, attack)) == "external_access"


def test_the_cli_passes_its_limits_to_the_sandbox(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["audit", "sql", "--snapshot", str(snapshot), "--time-limit", "0.5", ENDLESS]

    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)

    assert stopped.value.code == 1
    assert refused_by(json.loads(capsys.readouterr().out)) == "time_limit"
