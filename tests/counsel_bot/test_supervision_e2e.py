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
from tests.support.bot_harness import goes_on_duty, login, office, on_duty, provision_bot, until

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


async def test_a_lead_reading_along_who_is_given_the_chat_is_announced_and_writes(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The counsellor transfers the conversation to the lead reading along. She was in
    the room already, so no join announced her: the youth heard only that their
    counsellor had handed over and that someone would come. Now the youth hears she is
    there for them, and her words (no longer read-only) reach the youth."""
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        assert o.lead is not None
        staff_room = await on_duty(o.counsellor, o.bot_user)
        assert await o.lead.accept_invite() == staff_room
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.wait_for(room, o.bot_user, "anonym")
        await o.youth.send(room, "hallo, ich brauche jemanden zum reden")
        await until(lambda: room in o.counsellor.invited_to(), within=60,
                    what="the assignment")
        await o.counsellor.accept_invite()
        await o.youth.wait_for(room, o.bot_user, "ist jetzt für dich da")
        record = await o.bot.store.conversation_by_room(RoomID(room))
        assert record is not None
        await goes_on_duty(o.lead, staff_room, o.bot_user)
        await o.lead.send(staff_room, f"!supervise {record.conversation}")
        await o.youth.wait_for(room, o.bot_user, "liest jetzt in diesem Chat mit")
        assert await o.lead.accept_invite() == room
        await o.lead.wait_for_join(room)

        await o.counsellor.send(staff_room,
                                f"!transfer {record.conversation} {o.lead.client.user_id}")
        name = o.lead.client.user_id
        lead_name = (await o.lead.client.get_displayname(name)).displayname or name

        async def announced() -> bool:
            return any(r == room and s == o.bot_user and "ist jetzt für dich da" in b
                       and lead_name in b for r, s, b in o.youth.received)
        await until(announced, within=60, what="the youth told the lead is there now")

        async def writes() -> bool:
            answer = await o.lead.client.room_send(
                room, "m.room.message", {"msgtype": "m.text", "body": "Ich bin jetzt da."},
                ignore_unverified_devices=True)
            return not isinstance(answer, RoomSendError)
        await until(writes, within=30, what="the lead allowed to write")
        await o.youth.wait_for(room, o.lead.client.user_id, "Ich bin jetzt da.")
