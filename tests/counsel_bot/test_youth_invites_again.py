"""A youth whose chat is over, and whom the bot left (`feedback.LEAVE_AFTER` after their
word after the close), invites the bot back into that same chat: the way back Element X
and the member list offer, and what "start a new chat with me" means to many. The
youth-side review found the bot joined, said nothing (the room had been greeted once), and
took everything the youth wrote there as words after the close: at most one more pointer
"start a new chat", then silence, for as long as retention kept the old conversation. A
youth coming back in need was answered by nobody. Now they get a room of their own with a
new conversation, as a youth moved out of any room unfit for counselling.

No server: the bot on a fake of nio's client and the executor, events and sync answers
made by nio's parser (the shapes of test_youth_room_stranger and test_welcome_after_stop)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nio import MatrixRoom, RoomCreateResponse

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import ConversationState
from tests.counsel_bot.test_welcome_after_stop import _sync
from tests.counsel_bot.test_youth_room_stranger import BOT, ROOM, YOUTH, _bot, _text

OTHER = RoomID("!other:x")

INVITED = _sync("s1", invite={ROOM: {"invite_state": {"events": [
    {"type": "m.room.member", "state_key": BOT, "sender": YOUTH,
     "content": {"membership": "invite"}}]}}})
JOINED = _sync("s2", join={ROOM: {
    "timeline": {"events": [{"type": "m.room.member", "state_key": BOT, "sender": BOT,
                             "event_id": "$join-again", "origin_server_ts": 9,
                             "content": {"membership": "join"}}],
                 "limited": False, "prev_batch": "p1"},
    "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    "summary": {}, "unread_notifications": {}}})


class Rejoining:
    """What nio's client does on this path beside the stranger test's fake: the join back
    into the youth's encrypted room, where the bot kept its power, and new rooms."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.created: list[dict[str, Any]] = []

    async def join(self, room_id: str) -> Any:
        room = MatrixRoom(room_id, BOT, encrypted=True)
        room.add_member(YOUTH, "Sonnenblume", None)
        room.add_member(BOT, "Beratung", None)
        self.client.rooms[room_id] = room
        return RoomCreateResponse(room_id)  # has a room_id, as nio's JoinResponse

    async def room_get_state(self, room_id: str) -> Any:
        return SimpleNamespace(events=[
            {"type": "m.room.create", "sender": YOUTH, "content": {"room_version": "10"}},
            {"type": "m.room.power_levels",
             "content": {"users": {YOUTH: 100, BOT: 100}, "kick": 50}}])

    async def room_create(self, **kwargs: Any) -> Any:
        self.created.append(kwargs)
        new = f"!new{len(self.created)}:x"
        room = MatrixRoom(new, BOT, encrypted=True)
        room.add_member(BOT, "Beratung", None)
        room.add_member(YOUTH, "Sonnenblume", None, invited=True)
        self.client.rooms[new] = room
        return RoomCreateResponse(new)


async def _open_conversations(bot: CounselBot) -> list[str]:
    return [c.conversation for c in bot.conductor.router.snapshot().conversations
            if c.state is not ConversationState.CLOSED]


async def test_a_youth_who_invites_the_bot_back_into_a_closed_chat_is_counselled() -> None:
    bot, client, sent = await _bot()
    fake = Rejoining(client)
    client.join, client.room_get_state, client.room_create = (  # type: ignore[attr-defined]
        fake.join, fake.room_get_state, fake.room_create)
    await bot.welcomes.welcome(ROOM)  # greeted when it first joined
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo, ich hab stress zuhause"))
    await bot._on_room_event_once(ROOM, _text(2, YOUTH, "ende"))
    await bot._on_room_event_once(ROOM, _text(3, YOUTH, "danke"))
    assert await _open_conversations(bot) == []
    del client.rooms[ROOM]  # ten minutes later the bot left the closed chat
    sent.clear()

    # Days later the youth invites the bot back into the same chat and writes.
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    await bot._on_room_event_once(ROOM, _text(4, YOUTH, "hallo, mir geht es wieder schlecht"))
    await bot._on_room_event_once(ROOM, _text(5, YOUTH, "kann jemand mit mir reden?"))

    assert len(await _open_conversations(bot)) == 1, (
        f"nobody will answer the youth; they were told only {sent!r}")


async def test_a_youth_with_a_chat_still_open_who_invites_the_bot_back_keeps_one() -> None:
    """The youth's other chat is still open (a counsellor with them there): inviting the bot
    back into an old closed chat must not queue them a second time, with a counsellor who
    knows nothing of the first, as a second chat does not (second_chats.py)."""
    bot, client, _sent = await _bot()
    fake = Rejoining(client)
    client.join, client.room_get_state, client.room_create = (  # type: ignore[attr-defined]
        fake.join, fake.room_get_state, fake.room_create)
    await bot.welcomes.welcome(ROOM)
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo, ich hab stress zuhause"))
    await bot._on_room_event_once(ROOM, _text(2, YOUTH, "ende"))
    await bot._on_room_event_once(ROOM, _text(3, YOUTH, "danke"))
    del client.rooms[ROOM]
    other = MatrixRoom(OTHER, BOT, encrypted=True)
    other.add_member(YOUTH, "Sonnenblume", None)
    other.add_member(BOT, "Beratung", None)
    client.rooms[OTHER] = other
    await bot._on_room_event_once(OTHER, _text(4, YOUTH, "hallo, ich bin wieder da"))
    assert len(await _open_conversations(bot)) == 1

    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    await bot._on_room_event_once(ROOM, _text(5, YOUTH, "hallo? ist da wer?"))
    assert len(await _open_conversations(bot)) == 1, "the youth is queued a second time"
