"""Consents: can we demonstrate that this subject consented to this purpose (GDPR Art. 7(1))?

One row per (consent_id, purpose): who, controller, lawful basis, how (mechanism), what
they were shown (notice id, version, sha256, when), the evidence, the channel, who
captured it and when — and, once withdrawn (Art. 7(3)), when, how and by whom.
``ConsentWithdrawn`` withdraws only the purposes it lists.

Facts intake refuses change nothing here, so the first record stands: a second
``ConsentGiven`` for a known (consent_id, purpose), a withdrawal of a purpose already
withdrawn, and a withdrawal by another subject than the one who gave the consent.

Erasure: ``SubjectErased`` leaves these rows as they are — the proof of past lawful
processing is kept (Art. 17(3)(b), (e)). It is recorded once per subject in the ``erasures``
table (``erasures.py``) and joined at read time (``queries/registers/consents.py``). Marking
each consent row would need ``keys_of`` to find a subject's consent ids, which one event
cannot tell; the join keeps this projection pure and batch-independent, and serves every
register alike.
"""

import datetime as dt

from careledger.contracts.events import ConsentGiven, ConsentWithdrawn
from careledger.ledger.domain.applied import Applied
from careledger.ledger.domain.projection import RowProjection
from careledger.ledger.domain.projections import subject_key
from careledger.ledger.domain.rows import Key, Row, Rows, Table

TABLE = Table(
    "consents",
    {
        "consent_id": "VARCHAR",
        "purpose": "VARCHAR",
        "subject_id": "VARCHAR",
        "controller": "VARCHAR",
        "lawful_basis": "VARCHAR",
        "mechanism": "VARCHAR",
        "notice_id": "VARCHAR",
        "notice_version": "VARCHAR",
        "notice_sha256": "VARCHAR",
        "notice_shown_at": "TIMESTAMPTZ",
        "evidence_kind": "VARCHAR",
        "evidence_reference": "VARCHAR",
        "channel": "VARCHAR",
        "contact_id": "VARCHAR",
        "captured_by": "VARCHAR",
        "given_at": "TIMESTAMPTZ",
        "given_recorded_at": "TIMESTAMPTZ",
        "withdrawn_at": "TIMESTAMPTZ",
        "withdrawn_recorded_at": "TIMESTAMPTZ",
        "withdrawal_channel": "VARCHAR",
        "withdrawn_by": "VARCHAR",
        "state": "VARCHAR",
        "event_ids": "VARCHAR[]",
        subject_key.COLUMN: subject_key.TYPE,
    },
    key=("consent_id", "purpose"),
)


def keys_of(applied: Applied) -> list[Key]:
    event = applied.event
    assert isinstance(event, ConsentGiven | ConsentWithdrawn)
    return [(event.consent_id, purpose) for purpose in dict.fromkeys(event.purposes)]


def evolve(rows: Rows, applied: Applied) -> None:
    event = applied.event
    match event:
        case ConsentGiven():
            for purpose in dict.fromkeys(event.purposes):
                rows.setdefault(
                    (event.consent_id, purpose), _given(event, purpose, applied.recorded_at)
                )
        case ConsentWithdrawn():
            for purpose in dict.fromkeys(event.purposes):
                row = rows.get((event.consent_id, purpose))
                if row is None or (row["state"], row["subject_id"]) != ("given", event.subject_id):
                    continue
                row.update(
                    withdrawn_at=event.occurred_at,
                    withdrawn_recorded_at=applied.recorded_at,
                    withdrawal_channel=event.channel,
                    withdrawn_by=f"{event.actor.kind}:{event.actor.id}",
                    state="withdrawn",
                    event_ids=[*row["event_ids"], event.event_id],
                )


def _given(event: ConsentGiven, purpose: str, recorded_at: dt.datetime) -> Row:
    shown_at = event.notice.shown_at
    return dict.fromkeys(TABLE.columns) | {
        "consent_id": event.consent_id,
        "purpose": purpose,
        "subject_id": event.subject_id,
        "controller": event.controller,
        "lawful_basis": event.lawful_basis,
        "mechanism": event.mechanism,
        "notice_id": event.notice.id,
        "notice_version": event.notice.version,
        "notice_sha256": event.notice.sha256,
        "notice_shown_at": shown_at,
        "evidence_kind": event.evidence.kind,
        "evidence_reference": event.evidence.reference,
        "channel": event.channel,
        "contact_id": event.contact_id,
        "captured_by": f"{event.actor.kind}:{event.actor.id}",
        "given_at": event.occurred_at,
        "given_recorded_at": recorded_at,
        "state": "given",
        "event_ids": [event.event_id],
        subject_key.COLUMN: subject_key.subject_key(event.subject_id),
    }


# 2: subject_key; 3: the recorded instants are the stream's, not the publisher's claims
PROJECTION = RowProjection(TABLE, (ConsentGiven, ConsentWithdrawn), keys_of, evolve, version=3)
