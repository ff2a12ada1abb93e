"""Every read of personal data is itself recorded, on a JetStream stream of its own.

The record is published and acknowledged *before* anything is revealed: if it cannot be
kept, nothing is shown. The stream denies delete and purge, like the event log.
"""

import datetime as dt
import uuid

import msgspec
from nats.js import JetStreamContext

from careledger.runtime.streams import ACCESS_STREAM


class PersonalDataRead(msgspec.Struct, frozen=True, kw_only=True):
    read_id: str
    subject_id: str
    reader: str
    roles: list[str]
    purpose: str
    records: int
    at: dt.datetime


class AccessLog:
    def __init__(self, js: JetStreamContext) -> None:
        self.js = js

    async def record(
        self, *, subject_id: str, reader: str, roles: frozenset[str], purpose: str, records: int
    ) -> PersonalDataRead:
        read = PersonalDataRead(
            read_id=str(uuid.uuid4()),
            subject_id=subject_id,
            reader=reader,
            roles=sorted(roles),
            purpose=purpose,
            records=records,
            at=dt.datetime.now(dt.UTC),
        )
        await self.js.publish(
            f"careledger.access.{subject_id}",
            msgspec.json.encode(read),
            stream=ACCESS_STREAM,
            headers={"Nats-Msg-Id": read.read_id},
        )
        return read
