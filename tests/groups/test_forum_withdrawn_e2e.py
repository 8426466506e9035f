"""On real Synapse: a youth deletes their waiting forum post in their own app (a redaction),
or edits it; the bot takes the post back or replaces its words, so the moderators never
approve what the youth took back (docs: `conversation/forum.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RoomRedactResponse, RoomSendResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.groups.forum_office import forum_office
from tests.support.bot_harness import NioYouth

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
    async with forum_office(synapse, user_factory, tmp_path) as office:
        youth, home, bot_id = office.youth, office.home, office.bot_id
        host, staff_room = office.host, office.staff_room
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
