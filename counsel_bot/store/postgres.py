"""The durable store on PostgreSQL (psycopg 3, async): the SQLite store's contract and tables.

One connection, one transaction at a time (an asyncio lock), each write one transaction that
returns only once PostgreSQL has committed it. Sealed values are sealed by the same vault as
in SQLite. With active/standby (`runtime/standby.py`) every write first checks the fencing
epoch: a process that is no longer the active one can write nothing.

Erasure deletes every row that names the conversation, outbox included. Unlike the SQLite
store (secure_delete, the log truncated), PostgreSQL keeps deleted row versions until VACUUM
reclaims them and keeps its write-ahead log segments until they are recycled; everything
in them that names a youth is sealed, but the conversation id and key names are not.
Operators run autovacuum (the default) and keep WAL archives under the same retention.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from counsel_bot.core.ids import ConversationID
from counsel_bot.store import postgres_sql as pg
from counsel_bot.store.contract import (
    DONE_PAYLOAD,
    Sealer,
    StoreBusyError,
    StoreError,
    StoreFencedError,
    StoreFullError,
    StoreRefusedError,
)
from counsel_bot.store.rows import SELECT_LIVE, SELECT_META, Row
from counsel_bot.store.sql_store import Params, SqlStore, Tx

# Seconds a statement may wait for a row lock (the epoch row while a takeover commits).
_LOCK_TIMEOUT = "5s"


async def connect(url: str, *, password: str | None = None,
                  application_name: str = "counsel") -> pg.Connection:
    """A connection in autocommit mode (transactions are explicit), UTC, with TCP keepalives
    so a cut network is noticed within seconds, not hours. To a server that takes writes:
    of several hosts in the url (PostgreSQL's failover as libpq offers it), the primary,
    not a read-only standby that answers first, where no bot could ever become active."""
    try:
        writable: dict[str, Any] = {} if "target_session_attrs" in conninfo_to_dict(url) \
            else {"target_session_attrs": "read-write"}
        db = await psycopg.AsyncConnection.connect(
            url, autocommit=True, password=password, application_name=application_name,
            options="-c TimeZone=UTC", keepalives=1, keepalives_idle=2,
            keepalives_interval=1, keepalives_count=3, connect_timeout=10, **writable,
        )
    except psycopg.Error as exc:
        reason = _connect_reason(exc)
        if _REFUSED_FOR_GOOD.search(reason):
            raise StoreRefusedError(
                f"PostgreSQL refused the connection ({reason}); fix [store] url (and "
                "password_file) in counsel.toml, or create that database and role"
            ) from None
        raise StoreError(
            f"cannot connect to PostgreSQL ({reason}); check [store] url and that the "
            "server is running"
        ) from None
    try:
        check_server_version(db.info.server_version)
    except StoreRefusedError:
        await db.close()
        raise
    return db


# `idle_session_timeout` (the leadership lease's guard against a hung holder) came with 14.
OLDEST_SERVER = 140000


def check_server_version(version: int) -> None:
    """Refuse a server too old for the leadership lease, before anything is migrated: on
    13 the lease's first statement would fail with an unknown-setting error at every try."""
    if version < OLDEST_SERVER:
        raise StoreRefusedError(
            f"PostgreSQL {version // 10000} is too old for counsel's store: version 14 or newer is "
            "needed; upgrade the server or point [store] url at a newer one")


class _Tx:
    """The connection inside one of the store's transactions."""

    def __init__(self, db: pg.Connection) -> None:
        self._db = db

    async def execute(self, query: str, params: Params = ()) -> int:
        cursor = await self._db.execute(query.encode(), params)
        return cursor.rowcount

    async def fetchall(self, query: str, params: Params = ()) -> list[Row]:
        cursor = await self._db.execute(query.encode(), params)
        return list(await cursor.fetchall())

    async def executemany(self, query: str, rows: Iterable[Params]) -> None:
        async with self._db.cursor() as cursor:
            await cursor.executemany(query.encode(), rows)

    async def insert_new(self, query: str, params: Params) -> bool:
        try:
            # A savepoint: the unique violation must not abort the caller's transaction
            # before it turns into our error (the caller rolls back anyway, but cleanly).
            async with self._db.transaction():
                await self._db.execute(query.encode(), params)
        except psycopg.errors.UniqueViolation:
            return False
        return True


class PostgresStore(SqlStore):
    def __init__(self, db: pg.Connection, sealer: Sealer) -> None:
        super().__init__(sealer, pg.STATEMENTS)
        self._db = db
        self._lock = asyncio.Lock()
        self._epoch: int | None = None

    @classmethod
    async def open(cls, url: str, sealer: Sealer, *, password: str | None = None) -> PostgresStore:
        db = await connect(url, password=password)
        try:
            async with _translated():
                await db.execute(f"SET lock_timeout = '{_LOCK_TIMEOUT}'")
                # A hung process must not keep the epoch row locked: a takeover waits for it.
                await db.execute(
                    f"SET idle_in_transaction_session_timeout = '{_LOCK_TIMEOUT}'")
                # Not under an active bot of an older counsel: the winner upgrades.
                await pg.migrate_unless_active(db)
        except BaseException:
            await db.close()
            raise
        return cls(db, sealer)

    def fence(self, epoch: int) -> None:
        """From now on write only while `epoch` is the current leader epoch."""
        self._epoch = epoch

    async def close(self) -> None:
        await self._db.close()

    async def still_active(self) -> None:
        async with self._transaction():
            pass  # it checks the epoch

    def _at(self, at: datetime) -> datetime:
        return pg.utc(at)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Tx]:
        async with self._lock, _translated(), self._db.transaction():
            if self._epoch is not None:
                # FOR SHARE: a takeover's epoch update waits for this transaction to end, and
                # any later transaction of ours sees the new epoch and writes nothing.
                cursor = await self._db.execute(
                    "SELECT epoch FROM leader WHERE id = 1 FOR SHARE")
                row = await cursor.fetchone()
                if row is None or row[0] != self._epoch:
                    raise StoreFencedError(
                        "another counsel process has become the active one; this one stops "
                        "(it is a standby now; restart it to wait for its turn)"
                    )
            yield _Tx(self._db)

    async def _rows(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock, _translated():
            cursor = await self._db.execute(query.encode(), params)
            return list(await cursor.fetchall())

    async def _snapshot_rows(self) -> tuple[list[Row], list[Row], list[Row]]:
        # One transaction, one consistent view.
        async with self._lock, _translated(), self._db.transaction():
            await self._db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return (list(await (await self._db.execute(SELECT_LIVE)).fetchall()),
                    list(await (await self._db.execute(pg.SELECT_COUNSELLORS)).fetchall()),
                    list(await (await self._db.execute(SELECT_META)).fetchall()))

    # A list is one array parameter: one statement, not one per row.

    async def _close_missing(self, tx: Tx, live: Collection[ConversationID], at: Any) -> None:
        await tx.execute(pg.CLOSE_MISSING, (at, list(live)))

    async def _close(self, tx: Tx, conversations: Collection[ConversationID], at: Any) -> None:
        await tx.execute(pg.CLOSE_ALL, (at, list(conversations)))

    async def _mark_done(self, tx: Tx, keys: Sequence[str], at: Any) -> None:
        await tx.execute(pg.MARK_ALL_DONE, (at, DONE_PAYLOAD, list(keys)))


# What the server answers to a login no wait mends, unlike "the database system is starting
# up" or "too many clients" (libpq gives no SQLSTATE for a failed connection, only its text).
_REFUSED_FOR_GOOD = re.compile(
    r"does not exist|authentication failed|no pg_hba\.conf entry|no password supplied")


def _connect_reason(exc: psycopg.Error) -> str:
    """libpq's reason a connection failed ('FATAL: database "x" does not exist', 'Connection
    refused'): its text names the server and the login, never a password or row data."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = " ".join(first.rpartition("failed: ")[2].split())
    return reason or type(exc).__name__


def _reason(exc: psycopg.Error) -> str:
    # The server's primary message only: never parameters, which may be sealed row data.
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary or type(exc).__name__)


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """PostgreSQL's errors as ours, with advice; never with row data in the message."""
    try:
        yield
    except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
        raise StoreBusyError(
            "a row stayed locked by another counsel process; is a second active bot using the "
            "same database? Check [store] url and retry"
        ) from exc
    except psycopg.errors.DiskFull as exc:
        raise StoreFullError(
            "the disk of the PostgreSQL server is full; free space, then restart counsel "
            "(nothing was written)"
        ) from exc
    except psycopg.OperationalError as exc:
        raise StoreError(
            f"lost the connection to PostgreSQL ({_reason(exc)}); nothing was written; "
            "counsel stops, restart it when the database is reachable"
        ) from exc
    except psycopg.Error as exc:
        raise StoreError(f"database error ({_reason(exc)}); nothing was written") from exc
