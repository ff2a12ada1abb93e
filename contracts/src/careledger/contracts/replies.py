"""Replies intake gives to a command, over HTTP and NATS alike (refusals: ``ErrorReply``)."""

import msgspec


class Accepted(msgspec.Struct, frozen=True, kw_only=True):
    """The command became an event, appended and acknowledged by JetStream.

    ``replayed`` is true when this answers a retry of a request accepted earlier (same
    Idempotency-Key): the event and sequence are the original ones, nothing was added.
    """

    event_id: str
    type: str
    subject: str
    stream_sequence: int
    aggregate: str
    aggregate_id: str
    consent_id: str | None = None
    tracking_code: str | None = None
    replayed: bool = False
