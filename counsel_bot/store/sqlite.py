"""The durable store: aiosqlite, WAL, synchronous=FULL, secure_delete, file mode 0600.

Every write is one explicit transaction; a commit returns only once SQLite has synced it,
so the bot may act on a transition as soon as `commit_transition` returns.

Erased means erased on disk too: `secure_delete` overwrites deleted rows (in table and index
pages alike) with zeros, and after an erasure or a prune (and at opening, for a process
killed in between) the write-ahead log, which still holds the pages as they were, is
checkpointed and truncated to nothing.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    CounsellorSnapshot,
    RouterSnapshot,
)
from counsel_bot.store import sqlite_sql as sql
from counsel_bot.store.contract import (
    DONE_PAYLOAD,
    FAILED_EFFECT_PREFIX,
    FAILED_EVENT_PREFIX,
    ConversationRecord,
    IntakeItem,
    IntakeMessage,
    OutboxEntry,
    Resealer,
    Sealer,
    StoreBusyError,
    StoreConsistencyError,
    StoreError,
    StoreFullError,
    Transition,
)
from counsel_bot.store.migrations import migrate, refuse_other
from counsel_bot.store.rows import (
    SELECT_COUNSELLORS,
    SELECT_LIVE,
    SELECT_META,
    SELECT_RECORD,
    open_intake,
    open_outbox,
    open_record,
    open_setting,
    resealed_conversation,
    resealed_intake,
    resealed_outbox,
    resealed_setting,
    router_snapshot,
    seal_intake,
    seal_setting,
    seal_transition,
)

_BUSY_TIMEOUT_MS = 5000
_UPSERT_SEALED_SETTING = (
    "INSERT INTO sealed_settings (key, sealed) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET sealed = excluded.sealed"
)
_UPSERT_SETTING = (
    "INSERT INTO settings (key, value) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)

class SqliteStore:
    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        # One connection, many coroutines: transactions must not interleave.
        self._lock = asyncio.Lock()
        self._written: (
            tuple[dict[ConversationID, ConversationSnapshot], tuple[CounsellorSnapshot, ...]] | None
        ) = None

    @classmethod
    async def open(
        cls, path: Path | str, sealer: Sealer, *, busy_timeout_ms: int = _BUSY_TIMEOUT_MS,
        upgrade: bool = True,
    ) -> SqliteStore:
        """With ``upgrade`` False (beside a running bot) the schema is left as it is, and
        one other than this code's refused."""
        path = Path(path)
        _create_private(path)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database at {path}: {exc}") from exc
        try:
            # A damaged file, or one locked or full at start: our error with advice too.
            async with _translated():
                await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                async with db.execute("PRAGMA journal_mode = WAL") as cursor:
                    row = await cursor.fetchone()
                if row is None or str(row[0]).lower() != "wal":
                    raise StoreError(
                        f"the database at {path} cannot use WAL mode; use a local disk")
                await db.execute("PRAGMA synchronous = FULL")
                await db.execute("PRAGMA foreign_keys = ON")
                await db.execute("PRAGMA secure_delete = ON")
                await (migrate(db) if upgrade else refuse_other(db))
                # A process killed between an erasure's commit and `_forget_old_pages` left
                # the rows as they were in the file and the log: emptied now, not at the
                # next erasure or prune.
                await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException:
            await db.close()
            raise
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.chmod(companion, 0o600)
        return cls(db, sealer)

    async def close(self) -> None:
        await self._db.close()

    async def still_active(self) -> None:
        return None  # one bot at a time, by its data directory's lock

    async def reseal_all(self, reseal: Resealer) -> int:
        count = 0
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT id, youth_sealed, nickname_sealed FROM conversations")
            for cid, youth, nickname in rows:
                await db.execute(
                    "UPDATE conversations SET youth_sealed = ?, nickname_sealed = ? WHERE id = ?",
                    (*resealed_conversation(reseal, cid, youth, nickname), cid))
                count += 1 if nickname is None else 2
            for cid, event_id, sealed in await db.execute_fetchall(
                    "SELECT conversation, event_id, sealed FROM intake"):
                await db.execute("UPDATE intake SET sealed = ? WHERE event_id = ?",
                                 (resealed_intake(reseal, cid, event_id, sealed), event_id))
                count += 1
            for key, sealed in await db.execute_fetchall(
                    "SELECT key, sealed FROM outbox WHERE length(sealed) > 0"):
                await db.execute("UPDATE outbox SET sealed = ? WHERE key = ?",
                                 (resealed_outbox(reseal, key, sealed), key))
                count += 1
            for key, sealed in await db.execute_fetchall(
                    "SELECT key, sealed FROM sealed_settings"):
                await db.execute("UPDATE sealed_settings SET sealed = ? WHERE key = ?",
                                 (resealed_setting(reseal, key, sealed), key))
                count += 1
        return count

    async def get_setting(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM settings WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def set_setting(self, key: str, value: str) -> None:
        async with self._transaction() as db:
            await db.execute(_UPSERT_SETTING, (key, value))

    async def settings(self, prefix: str) -> list[tuple[str, str]]:
        rows = await self._rows(
            "SELECT key, value FROM settings WHERE substr(key, 1, length(?)) = ? ORDER BY key",
            (prefix, prefix))
        return [(str(k), str(v)) for k, v in rows]

    async def move_to_sealed(self, key: str, value: bytes | None) -> bool:
        sealed = seal_setting(self._sealer, key, value)
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM settings WHERE key = ?", (key,))
            if cursor.rowcount == 0:
                return False
            if sealed is not None:
                await db.execute("INSERT INTO sealed_settings (key, sealed) VALUES (?, ?) "
                                 "ON CONFLICT(key) DO NOTHING", (key, sealed))
        return True

    async def get_sealed_setting(self, key: str) -> bytes | None:
        rows = await self._rows("SELECT sealed FROM sealed_settings WHERE key = ?", (key,))
        return open_setting(self._sealer, key, rows[0][0]) if rows else None

    async def set_sealed_setting(self, key: str, value: bytes | None) -> None:
        sealed = seal_setting(self._sealer, key, value)
        async with self._transaction() as db:
            if sealed is None:
                await db.execute("DELETE FROM sealed_settings WHERE key = ?", (key,))
            else:
                await db.execute(_UPSERT_SEALED_SETTING, (key, sealed))

    async def sealed_settings(self, prefix: str) -> list[tuple[str, bytes]]:
        rows = await self._rows(
            "SELECT key, sealed FROM sealed_settings WHERE substr(key, 1, length(?)) = ? "
            "ORDER BY key", (prefix, prefix))
        return [(str(k), open_setting(self._sealer, k, v)) for k, v in rows]

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock, _translated():
            try:
                # BEGIN sits inside the try: a task cancelled while awaiting it has still
                # queued it on the connection's thread, and without the ROLLBACK below the
                # next holder of the lock would find a transaction already open.
                await self._db.execute("BEGIN IMMEDIATE")
                yield self._db
            except BaseException:
                await self._roll_back()
                raise
            try:
                await self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk, an I/O error) may leave the transaction
                # open: its rows would be read as if written, and the next BEGIN refused.
                await self._roll_back()
                raise

    async def _roll_back(self) -> None:
        # Queued behind anything the cancelled or failed task left on the connection's thread,
        # so it runs after that work; when BEGIN itself failed there is nothing to undo.
        with suppress(sqlite3.OperationalError):
            await self._db.execute("ROLLBACK")

    async def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock, _translated(), self._db.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    # --- the transition ----------------------------------------------------------------------

    async def commit_transition(self, transition: Transition) -> bool:
        sealed = seal_transition(self._sealer, transition)
        live = {c.conversation: c for c in transition.snapshot.conversations}
        at = sql.ts(transition.at)
        async with self._transaction() as db:
            if transition.event_id is not None and not await sql.claim(db, transition.event_id, at):
                return False  # nothing written yet; the empty transaction commits
            for new, youth, nickname in sealed.conversations:
                if new.conversation not in live:
                    raise StoreConsistencyError(
                        f"conversation {new.conversation} is new but not in the router snapshot"
                    )
                await sql.insert_conversation(
                    db, new.conversation, new.room_id, youth, nickname, at
                )
            written = self._written
            # Only rows that differ from the last committed snapshot are rewritten.
            for conv in live.values():
                if written is None or written[0].get(conv.conversation) != conv:
                    await sql.update_routing(db, conv)
            if written is None:
                await sql.close_missing(db, live.keys(), at)
            else:
                # What the last snapshot held and this one does not: no scan of open rows.
                await sql.close(db, written[0].keys() - live.keys(), at)
            counsellors = transition.snapshot.counsellors
            if written is None:
                await sql.write_counsellors(db, counsellors)
            elif written[1] != counsellors:
                await sql.update_counsellors(db, written[1], counsellors)
            await sql.write_meta(db, transition.snapshot)
            for message, blob in zip(transition.intake, sealed.intake, strict=True):
                await sql.insert_intake(db, message, blob)
            await db.executemany(
                "INSERT INTO outbox (key, sealed, created_at, conversation) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                [(e.key, blob, sql.ts(e.created_at), e.conversation)
                 for e, blob in sealed.outbox],
            )
            await db.executemany(_UPSERT_SETTING, transition.settings)
            for key, setting in sealed.settings:
                if setting is None:
                    await db.execute("DELETE FROM sealed_settings WHERE key = ?", (key,))
                else:
                    await db.execute(_UPSERT_SEALED_SETTING, (key, setting))
            # Forgotten first: if the COMMIT fails, the next transition rewrites everything.
            self._written = None
        self._written = (live, counsellors)
        return True

    async def load_router_snapshot(self) -> RouterSnapshot:
        # One read under the lock: what is returned is exactly what the database holds, so
        # the next transition need not rewrite every row (a restart with 2,000 open
        # conversations would otherwise spend its first message rewriting all of them).
        async with self._lock, _translated():
            snapshot = router_snapshot(
                await self._db.execute_fetchall(SELECT_LIVE),
                await self._db.execute_fetchall(SELECT_COUNSELLORS),
                list(await self._db.execute_fetchall(SELECT_META)))
            self._written = ({c.conversation: c for c in snapshot.conversations},
                             snapshot.counsellors)
        return snapshot

    # --- processed events --------------------------------------------------------------------

    async def is_processed(self, event_id: EventID) -> bool:
        rows = await self._rows("SELECT 1 FROM processed_events WHERE event_id = ?", (event_id,))
        return bool(rows)

    async def mark_processed(self, event_id: EventID, *, at: datetime) -> bool:
        async with self._transaction() as db:
            return await sql.claim(db, event_id, sql.ts(at))

    async def prune_processed(self, before: datetime) -> int:
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM settings WHERE key IN (SELECT ? || event_id FROM processed_events "
                "WHERE processed_at < ?)", (FAILED_EVENT_PREFIX, sql.ts(before)))
            cursor = await db.execute(
                "DELETE FROM processed_events WHERE processed_at < ?", (sql.ts(before),)
            )
            count = cursor.rowcount
        await self._forget_old_pages()
        return count

    # --- intake ------------------------------------------------------------------------------

    async def append_intake(self, message: IntakeMessage, *, at: datetime) -> bool:
        sealed = seal_intake(self._sealer, message)
        async with self._transaction() as db:
            if not await sql.claim(db, message.event_id, sql.ts(at)):
                return False
            await sql.insert_intake(db, message, sealed)
        return True

    async def read_intake(self, conversation: ConversationID) -> list[IntakeItem]:
        return open_intake(self._sealer, conversation, await self._rows(
            "SELECT ordinal, event_id, sealed FROM intake WHERE conversation = ? ORDER BY ordinal",
            (conversation,)))

    async def delete_intake(self, conversation: ConversationID) -> int:
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM intake WHERE conversation = ?", (conversation,))
            return cursor.rowcount

    async def delete_intake_message(self, conversation: ConversationID,
                                    event_id: EventID) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "DELETE FROM intake WHERE conversation = ? AND event_id = ?",
                (conversation, event_id))
            return cursor.rowcount > 0

    # --- outbox ------------------------------------------------------------------------------

    async def pending_outbox(self) -> list[OutboxEntry]:
        return open_outbox(self._sealer, await self._rows(
            "SELECT key, sealed, created_at, conversation FROM outbox WHERE done_at IS NULL "
            "ORDER BY seq"))

    async def mark_outbox_done(self, keys: Sequence[str], *, at: datetime) -> None:
        # One transaction (one fsync) for a whole lane of effects.
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE outbox SET done_at = ?, sealed = ? WHERE key = ? AND done_at IS NULL",
                [(sql.ts(at), DONE_PAYLOAD, key) for key in keys],
            )

    async def prune_outbox(self, before: datetime) -> int:
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM settings WHERE key IN (SELECT ? || key FROM outbox "
                "WHERE done_at IS NOT NULL AND done_at < ?)",
                (FAILED_EFFECT_PREFIX, sql.ts(before)))
            cursor = await db.execute(
                "DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?", (sql.ts(before),)
            )
            count = cursor.rowcount
        await self._forget_old_pages()
        return count

    # --- conversation records ----------------------------------------------------------------

    async def conversation(self, conversation: ConversationID) -> ConversationRecord | None:
        rows = await self._rows(SELECT_RECORD + "WHERE id = ?", (conversation,))
        return open_record(self._sealer, rows[0]) if rows else None

    async def room_of(self, conversation: ConversationID) -> RoomID | None:
        rows = await self._rows("SELECT room_id FROM conversations WHERE id = ?", (conversation,))
        return RoomID(rows[0][0]) if rows else None

    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None:
        rows = await self._rows(SELECT_RECORD + "WHERE room_id = ?", (room_id,))
        return open_record(self._sealer, rows[0]) if rows else None

    async def closed_before(self, cutoff: datetime) -> list[ConversationID]:
        rows = await self._rows(
            "SELECT id FROM conversations "
            "WHERE closed_at IS NOT NULL AND closed_at < ? ORDER BY id",
            (sql.ts(cutoff),),
        )
        return [ConversationID(r[0]) for r in rows]

    async def unreviewed_closed_since(self, cutoff: datetime) -> list[ConversationID]:
        rows = await self._rows(
            "SELECT id FROM conversations WHERE closed_at >= ? AND crisis = 'raised' "
            "AND assigned_to IS NULL ORDER BY id", (sql.ts(cutoff),))
        return [ConversationID(r[0]) for r in rows]

    async def erase_conversation(self, conversation: ConversationID) -> None:
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT room_id FROM conversations WHERE id = ?", (conversation,))
            room = next((str(r[0]) for r in rows), None)
            await db.execute("DELETE FROM intake WHERE conversation = ?", (conversation,))
            await db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))
            await sql.delete_settings_of(db, conversation, room)
            await sql.delete_outbox_of(db, conversation)
            await db.execute(
                "DELETE FROM sealed_settings WHERE substr(key, -length(:c) - 1) = ':' || :c",
                {"c": conversation})
        await self._forget_old_pages()

    async def _forget_old_pages(self) -> None:
        """The log still holds deleted rows as they were: copy the zeroed pages into the
        database and empty it. Left for later (the log is then emptied by the next run)
        only if another process reads the file at this moment."""
        async with self._lock, _translated():
            await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _create_private(path: Path) -> None:
    """Create the database file readable by this user only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """SQLite's errors as ours, with advice; never with row data in the message."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise StoreBusyError(
                "the database stayed locked; is another counsel process using the same "
                "file? Stop it and retry"
            ) from exc
        if "full" in text:
            raise StoreFullError(
                "the disk holding the database is full; free space, then restart counsel "
                "(nothing was written)"
            ) from exc
        raise StoreError(f"database error ({exc}); nothing was written") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database error ({exc}); check the file or restore a backup") from exc
