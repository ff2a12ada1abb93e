"""The secrets a deployment needs, made once and kept as files of mode 0600: a private
certificate authority, the server's certificate, one NKey seed per user, and the ledger's
checkpoint signing key.

``make run`` and the tests make them under their own directories; for a deployment,
``python -m careledger.stack.secrets DIR --host nats.example.org`` writes the same set and
the ``auth.conf`` the shipped configs include (docs/security.md says where each goes), a
first clients file and auditors file for the HTTP APIs, with their tokens, and
``checkpoint.key`` (its verifier key is printed; the private key never is).
"""

import argparse
import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nkeys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from careledger.ledger.adapters.signing_key import SigningKeyError, create_key_file
from careledger.stack.trust import User, authorization, default_users

VALID_FOR = dt.timedelta(days=825)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ORIGIN_ENV = "CARELEDGER_LOG_ORIGIN"
LOCAL_ORIGIN = "careledger.local/ledger"  # the log's name, unless CARELEDGER_LOG_ORIGIN says


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


def write_secret(path: Path, data: bytes) -> None:
    """``data`` in a new file readable by its owner only (0600), in a directory of mode 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def ensure_tls(directory: Path, hosts: Iterable[str] = LOCAL_HOSTS) -> Tls:
    """A CA and a server certificate for ``hosts`` in ``directory``, made if missing."""
    tls = Tls(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    if tls.ca.exists() and tls.cert.exists() and tls.key.exists():
        return tls
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CareLedger private CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(hosts)
    server = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]),
            ca_name,
            key.public_key(),
            now,
        )
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]  # routes
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_secret(directory / "ca.key", _private(ca_key))
    write_secret(tls.key, _private(key))
    write_secret(tls.cert, server.public_bytes(serialization.Encoding.PEM))
    write_secret(tls.ca, ca.public_bytes(serialization.Encoding.PEM))
    return tls


def ensure_nkey(path: Path) -> str:
    """The public key of the user NKey whose seed is in ``path``, made if missing."""
    if not path.exists():
        seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
        write_secret(path, bytes(seed) + b"\n")
    public: bytes = nkeys.from_seed(bytearray(path.read_bytes().strip())).public_key
    return public.decode()


def ensure_users(directory: Path, users: Iterable[User]) -> dict[str, str]:
    """A seed per user in ``directory`` (``<name>.nk``); their public keys by name."""
    return {user.name: ensure_nkey(directory / f"{user.name}.nk") for user in users}


def ensure_checkpoint_key(path: Path, origin: str) -> str | None:
    """The ledger's checkpoint signing key for ``origin`` in ``path`` (mode 0600), made if
    missing; its verifier key when it was made now, None when one was there (and is kept,
    whatever its name: docs/security.md says how to rotate)."""
    if path.exists():
        return None
    try:
        return create_key_file(path, origin)
    except SigningKeyError:
        if path.exists():  # made meanwhile by another process: theirs is kept
            return None
        raise


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--host", action="append", help="a name or IP the server answers to")
    parser.add_argument("--channel", action="append", help="a channel system's NATS user")
    parser.add_argument("--durable", default="ledger", help="the ledger's durable consumer")
    parser.add_argument(
        "--origin",
        help=f"the log's name the ledger signs checkpoints as (env {ORIGIN_ENV}, "
        f"default {LOCAL_ORIGIN})",
    )
    args = parser.parse_args(argv)
    ensure_tls(args.directory / "tls", args.host or LOCAL_HOSTS)
    users = default_users(args.channel or ("channel",))
    keys = ensure_users(args.directory / "nkeys", users)
    write_secret(args.directory / "auth.conf", authorization(users, keys).encode())
    print(f"wrote TLS files, {len(keys)} NKey seeds and auth.conf under {args.directory}")
    _first_principals(args.directory)
    origin = args.origin or os.environ.get(ORIGIN_ENV) or LOCAL_ORIGIN
    try:
        verifier = ensure_checkpoint_key(args.directory / "checkpoint.key", origin)
    except SigningKeyError as refused:
        raise SystemExit(f"careledger.stack.secrets: {refused}") from None
    if verifier:
        print(
            f"wrote checkpoint.key, the ledger's signing key for {origin} (only the ledger "
            f"reads it); its verifier key, to publish:\n{verifier}"
        )


def _first_principals(directory: Path) -> None:
    """A first clients file and auditors file for the HTTP APIs (``careledger.stack.
    principals``): one channel client (client_id crm, every command but erase-subject) and
    one auditor (auditor, dpo), tokens in ``tokens/``; edit them to list the real ones."""
    from careledger.stack.principals import ClientGrant, ensure_principals  # it imports us

    made = ensure_principals(directory, ClientGrant("channel", "", "crm", ("*",)), "auditor")
    if made.created:
        print(f"wrote {made.clients_file.name} and {made.auditors_file.name} (tokens in tokens/)")


if __name__ == "__main__":
    main()
