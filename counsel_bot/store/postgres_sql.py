"""Schema, migrations and statements (`sql_store.Statements`) of the PostgreSQL store.

The tables are those of the SQLite store (same columns, same meaning), with PostgreSQL's
types: bytea for sealed values, timestamptz for times. Sealed values are the vault's
ciphertext, bound to the same contexts, so a row means the same in either database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from counsel_bot.store.contract import SchemaBehindError, SchemaTooNewError
from counsel_bot.store.rows import SELECT_COUNSELLORS as _BY_USER
from counsel_bot.store.rows import SELECT_RECORD
from counsel_bot.store.sql_store import Statements

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


async def _v2_requeued_at(db: Connection) -> None:
    # SQLite's _v6_requeued_at (migrations.py): when it was last handed back to the queue.
    await _script(db, "ALTER TABLE conversations ADD COLUMN requeued_at timestamptz")


MIGRATIONS: tuple[Migration, ...] = (_v1_initial, _v2_requeued_at)


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
    wins the role upgrades them (leadership.py).

    Whether a bot is active is looked up, not tried by taking its lock: a bot starting
    while a command held it for a moment waited as a standby and counted a failover that
    never happened. Under the migration lock, which a bot that wins the role takes for its
    own upgrade before it writes anything: one winning meanwhile waits for this upgrade."""
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        if not await _leader_active(db):
            await migrate(db)
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


async def _leader_active(db: Connection) -> bool:
    """Whether a session of this database holds LEADER_LOCK (an active bot)."""
    cursor = await db.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = 0 AND objid = %s AND objsubid = 1 AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()))", (LEADER_LOCK,))
    row = await cursor.fetchone()
    return bool(row and row[0])


def _refuse_newer(current: int, migrations: tuple[Migration, ...]) -> None:
    if current > len(migrations):
        raise SchemaTooNewError(
            f"the database has schema version {current}, but this counsel knows only up to "
            f"{len(migrations)}; run the newer counsel version or restore a backup"
        )


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


# Text is ordered by code point, as SQLite does, not by the database's collation: a
# production database is usually en_US.UTF-8, which put "!Zb" after "!ab" and "@anna.b" after
# "@annac", so listings, the first of two equal values read into a dict (room_moves) and
# the snapshot's counsellors (the router's tie-breaks) differed from SQLite's.
SELECT_COUNSELLORS = _BY_USER + ' COLLATE "C"'

_INSERT_COUNSELLOR = (
    "INSERT INTO counsellors (user_id, role, on_duty, capacity, languages, topics, "
    "last_assigned_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)

# A list as one array parameter: one statement for many rows (`PostgresStore`).
CLOSE_MISSING = (
    "UPDATE conversations SET state = 'closed', closed_at = %s "
    "WHERE state != 'closed' AND NOT (id = ANY(%s))"
)
CLOSE_ALL = "UPDATE conversations SET state = 'closed', closed_at = %s WHERE id = ANY(%s)"
MARK_ALL_DONE = (
    "UPDATE outbox SET done_at = %s, sealed = %s WHERE key = ANY(%s) AND done_at IS NULL"
)

STATEMENTS = Statements(
    claim=(
        "INSERT INTO processed_events (event_id, processed_at) VALUES (%s, %s) "
        "ON CONFLICT (event_id) DO NOTHING"
    ),
    is_processed="SELECT 1 FROM processed_events WHERE event_id = %s",
    delete_event_failures=(
        "DELETE FROM settings WHERE key IN (SELECT %s || event_id FROM processed_events "
        "WHERE processed_at < %s)"
    ),
    delete_processed="DELETE FROM processed_events WHERE processed_at < %s",
    insert_conversation=(
        "INSERT INTO conversations (id, room_id, youth_sealed, nickname_sealed, channel, "
        "state, priority, crisis, severity, language, enqueued_at, seq, assignments, "
        "created_at) VALUES (%s, %s, %s, %s, 'chat', 'waiting', 'normal', 'none', 0, '', "
        "%s, 0, 0, %s)"
    ),
    update_routing=(
        "UPDATE conversations SET channel = %s, state = %s, priority = %s, crisis = %s, "
        "severity = %s, language = %s, enqueued_at = %s, seq = %s, assigned_to = %s, "
        "assigned_at = %s, assignments = %s, returned_by = %s, notice_position = %s, "
        "notice_bucket = %s, notice_at = %s, office = %s, requeued_at = %s, closed_at = NULL "
        "WHERE id = %s"
    ),
    # These three row by row are the shared default; `PostgresStore` runs CLOSE_MISSING,
    # CLOSE_ALL and MARK_ALL_DONE instead (mark_outbox_done below).
    open_conversations="SELECT id FROM conversations WHERE state != 'closed'",
    close_conversation=(
        "UPDATE conversations SET state = 'closed', closed_at = %s WHERE id = %s"
    ),
    select_by_id=SELECT_RECORD + "WHERE id = %s",
    select_by_room=SELECT_RECORD + "WHERE room_id = %s",
    room_of="SELECT room_id FROM conversations WHERE id = %s",
    move_conversation="UPDATE conversations SET room_id = %s WHERE id = %s",
    closed_before=(
        "SELECT id FROM conversations WHERE closed_at IS NOT NULL AND closed_at < %s "
        "ORDER BY id COLLATE \"C\""
    ),
    unreviewed_closed_since=(
        "SELECT id FROM conversations WHERE closed_at >= %s AND crisis = 'raised' "
        "AND assigned_to IS NULL ORDER BY id COLLATE \"C\""
    ),
    delete_counsellors="DELETE FROM counsellors",
    delete_counsellor="DELETE FROM counsellors WHERE user_id = %s",
    insert_counsellor=_INSERT_COUNSELLOR,
    upsert_counsellor=_INSERT_COUNSELLOR + (
        " ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, on_duty = excluded.on_duty, "
        "capacity = excluded.capacity, languages = excluded.languages, topics = excluded.topics, "
        "last_assigned_at = excluded.last_assigned_at"
    ),
    write_meta=(
        "INSERT INTO router_meta (id, version, next_seq, handling_seconds) "
        "VALUES (1, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET version = excluded.version, "
        "next_seq = excluded.next_seq, handling_seconds = excluded.handling_seconds"
    ),
    conversation_exists="SELECT 1 FROM conversations WHERE id = %s",
    insert_intake=(
        "INSERT INTO intake (conversation, ordinal, event_id, sealed) "
        "SELECT %s, COALESCE(MAX(ordinal), 0) + 1, %s, %s FROM intake WHERE conversation = %s "
        "ON CONFLICT (event_id) DO NOTHING"
    ),
    read_intake=(
        "SELECT ordinal, event_id, sealed FROM intake WHERE conversation = %s "
        "ORDER BY ordinal"
    ),
    delete_intake="DELETE FROM intake WHERE conversation = %s",
    delete_closed_intake=(
        "DELETE FROM intake WHERE conversation = %s AND EXISTS (SELECT 1 FROM conversations "
        "WHERE id = %s AND closed_at IS NOT NULL)"
    ),
    delete_intake_message="DELETE FROM intake WHERE conversation = %s AND event_id = %s",
    insert_outbox=(
        "INSERT INTO outbox (key, sealed, created_at, conversation) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO NOTHING"
    ),
    pending_outbox=(
        "SELECT key, sealed, created_at, conversation FROM outbox WHERE done_at IS NULL "
        "ORDER BY seq"
    ),
    mark_outbox_done=(
        "UPDATE outbox SET done_at = %s, sealed = %s WHERE key = %s AND done_at IS NULL"
    ),
    delete_effect_failures=(
        "DELETE FROM settings WHERE key IN (SELECT %s || key FROM outbox "
        "WHERE done_at IS NOT NULL AND done_at < %s)"
    ),
    delete_done_outbox="DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < %s",
    select_setting="SELECT value FROM settings WHERE key = %s",
    upsert_setting=(
        "INSERT INTO settings (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    ),
    settings_by_prefix=(
        "SELECT key, value FROM settings WHERE left(key, length(%s)) = %s "
        "ORDER BY key COLLATE \"C\""
    ),
    delete_setting="DELETE FROM settings WHERE key = %s",
    select_sealed_setting="SELECT sealed FROM sealed_settings WHERE key = %s",
    upsert_sealed_setting=(
        "INSERT INTO sealed_settings (key, sealed) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed"
    ),
    insert_sealed_setting_if_absent=(
        "INSERT INTO sealed_settings (key, sealed) VALUES (%s, %s) "
        "ON CONFLICT (key) DO NOTHING"
    ),
    delete_sealed_setting="DELETE FROM sealed_settings WHERE key = %s",
    sealed_settings_by_prefix=(
        "SELECT key, sealed FROM sealed_settings WHERE left(key, length(%s)) = %s "
        "ORDER BY key COLLATE \"C\""
    ),
    # right(), not LIKE: room ids hold "_".
    delete_settings_of=(
        "DELETE FROM settings WHERE strpos(key, %(c)s) > 0 "
        "OR (%(r)s::text IS NOT NULL AND (right(key, length(%(r)s::text) + 1) = ':' || %(r)s "
        "OR value = %(r)s OR left(value, length(%(r)s::text) + 1) = %(r)s || '|')) "
        "OR EXISTS (SELECT 1 FROM outbox WHERE outbox.conversation = %(c)s "
        "AND right(settings.key, length(outbox.key) + 1) = ':' || outbox.key) "
        "OR value = %(c)s OR left(value, length(%(c)s) + 1) = %(c)s || '|'"
    ),
    # By the column, or by their key (conversation ids are never part of another id).
    delete_outbox_of="DELETE FROM outbox WHERE conversation = %(c)s OR strpos(key, %(c)s) > 0",
    delete_sealed_settings_of=(
        "DELETE FROM sealed_settings WHERE right(key, length(%(c)s) + 1) = ':' || %(c)s"
    ),
    delete_conversation="DELETE FROM conversations WHERE id = %s",
    select_conversation_seals=(
        "SELECT id, youth_sealed, nickname_sealed FROM conversations FOR UPDATE"
    ),
    reseal_conversation=(
        "UPDATE conversations SET youth_sealed = %s, nickname_sealed = %s WHERE id = %s"
    ),
    select_intake_seals="SELECT conversation, event_id, sealed FROM intake",
    reseal_intake="UPDATE intake SET sealed = %s WHERE event_id = %s",
    select_outbox_seals="SELECT key, sealed FROM outbox WHERE length(sealed) > 0",
    reseal_outbox="UPDATE outbox SET sealed = %s WHERE key = %s",
    select_setting_seals="SELECT key, sealed FROM sealed_settings",
    reseal_setting="UPDATE sealed_settings SET sealed = %s WHERE key = %s",
)
