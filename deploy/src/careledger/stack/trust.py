"""Who may do what on NATS: one user per principal, each with an allow list (deny lists
leak), its own inbox prefix, and nothing more than its work needs.

This table is the trust model of docs/security.md. ``authorization`` renders it for
nats-server; ``make run``, the tests and ``careledger-stack secrets`` (for a deployment)
all use it, so what runs and what is documented cannot drift apart.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from careledger.contracts.commands import COMMAND_TYPES, PRIVACY_COMMANDS
from careledger.contracts.subjects import (
    COMMAND_PREFIX,
    DLQ_STREAM,
    DLQ_SUBJECTS,
    EVENT_STREAM,
    EVENT_SUBJECTS,
    VAULT_BUCKET,
    command_subject,
)
from careledger.runtime.streams import (
    ACCESS_STREAM,
    ACCESS_SUBJECTS,
    CHECKPOINT_STREAM,
    CHECKPOINT_SUBJECT,
)

VAULT_STREAM = f"KV_{VAULT_BUCKET}"
INTAKE_QUEUE = "careledger-intake"
SERVICES = ("intake", "ledger")
ROLES = ("admin", "intake", "ledger", "publisher", "channel")


def inbox(user: str) -> str:
    """The inbox prefix of ``user``: replies and PubAcks to it, and to nobody else."""
    return f"_INBOX_{user}"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False


def _reads(stream: str) -> tuple[str, ...]:
    return (
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.MSG.GET.{stream}",
    )


def admin(name: str = "admin") -> User:
    """Provisioning only: streams, consumers, buckets. Never a running service."""
    return User(name, "admin", (">",), (">",))


def intake(name: str = "intake") -> User:
    """Appends events, reads histories, keeps its vault bucket, answers commands in its queue
    group; creates, updates, purges and deletes no stream."""
    return User(
        name,
        "intake",
        (
            EVENT_SUBJECTS,
            *_reads(EVENT_STREAM),
            f"$JS.API.STREAM.INFO.{DLQ_STREAM}",
            *_reads(VAULT_STREAM),
            f"$KV.{VAULT_BUCKET}.>",
            f"$JS.API.STREAM.MSG.DELETE.{VAULT_STREAM}",  # erasure: secure delete, vault only
        ),
        (f"{inbox(name)}.>", f"{COMMAND_PREFIX}.> {INTAKE_QUEUE}"),
        allow_responses=True,
    )


def ledger(name: str = "ledger", durable: str = "ledger") -> User:
    """Consumes its durable, dead-letters, records personal-data reads, publishes its signed
    checkpoints, reads the vault; publishes no event and changes no stream."""
    consumer = f"{EVENT_STREAM}.{durable}"
    return User(
        name,
        "ledger",
        (
            f"$JS.API.STREAM.INFO.{EVENT_STREAM}",
            f"$JS.API.CONSUMER.MSG.NEXT.{consumer}",
            f"$JS.ACK.{consumer}.>",
            f"$JS.API.CONSUMER.INFO.{consumer}",
            f"$JS.API.CONSUMER.DELETE.{consumer}",
            f"$JS.API.CONSUMER.CREATE.{consumer}",
            f"$JS.API.CONSUMER.CREATE.{consumer}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{consumer}",
            # verify reads the whole stream with an ordered (ephemeral) consumer
            f"$JS.API.CONSUMER.CREATE.{EVENT_STREAM}",
            f"$JS.API.CONSUMER.CREATE.{EVENT_STREAM}.*.>",
            f"$JS.FC.{EVENT_STREAM}.>",
            f"$JS.API.STREAM.INFO.{DLQ_STREAM}",
            DLQ_SUBJECTS,
            f"$JS.API.STREAM.INFO.{ACCESS_STREAM}",
            ACCESS_SUBJECTS,
            f"$JS.API.STREAM.INFO.{CHECKPOINT_STREAM}",
            CHECKPOINT_SUBJECT,  # only the ledger signs, so only the ledger publishes here
            f"$JS.API.STREAM.MSG.GET.{CHECKPOINT_STREAM}",  # its last one, not to send it twice
            *_reads(VAULT_STREAM),
        ),
        (f"{inbox(name)}.>",),
    )


def publisher(name: str = "publisher") -> User:
    """A direct publisher of contract events: publishes events and reads its PubAcks."""
    return User(name, "publisher", (EVENT_SUBJECTS,), (f"{inbox(name)}.>",))


def channel(name: str, *, privacy: bool = False) -> User:
    """A channel system: sends commands to intake and reads its own replies. Privacy commands
    (erasure) only with an explicit grant, as over HTTP."""
    commands = tuple(
        command_subject(c) for c in COMMAND_TYPES if privacy or c.name not in PRIVACY_COMMANDS
    )
    return User(name, "channel", commands, (f"{inbox(name)}.>",))


def default_users(
    channels: Iterable[str] = ("channel",), privacy: Iterable[str] = ()
) -> tuple[User, ...]:
    """The services' users, the admin, a publisher and one user per channel system; those in
    ``privacy`` may also send privacy commands (erasure)."""
    granted = set(privacy)
    every = (channel(c, privacy=c in granted) for c in channels)
    return (admin(), intake(), ledger(), publisher(), *every)


def authorization(users: Iterable[User], nkeys: Mapping[str, str]) -> str:
    """The nats-server ``authorization`` block: each user by the public NKey in ``nkeys``."""
    entries = []
    for user in users:
        permissions = [
            f"publish = {{ allow = {_list(user.publish)} }}",
            f"subscribe = {{ allow = {_list(user.subscribe)} }}",
        ]
        if user.allow_responses:
            permissions.append("allow_responses = true")
        body = "\n      ".join(permissions)
        entries.append(
            f"    # {user.name} ({user.role})\n"
            f'    {{ nkey: "{nkeys[user.name]}"\n'
            f"      permissions = {{\n      {body}\n      }} }}"
        )
    return "authorization {\n  users = [\n" + "\n".join(entries) + "\n  ]\n}\n"


def _list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"
