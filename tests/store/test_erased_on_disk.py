"""Erased means erased: after erasure and after retention nothing of a conversation is left
in any table, nor in the raw database file or its write-ahead log (issue 20, item 1)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from counsel_bot.config import Settings
from counsel_bot.conversation.retention import RetentionSettings, run_retention
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import (
    EraseConversation,
    SayInRoom,
    SayToStaff,
    SendMail,
    conversation_named,
    encode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Router, StaffAdded, YouthEnded
from counsel_bot.core.routing.model import Role
from counsel_bot.runtime.runner import retention_loop
from counsel_bot.store import (
    IntakeMessage,
    NewConversation,
    OutboxEntry,
    SqliteStore,
    Transition,
    entries_for,
)
from tests.retention.conftest import FakeAdmin
from tests.store.conftest import AeadSealer
from tests.support.raw_scan import assert_not_on_disk

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CID = ConversationID("C-0BADF00D")
ROOM = RoomID("!erasemeroom:x")
OTHER = ConversationID("C-0C0FFEE0")
OTHER_ROOM = RoomID("!keepmeroom:x")


def _entry(key: str, effect: object, at: datetime) -> OutboxEntry:
    return OutboxEntry(key, encode_effect(effect), at, conversation_named(effect))  # type: ignore[arg-type]


async def _populate(store: SqliteStore) -> list[str]:
    """Two conversations with intake, settings and real effects (done and pending) naming
    them; the first is closed. Returns the outbox keys that name the first."""
    router = Router()
    router.handle(StaffAdded(T0, UserID("@anna:x"), Role.COUNSELLOR))
    new = []
    actions = []
    for cid, room in ((CID, ROOM), (OTHER, OTHER_ROOM)):
        actions += router.handle(ConversationOpened(T0, cid))
        new.append(NewConversation(cid, room, UserID(f"@youth-{cid.lower()}:x"), "nick"))
    effects = [
        _entry(f"staff-new:{CID}", SayToStaff("staff_new_mail", (("conversation", CID),)), T0),
        _entry("sendmail:$ev1:0", SendMail(CID, "mail text"), T0),
        _entry("say_room:$ev2:0", SayInRoom(RoomID("!staff:x"), UserID("@anna:x"),
                                            "reply.taken", (("conversation", CID),)), T0),
        _entry(f"staff-new:{OTHER}", SayToStaff("staff_new_mail", (("conversation", OTHER),)),
               T0),
    ]
    outbox = (*entries_for(actions, version=router.version, at=T0), *effects)
    intake = (IntakeMessage(CID, EventID("$m1"), b"hello"),)
    await store.commit_transition(Transition(
        T0, router.snapshot(), EventID("$m1"), outbox, tuple(new), intake,
        settings=((f"mailto:{CID}", "sealedaddress"), (f"mailthread:abc{CID[-4:]}", CID),
                  (f"casecode:{'d' * 64}", f"{CID}|2026-03-16T15:00:00+00:00"),
                  (f"greeted:{ROOM}", "1"), (f"mailto:{OTHER}", "other"))))
    # Half of them done, so erasure must take done and pending rows alike.
    await store.mark_outbox_done([e.key for e in outbox[::2]], at=T0)
    later = T0 + timedelta(minutes=5)
    router.handle(YouthEnded(later, CID))
    await store.commit_transition(Transition(
        later, router.snapshot(), None,
        (_entry(f"erase:{CID}", EraseConversation(CID), later),)))
    return [e.key for e in outbox if CID in e.key or e.conversation == CID] + [f"erase:{CID}"]


def _sealed_of(path: Path, keys: list[str]) -> list[bytes]:
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute(
            f"SELECT sealed FROM outbox WHERE key IN ({','.join('?' * len(keys))}) "
            "UNION ALL SELECT youth_sealed FROM conversations WHERE id = ? "
            "UNION ALL SELECT nickname_sealed FROM conversations WHERE id = ? "
            "UNION ALL SELECT sealed FROM intake WHERE conversation = ?",
            (*keys, CID, CID, CID)).fetchall()
    finally:
        raw.close()
    # A done entry's payload is gone already (`Store.mark_outbox_done`): nothing to look for.
    return [bytes(r[0]) for r in rows if r[0]]


async def _erased_setup(tmp_path: Path) -> tuple[SqliteStore, Path, list[bytes]]:
    path = tmp_path / "counsel.db"
    store = await SqliteStore.open(path, AeadSealer())
    keys = await _populate(store)
    sealed = _sealed_of(path, keys)
    assert len(sealed) >= len(keys) // 2 + 3  # the pending half, youth, nickname, intake
    needles = [CID.encode(), ROOM.encode(), *(k.encode() for k in keys), *sealed]
    return store, path, needles


async def test_erasure_leaves_nothing_of_the_conversation_on_disk(tmp_path: Path) -> None:
    store, path, needles = await _erased_setup(tmp_path)
    try:
        await store.erase_conversation(CID)
        assert_not_on_disk(path, needles)  # the store still open: its log is on disk
        assert await store.conversation(OTHER) is not None
        assert await store.get_setting(f"mailto:{OTHER}") == "other"
        assert f"staff-new:{OTHER}" in [e.key for e in await store.pending_outbox()]
    finally:
        await store.close()
    assert_not_on_disk(path, needles)


# Erases the conversation and is killed between the erasure's commit and the emptying of
# the log (as by the OOM killer or a power cut): the deletion is durable, the log is not.
_KILLED_AFTER_THE_COMMIT = """
import asyncio, sys, time
from counsel_bot.core.ids import ConversationID
from counsel_bot.store import SqliteStore
from tests.store.conftest import AeadSealer

async def main() -> None:
    store = await SqliteStore.open(sys.argv[1], AeadSealer())

    async def killed_here() -> None:
        print("committed", flush=True)
        time.sleep(60)

    store._forget_old_pages = killed_here
    await store.erase_conversation(ConversationID(sys.argv[2]))

asyncio.run(main())
"""


async def test_a_kill_right_after_an_erasure_leaves_nothing_once_restarted(
    tmp_path: Path,
) -> None:
    """The restarted bot did not empty the log: the erased rows stayed readable in the
    database file (and the log) until the next erasure or prune, up to a day later."""
    store, path, needles = await _erased_setup(tmp_path)
    await store.close()
    root = Path(__file__).resolve().parents[2]
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _KILLED_AFTER_THE_COMMIT, str(path), CID,
        stdout=asyncio.subprocess.PIPE, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert child.stdout is not None
    try:
        assert await asyncio.wait_for(child.stdout.readline(), 30) == b"committed\n"
    finally:
        child.kill()
        await child.wait()
    store = await SqliteStore.open(path, AeadSealer())
    try:
        assert await store.room_of(CID) is None
        assert await store.room_of(OTHER) == OTHER_ROOM
        assert_not_on_disk(path, needles)
    finally:
        await store.close()


async def test_retention_leaves_nothing_of_the_conversation_on_disk(tmp_path: Path) -> None:
    store, path, needles = await _erased_setup(tmp_path)
    try:
        admin = FakeAdmin(rooms={ROOM, OTHER_ROOM})
        report = await run_retention(store, admin, T0 + timedelta(days=31), timedelta(days=30),
                                     dry_run=False, pause=lambda _s: asyncio.sleep(0))
        assert report.deleted == (CID,)
        assert_not_on_disk(path, needles)
    finally:
        await store.close()
    assert_not_on_disk(path, needles)


async def test_the_running_bot_forgets_done_effects_and_event_ids_on_schedule(
    tmp_path: Path,
) -> None:
    """The retention loop of the bot prunes, with or without admin access, on its clock."""
    store, path, _ = await _erased_setup(tmp_path)
    clock = FakeClock(T0 + timedelta(days=1))
    settings = Settings(retention=RetentionSettings(done_days=7))
    stop = asyncio.Event()
    try:
        loop = asyncio.create_task(retention_loop(settings, store, None, clock, stop,
                                                  check_every=0.01))
        await asyncio.sleep(0.1)
        assert await store.is_processed(EventID("$m1"))  # younger than done_days: kept
        done_before = _count(path, "SELECT count(*) FROM outbox WHERE done_at IS NOT NULL")
        assert done_before > 0
        clock.advance(timedelta(days=8))
        for _ in range(200):
            if not await store.is_processed(EventID("$m1")):
                break
            await asyncio.sleep(0.02)
        assert not await store.is_processed(EventID("$m1"))
        assert _count(path, "SELECT count(*) FROM outbox WHERE done_at IS NOT NULL") == 0
        assert _count(path, "SELECT count(*) FROM outbox WHERE done_at IS NULL") > 0
        stop.set()
        await asyncio.wait_for(loop, 5)
    finally:
        await store.close()


def _count(path: Path, query: str) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute(query).fetchone()[0])
    finally:
        raw.close()


async def test_a_message_the_youth_deleted_leaves_nothing_on_disk(tmp_path: Path) -> None:
    """A youth who deletes a message before a counsellor read it ("ich bin Lena, 14, aus
    ...") means it gone. The row went, but its sealed text stayed in the write-ahead log
    while the bot ran, readable with the vault's key, until the next erasure or prune."""
    store, path, _ = await _erased_setup(tmp_path)
    try:
        assert await store.append_intake(IntakeMessage(OTHER, EventID("$lena"), b"ich bin Lena"),
                                         at=T0)
        assert await store.append_intake(IntakeMessage(OTHER, EventID("$kept"), b"stress"),
                                         at=T0)
        raw = sqlite3.connect(path)
        try:
            deleted = bytes(raw.execute("SELECT sealed FROM intake WHERE event_id = '$lena'")
                            .fetchone()[0])
        finally:
            raw.close()
        assert await store.delete_intake_message(OTHER, EventID("$lena"))
        assert_not_on_disk(path, [deleted])  # the store still open: its log is on disk
        assert [i.body for i in await store.read_intake(OTHER)] == [b"stress"]
    finally:
        await store.close()
    assert_not_on_disk(path, [deleted])
