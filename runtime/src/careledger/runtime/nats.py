"""How a process reaches NATS: the servers, the CA that signed their certificate, the
process's NKey seed and its inbox prefix. A server with TLS and NKeys refuses a client that
lacks any of them; the permissions of each user are the server's (``careledger.stack.trust``).
"""

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URL = "nats://127.0.0.1:4222"
URL, CA_FILE, NKEY_FILE = "NATS_URL", "CARELEDGER_NATS_CA_FILE", "CARELEDGER_NATS_NKEY_FILE"


@dataclass(frozen=True)
class NatsAccess:
    urls: tuple[str, ...] = (DEFAULT_URL,)
    ca_file: Path | None = None
    seed_file: Path | None = None
    inbox_prefix: str = "_INBOX"

    @classmethod
    def from_env(cls, env: Mapping[str, str], user: str) -> "NatsAccess":
        """From ``NATS_URL``, ``CARELEDGER_NATS_CA_FILE`` and ``CARELEDGER_NATS_NKEY_FILE``;
        the inbox prefix is ``user``'s (``_INBOX_<user>``) when a seed is given."""
        seed = Path(env[NKEY_FILE]) if env.get(NKEY_FILE) else None
        return cls(
            urls=urls(env.get(URL) or DEFAULT_URL),
            ca_file=Path(env[CA_FILE]) if env.get(CA_FILE) else None,
            seed_file=seed,
            inbox_prefix=f"_INBOX_{user}" if seed else "_INBOX",
        )

    def env(self) -> dict[str, str]:
        """The variables ``from_env`` reads this access back from (for a child process)."""
        env = {URL: self.where}
        if self.ca_file is not None:
            env[CA_FILE] = str(self.ca_file)
        if self.seed_file is not None:
            env[NKEY_FILE] = str(self.seed_file)
        return env

    @property
    def where(self) -> str:
        return ",".join(self.urls)

    def tls(self) -> ssl.SSLContext | None:
        """A client context trusting only ``ca_file`` (None: plaintext, or the system CAs
        for a ``tls://`` URL)."""
        if self.ca_file is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file))

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect``."""
        options: dict[str, Any] = {"servers": list(self.urls), "inbox_prefix": self.inbox_prefix}
        if (context := self.tls()) is not None:
            options["tls"] = context
        if self.seed_file is not None:
            options["nkeys_seed"] = str(self.seed_file)
        return options


def urls(text: str) -> tuple[str, ...]:
    """One URL or a comma-separated list."""
    return tuple(u.strip() for u in text.split(",") if u.strip())
