"""Issue 19, response timers, end to end: real Synapse, real clients, an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import ConversationState
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_an_unanswered_conversation_reminds_then_goes_back_to_the_queue(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  clock=clock)
    bot = await process.start()
    try:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        await counsellor.wait_for(staff_room, process.user_id, "Dienst")

        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "hallo, ist jemand da?")
        await until(lambda: room in counsellor.invited_to(), what="the counsellor's invite")
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        # Past the first-response target (5 min): the counsellor is reminded, by mention.
        clock.advance(timedelta(minutes=6))
        reminder = await counsellor.wait_for(staff_room, process.user_id, "⏰", within=30)
        assert record.conversation in reminder
        assert "hallo" not in reminder  # never the youth's words

        # Past the second limit (30 min): back to the queue, and the youth is told.
        clock.advance(timedelta(minutes=25))
        await counsellor.wait_for(staff_room, process.user_id, "Warteschlange", within=30)
        await youth.wait_for(room, process.user_id, "abgeben", within=30)
        current = bot.conductor.router.conversation(record.conversation)
        assert current is not None
        assert current.state is ConversationState.WAITING
        assert bot.conductor.router.queue() == [record.conversation]
    finally:
        await process.stop()
        for client in (youth, counsellor):
            await client.close()
