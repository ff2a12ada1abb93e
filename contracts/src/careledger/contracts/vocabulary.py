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

# Labels are the only free text an event holds, and the log is permanent, out of erasure's
# reach: a label names a thing (a controller, an external body, a document version, a
# record held elsewhere), never a person. A label refuses control characters (C0, DEL,
# C1), bidi controls (which make a label read otherwise than it is stored), line and
# paragraph separators, and '@': every e-mail address and social-network handle holds
# one and no label needs one, so pasting either is refused at the edge, not kept forever.
LABEL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069@]+(?!\n)$"
LABEL_RULE = (
    "A label, never personal data: 1-120 characters, no control or bidi characters, no '@'."
)
Label = Annotated[
    str, msgspec.Meta(min_length=1, max_length=120, pattern=LABEL_PATTERN, description=LABEL_RULE)
]
# A reference (or a version) is one token: no spaces, so it cannot hold a sentence or a name.
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]*(?!\n)$"
REFERENCE_RULE = (
    "A label, never personal data: 1-120 of A-Z a-z 0-9 . _ : / -, first a letter or digit."
)
Reference = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=120, pattern=REFERENCE_PATTERN, description=REFERENCE_RULE
    ),
]
ControllerName = Annotated[
    Label,
    msgspec.Meta(
        description=f"The data controller's name, e.g. 'Acme Telecom Iberia S.A.'. {LABEL_RULE}"
    ),
]
BodyName = Annotated[
    Label,
    msgspec.Meta(description=f"The external body's name, e.g. 'OMIC Sevilla'. {LABEL_RULE}"),
]
ExternalReference = Annotated[
    Reference,
    msgspec.Meta(description=f"The external body's own case reference. {REFERENCE_RULE}"),
]
TextVersion = Annotated[
    Reference,
    msgspec.Meta(
        description="The version of a text the customer was shown or given (a notice, a "
        f"script, the escalation rights), e.g. 'v7.2'. {REFERENCE_RULE}"
    ),
]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.:-]*(?!\n)$",
        description="Lowercase code: letters, digits, '_', '.', ':', '-'. Never personal data.",
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
