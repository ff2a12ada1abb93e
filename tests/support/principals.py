"""A clients file and an auditors file with fresh tokens, and the ledger's checkpoint signing
key, so tests run the services the secure way (never with CARELEDGER_INSECURE_DEV)."""

from dataclasses import dataclass
from pathlib import Path

from careledger.ledger.adapters.signing_key import load_signer
from careledger.ledger.domain.note import verifier_of, vkey
from careledger.stack.principals import (
    AuditorGrant,
    ClientGrant,
    new_token,
    write_auditors_file,
    write_clients_file,
)
from careledger.stack.secrets import ensure_checkpoint_key

CLIENT_ID = "crm-madrid"  # the one tests/support/scenario.py's stories carry
ORIGIN = "careledger.test/ledger"  # the name the tests' ledgers sign checkpoints as


@dataclass(frozen=True)
class Principals:
    clients_file: Path
    auditors_file: Path
    intake_token: str  # client "test-channel": CLIENT_ID, every command and erase-subject
    auditor_token: str  # auditor "test-auditor": roles auditor and dpo
    checkpoint_key_file: Path  # the ledger's signing key (ORIGIN), mode 0600
    checkpoint_vkey: str  # its verifier key, to check the ledger's signatures with

    def service_env(self) -> dict[str, str]:
        """What intake and the ledger read: the two files and the ledger's signing key."""
        return {
            "CARELEDGER_CLIENTS_FILE": str(self.clients_file),
            "CARELEDGER_AUDITORS_FILE": str(self.auditors_file),
            "CARELEDGER_CHECKPOINT_KEY_FILE": str(self.checkpoint_key_file),
        }

    def env(self) -> dict[str, str]:
        """The files and the tokens the CLI and the demo send."""
        return self.service_env() | {
            "CARELEDGER_TOKEN": self.auditor_token,
            "CARELEDGER_INTAKE_TOKEN": self.intake_token,
        }

    def intake_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.intake_token}"}

    def auditor_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.auditor_token}"}


def write_principals(directory: Path, client_id: str = CLIENT_ID) -> Principals:
    intake_token, auditor_token = new_token(), new_token()
    clients, auditors = directory / "clients.toml", directory / "auditors.toml"
    write_clients_file(clients, [ClientGrant("test-channel", intake_token, client_id)])
    write_auditors_file(auditors, [AuditorGrant("test-auditor", auditor_token)])
    key = directory / "checkpoint.key"
    made = ensure_checkpoint_key(key, ORIGIN)  # a ledger restarted on its file keeps its key
    verifier = made or vkey(verifier_of(load_signer(key)))
    return Principals(clients, auditors, intake_token, auditor_token, key, verifier)
