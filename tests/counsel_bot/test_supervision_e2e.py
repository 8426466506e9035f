"""Issue 8, item 4 on real Synapse: a team lead reads along read-only (the server refuses
their messages), reads what the youth wrote before (transcript), and the youth is told when
supervision begins and ends. Counsellors cannot supervise."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from nio import RoomSendError

from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration



async def test_team_lead_supervises_read_only_and_the_youth_is_told(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    lead = await login(synapse, user_factory, tmp_path, "lead")
    youth = await login(synapse, user_factory, tmp_path, "youth")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  team_leads=[lead.client.user_id])
    bot = await process.start()
    early = f"EARLY-{secrets.token_hex(4)} ich habe Angst vor zuhause"
    try:
        staff_room = await counsellor.accept_invite()
        assert await lead.accept_invite() == staff_room
        await counsellor.send(staff_room, "!duty on")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, early)
        await until(lambda: room in counsellor.invited_to(), within=60, what="the assignment")
        await counsellor.accept_invite()
        await youth.wait_for(room, process.user_id, "ist jetzt für dich da")
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        conversation = record.conversation

        # A counsellor may not supervise; nobody is invited, the youth is told nothing.
        await counsellor.send(staff_room, f"!supervise {conversation}")
        await counsellor.wait_for(staff_room, process.user_id, "nur die Teamleitung")
        assert lead.invited_to() == set()

        await lead.send(staff_room, f"!supervise {conversation}")
        await youth.wait_for(room, process.user_id, "liest jetzt in diesem Chat mit")
        await lead.wait_for(staff_room, process.user_id, "nur lesend")
        assert await lead.accept_invite() == room

        # What the youth wrote before the lead came, through the transcript.
        transcript = await lead.wait_for(room, process.user_id, early.split()[0])
        assert early in transcript
        # Live messages reach the lead too.
        await youth.send(room, "bist du noch da?")
        await lead.wait_for(room, youth.client.user_id, "bist du noch da?")

        # Read-only, enforced by the homeserver, not by the bot.
        answer = await lead.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": "Hallo"},
            ignore_unverified_devices=True)
        assert isinstance(answer, RoomSendError), answer
        assert answer.status_code == "M_FORBIDDEN"
        # The counsellor still writes.
        await counsellor.send(room, "Ich bin da.")
        await youth.wait_for(room, counsellor.client.user_id, "Ich bin da.")

        await lead.send(staff_room, f"!supervise end {conversation}")
        await youth.wait_for(room, process.user_id, "nicht mehr mit")

        async def lead_gone() -> bool:
            return lead.client.user_id not in await synapse.admin.room_members(room)
        await until(lead_gone, what="the lead to be removed")
        await lead.send(staff_room, f"!supervise end {conversation}")
        await lead.wait_for(staff_room, process.user_id, "gerade nicht")
    finally:
        await process.stop()
        for client in (youth, lead, counsellor):
            await client.close()
