"""Both services read the replica count of the streams the admin provisions from one variable."""

import pytest

from careledger.intake.settings import Settings as IntakeSettings
from careledger.intake.settings import SettingsError
from careledger.ledger.settings import Settings as LedgerSettings
from careledger.vault.bucket import _stream_config as vault_stream_config


def test_one_replica_unless_told_otherwise() -> None:
    assert IntakeSettings.from_env({}).stream.replicas == 1
    assert LedgerSettings.from_env({}).streams.replicas == 1


def test_a_cluster_asks_both_services_for_three_replicas() -> None:
    env = {
        "CARELEDGER_STREAM_REPLICAS": "3",
        "NATS_URL": "nats://10.0.0.1:4222, nats://10.0.0.2:4222,nats://10.0.0.3:4222",
    }
    intake, ledger = IntakeSettings.from_env(env), LedgerSettings.from_env(env)
    assert intake.stream.replicas == ledger.streams.replicas == 3
    urls = ("nats://10.0.0.1:4222", "nats://10.0.0.2:4222", "nats://10.0.0.3:4222")
    assert intake.nats_urls == ledger.nats_urls == urls


def test_the_vault_bucket_is_created_with_the_replicas_asked_for() -> None:
    assert vault_stream_config(3).num_replicas == 3
    assert vault_stream_config(1).num_replicas == 1


def test_a_replica_count_that_is_not_a_number_stops_intake() -> None:
    with pytest.raises(SettingsError, match="CARELEDGER_STREAM_REPLICAS"):
        IntakeSettings.from_env({"CARELEDGER_STREAM_REPLICAS": "three"})
