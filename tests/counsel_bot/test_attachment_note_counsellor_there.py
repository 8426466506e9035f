"""A youth who sends their counsellor a picture, a voice message or a file while the
counsellor is with them in the chat: the counsellor sees it in their own app, yet the bot
answered every one with "I cannot pass on pictures, files or special messages – your
counsellor only sees them once they are in the chat", in the middle of the conversation (a
screenshot of the messages that bully them, then a second: twice). The note is for a youth
whose counsellor is not there yet, as its words say; the picture is still kept as a note
for a counsellor who takes over later.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser,
the conductor on a memory store (test_verification_requests.py)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from nio import Event, MatrixRoom

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.effects import SayToYouth
from tests.counsel_bot.test_verification_requests import HOME, YOUTH
from tests.groups.test_group_desk import ANNA, Parts

BOT = "@bot:x"


def _picture(n: int) -> Event:
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": YOUTH, "event_id": f"$p{n}",
        "origin_server_ts": n, "room_id": HOME,
        "content": {"msgtype": "m.image", "body": "screenshot.png", "url": "mxc://x/shot",
                    "info": {"mimetype": "image/png"}}})


async def _counselling(anna_there: bool) -> tuple[CounselBot, Parts]:
    p = Parts()
    await p.start()
    await p.staff(ANNA, "!duty on")
    await p.youth(1, "hallo, ich werde gemobbt")
    room = MatrixRoom(HOME, BOT, encrypted=True)
    for user in (BOT, YOUTH, *([ANNA] if anna_there else [])):
        room.add_member(user, None, None)
    if anna_there:
        await p.c.member_joined(HOME, ANNA, p.event(), p.clock.now())
    await p.new()

    async def perform(_effect: object, _key: str) -> None:
        return None

    client = SimpleNamespace(user_id=BOT, rooms={HOME: room}, client_session=None)
    executor = SimpleNamespace(perform=perform, admin=None, protected=frozenset())
    bot = CounselBot(client, p.c, executor, p.clock,  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    return bot, p


def _notes(effects: list[Any]) -> int:
    return sum(isinstance(e, SayToYouth) and e.key == "attachment_note" for e in effects)


async def test_pictures_sent_to_the_counsellor_in_the_chat_get_no_note() -> None:
    bot, p = await _counselling(anna_there=True)
    for n in (1, 2):
        p.clock.advance(timedelta(seconds=30))
        await bot._on_room_event_once(HOME, _picture(n))
    assert _notes(await p.new()) == 0, "the youth was told the counsellor cannot see it"
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    kept = [i.body.decode() for i in await p.store.read_intake(record.conversation)]
    assert kept[-2:] == ["[Bild: screenshot.png]"] * 2  # for a counsellor taking over


async def test_a_picture_before_the_counsellor_is_there_gets_the_note() -> None:
    bot, p = await _counselling(anna_there=False)
    await bot._on_room_event_once(HOME, _picture(1))
    assert _notes(await p.new()) == 1


async def test_a_call_while_the_counsellor_is_in_the_chat_is_left_to_them() -> None:
    """A call rings every member's app (FluffyChat calls in any chat): the counsellor there
    may take it or write; the bot's "I cannot take calls here" only confused the youth."""
    bot, p = await _counselling(anna_there=True)
    await bot._on_room_event_once(HOME, Event.parse_decrypted_event({
        "type": "m.call.invite", "sender": YOUTH, "event_id": "$c1", "origin_server_ts": 1,
        "room_id": HOME, "content": {"call_id": "c1", "party_id": "PHONE", "version": "1",
                                     "lifetime": 60000, "offer": {"type": "offer",
                                                                  "sdp": "v=0"}}}))
    assert not [e for e in await p.new()
                if isinstance(e, SayToYouth) and e.key == "call_not_taken"]
