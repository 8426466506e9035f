"""The in-memory store: the contract without a disk, for tests and dry runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CounsellorSnapshot,
    CrisisStatus,
    RouterSnapshot,
)
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
    StoreConsistencyError,
    Transition,
    intake_context,
    names_conversation,
    nickname_context,
    outbox_context,
    sealed_setting_context,
    youth_context,
)


@dataclass(frozen=True)
class _Row:
    room_id: RoomID
    youth_sealed: bytes
    nickname_sealed: bytes | None
    created_at: datetime
    routing: ConversationSnapshot
    closed_at: datetime | None = None


@dataclass(frozen=True)
class _Intake:
    conversation: ConversationID
    ordinal: int
    event_id: EventID
    sealed: bytes


@dataclass(frozen=True)
class _Outbox:
    key: str
    sealed: bytes
    created_at: datetime
    done_at: datetime | None = None
    conversation: ConversationID | None = None


class MemoryStore:
    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer
        self._rows: dict[ConversationID, _Row] = {}
        self._counsellors: dict[UserID, CounsellorSnapshot] = {}
        self._meta = RouterSnapshot()
        self._intake: list[_Intake] = []
        self._outbox: dict[str, _Outbox] = {}
        self._processed: dict[EventID, datetime] = {}
        self._settings: dict[str, str] = {}
        self._sealed_settings: dict[str, bytes] = {}

    async def commit_transition(self, transition: Transition) -> bool:
        if transition.event_id is not None and transition.event_id in self._processed:
            return False
        rows = dict(self._rows)
        live = {c.conversation: c for c in transition.snapshot.conversations}
        for new in transition.new_conversations:
            if new.conversation in rows:
                raise StoreConsistencyError(f"conversation {new.conversation} exists already")
            if any(row.room_id == new.room_id for row in rows.values()):
                # As the SQL stores' unique room column: a room's conversation is opened
                # again, never joined by another one.
                raise StoreConsistencyError(
                    f"conversation {new.conversation} or its room is stored already; it "
                    "cannot be opened twice")
            if new.conversation not in live:
                raise StoreConsistencyError(
                    f"conversation {new.conversation} is new but not in the router snapshot"
                )
            rows[new.conversation] = _Row(
                new.room_id,
                self._sealer.seal(
                    new.youth_user_id.encode(), context=youth_context(new.conversation)
                ),
                None
                if new.nickname is None
                else self._sealer.seal(
                    new.nickname.encode(), context=nickname_context(new.conversation)
                ),
                transition.at,
                live[new.conversation],
            )
        for cid, conv in live.items():
            if cid not in rows:
                raise StoreConsistencyError(
                    f"conversation {cid} is not stored; pass it as a NewConversation"
                )
            # Open again (crisis words after the close) as the SQL stores do it.
            rows[cid] = replace(rows[cid], routing=conv, closed_at=None)
        for cid, row in rows.items():
            if cid not in live and row.closed_at is None:
                closed = replace(row.routing, state=ConversationState.CLOSED)
                rows[cid] = replace(row, routing=closed, closed_at=transition.at)
        intake = self._sealed_intake(transition.intake, rows)
        self._rows = rows
        self._counsellors = {c.user: c for c in transition.snapshot.counsellors}
        self._meta = replace(transition.snapshot, conversations=(), counsellors=())
        self._intake.extend(intake)
        for key, value in transition.settings:
            if value is None:
                self._settings.pop(key, None)
            else:
                self._settings[key] = value
        for key, plain in transition.sealed_settings:
            if plain is None:
                self._sealed_settings.pop(key, None)
            else:
                self._sealed_settings[key] = self._sealer.seal(
                    plain, context=sealed_setting_context(key))
        for entry in transition.outbox:
            self._outbox.setdefault(
                entry.key,
                _Outbox(
                    entry.key,
                    self._sealer.seal(entry.payload, context=outbox_context(entry.key)),
                    entry.created_at,
                    conversation=entry.conversation,
                ),
            )
        if transition.event_id is not None:
            self._processed[transition.event_id] = transition.at
        return True

    def _sealed_intake(
        self, messages: tuple[IntakeMessage, ...], rows: dict[ConversationID, _Row]
    ) -> list[_Intake]:
        result: list[_Intake] = []
        seen = {i.event_id for i in self._intake}
        for message in messages:
            if message.conversation not in rows:
                raise StoreConsistencyError(
                    f"intake for unknown conversation {message.conversation}"
                )
            if message.event_id in seen:
                continue
            seen.add(message.event_id)
            ordinal = 1 + max(
                (
                    i.ordinal
                    for i in [*self._intake, *result]
                    if i.conversation == message.conversation
                ),
                default=0,
            )
            sealed = self._sealer.seal(
                message.body, context=intake_context(message.conversation, message.event_id)
            )
            result.append(_Intake(message.conversation, ordinal, message.event_id, sealed))
        return result

    async def load_router_snapshot(self) -> RouterSnapshot:
        live = tuple(
            sorted(
                (r.routing for r in self._rows.values() if r.closed_at is None),
                key=lambda c: c.seq,
            )
        )
        counsellors = tuple(sorted(self._counsellors.values(), key=lambda c: c.user))
        return replace(self._meta, conversations=live, counsellors=counsellors)

    async def is_processed(self, event_id: EventID) -> bool:
        return event_id in self._processed

    async def mark_processed(self, event_id: EventID, *, at: datetime) -> bool:
        if event_id in self._processed:
            return False
        self._processed[event_id] = at
        return True

    async def prune_processed(self, before: datetime) -> int:
        old = [e for e, at in self._processed.items() if at < before]
        for event_id in old:
            del self._processed[event_id]
            self._settings.pop(f"{FAILED_EVENT_PREFIX}{event_id}", None)
        return len(old)

    async def append_intake(self, message: IntakeMessage, *, at: datetime) -> bool:
        if message.event_id in self._processed:
            return False
        self._intake.extend(self._sealed_intake((message,), self._rows))
        self._processed[message.event_id] = at
        return True

    async def read_intake(self, conversation: ConversationID) -> list[IntakeItem]:
        items = sorted(
            (i for i in self._intake if i.conversation == conversation), key=lambda i: i.ordinal
        )
        return [
            IntakeItem(
                i.ordinal,
                i.event_id,
                self._sealer.open_sealed(
                    i.sealed, context=intake_context(conversation, i.event_id)
                ),
            )
            for i in items
        ]

    async def delete_intake(self, conversation: ConversationID) -> int:
        before = len(self._intake)
        self._intake = [i for i in self._intake if i.conversation != conversation]
        return before - len(self._intake)

    async def delete_closed_intake(self, conversation: ConversationID) -> int:
        row = self._rows.get(conversation)
        if row is None or row.closed_at is None:
            return 0
        return await self.delete_intake(conversation)

    async def delete_intake_message(self, conversation: ConversationID,
                                    event_id: EventID) -> bool:
        before = len(self._intake)
        self._intake = [i for i in self._intake
                        if (i.conversation, i.event_id) != (conversation, event_id)]
        return len(self._intake) < before

    async def pending_outbox(self) -> list[OutboxEntry]:
        return [
            OutboxEntry(
                e.key,
                self._sealer.open_sealed(e.sealed, context=outbox_context(e.key)),
                e.created_at,
                e.conversation,
            )
            for e in self._outbox.values()
            if e.done_at is None
        ]

    async def mark_outbox_done(self, keys: Sequence[str], *, at: datetime,
                               forget_on_disk: bool = False) -> None:
        for key in keys:
            entry = self._outbox.get(key)
            if entry is not None and entry.done_at is None:
                self._outbox[key] = replace(entry, done_at=at, sealed=DONE_PAYLOAD)

    async def prune_outbox(self, before: datetime) -> int:
        old = [k for k, e in self._outbox.items() if e.done_at is not None and e.done_at < before]
        for key in old:
            del self._outbox[key]
            self._settings.pop(f"{FAILED_EFFECT_PREFIX}{key}", None)
        return len(old)

    async def conversation(self, conversation: ConversationID) -> ConversationRecord | None:
        row = self._rows.get(conversation)
        return None if row is None else self._record(conversation, row)

    async def room_of(self, conversation: ConversationID) -> RoomID | None:
        row = self._rows.get(conversation)
        return None if row is None else row.room_id

    async def move_conversation(self, conversation: ConversationID, room: RoomID,
                                settings: Sequence[tuple[str, str]] = ()) -> None:
        row = self._rows.get(conversation)
        if row is not None:
            self._rows[conversation] = replace(row, room_id=room)
        self._settings.update(settings)

    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None:
        for cid, row in self._rows.items():
            if row.room_id == room_id:
                return self._record(cid, row)
        return None

    async def closed_before(self, cutoff: datetime) -> list[ConversationID]:
        return sorted(
            cid
            for cid, row in self._rows.items()
            if row.closed_at is not None and row.closed_at < cutoff
        )

    async def unreviewed_closed_since(self, cutoff: datetime) -> list[ConversationID]:
        return sorted(
            cid
            for cid, row in self._rows.items()
            if row.closed_at is not None and row.closed_at >= cutoff
            and row.routing.crisis is CrisisStatus.RAISED and row.routing.assigned_to is None
        )

    async def erase_conversation(self, conversation: ConversationID) -> None:
        row = self._rows.pop(conversation, None)
        room = None if row is None else row.room_id
        effects = [k for k, e in self._outbox.items() if e.conversation == conversation]
        self._settings = {k: v for k, v in self._settings.items()
                          if not names_conversation(k, v, conversation, room, effects)}
        self._outbox = {k: e for k, e in self._outbox.items()
                        if e.conversation != conversation and conversation not in k}
        self._sealed_settings = {k: v for k, v in self._sealed_settings.items()
                                 if not k.endswith(f":{conversation}")}
        await self.delete_intake(conversation)

    async def reseal_all(self, reseal: Resealer) -> int:
        count = 0
        for cid, row in list(self._rows.items()):
            nickname = (None if row.nickname_sealed is None
                        else reseal(row.nickname_sealed, nickname_context(cid)))
            self._rows[cid] = replace(row, youth_sealed=reseal(row.youth_sealed,
                                                               youth_context(cid)),
                                      nickname_sealed=nickname)
            count += 1 if nickname is None else 2
        self._intake = [replace(i, sealed=reseal(i.sealed, intake_context(i.conversation,
                                                                           i.event_id)))
                        for i in self._intake]
        for key, entry in list(self._outbox.items()):
            if entry.sealed != DONE_PAYLOAD:
                self._outbox[key] = replace(entry, sealed=reseal(entry.sealed,
                                                                 outbox_context(key)))
        for key, sealed in list(self._sealed_settings.items()):
            self._sealed_settings[key] = reseal(sealed, sealed_setting_context(key))
        outbox = sum(e.sealed != DONE_PAYLOAD for e in self._outbox.values())
        return count + len(self._intake) + outbox + len(self._sealed_settings)

    async def get_setting(self, key: str) -> str | None:
        return self._settings.get(key)

    async def set_setting(self, key: str, value: str, *, forget_on_disk: bool = False) -> None:
        self._settings[key] = value

    async def settings(self, prefix: str) -> list[tuple[str, str]]:
        return sorted((k, v) for k, v in self._settings.items() if k.startswith(prefix))

    async def move_to_sealed(self, key: str, value: bytes | None) -> bool:
        if key not in self._settings:
            return False
        if value is not None and key not in self._sealed_settings:
            self._sealed_settings[key] = self._sealer.seal(value,
                                                           context=sealed_setting_context(key))
        del self._settings[key]
        return True

    async def get_sealed_setting(self, key: str) -> bytes | None:
        sealed = self._sealed_settings.get(key)
        return None if sealed is None else self._sealer.open_sealed(
            sealed, context=sealed_setting_context(key))

    async def set_sealed_setting(self, key: str, value: bytes | None) -> None:
        if value is None:
            self._sealed_settings.pop(key, None)
        else:
            self._sealed_settings[key] = self._sealer.seal(value,
                                                           context=sealed_setting_context(key))

    async def sealed_settings(self, prefix: str) -> list[tuple[str, bytes]]:
        return [(k, self._sealer.open_sealed(v, context=sealed_setting_context(k)))
                for k, v in sorted(self._sealed_settings.items()) if k.startswith(prefix)]

    async def close(self) -> None:
        return None

    async def still_active(self) -> None:
        return None

    def _record(self, cid: ConversationID, row: _Row) -> ConversationRecord:
        youth = self._sealer.open_sealed(row.youth_sealed, context=youth_context(cid))
        nickname = (
            None
            if row.nickname_sealed is None
            else self._sealer.open_sealed(row.nickname_sealed, context=nickname_context(cid))
        )
        r = row.routing
        return ConversationRecord(
            conversation=cid,
            room_id=row.room_id,
            youth_user_id=UserID(youth.decode()),
            nickname=None if nickname is None else nickname.decode(),
            channel=r.channel,
            state=r.state,
            priority=r.priority,
            crisis=r.crisis,
            severity=r.severity,
            language=r.language,
            assigned_to=r.assigned_to,
            enqueued_at=r.enqueued_at,
            created_at=row.created_at,
            closed_at=row.closed_at,
            office=r.office,
            assignments=r.assignments,
        )
