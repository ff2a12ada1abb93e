"""A small HTTP client for the ledger's API (the CLI's way in while the ledger runs)."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8081"


class LedgerUnreachable(RuntimeError):
    pass


def call(base: str, path: str, params: dict[str, str] | None = None, method: str = "GET") -> Any:
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(url, method=method)
    token = os.environ.get("CARELEDGER_TOKEN")
    if token:  # needed once the ledger has an auditors file
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
