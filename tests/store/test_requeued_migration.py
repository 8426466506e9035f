"""The migration that keeps when a youth went back to the queue: open conversations of an
older database upgrade in place, each waiting since it was queued, and take hand-backs
like new ones. SQLite and PostgreSQL: the pre-upgrade database is the store's own, with the
column dropped and the schema version set back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import (
    ConversationOpened,
    CounsellorOnDuty,
    Role,
    Router,
    StaffAdded,
    Transfer,
)
from counsel_bot.store import NewConversation, SqliteStore, Store, Transition
from counsel_bot.store import postgres_sql as pg
from counsel_bot.store.migrations import MIGRATIONS
from counsel_bot.store.postgres import PostgresStore
from tests.store.conftest import AeadSealer
from tests.support.postgres import PostgresServer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CID = ConversationID("C-0000BEEF")
ANNA = UserID("@anna:x")


def _before(migrations: tuple[object, ...]) -> int:
    return next(i for i, m in enumerate(migrations)
                if getattr(m, "__name__", "").endswith("_requeued_at"))


async def _one_assigned(store: Store) -> Router:
    router = Router()
    for event in (StaffAdded(T0, ANNA, Role.COUNSELLOR), CounsellorOnDuty(T0, ANNA),
                  ConversationOpened(T0, CID)):
        router.handle(event)
    await store.commit_transition(Transition(
        T0, router.snapshot(), EventID("$first"), (),
        (NewConversation(CID, RoomID("!room:x"), UserID("@youth:x"), "Kim"),)))
    return router


async def _upgraded_takes_a_hand_back(store: Store) -> None:
    snapshot = await store.load_router_snapshot()
    (conv,) = snapshot.conversations
    assert conv.waiting_since == conv.enqueued_at == T0
    router = Router.from_snapshot(snapshot)
    back = T0 + timedelta(minutes=30)
    router.handle(Transfer(back, ANNA, CID, None))
    await store.commit_transition(Transition(back, router.snapshot(), None, ()))
    assert (await store.load_router_snapshot()).conversations[0].waiting_since == back


async def test_a_sqlite_database_upgrades_in_place(tmp_path: Path, sealer: AeadSealer) -> None:
    path = tmp_path / "counsel.sqlite3"
    store = await SqliteStore.open(path, sealer)
    await _one_assigned(store)
    await store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("ALTER TABLE conversations DROP COLUMN requeued_at")
        raw.execute(f"PRAGMA user_version = {_before(MIGRATIONS)}")

    store = await SqliteStore.open(path, sealer)
    try:
        await _upgraded_takes_a_hand_back(store)
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


async def test_a_postgresql_database_upgrades_in_place(
    postgres: PostgresServer, sealer: AeadSealer
) -> None:
    url = postgres.new_database()
    store = await PostgresStore.open(url, sealer)
    await _one_assigned(store)
    await store.close()
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("ALTER TABLE conversations DROP COLUMN requeued_at")
        raw.execute("UPDATE counsel_schema SET version = %s", (_before(pg.MIGRATIONS),))

    store = await PostgresStore.open(url, sealer)
    try:
        await _upgraded_takes_a_hand_back(store)
    finally:
        await store.close()
    with psycopg.connect(url) as raw:
        assert raw.execute("SELECT version FROM counsel_schema").fetchone() == (
            len(pg.MIGRATIONS),)
