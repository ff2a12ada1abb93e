"""Dead letters: a rejected message goes to the DLQ stream with the reason, byte for byte.

Published before the batch commits; ``Nats-Msg-Id = dlq-<sequence>`` makes a replay of
the same batch after a crash a no-op inside the duplicate window.
"""

from nats.js import JetStreamContext

from careledger.contracts.subjects import DLQ_STREAM, MSG_ID
from careledger.ledger.ingest.ingest import Rejection

REASON = "CareLedger-Reason"
RULE = "CareLedger-Rule"
ORIGINAL_SUBJECT = "CareLedger-Original-Subject"
ORIGINAL_SEQUENCE = "CareLedger-Original-Sequence"
OMITTED = "CareLedger-Payload-Omitted"


def dead_letter_headers(rejection: Rejection) -> dict[str, str]:
    message = rejection.message
    kept = {
        (f"Original-{k}" if k.startswith("Nats-") else k): v for k, v in message.headers.items()
    }
    return kept | {
        MSG_ID: f"dlq-{message.sequence}",
        REASON: rejection.reason[:1000].replace("\r", " ").replace("\n", " "),
        RULE: rejection.rule,
        ORIGINAL_SUBJECT: message.nats_subject,
        ORIGINAL_SEQUENCE: str(message.sequence),
    }


class DeadLetters:
    def __init__(self, js: JetStreamContext, max_payload: int, stream: str = DLQ_STREAM) -> None:
        self.js = js
        self.max_payload = max_payload
        self.stream = stream

    async def publish(self, rejections: list[Rejection]) -> None:
        for rejection in rejections:
            data, headers = rejection.message.data, dead_letter_headers(rejection)
            if not self._fits(data, headers):
                # Too large once the reason is added (the server would drop the connection):
                # the bytes stay in the ledger's rejected table and the dead letter says so.
                headers[OMITTED] = f"{len(data)} bytes kept in the ledger's rejected table"
                data = b""
            subject = f"careledger.dlq.{rejection.message.sequence}"
            await self.js.publish(subject, data, stream=self.stream, headers=headers)

    def _fits(self, data: bytes, headers: dict[str, str]) -> bool:
        framing = 64 + sum(len(k) + len(v) + 4 for k, v in headers.items())
        return len(data) + framing <= self.max_payload
