"""Read back exactly what the event stream holds: subjects, headers and bytes."""

from dataclasses import dataclass

import nats

from careledger.contracts.subjects import EVENT_STREAM


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


async def stored_messages(url: str, stream: str = EVENT_STREAM) -> list[StoredMessage]:
    nc = await nats.connect(url)
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
