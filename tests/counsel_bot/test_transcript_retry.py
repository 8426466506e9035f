"""A transcript too long for one message goes out in pieces, each sent with a transaction
id of its own, so that a retry repeats nothing the homeserver has. A youth may delete a
line (a name written and regretted) between a transcript sent in part and its retry: the
next counsellor must still read every other line, once.

The client stands in for the homeserver's idempotent send (`PUT /send/{txnId}`, as
Synapse keeps it: a repeated transaction id returns the first event and posts nothing);
the executor and the SQLite store are the real ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nio import RoomSendError, RoomSendResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import Transcript
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Router
from counsel_bot.store import IntakeMessage, NewConversation, SqliteStore, Transition
from tests.store.conftest import AeadSealer

AT = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
CID = ConversationID("C-7A7A7A7A")
ROOM = RoomID("!youthroom:x")
ANNA = UserID("@anna:x")
# Two lines fill one piece of the transcript (24,000 bytes): six lines, three pieces.
LINES = [f"Zeile{n}: " + "x" * 9_000 for n in range(1, 7)]


@dataclass
class IdempotentRoom:
    """What the room holds; sends keyed by transaction id, the ``fail_at``-th send refused."""

    fail_at: int = 0
    messages: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    user_id: str = "@counsel:x"
    should_query_keys: bool = False
    rooms: dict[str, Any] = field(default_factory=dict)

    async def room_send(self, room_id: str, message_type: str, content: dict[str, Any],
                        tx_id: str, **kwargs: Any) -> object:
        self.calls += 1
        if self.calls == self.fail_at:
            return RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED")
        self.messages.setdefault(tx_id, content["body"])
        return RoomSendResponse(f"${tx_id}", room_id)

    async def get_displayname(self, user: str) -> object:
        return None


async def _staff_room() -> RoomID | None:
    return RoomID("!staff:x")


async def test_a_line_deleted_between_a_partial_transcript_and_its_retry_loses_no_other(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(tmp_path / "counsel.sqlite3", AeadSealer())
    try:
        router = Router()
        router.handle(ConversationOpened(AT, CID))
        await store.commit_transition(Transition(
            AT, router.snapshot(), new_conversations=(NewConversation(CID, ROOM, UserID(
                "@youth:x")),),
            intake=tuple(IntakeMessage(CID, EventID(f"$l{n}"), line.encode())
                         for n, line in enumerate(LINES, 1))))
        room = IdempotentRoom(fail_at=2)  # the first piece goes, the second is refused
        executor = Executor(room, store, FakeClock(AT),  # type: ignore[arg-type]
                            default_language="de", staff_room=_staff_room)
        effect, key = Transcript(CID, ANNA, 1), f"transcript:{CID}:1"
        try:
            await executor.perform(effect, key)
        except EffectFailed:
            pass
        else:
            raise AssertionError("the second piece was to be refused")
        assert len(room.messages) == 1
        # The youth deletes their first line ("Zeile1: ich bin Lena ...") meanwhile.
        assert await store.delete_intake_message(CID, EventID("$l1"))
        await executor.perform(effect, key)
        read = "\n".join(room.messages.values())
        for line in LINES[1:]:
            assert read.count(line[:8]) == 1, f"{line[:6]} read {read.count(line[:8])} times"
    finally:
        await store.close()
