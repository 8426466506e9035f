"""A crisis alert the bot failed on twice is set aside, and the staff are told, with the
conversation, to look at what may be missing. A staff notice names its conversation in its
parameters, not as an attribute, so the bot told the staff "conversation –": they learnt
that a crisis alert was lost, not whose. The bot's own hook, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nio import AsyncClient

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

AT = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


async def test_a_crisis_alert_set_aside_is_told_with_its_conversation() -> None:
    store = MemoryStore(AeadSealer())
    clock = FakeClock(AT)
    conductor = await Conductor.open(
        store, CrisisDetector.from_directory(default_lexicon_dir()),
        policy_from(Settings(staff=StaffSettings(counsellors=("@anna:x",)))), AT)
    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")

    async def staff_room() -> RoomID | None:
        return None

    executor = Executor(client, store, clock, default_language="de", staff_room=staff_room)
    bot = CounselBot(client, conductor, executor, clock, default_language="de",
                     undecryptable_grace=timedelta(seconds=30))
    alert = SayToStaff("staff_crisis_alert", (
        ("conversation", "C-0000CAFE"), ("category", "suicide"), ("severity", "high"),
        ("waiting", 3), ("assigned", "-"), ("rules", "de.suicide.001")))
    try:
        assert bot.outbox.on_set_aside is not None
        await bot.outbox.on_set_aside(alert)
        [told] = [decode_effect(e.payload) for e in await store.pending_outbox()]
        assert isinstance(told, SayToStaff)
        assert told.key == "staff_effect_set_aside"
        assert dict(told.params)["conversation"] == "C-0000CAFE"
    finally:
        await client.close()
        await store.close()
