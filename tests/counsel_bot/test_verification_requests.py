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
from counsel_bot.core.ids import RoomID, UserID
from tests.groups.test_group_desk import ANNA, Parts

HOME, YOUTH = RoomID("!home1:x"), UserID("@y1:x")


def _verification(n: int, sender: str, to: str) -> Event:
    """As Element sends it (`m.key.verification.request` in the room)."""
    return Event.parse_decrypted_event({
        "type": "m.room.message", "sender": sender, "event_id": f"$v{n}",
        "origin_server_ts": n, "room_id": HOME,
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


async def test_a_counsellor_who_verifies_the_youth_has_not_answered_them() -> None:
    p = Parts()
    await p.start()
    await p.staff(ANNA, "!duty on")
    await p.youth(1, "hallo, ich brauche hilfe")
    await p.c.member_joined(HOME, ANNA, p.event(), p.clock.now())
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    waiting = p.c.timers.waiting(record.conversation)
    assert waiting.since is not None
    bot = await _bot(p)
    p.clock.advance(timedelta(minutes=1))
    await bot._on_room_event_once(HOME, _verification(1, ANNA, YOUTH))
    assert p.c.timers.waiting(record.conversation) == waiting, \
        "the verification ended the youth's wait for an answer"
