"""Value objects shared by events and commands."""

from typing import Annotated

import msgspec

from careledger.contracts.vocabulary import (
    ActorKind,
    Art17Exemption,
    Channel,
    Code,
    CurrencyCode,
    EvidenceKind,
    Instant,
    Label,
    RedressKind,
    Sha256Hex,
)


class Part(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the small value objects.

    Like events they tolerate unknown fields (forward compatibility of the log); commands
    are checked for unknown fields at every depth by the command codec instead.
    """


class Actor(Part, frozen=True, kw_only=True):
    """Who did it: an agent (by staff id), a system, or the customer themself."""

    kind: ActorKind
    id: Code


class Source(Part, frozen=True, kw_only=True):
    """Where the fact came from: the service that recorded it and the calling client."""

    service: Code
    client_id: Code
    channel: Channel | None = None


class Notice(Part, frozen=True, kw_only=True):
    """The privacy notice or call script the customer was shown, pinned by version and hash."""

    id: Code
    version: Label
    sha256: Sha256Hex
    shown_at: Instant | None = None


class Evidence(Part, frozen=True, kw_only=True):
    """Where the proof of a fact lives (form submission id, recording id, document id)."""

    kind: EvidenceKind
    reference: Label


class Redress(Part, frozen=True, kw_only=True):
    amount: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?(?!\n)$",
            description="Non-negative decimal amount as a string, e.g. '25.00'.",
        ),
    ]
    currency: CurrencyCode
    kind: RedressKind


class Retention(Part, frozen=True, kw_only=True):
    """A record class kept after erasure, the Art. 17(3) exemption and why."""

    record_class: Code
    exemption: Art17Exemption
    reason: Label


class PersonalRef(Part, frozen=True, kw_only=True):
    """A pointer into the personal-data vault plus a salted commitment (HMAC-SHA256).

    The commitment lets a holder of the data and salt prove what was recorded; once the
    vault entry and salt are destroyed it links to nobody.
    """

    vault_key: Code
    commitment: Sha256Hex


Text = Annotated[str, msgspec.Meta(max_length=20_000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]


class PersonalData(Part, frozen=True, kw_only=True):
    """Personal data a command may carry. It goes to the vault, never into an event."""

    name: Short | None = None
    email: Short | None = None
    phone: Short | None = None
    address: Annotated[str, msgspec.Meta(max_length=1_000)] | None = None
    text: Text | None = None

    def is_empty(self) -> bool:
        return not any((self.name, self.email, self.phone, self.address, self.text))
