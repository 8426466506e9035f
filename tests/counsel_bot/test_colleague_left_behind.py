"""A youth may invite a colleague of their counsellor into the chat while the bot is there
(the contact rules allow it: a second counsellor, a trainee). At the close the bot removed
only the assigned counsellor and then left: the colleague stayed alone with the youth, in
a room nobody records or checks for a crisis any more (an outside review's suspicion,
2026-12-07). Real Synapse, real E2E clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import join
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration


async def members(synapse: SynapseHandle, room: str) -> dict[str, str]:
    state = await synapse.admin.request(
        "GET", f"/_synapse/admin/v1/rooms/{quote(room)}/state")
    return {e["state_key"]: e["content"].get("membership", "")
            for e in state["state"] if e["type"] == "m.room.member"}


async def test_the_bot_takes_staff_the_youth_invited_out_before_it_leaves(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    colleague = await login(synapse, user_factory, tmp_path, "colleague")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    clock = FakeClock(datetime(2026, 12, 8, 15, 0, tzinfo=UTC))
    process = await provision_bot(
        synapse, tmp_path / "bot",
        staff=[counsellor.client.user_id, colleague.client.user_id], clock=clock)
    await process.start()
    try:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "hallo, kann ich mit jemandem reden?")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await join(counsellor, room)
        await youth.wait_for(room, process.user_id, "ist jetzt für dich da")
        invited = await youth.client.room_invite(room, colleague.client.user_id)
        assert not hasattr(invited, "status_code"), invited
        await join(colleague, room)

        await counsellor.send(room, "!close")
        await youth.wait_for(room, process.user_id, "beendet")
        await youth.send(room, "5")  # the youth's word after the close (their score)
        bot = process.bot
        assert bot is not None
        await until(lambda: bool(bot.conductor.youth.leaving), what="the leave to be planned")
        clock.advance(timedelta(minutes=11))  # the bot leaves ten minutes after that word

        async def bot_gone() -> bool:
            return (await members(synapse, room)).get(process.user_id) == "leave"
        await until(bot_gone, within=60, what="the bot to leave the closed chat")
        assert (await members(synapse, room)).get(colleague.client.user_id) != "join", \
            "a colleague stayed alone with the youth in a room the bot left"
    finally:
        await process.stop()
        for client in (youth, colleague, counsellor):
            await client.close()
