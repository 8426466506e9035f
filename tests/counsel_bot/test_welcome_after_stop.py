"""A room the bot joined on an invitation is welcomed, or left for a room fit for
counselling, on the sync after the join. A stop between the two syncs (SIGTERM after the
batch that joined: the loop ends, saving that batch's token) must not forget it: the note
is kept in the store (`welcome_due:<room>`). Kept in memory only, as an outside review
found, the bot after a restart neither greeted nor moved the youth, and in an unencrypted
room never answered at all (the bot reads encrypted messages only).

No server: the bot on fakes of nio's client and the executor, sync answers made by nio's
own parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from nio import MatrixRoom, RoomCreateError, RoomCreateResponse, SyncResponse

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.channels.matrix.invitations import WELCOME_DUE_PREFIX
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
BOT, YOUTH, ROOM = "@bot:x", "@sunflower:x", "!plain:x"


class FakeClient:
    """What the bot asks of nio's AsyncClient on this path."""

    def __init__(self) -> None:
        self.user_id = BOT
        self.rooms: dict[str, MatrixRoom] = {}
        self.created: list[dict[str, Any]] = []
        self.left: list[str] = []
        self.client_session = None

    async def join(self, room_id: str) -> Any:
        # The youth's unencrypted direct chat; nio would know it after the join.
        room = MatrixRoom(room_id, BOT, encrypted=False)
        room.add_member(YOUTH, "Sonnenblume", None)
        room.add_member(BOT, "Beratung", None)
        self.rooms[room_id] = room
        return SimpleNamespace(room_id=room_id)

    async def room_create(self, **kwargs: Any) -> Any:
        self.created.append(kwargs)
        return RoomCreateResponse(f"!new{len(self.created)}:x")

    async def room_leave(self, room_id: str) -> Any:
        self.left.append(room_id)
        return None


async def waits_in_the_first_room(bot: CounselBot, client: FakeClient) -> bool:
    """Moved: the new room exists, and the bot stays in the first until the youth is in
    it (what the youth writes meanwhile goes along: `room_moves`)."""
    return client.left == [] and await bot.moves.target(RoomID(ROOM)) == "!new1:x"


def _sync(next_batch: str, *, invite: dict[str, Any] | None = None,
          join: dict[str, Any] | None = None, leave: dict[str, Any] | None = None,
          ) -> SyncResponse:
    return SyncResponse.from_dict({
        "next_batch": next_batch,
        "rooms": {"invite": invite or {}, "join": join or {}, "leave": leave or {}},
        "device_lists": {"changed": [], "left": []}, "to_device": {"events": []},
        "presence": {"events": []}, "account_data": {"events": []},
    })


INVITED = _sync("s1", invite={ROOM: {"invite_state": {"events": [
    {"type": "m.room.member", "state_key": BOT, "sender": YOUTH,
     "content": {"membership": "invite"}}]}}})
# The next sync: the room among the joined ones, the bot's own join in its timeline.
JOINED = _sync("s2", join={ROOM: {
    "timeline": {"events": [{"type": "m.room.member", "state_key": BOT, "sender": BOT,
                             "event_id": "$join", "origin_server_ts": 1,
                             "content": {"membership": "join"}}],
                 "limited": False, "prev_batch": "p1"},
    "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
    "summary": {}, "unread_notifications": {}}})


async def _bot(store: MemoryStore, client: FakeClient, sent: list[tuple[str, str]]) -> CounselBot:
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), AT)

    async def send(room_id: str, body: str, key: str) -> None:
        sent.append((room_id, key))

    async def perform(_effect: object, _key: str) -> None:
        return None

    executor = SimpleNamespace(perform=perform, send=send, admin=None, protected=frozenset())
    return CounselBot(client, conductor, executor, FakeClock(AT),  # type: ignore[arg-type]
                      default_language="de", undecryptable_grace=timedelta(seconds=5))


def refuse_first_send(bot: CounselBot, prefix: str) -> list[str]:
    """The homeserver refuses (a 502) the first message the bot sends whose key starts
    with ``prefix``; the keys refused are listed in what this returns."""
    send, refused = bot.executor.send, []

    async def refusing_once(room_id: str, body: str, key: str) -> None:
        if key.startswith(prefix) and not refused:
            refused.append(key)
            raise EffectFailed("the homeserver answered 502", permanent=False)
        await send(room_id, body, key)

    bot.executor.send = refusing_once  # type: ignore[method-assign]
    return refused


async def test_without_a_stop_the_youth_in_an_unencrypted_room_is_moved() -> None:
    """The baseline: the sync after the join moves the youth to the bot's own room."""
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    assert [c["invite"] for c in client.created] == [[YOUTH]]
    assert await waits_in_the_first_room(bot, client)


async def test_a_stop_right_after_the_join_still_moves_the_youth() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)  # joins; the batch's token is saved; then SIGTERM
    # The next start, on the same store and the same (joined) room at the homeserver.
    again = await _bot(store, client, sent)
    await again.handle_sync(JOINED)
    assert [c["invite"] for c in client.created] == [[YOUTH]], (
        "the youth was neither told nor given a room fit for counselling")
    assert await waits_in_the_first_room(again, client)


class RefusingClient(FakeClient):
    """The homeserver refuses the first room it is asked for (429 on a busy evening)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = True

    async def room_create(self, **kwargs: Any) -> Any:
        if self.refuse:
            self.refuse = False
            return RoomCreateError("Too Many Requests", "M_LIMIT_EXCEEDED")
        return await super().room_create(**kwargs)


async def test_a_refused_room_for_the_move_is_tried_again() -> None:
    """nio returns a refusal instead of raising: the bot used to note the move, leave, and
    strand a youth told a new room was coming (a second review found it)."""
    store, client, sent = MemoryStore(AeadSealer()), RefusingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)  # told "a new room comes"; the homeserver said 429
    assert client.left == []  # stays, to try again
    await bot.handle_sync(_sync("s3"))  # the next sync: not yet
    assert client.created == []
    bot.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    await bot.handle_sync(_sync("s4"))  # a minute later, nothing new in the room
    assert [c["invite"] for c in client.created] == [[YOUTH]]
    assert await waits_in_the_first_room(bot, client)


class ForbiddingClient(FakeClient):
    """The bot's account may not create rooms (403)."""

    async def room_create(self, **kwargs: Any) -> Any:
        self.created.append(kwargs)
        return RoomCreateError("You are not allowed to create rooms", "M_FORBIDDEN")


async def test_a_refused_move_is_asked_for_once_a_minute_and_told_once() -> None:
    """Not at every sync (a third review counted 61 requests, warnings and notices to the
    youth in five idle minutes): once a minute, and the youth is told once that a room
    comes and once that it does not (`test_move_refused_for_good`)."""
    store, client, sent = MemoryStore(AeadSealer()), ForbiddingClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    for n in range(3, 63):  # five minutes of idle long polls, 5 s each
        bot.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
        await bot.handle_sync(_sync(f"s{n}"))
    assert 5 <= len(client.created) <= 6
    assert [key for _room, key in sent] == [f"moved:{ROOM}", f"move-refused:{ROOM}:{AT:%s}"]


async def test_a_room_left_before_its_welcome_is_not_due_for_ever() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)  # joined; then the youth leaves again
    left = _sync("s2", leave={ROOM: {
        "timeline": {"events": [], "limited": False, "prev_batch": "p2"},
        "state": {"events": []}, "account_data": {"events": []}}})
    await bot.handle_sync(left)
    again = await _bot(store, client, sent)
    await again.handle_sync(_sync("s3"))
    assert ROOM not in again.invitations.welcome_due
    assert not await store.get_setting(f"{WELCOME_DUE_PREFIX}{ROOM}")


def _membership(next_batch: str, room: str, user: str, membership: str,
                before: str) -> SyncResponse:
    return _sync(next_batch, join={room: {
        "timeline": {"events": [{"type": "m.room.member", "state_key": user, "sender": user,
                                 "event_id": f"${next_batch}", "origin_server_ts": 2,
                                 "content": {"membership": membership},
                                 "unsigned": {"prev_content": {"membership": before}}}],
                     "limited": False, "prev_batch": "p2"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_the_bot_leaves_the_first_room_once_the_youth_is_in_the_new_one() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    client.rooms["!new1:x"] = MatrixRoom("!new1:x", BOT, encrypted=True)
    await bot.handle_sync(_membership("s3", "!new1:x", YOUTH, "join", "invite"))
    assert client.left == [ROOM]
    assert await bot.moves.target(RoomID(ROOM)) is None
    assert [v for _, v in await store.settings("moved_from:")] == [f"{ROOM}|arrived"]


async def test_the_bot_leaves_the_first_room_when_the_youth_leaves_it() -> None:
    store, client, sent = MemoryStore(AeadSealer()), FakeClient(), []
    bot = await _bot(store, client, sent)
    await bot.handle_sync(INVITED)
    await bot.handle_sync(JOINED)
    client.rooms[ROOM].remove_member(YOUTH)  # nio applies a sync's memberships first
    await bot.handle_sync(_membership("s3", ROOM, YOUTH, "leave", "join"))
    assert client.left == [ROOM]
    again = await _bot(store, client, sent)  # and a restart does not bring the link back
    assert await again.moves.target(RoomID(ROOM)) is None


class BotsOwnRoom(FakeClient):
    """An encrypted room of the bot's (a move's new room, a chat the youth was invited into
    with a case code), where the bot holds the power and the youth is yet to come."""

    def __init__(self) -> None:
        super().__init__()
        room = MatrixRoom(ROOM, BOT, encrypted=True)
        room.add_member(BOT, "Beratung", None)
        self.rooms[ROOM] = room

    async def room_get_state(self, room_id: str) -> Any:
        return SimpleNamespace(events=[
            {"type": "m.room.create", "sender": BOT, "content": {"room_version": "10"}},
            {"type": "m.room.power_levels", "content": {"users": {BOT: 100}, "kick": 50}}])


def _room_synced(next_batch: str, events: list[dict[str, Any]]) -> SyncResponse:
    return _sync(next_batch, join={ROOM: {
        "timeline": {"events": events, "limited": False, "prev_batch": "p1"},
        "state": {"events": []}, "ephemeral": {"events": []}, "account_data": {"events": []},
        "summary": {}, "unread_notifications": {}}})


async def test_a_youth_whose_greeting_failed_at_their_join_is_greeted_after_a_stop() -> None:
    """The youth joins the bot's room while the homeserver answers the greeting with a 502;
    the bot stops before it asks again a minute later. The note of the welcome still due
    was kept in memory only: the restarted bot never greeted the youth (nor, in a room
    unfit for counselling, moved them), who waited for a word in a silent room."""
    store, client, sent = MemoryStore(AeadSealer()), BotsOwnRoom(), []
    bot = await _bot(store, client, sent)
    refused = refuse_first_send(bot, "greeted:")
    client.rooms[ROOM].add_member(YOUTH, "Sonnenblume", None)  # nio's members after the sync
    await bot.handle_sync(_room_synced("s2", [{
        "type": "m.room.member", "state_key": YOUTH, "sender": YOUTH, "event_id": "$youth",
        "origin_server_ts": 2, "content": {"membership": "join"},
        "unsigned": {"prev_content": {"membership": "invite"}}}]))
    assert refused == [f"greeted:{ROOM}"]
    # SIGTERM: the batch's token was saved. The next start, on the same store; its first
    # sync (full state) lists every joined room.
    again = await _bot(store, client, sent)
    again.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    await again.handle_sync(_room_synced("s3", []))
    assert (ROOM, f"greeted:{ROOM}") in sent, "the youth was never greeted"
