"""What only the SQLite store must show: durability settings, file modes, schema, crashes."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import nacl.utils
import pytest

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import (
    Assign,
    ConversationOpened,
    CounsellorOnDuty,
    Role,
    Router,
    StaffAdded,
    YouthEnded,
)
from counsel_bot.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    IntakeMessage,
    MemoryStore,
    NewConversation,
    SchemaTooNewError,
    SqliteStore,
    StoreBusyError,
    StoreError,
    Transition,
    action_of,
    migrate,
)
from tests.store.conftest import AeadSealer
from tests.store.crash_writer import KeySealer, plan, run

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


async def test_wal_full_sync_and_private_files(tmp_path: Path, sealer: AeadSealer) -> None:
    path = tmp_path / "data" / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer)
    try:
        await store.mark_processed(EventID("$x"), at=T0)
        async with aiosqlite.connect(path) as probe, probe.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone()) == ("wal",)
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        for file in files:
            assert file.exists()
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        async with store._db.execute("PRAGMA synchronous") as cursor:
            assert (await cursor.fetchone()) == (2,)  # FULL
    finally:
        await store.close()


async def test_reopening_keeps_data_and_schema(tmp_path: Path, sealer: AeadSealer) -> None:
    path = tmp_path / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer)
    await store.mark_processed(EventID("$x"), at=T0)
    await store.close()
    store = await SqliteStore.open(path, sealer)
    try:
        assert await store.is_processed(EventID("$x"))
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


async def test_a_newer_schema_is_refused(tmp_path: Path, sealer: AeadSealer) -> None:
    path = tmp_path / "counsel.sqlite3"
    await (await SqliteStore.open(path, sealer)).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNewError, match="newer counsel"):
        await SqliteStore.open(path, sealer)


async def test_a_failing_migration_rolls_back_alone(tmp_path: Path) -> None:
    async def good(db: aiosqlite.Connection) -> None:
        await db.execute("CREATE TABLE a (x INTEGER)")

    async def bad(db: aiosqlite.Connection) -> None:
        await db.execute("CREATE TABLE b (x INTEGER)")
        raise RuntimeError("boom")

    async with aiosqlite.connect(tmp_path / "m.sqlite3", isolation_level=None) as db:
        with pytest.raises(RuntimeError):
            await migrate(db, (good, bad))
        async with db.execute("PRAGMA user_version") as cursor:
            assert (await cursor.fetchone()) == (1,)
        tables = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type='table'")
        assert [t[0] for t in tables] == ["a"]


async def test_processes_starting_together_all_open_a_database_to_upgrade(
    tmp_path: Path, sealer: AeadSealer
) -> None:
    """Two counsel processes may open one database at once (the bot and `counsel web
    reset-2fa`, which is safe beside it): each read the schema version before taking the
    write lock, so the second applied the same step again and failed to start with "table
    conversations already exists" (an upgrade: "duplicate column name")."""
    # A race: a few rounds, so that it is met.
    for older, round_ in itertools.product((0, SCHEMA_VERSION - 1), range(5)):
        path = tmp_path / f"v{older}-{round_}.sqlite3"
        async with aiosqlite.connect(path, isolation_level=None) as db:
            await db.execute("PRAGMA journal_mode = WAL")  # as every database counsel made
            await migrate(db, MIGRATIONS[:older])
        opened = await asyncio.gather(*(SqliteStore.open(path, sealer) for _ in range(3)),
                                      return_exceptions=True)
        for store in opened:
            if isinstance(store, SqliteStore):
                await store.close()
        assert all(isinstance(store, SqliteStore) for store in opened), (older, opened)
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


async def test_a_file_that_is_no_database_is_a_clear_error(
    tmp_path: Path, sealer: AeadSealer
) -> None:
    """A damaged file (or [store] pointing at another file) is the admin's to mend: our error
    with advice, which the command line shows as such, not sqlite3's own, which it reports
    as a bug of counsel."""
    path = tmp_path / "counsel.sqlite3"
    path.write_bytes(b"not a database, a text file written over it\n" * 200)
    with pytest.raises(StoreError, match="restore a backup"):
        await SqliteStore.open(path, sealer)


async def test_a_locked_database_is_a_clear_error(tmp_path: Path, sealer: AeadSealer) -> None:
    path = tmp_path / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer, busy_timeout_ms=50)
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreBusyError, match="another counsel process"):
            await store.mark_processed(EventID("$x"), at=T0)
        raw.execute("ROLLBACK")
        assert await store.mark_processed(EventID("$x"), at=T0)
    finally:
        raw.close()
        await store.close()


async def test_no_plaintext_reaches_the_files(tmp_path: Path, sealer: AeadSealer) -> None:
    canary = "CANARY-7f3a-kummer"
    path = tmp_path / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer)
    router = Router()
    router.handle(StaffAdded(T0, UserID("@anna:x"), Role.COUNSELLOR))
    cid = ConversationID("c1")
    router.handle(ConversationOpened(T0, cid))
    new = NewConversation(cid, RoomID("!r:x"), UserID(f"@{canary.lower()}:x"), f"{canary}-nick")
    intake = (IntakeMessage(cid, EventID("$m1"), f"{canary} message".encode()),)
    await store.commit_transition(
        Transition(T0, router.snapshot(), EventID("$m1"), (), (new,), intake)
    )
    await store.close()
    _assert_nowhere(tmp_path, canary)


def _assert_nowhere(directory: Path, canary: str) -> None:
    files = list(directory.iterdir())
    assert files
    for file in files:
        data = file.read_bytes()
        assert canary.encode() not in data, file.name
        assert canary.lower().encode() not in data, file.name


def test_sigkill_at_any_point_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """Kill the writer 20 times mid-stream; the end state equals an uninterrupted run."""
    import asyncio

    key = nacl.utils.random(32)
    # Long enough that 20 kills of at most 8 lines each cannot reach the end even when the
    # writer runs on for a few commits before each kill lands (a busy CI machine).
    count = 150
    path = tmp_path / "crash.sqlite3"
    rng = random.Random(4)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.store.crash_writer", str(path), key.hex(), str(count)]
    kills = 0
    while kills < 20:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT, env=env)
        assert proc.stdout is not None
        wanted = rng.randint(1, 8)
        seen = 0
        finished = False
        while seen < wanted:
            if not proc.stdout.readline():
                finished = True
                break
            seen += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if finished:
            break
        kills += 1
    subprocess.run(command, check=True, cwd=ROOT, env=env, capture_output=True)
    assert kills == 20, "the workload finished before enough kills"

    async def compare() -> None:
        reference_store = MemoryStore(KeySealer(key))
        reference = await run(reference_store, count, report=False)
        store = await SqliteStore.open(path, KeySealer(key))
        try:
            assert await store.load_router_snapshot() == reference.snapshot()
            pending = await store.pending_outbox()
            expected = await reference_store.pending_outbox()
            assert [e.key for e in pending] == [e.key for e in expected]
            invites = [action_of(e) for e in pending if e.key.startswith("assign:")]
            assert len(invites) == len({(a.conversation, a.assignment) for a in invites})  # type: ignore[union-attr]
            assert all(isinstance(a, Assign) for a in invites)
            planned = {eid for eid, _, _ in plan(count)}
            for event_id in planned:
                assert await store.is_processed(EventID(event_id))
        finally:
            await store.close()

    asyncio.run(compare())


async def test_after_a_restart_only_changed_rows_are_written(
    tmp_path: Path, sealer: AeadSealer
) -> None:
    path = tmp_path / "counsel.sqlite3"
    router = Router()
    anna = UserID("@anna:x")
    store = await SqliteStore.open(path, sealer)
    router.handle(StaffAdded(T0, anna, Role.COUNSELLOR))
    await store.commit_transition(Transition(T0, router.snapshot(), outbox=()))
    for n in range(3):
        cid = ConversationID(f"c{n}")
        router.handle(ConversationOpened(T0, cid))
        opened = NewConversation(cid, RoomID(f"!r{n}:x"), UserID(f"@y{n}:x"), None)
        await store.commit_transition(
            Transition(T0, router.snapshot(), new_conversations=(opened,)))
    await store.close()

    store = await SqliteStore.open(path, sealer)
    try:
        router = Router.from_snapshot(await store.load_router_snapshot())
        writes: list[str] = []
        await store._db.set_trace_callback(writes.append)
        router.handle(YouthEnded(T0, ConversationID("c1")))
        await store.commit_transition(Transition(T0, router.snapshot()))
        await store._db.set_trace_callback(None)
        updates = [w for w in writes if "UPDATE conversations" in w]
        # c2 moved up the queue and c1 closed; c0 did not change and is not rewritten.
        assert not any("id = 'c0'" in w for w in updates), updates
        assert any("id = 'c1'" in w for w in updates)
        states = {c: (await store.conversation(ConversationID(c))) for c in ("c0", "c1", "c2")}
        assert {c: r.state.value for c, r in states.items() if r} == {
            "c0": "waiting", "c1": "closed", "c2": "waiting"}
    finally:
        await store.close()


async def test_an_assignment_rewrites_only_the_assigned_counsellors_row(
    tmp_path: Path, sealer: AeadSealer
) -> None:
    # With 200 counsellors (20 offices) every first message rewrote all 200 rows.
    store = await SqliteStore.open(tmp_path / "counsel.sqlite3", sealer)
    try:
        router = Router()
        staff = [UserID(f"@c{n}:x") for n in range(5)]
        for user in staff:
            router.handle(StaffAdded(T0, user, Role.COUNSELLOR))
            router.handle(CounsellorOnDuty(T0, user))
        await store.commit_transition(Transition(T0, router.snapshot()))
        writes: list[str] = []
        await store._db.set_trace_callback(writes.append)
        actions = router.handle(ConversationOpened(T0, ConversationID("c0")))
        opened = NewConversation(ConversationID("c0"), RoomID("!r:x"), UserID("@y:x"), None)
        await store.commit_transition(
            Transition(T0, router.snapshot(), new_conversations=(opened,)))
        await store._db.set_trace_callback(None)
        assigned = next(a.counsellor for a in actions if isinstance(a, Assign))
        touched = [w for w in writes if "counsellors" in w and not w.startswith("SELECT")]
        assert not any(w.startswith("DELETE") for w in touched), touched
        assert len(touched) == 1, touched
        assert f"'{assigned}'" in touched[0]
        assert await store.load_router_snapshot() == router.snapshot()
        # Leaving the roster still removes the row.
        router = Router.from_snapshot(await store.load_router_snapshot())
        gone = next(u for u in staff if u != assigned)
        survivors = tuple(c for c in router.snapshot().counsellors if c.user != gone)
        await store.commit_transition(Transition(
            T0, replace(router.snapshot(), counsellors=survivors)))
        assert gone not in {c.user for c in (await store.load_router_snapshot()).counsellors}
    finally:
        await store.close()


async def test_a_transaction_cancelled_while_beginning_leaves_none_open(
    tmp_path: Path, sealer: AeadSealer
) -> None:
    # A graceful stop cancels the outbox worker mid-write; the next write must still work.
    store = await SqliteStore.open(tmp_path / "counsel.sqlite3", sealer)
    try:
        for n in range(20):
            task = asyncio.create_task(store.mark_processed(EventID(f"$cancelled{n}"), at=T0))
            await asyncio.sleep(0)  # it holds the lock and waits on BEGIN
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await store.mark_processed(EventID(f"$next{n}"), at=T0)
    finally:
        await store.close()


async def test_a_commit_that_fails_leaves_no_transaction_open(
    tmp_path: Path, sealer: AeadSealer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT can fail (a full disk, an I/O error): SQLite may then keep the transaction
    open. Before, nothing rolled it back, so reads saw rows never committed and the next
    write failed on a transaction already open (a suspicion of the runtime review)."""
    store = await SqliteStore.open(tmp_path / "counsel.sqlite3", sealer)
    try:
        db = store._db
        execute = db.execute
        failing = {"COMMIT": 1}

        def commit_fails_once(sql: str, *args: object) -> object:
            if sql == "COMMIT" and failing["COMMIT"]:
                failing["COMMIT"] -= 1

                async def disk_full() -> None:
                    raise sqlite3.OperationalError("database or disk is full")
                return disk_full()
            return execute(sql, *args)

        monkeypatch.setattr(db, "execute", commit_fails_once)
        with pytest.raises(StoreError):
            await store.mark_processed(EventID("$lost"), at=T0)
        assert not await store.is_processed(EventID("$lost")), "an uncommitted row is seen"
        assert await store.mark_processed(EventID("$next"), at=T0)
        assert await store.is_processed(EventID("$next"))
    finally:
        await store.close()
