"""A counsellor who corrects a mistyped command by editing it (Element's up arrow): the
edit is no command (an edit of a command already carried out would carry it out twice),
and the counsellor is told so. Before, the edit was read as a chat reply and nothing was
said: "!duty of" corrected into "!duty off" left the counsellor on duty, believing they had
signed off, and youths were given to nobody there. Real Synapse, real E2E clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RoomSendResponse

from counsel_bot.core.ids import UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot

pytestmark = pytest.mark.integration


async def test_a_command_corrected_by_an_edit_is_told_to_be_sent_again(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    try:
        staff_room = await counsellor.accept_invite(within=60)
        await counsellor.send(staff_room, "!duty on")
        await counsellor.wait_for(staff_room, process.user_id, "im Dienst", within=60)
        typo = await counsellor.client.room_send(
            staff_room, "m.room.message", {"msgtype": "m.text", "body": "!duty of"},
            ignore_unverified_devices=True)
        assert isinstance(typo, RoomSendResponse)
        await counsellor.client.room_send(staff_room, "m.room.message", {
            "msgtype": "m.text", "body": "* !duty off",
            "m.new_content": {"msgtype": "m.text", "body": "!duty off"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": typo.event_id},
        }, ignore_unverified_devices=True)
        told = await counsellor.wait_for(staff_room, process.user_id, "„!duty“",
                                         within=30)
        assert "neue Nachricht" in told
        current = bot.conductor.router.counsellor(UserID(counsellor.client.user_id))
        assert current is not None
        assert current.on_duty
    finally:
        await process.stop()
        await counsellor.close()
