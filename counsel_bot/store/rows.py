"""What both durable stores seal before a write and open after a read.

SQLite and PostgreSQL hold the same tables and differ only in their SQL. Each sealed value
is bound to its row by its context (``contract.*_context``): a blob copied into another
row does not open. Sealing and opening live here once, so the two stores cannot drift apart
on which context belongs to which column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    ConversationState,
    CounsellorSnapshot,
    CrisisStatus,
    Notice,
    Priority,
    Role,
    RouterSnapshot,
)
from counsel_bot.store.contract import (
    ConversationRecord,
    IntakeItem,
    IntakeMessage,
    NewConversation,
    OutboxEntry,
    Resealer,
    Sealer,
    StoreError,
    Transition,
    intake_context,
    nickname_context,
    outbox_context,
    sealed_setting_context,
    youth_context,
)

Row = Sequence[Any]
T = TypeVar("T")

# The columns `open_record` reads, in its order; each store appends its WHERE clause.
SELECT_RECORD = (
    "SELECT id, room_id, youth_sealed, nickname_sealed, created_at, closed_at, "
    "channel, state, priority, crisis, severity, language, enqueued_at, seq, "
    "assigned_to, assigned_at, assignments, returned_by, notice_position, notice_bucket, "
    "notice_at, office, requeued_at FROM conversations "
)
# The columns `routing_from_row` reads: every conversation the router still holds.
SELECT_LIVE = (
    "SELECT id, channel, state, priority, crisis, severity, language, enqueued_at, seq, "
    "assigned_to, assigned_at, assignments, returned_by, notice_position, notice_bucket, "
    "notice_at, office, requeued_at FROM conversations WHERE state != 'closed' ORDER BY seq"
)
SELECT_COUNSELLORS = (
    "SELECT user_id, role, on_duty, capacity, languages, topics, last_assigned_at "
    "FROM counsellors ORDER BY user_id"
)
SELECT_META = "SELECT version, next_seq, handling_seconds FROM router_meta"


@dataclass(frozen=True)
class SealedTransition:
    """A transition's plaintext parts, sealed before its transaction begins."""

    conversations: tuple[tuple[NewConversation, bytes, bytes | None], ...]
    outbox: tuple[tuple[OutboxEntry, bytes], ...]
    intake: tuple[bytes, ...]
    settings: tuple[tuple[str, bytes | None], ...]  # None: delete the setting


def seal_transition(sealer: Sealer, transition: Transition) -> SealedTransition:
    return SealedTransition(
        conversations=tuple(
            (new,
             sealer.seal(new.youth_user_id.encode(), context=youth_context(new.conversation)),
             None if new.nickname is None
             else sealer.seal(new.nickname.encode(), context=nickname_context(new.conversation)))
            for new in transition.new_conversations),
        outbox=tuple((e, sealer.seal(e.payload, context=outbox_context(e.key)))
                     for e in transition.outbox),
        intake=tuple(seal_intake(sealer, m) for m in transition.intake),
        settings=tuple((key, seal_setting(sealer, key, plain))
                       for key, plain in transition.sealed_settings),
    )


def seal_intake(sealer: Sealer, message: IntakeMessage) -> bytes:
    return sealer.seal(message.body,
                       context=intake_context(message.conversation, message.event_id))


def seal_setting(sealer: Sealer, key: str, value: bytes | None) -> bytes | None:
    return None if value is None else sealer.seal(value, context=sealed_setting_context(key))


def open_setting(sealer: Sealer, key: str, blob: bytes) -> bytes:
    return sealer.open_sealed(bytes(blob), context=sealed_setting_context(key))


def open_intake(sealer: Sealer, conversation: ConversationID,
                rows: Iterable[Row]) -> list[IntakeItem]:
    """Rows of (ordinal, event_id, sealed)."""
    return [IntakeItem(int(r[0]), EventID(r[1]), sealer.open_sealed(
        bytes(r[2]), context=intake_context(conversation, EventID(r[1])))) for r in rows]


def open_outbox(sealer: Sealer, rows: Iterable[Row]) -> list[OutboxEntry]:
    """Rows of (key, sealed, created_at, conversation)."""
    return [OutboxEntry(r[0], sealer.open_sealed(bytes(r[1]), context=outbox_context(r[0])),
                        need_dt(r[2]), None if r[3] is None else ConversationID(r[3]))
            for r in rows]


def open_record(sealer: Sealer, row: Row) -> ConversationRecord:
    """A row of ``SELECT_RECORD``."""
    cid = ConversationID(row[0])
    youth = sealer.open_sealed(bytes(row[2]), context=youth_context(cid))
    nickname = (None if row[3] is None
                else sealer.open_sealed(bytes(row[3]), context=nickname_context(cid)).decode())
    routing = routing_from_row((row[0], *row[6:]))
    return ConversationRecord(
        conversation=cid, room_id=RoomID(row[1]), youth_user_id=UserID(youth.decode()),
        nickname=nickname, channel=routing.channel, state=routing.state,
        priority=Priority(row[8]), crisis=routing.crisis, severity=routing.severity,
        language=routing.language, assigned_to=routing.assigned_to,
        enqueued_at=routing.enqueued_at, created_at=need_dt(row[4]), closed_at=dt(row[5]),
        office=routing.office, assignments=routing.assignments,
    )


def router_snapshot(conversations: Iterable[Row], counsellors: Iterable[Row],
                    meta: Sequence[Row]) -> RouterSnapshot:
    """Rows of ``SELECT_LIVE``, ``SELECT_COUNSELLORS`` and ``SELECT_META``."""
    version, next_seq, handling = meta[0] if meta else (0, 0, "[]")
    return RouterSnapshot(
        conversations=tuple(_readable(f"conversation {r[0]}", partial(routing_from_row, r))
                            for r in conversations),
        counsellors=tuple(_readable(f"counsellor {r[0]}", partial(_counsellor, r))
                          for r in counsellors),
        handling_seconds=_readable("router_meta", partial(_handling, handling)),
        next_seq=int(next_seq),
        version=int(version),
    )


def _counsellor(r: Row) -> CounsellorSnapshot:
    return CounsellorSnapshot(
        user=UserID(r[0]), role=Role(r[1]), on_duty=bool(r[2]), capacity=int(r[3]),
        languages=tuple(json.loads(r[4])), topics=tuple(json.loads(r[5])),
        last_assigned_at=dt(r[6]))


def _handling(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in json.loads(text))


def _readable(row: str, read: Callable[[], T]) -> T:
    """A row the router cannot be rebuilt from stops the start: as our error, which the
    command line prints with its advice (a bug report leaves the message out)."""
    try:
        return read()
    except (ValueError, TypeError, KeyError) as exc:
        # The kind only: the error's own text quotes the value.
        raise StoreError(
            f"the store's routing row of {row} is unreadable ({type(exc).__name__}); "
            "restore the database from a backup, or run the counsel version that wrote it"
        ) from exc


def resealed_conversation(reseal: Resealer, cid: str, youth: bytes,
                          nickname: bytes | None) -> tuple[bytes, bytes | None]:
    """A conversation row's two sealed columns under the new key."""
    conversation = ConversationID(cid)
    return (reseal(bytes(youth), youth_context(conversation)),
            None if nickname is None
            else reseal(bytes(nickname), nickname_context(conversation)))


def resealed_intake(reseal: Resealer, cid: str, event_id: str, sealed: bytes) -> bytes:
    return reseal(bytes(sealed), intake_context(ConversationID(cid), EventID(event_id)))


def resealed_outbox(reseal: Resealer, key: str, sealed: bytes) -> bytes:
    return reseal(bytes(sealed), outbox_context(key))


def resealed_setting(reseal: Resealer, key: str, sealed: bytes) -> bytes:
    return reseal(bytes(sealed), sealed_setting_context(key))


def dt(value: str | datetime | None) -> datetime | None:
    return None if value is None else need_dt(value)


def need_dt(value: str | datetime) -> datetime:
    # SQLite keeps times as ISO text (`sqlite_sql.ts`); PostgreSQL hands in timestamptz
    # values, already datetimes.
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def routing_from_row(row: Iterable[Any]) -> ConversationSnapshot:
    """A row of ``SELECT_LIVE`` (or of ``SELECT_RECORD`` from its channel on, after the id)."""
    (
        cid,
        channel,
        state,
        _priority,
        crisis,
        severity,
        language,
        enqueued_at,
        seq,
        assigned_to,
        assigned_at,
        assignments,
        returned_by,
        notice_position,
        notice_bucket,
        notice_at,
        office,
        requeued_at,
    ) = tuple(row)
    notice = (
        None
        if notice_position is None
        else Notice(int(notice_position), int(notice_bucket), need_dt(notice_at))
    )
    return ConversationSnapshot(
        conversation=ConversationID(cid),
        state=ConversationState(state),
        channel=Channel(channel),
        language=language,
        enqueued_at=need_dt(enqueued_at),
        seq=int(seq),
        crisis=CrisisStatus(crisis),
        severity=int(severity),
        assigned_to=None if assigned_to is None else UserID(assigned_to),
        assigned_at=dt(assigned_at),
        assignments=int(assignments),
        returned_by=None if returned_by is None else UserID(returned_by),
        last_notice=notice,
        office=str(office),
        requeued_at=dt(requeued_at),
    )
