"""The closed vocabularies of CareLedger: channels, levels, outcomes, mechanisms.

Literal types keep the JSON Schema readable (an ``enum`` of strings) and make a
misspelt value a field-level error at the edge.
"""

import datetime as dt
from typing import Annotated, Literal, get_args

import msgspec

# Patterns end in (?!\n)$: msgspec matches with re.search, where a bare $ also matches
# before a final newline, so "agent-7\n" would pass; JSON Schema readers treat it alike.

OPAQUE_ID_PATTERN = (
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9A-HJKMNP-TV-Z]{26})(?!\n)$"
)
OpaqueId = Annotated[
    str,
    msgspec.Meta(
        pattern=OPAQUE_ID_PATTERN,
        description="Opaque id: a lowercase UUID or a ULID. Never personal data.",
        examples=["0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f"],
    ),
]
Instant = Annotated[
    dt.datetime,
    msgspec.Meta(tz=True, description="RFC 3339 timestamp with a time zone (stored as UTC)."),
]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f]+(?!\n)$")]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.:-]*(?!\n)$",
        description="Lowercase code: letters, digits, '_', '.', ':', '-'.",
    ),
]
Sha256Hex = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}(?!\n)$")]
Jurisdiction = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?(?!\n)$",
        description="ISO 3166-1 alpha-2 country, optionally with an ISO 3166-2 subdivision.",
        examples=["ES", "ES-AN", "GB-SCT", "CO"],
    ),
]
CurrencyCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}(?!\n)$", description="ISO 4217")]

Channel = Literal["in_person", "phone", "email", "web_form", "chat", "social", "postal"]
SocialNetwork = Literal[
    "twitter", "facebook", "instagram", "whatsapp", "telegram", "linkedin", "tiktok", "other"
]
Direction = Literal["inbound", "outbound"]
ContactMode = Literal["direct", "indirect"]
ContactOutcome = Literal[
    "resolved", "information_given", "complaint_filed", "transferred", "follow_up", "abandoned"
]
ActorKind = Literal["agent", "system", "customer"]

LawfulBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]
AffirmativeMechanism = Literal[
    "unticked_opt_in_box", "keypress", "verbal", "signature", "double_opt_in_confirmed"
]
# What a caller may claim; intake refuses the last three, which are not consent.
ConsentMechanism = Literal[AffirmativeMechanism, "pre_ticked_box", "silence", "inactivity"]
EvidenceKind = Literal[
    "form_submission", "call_recording", "signed_document", "email_confirmation", "chat_transcript"
]

# data_subject_request: a GDPR Arts 15-22 request (access, erasure, ...), owed an answer
# within the Art. 12(3) period; the eu.gdpr.art12 regime applies to it by kind.
CaseKind = Literal["complaint", "claim", "enquiry", "incident", "petition", "data_subject_request"]
# What an external body (consumer office, ombudsman, arbitration, regulator, court) decided
# on an escalated complaint. ``not_admitted``: the body declined to hear it.
BodyDecision = Literal[
    "upheld", "partially_upheld", "rejected", "settled", "withdrawn", "not_admitted"
]
# In the order a complaint climbs them, lowest first: ESCALATION_ORDER is read from here.
EscalationLevel = Literal[
    "frontline",
    "supervisor",
    "complaints_department",
    "consumer_office",
    "ombudsman",
    "arbitration",
    "regulator",
    "court",
]
ESCALATION_ORDER: tuple[EscalationLevel, ...] = get_args(EscalationLevel)
INTERNAL_LEVELS: frozenset[EscalationLevel] = frozenset(
    {"frontline", "supervisor", "complaints_department"}
)
Initiator = Literal["customer", "staff"]
ResolutionOutcome = Literal["upheld", "partially_upheld", "rejected", "withdrawn"]
RedressKind = Literal["refund", "compensation", "goodwill", "service", "apology", "none"]
Art17Exemption = Literal[
    "art_17_3_a_expression",
    "art_17_3_b_legal_obligation",
    "art_17_3_c_public_health",
    "art_17_3_d_archiving",
    "art_17_3_e_legal_claims",
]
