"""Realistic CareLedger events and commands from a fixed seed.

Events are built as ``careledger.contracts`` structs and encoded with the contracts'
encoder, exactly as intake publishes them, so the ledger applies every one (the bench
checks that nothing was rejected). Customer stories are interleaved the way a contact
centre interleaves them: a few hundred open at once, each story in its own order.

A story is a contact (phone, email, chat, social, …) that may carry a consent, a
complaint (filed, acknowledged, escalated internally and/or by the customer to an
external body, resolved) and a later withdrawal, and is then closed. The resulting mix is
roughly 62% contact events, 25% complaint events and 13% consent events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from careledger.contracts import Actor, Evidence, Notice, PersonalRef, Redress, Source, encode
from careledger.contracts.events import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintResolved,
    ConsentGiven,
    ConsentWithdrawn,
    ContactClosed,
    ContactOpened,
    Event,
)
from careledger.contracts.subjects import EVENT_TYPE, MSG_ID, event_subject
from careledger.intake.domain.ids import tracking_code_for

CHANNELS = ("phone", "email", "web_form", "chat", "social", "in_person", "postal")
CHANNEL_WEIGHTS = (30, 22, 14, 14, 10, 7, 3)
NETWORKS = ("twitter", "facebook", "instagram", "whatsapp", "telegram", "linkedin", "tiktok")
CLIENTS = {
    "phone": "ivr-gateway",
    "email": "mailroom",
    "web_form": "web-portal",
    "chat": "chat-widget",
    "social": "social-desk",
    "in_person": "store-pos",
    "postal": "mailroom",
}
OUTCOMES = ("resolved", "information_given", "transferred", "follow_up", "abandoned")
PRODUCTS = ("mobile.postpaid", "mobile.prepaid", "fibre.home", "tv.bundle", "energy.power")
CAUSES = (
    "billing.roaming_charge",
    "billing.double_charge",
    "outage.no_service",
    "outage.no_callback",
    "contract.early_termination",
    "sales.misleading_offer",
)
JURISDICTIONS = ("ES", "ES-AN", "ES-MD", "ES-CT", "PT", "FR", "CO")
PURPOSES = ("marketing_email", "marketing_sms", "call_recording", "profiling", "third_party")
MECHANISMS = ("unticked_opt_in_box", "keypress", "verbal", "signature", "double_opt_in_confirmed")
EXTERNAL = ("consumer_office", "ombudsman", "arbitration")
BODIES = {"consumer_office": "OMIC Madrid", "ombudsman": "Defensor", "arbitration": "JAC"}
CONTROLLER = "Acme Telecom Iberia S.A."
BASE_TIME = dt.datetime(2025, 1, 6, 8, 0, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=90)  # whatever the count, the log covers one quarter


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Generated:
    """The encoded log plus what the queries need to ask about it."""

    messages: list[tuple[str, bytes, dict[str, str]]]
    types: Counter[str]
    subjects: list[str]
    mean_bytes: float

    def summary(self) -> dict[str, Any]:
        total = sum(self.types.values())
        return {
            "events": total,
            "mean_bytes": round(self.mean_bytes, 1),
            "mix_percent": {k: round(100 * v / total, 1) for k, v in sorted(self.types.items())},
            "subjects": len(self.subjects),
        }


@dataclass
class _Story:
    """One customer's contact, and what happens on it, as a queue of event factories."""

    steps: list[Any] = field(default_factory=list)


class EventFactory:
    """Builds stories of valid events for a pool of data subjects."""

    def __init__(self, rng: random.Random, subjects: int) -> None:
        self.rng = rng
        self.subjects = [_uuid(rng) for _ in range(subjects)]
        self.notice = Notice(
            id="privacy-notice", version="v3", sha256=hashlib.sha256(b"notice v3").hexdigest()
        )

    def story(self) -> Iterator[Any]:
        """Yields callables ``(when) -> Event``; each step continues the story."""
        rng = self.rng
        subject = rng.choice(self.subjects)
        contact = _uuid(rng)
        correlation = _uuid(rng)
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        agent = f"agent-{rng.randrange(1, 400):04d}"

        def envelope(when: dt.datetime, actor: Actor | None = None, personal: bool = False) -> dict:
            event_id = _uuid(rng)
            fields = {
                "event_id": event_id,
                "occurred_at": when,
                "recorded_at": when + dt.timedelta(milliseconds=rng.randrange(5, 900)),
                "subject_id": subject,
                "actor": actor or Actor(kind="agent", id=agent),
                "source": Source(service="intake", client_id=CLIENTS[channel], channel=channel),
                "correlation_id": correlation,
                "causation_id": None,  # intake leaves it unset
                "personal": PersonalRef(
                    vault_key=f"vault:{event_id}",
                    commitment=hashlib.sha256(event_id.encode()).hexdigest(),
                )
                if personal
                else None,
            }
            return fields

        yield lambda when: ContactOpened(
            **envelope(when, personal=rng.random() < 0.4),
            contact_id=contact,
            channel=channel,
            network=rng.choice(NETWORKS) if channel == "social" else None,
            direction="inbound" if rng.random() < 0.85 else "outbound",
            agent=agent,
        )
        consent = _uuid(rng) if rng.random() < 0.3 else None
        purposes = rng.sample(PURPOSES, rng.choice((1, 1, 2)))
        if consent:
            yield lambda when: ConsentGiven(
                **envelope(when),
                consent_id=consent,
                controller=CONTROLLER,
                purposes=purposes,
                lawful_basis="consent",
                mechanism=rng.choice(MECHANISMS),
                notice=self.notice,
                evidence=Evidence(kind="form_submission", reference=f"ev-{consent[:8]}"),
                channel=channel,
                contact_id=contact,
            )
        if rng.random() < 0.25:
            complaint = _uuid(rng)
            code = tracking_code_for(complaint)
            yield lambda when: ComplaintFiled(
                **envelope(when, personal=rng.random() < 0.7),
                complaint_id=complaint,
                tracking_code=code,
                contact_id=contact,
                kind="complaint" if rng.random() < 0.8 else "claim",
                product=rng.choice(PRODUCTS),
                cause=rng.choice(CAUSES),
                channel=channel,
                jurisdiction=rng.choice(JURISDICTIONS),
                sector="telecommunications",
                vulnerable=rng.random() < 0.05,
                regimes=["eu.gdpr"],
            )
            if rng.random() < 0.9:
                yield lambda when: ComplaintAcknowledged(
                    **envelope(when, actor=Actor(kind="system", id="complaints-desk")),
                    complaint_id=complaint,
                    tracking_code=code,
                    deadline_communicated=(when + dt.timedelta(days=30)).date(),
                )
            level = "frontline"
            if rng.random() < 0.35:
                yield lambda when: ComplaintEscalated(
                    **envelope(when),
                    complaint_id=complaint,
                    from_level="frontline",
                    to_level="supervisor",
                    initiated_by="staff",
                    reason_code="no_technician_slot",
                )
                level = "supervisor"
            if rng.random() < 0.1:
                to_level = rng.choice(EXTERNAL)
                yield lambda when: ComplaintEscalated(
                    **envelope(when, actor=Actor(kind="customer", id=subject[:8])),
                    complaint_id=complaint,
                    from_level=level,
                    to_level=to_level,
                    body_name=BODIES[to_level],
                    external_reference=f"EXT-{complaint[:6]}",
                    initiated_by="customer",
                    reason_code="customer_disagrees",
                )
            if rng.random() < 0.8:
                upheld = rng.random() < 0.5
                yield lambda when: ComplaintResolved(
                    **envelope(when),
                    complaint_id=complaint,
                    outcome="upheld" if upheld else "rejected",
                    redress=Redress(amount="25.00", currency="EUR", kind="refund")
                    if upheld
                    else None,
                    escalation_rights_communicated=True,
                    escalation_rights_text_version="rights-v2",
                )
        if consent and rng.random() < 0.3:
            yield lambda when: ConsentWithdrawn(
                **envelope(when, actor=Actor(kind="customer", id=subject[:8])),
                consent_id=consent,
                purposes=purposes[:1],
                channel=channel,
            )
        if rng.random() < 0.97:
            yield lambda when: ContactClosed(
                **envelope(when), contact_id=contact, outcome=rng.choice(OUTCOMES)
            )


def publication(event: Event) -> tuple[str, bytes, dict[str, str]]:
    """(subject, payload, headers) exactly as intake publishes an event."""
    return (
        event_subject(event),
        encode(event),
        {MSG_ID: event.event_id, EVENT_TYPE: type(event).__name__},
    )


def generate(count: int, seed: int = 20261123, open_stories: int = 400) -> Generated:
    """``count`` events: stories interleaved, in time order, from ``seed``."""
    factory = EventFactory(random.Random(seed), subjects=max(1000, count // 8))
    messages: list[tuple[str, bytes, dict[str, str]]] = []
    types: Counter[str] = Counter()
    size = 0
    for event in stream(factory, count, open_stories):
        subject, data, headers = publication(event)
        messages.append((subject, data, headers))
        types[type(event).__name__] += 1
        size += len(data)
    return Generated(messages, types, factory.subjects, size / max(1, len(messages)))


def stream(factory: EventFactory, count: int, open_stories: int = 400) -> Iterator[Event]:
    """``count`` events from ``factory``'s stories, interleaved, in time order: one at a
    time, so that a log of ten million need not be held in memory."""
    rng = factory.rng
    gap = SPAN / count
    active: list[Iterator[Any]] = []
    when = BASE_TIME
    made = 0
    while made < count:
        while len(active) < open_stories:
            active.append(factory.story())
        index = rng.randrange(len(active))
        step = next(active[index], None)
        if step is None:
            active[index] = active[-1]
            active.pop()
            continue
        when += gap
        made += 1
        yield step(when)


# --- commands for the intake load driver -------------------------------------------------


Body = dict[str, Any]
Step = tuple[str, Callable[[], Body]]


def command_stories(rng: random.Random, subjects: list[str]) -> Iterator[list[Step]]:
    """Endless customer stories as command sequences ``(name, make_body)`` for intake.

    Every command makes intake read the aggregates it touches (subject, contact,
    complaint) before deciding; later steps depend on earlier ones being accepted. Bodies
    are made when sent, so ``occurred_at`` is never in the future.
    """
    while True:
        yield _command_story(rng, rng.choice(subjects))


def _command_story(rng: random.Random, subject: str) -> list[Step]:
    notice = {"id": "privacy-notice", "version": "v3", "sha256": "ab" * 32}
    contact = _uuid(rng)
    channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
    agent = {"kind": "agent", "id": f"agent-{rng.randrange(1, 400):04d}"}

    def step(name: str, actor: Body = agent, **fields: Any) -> Step:
        def make() -> Body:
            now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            envelope = {"subject_id": subject, "occurred_at": now.isoformat()}
            return envelope | {"actor": actor, "client_id": CLIENTS[channel]} | fields

        return name, make

    opened: Body = {"contact_id": contact, "channel": channel, "direction": "inbound"}
    if channel == "social":
        opened["network"] = rng.choice(NETWORKS)
    if rng.random() < 0.4:
        opened["personal"] = {"name": "Lucía Fernández Ortega"}
    story = [step("open-contact", **opened)]
    consent = _uuid(rng) if rng.random() < 0.3 else None
    if consent:
        story.append(
            step(
                "give-consent",
                consent_id=consent,
                controller=CONTROLLER,
                purposes=[rng.choice(PURPOSES)],
                lawful_basis="consent",
                mechanism=rng.choice(MECHANISMS),
                notice=notice,
                evidence={"kind": "form_submission", "reference": f"ev-{consent[:8]}"},
                channel=channel,
                contact_id=contact,
            )
        )
    if rng.random() < 0.25:
        complaint = _uuid(rng)
        story.append(
            step(
                "file-complaint",
                complaint_id=complaint,
                contact_id=contact,
                kind="complaint",
                product=rng.choice(PRODUCTS),
                cause=rng.choice(CAUSES),
                channel=channel,
                jurisdiction=rng.choice(JURISDICTIONS),
                sector="telecommunications",
                personal={"text": "Charged roaming twice although my plan includes it."},
            )
        )
        if rng.random() < 0.9:
            story.append(step("acknowledge-complaint", complaint_id=complaint))
        if rng.random() < 0.35:
            story.append(
                step(
                    "escalate-complaint",
                    complaint_id=complaint,
                    to_level="supervisor",
                    initiated_by="staff",
                    reason_code="no_technician_slot",
                )
            )
        if rng.random() < 0.8:
            story.append(
                step(
                    "resolve-complaint",
                    complaint_id=complaint,
                    outcome="upheld",
                    escalation_rights_communicated=True,
                    escalation_rights_text_version="rights-v2",
                )
            )
    if consent and rng.random() < 0.3:
        customer = {"kind": "customer", "id": subject[:8]}
        story.append(step("withdraw-consent", customer, consent_id=consent, channel=channel))
    story.append(step("close-contact", contact_id=contact, outcome=rng.choice(OUTCOMES)))
    return story
