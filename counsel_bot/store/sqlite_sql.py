"""SQL statements of the SQLite store, as plain functions on a connection in a transaction."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

import aiosqlite

from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    CounsellorSnapshot,
    RouterSnapshot,
)
from counsel_bot.store.contract import IntakeMessage, StoreConsistencyError


def ts(at: datetime) -> str:
    # Fixed width, UTC: string order is time order, so SQL can compare them.
    return at.astimezone(UTC).isoformat(timespec="microseconds")


async def claim(db: aiosqlite.Connection, event_id: EventID, at: str) -> bool:
    cursor = await db.execute(
        "INSERT INTO processed_events (event_id, processed_at) VALUES (?, ?) "
        "ON CONFLICT(event_id) DO NOTHING",
        (event_id, at),
    )
    return cursor.rowcount == 1


async def insert_conversation(
    db: aiosqlite.Connection,
    cid: ConversationID,
    room_id: RoomID,
    youth: bytes,
    nickname: bytes | None,
    at: str,
) -> None:
    try:
        # Routing columns get placeholders here and their real values from update_routing.
        await db.execute(
            "INSERT INTO conversations (id, room_id, youth_sealed, nickname_sealed, channel, "
            "state, priority, crisis, severity, language, enqueued_at, seq, assignments, "
            "created_at) "
            "VALUES (?, ?, ?, ?, 'chat', 'waiting', 'normal', 'none', 0, '', ?, 0, 0, ?)",
            (cid, room_id, youth, nickname, at, at),
        )
    except sqlite3.IntegrityError as exc:
        raise StoreConsistencyError(
            f"conversation {cid} or its room is stored already; it cannot be opened twice"
        ) from exc


async def update_routing(db: aiosqlite.Connection, conv: ConversationSnapshot) -> None:
    notice = conv.last_notice
    cursor = await db.execute(
        "UPDATE conversations SET channel = ?, state = ?, priority = ?, crisis = ?, severity = ?, "
        "language = ?, enqueued_at = ?, seq = ?, assigned_to = ?, assigned_at = ?, "
        "assignments = ?, returned_by = ?, notice_position = ?, notice_bucket = ?, notice_at = ?, "
        "office = ?, closed_at = NULL WHERE id = ?",
        (
            conv.channel.value,
            conv.state.value,
            conv.priority.value,
            conv.crisis.value,
            conv.severity,
            conv.language,
            ts(conv.enqueued_at),
            conv.seq,
            conv.assigned_to,
            None if conv.assigned_at is None else ts(conv.assigned_at),
            conv.assignments,
            conv.returned_by,
            None if notice is None else notice.position,
            None if notice is None else notice.eta_bucket,
            None if notice is None else ts(notice.at),
            conv.office,
            conv.conversation,
        ),
    )
    if cursor.rowcount != 1:
        raise StoreConsistencyError(
            f"conversation {conv.conversation} is not stored; pass it as a NewConversation"
        )


async def close_missing(db: aiosqlite.Connection, live: Iterable[ConversationID], at: str) -> None:
    """Mark closed what the router no longer holds: it forgets closed conversations."""
    open_rows = await db.execute_fetchall("SELECT id FROM conversations WHERE state != 'closed'")
    keep = set(live)
    await close(db, [ConversationID(row[0]) for row in open_rows if row[0] not in keep], at)


async def close(db: aiosqlite.Connection, conversations: Iterable[ConversationID], at: str) -> None:
    await db.executemany(
        "UPDATE conversations SET state = 'closed', closed_at = ? WHERE id = ?",
        [(at, conversation) for conversation in conversations],
    )


async def delete_outbox_of(db: aiosqlite.Connection, conversation: ConversationID) -> None:
    """Entries that name the conversation: by the column, or (rows written before it
    existed) by their key; conversation ids are never part of another id."""
    await db.execute(
        "DELETE FROM outbox WHERE conversation = :c OR instr(key, :c) > 0", {"c": conversation})


async def delete_settings_of(
    db: aiosqlite.Connection, conversation: ConversationID, room_id: str | None
) -> None:
    """The SQL form of `contract.names_conversation` (substr, not LIKE: room ids may hold "_");
    before `delete_outbox_of`, whose entries name the effects."""
    await db.execute(
        "DELETE FROM settings WHERE instr(key, :c) > 0 "
        "OR (:r IS NOT NULL AND substr(key, -length(:r) - 1) = ':' || :r) "
        "OR EXISTS (SELECT 1 FROM outbox WHERE outbox.conversation = :c "
        "AND substr(settings.key, -length(outbox.key) - 1) = ':' || outbox.key) "
        "OR value = :c OR substr(value, 1, length(:c) + 1) = :c || '|'",
        {"c": conversation, "r": room_id},
    )


async def write_counsellors(
    db: aiosqlite.Connection, counsellors: tuple[CounsellorSnapshot, ...]
) -> None:
    await db.execute("DELETE FROM counsellors")
    await db.executemany(_INSERT_COUNSELLOR, [_counsellor_row(c) for c in counsellors])


async def update_counsellors(
    db: aiosqlite.Connection, before: tuple[CounsellorSnapshot, ...],
    after: tuple[CounsellorSnapshot, ...],
) -> None:
    """Only the rows that differ from ``before`` (the last committed snapshot): an
    assignment changes one counsellor, and with 200 on the roster rewriting all of them
    was most of the commit's work."""
    old = {c.user: c for c in before}
    new = {c.user: c for c in after}
    gone = [(user,) for user in old.keys() - new.keys()]
    if gone:
        await db.executemany("DELETE FROM counsellors WHERE user_id = ?", gone)
    changed = [_counsellor_row(c) for user, c in new.items() if old.get(user) != c]
    if changed:
        await db.executemany(_UPSERT_COUNSELLOR, changed)


_INSERT_COUNSELLOR = (
    "INSERT INTO counsellors (user_id, role, on_duty, capacity, languages, topics, "
    "last_assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_COUNSELLOR = _INSERT_COUNSELLOR + (
    " ON CONFLICT(user_id) DO UPDATE SET role = excluded.role, on_duty = excluded.on_duty, "
    "capacity = excluded.capacity, languages = excluded.languages, topics = excluded.topics, "
    "last_assigned_at = excluded.last_assigned_at"
)


def _counsellor_row(c: CounsellorSnapshot) -> tuple[object, ...]:
    return (
        c.user,
        c.role.value,
        int(c.on_duty),
        c.capacity,
        json.dumps(list(c.languages)),
        json.dumps(list(c.topics)),
        None if c.last_assigned_at is None else ts(c.last_assigned_at),
    )


async def write_meta(db: aiosqlite.Connection, snapshot: RouterSnapshot) -> None:
    await db.execute(
        "INSERT INTO router_meta (id, version, next_seq, handling_seconds) VALUES (1, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET version = excluded.version, next_seq = excluded.next_seq, "
        "handling_seconds = excluded.handling_seconds",
        (snapshot.version, snapshot.next_seq, json.dumps(list(snapshot.handling_seconds))),
    )


async def insert_intake(db: aiosqlite.Connection, message: IntakeMessage, sealed: bytes) -> None:
    exists = await db.execute_fetchall(
        "SELECT 1 FROM conversations WHERE id = ?", (message.conversation,)
    )
    if not exists:
        raise StoreConsistencyError(f"intake for unknown conversation {message.conversation}")
    await db.execute(
        "INSERT INTO intake (conversation, ordinal, event_id, sealed) "
        "SELECT ?, COALESCE(MAX(ordinal), 0) + 1, ?, ? FROM intake WHERE conversation = ? "
        "ON CONFLICT(event_id) DO NOTHING",
        (message.conversation, message.event_id, sealed, message.conversation),
    )
