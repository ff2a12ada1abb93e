"""``careledger admin``: the operator's steps before the services start.

``provision`` makes the streams (events, dead letters, access log, checkpoints) and the vault
bucket. Run it once before the services start, and again after changing stream settings
(replicas, duplicate window, DLQ retention): it creates what is missing and updates what may
change in place; it never changes a guarded setting (storage, retention, deny delete/purge,
subjects) and says which one differs. The services only check what it made. It connects as
the ``admin`` NATS user: ``CARELEDGER_NATS_NKEY_FILE`` (or ``--nkey``) names the admin's
seed, never a service's.

``checkpoint-key --origin NAME --out FILE`` makes the ledger's checkpoint signing key: a new
file of mode 0600 (an existing one is never overwritten), and prints its verifier key, the
public half that anyone checking a checkpoint or a proof bundle needs. The private key is
never printed.
"""

import argparse
import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import nats

from careledger.ledger.adapters.signing_key import SigningKeyError, create_key_file
from careledger.runtime.nats import NatsAccess, urls
from careledger.runtime.streams import (
    StreamMismatch,
    StreamSettings,
    access_stream_config,
    checkpoint_stream_config,
    dlq_stream_config,
    event_stream_config,
    provision_stream,
)
from careledger.vault.bucket import provision_vault_bucket
from careledger.vault.errors import VaultBucketMismatch

log = logging.getLogger(__name__)


async def provision(access: NatsAccess, settings: StreamSettings) -> list[str]:
    """Every stream and the vault bucket as ``settings`` say; the names provisioned."""
    nc = await nats.connect(**access.connect_options(), connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        made = []
        for wanted in (
            event_stream_config(settings),
            dlq_stream_config(settings),
            access_stream_config(settings),
            checkpoint_stream_config(settings),
        ):
            await provision_stream(js, wanted)
            made.append(str(wanted.name))
        await provision_vault_bucket(js, settings.replicas)
        return [*made, "vault bucket"]
    finally:
        await nc.close()


def main(argv: list[str], environ: Mapping[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="careledger admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="admin", required=True)
    command = sub.add_parser(
        "provision", help="make or update the streams and the vault bucket (as the admin)"
    )
    command.add_argument("--nats", help="NATS URL(s), comma-separated (env NATS_URL)")
    command.add_argument("--nkey", type=Path, help="the admin's NKey seed file")
    command.add_argument("--ca", type=Path, help="the CA of the servers' certificate")
    key = sub.add_parser("checkpoint-key", help="make the ledger's checkpoint signing key")
    key.add_argument(
        "--origin", required=True, help="the log's name, e.g. careledger.example.org/ledger"
    )
    key.add_argument("--out", type=Path, required=True, help="the new key file (mode 0600)")
    args = parser.parse_args(argv)
    if args.admin == "checkpoint-key":
        print(checkpoint_key(args.origin, args.out))
        return
    _provision(args, env)


def checkpoint_key(origin: str, out: Path) -> str:
    """Write a new signing key for ``origin`` to ``out``; what to do with it, as text (the
    verifier key, never the private key)."""
    try:
        verifier = create_key_file(out, origin)
    except SigningKeyError as refused:  # it exists (and is kept), or the name is not allowed
        raise SystemExit(
            f"careledger admin checkpoint-key: {refused} (rotation: docs/security.md)"
        ) from None
    return (
        f"wrote a new checkpoint signing key for {origin} to {out} (mode 0600): back it up, "
        "and let only the ledger read it\n"
        f"the ledger signs with it when started with CARELEDGER_CHECKPOINT_KEY_FILE="
        f"{out.resolve()}\n"
        "verifier key (public: publish it, and give it to whoever checks checkpoints and "
        "proof bundles, `--key`):\n"
        f"{verifier}"
    )


def _provision(args: argparse.Namespace, env: Mapping[str, str]) -> None:
    access = NatsAccess.from_env(env, "admin")
    access = replace(
        access,
        urls=urls(args.nats) if args.nats else access.urls,
        ca_file=args.ca or access.ca_file,
        seed_file=args.nkey or access.seed_file,
        inbox_prefix="_INBOX_admin" if (args.nkey or access.seed_file) else access.inbox_prefix,
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        made = asyncio.run(provision(access, StreamSettings.from_env(env)))
    except (StreamMismatch, VaultBucketMismatch) as refused:
        raise SystemExit(f"careledger admin provision: {refused}") from None
    except (OSError, nats.errors.Error) as failed:
        raise SystemExit(
            f"careledger admin provision: cannot reach NATS at {access.where} as the admin: "
            f"{failed!r}"
        ) from None
    print(f"provisioned on {access.where}: {', '.join(made)}")
