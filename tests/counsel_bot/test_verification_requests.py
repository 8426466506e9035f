"""A key verification asked for in a chat's room (Element: the member's info, "Verify"):
Element and FluffyChat send it into the room as a message of msgtype
`m.key.verification.request`, whose body only tells old apps that they cannot take part.
It is a request to the other member's app, no message: the bot read a counsellor's as an
answer to the youth (the wait ended, no reminder, no hand-back, the first reply counted at
the verification), and a youth's as words.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser,
the conductor on a memory store (test_group_desk.py's parts)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from nio import Event

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.effects import decode_effect
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import text
from tests.counsel_bot.test_youth_room_stranger import ROOM as STRANGER_ROOM
from tests.counsel_bot.test_youth_room_stranger import YOUTH as STRANGER_YOUTH
from tests.counsel_bot.test_youth_room_stranger import _bot as youth_room_bot
from tests.groups.test_group_desk import ANNA, Parts

HOME, YOUTH = RoomID("!home1:x"), UserID("@y1:x")


def _verification(n: int, sender: str, to: str, room: str = HOME) -> Event:
    """As Element sends it (`m.key.verification.request` in the room)."""
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": sender, "event_id": f"$v{n}",
        "origin_server_ts": n, "room_id": room,
        "content": {"msgtype": "m.key.verification.request",
                    "body": f"{sender} is requesting to verify your key, but your client does "
                            "not support in-chat key verification.",
                    "from_device": "PHONE", "methods": ["m.sas.v1"], "to": to}})


async def _bot(p: Parts) -> CounselBot:
    async def perform(_effect: object, _key: str) -> None:
        return None

    client = SimpleNamespace(user_id="@bot:x", rooms={}, client_session=None)
    executor = SimpleNamespace(perform=perform, admin=None, protected=frozenset())
    return CounselBot(client, p.c, executor, p.clock,  # type: ignore[arg-type]
                      default_language="de", undecryptable_grace=timedelta(seconds=5))


async def counselled() -> tuple[Parts, ConversationID]:
    """Anna on duty and in the youth's room, the youth waiting for her answer."""
    p = Parts()
    await p.start()
    await p.staff(ANNA, "!duty on")
    await p.youth(1, "hallo, ich brauche hilfe")
    await p.c.member_joined(HOME, ANNA, p.event(), p.clock.now())
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    return p, record.conversation


async def test_a_counsellor_who_verifies_the_youth_has_not_answered_them() -> None:
    p, conversation = await counselled()
    waiting = p.c.timers.waiting(conversation)
    assert waiting.since is not None
    bot = await _bot(p)
    p.clock.advance(timedelta(minutes=1))
    await bot._on_room_event_once(HOME, _verification(1, ANNA, YOUTH))
    assert p.c.timers.waiting(conversation) == waiting, \
        "the verification ended the youth's wait for an answer"


async def _youth_bot() -> CounselBot:
    """The bot in a youth's encrypted room of two (test_youth_room_stranger.py)."""
    bot, _client, _sent = await youth_room_bot()
    return bot


async def _effects(bot: CounselBot) -> list[object]:
    return [decode_effect(o.payload) for o in await bot.store.pending_outbox()]


async def test_a_youth_who_verifies_the_bot_before_writing_opens_nothing() -> None:
    """Before any words: it opened a conversation (a counsellor invited to read "@y:x is
    requesting to verify your key"), and the youth was told the bot cannot pass on pictures
    or files. The bot's welcome at its join already asked them to write."""
    bot = await _youth_bot()
    await bot._on_room_event_once(STRANGER_ROOM, _verification(1, STRANGER_YOUTH, "@bot:x",
                                                                room=STRANGER_ROOM))
    assert await bot.store.conversation_by_room(STRANGER_ROOM) is None
    assert await _effects(bot) == []


async def test_a_youths_verification_in_their_conversation_is_no_words_of_theirs() -> None:
    bot = await _youth_bot()
    await bot._on_room_event_once(STRANGER_ROOM, Event.parse_decrypted_event({
        "type": "m.room.message", "sender": STRANGER_YOUTH, "event_id": "$m1",
        "origin_server_ts": 1, "room_id": STRANGER_ROOM,
        "content": {"msgtype": "m.text", "body": "hallo"}}))
    await bot._on_room_event_once(STRANGER_ROOM, _verification(2, STRANGER_YOUTH, "@bot:x",
                                                                room=STRANGER_ROOM))
    record = await bot.store.conversation_by_room(STRANGER_ROOM)
    assert record is not None
    kept = [i.body.decode() for i in await bot.store.read_intake(record.conversation)]
    assert kept == ["hallo"], "the verification request was kept as the youth's words"
    keys = [getattr(e, "key", None) for e in await _effects(bot)]
    assert "attachment_note" not in keys
    assert "verification_not_here" in keys


def test_the_youth_is_told_in_both_languages() -> None:
    for language in ("de", "en"):
        assert text("verification_not_here", language)


async def test_a_youth_who_verifies_their_counsellor_is_left_to_the_counsellors_app() -> None:
    """Addressed to the counsellor (the youth's "Verify" on her in the member list), the
    request is for her app to accept: the bot's "I cannot accept a verification" was wrong."""
    bot = await _youth_bot()
    await bot._on_room_event_once(STRANGER_ROOM, Event.parse_decrypted_event({
        "type": "m.room.message", "sender": STRANGER_YOUTH, "event_id": "$m1",
        "origin_server_ts": 1, "room_id": STRANGER_ROOM,
        "content": {"msgtype": "m.text", "body": "hallo"}}))
    await bot._on_room_event_once(STRANGER_ROOM, _verification(2, STRANGER_YOUTH, ANNA,
                                                                room=STRANGER_ROOM))
    record = await bot.store.conversation_by_room(STRANGER_ROOM)
    assert record is not None
    assert [i.body.decode() for i in await bot.store.read_intake(record.conversation)] \
        == ["hallo"]
    assert "verification_not_here" not in [getattr(e, "key", None)
                                           for e in await _effects(bot)]
