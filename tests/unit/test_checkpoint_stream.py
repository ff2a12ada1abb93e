"""The stream of signed checkpoints as the design has it: every checkpoint kept forever, none
deletable, and only the ledger's NATS user may publish one; no running service may delete,
purge or change the stream (the attacks are tried live in tests/security/)."""

import pytest
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType

from careledger.runtime.streams import (
    CHECKPOINT_STREAM,
    CHECKPOINT_SUBJECT,
    StreamSettings,
    access_stream_config,
    checkpoint_stream_config,
    dlq_stream_config,
    event_stream_config,
)
from careledger.stack.trust import User, default_users

RUNNING = [user for user in default_users(("channel",), ("channel",)) if user.role != "admin"]


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    wanted, tokens = pattern.split(" ")[0].split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(wanted) == len(tokens)


def may_publish(user: User, subject: str) -> bool:
    return any(matches(pattern, subject) for pattern in user.publish)


def test_the_matcher_reads_wildcards_as_nats_does() -> None:
    assert matches("careledger.events.>", "careledger.events.contact.1")
    assert not matches("careledger.events.>", "careledger.events")
    assert matches("$JS.API.STREAM.*.X", "$JS.API.STREAM.PURGE.X")
    assert not matches("careledger.checkpoints", "careledger.checkpoints.forged")
    assert matches(">", "careledger.checkpoints")


def test_checkpoints_are_kept_forever_even_when_events_expire() -> None:
    config = checkpoint_stream_config(StreamSettings(max_age=3600.0, dlq_max_age=60.0))
    assert (config.name, config.subjects) == (CHECKPOINT_STREAM, [CHECKPOINT_SUBJECT])
    assert config.max_age == 0.0
    assert (config.max_msgs, config.max_bytes, config.max_msgs_per_subject) == (-1, -1, -1)
    assert (config.retention, config.discard) == (RetentionPolicy.LIMITS, DiscardPolicy.OLD)


def test_no_checkpoint_can_be_deleted_or_purged_and_they_are_on_disk() -> None:
    config = checkpoint_stream_config(StreamSettings())
    assert (config.deny_delete, config.deny_purge) == (True, True)
    assert config.storage == StorageType.FILE
    assert not config.allow_rollup_hdrs  # a roll-up would purge the subject


@pytest.mark.parametrize("replicas", [1, 3])
def test_the_checkpoint_stream_has_the_replicas_of_the_others(replicas: int) -> None:
    settings = StreamSettings(replicas=replicas)
    configs = (event_stream_config, dlq_stream_config, access_stream_config)
    assert checkpoint_stream_config(settings).num_replicas == replicas
    assert {config(settings).num_replicas for config in configs} == {replicas}


def test_only_the_ledger_among_running_users_may_publish_a_checkpoint() -> None:
    assert [user.name for user in RUNNING if may_publish(user, CHECKPOINT_SUBJECT)] == ["ledger"]


def test_the_ledger_may_check_the_checkpoint_stream_and_read_its_last_checkpoint() -> None:
    [ledger] = [user for user in RUNNING if user.role == "ledger"]
    assert may_publish(ledger, f"$JS.API.STREAM.INFO.{CHECKPOINT_STREAM}")
    assert may_publish(ledger, f"$JS.API.STREAM.MSG.GET.{CHECKPOINT_STREAM}")
    assert "_INBOX_ledger.>" in ledger.subscribe  # where its PubAcks arrive


@pytest.mark.parametrize(
    "api", ["STREAM.DELETE", "STREAM.PURGE", "STREAM.UPDATE", "STREAM.MSG.DELETE", "STREAM.CREATE"]
)
def test_no_running_user_may_delete_purge_or_change_the_checkpoint_stream(api: str) -> None:
    subject = f"$JS.API.{api}.{CHECKPOINT_STREAM}"
    assert [user.name for user in RUNNING if may_publish(user, subject)] == []
