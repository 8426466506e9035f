"""The offices migration: an existing single-office database upgrades in place, nothing lost.

The pre-upgrade database is made in the test: the store writes a real conversation (sealed
youth id, intake, outbox, settings), then the office column is dropped and the schema
version set back to the one before, and its tables are checked to be exactly what the
migrations before it make.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, OfficeChosen, Router
from counsel_bot.store import (
    SCHEMA_VERSION,
    IntakeMessage,
    NewConversation,
    SqliteStore,
    Transition,
    migrate,
)
from counsel_bot.store.migrations import MIGRATIONS
from tests.store.conftest import AeadSealer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CID = ConversationID("C-0000BEEF")
# How many migrations come before the one that adds offices.
BEFORE = next(i for i, m in enumerate(MIGRATIONS) if m.__name__.endswith("_offices"))


def _columns(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as raw:
        tables = [r[0] for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {t: raw.execute(f"PRAGMA table_info({t})").fetchall() for t in tables}


async def _pre_upgrade_database(path: Path, sealer: AeadSealer) -> None:
    store = await SqliteStore.open(path, sealer)
    router = Router()
    router.handle(ConversationOpened(T0, CID))
    await store.commit_transition(Transition(
        T0, router.snapshot(), EventID("$first"), (),
        (NewConversation(CID, RoomID("!room:x"), UserID("@youth:x"), "Kim"),),
        (IntakeMessage(CID, EventID("$first"), b"Stress mit meinen Eltern, 89073"),),
        (("sync_token", "s1"),),
    ))
    await store.close()
    with sqlite3.connect(path) as raw:
        # The columns of this migration and every later one (v6's requeued_at).
        for column in ("requeued_at", "office"):
            raw.execute(f"ALTER TABLE conversations DROP COLUMN {column}")
        raw.execute(f"PRAGMA user_version = {BEFORE}")
    reference = path.with_name(f"v{BEFORE}.sqlite3")
    async with aiosqlite.connect(reference, isolation_level=None) as db:
        await migrate(db, MIGRATIONS[:BEFORE])
    assert _columns(path) == _columns(reference)


async def test_a_single_office_database_upgrades_in_place(
    tmp_path: Path, sealer: AeadSealer
) -> None:
    original = tmp_path / "before.sqlite3"
    await _pre_upgrade_database(original, sealer)
    copy = tmp_path / "counsel.sqlite3"
    shutil.copyfile(original, copy)

    store = await SqliteStore.open(copy, sealer)
    try:
        snapshot = await store.load_router_snapshot()
        assert [(c.conversation, c.office) for c in snapshot.conversations] == [(CID, "")]
        record = await store.conversation(CID)
        assert record is not None
        assert record.youth_user_id == "@youth:x"
        assert record.nickname == "Kim"
        assert record.office == ""
        intake = await store.read_intake(CID)
        assert [m.body for m in intake] == [b"Stress mit meinen Eltern, 89073"]
        assert await store.get_setting("sync_token") == "s1"
        assert await store.is_processed(EventID("$first"))
        # The upgraded database takes an office like a new one.
        router = Router.from_snapshot(snapshot)
        router.handle(OfficeChosen(T0, CID, "family"))
        assert await store.commit_transition(Transition(T0, router.snapshot(), None, (), (), (),
                                                        ()))
        assert (await store.load_router_snapshot()).conversations[0].office == "family"
    finally:
        await store.close()
    with sqlite3.connect(copy) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        # The postcode the youth wrote is in the sealed intake only, never in the clear.
        dump = "\n".join(raw.iterdump())
    assert "89073" not in dump
    with sqlite3.connect(original) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (BEFORE,)
