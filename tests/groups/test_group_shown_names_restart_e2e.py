"""The host moderates a youth by the name the group's room shows (their account's display
name, "lena2009", not the nickname the bot gave). The bot learnt those names only from the
joins it saw, in memory: after a restart (an update, a crash, `Restart=on-failure`) in the
middle of the evening it knew none, and `!mute lena2009` was answered "nobody in group 1
has that name" while the youth kept writing. Real Synapse, nio clients, the bot restarted
on its data directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from nio import RoomSendError

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_evening_e2e import join, setting, signed_up
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_the_host_mutes_by_the_shown_name_after_a_restart(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    closing: list[NioYouth] = []
    process: BotProcess | None = None
    try:
        clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
        host = await login(synapse, user_factory, tmp_path, "host")
        closing.append(host)
        process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                      clock=clock)
        await process.start()
        bot_id = process.user_id
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        b, _, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b", closing)
        await b.client.set_displayname("lena2009")
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
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
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()
