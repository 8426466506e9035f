"""On real Synapse: the counsellor who announced a group has left the team (the roster no
longer names them) when it opens. The room opens without them: not invited, no power to
delete the youths' messages. Real Synapse, nio clients, the bot restarted on its data
directory with the new roster."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest

from counsel_bot.config import StaffSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import OPEN, group_announced, join, setting, signed_up

pytestmark = pytest.mark.integration


async def test_a_group_opens_without_a_host_who_left_the_team(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with group_announced(synapse, user_factory, tmp_path,
                               colleagues=["other"]) as evening:
        process, bot_id, closing = evening.process, evening.bot_id, evening.closing
        other = evening.staff["other"]
        b, b_home, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b",
                                       closing)

        await process.stop()
        process.settings = replace(process.settings, staff=StaffSettings(
            counsellors=(other.client.user_id,)))
        await process.start()
        evening.clock.set(OPEN)
        group_room = await setting(process, "group_room:1")
        await b.wait_for(b_home, bot_id, "Gruppe 1 beginnt")
        await join(b, group_room)
        state = await synapse.admin.request(
            "GET", f"/_synapse/admin/v1/rooms/{quote(group_room)}/state")
        members = {e["state_key"] for e in state["state"] if e["type"] == "m.room.member"}
        assert evening.host.client.user_id not in members, "the former counsellor was invited"
        [levels] = [e for e in state["state"] if e["type"] == "m.room.power_levels"]
        assert evening.host.client.user_id not in levels["content"].get("users", {})
