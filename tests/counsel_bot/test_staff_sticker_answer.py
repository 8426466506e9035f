"""A counsellor who answers the youth with a sticker (FluffyChat's sticker packs, Element's
picker) or a poll: the youth sees it in their chat like a picture, and a picture is an answer
(test_timers_e2e.py: a voice message or a /me). The bot read a staff member's sticker
(or poll) as nothing at all: the youth's wait went on, the counsellor was reminded of a
reply they had given, and at its end the youth was handed back mid-conversation.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser,
the conductor on a memory store (test_verification_requests.py)."""

from __future__ import annotations

from datetime import timedelta

from nio import Event

from tests.counsel_bot.test_verification_requests import HOME, _bot, counselled
from tests.groups.test_group_desk import ANNA


async def test_a_counsellors_sticker_answers_the_youth() -> None:
    p, conversation = await counselled()
    assert p.c.timers.waiting(conversation).since is not None
    bot = await _bot(p)
    p.clock.advance(timedelta(minutes=1))
    await bot._on_room_event_once(HOME, Event.parse_decrypted_event({
        "type": "m.sticker", "sender": ANNA, "event_id": "$s1", "origin_server_ts": 1,
        "room_id": HOME, "content": {"body": "Umarmung", "url": "mxc://x/hug",
                                     "info": {"w": 256, "h": 256, "mimetype": "image/png"}}}))
    assert p.c.timers.waiting(conversation).since is None, \
        "the counsellor's sticker left the youth waiting for an answer"


async def test_a_counsellors_poll_answers_the_youth() -> None:
    """Element's poll ("Wie geht es dir gerade?" with five answers) is a question the youth
    sees and answers with a tap: the counsellor has answered."""
    p, conversation = await counselled()
    bot = await _bot(p)
    p.clock.advance(timedelta(minutes=1))
    await bot._on_room_event_once(HOME, Event.parse_decrypted_event({
        "type": "org.matrix.msc3381.poll.start", "sender": ANNA, "event_id": "$q1",
        "origin_server_ts": 1, "room_id": HOME, "content": {
            "org.matrix.msc3381.poll.start": {
                "question": {"org.matrix.msc1767.text": "Wie geht es dir gerade?"},
                "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
                "answers": [{"id": "a", "org.matrix.msc1767.text": "gut"},
                            {"id": "b", "org.matrix.msc1767.text": "schlecht"}]},
            "org.matrix.msc1767.text": "Wie geht es dir gerade?\n1. gut\n2. schlecht"}}))
    assert p.c.timers.waiting(conversation).since is None, \
        "the counsellor's poll left the youth waiting for an answer"
