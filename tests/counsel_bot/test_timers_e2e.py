"""Issue 19, response timers, end to end: real Synapse, real clients, an injected clock;
with offices, each office's own targets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.config import OfficeSettings, OfficeTimersSettings
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import ConversationState
from counsel_bot.store import ConversationRecord
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import Office, goes_on_duty, login, office, provision_bot, until

pytestmark = pytest.mark.integration


async def _youth_invites_counsellor(o: Office) -> tuple[str, str, ConversationRecord]:
    """The counsellor goes on duty; a youth's first words invite them. Returns the staff
    room, the youth's room and the conversation's record."""
    staff_room = await o.counsellor.accept_invite()
    await goes_on_duty(o.counsellor, staff_room, o.bot_user)
    room = await o.youth.open_chat(o.bot_user)
    await o.youth.wait_for(room, o.bot_user, "anonym")
    await o.youth.send(room, "hallo, ist jemand da?")
    await until(lambda: room in o.counsellor.invited_to(), what="the counsellor's invite")
    record = await o.bot.store.conversation_by_room(RoomID(room))
    assert record is not None
    return staff_room, room, record


async def test_an_unanswered_conversation_reminds_then_goes_back_to_the_queue(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    async with office(synapse, user_factory, tmp_path, clock=clock) as o:
        process, bot, counsellor, youth = o.process, o.bot, o.counsellor, o.youth
        staff_room, room, record = await _youth_invites_counsellor(o)

        # Past the first-response target (5 min): the counsellor is reminded, by mention.
        clock.advance(timedelta(minutes=6))
        reminder = await counsellor.wait_for(staff_room, process.user_id, "⏰", within=30)
        assert record.conversation in reminder
        assert "hallo" not in reminder  # never the youth's words

        # Past the second limit (30 min): back to the queue, and the youth is told.
        clock.advance(timedelta(minutes=25))
        await counsellor.wait_for(staff_room, process.user_id, "Warteschlange", within=30)
        await youth.wait_for(room, process.user_id, "abgeben", within=30)
        current = bot.conductor.router.conversation(record.conversation)
        assert current is not None
        assert current.state is ConversationState.WAITING
        assert bot.conductor.router.queue() == [record.conversation]


async def test_two_offices_hold_their_conversations_to_their_own_limits(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    anna = await login(synapse, user_factory, tmp_path, "anna")
    ben = await login(synapse, user_factory, tmp_path, "ben")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[], clock=clock)
    process.settings = replace(process.settings, offices=(
        # The family office answers faster: 2 minutes, back to the queue after 10.
        OfficeSettings(id="familie", name="Familienberatung", topics=("family",),
                       counsellors=(anna.client.user_id,),
                       timers=OfficeTimersSettings(first_response_minutes=2,
                                                   next_response_minutes=5,
                                                   requeue_after_minutes=10)),
        # The school office keeps [timers]: 5 minutes, back to the queue after 30.
        OfficeSettings(id="schule", name="Schulberatung", topics=("school",),
                       counsellors=(ben.client.user_id,)),
    ))
    bot = await process.start()
    youths = []
    try:
        assert process.bot is not None
        staff_room = await process.bot.staff_room()
        family_room = await process.bot.office_rooms.room_of("familie")
        school_room = await process.bot.office_rooms.room_of("schule")
        for member in (anna, ben):
            await member.accept_invite()
            await member.accept_invite()
            assert staff_room is not None
            await goes_on_duty(member, staff_room, process.user_id)

        conversations = {}
        for office in ("familie", "schule"):
            youth = await login(synapse, user_factory, tmp_path, "youth")
            youths.append(youth)
            room = await youth.open_chat(process.user_id)
            await youth.wait_for(room, process.user_id, "anonym")
            await youth.send(room, f"stelle:{office} hallo, ist jemand da?")
            record = None

            async def stored(room: str = room) -> bool:
                nonlocal record
                record = await bot.store.conversation_by_room(RoomID(room))
                return record is not None
            await until(stored, what="the conversation")
            assert record is not None
            conversations[office] = (youth, room, record.conversation)
        await until(lambda: bool(anna.invited_to()) and bool(ben.invited_to()),
                    what="both counsellors' invitations")

        # 3 minutes: past the family office's 2 (anna reminded there), within school's 5.
        clock.advance(timedelta(minutes=3))
        assert family_room is not None
        assert school_room is not None
        reminder = await anna.wait_for(family_room, process.user_id, "⏰", within=30)
        assert "10 Min." in reminder  # its own office's limit
        assert conversations["familie"][2] in reminder

        # 11 minutes: the family conversation goes back to the queue at its office's limit
        # and its youth is told; the school conversation stays with ben (only reminded).
        clock.advance(timedelta(minutes=8))
        youth, room, family = conversations["familie"]
        await youth.wait_for(room, process.user_id, "abgeben", within=30)
        school = conversations["schule"][2]
        await ben.wait_for(school_room, process.user_id, "⏰", within=30)
        current = bot.conductor.router.conversation(family)
        assert current is not None
        assert current.state is ConversationState.WAITING
        still = bot.conductor.router.conversation(school)
        assert still is not None
        assert still.state is ConversationState.ASSIGNED
        assert still.assigned_to == ben.client.user_id

        # 31 minutes: now the school conversation goes back too, at [timers]' 30.
        clock.advance(timedelta(minutes=20))
        youth, room, _ = conversations["schule"]
        await youth.wait_for(room, process.user_id, "abgeben", within=30)
        gone = bot.conductor.router.conversation(school)
        assert gone is not None
        assert gone.state is ConversationState.WAITING
    finally:
        await process.stop()
        for client in (anna, ben, *youths):
            await client.close()


async def test_a_voice_message_or_a_me_from_the_counsellor_is_an_answer(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """A counsellor who answers with a voice message (or a /me) has answered: the bot read
    only their plain text, so they were reminded of a "first reply" they had given, and at
    30 minutes the youth was taken from them mid-conversation and told they were handed
    back."""
    clock = FakeClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    async with office(synapse, user_factory, tmp_path, clock=clock) as o:
        bot, counsellor, youth = o.bot, o.counsellor, o.youth
        _, room, record = await _youth_invites_counsellor(o)
        conversation = record.conversation
        assert await counsellor.accept_invite() == room

        clock.advance(timedelta(minutes=2))
        # As Element sends one into an encrypted room: the file's keys in the content.
        await counsellor.wait_for_join(room)
        await counsellor.client.room_send(room, "m.room.message", {
            "msgtype": "m.audio", "body": "Sprachnachricht.ogg",
            "info": {"mimetype": "audio/ogg", "duration": 4000},
            "file": {"v": "v2", "url": "mxc://example.org/voice",
                     "iv": "AAAAAAAAAAAAAAAAAAAAAA",
                     "hashes": {"sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
                     "key": {"kty": "oct", "alg": "A256CTR", "ext": True,
                             "key_ops": ["encrypt", "decrypt"],
                             "k": "qcHVMSgYg-71CauWBezXI5qkaRb0LuIy-Wx5kIaHMIA"}},
            "org.matrix.msc3245.voice": {},
        }, ignore_unverified_devices=True)
        await until(lambda: bot.conductor.timers.waiting(conversation).since is None,
                    what="the voice message to end the wait")

        await youth.send(room, "danke")
        await until(lambda: bot.conductor.timers.waiting(conversation).since is not None,
                    what="the youth's next words")
        await counsellor.send(room, "nickt", "m.emote")
        await until(lambda: bot.conductor.timers.waiting(conversation).since is None,
                    what="the /me to end the wait")

        await bot.conductor.tick(clock.advance(timedelta(minutes=31)))
        current = bot.conductor.router.conversation(conversation)
        assert current is not None
        assert current.assigned_to == counsellor.client.user_id
