"""Erased means erased for group sessions and the forum too: the group book and waiting
forum posts name youths (id, room, nickname, text) but are not keyed by conversation, so
erasing a conversation must make them forget it: the youth's whole account in the same
transition as the youth's confirmation (the account is deactivated), and what came from the
conversation's room before retention erases the record (issue 20, issue 17). Retention
leaves the account's seats and posts from other rooms, and its removals, alone.

Real stores (memory, SQLite, PostgreSQL) and the real conductor with both desks; the raw
SQLite file and its write-ahead log are scanned like `test_erased_on_disk.py` does."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.forum import PENDING_KEY, ForumDesk, ForumTopic, post_key
from counsel_bot.conversation.group_keys import BOOK_KEY
from counsel_bot.conversation.groups import GroupDesk
from counsel_bot.conversation.retention import run_retention
from counsel_bot.conversation.youth_traces import forget_stored
from counsel_bot.core import groups as g
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import EraseConversation, decode_effect
from counsel_bot.core.group_book_codec import decode_book
from counsel_bot.core.group_effects import InviteToGroup, KickFromGroup, OpenGroupRoom, RoomNotice
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import ConversationState
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import ConversationRecord, MemoryStore, SqliteStore, Store, StoreError
from counsel_bot.store.contract import outbox_context
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer
from tests.support.raw_scan import assert_not_on_disk

ANNA, LEAD = UserID("@anna:x"), UserID("@lead:x")
STAFF_ROOM, GROUP_ROOM = RoomID("!staff:x"), RoomID("!group:x")
CANARY = "kummer7f3a"
YOUTH, HOME = UserID(f"@{CANARY}:x"), RoomID(f"!{CANARY}home:x")
TEXT = f"CANARY-{CANARY} ich habe Angst vor der Mathearbeit"
OTHER, OTHER_HOME = UserID("@bleibt:x"), RoomID("!bleibthome:x")
AT = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
# Both groups of `evening` are over, and its conversation closed more than 30 days ago: a
# seat signed up from a room keeps its conversation until its group is over.
AFTER_THE_GROUPS = datetime(2027, 2, 21, 12, 0, tzinfo=UTC)


class Bot:
    """The conductor with the group desk and the forum on a given store, as the runner
    builds them."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        self.store, self.clock, self.events = store, clock, 0

    async def start(self, *, can_delete: bool = True) -> Bot:
        policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,),
                                                          team_leads=(LEAD,))))
        detector = CrisisDetector.from_directory(default_lexicon_dir())
        self.c = await Conductor.open(self.store, detector, policy, self.clock.now())
        self.c.can_delete = lambda: can_delete
        await self.c.sync_roster(self.clock.now())
        self.desk = GroupDesk(self.c, ZoneInfo("Europe/Berlin"), timedelta(minutes=0))
        await self.desk.load()
        self.forum = ForumDesk(self.c, (ForumTopic("schule", "Schule"),))
        await self.forum.load()
        self.c.addons += [self.desk, self.forum]
        for number, room in ((1, GROUP_ROOM),):
            if await self.store.get_setting(f"group_room:{number}"):
                self.desk.room_opened(number, room)
        return self

    def event(self) -> EventID:
        self.events += 1
        return EventID(f"$e{self.clock.now().timestamp()}-{self.events}")

    async def staff(self, body: str, room: RoomID = STAFF_ROOM, who: UserID = ANNA) -> None:
        await self.c.staff_wrote(room, who, self.event(), body, self.clock.now())

    async def youth(self, user: UserID, room: RoomID, body: str) -> None:
        await self.c.youth_wrote(room, user, None, self.event(), body, self.clock.now())

    async def in_group(self, body: str) -> None:
        await self.desk.room_message(GROUP_ROOM, ANNA, self.event(), body, self.clock.now())

    async def before_erase(self, record: ConversationRecord) -> None:
        await self.c.forget_traces(record, self.clock.now())


async def evening(bot: Bot, *, moderate: str) -> tuple[ConversationID, str, str]:
    """The canary youth has a conversation, seats in two groups (one open, where the host
    mutes or removes them) and a waiting forum post; another youth the same. Returns the
    conversation, the canary's post id and nickname in group 1."""
    await bot.staff('!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
    await bot.staff('!group new "Später" 2027-02-20 18:00 90min max 8')
    await bot.youth(YOUTH, HOME, "hallo, ich brauche jemanden zum reden")
    record = await bot.store.conversation_by_room(HOME)
    assert record is not None
    for who, room in ((YOUTH, HOME), (OTHER, OTHER_HOME)):
        await bot.youth(who, room, "gruppe 1")
        await bot.youth(who, room, "gruppe 2")
    await bot.youth(YOUTH, HOME, f"forum schule {TEXT}")
    [canary_post] = bot.forum.pending
    await bot.youth(OTHER, OTHER_HOME, "forum schule ein anderer Beitrag")
    bot.clock.set(START)
    await bot.c.tick(START)
    [opened] = [decode_effect(e.payload) for e in await bot.store.pending_outbox()
                if e.key == "group_open:1"]
    assert isinstance(opened, OpenGroupRoom)
    await bot.store.set_setting("group_room:1", GROUP_ROOM)
    bot.desk.room_opened(1, GROUP_ROOM)
    nick = dict(opened.members)[YOUTH]
    await bot.in_group(f"!{moderate} {nick}")
    book = await _book(bot.store)
    assert YOUTH in book.get(1).removed if moderate == "remove" else nick in book.get(1).muted
    return record.conversation, canary_post, nick


async def _book(store: Store) -> g.GroupBook:
    raw = await store.get_sealed_setting(BOOK_KEY)
    assert raw is not None
    return decode_book(raw)


async def assert_forgotten(store: Store, post: str, nick: str,
                           named: tuple[int, int] = (2, 2), *, removal_kept: bool = False,
                           ) -> None:
    """Nothing in the book or the forum names the canary youth (but a removal from group 1
    retention keeps, ``removal_kept``); the other youth, the groups and their counts stay."""
    raw = await store.get_sealed_setting(BOOK_KEY)
    assert raw is not None
    assert (YOUTH.encode() in raw) is removal_kept
    assert HOME.encode() not in raw
    book = decode_book(raw)
    for number, handed_out in zip((1, 2), named, strict=True):
        group = book.get(number)
        assert [s.youth for s in group.seats] == [OTHER]
        assert group.named == handed_out
        assert group.removed == ({YOUTH} if removal_kept and number == 1 else frozenset())
        assert nick not in group.muted
    assert await store.get_sealed_setting(post_key(post)) is None
    pending = [p for p in (await store.get_setting(PENDING_KEY) or "").split(",") if p]
    assert post not in pending
    assert len(pending) == 1
    other = await store.get_sealed_setting(post_key(pending[0]))
    assert other is not None
    assert OTHER.encode() in other


async def test_confirmed_deletion_forgets_the_youth_in_the_same_transition(
    store: Store, tmp_path: Path, sealer: AeadSealer,
) -> None:
    """"ja löschen": seats, mute and waiting post go with the confirmation itself, so no
    crash before the purge leaves them; a restarted bot finds them gone as well."""
    clock = FakeClock(AT)
    bot = await Bot(store, clock).start(can_delete=True)
    cid, post, nick = await evening(bot, moderate="mute")
    path = tmp_path / "counsel.sqlite3"
    notices = _outbox_naming(path, sealer, HOME) if isinstance(store, SqliteStore) else []
    await bot.youth(YOUTH, HOME, "löschen")
    await bot.youth(YOUTH, HOME, "ja löschen")
    pending = await store.pending_outbox()
    keys = [e.key for e in pending]
    assert f"erase:{cid}" in keys  # the erasure is still to come: the record is still there
    # Out of the open group's room as well, not only out of the book.
    assert KickFromGroup(1, YOUTH) in [decode_effect(e.payload) for e in pending]
    assert await store.conversation(cid) is not None
    await assert_forgotten(store, post, nick)
    again = await Bot(store, clock).start()
    assert again.desk.book == bot.desk.book
    assert again.forum.pending == bot.forum.pending
    # A sign-up between the confirmation and the purge (the room still exists) is caught
    # by the deletion's last step, which the executor performs.
    await bot.youth(YOUTH, HOME, "gruppe 2")
    assert YOUTH in {s.youth for s in (await _book(store)).get(2).seats}
    executor = Executor(object(), store, clock, default_language="de", staff_room=_no_room)
    executor.admin = _PurgedAdmin()  # type: ignore[assignment]
    executor.before_erase = bot.before_erase
    await executor.perform(EraseConversation(cid), f"erase:{cid}")
    assert await store.conversation(cid) is None
    await assert_forgotten(store, post, nick, named=(2, 3))
    if isinstance(store, SqliteStore):
        assert len(notices) >= 3
        assert_not_on_disk(path, [YOUTH, HOME, TEXT, post, *notices])


async def test_deletion_left_to_retention_forgets_the_youth_at_once(store: Store) -> None:
    """Without admin access the room waits for retention, but the youth asked now."""
    bot = await Bot(store, FakeClock(AT)).start(can_delete=False)
    _, post, nick = await evening(bot, moderate="mute")
    await bot.youth(YOUTH, HOME, "löschen")
    await bot.youth(YOUTH, HOME, "ja löschen")
    await assert_forgotten(store, post, nick)


async def test_retention_forgets_the_youth_before_it_erases_the_record(tmp_path: Path) -> None:
    """Seats and posts from the erased room go; the removal stays while its group lives (a
    moderator's safety decision about an account retention does not erase), and goes with
    the group's purge."""
    path = tmp_path / "counsel.db"
    sealer = AeadSealer()
    store = await SqliteStore.open(path, sealer)
    clock = FakeClock(AT)
    try:
        bot = await Bot(store, clock).start(can_delete=False)
        cid, post, nick = await evening(bot, moderate="remove")
        before = _sealed(path, BOOK_KEY, post_key(post))
        notices = _outbox_naming(path, sealer, HOME)
        assert len(notices) >= 3  # the sign-up replies and "post received", into HOME
        await bot.youth(YOUTH, HOME, "ende")
        clock.set(AFTER_THE_GROUPS)
        report = await run_retention(store, FakeAdmin(rooms={HOME}), clock.now(),
                                     timedelta(days=30), dry_run=False,
                                     pause=lambda _s: asyncio.sleep(0),
                                     before_erase=bot.before_erase)
        assert report.deleted == (cid,)
        await assert_forgotten(store, post, nick, removal_kept=True)
        assert_not_on_disk(path, [HOME, TEXT, post, *before, *notices])
        await bot.c.tick(clock.now())  # group 1 ends by the clock and is purged
        assert not (await _book(store)).get(1).removed
        assert_not_on_disk(path, [YOUTH, HOME, TEXT, post, *before, *notices])
    finally:
        await store.close()
    assert_not_on_disk(path, [YOUTH, HOME, TEXT, post, *before, *notices])


async def an_ended_evening(path: Path, sealer: AeadSealer, clock: FakeClock,
                           ) -> tuple[SqliteStore, Bot, ConversationID, str, str]:
    """A SQLite store whose youth sat in a group (muted, with a waiting forum post) and ended
    their conversation; the bot does not delete, so retention finds the record."""
    store = await SqliteStore.open(path, sealer)
    bot = await Bot(store, clock).start(can_delete=False)
    cid, post, nick = await evening(bot, moderate="mute")
    await bot.youth(YOUTH, HOME, "ende")
    return store, bot, cid, post, nick


async def test_retention_by_hand_forgets_in_the_store_while_the_bot_is_stopped(
    tmp_path: Path,
) -> None:
    """`counsel retention` runs without the bot (it holds the data directory): the book and
    the queue are forgotten in the store, and the bot finds them so when it starts."""
    path = tmp_path / "counsel.db"
    sealer = AeadSealer()
    clock = FakeClock(AT)
    store, _bot, cid, post, nick = await an_ended_evening(path, sealer, clock)
    before = _sealed(path, BOOK_KEY, post_key(post))
    await store.close()  # the bot stops

    store = await SqliteStore.open(path, sealer)
    try:
        clock.set(AFTER_THE_GROUPS)
        now = clock.now()

        async def by_hand(record: ConversationRecord) -> None:
            await forget_stored(store, record, now)

        report = await run_retention(store, FakeAdmin(rooms={HOME}), now, timedelta(days=30),
                                     dry_run=False, before_erase=by_hand)
        assert report.deleted == (cid,)
        await assert_forgotten(store, post, nick)
        assert KickFromGroup(1, YOUTH) in [decode_effect(e.payload)
                                           for e in await store.pending_outbox()]
        started = await Bot(store, clock).start()
        assert YOUTH not in {s.youth for grp in started.desk.book.groups for s in grp.seats}
        assert post not in started.forum.pending
    finally:
        await store.close()
    assert_not_on_disk(path, [YOUTH, HOME, TEXT, post, *before])


async def test_a_crash_between_forgetting_and_erasing_is_finished_by_the_next_run(
    tmp_path: Path,
) -> None:
    """The record outlives the forgetting: killed before the erasure, the next run (after a
    restart) purges again (404), forgets again (nothing left) and erases."""
    path = tmp_path / "counsel.db"
    sealer = AeadSealer()
    clock = FakeClock(AT)
    store, bot, cid, post, nick = await an_ended_evening(path, sealer, clock)
    clock.set(AFTER_THE_GROUPS)
    admin = FakeAdmin(rooms={HOME})

    async def killed(_conversation: ConversationID) -> None:
        raise StoreError("killed before the erasure")

    store.erase_conversation = killed  # type: ignore[method-assign, assignment]
    report = await run_retention(store, admin, clock.now(), timedelta(days=30), dry_run=False,
                                 attempts=1, before_erase=bot.before_erase)
    assert report.failed == (cid,)
    await store.close()

    store = await SqliteStore.open(path, sealer)
    try:
        await assert_forgotten(store, post, nick)
        assert await store.conversation(cid) is not None
        bot = await Bot(store, clock).start(can_delete=False)
        report = await run_retention(store, admin, clock.now(), timedelta(days=30),
                                     dry_run=False, before_erase=bot.before_erase)
        assert report.deleted == (cid,)
        assert await store.conversation(cid) is None
        await assert_forgotten(store, post, nick)
    finally:
        await store.close()
    assert_not_on_disk(path, [YOUTH, HOME, TEXT, post])


# -- retention erases a conversation, not the youth ------------------------------------------

NEW_HOME = RoomID("!neu:x")


async def back_tonight(bot: Bot) -> tuple[ConversationRecord, str]:
    """The youth talked to a counsellor weeks ago in HOME (closed since); today they use the
    bot from NEW_HOME: a seat in tonight's group, open now, and a forum post waiting.
    Returns the old record as retention finds it, and the youth's nickname."""
    await bot.youth(YOUTH, HOME, "hallo, ich brauche jemanden zum reden")
    record = await bot.store.conversation_by_room(HOME)
    assert record is not None
    await bot.staff('!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await bot.youth(YOUTH, NEW_HOME, "gruppe 1")
    await bot.youth(YOUTH, NEW_HOME, f"forum schule {TEXT}")
    assert len(bot.forum.pending) == 1
    bot.clock.set(START)
    await bot.c.tick(START)
    await bot.store.set_setting("group_room:1", GROUP_ROOM)
    bot.desk.room_opened(1, GROUP_ROOM)
    seat = bot.desk.book.get(1).seat_of(YOUTH)
    assert seat is not None
    bot.clock.advance(timedelta(minutes=10))
    return replace(record, state=ConversationState.CLOSED,
                   closed_at=AT - timedelta(days=31)), seat.nickname


async def _kicks(store: Store) -> list[KickFromGroup]:
    return [e for e in (decode_effect(x.payload) for x in await store.pending_outbox())
            if isinstance(e, KickFromGroup)]


async def test_retention_of_an_old_conversation_leaves_tonights_seat_and_post() -> None:
    """The account lives on after retention: the youth, back from another room, keeps their
    seat in tonight's group (nobody kicks them out mid-evening) and the post they wrote
    today still waits for a counsellor."""
    bot = await Bot(MemoryStore(AeadSealer()), FakeClock(AT)).start(can_delete=False)
    old, _ = await back_tonight(bot)
    await bot.before_erase(old)
    assert await _kicks(bot.store) == []
    assert bot.desk.book.get(1).seat_of(YOUTH) is not None
    assert len(bot.forum.pending) == 1


async def test_retention_by_hand_leaves_tonights_seat_and_post() -> None:
    """`counsel retention` (the bot stopped) decides the same in the store."""
    store = MemoryStore(AeadSealer())
    bot = await Bot(store, FakeClock(AT)).start(can_delete=False)
    old, _ = await back_tonight(bot)
    assert not await forget_stored(store, old, bot.clock.now())
    again = await Bot(store, bot.clock).start()
    assert again.desk.book.get(1).seat_of(YOUTH) is not None
    assert len(again.forum.pending) == 1


async def test_retention_of_an_old_conversation_does_not_lift_a_removal() -> None:
    """"A removed youth never gets a seat in it again": the old conversation's erasure
    during the evening does not let the removed youth sign up and be invited again."""
    bot = await Bot(MemoryStore(AeadSealer()), FakeClock(AT)).start(can_delete=False)
    old, nick = await back_tonight(bot)
    await bot.in_group(f"!remove {nick}")
    await bot.before_erase(old)
    await bot.youth(YOUTH, NEW_HOME, "gruppe 1")
    sent = [decode_effect(x.payload) for x in await bot.store.pending_outbox()]
    assert [e for e in sent if isinstance(e, InviteToGroup)] == []
    assert [e for e in sent if isinstance(e, RoomNotice) and e.key == "group.removed"]


async def test_the_youths_own_deletion_forgets_the_account_in_every_room() -> None:
    """"ja löschen" deactivates the account: its seat from another room goes (out of the
    open room too), as does every waiting post of the youth's and their removal."""
    bot = await Bot(MemoryStore(AeadSealer()), FakeClock(AT)).start(can_delete=True)
    await back_tonight(bot)
    await bot.youth(YOUTH, HOME, "löschen")
    await bot.youth(YOUTH, HOME, "ja löschen")
    assert KickFromGroup(1, YOUTH) in await _kicks(bot.store)
    assert bot.desk.book.get(1).seat_of(YOUTH) is None
    assert bot.forum.pending == []
    raw = await bot.store.get_sealed_setting(BOOK_KEY)
    assert raw is not None
    assert YOUTH.encode() not in raw


async def _no_room() -> RoomID | None:
    return None


class _PurgedAdmin:
    """The homeserver after the purge: the room is gone."""

    async def room_exists(self, room_id: str) -> bool:
        return False


def _outbox_naming(path: Path, sealer: AeadSealer, room: RoomID) -> list[bytes]:
    """The sealed outbox payloads whose effect is addressed to ``room``."""
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute("SELECT key, sealed FROM outbox").fetchall()
    finally:
        raw.close()
    return [bytes(blob) for key, blob in rows
            if room.encode() in sealer.open_sealed(bytes(blob), context=outbox_context(key))]


def _sealed(path: Path, *keys: str) -> list[bytes]:
    """The sealed values of these keys as they are now."""
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute(f"SELECT sealed FROM sealed_settings WHERE key IN "
                           f"({','.join('?' * len(keys))})", keys).fetchall()
    finally:
        raw.close()
    assert len(rows) == len(keys)
    return [bytes(r[0]) for r in rows]




async def test_a_waiting_post_shown_to_the_staff_goes_with_the_youth(tmp_path: Path) -> None:
    """``!forum pending`` shows the staff every waiting post with its text; once the youth's
    deletion has deleted the post unread, no outbox row (the listing's, done in seconds)
    may still hold that text for the days done effects are kept."""
    sealer = AeadSealer()
    path = tmp_path / "counsel.db"
    store = await SqliteStore.open(path, sealer)
    try:
        bot = await Bot(store, FakeClock(AT)).start(can_delete=True)
        await bot.youth(YOUTH, HOME, "hallo, ich brauche jemanden zum reden")
        await bot.youth(YOUTH, HOME, f"forum schule {TEXT}")
        await bot.staff("!forum pending")
        await store.mark_outbox_done([e.key for e in await store.pending_outbox()], at=AT)
        await bot.youth(YOUTH, HOME, "löschen")
        await bot.youth(YOUTH, HOME, "ja löschen")
        assert bot.forum.pending == []
        record = await store.conversation_by_room(HOME)
        assert record is not None
        await bot.c.forget_traces(record, bot.clock.now(), account=True)
        await store.erase_conversation(record.conversation)
        assert _outbox_holding(path, sealer, TEXT) == []
    finally:
        await store.close()


def _outbox_holding(path: Path, sealer: AeadSealer, text: str) -> list[str]:
    """The keys of the outbox rows whose sealed payload holds ``text``."""
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute("SELECT key, sealed FROM outbox").fetchall()
    finally:
        raw.close()
    return [key for key, blob in rows if blob  # a done entry's payload is gone
            and text.encode() in sealer.open_sealed(bytes(blob), context=outbox_context(key))]


async def test_retention_keeps_a_closed_conversation_whose_room_holds_a_seat_to_come() -> None:
    """A youth whose conversation ended a month ago signs up, from that same room, for a
    group next month. Retention ran the next day and took the seat (and the room where
    the invitation was to come): the youth asked for the group and was never invited.
    Kept, like a closed conversation with an appointment to come, until the group is
    over; then its normal period applies."""
    store = MemoryStore(AeadSealer())
    clock = FakeClock(AT)
    bot = await Bot(store, clock).start(can_delete=False)
    await bot.youth(YOUTH, HOME, "hallo, ich brauche jemanden zum reden")
    await bot.youth(YOUTH, HOME, "ende")
    record = await store.conversation_by_room(HOME)
    assert record is not None
    assert record.closed_at is not None
    await bot.staff('!group new "Später" 2027-02-20 18:00 90min max 8')
    clock.advance(timedelta(days=29))
    await bot.youth(YOUTH, HOME, "gruppe 1")
    assert bot.desk.book.get(1).seat_of(YOUTH) is not None
    clock.advance(timedelta(days=2))
    admin = FakeAdmin(rooms={HOME})
    report = await run_retention(store, admin, clock.now(), timedelta(days=30),
                                 dry_run=False, pause=lambda _s: asyncio.sleep(0),
                                 before_erase=bot.before_erase)
    assert report.deleted == ()
    assert admin.rooms == {HOME}
    assert bot.desk.book.get(1).seat_of(YOUTH) is not None
    assert await _kicks(store) == []

    clock.set(datetime(2027, 2, 20, 19, 0, tzinfo=UTC))  # the group is over
    await bot.c.tick(clock.now())
    report = await run_retention(store, admin, clock.now(), timedelta(days=30),
                                 dry_run=False, pause=lambda _s: asyncio.sleep(0),
                                 before_erase=bot.before_erase)
    assert report.deleted == (record.conversation,)
    assert admin.rooms == set()
