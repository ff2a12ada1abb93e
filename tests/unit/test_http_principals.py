"""The principals files both HTTP APIs read: tokens by hash, grants, and failing closed."""

from pathlib import Path

import pytest

from careledger.intake.adapters.clients import load_clients
from careledger.intake.bootstrap import IntakeService
from careledger.intake.settings import Settings as IntakeSettings
from careledger.ledger.adapters.auditors import load_auditors
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.entrypoints.client import (
    INTAKE_TOKEN,
    LEDGER_TOKEN,
    TokenUnreadable,
    bearer_token,
)
from careledger.ledger.settings import Settings as LedgerSettings
from careledger.runtime.gate import Windows
from careledger.runtime.principals import PrincipalsFileError, token_sha256
from careledger.stack.principals import ClientGrant, write_clients_file
from careledger.stack.secrets import ensure_checkpoint_key

KEY = {"CARELEDGER_MASTER_KEY": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE="}


def clients_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clients.toml"
    path.write_text(text)
    return path


def client_entry(commands: str, client_id: str = "crm", name: str = "crm-madrid") -> str:
    return (
        f'[[client]]\nname = "{name}"\ntoken_sha256 = "{token_sha256(name)}"\n'
        f'client_id = "{client_id}"\ncommands = {commands}\n'
    )


def test_a_token_finds_its_client_and_nothing_else_finds_anyone(tmp_path: Path) -> None:
    grants = [ClientGrant("crm-madrid", "secret-one", "crm"), ClientGrant("ivr", "two", "ivr")]
    write_clients_file(tmp_path / "clients.toml", grants)
    clients = load_clients(tmp_path / "clients.toml")

    found = clients.authenticate("Bearer secret-one")
    assert found is not None and (found.name, found.client_id) == ("crm-madrid", "crm")
    assert clients.authenticate("bearer two") is not None
    for header in (None, "", "Bearer", "Bearer secret-on", "Basic secret-one", "secret-one"):
        assert clients.authenticate(header) is None
    assert "secret-one" not in (tmp_path / "clients.toml").read_text()


def test_a_star_grants_every_command_but_erasure_which_only_its_name_grants(
    tmp_path: Path,
) -> None:
    star = clients_file(tmp_path, client_entry('["*"]'))
    (client,) = load_clients(star).by_token_hash.values()
    assert client.may_send("open-contact") and client.may_send("resolve-complaint")
    assert not client.may_send("erase-subject")

    named = clients_file(tmp_path, client_entry('["open-contact", "erase-subject"]'))
    (client,) = load_clients(named).by_token_hash.values()
    assert client.may_send("erase-subject") and client.may_send("open-contact")
    assert not client.may_send("file-complaint")


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (client_entry('["erase"]'), "commands must list some of"),
        (client_entry("[]"), "commands must list some of"),
        (client_entry('["*"]', client_id="CRM Madrid"), "client_id must be a lowercase code"),
        ('[[client]]\nname = "x"\ntoken_sha256 = "abc"\n', "token_sha256 must be 64 hex"),
        ('[[client]]\ntoken_sha256 = "' + "a" * 64 + '"\n', "needs a name"),
        (client_entry('["*"]') + client_entry('["*"]'), "must be unique"),
        ("[[client]\n", "cannot read"),
    ],
)
def test_a_clients_file_that_cannot_be_used_names_the_entry_and_the_rule(
    tmp_path: Path, entry: str, says: str
) -> None:
    path = clients_file(tmp_path, entry)
    with pytest.raises(PrincipalsFileError, match=says) as refused:
        load_clients(path)
    assert str(path) in str(refused.value)


def test_an_auditor_needs_known_roles(tmp_path: Path) -> None:
    path = tmp_path / "auditors.toml"
    path.write_text(f'[[auditor]]\nname = "x"\nroles = ["root"]\ntoken_sha256 = "{"b" * 64}"\n')
    with pytest.raises(PrincipalsFileError, match=r"roles must list some of \['auditor', 'dpo'\]"):
        load_auditors(path)


def test_intake_refuses_to_start_without_a_clients_file_naming_the_variable() -> None:
    with pytest.raises(PrincipalsFileError, match="CARELEDGER_CLIENTS_FILE is not set"):
        IntakeService(IntakeSettings(), environ=KEY)


def test_intake_refuses_to_start_with_a_clients_file_that_lists_nobody(tmp_path: Path) -> None:
    empty = clients_file(tmp_path, "# nobody yet\n")
    with pytest.raises(PrincipalsFileError, match=f"CARELEDGER_CLIENTS_FILE={empty} lists nobody"):
        IntakeService(IntakeSettings(clients_file=empty), environ=KEY)


def test_the_ledger_refuses_to_start_without_auditors_or_with_an_empty_file(
    tmp_path: Path,
) -> None:
    with pytest.raises(PrincipalsFileError, match="CARELEDGER_AUDITORS_FILE is not set"):
        LedgerService(LedgerSettings(), {})
    empty = tmp_path / "auditors.toml"
    empty.write_text("")
    with pytest.raises(PrincipalsFileError, match="lists nobody"):
        LedgerService(LedgerSettings(auditors_file=empty), {})


def test_only_insecure_dev_lets_them_start_without_anyone_and_says_so_loudly(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    intake = IntakeService(IntakeSettings(insecure_dev=True), environ=KEY)
    key = tmp_path / "checkpoint.key"
    ensure_checkpoint_key(key, "careledger.test/ledger")  # insecure dev still signs
    ledger = LedgerService(LedgerSettings(insecure_dev=True, checkpoint_key_file=key), {})
    assert intake.gate.open_access and ledger.gate.open_access
    assert intake.gate.health()["insecure_dev"] is True
    intake.gate.warn_if_insecure()
    (warning,) = caplog.records
    assert warning.levelname == "WARNING"
    assert "INSECURE DEV MODE" in warning.getMessage() and "OPEN to anyone" in warning.getMessage()


def test_insecure_dev_is_read_only_from_the_value_1() -> None:
    assert IntakeSettings.from_env({"CARELEDGER_INSECURE_DEV": "1"}).insecure_dev
    assert LedgerSettings.from_env({"CARELEDGER_INSECURE_DEV": "1"}).insecure_dev
    for value in ("", "0", "true", "yes"):
        assert not IntakeSettings.from_env({"CARELEDGER_INSECURE_DEV": value}).insecure_dev
        assert not LedgerSettings.from_env({"CARELEDGER_INSECURE_DEV": value}).insecure_dev


def test_each_key_may_send_its_rate_in_a_second_and_is_told_when_to_come_back() -> None:
    windows = Windows(rate=2)
    assert windows.admit("crm", 100.1) is None
    assert windows.admit("crm", 100.5) is None
    assert windows.admit("crm", 100.75) == pytest.approx(0.25)
    assert windows.admit("ivr", 100.8) is None  # another key, its own budget
    assert windows.admit("crm", 101.0) is None  # a new second
    assert windows.admit("crm", 101.9) is None
    assert windows.admit("crm", 101.95) == pytest.approx(0.05)


def test_the_cli_token_comes_from_the_variable_then_its_file_then_make_runs_var(
    tmp_path: Path,
) -> None:
    tokens = tmp_path / "var" / "tokens"
    tokens.mkdir(parents=True)
    (tokens / "dev-auditor.token").write_text("from-make-run\n")
    (tmp_path / "mine.token").write_text("from-a-file\n")
    var = {"CARELEDGER_VAR": str(tmp_path / "var")}
    assert bearer_token(LEDGER_TOKEN, var | {"CARELEDGER_TOKEN": "given"}) == "given"
    named = var | {"CARELEDGER_TOKEN_FILE": str(tmp_path / "mine.token")}
    assert bearer_token(LEDGER_TOKEN, named) == "from-a-file"
    assert bearer_token(LEDGER_TOKEN, var) == "from-make-run"
    assert bearer_token(INTAKE_TOKEN, var) is None  # no dev-channel.token there
    with pytest.raises(TokenUnreadable, match="CARELEDGER_TOKEN_FILE="):
        bearer_token(LEDGER_TOKEN, {"CARELEDGER_TOKEN_FILE": str(tmp_path / "gone")})
