"""What the SQLite and the PostgreSQL store do alike: every transaction of the `Store`
contract, written once.

The two stores hold the same tables and differ in their SQL dialect (placeholders, string
functions, array parameters), in how they open and end a transaction, and in what a
deletion leaves on disk. So the logic of each transaction (which rows, in which order, what
is checked before a write) lives here, in `SqlStore`; a store supplies its `Statements`, a
`Tx` over its connection, and the few steps its dialect does in a form of its own. Before,
each store repeated every transaction, and a fix made in one was easily missed in the other.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    CounsellorSnapshot,
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
)
from counsel_bot.store.rows import (
    Row,
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

Params = Sequence[Any] | Mapping[str, Any]


class Tx(Protocol):
    """The connection inside one transaction, as the shared logic uses it."""

    async def execute(self, query: str, params: Params = ()) -> int:
        """Run one statement; how many rows it changed."""
        ...

    async def fetchall(self, query: str, params: Params = ()) -> list[Row]: ...

    async def executemany(self, query: str, rows: Iterable[Params]) -> None: ...

    async def insert_new(self, query: str, params: Params) -> bool:
        """Run an INSERT; False (and the transaction still usable) if a unique key refused it."""
        ...


@dataclass(frozen=True)
class Statements:
    """One dialect's form of every statement `SqlStore` runs. Positional parameters in the
    order the shared code passes them; ``c`` and ``r`` name the conversation and its room
    where a statement takes them by name."""

    # Processed events
    claim: str  # (event_id, at): inserts, or changes nothing if the id is there
    is_processed: str  # (event_id)
    delete_event_failures: str  # (FAILED_EVENT_PREFIX, before)
    delete_processed: str  # (before)
    # Conversations
    insert_conversation: str  # (id, room, youth, nickname, at, at), routing placeholders
    update_routing: str  # (the routing columns..., id)
    open_conversations: str  # ids of conversations not closed
    close_conversation: str  # (at, id)
    select_by_id: str  # SELECT_RECORD + (id)
    select_by_room: str  # SELECT_RECORD + (room)
    room_of: str  # (id)
    move_conversation: str  # (room, id)
    closed_before: str  # (cutoff)
    unreviewed_closed_since: str  # (cutoff)
    # Counsellors and the router's own row
    delete_counsellors: str
    delete_counsellor: str  # (user)
    insert_counsellor: str  # (user, role, on_duty, capacity, languages, topics, last_assigned)
    upsert_counsellor: str  # the same, replacing a row of that user
    write_meta: str  # (version, next_seq, handling_seconds)
    # Intake
    conversation_exists: str  # (id)
    insert_intake: str  # (conversation, event_id, sealed, conversation), the next ordinal
    read_intake: str  # (conversation)
    delete_intake: str  # (conversation)
    delete_closed_intake: str  # (conversation, conversation): only if it is closed
    delete_intake_message: str  # (conversation, event_id)
    # Outbox
    insert_outbox: str  # (key, sealed, created_at, conversation), a known key kept
    pending_outbox: str
    mark_outbox_done: str  # (at, DONE_PAYLOAD, key)
    delete_effect_failures: str  # (FAILED_EFFECT_PREFIX, before)
    delete_done_outbox: str  # (before)
    # Settings
    select_setting: str  # (key)
    upsert_setting: str  # (key, value)
    settings_by_prefix: str  # (prefix, prefix)
    delete_setting: str  # (key)
    select_sealed_setting: str  # (key)
    upsert_sealed_setting: str  # (key, sealed)
    insert_sealed_setting_if_absent: str  # (key, sealed)
    delete_sealed_setting: str  # (key)
    sealed_settings_by_prefix: str  # (prefix, prefix)
    # Erasure (by name: c = the conversation, r = its room or NULL)
    delete_settings_of: str  # the SQL form of `contract.names_conversation`
    delete_outbox_of: str  # entries naming c by their column or their key
    delete_sealed_settings_of: str  # sealed settings keyed ...:c
    delete_conversation: str  # (id)
    # Rotation
    select_conversation_seals: str  # id, youth_sealed, nickname_sealed
    reseal_conversation: str  # (youth, nickname, id)
    select_intake_seals: str  # conversation, event_id, sealed
    reseal_intake: str  # (sealed, event_id)
    select_outbox_seals: str  # key, sealed of entries not done
    reseal_outbox: str  # (sealed, key)
    select_setting_seals: str  # key, sealed
    reseal_setting: str  # (sealed, key)


Written = tuple[dict[ConversationID, ConversationSnapshot], tuple[CounsellorSnapshot, ...]]


class SqlStore(ABC):
    """The `Store` contract over a SQL database with counsel's tables."""

    def __init__(self, sealer: Sealer, statements: Statements) -> None:
        self._sealer = sealer
        self._sql = statements
        # What the database holds of the router since the last commit or load (None: not
        # known): a transition rewrites only the rows that differ from it.
        self._written: Written | None = None

    # --- what a dialect supplies -------------------------------------------------------------

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction at a time: committed when the block ends, rolled back if it
        raises; our errors for the database's."""

    @abstractmethod
    async def _rows(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        """One read, outside any transaction of ours."""

    @abstractmethod
    async def _snapshot_rows(self) -> tuple[list[Row], list[Row], list[Row]]:
        """The rows of ``SELECT_LIVE``, ``SELECT_COUNSELLORS`` and ``SELECT_META``, read as
        one view of the database."""

    @abstractmethod
    def _at(self, at: datetime) -> Any:
        """A time as the database's time columns take it."""

    async def _forget_old_pages(self) -> None:
        """After an erasure, a prune, a message the youth deleted or a transition marked
        ``forget_on_disk`` (a forum post taken back): make the deleted rows
        unreadable on disk, where the database can do that itself."""
        return None

    async def _close_missing(self, tx: Tx, live: Collection[ConversationID], at: Any) -> None:
        """Mark closed what the router no longer holds: it forgets closed conversations."""
        keep = set(live)
        await self._close(tx, [ConversationID(str(row[0]))
                               for row in await tx.fetchall(self._sql.open_conversations)
                               if row[0] not in keep], at)

    async def _close(self, tx: Tx, conversations: Collection[ConversationID], at: Any) -> None:
        await tx.executemany(self._sql.close_conversation,
                             [(at, conversation) for conversation in conversations])

    async def _mark_done(self, tx: Tx, keys: Sequence[str], at: Any) -> None:
        await tx.executemany(self._sql.mark_outbox_done,
                             [(at, DONE_PAYLOAD, key) for key in keys])

    # --- the transition ----------------------------------------------------------------------

    async def commit_transition(self, transition: Transition) -> bool:
        sealed = seal_transition(self._sealer, transition)
        live = {c.conversation: c for c in transition.snapshot.conversations}
        at = self._at(transition.at)
        async with self._transaction() as tx:
            if transition.event_id is not None and not await self._claim(
                    tx, transition.event_id, at):
                return False  # nothing written yet; the empty transaction commits
            for new, youth, nickname in sealed.conversations:
                if new.conversation not in live:
                    raise StoreConsistencyError(
                        f"conversation {new.conversation} is new but not in the router snapshot"
                    )
                await self._insert_conversation(tx, new.conversation, new.room_id, youth,
                                                nickname, at)
            written = self._written
            # Only rows that differ from the last committed snapshot are rewritten.
            for conv in live.values():
                if written is None or written[0].get(conv.conversation) != conv:
                    await self._update_routing(tx, conv)
            if written is None:
                await self._close_missing(tx, live.keys(), at)
            else:
                # What the last snapshot held and this one does not: no scan of open rows.
                await self._close(tx, written[0].keys() - live.keys(), at)
            counsellors = transition.snapshot.counsellors
            if written is None:
                await self._write_counsellors(tx, counsellors)
            elif written[1] != counsellors:
                await self._update_counsellors(tx, written[1], counsellors)
            await self._write_meta(tx, transition.snapshot)
            for message, blob in zip(transition.intake, sealed.intake, strict=True):
                await self._insert_intake(tx, message, blob)
            await tx.executemany(self._sql.insert_outbox,
                                 [(e.key, blob, self._at(e.created_at), e.conversation)
                                  for e, blob in sealed.outbox])
            await self._write_settings(tx, transition.settings)
            for key, setting in sealed.settings:
                if setting is None:
                    await tx.execute(self._sql.delete_sealed_setting, (key,))
                else:
                    await tx.execute(self._sql.upsert_sealed_setting, (key, setting))
            # Forgotten first: if the COMMIT fails, the next transition rewrites everything.
            self._written = None
        self._written = (live, counsellors)
        if transition.forget_on_disk or any(v is None for _k, v in transition.settings):
            await self._forget_old_pages()
        return True

    async def _write_settings(self, tx: Tx,
                              settings: Sequence[tuple[str, str | None]]) -> None:
        """In order (a key written, then deleted, in one transition is deleted)."""
        if all(value is not None for _key, value in settings):
            await tx.executemany(self._sql.upsert_setting, settings)
            return
        for key, value in settings:
            if value is None:
                await tx.execute(self._sql.delete_setting, (key,))
            else:
                await tx.execute(self._sql.upsert_setting, (key, value))

    async def load_router_snapshot(self) -> RouterSnapshot:
        # What is returned is exactly what the database holds, so the next transition need
        # not rewrite every row (a restart with 2,000 open conversations would otherwise
        # spend its first message rewriting all of them).
        conversations, counsellors, meta = await self._snapshot_rows()
        snapshot = router_snapshot(conversations, counsellors, meta)
        self._written = ({c.conversation: c for c in snapshot.conversations},
                         snapshot.counsellors)
        return snapshot

    async def _claim(self, tx: Tx, event_id: EventID, at: Any) -> bool:
        return await tx.execute(self._sql.claim, (event_id, at)) == 1

    async def _insert_conversation(self, tx: Tx, cid: ConversationID, room_id: RoomID,
                                   youth: bytes, nickname: bytes | None, at: Any) -> None:
        # Routing columns get placeholders here and their real values from _update_routing.
        if not await tx.insert_new(self._sql.insert_conversation,
                                   (cid, room_id, youth, nickname, at, at)):
            raise StoreConsistencyError(
                f"conversation {cid} or its room is stored already; it cannot be opened twice")

    async def _update_routing(self, tx: Tx, conv: ConversationSnapshot) -> None:
        notice = conv.last_notice
        changed = await tx.execute(self._sql.update_routing, (
            conv.channel.value,
            conv.state.value,
            conv.priority.value,
            conv.crisis.value,
            conv.severity,
            conv.language,
            self._at(conv.enqueued_at),
            conv.seq,
            conv.assigned_to,
            None if conv.assigned_at is None else self._at(conv.assigned_at),
            conv.assignments,
            conv.returned_by,
            None if notice is None else notice.position,
            None if notice is None else notice.eta_bucket,
            None if notice is None else self._at(notice.at),
            conv.office,
            None if conv.requeued_at is None else self._at(conv.requeued_at),
            conv.conversation,
        ))
        if changed != 1:
            raise StoreConsistencyError(
                f"conversation {conv.conversation} is not stored; pass it as a NewConversation"
            )

    async def _write_counsellors(self, tx: Tx,
                                 counsellors: tuple[CounsellorSnapshot, ...]) -> None:
        await tx.execute(self._sql.delete_counsellors)
        await tx.executemany(self._sql.insert_counsellor,
                             [self._counsellor_row(c) for c in counsellors])

    async def _update_counsellors(self, tx: Tx, before: tuple[CounsellorSnapshot, ...],
                                  after: tuple[CounsellorSnapshot, ...]) -> None:
        """Only the rows that differ from ``before`` (the last committed snapshot): an
        assignment changes one counsellor, and with 200 on the roster rewriting all of them
        was most of the commit's work."""
        old = {c.user: c for c in before}
        new = {c.user: c for c in after}
        gone = [(user,) for user in old.keys() - new.keys()]
        if gone:
            await tx.executemany(self._sql.delete_counsellor, gone)
        changed = [self._counsellor_row(c) for user, c in new.items() if old.get(user) != c]
        if changed:
            await tx.executemany(self._sql.upsert_counsellor, changed)

    def _counsellor_row(self, c: CounsellorSnapshot) -> tuple[object, ...]:
        # A bool is 1 or 0 to SQLite's INTEGER column, a boolean to PostgreSQL's.
        return (c.user, c.role.value, c.on_duty, c.capacity,
                json.dumps(list(c.languages)), json.dumps(list(c.topics)),
                None if c.last_assigned_at is None else self._at(c.last_assigned_at))

    async def _write_meta(self, tx: Tx, snapshot: RouterSnapshot) -> None:
        await tx.execute(self._sql.write_meta, (
            snapshot.version, snapshot.next_seq, json.dumps(list(snapshot.handling_seconds))))

    async def _insert_intake(self, tx: Tx, message: IntakeMessage, sealed: bytes) -> None:
        if not await tx.fetchall(self._sql.conversation_exists, (message.conversation,)):
            raise StoreConsistencyError(f"intake for unknown conversation {message.conversation}")
        await tx.execute(self._sql.insert_intake, (
            message.conversation, message.event_id, sealed, message.conversation))

    # --- processed events --------------------------------------------------------------------

    async def is_processed(self, event_id: EventID) -> bool:
        return bool(await self._rows(self._sql.is_processed, (event_id,)))

    async def mark_processed(self, event_id: EventID, *, at: datetime) -> bool:
        async with self._transaction() as tx:
            return await self._claim(tx, event_id, self._at(at))

    async def prune_processed(self, before: datetime) -> int:
        async with self._transaction() as tx:
            await tx.execute(self._sql.delete_event_failures,
                             (FAILED_EVENT_PREFIX, self._at(before)))
            count = await tx.execute(self._sql.delete_processed, (self._at(before),))
        await self._forget_old_pages()
        return count

    # --- intake ------------------------------------------------------------------------------

    async def append_intake(self, message: IntakeMessage, *, at: datetime) -> bool:
        sealed = seal_intake(self._sealer, message)
        async with self._transaction() as tx:
            if not await self._claim(tx, message.event_id, self._at(at)):
                return False
            await self._insert_intake(tx, message, sealed)
        return True

    async def read_intake(self, conversation: ConversationID) -> list[IntakeItem]:
        return open_intake(self._sealer, conversation,
                           await self._rows(self._sql.read_intake, (conversation,)))

    async def delete_intake(self, conversation: ConversationID) -> int:
        async with self._transaction() as tx:
            return await tx.execute(self._sql.delete_intake, (conversation,))

    async def delete_closed_intake(self, conversation: ConversationID) -> int:
        async with self._transaction() as tx:
            return await tx.execute(self._sql.delete_closed_intake, (conversation, conversation))

    async def delete_intake_message(self, conversation: ConversationID,
                                    event_id: EventID) -> bool:
        async with self._transaction() as tx:
            deleted = await tx.execute(self._sql.delete_intake_message,
                                       (conversation, event_id)) > 0
        if deleted:
            # The youth took it back: gone on disk too, not only from the table.
            await self._forget_old_pages()
        return deleted

    # --- outbox ------------------------------------------------------------------------------

    async def pending_outbox(self) -> list[OutboxEntry]:
        return open_outbox(self._sealer, await self._rows(self._sql.pending_outbox))

    async def mark_outbox_done(self, keys: Sequence[str], *, at: datetime,
                               forget_on_disk: bool = False) -> None:
        # One transaction (one fsync) for a whole lane of effects.
        async with self._transaction() as tx:
            await self._mark_done(tx, keys, self._at(at))
        if forget_on_disk:
            await self._forget_old_pages()

    async def prune_outbox(self, before: datetime) -> int:
        async with self._transaction() as tx:
            await tx.execute(self._sql.delete_effect_failures,
                             (FAILED_EFFECT_PREFIX, self._at(before)))
            count = await tx.execute(self._sql.delete_done_outbox, (self._at(before),))
        await self._forget_old_pages()
        return count

    # --- conversation records ----------------------------------------------------------------

    async def conversation(self, conversation: ConversationID) -> ConversationRecord | None:
        rows = await self._rows(self._sql.select_by_id, (conversation,))
        return open_record(self._sealer, rows[0]) if rows else None

    async def room_of(self, conversation: ConversationID) -> RoomID | None:
        rows = await self._rows(self._sql.room_of, (conversation,))
        return RoomID(rows[0][0]) if rows else None

    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None:
        rows = await self._rows(self._sql.select_by_room, (room_id,))
        return open_record(self._sealer, rows[0]) if rows else None

    async def move_conversation(self, conversation: ConversationID, room: RoomID,
                                settings: Sequence[tuple[str, str]] = ()) -> None:
        async with self._transaction() as tx:
            await tx.execute(self._sql.move_conversation, (room, conversation))
            for key, value in settings:
                await tx.execute(self._sql.upsert_setting, (key, value))

    async def closed_before(self, cutoff: datetime) -> list[ConversationID]:
        rows = await self._rows(self._sql.closed_before, (self._at(cutoff),))
        return [ConversationID(r[0]) for r in rows]

    async def unreviewed_closed_since(self, cutoff: datetime) -> list[ConversationID]:
        rows = await self._rows(self._sql.unreviewed_closed_since, (self._at(cutoff),))
        return [ConversationID(r[0]) for r in rows]

    async def erase_conversation(self, conversation: ConversationID) -> None:
        async with self._transaction() as tx:
            rows = await tx.fetchall(self._sql.room_of, (conversation,))
            room = next((str(r[0]) for r in rows), None)
            await tx.execute(self._sql.delete_intake, (conversation,))
            await tx.execute(self._sql.delete_conversation, (conversation,))
            # Before the outbox's rows: the settings of its effects are found by them.
            await tx.execute(self._sql.delete_settings_of, {"c": conversation, "r": room})
            await tx.execute(self._sql.delete_outbox_of, {"c": conversation})
            await tx.execute(self._sql.delete_sealed_settings_of, {"c": conversation})
        await self._forget_old_pages()

    async def reseal_all(self, reseal: Resealer) -> int:
        count = 0
        s = self._sql
        async with self._transaction() as tx:
            for cid, youth, nickname in await tx.fetchall(s.select_conversation_seals):
                await tx.execute(s.reseal_conversation,
                                 (*resealed_conversation(reseal, cid, youth, nickname), cid))
                count += 1 if nickname is None else 2
            for cid, event_id, sealed in await tx.fetchall(s.select_intake_seals):
                await tx.execute(s.reseal_intake,
                                 (resealed_intake(reseal, cid, event_id, sealed), event_id))
                count += 1
            for key, sealed in await tx.fetchall(s.select_outbox_seals):
                await tx.execute(s.reseal_outbox, (resealed_outbox(reseal, key, sealed), key))
                count += 1
            for key, sealed in await tx.fetchall(s.select_setting_seals):
                await tx.execute(s.reseal_setting, (resealed_setting(reseal, key, sealed), key))
                count += 1
        return count

    # --- settings ----------------------------------------------------------------------------

    async def get_setting(self, key: str) -> str | None:
        rows = await self._rows(self._sql.select_setting, (key,))
        return str(rows[0][0]) if rows else None

    async def set_setting(self, key: str, value: str, *, forget_on_disk: bool = False) -> None:
        async with self._transaction() as tx:
            await tx.execute(self._sql.upsert_setting, (key, value))
        if forget_on_disk:
            await self._forget_old_pages()

    async def settings(self, prefix: str) -> list[tuple[str, str]]:
        rows = await self._rows(self._sql.settings_by_prefix, (prefix, prefix))
        return [(str(k), str(v)) for k, v in rows]

    async def move_to_sealed(self, key: str, value: bytes | None) -> bool:
        sealed = seal_setting(self._sealer, key, value)
        async with self._transaction() as tx:
            if await tx.execute(self._sql.delete_setting, (key,)) == 0:
                return False
            if sealed is not None:
                await tx.execute(self._sql.insert_sealed_setting_if_absent, (key, sealed))
        if value is None:
            # Only deleted: a key naming a room no erasure would find (see the contract).
            await self._forget_old_pages()
        return True

    async def get_sealed_setting(self, key: str) -> bytes | None:
        rows = await self._rows(self._sql.select_sealed_setting, (key,))
        return open_setting(self._sealer, key, rows[0][0]) if rows else None

    async def set_sealed_setting(self, key: str, value: bytes | None) -> None:
        sealed = seal_setting(self._sealer, key, value)
        async with self._transaction() as tx:
            if sealed is None:
                await tx.execute(self._sql.delete_sealed_setting, (key,))
            else:
                await tx.execute(self._sql.upsert_sealed_setting, (key, sealed))

    async def sealed_settings(self, prefix: str) -> list[tuple[str, bytes]]:
        rows = await self._rows(self._sql.sealed_settings_by_prefix, (prefix, prefix))
        return [(str(k), open_setting(self._sealer, k, v)) for k, v in rows]
