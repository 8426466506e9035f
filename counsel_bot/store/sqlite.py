"""The durable store: aiosqlite, WAL, synchronous=FULL, secure_delete, file mode 0600.

Every write is one explicit transaction; a commit returns only once SQLite has synced it,
so the bot may act on a transition as soon as `commit_transition` returns.

Erased means erased on disk too: `secure_delete` overwrites deleted rows (in table and index
pages alike) with zeros, and after an erasure, a prune or a message the youth deleted (and
at opening, for a process killed in between) the write-ahead log, which still holds the
pages as they were, is checkpointed and truncated to nothing; so it is after a transition
marked ``forget_on_disk`` (a forum post the youth withdrew or the moderator rejected).
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

from counsel_bot.store.contract import Sealer, StoreBusyError, StoreError, StoreFullError
from counsel_bot.store.migrations import migrate, refuse_other
from counsel_bot.store.rows import SELECT_COUNSELLORS, SELECT_LIVE, SELECT_META, Row
from counsel_bot.store.sql_store import Params, SqlStore
from counsel_bot.store.sqlite_sql import STATEMENTS, ts

_BUSY_TIMEOUT_MS = 5000


class _Tx:
    """The connection inside one of the store's transactions."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, query: str, params: Params = ()) -> int:
        cursor = await self._db.execute(query, params)
        return cursor.rowcount

    async def fetchall(self, query: str, params: Params = ()) -> list[Row]:
        return list(await self._db.execute_fetchall(query, params))

    async def executemany(self, query: str, rows: Iterable[Params]) -> None:
        await self._db.executemany(query, rows)

    async def insert_new(self, query: str, params: Params) -> bool:
        try:
            await self._db.execute(query, params)
        except sqlite3.IntegrityError:
            return False  # the statement alone failed; the transaction goes on
        return True


class SqliteStore(SqlStore):
    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        super().__init__(sealer, STATEMENTS)
        self._db = db
        # One connection, many coroutines: transactions must not interleave.
        self._lock = asyncio.Lock()

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

    def _at(self, at: datetime) -> str:
        return ts(at)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        async with self._lock, _translated():
            try:
                # BEGIN sits inside the try: a task cancelled while awaiting it has still
                # queued it on the connection's thread, and without the ROLLBACK below the
                # next holder of the lock would find a transaction already open.
                await self._db.execute("BEGIN IMMEDIATE")
                yield _Tx(self._db)
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

    async def _rows(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock, _translated(), self._db.execute(query, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def _snapshot_rows(self) -> tuple[list[Row], list[Row], list[Row]]:
        # Under the lock: no transaction of ours lands between the three reads.
        async with self._lock, _translated():
            return (list(await self._db.execute_fetchall(SELECT_LIVE)),
                    list(await self._db.execute_fetchall(SELECT_COUNSELLORS)),
                    list(await self._db.execute_fetchall(SELECT_META)))

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
