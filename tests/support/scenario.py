"""A coherent customer-care story as command payloads, in the order they can be accepted.

A customer phones in (verbal consent to call recording), complains about a router on
Twitter, the complaint is acknowledged, escalated to a supervisor and then by the customer
to the municipal consumer office, resolved with a refund; marketing consent is withdrawn
by email; finally the customer asks for erasure.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

PERSONAL = {
    "name": "Zoë Quintanilla-Ybarra",
    "email": "zoe.quintanilla@example.org",
    "phone": "+34 600 111 222",
    "text": "My router burnt out twice and nobody called me back about the warranty.",
}
PERSONAL_STRINGS = [*PERSONAL.values(), "Quintanilla", "600 111 222", "600111222"]


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class Story:
    subject_id: str = field(default_factory=new_id)
    contact_id: str = field(default_factory=new_id)
    complaint_id: str = field(default_factory=new_id)
    consent_id: str = field(default_factory=new_id)

    def common(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "occurred_at": now(),
            "actor": {"kind": "agent", "id": "agent-7"},
            "client_id": "crm-madrid",
        }

    def commands(self) -> list[tuple[str, dict[str, Any]]]:
        """(command name, payload) for every command type, in an order intake accepts."""
        c = self.common
        notice = {"id": "privacy-notice", "version": "2026-03", "sha256": "ab" * 32}
        return [
            (
                "open-contact",
                c()
                | {
                    "contact_id": self.contact_id,
                    "channel": "social",
                    "network": "twitter",
                    "direction": "inbound",
                    "personal": {"name": PERSONAL["name"]},
                },
            ),
            (
                "give-consent",
                c()
                | {
                    "consent_id": self.consent_id,
                    "controller": "Acme Telecom SA",
                    "purposes": ["call_recording", "marketing"],
                    "lawful_basis": "consent",
                    "mechanism": "verbal",
                    "notice": notice,
                    "evidence": {"kind": "call_recording", "reference": "rec-8812"},
                    "channel": "phone",
                    "contact_id": self.contact_id,
                    "personal": {"phone": PERSONAL["phone"]},
                },
            ),
            (
                "file-complaint",
                c()
                | {
                    "complaint_id": self.complaint_id,
                    "contact_id": self.contact_id,
                    "kind": "complaint",
                    "product": "fibre-router",
                    "cause": "faulty-device",
                    "channel": "social",
                    "jurisdiction": "ES-MD",
                    "sector": "telecom",
                    "regimes": ["es.ley_10_2025"],
                    "personal": {"email": PERSONAL["email"], "text": PERSONAL["text"]},
                },
            ),
            (
                "acknowledge-complaint",
                c() | {"complaint_id": self.complaint_id, "deadline_communicated": "2026-12-15"},
            ),
            (
                "escalate-complaint",
                c()
                | {
                    "complaint_id": self.complaint_id,
                    "to_level": "supervisor",
                    "initiated_by": "staff",
                    "reason_code": "no-reply-48h",
                },
            ),
            (
                "resolve-complaint",
                c()
                | {
                    "complaint_id": self.complaint_id,
                    "outcome": "upheld",
                    "redress": {"amount": "49.90", "currency": "EUR", "kind": "refund"},
                    "escalation_rights_communicated": True,
                    "escalation_rights_text_version": "adr-2026-01",
                },
            ),
            (
                "withdraw-consent",
                c()
                | {"consent_id": self.consent_id, "purposes": ["marketing"], "channel": "email"},
            ),
            ("close-contact", c() | {"contact_id": self.contact_id, "outcome": "complaint_filed"}),
            (
                "erase-subject",
                c()
                | {
                    "legal_basis": "gdpr_art_17_1_a",
                    "retained": [
                        {
                            "record_class": "complaint",
                            "exemption": "art_17_3_b_legal_obligation",
                            "reason": "consumer law requires it",
                        }
                    ],
                },
            ),
        ]
