"""A youth who deletes a message (a name, a school, written and regretted) before a
counsellor joins: the transcript a later counsellor gets leaves it out, unless it may be a
crisis, which must still reach somebody."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RoomSendResponse

from counsel_bot.core.ids import EventID, RoomID, UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.counsel_bot.test_second_room import waiting_with_a_second_chat
from tests.groups.test_group_desk import Parts
from tests.support.bot_harness import counselling, office, until

HOME, YOUTH = RoomID("!home1:x"), UserID("@y1:x")


async def kept(p: Parts) -> list[bytes]:
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    return [i.body for i in await p.store.read_intake(record.conversation)]


async def test_a_deleted_message_is_left_out_of_a_later_transcript() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "hallo, ich bin Lena Kowalski aus der 8b vom Goethe-Gymnasium")
    await p.youth(1, "ich hab voll stress mit meinen eltern")
    assert not await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e1"), None,
                                         p.clock.now())
    assert await kept(p) == [b"ich hab voll stress mit meinen eltern"]


async def test_a_deleted_crisis_stays_for_the_counsellor() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "ich will nicht mehr leben")
    await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e1"), None, p.clock.now())
    assert await kept(p) == [b"ich will nicht mehr leben"]


async def test_in_a_flagged_conversation_every_line_stays() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "ich bin Lena")
    await p.youth(1, "ich ritze mich jeden abend")
    await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e1"), None, p.clock.now())
    assert len(await kept(p)) == 2


async def test_nobody_else_deletes_a_youths_words() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "hallo, ich bin Lena Kowalski")
    await p.c.youth_retracted(HOME, UserID("@y2:x"), p.event(), EventID("$e1"), None,
                              p.clock.now())
    assert await kept(p) == [b"hallo, ich bin Lena Kowalski"]


@pytest.mark.integration
async def test_on_real_synapse_the_counsellor_never_reads_what_the_youth_deleted(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with counselling(synapse, user_factory, tmp_path) as c:
        process, bot, counsellor, youth = c.process, c.bot, c.counsellor, c.youth
        staff_room = await counsellor.accept_invite()
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        sent = await youth.client.room_send(
            room, "m.room.message",
            {"msgtype": "m.text", "body": "hallo ich bin Lena Kowalski aus der 8b"},
            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)
        await youth.send(room, "ich hab voll stress mit meinen eltern")
        record = None

        async def both_kept() -> bool:
            nonlocal record
            record = await bot.store.conversation_by_room(RoomID(room))
            return record is not None and len(await bot.store.read_intake(
                record.conversation)) == 2
        await until(both_kept, what="both messages kept for the counsellor")
        assert record is not None
        await youth.client.room_redact(room, sent.event_id)

        async def one_left() -> bool:
            assert record is not None
            return len(await bot.store.read_intake(record.conversation)) == 1
        await until(one_left, what="the deleted message left out")
        await counsellor.send(staff_room, "!duty on")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await counsellor.accept_invite()
        transcript = await youth.wait_for(room, process.user_id, "bisherigen Nachrichten")
        assert "stress mit meinen eltern" in transcript
        assert "Kowalski" not in transcript


async def test_an_edited_message_leaves_only_its_new_words_for_the_transcript() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "hallo ich bin Lena Kowalski, ich hab stress")
    edit, words = p.event(), "hallo, ich hab stress"
    assert not await p.c.youth_retracted(HOME, YOUTH, edit, EventID("$e1"), words,
                                         p.clock.now())
    await p.c.youth_wrote(HOME, YOUTH, None, edit, f"* {words}", p.clock.now())
    assert await kept(p) == [b"* hallo, ich hab stress"]


@pytest.mark.integration
async def test_on_real_synapse_words_deleted_in_a_second_chat_are_left_out_too(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """Words written in a second chat count in the open conversation (`second_chats.py`):
    the youth who deletes their name there takes it back from that conversation's
    transcript as from the first room."""
    async with office(synapse, user_factory, tmp_path) as o:
        youth = o.youth
        first, second = await waiting_with_a_second_chat(o, "ich hab stress mit meinen eltern")
        record = await o.bot.store.conversation_by_room(RoomID(first))
        assert record is not None
        sent = await youth.client.room_send(
            second, "m.room.message",
            {"msgtype": "m.text", "body": "ich bin Lena Kowalski aus der 8b"},
            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse)

        async def named() -> bool:
            assert record is not None
            return any(b"Kowalski" in i.body
                       for i in await o.bot.store.read_intake(record.conversation))
        await until(named, within=60, what="the name counted in the open conversation")
        await youth.client.room_redact(second, sent.event_id)
        await youth.send(second, "ok")  # read after the deletion, in the same order

        async def after() -> bool:
            assert record is not None
            return any(i.body == b"ok"
                       for i in await o.bot.store.read_intake(record.conversation))
        await until(after, within=60, what="the next message")
        assert not await named(), "the name deleted in the second chat stays for a counsellor"


async def edit(p: Parts, original: EventID, words: str) -> None:
    """What the bot does with an edit: the old words taken back, the new ones kept."""
    event = p.event()
    assert not await p.c.youth_retracted(HOME, YOUTH, event, original, words, p.clock.now())
    await p.c.youth_wrote(HOME, YOUTH, None, event, f"* {words}", p.clock.now(),
                          edits=original)


async def test_an_edited_then_deleted_message_leaves_nothing_for_the_transcript() -> None:
    """Element deletes an edited message by deleting the original: the edit's words, kept
    as a message of their own, stayed for a counsellor who joins later."""
    p = Parts()
    await p.start()
    await p.youth(1, "hallo ich bin Lena Kowalski, ich hab stress")
    await edit(p, EventID("$e1"), "hallo ich bin Lena Kowalski aus der 8b, ich hab stress")
    await p.youth(1, "mit meinen eltern")
    await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e1"), None, p.clock.now())
    assert await kept(p) == [b"mit meinen eltern"]


async def test_a_message_edited_twice_leaves_only_its_last_words() -> None:
    """Each edit replaces the original (its relation names the original, never the edit
    before): the first edit's words, a name still in them, stayed beside the second's."""
    p = Parts()
    await p.start()
    await p.youth(1, "ich bin Lena Kowalski")
    await edit(p, EventID("$e1"), "ich bin Lena Kowalski aus der 8b")
    await edit(p, EventID("$e1"), "ich bin Lena")
    assert await kept(p) == [b"* ich bin Lena"]


async def test_an_edit_into_a_crisis_stays_when_the_message_is_deleted() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "mir gehts nicht so gut")
    await edit(p, EventID("$e1"), "ich will nicht mehr leben")
    await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e1"), None, p.clock.now())
    assert await kept(p) == [b"* ich will nicht mehr leben"]


async def test_an_edit_deleted_by_itself_leaves_its_words_out_too() -> None:
    """An app without edits shows an edit as a message of its own ("* …"), and its youth
    deletes it as one: the deletion names the edit's id. Kept under the original's id since
    the edits change, the edit was not found by it, and the name stayed for a counsellor who
    joins later."""
    p = Parts()
    await p.start()
    await p.youth(1, "ich hab voll stress")  # $e1
    await edit(p, EventID("$e1"), "ich bin Lena Kowalski aus der 8b, ich hab voll stress")
    await p.youth(1, "mit meinen eltern")  # $e3
    await p.c.youth_retracted(HOME, YOUTH, p.event(), EventID("$e2"), None, p.clock.now())
    assert await kept(p) == [b"mit meinen eltern"]
