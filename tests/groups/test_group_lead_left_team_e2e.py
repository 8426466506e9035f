"""On real Synapse: a team lead steps into a group (`!group join 1`) and is in its room with
the moderator's power (50: deletes anybody's message), then leaves the team (the bot
restarted on a roster without them). They stayed in the room among the youths, reading
along, with that power. Now they are removed, and the power goes with them. Real Synapse,
nio clients, the bot restarted on its data directory with the new roster."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from counsel_bot.config import StaffSettings
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import join, setting, signed_up
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_lead_who_stepped_in_and_left_the_team_is_removed_with_the_power(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    closing: list[NioYouth] = []
    process: BotProcess | None = None
    try:
        clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
        host = await login(synapse, user_factory, tmp_path, "host")
        lead = await login(synapse, user_factory, tmp_path, "lead")
        closing += [host, lead]
        process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                      team_leads=[lead.client.user_id], clock=clock)
        await process.start()
        bot_id = process.user_id
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await join(lead, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        b, b_home, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b",
                                       closing)
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        await b.wait_for(b_home, bot_id, "Gruppe 1 beginnt")
        await join(b, group_room)
        await lead.send(staff_room, "!group join 1")
        await join(lead, group_room)
        lead_id = lead.client.user_id

        async def levels() -> dict[str, object]:
            state = await synapse.admin.request(
                "GET", f"/_synapse/admin/v1/rooms/{quote(group_room)}/state")
            [content] = [e["content"] for e in state["state"]
                         if e["type"] == "m.room.power_levels"]
            users: dict[str, object] = content.get("users", {})
            return users

        assert (await levels()).get(lead_id) == 50

        await process.stop()
        process.settings = replace(process.settings, staff=StaffSettings(
            counsellors=(host.client.user_id,)))
        await process.start()
        clock.advance(timedelta(minutes=1))

        async def removed() -> bool:
            return lead_id not in await synapse.admin.room_members(group_room)

        await until(removed, what="the former lead to be removed from the group's room")

        async def powerless() -> bool:
            return lead_id not in await levels()

        await until(powerless, what="the former lead's moderator power to go")
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()
