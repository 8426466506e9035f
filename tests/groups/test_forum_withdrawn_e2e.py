"""On real Synapse: a youth deletes their waiting forum post in their own app (a redaction),
or edits it; the bot takes the post back or replaces its words, so the moderators never
approve what the youth took back (docs: `conversation/forum.py`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nio import RoomRedactResponse, RoomSendResponse

from counsel_bot.conversation.forum import ForumTopic
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_evening_e2e import join, setting
from tests.support.bot_harness import NioYouth, login, provision_bot

pytestmark = pytest.mark.integration


async def _post(youth: NioYouth, room: str, body: str) -> str:
    await youth.wait_for_join(room)
    sent = await youth.client.room_send(room, "m.room.message",
                                        {"msgtype": "m.text", "body": body},
                                        ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse)
    return sent.event_id


async def test_a_youth_deletes_one_waiting_post_and_edits_another(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    process.settings = replace(process.settings, forum=(ForumTopic("schule", "Schule"),))
    await process.start()
    bot_id = process.user_id
    closing: list[NioYouth] = [host]
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        youth = await login(synapse, user_factory, tmp_path, "youth")
        closing.append(youth)
        home = await youth.open_chat(bot_id)
        await youth.wait_for(home, bot_id, "anonym")

        first = await _post(youth, home, "forum schule ich bin Lena Kowalski aus der 8b")
        await youth.wait_for(home, bot_id, "Freigabe")
        redacted = await youth.client.room_redact(home, first, reason="mein Name")
        assert isinstance(redacted, RoomRedactResponse)
        await youth.wait_for(home, bot_id, "zurückgezogen", within=60)
        await host.wait_for(staff_room, bot_id, "zurückgezogen", within=60)
        await host.send(staff_room, "!forum pending")
        await host.wait_for(staff_room, bot_id, "Keine Forum-Beiträge warten", within=60)

        second = await _post(youth, home, "forum schule Lena hier, Mathe macht mich fertig")
        await youth.wait_for(home, bot_id, "Freigabe")
        new = "forum schule Mathe macht mich fertig"
        await youth.client.room_send(home, "m.room.message", {
            "msgtype": "m.text", "body": f"* {new}",
            "m.new_content": {"msgtype": "m.text", "body": new},
            "m.relates_to": {"rel_type": "m.replace", "event_id": second}},
            ignore_unverified_devices=True)
        await youth.wait_for(home, bot_id, "Änderung ist übernommen", within=60)
        await host.send(staff_room, "!forum pending")
        shown = await host.wait_for(staff_room, bot_id, "Wartende Forum-Beiträge", within=60)
        assert "Mathe macht mich fertig" in shown
        assert "Lena" not in shown
    finally:
        await process.stop()
        for client in closing:
            await client.close()
