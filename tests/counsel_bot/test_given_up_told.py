"""An effect the homeserver refuses for good is tried five times, then given up. The staff
were told nothing: a log line by kind and a counter only Grafana shows. A youth's
emergency numbers, a mail for the counsellor, a deletion step stopped because crisis words
opened the conversation again ("the staff are told that this step was dropped", the
executor says): nobody learnt which conversation missed what. The bot's own outbox wiring,
the executor's answer stood in for, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nio import AsyncClient

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import MAX_ATTEMPTS, EffectFailed
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import Effect, PurgeRoom, SayToStaff, StaffDigest, encode_effect
from counsel_bot.core.ids import ConversationID, RoomID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, OutboxEntry, Transition
from tests.store.conftest import AeadSealer

AT = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
CASE = ConversationID("C-0000CAFE")


class RefusingExecutor(Executor):
    """Refuses the deletion step as the executor does for a conversation opened again;
    performs (records) everything else."""

    performed: list[Effect | StaffDigest]

    async def perform(self, effect: Effect | StaffDigest, key: str) -> None:
        if isinstance(effect, PurgeRoom):
            raise EffectFailed("the conversation was opened again; not deleted",
                               permanent=True)
        self.performed.append(effect)


async def test_a_step_given_up_after_its_refusals_is_told_to_the_staff() -> None:
    store = MemoryStore(AeadSealer())
    clock = FakeClock(AT)
    conductor = await Conductor.open(
        store, CrisisDetector.from_directory(default_lexicon_dir()),
        policy_from(Settings(staff=StaffSettings(counsellors=("@anna:x",)))), AT)
    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")

    async def staff_room() -> RoomID | None:
        return None

    executor = RefusingExecutor(client, store, clock, default_language="de",
                                staff_room=staff_room)
    executor.performed = []
    bot = CounselBot(client, conductor, executor, clock, default_language="de",
                     undecryptable_grace=timedelta(seconds=30))
    await store.commit_transition(Transition(
        AT, await store.load_router_snapshot(), None,
        (OutboxEntry(f"purge:{CASE}", encode_effect(PurgeRoom(CASE)), AT, CASE),)))
    try:
        for _ in range(MAX_ATTEMPTS):
            await bot.outbox.drain()
        await bot.outbox.drain()  # what the last refusal committed
        assert f"purge:{CASE}" not in [e.key for e in await store.pending_outbox()]
        told = [e for e in executor.performed if isinstance(e, SayToStaff)]
        assert [dict(e.params).get("conversation") for e in told] == [CASE], told
    finally:
        await client.close()
        await store.close()
