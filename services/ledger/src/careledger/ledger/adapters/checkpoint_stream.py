"""Publishing signed checkpoints on the checkpoint stream, where anyone granted may read
them and nobody may delete them (the stream denies delete and purge).

``Nats-Msg-Id = checkpoint-<size>`` makes a retry within the duplicate window a no-op
(the runner retries a failed publish at its next step). After a restart the runner is
given only the kept checkpoints beyond the stream's last (``latest``, read once), so none
is sent twice.
"""

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from careledger.contracts.subjects import MSG_ID
from careledger.ledger.domain.signed import Signed
from careledger.runtime.streams import CHECKPOINT_STREAM, CHECKPOINT_SUBJECT


class CheckpointStream:
    def __init__(self, js: JetStreamContext) -> None:
        self.js = js

    async def publish(self, signed: Signed) -> None:
        await self.js.publish(
            CHECKPOINT_SUBJECT,
            signed.note.encode(),
            stream=CHECKPOINT_STREAM,
            headers={MSG_ID: f"checkpoint-{signed.size}"},
        )

    async def latest(self) -> str | None:
        """The last note on the stream, if any."""
        try:
            message = await self.js.get_last_msg(CHECKPOINT_STREAM, CHECKPOINT_SUBJECT)
        except NotFoundError:
            return None
        return (message.data or b"").decode()
