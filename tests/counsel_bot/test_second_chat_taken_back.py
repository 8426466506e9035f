"""A youth whose counsellor is with them in their chat writes in a second chat with the bot
(a new phone): the bot passes the words on to the counsellor as a message of its own
("For Anna, written in a second chat: › ..."). A youth who deletes or edits such a message
(their real name, written and regretted) took it back from the transcript, but the bot's
copy stayed in the counsellor's chat with every word, while a message deleted in the chat
itself vanishes from the counsellor's app. The copy is taken back with it now (a crisis
line stays, as in the transcript: `YouthSide.taken_back`). Real Synapse, the real bot,
nio clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RedactedEvent, RoomGetEventResponse, RoomSendResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_second_room import in_counselling
from tests.support.bot_harness import NioYouth, office, until

pytestmark = pytest.mark.integration


async def _copy_gone(counsellor: NioYouth, room: str, event_id: str) -> bool:
    answer = await counsellor.client.room_get_event(room, event_id)
    assert isinstance(answer, RoomGetEventResponse), answer
    return isinstance(answer.event, RedactedEvent)


async def test_words_deleted_or_edited_in_a_second_chat_are_taken_from_the_counsellors_chat(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        second = await youth.open_chat(bot)
        await youth.wait_for_join(second, within=60)

        deleted = await youth.client.room_send(
            second, "m.room.message", {"msgtype": "m.text", "body": "ich bin Lena Kowalski"},
            ignore_unverified_devices=True)
        assert isinstance(deleted, RoomSendResponse)
        copy = await counsellor.wait_for(first, bot, "Kowalski", within=60)
        await youth.client.room_redact(second, deleted.event_id)
        await until(lambda: _copy_gone(counsellor, first, counsellor.event_ids[copy]),
                    within=60, what="the copy of the deleted words taken back")

        edited = await youth.client.room_send(
            second, "m.room.message",
            {"msgtype": "m.text", "body": "ich wohne in der Amselstraße 4"},
            ignore_unverified_devices=True)
        assert isinstance(edited, RoomSendResponse)
        copy = await counsellor.wait_for(first, bot, "Amselstraße", within=60)
        await youth.client.room_send(second, "m.room.message", {
            "msgtype": "m.text", "body": "* ich wohne in der Nähe",
            "m.new_content": {"msgtype": "m.text", "body": "ich wohne in der Nähe"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": edited.event_id}},
            ignore_unverified_devices=True)
        await counsellor.wait_for(first, bot, "in der Nähe", within=60)
        await until(lambda: _copy_gone(counsellor, first, counsellor.event_ids[copy]),
                    within=60, what="the copy of the words edited away taken back")

        # A crisis deleted in shame stays for the counsellor, as in the transcript.
        crisis = await youth.client.room_send(
            second, "m.room.message", {"msgtype": "m.text", "body": "ich will mich umbringen"},
            ignore_unverified_devices=True)
        assert isinstance(crisis, RoomSendResponse)
        copy = await counsellor.wait_for(first, bot, "umbringen", within=60)
        await youth.client.room_redact(second, crisis.event_id)
        await youth.send(second, "sorry NACHHER")  # read after the deletion
        await counsellor.wait_for(first, bot, "NACHHER", within=60)
        assert not await _copy_gone(counsellor, first, counsellor.event_ids[copy])


async def test_an_edit_deleted_by_its_own_id_in_a_second_chat_takes_its_copy_too(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """An app without edits shows an edit as a message of its own ("* ..."), and its youth
    deletes it as one: the deletion names the edit, not the message it edits."""
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        _staff_room, first = await in_counselling(o)
        await counsellor.wait_for(first, bot, "ERSTE", within=60)
        second = await youth.open_chat(bot)
        await youth.wait_for_join(second, within=60)
        sent = await youth.client.room_send(
            second, "m.room.message", {"msgtype": "m.text", "body": "ich hab stress"},
            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)
        await counsellor.wait_for(first, bot, "ich hab stress", within=60)
        edit = await youth.client.room_send(second, "m.room.message", {
            "msgtype": "m.text", "body": "* ich hab stress, ich bin Lena Kowalski",
            "m.new_content": {"msgtype": "m.text",
                              "body": "ich hab stress, ich bin Lena Kowalski"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": sent.event_id}},
            ignore_unverified_devices=True)
        assert isinstance(edit, RoomSendResponse)
        copy = await counsellor.wait_for(first, bot, "Kowalski", within=60)
        await youth.client.room_redact(second, edit.event_id)
        await until(lambda: _copy_gone(counsellor, first, counsellor.event_ids[copy]),
                    within=60, what="the copy of the deleted edit taken back")
