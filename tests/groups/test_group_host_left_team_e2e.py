"""On real Synapse: the counsellor who announced a group has left the team (the roster no
longer names them) when it opens. The room opens without them: not invited, no power to
delete the youths' messages. Real Synapse, nio clients, the bot restarted on its data
directory with the new roster."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from counsel_bot.config import StaffSettings
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_evening_e2e import join, setting, signed_up
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot

pytestmark = pytest.mark.integration


async def test_a_group_opens_without_a_host_who_left_the_team(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    closing: list[NioYouth] = []
    process: BotProcess | None = None
    try:
        clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
        host = await login(synapse, user_factory, tmp_path, "host")
        other = await login(synapse, user_factory, tmp_path, "other")
        closing += [host, other]
        process = await provision_bot(synapse, tmp_path / "bot",
                                      staff=[host.client.user_id, other.client.user_id],
                                      clock=clock)
        await process.start()
        bot_id = process.user_id
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        b, b_home, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b",
                                       closing)

        await process.stop()
        process.settings = replace(process.settings, staff=StaffSettings(
            counsellors=(other.client.user_id,)))
        await process.start()
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        await b.wait_for(b_home, bot_id, "Gruppe 1 beginnt")
        await join(b, group_room)
        state = await synapse.admin.request(
            "GET", f"/_synapse/admin/v1/rooms/{quote(group_room)}/state")
        members = {e["state_key"] for e in state["state"] if e["type"] == "m.room.member"}
        assert host.client.user_id not in members, "the former counsellor was invited"
        [levels] = [e for e in state["state"] if e["type"] == "m.room.power_levels"]
        assert host.client.user_id not in levels["content"].get("users", {})
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()
