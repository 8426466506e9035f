"""Someone the youth lets into their counselling room (a friend, or a stranger by a typo in
the name): Element's direct chats give the youth the power to invite. The youth-side review
found the bot then took nobody's words any more, since it knew the youth only as "the one
member who is not staff" (a crisis written next was dropped without a trace), and that the
transcript for a counsellor joining later would repeat every earlier word of the youth to
whoever had come in. Now the youth is the conversation's youth, and anyone else not on staff
is taken out of the room at once, the youth told why.

No server: the bot on a fake of nio's client and the executor, events made by nio's parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from nio import MatrixRoom, RoomMemberEvent, RoomMessageText

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
BOT, YOUTH, FRIEND, ANNA = "@bot:x", "@sunflower:x", "@buddy:x", "@anna:x"
ROOM = RoomID("!dm:x")


class FakeClient:
    def __init__(self) -> None:
        self.user_id = BOT
        room = MatrixRoom(ROOM, BOT, encrypted=True)
        room.add_member(YOUTH, "Sonnenblume", None)
        room.add_member(BOT, "Beratung", None)
        self.rooms: dict[str, MatrixRoom] = {ROOM: room}
        self.kicked: list[tuple[str, str]] = []
        self.client_session = None

    async def room_kick(self, room_id: str, user: str, reason: str | None = None) -> Any:
        self.kicked.append((room_id, user))
        self.rooms[room_id].remove_member(user)
        return SimpleNamespace()


async def _bot() -> tuple[CounselBot, FakeClient, list[tuple[str, str]]]:
    settings = Settings(staff=StaffSettings(counsellors=(ANNA,)))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(MemoryStore(AeadSealer()), detector, policy_from(settings),
                                     AT)
    sent: list[tuple[str, str]] = []

    async def send(room_id: str, body: str, key: str) -> None:
        sent.append((room_id, body))

    async def perform(_effect: object, _key: str) -> None:
        return None

    executor = SimpleNamespace(perform=perform, send=send, admin=None, protected=frozenset())
    client = FakeClient()
    bot = CounselBot(client, conductor, executor, FakeClock(AT),  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    return bot, client, sent


def _text(n: int, sender: str, body: str) -> RoomMessageText:
    event = RoomMessageText.from_dict({
        "type": "m.room.message", "sender": sender, "event_id": f"$m{n}",
        "origin_server_ts": n, "room_id": ROOM,
        "content": {"msgtype": "m.text", "body": body}})
    assert isinstance(event, RoomMessageText)
    return event


def _joins(user: str) -> RoomMemberEvent:
    event = RoomMemberEvent.from_dict({
        "type": "m.room.member", "state_key": user, "sender": user, "event_id": f"$j{user}",
        "origin_server_ts": 5, "content": {"membership": "join", "displayname": "Buddy"},
        "unsigned": {"prev_content": {"membership": "invite"}}})
    assert isinstance(event, RoomMemberEvent)
    return event


async def _friend_comes_in(bot: CounselBot, client: FakeClient) -> None:
    client.rooms[ROOM].add_member(FRIEND, "Buddy", None)
    await bot._on_room_event_once(ROOM, _joins(FRIEND))


async def _alerts(bot: CounselBot) -> list[str]:
    return [e.key for e in (decode_effect(o.payload)
                            for o in await bot.store.pending_outbox())
            if isinstance(e, SayToStaff) and e.key == "staff_crisis_alert"]


async def test_a_friend_let_into_the_room_is_taken_out_and_the_youth_told() -> None:
    bot, client, sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo, ich hab stress zuhause"))
    await _friend_comes_in(bot, client)
    assert client.kicked == [(ROOM, FRIEND)]
    assert any(room == ROOM and "nur für dich" in body for room, body in sent)


async def test_the_youths_crisis_is_read_while_someone_else_is_in_the_room() -> None:
    bot, client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo, ich hab stress zuhause"))
    client.rooms[ROOM].add_member(FRIEND, "Buddy", None)  # the removal not yet through
    await bot._on_room_event_once(ROOM, _text(2, YOUTH, "ich will mich umbringen"))
    assert await _alerts(bot) == ["staff_crisis_alert"]


async def test_what_the_friend_writes_is_not_taken_as_the_youths() -> None:
    bot, client, _sent = await _bot()
    await bot._on_room_event_once(ROOM, _text(1, YOUTH, "hallo"))
    record = await bot.store.conversation_by_room(ROOM)
    assert record is not None
    client.rooms[ROOM].remove_member(YOUTH)  # the youth left; the friend stays
    client.rooms[ROOM].add_member(FRIEND, "Buddy", None)
    await bot._on_room_event_once(ROOM, _text(2, FRIEND, "ich bin ihr freund, hallo"))
    assert [i.event_id for i in await bot.store.read_intake(record.conversation)] == ["$m1"]
