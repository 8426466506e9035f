"""The host moderates a youth by the name the group's room shows (their account's display
name, "lena2009", not the nickname the bot gave). The bot learnt those names only from the
joins it saw, in memory: after a restart (an update, a crash, `Restart=on-failure`) in the
middle of the evening it knew none, and `!mute lena2009` was answered "nobody in group 1
has that name" while the youth kept writing. Real Synapse, nio clients, the bot restarted
on its data directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RoomSendError

from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import OPEN, group_announced, join, setting, signed_up
from tests.support.bot_harness import until

pytestmark = pytest.mark.integration


async def test_the_host_mutes_by_the_shown_name_after_a_restart(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with group_announced(synapse, user_factory, tmp_path) as evening:
        process, bot_id, closing = evening.process, evening.bot_id, evening.closing
        host, staff_room = evening.host, evening.staff_room
        b, _, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b", closing)
        await b.client.set_displayname("lena2009")
        evening.clock.set(OPEN)
        group_room = await setting(process, "group_room:1")
        await join(host, group_room)
        await join(b, group_room)

        async def shown() -> bool:
            bot = process.bot if process is not None else None
            desk = None if bot is None else next(
                (a for a in bot.conductor.addons if a.owns_room(group_room)), None)
            return "lena2009" in (getattr(desk, "shown", {}).get(1, {}).values())

        await until(shown, what="the bot to see the youth's name in the group's room")

        await process.stop()
        await process.start()
        await host.send(group_room, "!mute lena2009")
        await host.wait_for(staff_room, bot_id, "kann jetzt nicht mehr schreiben")

        async def muted() -> bool:
            answer = await b.client.room_send(
                group_room, "m.room.message", {"msgtype": "m.text", "body": "hallo?"},
                ignore_unverified_devices=True)
            return isinstance(answer, RoomSendError)

        await until(muted, what="the server to refuse the muted youth")
