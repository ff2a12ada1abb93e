"""A process's NATS access survives the trip through the environment to a child process."""

from pathlib import Path

from careledger.runtime.nats import NatsAccess


def test_an_access_read_back_from_its_environment_is_the_same_access() -> None:
    access = NatsAccess(
        ("tls://10.0.0.1:4222", "tls://10.0.0.2:4222"),
        Path("/run/ca.pem"),
        Path("/run/ledger.nk"),
        "_INBOX_ledger",
    )
    assert NatsAccess.from_env(access.env(), "ledger") == access


def test_a_plaintext_access_without_a_seed_names_only_its_servers() -> None:
    access = NatsAccess(("nats://127.0.0.1:4222",))
    assert access.env() == {"NATS_URL": "nats://127.0.0.1:4222"}
    assert NatsAccess.from_env(access.env(), "ledger") == access
