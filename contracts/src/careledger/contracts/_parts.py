"""Value objects shared by events and commands."""

from typing import Annotated

import msgspec

from careledger.contracts.vocabulary import (
    LABEL_RULE,
    REFERENCE_RULE,
    ActorKind,
    Art17Exemption,
    Channel,
    Code,
    CurrencyCode,
    EvidenceKind,
    Instant,
    Label,
    RedressKind,
    Reference,
    Sha256Hex,
    TextVersion,
)


class Part(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the small value objects. Strict, like the events and commands that hold
    them: an unknown field is refused, so nothing unnamed (an e-mail address, say) rides
    into the permanent log inside one."""


class Actor(Part, frozen=True, kw_only=True):
    """Who did it: an agent (by staff id), a system, or the customer themself."""

    kind: ActorKind
    id: Annotated[
        Code,
        msgspec.Meta(
            description="A staff id (agent), a service (system) or the subject_id (customer): "
            "a code, never a name or an e-mail address."
        ),
    ]


class Source(Part, frozen=True, kw_only=True):
    """Where the fact came from: the service that recorded it and the calling client."""

    service: Code
    client_id: Code
    channel: Channel | None = None


class Notice(Part, frozen=True, kw_only=True):
    """The privacy notice or call script the customer was shown, pinned by version and hash."""

    id: Code
    version: TextVersion
    sha256: Sha256Hex
    shown_at: Instant | None = None


class Evidence(Part, frozen=True, kw_only=True):
    """Where the proof of a fact lives (form submission id, recording id, document id)."""

    kind: EvidenceKind
    reference: Annotated[
        Reference,
        msgspec.Meta(
            description="The proof's id in the system that keeps it (a form submission, a "
            f"recording, a document), e.g. 'rec-2025-03-14-000871'. {REFERENCE_RULE}"
        ),
    ]


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
    reason: Annotated[
        Label,
        msgspec.Meta(
            description="Why the record class is kept, in general terms, e.g. 'Tax law "
            f"requires invoices to be kept for six years'. {LABEL_RULE}"
        ),
    ]


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
