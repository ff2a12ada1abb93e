"""A small HTTP client for the ledger's API (the CLI's way in while the ledger runs).

The bearer token it sends: ``CARELEDGER_TOKEN``, else the file ``CARELEDGER_TOKEN_FILE``
names, else ``var/tokens/dev-auditor.token`` if there is one (what ``make run`` made, when
run from the repository; ``CARELEDGER_VAR`` moves ``var``).
"""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8081"
LEDGER_TOKEN = ("CARELEDGER_TOKEN", "CARELEDGER_TOKEN_FILE", "dev-auditor")
INTAKE_TOKEN = ("CARELEDGER_INTAKE_TOKEN", "CARELEDGER_INTAKE_TOKEN_FILE", "dev-channel")


class LedgerUnreachable(RuntimeError):
    pass


class TokenUnreadable(RuntimeError):
    pass


def bearer_token(which: tuple[str, str, str], env: Mapping[str, str] | None = None) -> str | None:
    """The token named by ``which`` (variable, file variable, make run's principal): the
    variable, else the file, else ``var/tokens/<principal>.token`` if present."""
    env = os.environ if env is None else env
    variable, file_variable, principal = which
    if env.get(variable):
        return env[variable].strip()
    if env.get(file_variable):
        path = Path(env[file_variable])
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise TokenUnreadable(f"cannot read {file_variable}={path}: {exc}") from None
    dev = Path(env.get("CARELEDGER_VAR") or "var") / "tokens" / f"{principal}.token"
    try:
        return dev.read_text().strip() or None
    except OSError:
        return None


def call(base: str, path: str, params: dict[str, str] | None = None, method: str = "GET") -> Any:
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(url, method=method)
    token = bearer_token(LEDGER_TOKEN)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}") | {"http_status": exc.code}
    except OSError as exc:
        raise LedgerUnreachable(
            f"no ledger answers at {base} ({exc}); start it (make run) or pass --url"
        ) from exc
