"""SQLite's form of the store's statements (`sql_store.Statements`) and of its times."""

from __future__ import annotations

from datetime import UTC, datetime

from counsel_bot.store.rows import SELECT_RECORD
from counsel_bot.store.sql_store import Statements


def ts(at: datetime) -> str:
    # Fixed width, UTC: string order is time order, so SQL can compare them.
    return at.astimezone(UTC).isoformat(timespec="microseconds")


_INSERT_COUNSELLOR = (
    "INSERT INTO counsellors (user_id, role, on_duty, capacity, languages, topics, "
    "last_assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)

STATEMENTS = Statements(
    claim=(
        "INSERT INTO processed_events (event_id, processed_at) VALUES (?, ?) "
        "ON CONFLICT(event_id) DO NOTHING"
    ),
    is_processed="SELECT 1 FROM processed_events WHERE event_id = ?",
    delete_event_failures=(
        "DELETE FROM settings WHERE key IN (SELECT ? || event_id FROM processed_events "
        "WHERE processed_at < ?)"
    ),
    delete_processed="DELETE FROM processed_events WHERE processed_at < ?",
    insert_conversation=(
        "INSERT INTO conversations (id, room_id, youth_sealed, nickname_sealed, channel, "
        "state, priority, crisis, severity, language, enqueued_at, seq, assignments, "
        "created_at) "
        "VALUES (?, ?, ?, ?, 'chat', 'waiting', 'normal', 'none', 0, '', ?, 0, 0, ?)"
    ),
    update_routing=(
        "UPDATE conversations SET channel = ?, state = ?, priority = ?, crisis = ?, severity = ?, "
        "language = ?, enqueued_at = ?, seq = ?, assigned_to = ?, assigned_at = ?, "
        "assignments = ?, returned_by = ?, notice_position = ?, notice_bucket = ?, notice_at = ?, "
        "office = ?, requeued_at = ?, closed_at = NULL WHERE id = ?"
    ),
    open_conversations="SELECT id FROM conversations WHERE state != 'closed'",
    close_conversation="UPDATE conversations SET state = 'closed', closed_at = ? WHERE id = ?",
    select_by_id=SELECT_RECORD + "WHERE id = ?",
    select_by_room=SELECT_RECORD + "WHERE room_id = ?",
    room_of="SELECT room_id FROM conversations WHERE id = ?",
    move_conversation="UPDATE conversations SET room_id = ? WHERE id = ?",
    closed_before=(
        "SELECT id FROM conversations "
        "WHERE closed_at IS NOT NULL AND closed_at < ? ORDER BY id"
    ),
    unreviewed_closed_since=(
        "SELECT id FROM conversations WHERE closed_at >= ? AND crisis = 'raised' "
        "AND assigned_to IS NULL ORDER BY id"
    ),
    delete_counsellors="DELETE FROM counsellors",
    delete_counsellor="DELETE FROM counsellors WHERE user_id = ?",
    insert_counsellor=_INSERT_COUNSELLOR,
    upsert_counsellor=_INSERT_COUNSELLOR + (
        " ON CONFLICT(user_id) DO UPDATE SET role = excluded.role, on_duty = excluded.on_duty, "
        "capacity = excluded.capacity, languages = excluded.languages, topics = excluded.topics, "
        "last_assigned_at = excluded.last_assigned_at"
    ),
    write_meta=(
        "INSERT INTO router_meta (id, version, next_seq, handling_seconds) VALUES (1, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET version = excluded.version, next_seq = excluded.next_seq, "
        "handling_seconds = excluded.handling_seconds"
    ),
    conversation_exists="SELECT 1 FROM conversations WHERE id = ?",
    insert_intake=(
        "INSERT INTO intake (conversation, ordinal, event_id, sealed) "
        "SELECT ?, COALESCE(MAX(ordinal), 0) + 1, ?, ? FROM intake WHERE conversation = ? "
        "ON CONFLICT(event_id) DO NOTHING"
    ),
    read_intake=(
        "SELECT ordinal, event_id, sealed FROM intake WHERE conversation = ? ORDER BY ordinal"
    ),
    delete_intake="DELETE FROM intake WHERE conversation = ?",
    delete_closed_intake=(
        "DELETE FROM intake WHERE conversation = ? AND EXISTS (SELECT 1 FROM conversations "
        "WHERE id = ? AND closed_at IS NOT NULL)"
    ),
    delete_intake_message="DELETE FROM intake WHERE conversation = ? AND event_id = ?",
    insert_outbox=(
        "INSERT INTO outbox (key, sealed, created_at, conversation) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO NOTHING"
    ),
    pending_outbox=(
        "SELECT key, sealed, created_at, conversation FROM outbox WHERE done_at IS NULL "
        "ORDER BY seq"
    ),
    mark_outbox_done="UPDATE outbox SET done_at = ?, sealed = ? WHERE key = ? AND done_at IS NULL",
    delete_effect_failures=(
        "DELETE FROM settings WHERE key IN (SELECT ? || key FROM outbox "
        "WHERE done_at IS NOT NULL AND done_at < ?)"
    ),
    delete_done_outbox="DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?",
    select_setting="SELECT value FROM settings WHERE key = ?",
    upsert_setting=(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    ),
    settings_by_prefix=(
        "SELECT key, value FROM settings WHERE substr(key, 1, length(?)) = ? ORDER BY key"
    ),
    delete_setting="DELETE FROM settings WHERE key = ?",
    select_sealed_setting="SELECT sealed FROM sealed_settings WHERE key = ?",
    upsert_sealed_setting=(
        "INSERT INTO sealed_settings (key, sealed) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET sealed = excluded.sealed"
    ),
    insert_sealed_setting_if_absent=(
        "INSERT INTO sealed_settings (key, sealed) VALUES (?, ?) ON CONFLICT(key) DO NOTHING"
    ),
    delete_sealed_setting="DELETE FROM sealed_settings WHERE key = ?",
    sealed_settings_by_prefix=(
        "SELECT key, sealed FROM sealed_settings WHERE substr(key, 1, length(?)) = ? "
        "ORDER BY key"
    ),
    # substr, not LIKE: room ids may hold "_".
    delete_settings_of=(
        "DELETE FROM settings WHERE instr(key, :c) > 0 "
        "OR (:r IS NOT NULL AND (substr(key, -length(:r) - 1) = ':' || :r OR value = :r "
        "OR substr(value, 1, length(:r) + 1) = :r || '|')) "
        "OR EXISTS (SELECT 1 FROM outbox WHERE outbox.conversation = :c "
        "AND substr(settings.key, -length(outbox.key) - 1) = ':' || outbox.key) "
        "OR value = :c OR substr(value, 1, length(:c) + 1) = :c || '|'"
    ),
    # By the column, or (rows written before it existed) by their key: conversation ids are
    # never part of another id.
    delete_outbox_of="DELETE FROM outbox WHERE conversation = :c OR instr(key, :c) > 0",
    delete_sealed_settings_of=(
        "DELETE FROM sealed_settings WHERE substr(key, -length(:c) - 1) = ':' || :c"
    ),
    delete_conversation="DELETE FROM conversations WHERE id = ?",
    select_conversation_seals="SELECT id, youth_sealed, nickname_sealed FROM conversations",
    reseal_conversation=(
        "UPDATE conversations SET youth_sealed = ?, nickname_sealed = ? WHERE id = ?"
    ),
    select_intake_seals="SELECT conversation, event_id, sealed FROM intake",
    reseal_intake="UPDATE intake SET sealed = ? WHERE event_id = ?",
    select_outbox_seals="SELECT key, sealed FROM outbox WHERE length(sealed) > 0",
    reseal_outbox="UPDATE outbox SET sealed = ? WHERE key = ?",
    select_setting_seals="SELECT key, sealed FROM sealed_settings",
    reseal_setting="UPDATE sealed_settings SET sealed = ? WHERE key = ?",
)
