"""A youth upgrades the room of a closed chat the bot stays in for their appointment: its
reminders and the video link go to the old room, which their app no longer shows, and the
counsellor, told nothing, waits in the call. Now she is told, as when the youth leaves the
room. Real Synapse, the real bot, nio clients, an injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.core.video import VideoSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_room_upgraded import upgrade
from tests.support.bot_harness import goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def test_an_upgrade_after_the_close_tells_the_counsellor_of_the_appointment(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  clock=FakeClock(NOW))
    process.settings = replace(
        process.settings, video=VideoSettings(base_url="https://meet.example.org"),
        appointments=AppointmentSettings(office_address="Musterstraße 1, Musterstadt"))
    bot_user = process.user_id
    bot = await process.start()
    try:
        staff_room = await counsellor.accept_invite()
        await goes_on_duty(counsellor, staff_room, bot_user)
        room = await youth.open_chat(bot_user)
        await youth.send(room, "hallo, können wir mal per video reden?")
        assert await counsellor.accept_invite(within=60) == room
        await counsellor.wait_for(room, bot_user, "per video reden", within=60)
        await counsellor.send(room, "!appointment 2026-12-10 16:00 45min video")
        await youth.wait_for(room, bot_user, "Videogespräch vor", within=60)
        await youth.send(room, "ja")
        await counsellor.wait_for(staff_room, bot_user, "ist bestätigt", within=60)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        await counsellor.send(staff_room, f"!close {record.conversation}")

        async def closed() -> bool:
            return bot.conductor.router.conversation(record.conversation) is None
        await until(closed, within=60, what="the close")

        await upgrade(synapse, youth, room)
        await counsellor.wait_for(staff_room, bot_user, "Chatraum verlassen", within=60)
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()
