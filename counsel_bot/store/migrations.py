"""Numbered schema migrations: MIGRATIONS[n] upgrades schema n to n + 1, one transaction each.

The schema version lives in SQLite's `user_version`. Append new steps; never edit old ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosqlite

from counsel_bot.store.contract import SchemaBehindError, SchemaTooNewError

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


async def _script(db: aiosqlite.Connection, script: str) -> None:
    # Not executescript(): it commits first, which would break one-transaction-per-step.
    for statement in script.split(";"):
        if statement.strip():
            await db.execute(statement)


async def _v1_initial(db: aiosqlite.Connection) -> None:
    await _script(
        db,
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            room_id TEXT NOT NULL UNIQUE,
            youth_sealed BLOB NOT NULL,
            nickname_sealed BLOB,
            channel TEXT NOT NULL,
            state TEXT NOT NULL,
            priority TEXT NOT NULL,
            crisis TEXT NOT NULL,
            severity INTEGER NOT NULL,
            language TEXT NOT NULL,
            enqueued_at TEXT NOT NULL,
            seq INTEGER NOT NULL,
            assigned_to TEXT,
            assigned_at TEXT,
            assignments INTEGER NOT NULL,
            returned_by TEXT,
            notice_position INTEGER,
            notice_bucket INTEGER,
            notice_at TEXT,
            created_at TEXT NOT NULL,
            closed_at TEXT
        ) STRICT;
        CREATE INDEX conversations_open ON conversations (state) WHERE state != 'closed';
        CREATE INDEX conversations_closed_at ON conversations (closed_at);

        CREATE TABLE counsellors (
            user_id TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            on_duty INTEGER NOT NULL,
            capacity INTEGER NOT NULL,
            languages TEXT NOT NULL,
            topics TEXT NOT NULL,
            last_assigned_at TEXT
        ) STRICT;

        CREATE TABLE router_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL,
            next_seq INTEGER NOT NULL,
            handling_seconds TEXT NOT NULL
        ) STRICT;

        CREATE TABLE intake (
            conversation TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            sealed BLOB NOT NULL,
            PRIMARY KEY (conversation, ordinal)
        ) STRICT;

        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            sealed BLOB NOT NULL,
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL;

        CREATE TABLE processed_events (
            event_id TEXT PRIMARY KEY,
            processed_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX processed_events_at ON processed_events (processed_at);
        """,
    )


async def _v2_settings(db: aiosqlite.Connection) -> None:
    # Small adapter state: the sync token (saved after each handled batch), the staff room id.
    await _script(db, "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")


async def _v3_outbox_conversation(db: aiosqlite.Connection) -> None:
    # Which conversation an outbox entry names (its payload is sealed), so erasing the
    # conversation finds every entry; older rows are found by their key.
    await _script(db, """
        ALTER TABLE outbox ADD COLUMN conversation TEXT;
        CREATE INDEX outbox_conversation ON outbox (conversation) WHERE conversation IS NOT NULL;
        CREATE INDEX outbox_done ON outbox (done_at) WHERE done_at IS NOT NULL
        """)


async def _v4_sealed_settings(db: aiosqlite.Connection) -> None:
    # Settings that may hold content (case notes, text snippets, appointments), sealed by
    # the vault like intake, and re-encrypted on a data-key rotation.
    await _script(db, "CREATE TABLE sealed_settings (key TEXT PRIMARY KEY, sealed BLOB NOT NULL)"
                      " STRICT")


async def _v5_offices(db: aiosqlite.Connection) -> None:
    # Several offices (issue 16): every conversation belongs to one. Existing ones get ""
    # = the default office (the only one, or the fallback office once offices are set up).
    await _script(db, "ALTER TABLE conversations ADD COLUMN office TEXT NOT NULL DEFAULT ''")


async def _v6_requeued_at(db: aiosqlite.Connection) -> None:
    # When a conversation was last handed back to the queue: the wait a lead reads counts
    # from there (its place in the queue still from enqueued_at). NULL: never handed back.
    await _script(db, "ALTER TABLE conversations ADD COLUMN requeued_at TEXT")


MIGRATIONS: tuple[Migration, ...] = (_v1_initial, _v2_settings, _v3_outbox_conversation,
                                   _v4_sealed_settings, _v5_offices, _v6_requeued_at)
SCHEMA_VERSION = len(MIGRATIONS)


async def schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring the schema up to date; refuse a schema newer than this code knows."""
    current = _known(await schema_version(db), migrations)
    while current < len(migrations):
        await db.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process starting at the same moment
            # (the bot and a command beside it) may have taken this step meanwhile.
            current = _known(await schema_version(db), migrations)
            if current < len(migrations):
                await migrations[current](db)
                current += 1
                await db.execute(f"PRAGMA user_version = {current}")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
    return len(migrations)


async def refuse_other(db: aiosqlite.Connection,
                       migrations: tuple[Migration, ...] = MIGRATIONS) -> None:
    """Change nothing, and refuse a schema other than this code's: beside a running bot,
    which upgrades the schema when it starts (a newer command must not change the tables
    an older bot writes by its own)."""
    current = _known(await schema_version(db), migrations)
    if current < len(migrations):
        raise SchemaBehindError(
            f"the database has schema version {current}, but this counsel needs "
            f"{len(migrations)}; the running bot is an older counsel: restart the bot with "
            "this version first (it upgrades the schema), then run this again")


def _known(version: int, migrations: tuple[Migration, ...]) -> int:
    if version > len(migrations):
        raise SchemaTooNewError(
            f"the database has schema version {version}, but this counsel knows only up to "
            f"{len(migrations)}; run the newer counsel version or restore a backup"
        )
    return version
