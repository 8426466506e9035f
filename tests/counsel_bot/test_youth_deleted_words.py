"""A youth who deletes a message (a name, a school, written and regretted) before a
counsellor joins: the transcript a later counsellor gets leaves it out, unless it may be a
crisis, which must still reach somebody."""

from __future__ import annotations

from counsel_bot.core.ids import EventID, RoomID, UserID
from tests.groups.test_group_desk import Parts

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
