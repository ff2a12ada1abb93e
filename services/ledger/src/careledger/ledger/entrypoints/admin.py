"""``careledger admin provision``: the admin makes the streams and the vault bucket.

Run once before the services start, and again after changing stream settings (replicas,
duplicate window, DLQ retention): it creates what is missing and updates what may change
in place; it never changes a guarded setting (storage, retention, deny delete/purge,
subjects) and says which one differs. The services only check what it made. It connects
as the ``admin`` NATS user: ``CARELEDGER_NATS_NKEY_FILE`` (or ``--nkey``) names the admin's
seed, never a service's.
"""

import argparse
import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import nats

from careledger.runtime.nats import NatsAccess, urls
from careledger.runtime.streams import (
    StreamMismatch,
    StreamSettings,
    access_stream_config,
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
        ):
            await provision_stream(js, wanted)
            made.append(str(wanted.name))
        await provision_vault_bucket(js, settings.replicas)
        return [*made, "vault bucket"]
    finally:
        await nc.close()


def main(argv: list[str], environ: Mapping[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="careledger admin", description=__doc__)
    sub = parser.add_subparsers(dest="admin", required=True)
    command = sub.add_parser("provision", help="make or update the streams and the vault bucket")
    command.add_argument("--nats", help="NATS URL(s), comma-separated (env NATS_URL)")
    command.add_argument("--nkey", type=Path, help="the admin's NKey seed file")
    command.add_argument("--ca", type=Path, help="the CA of the servers' certificate")
    args = parser.parse_args(argv)
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
