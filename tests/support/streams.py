"""Read back exactly what the event stream holds: subjects, headers and bytes."""

from dataclasses import dataclass

import nats

from careledger.contracts.subjects import EVENT_STREAM
from careledger.runtime.nats import NatsAccess
from careledger.stack.nats_server import NatsServer


@dataclass(frozen=True)
class StoredMessage:
    sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes

    def raw(self) -> bytes:
        """Everything a reader of the stream sees, as bytes."""
        headers = "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        return self.subject.encode() + b"\n" + headers.encode() + self.data


async def stored_messages(
    server: NatsServer | NatsAccess, stream: str = EVENT_STREAM
) -> list[StoredMessage]:
    """Every message of ``stream``, read as the admin (tests look everywhere): on ``server``,
    or through the admin's ``NatsAccess`` to a cluster."""
    access = server.access("admin") if isinstance(server, NatsServer) else server
    nc = await nats.connect(**access.connect_options())
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        messages: list[StoredMessage] = []
        if info.state.messages == 0:
            return messages
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            messages.append(
                StoredMessage(seq, msg.subject or "", dict(msg.headers or {}), msg.data or b"")
            )
        return messages
    finally:
        await nc.close()
