"""Schema and statements of the PostgreSQL store, as plain functions on a connection.

The tables are those of the SQLite store (same columns, same meaning), with PostgreSQL's
types: bytea for sealed values, timestamptz for times. Sealed values are the vault's
ciphertext, bound to the same contexts, so a row means the same in either database.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg

from counsel_bot.core.ids import ConversationID, RoomID
from counsel_bot.core.routing.model import ConversationSnapshot, CounsellorSnapshot, RouterSnapshot
from counsel_bot.store.contract import (
    IntakeMessage,
    SchemaBehindError,
    SchemaTooNewError,
    StoreConsistencyError,
)

Connection = psycopg.AsyncConnection[tuple[Any, ...]]
Migration = Callable[[Connection], Awaitable[None]]

# pg_advisory_xact_lock key that serialises migrations of two processes starting together.
MIGRATION_LOCK = 0x636F_756E  # "coun"
# The advisory lock key of "the active counsel bot" ("ha" after "coun"), store/leadership.py.
LEADER_LOCK = 0x6861

_V1 = """
CREATE TABLE conversations (
    id text PRIMARY KEY,
    room_id text NOT NULL UNIQUE,
    youth_sealed bytea NOT NULL,
    nickname_sealed bytea,
    channel text NOT NULL,
    state text NOT NULL,
    priority text NOT NULL,
    crisis text NOT NULL,
    severity integer NOT NULL,
    language text NOT NULL,
    enqueued_at timestamptz NOT NULL,
    seq bigint NOT NULL,
    assigned_to text,
    assigned_at timestamptz,
    assignments integer NOT NULL,
    returned_by text,
    notice_position integer,
    notice_bucket integer,
    notice_at timestamptz,
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    -- The office it belongs to, "" = the only (or the fallback) office
    office text NOT NULL DEFAULT ''
);
CREATE INDEX conversations_open ON conversations (state) WHERE state != 'closed';
CREATE INDEX conversations_closed_at ON conversations (closed_at);

CREATE TABLE counsellors (
    user_id text PRIMARY KEY,
    role text NOT NULL,
    on_duty boolean NOT NULL,
    capacity integer NOT NULL,
    languages text NOT NULL,
    topics text NOT NULL,
    last_assigned_at timestamptz
);

CREATE TABLE router_meta (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL,
    next_seq bigint NOT NULL,
    handling_seconds text NOT NULL
);

CREATE TABLE intake (
    conversation text NOT NULL,
    ordinal integer NOT NULL,
    event_id text NOT NULL UNIQUE,
    sealed bytea NOT NULL,
    PRIMARY KEY (conversation, ordinal)
);

CREATE TABLE outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL UNIQUE,
    sealed bytea NOT NULL,
    created_at timestamptz NOT NULL,
    done_at timestamptz,
    -- Which conversation the sealed payload names, so erasing the conversation finds it.
    conversation text
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL;
CREATE INDEX outbox_conversation ON outbox (conversation) WHERE conversation IS NOT NULL;
CREATE INDEX outbox_done ON outbox (done_at) WHERE done_at IS NOT NULL;

-- Settings that may hold content (case notes, snippets, appointments), sealed by the vault.
CREATE TABLE sealed_settings (
    key text PRIMARY KEY,
    sealed bytea NOT NULL
);

CREATE TABLE processed_events (
    event_id text PRIMARY KEY,
    processed_at timestamptz NOT NULL
);
CREATE INDEX processed_events_at ON processed_events (processed_at);

CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);

-- The fencing token of active/standby: each process that becomes active raises the epoch;
-- a write of a process whose epoch is no longer the current one is refused. failovers counts
-- the takeovers by a waiting standby (counsel_failovers_total).
CREATE TABLE leader (
    id integer PRIMARY KEY CHECK (id = 1),
    epoch bigint NOT NULL,
    failovers bigint NOT NULL
);
INSERT INTO leader (id, epoch, failovers) VALUES (1, 0, 0)
"""


async def _script(db: Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            await db.execute(statement.encode())


async def _v1_initial(db: Connection) -> None:
    await _script(db, _V1)


MIGRATIONS: tuple[Migration, ...] = (_v1_initial,)


async def migrate(db: Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Bring the schema up to date in one transaction; refuse a schema newer than this code."""
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await db.execute("CREATE TABLE IF NOT EXISTS counsel_schema (version integer NOT NULL)")
        cursor = await db.execute("SELECT version FROM counsel_schema")
        row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        _refuse_newer(current, migrations)
        for version in range(current, len(migrations)):
            await migrations[version](db)
        if row is None:
            await db.execute("INSERT INTO counsel_schema (version) VALUES (%s)",
                             (len(migrations),))
        else:
            await db.execute("UPDATE counsel_schema SET version = %s", (len(migrations),))
    return len(migrations)


async def refuse_newer(db: Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> None:
    """Refuse a schema newer than this code, changing nothing: a standby checks with this,
    since upgrading under the active bot would change the tables it is writing."""
    cursor = await db.execute("SELECT to_regclass('counsel_schema') IS NOT NULL")
    row = await cursor.fetchone()
    if row is None or not row[0]:
        return  # an empty database: the first bot to win the role creates the schema
    cursor = await db.execute("SELECT version FROM counsel_schema")
    row = await cursor.fetchone()
    _refuse_newer(int(row[0]) if row else 0, migrations)


async def migrate_unless_active(db: Connection) -> None:
    """Upgrade the schema while no bot is active; beside an active one (it holds
    LEADER_LOCK) change nothing and refuse a schema other than this code's. A command of a
    newer counsel run before the bots were restarted (reset-second-factor, retention)
    upgraded the tables the older active bot was writing by the old schema; the bot that
    wins the role upgrades them (leadership.py)."""
    cursor = await db.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
    row = await cursor.fetchone()
    if row is not None and row[0]:
        try:
            await migrate(db)
        finally:
            await db.execute("SELECT pg_advisory_unlock(%s)", (LEADER_LOCK,))
        return
    await refuse_newer(db, MIGRATIONS)
    cursor = await db.execute("SELECT version FROM counsel_schema")
    row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current < len(MIGRATIONS):
        raise SchemaBehindError(
            f"the database has schema version {current}, but this counsel needs "
            f"{len(MIGRATIONS)}; the active bot is an older counsel: restart the bots with "
            "this version first (the one that becomes active upgrades the schema), then run "
            "this again")


def _refuse_newer(current: int, migrations: tuple[Migration, ...]) -> None:
    if current > len(migrations):
        raise SchemaTooNewError(
            f"the database has schema version {current}, but this counsel knows only up to "
            f"{len(migrations)}; run the newer counsel version or restore a backup"
        )


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


async def claim(db: Connection, event_id: str, at: datetime) -> bool:
    cursor = await db.execute(
        "INSERT INTO processed_events (event_id, processed_at) VALUES (%s, %s) "
        "ON CONFLICT (event_id) DO NOTHING",
        (event_id, at),
    )
    return cursor.rowcount == 1


async def insert_conversation(
    db: Connection, cid: ConversationID, room_id: RoomID, youth: bytes, nickname: bytes | None,
    at: datetime,
) -> None:
    try:
        # A savepoint: the unique violation must not abort the caller's transaction before
        # it turns into our error (the caller rolls back anyway, but cleanly).
        async with db.transaction():
            await db.execute(
                "INSERT INTO conversations (id, room_id, youth_sealed, nickname_sealed, channel, "
                "state, priority, crisis, severity, language, enqueued_at, seq, assignments, "
                "created_at) VALUES (%s, %s, %s, %s, 'chat', 'waiting', 'normal', 'none', 0, '', "
                "%s, 0, 0, %s)",
                (cid, room_id, youth, nickname, at, at),
            )
    except psycopg.errors.UniqueViolation as exc:
        raise StoreConsistencyError(
            f"conversation {cid} or its room is stored already; it cannot be opened twice"
        ) from exc


async def update_routing(db: Connection, conv: ConversationSnapshot) -> None:
    notice = conv.last_notice
    cursor = await db.execute(
        "UPDATE conversations SET channel = %s, state = %s, priority = %s, crisis = %s, "
        "severity = %s, language = %s, enqueued_at = %s, seq = %s, assigned_to = %s, "
        "assigned_at = %s, assignments = %s, returned_by = %s, notice_position = %s, "
        "notice_bucket = %s, notice_at = %s, office = %s, closed_at = NULL WHERE id = %s",
        (
            conv.channel.value, conv.state.value, conv.priority.value, conv.crisis.value,
            conv.severity, conv.language, conv.enqueued_at, conv.seq, conv.assigned_to,
            conv.assigned_at, conv.assignments, conv.returned_by,
            None if notice is None else notice.position,
            None if notice is None else notice.eta_bucket,
            None if notice is None else notice.at,
            conv.office,
            conv.conversation,
        ),
    )
    if cursor.rowcount != 1:
        raise StoreConsistencyError(
            f"conversation {conv.conversation} is not stored; pass it as a NewConversation"
        )


async def close_missing(db: Connection, live: Iterable[ConversationID], at: datetime) -> None:
    """Mark closed what the router no longer holds: it forgets closed conversations."""
    await db.execute(
        "UPDATE conversations SET state = 'closed', closed_at = %s "
        "WHERE state != 'closed' AND NOT (id = ANY(%s))",
        (at, list(live)),
    )


async def close(db: Connection, conversations: Iterable[ConversationID], at: datetime) -> None:
    await db.execute(
        "UPDATE conversations SET state = 'closed', closed_at = %s WHERE id = ANY(%s)",
        (at, list(conversations)),
    )


async def delete_outbox_of(db: Connection, conversation: ConversationID) -> None:
    """Entries that name the conversation: by the column, or by their key (conversation ids
    are never part of another id)."""
    await db.execute("DELETE FROM outbox WHERE conversation = %(c)s OR strpos(key, %(c)s) > 0",
                     {"c": conversation})


async def delete_settings_of(db: Connection, conversation: ConversationID,
                             room_id: str | None) -> None:
    """The SQL form of `contract.names_conversation` (right(), not LIKE: room ids hold "_");
    before `delete_outbox_of`, whose entries name the effects."""
    await db.execute(
        "DELETE FROM settings WHERE strpos(key, %(c)s) > 0 "
        "OR (%(r)s::text IS NOT NULL AND right(key, length(%(r)s::text) + 1) = ':' || %(r)s) "
        "OR EXISTS (SELECT 1 FROM outbox WHERE outbox.conversation = %(c)s "
        "AND right(settings.key, length(outbox.key) + 1) = ':' || outbox.key) "
        "OR value = %(c)s OR left(value, length(%(c)s) + 1) = %(c)s || '|'",
        {"c": conversation, "r": room_id},
    )


async def write_counsellors(db: Connection, counsellors: tuple[CounsellorSnapshot, ...]) -> None:
    await db.execute("DELETE FROM counsellors")
    async with db.cursor() as cursor:
        await cursor.executemany(_INSERT_COUNSELLOR, [_counsellor_row(c) for c in counsellors])


async def update_counsellors(
    db: Connection, before: tuple[CounsellorSnapshot, ...],
    after: tuple[CounsellorSnapshot, ...],
) -> None:
    """Only the rows that differ from ``before`` (the last committed snapshot): an
    assignment changes one counsellor, and with 200 on the roster rewriting all of them
    was most of the commit's work."""
    old = {c.user: c for c in before}
    new = {c.user: c for c in after}
    async with db.cursor() as cursor:
        gone = [(user,) for user in old.keys() - new.keys()]
        if gone:
            await cursor.executemany("DELETE FROM counsellors WHERE user_id = %s", gone)
        changed = [_counsellor_row(c) for user, c in new.items() if old.get(user) != c]
        if changed:
            await cursor.executemany(_UPSERT_COUNSELLOR, changed)


_INSERT_COUNSELLOR = (
    "INSERT INTO counsellors (user_id, role, on_duty, capacity, languages, topics, "
    "last_assigned_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_UPSERT_COUNSELLOR = _INSERT_COUNSELLOR + (
    " ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, on_duty = excluded.on_duty, "
    "capacity = excluded.capacity, languages = excluded.languages, topics = excluded.topics, "
    "last_assigned_at = excluded.last_assigned_at"
)


def _counsellor_row(c: CounsellorSnapshot) -> tuple[object, ...]:
    return (c.user, c.role.value, c.on_duty, c.capacity, json.dumps(list(c.languages)),
            json.dumps(list(c.topics)), c.last_assigned_at)


async def write_meta(db: Connection, snapshot: RouterSnapshot) -> None:
    await db.execute(
        "INSERT INTO router_meta (id, version, next_seq, handling_seconds) "
        "VALUES (1, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
        "next_seq = excluded.next_seq, handling_seconds = excluded.handling_seconds",
        (snapshot.version, snapshot.next_seq, json.dumps(list(snapshot.handling_seconds))),
    )


async def insert_intake(db: Connection, message: IntakeMessage, sealed: bytes) -> None:
    cursor = await db.execute("SELECT 1 FROM conversations WHERE id = %s",
                              (message.conversation,))
    if await cursor.fetchone() is None:
        raise StoreConsistencyError(f"intake for unknown conversation {message.conversation}")
    await db.execute(
        "INSERT INTO intake (conversation, ordinal, event_id, sealed) "
        "SELECT %s, COALESCE(MAX(ordinal), 0) + 1, %s, %s FROM intake WHERE conversation = %s "
        "ON CONFLICT (event_id) DO NOTHING",
        (message.conversation, message.event_id, sealed, message.conversation),
    )
