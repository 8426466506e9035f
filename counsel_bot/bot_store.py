"""The bot's durable intake records (aiosqlite, WAL): conversations, sealed intake, event claims.

The store never sees message text: intake arrives sealed by the vault. Every method commits
before it returns, so what the bot does next rests on durable state.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import aiosqlite

from counsel_bot.bot import ConversationRecord
from counsel_bot.errors import StorageError
from counsel_bot.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.messages import Language

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


async def _v1(db: aiosqlite.Connection) -> None:
    # One statement at a time: executescript() would commit and break the migration's
    # transaction.
    for statement in (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE claimed_events (event_id TEXT PRIMARY KEY)",
        """CREATE TABLE conversations (
            conversation_id TEXT PRIMARY KEY,
            room_id TEXT NOT NULL UNIQUE,
            youth TEXT NOT NULL,
            language TEXT NOT NULL,
            greeted INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE intake (
            conversation_id TEXT NOT NULL REFERENCES conversations(conversation_id),
            seq INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            sealed BLOB NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        )""",
    ):
        await db.execute(statement)


# Numbered upgrades; each runs in its own transaction. Never edit one that has shipped.
MIGRATIONS: Sequence[Migration] = (_v1,)


def new_conversation_id() -> ConversationID:
    """Short, unguessable, and safe to show staff (it reveals nothing about the youth)."""
    return ConversationID("C-" + secrets.token_hex(4).upper())


class SqliteBotStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> SqliteBotStore:
        # Created owner-only before SQLite opens it; its WAL files follow the umask (077).
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        await _upgrade(db)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        try:
            cursor = await self._db.execute(sql, params)
        except aiosqlite.OperationalError as exc:
            raise StorageError(
                f"the bot's database refused a write ({exc}); free disk space or stop the "
                "other process using it, then restart the bot - nothing was acted on"
            ) from None
        return cursor.rowcount

    async def get_meta(self, key: str) -> str | None:
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def claim_event(self, event_id: EventID) -> bool:
        inserted = await self._write(
            "INSERT OR IGNORE INTO claimed_events (event_id) VALUES (?)", (event_id,)
        )
        return inserted == 1

    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None:
        async with self._db.execute(
            "SELECT conversation_id, room_id, youth, language, greeted FROM conversations "
            "WHERE room_id = ?",
            (room_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return ConversationRecord(
            ConversationID(row[0]), RoomID(row[1]), UserID(row[2]), row[3], bool(row[4])
        )

    async def open_conversation(
        self, room_id: RoomID, youth: UserID, language: Language
    ) -> ConversationRecord:
        await self._write(
            "INSERT OR IGNORE INTO conversations (conversation_id, room_id, youth, language) "
            "VALUES (?, ?, ?, ?)",
            (new_conversation_id(), room_id, youth, language),
        )
        record = await self.conversation_by_room(room_id)
        assert record is not None
        return record

    async def mark_greeted(self, conversation_id: ConversationID) -> None:
        await self._write(
            "UPDATE conversations SET greeted = 1 WHERE conversation_id = ?", (conversation_id,)
        )

    async def set_language(self, conversation_id: ConversationID, language: Language) -> None:
        await self._write(
            "UPDATE conversations SET language = ? WHERE conversation_id = ?",
            (language, conversation_id),
        )

    async def add_intake(
        self, conversation_id: ConversationID, event_id: EventID, sealed: bytes
    ) -> None:
        await self._write(
            "INSERT OR IGNORE INTO intake (conversation_id, seq, event_id, sealed) "
            "SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM intake WHERE conversation_id = ?",
            (conversation_id, event_id, sealed, conversation_id),
        )

    async def intake(self, conversation_id: ConversationID) -> list[bytes]:
        async with self._db.execute(
            "SELECT sealed FROM intake WHERE conversation_id = ? ORDER BY seq",
            (conversation_id,),
        ) as cursor:
            return [bytes(row[0]) async for row in cursor]


async def _upgrade(db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > len(MIGRATIONS):
        raise StorageError(
            f"the bot's database has schema version {current}, newer than this counsel "
            f"({len(MIGRATIONS)}); run the newer counsel or restore a backup"
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            await MIGRATIONS[version - 1](db)
            await db.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
