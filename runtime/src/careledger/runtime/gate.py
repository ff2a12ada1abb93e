"""What both HTTP APIs do alike about who calls them: find the principal behind a request
once, log and count each refusal (never the token), and throttle each principal (429 with
``Retry-After``).

The throttle is a fixed one-second window per principal, O(1) a request. Litestar's own
``RateLimitMiddleware`` can key on the principal, but it keeps every request's timestamp in
a JSON list that it decodes and encodes again on each request (O(limit)): here that added
0.1-0.5 ms a request at a limit of 500, against the ~1.6 ms intake spends on a command."""

import logging
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any, Generic, Protocol, Self, cast

from litestar import Request
from litestar.exceptions import TooManyRequestsException

from careledger.runtime.principals import P, Principals, require_principals


class Access(Protocol):
    """The settings of a service that the gate reads."""

    @property
    def insecure_dev(self) -> bool: ...
    @property
    def rate_limit(self) -> int: ...


log = logging.getLogger(__name__)

HttpRequest = Request[Any, Any, Any]
CHALLENGE = {"WWW-Authenticate": "Bearer"}
DEFAULT_RATE_LIMIT = 500  # requests a second per principal (per process)
DEFAULT_READ_TIMEOUT = 10.0  # seconds a client has to send a whole request
_CACHE = "careledger.principal"
_ANONYMOUS = object()


class Gate(Generic[P]):
    """The principals of one service and what it did with their requests.

    ``open_access``: no principals file and ``CARELEDGER_INSECURE_DEV=1``, so a request
    without a token goes through as ``anonymous``. ``refusals`` counts 401, 403 and 429."""

    def __init__(
        self,
        principals: Principals[P],
        *,
        service: str,
        insecure_dev: bool,
        rate_limit: int,
        open_paths: tuple[str, ...],
    ) -> None:
        self.principals = principals
        self.service = service
        self.insecure_dev = insecure_dev
        self.open_access = insecure_dev and not principals.configured
        self.rate_limit = rate_limit
        self.open_paths = open_paths
        self.refusals: Counter[int] = Counter()
        self._windows = Windows(rate_limit)
        self._throttle_logged: dict[str, float] = {}

    @classmethod
    def closed(
        cls,
        principals: Principals[P],
        file: tuple[str, Path | None],
        access: "Access",
        *,
        service: str,
        open_paths: tuple[str, ...],
    ) -> "Self":
        """The gate of a service that fails closed: PrincipalsFileError unless ``file``
        (its variable and path) lists someone or ``access.insecure_dev``."""
        require_principals(principals, *file, access.insecure_dev)
        return cls(
            principals,
            service=service,
            insecure_dev=access.insecure_dev,
            rate_limit=access.rate_limit,
            open_paths=open_paths,
        )

    def warn_if_insecure(self) -> None:
        if self.insecure_dev:
            log.warning(
                "INSECURE DEV MODE (CARELEDGER_INSECURE_DEV=1): %s",
                f"{self.service}'s HTTP API is OPEN to anyone, without a token"
                if self.open_access
                else f"{self.service} was started with the insecure switch (tokens from "
                f"{self.principals.source} are still required)",
            )

    def principal(self, request: HttpRequest) -> P | None:
        """Who sent the request (None: no known token), worked out once per request."""
        scope = cast(dict[str, Any], request.scope)
        cached = scope.get(_CACHE)
        if cached is None:
            found = self.principals.authenticate(request.headers.get("authorization"))
            scope[_CACHE] = cached = _ANONYMOUS if found is None else found
        return None if cached is _ANONYMOUS else cast(P, cached)

    def who(self, request: HttpRequest) -> str:
        """The principal's name, or ``anonymous@<address>``: the key of its rate limit."""
        principal = self.principal(request)
        if principal is not None:
            return principal.name
        return f"anonymous@{request.client.host if request.client else 'unknown'}"

    def refused(self, request: HttpRequest, status: int, rule: str) -> None:
        """Log (WARNING) and count a refusal: who, which route, which rule."""
        self.refusals[status] += 1
        log.warning(
            "refused %s %r from %s: %d %s",
            request.method,
            request.url.path,
            self.who(request),
            status,
            rule,
        )

    def throttled(self, request: HttpRequest) -> None:
        """Count a 429; log it once a second per principal, so a flood cannot flood the log."""
        self.refusals[429] += 1
        who, now = self.who(request), time.monotonic()
        if now - self._throttle_logged.get(who, -1.0) >= 1.0:
            if len(self._throttle_logged) > 10_000:  # many addresses: forget the old ones
                self._throttle_logged.clear()
            self._throttle_logged[who] = now
            log.warning(
                "refused %s %r from %s: 429 rate_limit (%d requests a second per principal)",
                request.method,
                request.url.path,
                who,
                self.rate_limit,
            )

    async def throttle(self, request: HttpRequest) -> None:
        """Before a request (not to an open path): TooManyRequestsException, with
        ``Retry-After``, once its principal has sent ``rate_limit`` this second. A
        coroutine: Litestar runs a synchronous hook in a worker thread, a cost on every
        request of both services (docs/performance.md)."""
        if request.scope["path"] in self.open_paths:  # request.url parses the whole URL
            return
        wait = self._windows.admit(self.who(request), time.time())
        if wait is not None:
            raise TooManyRequestsException(headers={"Retry-After": str(max(1, math.ceil(wait)))})

    def health(self) -> dict[str, Any]:
        """What /healthz shows of the gate."""
        return {
            "insecure_dev": self.insecure_dev,
            "refusals": {str(status): self.refusals[status] for status in (401, 403, 429)},
        }


class Windows:
    """At most ``rate`` requests per key in each one-second window (of the clock ``now``)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._counts: dict[str, tuple[int, int]] = {}  # key: (window, requests in it)

    def admit(self, key: str, now: float) -> float | None:
        """None to go on (and count it), or the seconds until ``key``'s next window."""
        window = int(now)
        started, count = self._counts.get(key, (window, 0))
        if started != window:
            count = 0
        if count >= self.rate:
            return window + 1 - now
        if len(self._counts) > 10_000:  # many addresses: forget the windows gone by
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        self._counts[key] = (window, count + 1)
        return None
