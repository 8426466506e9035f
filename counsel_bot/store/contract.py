"""What every store promises: the `Store` protocol, its records and its errors.

The store never sees plaintext of anything a youth wrote or anything that names them: it
takes a `Sealer` and keeps only what `seal` returns (intake messages, youth user ids,
nicknames, outbox payloads). Conversation ids, room ids, staff ids and Matrix event ids are
kept in the clear so rows can be found.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import (
    Channel,
    ConversationState,
    CrisisStatus,
    Priority,
    RouterSnapshot,
)


class StoreError(Exception):
    """The store could not do what was asked; nothing was written."""


class StoreBusyError(StoreError):
    """The database stayed locked by another process."""


class StoreFullError(StoreError):
    """The disk holding the database is full."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer version of counsel."""


class SchemaBehindError(StoreError):
    """The database is still on an older counsel's schema, which the active bot uses."""


class StoreRefusedError(StoreError):
    """The database server refused the connection for a reason no wait mends (a wrong
    [store] url or password: no such database or role, authentication failed)."""


class StoreFencedError(StoreError):
    """Another process became the active one; this one must stop acting (active/standby)."""


class StoreConsistencyError(StoreError):
    """A write would contradict what the store holds (a bug in the caller)."""


class Resealer(Protocol):
    def __call__(self, sealed: bytes, context: bytes) -> bytes: ...


class Sealer(Protocol):
    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt and authenticate `plaintext`, bound to `context`."""
        ...

    def open_sealed(self, sealed: bytes, *, context: bytes) -> bytes:
        """Reverse `seal`; raise if `sealed` was tampered with or `context` differs."""
        ...


@dataclass(frozen=True)
class NewConversation:
    """What only the adapter knows about a conversation the router is about to open."""

    conversation: ConversationID
    room_id: RoomID
    youth_user_id: UserID
    nickname: str | None = None


@dataclass(frozen=True)
class IntakeMessage:
    """One message the youth wrote before a counsellor joined (plaintext, sealed on write)."""

    conversation: ConversationID
    event_id: EventID
    body: bytes


@dataclass(frozen=True)
class IntakeItem:
    ordinal: int
    event_id: EventID
    body: bytes


@dataclass(frozen=True)
class OutboxEntry:
    """A side effect to perform; `key` makes performing it twice detectable.

    ``conversation`` is the conversation the effect names (in its key or its sealed
    payload), kept in the clear so erasing the conversation finds the row."""

    key: str
    payload: bytes
    created_at: datetime
    conversation: ConversationID | None = None


@dataclass(frozen=True)
class Transition:
    """Everything one handled event changes, written in one transaction."""

    at: datetime
    snapshot: RouterSnapshot
    event_id: EventID | None = None  # the Matrix event that caused it, processed exactly once
    outbox: tuple[OutboxEntry, ...] = ()
    new_conversations: tuple[NewConversation, ...] = ()
    intake: tuple[IntakeMessage, ...] = ()
    # Settings that must hold exactly when the effects happen (a case code and the mail
    # that carries it): written in the same transaction. None deletes the key: one naming a
    # room or a youth that no erasure would find (a room without a conversation) must go,
    # not stay emptied, and goes on disk too (as with ``forget_on_disk``).
    settings: tuple[tuple[str, str | None], ...] = ()
    # Values that may hold content (case notes, snippets, appointments): plaintext here,
    # sealed by the store under ``sealed_setting_context(key)``; None deletes the key.
    sealed_settings: tuple[tuple[str, bytes | None], ...] = ()
    # What it deletes was taken back (a forum post the youth withdrew, one rejected for
    # naming someone): gone on disk too, not only from the tables, as after an erasure.
    forget_on_disk: bool = False


@dataclass(frozen=True)
class ConversationRecord:
    conversation: ConversationID
    room_id: RoomID
    youth_user_id: UserID
    nickname: str | None
    channel: Channel
    state: ConversationState
    priority: Priority
    crisis: CrisisStatus
    severity: int
    language: str
    assigned_to: UserID | None
    enqueued_at: datetime
    created_at: datetime
    closed_at: datetime | None
    # The counselling office ("" = the only office, or one from before offices existed).
    office: str = ""
    # How many times it was given to a counsellor: a reopened conversation counts on, so
    # its invitations and transcripts get outbox keys of their own.
    assignments: int = 0


class Store(Protocol):
    async def commit_transition(self, transition: Transition) -> bool:
        """Write it all or nothing. False (and nothing written) if the event was processed."""
        ...

    async def load_router_snapshot(self) -> RouterSnapshot: ...

    async def is_processed(self, event_id: EventID) -> bool: ...

    async def mark_processed(self, event_id: EventID, *, at: datetime) -> bool:
        """Record an event that changed nothing else; False if it was already recorded."""
        ...

    async def prune_processed(self, before: datetime) -> int:
        """Forget event ids handled before `before` (run on the retention schedule), and
        their failure counters (``FAILED_EVENT_PREFIX`` + id): keyed by a youth's message,
        they name no conversation, so no erasure finds them."""
        ...

    async def append_intake(self, message: IntakeMessage, *, at: datetime) -> bool:
        """Add one message in order; False if its event id was already processed."""
        ...

    async def read_intake(self, conversation: ConversationID) -> list[IntakeItem]: ...

    async def delete_intake(self, conversation: ConversationID) -> int: ...

    async def delete_closed_intake(self, conversation: ConversationID) -> int:
        """The intake of a conversation that is closed, as its close's effect deletes it;
        nothing if the conversation was opened again meanwhile (crisis words after the
        close: a counsellor who joins now needs them). Checked and deleted in one step."""
        ...

    async def delete_intake_message(self, conversation: ConversationID,
                                    event_id: EventID) -> bool:
        """One message the youth deleted before a later counsellor read it; False if it
        is not (or no longer) kept."""
        ...

    async def pending_outbox(self) -> list[OutboxEntry]:
        """Entries not yet done, oldest first."""
        ...

    async def mark_outbox_done(self, keys: Sequence[str], *, at: datetime,
                               forget_on_disk: bool = False) -> None:
        """Mark these entries done, all in one transaction. A done entry keeps its key (a
        repeat is recognised) but not its payload (`DONE_PAYLOAD`): what it said or
        showed (a waiting forum post listed to the staff, a sealed mail text) was for
        performing it, and no erasure could find it in a row naming several youths. With
        ``forget_on_disk`` the payload is gone on disk too (a write-ahead log emptied), as
        after an erasure: for what quotes youths and names no conversation."""
        ...

    async def prune_outbox(self, before: datetime) -> int:
        """Forget done entries finished before `before`, and their failure counters
        (``FAILED_EFFECT_PREFIX`` + key): erasure, much later, finds no entry naming them."""
        ...

    async def conversation(self, conversation: ConversationID) -> ConversationRecord | None: ...

    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None: ...

    async def room_of(self, conversation: ConversationID) -> RoomID | None:
        """The room alone, without opening the sealed fields (the crisis alert's path)."""
        ...

    async def move_conversation(self, conversation: ConversationID, room: RoomID,
                                settings: Sequence[tuple[str, str]] = ()) -> None:
        """The conversation goes on in ``room`` (its youth upgraded the room it was in:
        `room_upgrades.py`), with ``settings`` written in the same transaction: a stop in
        between must not leave it in a room nobody is told of."""
        ...

    async def closed_before(self, cutoff: datetime) -> list[ConversationID]: ...

    async def unreviewed_closed_since(self, cutoff: datetime) -> list[ConversationID]:
        """Conversations closed at or after ``cutoff`` whose crisis flag nobody confirmed,
        dismissed or took (nobody had the conversation when it closed): after a restart, a
        lead is still paged about them."""
        ...

    async def erase_conversation(self, conversation: ConversationID) -> None:
        """Delete the conversation (retention, youth-initiated deletion): its record, its
        intake, every outbox entry that names it (done or pending: sealed mail texts and
        invitations included), every setting that names it or its room (the sealed mail
        address, mail thread keys, case codes, flags, "greeted" marks, the failure counters of
        its effects, also of those keyed by the event that caused them: ``<kind>:<outbox key>``
        of an entry naming it) and every sealed
        setting keyed ``...:<conversation>`` (case notes, appointments). On disk nothing of
        it may remain readable afterwards, in free pages or a write-ahead log either."""
        ...

    async def reseal_all(self, reseal: Resealer) -> int:
        """Re-encrypt every sealed value with ``reseal(blob, context)`` in one transaction
        (data-key rotation); returns how many values were resealed."""
        ...

    async def get_setting(self, key: str) -> str | None: ...

    async def set_setting(self, key: str, value: str, *, forget_on_disk: bool = False) -> None:
        """Adapter state that is not routing state (sync token, staff room); never content.
        With ``forget_on_disk`` the value replaced is gone on disk too (a write-ahead log
        emptied): for one that named a youth's room no erasure will find."""
        ...

    async def settings(self, prefix: str) -> list[tuple[str, str]]:
        """Every plain setting whose key starts with ``prefix``, by key."""
        ...

    async def move_to_sealed(self, key: str, value: bytes | None) -> bool:
        """Replace the plain setting ``key`` by the sealed setting ``key`` holding ``value``
        (None: only delete the plain one), in one transaction: the upgrade of values that
        older versions kept sealed by the vault in the plain table, where rotation cannot
        reach them. A sealed setting already there is newer and is kept. False (nothing
        written) if there is no plain setting ``key``. A plain setting deleted (``value``
        None) is gone on disk too, as after an erasure: the keys deleted so name rooms no
        conversation's erasure would find."""
        ...

    async def get_sealed_setting(self, key: str) -> bytes | None:
        """A sealed setting, opened; None if there is none."""
        ...

    async def sealed_settings(self, prefix: str) -> list[tuple[str, bytes]]:
        """Every sealed setting whose key starts with ``prefix``, opened, by key."""
        ...

    async def set_sealed_setting(self, key: str, value: bytes | None) -> None:
        """Seal and keep ``value`` (None deletes it), outside any transition (the dashboard's
        two-factor enrolments, which no router event causes)."""
        ...

    async def still_active(self) -> None:
        """Raise StoreFencedError if another process has become the active bot since this
        one won (PostgreSQL's fencing; a SQLite file has one bot). Asked right before what
        no write of ours can take back once the role is lost: a mail to a youth."""
        ...

    async def close(self) -> None: ...


def sealed_setting_context(key: str) -> bytes:
    return f"setting:{key}".encode()


def youth_context(conversation: ConversationID) -> bytes:
    return f"conversation:{conversation}:youth".encode()


def nickname_context(conversation: ConversationID) -> bytes:
    return f"conversation:{conversation}:nickname".encode()


def intake_context(conversation: ConversationID, event_id: EventID) -> bytes:
    return f"intake:{conversation}:{event_id}".encode()


# What a done outbox entry holds instead of its sealed payload (`Store.mark_outbox_done`);
# never opened, never resealed.
DONE_PAYLOAD = b""
# The plain setting that counts the failures of an outbox entry, + its key
# (`channels/failures.py`); pruned with the entry (`Store.prune_outbox`).
FAILED_EFFECT_PREFIX = "failed_effect:"
# The same for an event the bot failed on, + its id; pruned with the id (`Store.prune_processed`).
FAILED_EVENT_PREFIX = "failed_event:"


def outbox_context(key: str) -> bytes:
    return f"outbox:{key}".encode()


def names_conversation(key: str, value: str, conversation: str, room_id: str | None,
                       effects: Collection[str] = ()) -> bool:
    """Whether a setting belongs to a conversation: keyed ``<kind>:<conversation>``, by
    anything naming it (the failure counter of an outbox key such as
    ``failed_effect:transcript:<conversation>:1``), ``<kind>:<room>`` or ``<kind>:<effect>``
    for one of ``effects``, the keys of the outbox entries naming it (the failure counter of
    ``saytoyouth:$event:0``), or pointing at it or its room (``<conversation>``,
    ``<conversation>|...``, ``<room>``, ``<room>|...``: the new room a group's notice opened
    for a youth, ``new_home:<hash>``, is named by no key). Conversation ids have one fixed
    length and are never part of another id, as the outbox's erasure relies on too."""
    return (conversation in key
            or (room_id is not None and (key.endswith(f":{room_id}") or value == room_id
                                         or value.startswith(f"{room_id}|")))
            or any(key.endswith(f":{effect}") for effect in effects)
            or value == conversation or value.startswith(f"{conversation}|"))
