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
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg

from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    CounsellorSnapshot,
    RouterSnapshot,
)
from counsel_bot.store import postgres_sql as pg
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
    StoreFencedError,
    StoreFullError,
    StoreRefusedError,
    Transition,
)
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

_UPSERT_SETTING = (
    "INSERT INTO settings (key, value) VALUES (%s, %s) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_UPSERT_SEALED_SETTING = (
    "INSERT INTO sealed_settings (key, sealed) VALUES (%s, %s) "
    "ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed"
)
# Seconds a statement may wait for a row lock (the epoch row while a takeover commits).
_LOCK_TIMEOUT = "5s"


async def connect(url: str, *, password: str | None = None,
                  application_name: str = "counsel") -> pg.Connection:
    """A connection in autocommit mode (transactions are explicit), UTC, with TCP keepalives
    so a cut network is noticed within seconds, not hours."""
    try:
        db = await psycopg.AsyncConnection.connect(
            url, autocommit=True, password=password, application_name=application_name,
            options="-c TimeZone=UTC", keepalives=1, keepalives_idle=2,
            keepalives_interval=1, keepalives_count=3, connect_timeout=10,
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


class PostgresStore:
    def __init__(self, db: pg.Connection, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer
        self._lock = asyncio.Lock()
        self._epoch: int | None = None
        self._written: (
            tuple[dict[ConversationID, ConversationSnapshot], tuple[CounsellorSnapshot, ...]] | None
        ) = None

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

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[pg.Connection]:
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
            yield self._db

    async def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._lock, _translated():
            cursor = await self._db.execute(query.encode(), params)
            return list(await cursor.fetchall())

    async def reseal_all(self, reseal: Resealer) -> int:
        count = 0
        async with self._transaction() as db:
            cursor = await db.execute(
                "SELECT id, youth_sealed, nickname_sealed FROM conversations FOR UPDATE")
            for cid, youth, nickname in await cursor.fetchall():
                await db.execute(
                    "UPDATE conversations SET youth_sealed = %s, nickname_sealed = %s "
                    "WHERE id = %s",
                    (*resealed_conversation(reseal, cid, youth, nickname), cid))
                count += 1 if nickname is None else 2
            cursor = await db.execute("SELECT conversation, event_id, sealed FROM intake")
            for cid, event_id, sealed in await cursor.fetchall():
                await db.execute("UPDATE intake SET sealed = %s WHERE event_id = %s",
                                 (resealed_intake(reseal, cid, event_id, sealed), event_id))
                count += 1
            cursor = await db.execute("SELECT key, sealed FROM outbox WHERE length(sealed) > 0")
            for key, sealed in await cursor.fetchall():
                await db.execute("UPDATE outbox SET sealed = %s WHERE key = %s",
                                 (resealed_outbox(reseal, key, sealed), key))
                count += 1
            cursor = await db.execute("SELECT key, sealed FROM sealed_settings")
            for key, sealed in await cursor.fetchall():
                await db.execute("UPDATE sealed_settings SET sealed = %s WHERE key = %s",
                                 (resealed_setting(reseal, key, sealed), key))
                count += 1
        return count

    async def settings(self, prefix: str) -> list[tuple[str, str]]:
        rows = await self._rows(
            "SELECT key, value FROM settings WHERE left(key, length(%s)) = %s ORDER BY key",
            (prefix, prefix))
        return [(str(k), str(v)) for k, v in rows]

    async def move_to_sealed(self, key: str, value: bytes | None) -> bool:
        sealed = seal_setting(self._sealer, key, value)
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM settings WHERE key = %s", (key,))
            if cursor.rowcount == 0:
                return False
            if sealed is not None:
                await db.execute("INSERT INTO sealed_settings (key, sealed) VALUES (%s, %s) "
                                 "ON CONFLICT (key) DO NOTHING", (key, sealed))
        return True

    async def get_sealed_setting(self, key: str) -> bytes | None:
        rows = await self._rows("SELECT sealed FROM sealed_settings WHERE key = %s", (key,))
        return open_setting(self._sealer, key, rows[0][0]) if rows else None

    async def set_sealed_setting(self, key: str, value: bytes | None) -> None:
        sealed = seal_setting(self._sealer, key, value)
        async with self._transaction() as db:
            if sealed is None:
                await db.execute("DELETE FROM sealed_settings WHERE key = %s", (key,))
            else:
                await db.execute(_UPSERT_SEALED_SETTING, (key, sealed))

    async def sealed_settings(self, prefix: str) -> list[tuple[str, bytes]]:
        rows = await self._rows(
            "SELECT key, sealed FROM sealed_settings WHERE left(key, length(%s)) = %s "
            "ORDER BY key", (prefix, prefix))
        return [(str(k), open_setting(self._sealer, k, v)) for k, v in rows]

    async def get_setting(self, key: str) -> str | None:
        rows = await self._rows("SELECT value FROM settings WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    async def set_setting(self, key: str, value: str) -> None:
        async with self._transaction() as db:
            await db.execute(_UPSERT_SETTING, (key, value))

    # --- the transition ----------------------------------------------------------------------

    async def commit_transition(self, transition: Transition) -> bool:
        sealed = seal_transition(self._sealer, transition)
        live = {c.conversation: c for c in transition.snapshot.conversations}
        at = pg.utc(transition.at)
        async with self._transaction() as db:
            if transition.event_id is not None and not await pg.claim(db, transition.event_id, at):
                return False
            for new, youth, nickname in sealed.conversations:
                if new.conversation not in live:
                    raise StoreConsistencyError(
                        f"conversation {new.conversation} is new but not in the router snapshot"
                    )
                await pg.insert_conversation(db, new.conversation, new.room_id, youth, nickname,
                                             at)
            written = self._written
            for conv in live.values():
                if written is None or written[0].get(conv.conversation) != conv:
                    await pg.update_routing(db, conv)
            if written is None:
                await pg.close_missing(db, live.keys(), at)
            else:
                await pg.close(db, written[0].keys() - live.keys(), at)
            counsellors = transition.snapshot.counsellors
            if written is None:
                await pg.write_counsellors(db, counsellors)
            elif written[1] != counsellors:
                await pg.update_counsellors(db, written[1], counsellors)
            await pg.write_meta(db, transition.snapshot)
            for message, blob in zip(transition.intake, sealed.intake, strict=True):
                await pg.insert_intake(db, message, blob)
            async with db.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO outbox (key, sealed, created_at, conversation) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                    [(e.key, blob, e.created_at, e.conversation)
                     for e, blob in sealed.outbox],
                )
                await cursor.executemany(_UPSERT_SETTING, transition.settings)
                for key, setting in sealed.settings:
                    if setting is None:
                        await cursor.execute("DELETE FROM sealed_settings WHERE key = %s",
                                             (key,))
                    else:
                        await cursor.execute(_UPSERT_SEALED_SETTING, (key, setting))
            # Forgotten first: if the COMMIT fails, the next transition rewrites everything.
            self._written = None
        self._written = (live, counsellors)
        return True

    async def load_router_snapshot(self) -> RouterSnapshot:
        # One transaction, one consistent view: the next transition rewrites only changes.
        async with self._lock, _translated(), self._db.transaction():
            await self._db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            conversations = await (await self._db.execute(SELECT_LIVE)).fetchall()
            counsellors = await (await self._db.execute(SELECT_COUNSELLORS)).fetchall()
            meta = await (await self._db.execute(SELECT_META)).fetchall()
        snapshot = router_snapshot(conversations, counsellors, meta)
        self._written = ({c.conversation: c for c in snapshot.conversations},
                         snapshot.counsellors)
        return snapshot

    # --- processed events --------------------------------------------------------------------

    async def is_processed(self, event_id: EventID) -> bool:
        rows = await self._rows("SELECT 1 FROM processed_events WHERE event_id = %s", (event_id,))
        return bool(rows)

    async def mark_processed(self, event_id: EventID, *, at: datetime) -> bool:
        async with self._transaction() as db:
            return await pg.claim(db, event_id, pg.utc(at))

    async def prune_processed(self, before: datetime) -> int:
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM settings WHERE key IN (SELECT %s || event_id FROM processed_events "
                "WHERE processed_at < %s)", (FAILED_EVENT_PREFIX, before))
            cursor = await db.execute("DELETE FROM processed_events WHERE processed_at < %s",
                                      (before,))
            return cursor.rowcount

    # --- intake ------------------------------------------------------------------------------

    async def append_intake(self, message: IntakeMessage, *, at: datetime) -> bool:
        sealed = seal_intake(self._sealer, message)
        async with self._transaction() as db:
            if not await pg.claim(db, message.event_id, pg.utc(at)):
                return False
            await pg.insert_intake(db, message, sealed)
        return True

    async def read_intake(self, conversation: ConversationID) -> list[IntakeItem]:
        return open_intake(self._sealer, conversation, await self._rows(
            "SELECT ordinal, event_id, sealed FROM intake WHERE conversation = %s "
            "ORDER BY ordinal", (conversation,)))

    async def delete_intake(self, conversation: ConversationID) -> int:
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM intake WHERE conversation = %s",
                                      (conversation,))
            return cursor.rowcount

    async def delete_intake_message(self, conversation: ConversationID,
                                    event_id: EventID) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute(
                "DELETE FROM intake WHERE conversation = %s AND event_id = %s",
                (conversation, event_id))
            return cursor.rowcount > 0

    # --- outbox ------------------------------------------------------------------------------

    async def pending_outbox(self) -> list[OutboxEntry]:
        return open_outbox(self._sealer, await self._rows(
            "SELECT key, sealed, created_at, conversation FROM outbox WHERE done_at IS NULL "
            "ORDER BY seq"))

    async def mark_outbox_done(self, keys: Sequence[str], *, at: datetime) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE outbox SET done_at = %s, sealed = %s WHERE key = ANY(%s) "
                "AND done_at IS NULL", (pg.utc(at), DONE_PAYLOAD, list(keys)))

    async def prune_outbox(self, before: datetime) -> int:
        async with self._transaction() as db:
            await db.execute(
                "DELETE FROM settings WHERE key IN (SELECT %s || key FROM outbox "
                "WHERE done_at IS NOT NULL AND done_at < %s)", (FAILED_EFFECT_PREFIX, before))
            cursor = await db.execute(
                "DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < %s", (before,))
            return cursor.rowcount

    # --- conversation records ----------------------------------------------------------------

    async def conversation(self, conversation: ConversationID) -> ConversationRecord | None:
        rows = await self._rows(SELECT_RECORD + "WHERE id = %s", (conversation,))
        return open_record(self._sealer, rows[0]) if rows else None

    async def room_of(self, conversation: ConversationID) -> RoomID | None:
        rows = await self._rows("SELECT room_id FROM conversations WHERE id = %s",
                                (conversation,))
        return RoomID(rows[0][0]) if rows else None

    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None:
        rows = await self._rows(SELECT_RECORD + "WHERE room_id = %s", (room_id,))
        return open_record(self._sealer, rows[0]) if rows else None

    async def closed_before(self, cutoff: datetime) -> list[ConversationID]:
        rows = await self._rows(
            "SELECT id FROM conversations WHERE closed_at IS NOT NULL AND closed_at < %s "
            "ORDER BY id", (cutoff,))
        return [ConversationID(r[0]) for r in rows]

    async def unreviewed_closed_since(self, cutoff: datetime) -> list[ConversationID]:
        rows = await self._rows(
            "SELECT id FROM conversations WHERE closed_at >= %s AND crisis = 'raised' "
            "AND assigned_to IS NULL ORDER BY id", (cutoff,))
        return [ConversationID(r[0]) for r in rows]

    async def erase_conversation(self, conversation: ConversationID) -> None:
        async with self._transaction() as db:
            cursor = await db.execute("SELECT room_id FROM conversations WHERE id = %s",
                                      (conversation,))
            row = await cursor.fetchone()
            room = None if row is None else str(row[0])
            await db.execute("DELETE FROM intake WHERE conversation = %s", (conversation,))
            await db.execute("DELETE FROM conversations WHERE id = %s", (conversation,))
            await pg.delete_settings_of(db, conversation, room)
            await pg.delete_outbox_of(db, conversation)
            await db.execute(
                "DELETE FROM sealed_settings WHERE right(key, length(%(c)s) + 1) = ':' || %(c)s",
                {"c": conversation})


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
