"""The bot's Matrix adapter: one sync loop that turns sync responses into decisions and acts.

Why our own loop instead of nio's ``sync_forever`` and callbacks: nio saves the sync token
*before* callbacks have handled the events, so a crash in between loses them. Here the token is
saved only after the batch was handled, and every event id is claimed in the store first, so
each message takes effect exactly once across crashes and homeserver restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from nio import (
    AsyncClient,
    InviteMemberEvent,
    MegolmEvent,
    RoomMessageText,
    SyncError,
    SyncResponse,
)
from nio.exceptions import EncryptionError

from counsel_bot.clock import Clock
from counsel_bot.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.language import guess_language
from counsel_bot.messages import Language, text
from counsel_bot.undecryptable import UndecryptableBuffer
from e2e.vault import Vault

log = logging.getLogger(__name__)

INTAKE_CONTEXT = b"counsel/intake/v1"
STAFF_ROOM_KEY = "staff_room"
SYNC_TOKEN_KEY = "sync_token"  # noqa: S105 (a table key)


@dataclass(frozen=True)
class ConversationRecord:
    conversation_id: ConversationID
    room_id: RoomID
    youth: UserID
    language: Language
    greeted: bool


class BotStore(Protocol):
    """What the adapter needs from storage; every call is durable when it returns."""

    async def get_meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...
    async def claim_event(self, event_id: EventID) -> bool: ...
    async def conversation_by_room(self, room_id: RoomID) -> ConversationRecord | None: ...
    async def open_conversation(
        self, room_id: RoomID, youth: UserID, language: Language
    ) -> ConversationRecord: ...
    async def mark_greeted(self, conversation_id: ConversationID) -> None: ...
    async def set_language(self, conversation_id: ConversationID, language: Language) -> None: ...
    async def add_intake(
        self, conversation_id: ConversationID, event_id: EventID, sealed: bytes
    ) -> None: ...
    async def intake(self, conversation_id: ConversationID) -> list[bytes]: ...


class CounselBot:
    def __init__(
        self,
        client: AsyncClient,
        store: BotStore,
        vault: Vault,
        clock: Clock,
        *,
        staff: Iterable[str],
        default_language: Language,
        undecryptable_grace: timedelta,
    ) -> None:
        self.client = client
        self.store = store
        self.vault = vault
        self.clock = clock
        self.staff = frozenset(staff)
        self.default_language = default_language
        self.undecryptable: UndecryptableBuffer[MegolmEvent] = UndecryptableBuffer(
            undecryptable_grace
        )
        self._pending_joins: set[RoomID] = set()
        self.ready = asyncio.Event()

    @property
    def user_id(self) -> UserID:
        return UserID(self.client.user_id)

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        since = await self.store.get_meta(SYNC_TOKEN_KEY)
        first = True
        while not stop.is_set():
            # full_state on the first sync rebuilds nio's in-memory room state after a restart.
            response = await self.client.sync(
                timeout=0 if first else 10_000, since=since, full_state=first,
                set_presence="offline",
            )
            if isinstance(response, SyncError):
                log.warning("sync failed (%s); retrying", response.status_code)
                await asyncio.sleep(1)
                continue
            await self._housekeeping()
            await self.handle_sync(response)
            since = response.next_batch
            await self.store.set_meta(SYNC_TOKEN_KEY, since)
            if first:
                first = False
                await self.ensure_staff_room()
                self.ready.set()

    async def _housekeeping(self) -> None:
        """What nio's sync_forever does between syncs: keys and to-device traffic."""
        client = self.client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def handle_sync(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.invite.items():
            await self._on_invite(RoomID(room_id), info.invite_state)
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                await self._on_room_event(RoomID(room_id), event)
        for room_id in list(self._pending_joins):
            if room_id in response.rooms.join or room_id in self.client.rooms:
                self._pending_joins.discard(room_id)
                await self._welcome(room_id)
        await self._retry_undecryptable()

    # -- invites and intake -----------------------------------------------------------------

    async def _on_invite(self, room_id: RoomID, invite_state: list[Any]) -> None:
        inviter = next(
            (e.sender for e in invite_state
             if isinstance(e, InviteMemberEvent) and e.state_key == self.user_id
             and e.membership == "invite"),
            None,
        )
        if inviter is None:
            return
        answer = await self.client.join(room_id)
        if hasattr(answer, "room_id"):
            self._pending_joins.add(room_id)
            log.info("joined a room on invitation")
        else:
            log.warning("could not join a room we were invited to")

    async def _welcome(self, room_id: RoomID) -> None:
        room = self.client.rooms.get(room_id)
        if room is None or await self._is_staff_room(room_id):
            return
        youth = self._youth_of(room_id)
        if youth is None:
            return
        if not room.encrypted:
            await self._refuse_unencrypted(room_id, youth)
            return
        conversation = await self.store.open_conversation(room_id, youth, self.default_language)
        if not conversation.greeted:
            await self.say(room_id, "greeting", conversation.language)
            await self.store.mark_greeted(conversation.conversation_id)
            await self.notify_staff(
                "staff_new_conversation",
                conversation=conversation.conversation_id, language=conversation.language,
            )

    def _youth_of(self, room_id: RoomID) -> UserID | None:
        room = self.client.rooms[room_id]
        others = [u for u in room.users if u != self.user_id and u not in self.staff]
        return UserID(others[0]) if others else None

    async def _refuse_unencrypted(self, room_id: RoomID, youth: UserID) -> None:
        """Counselling only happens encrypted: explain, open an encrypted room, leave."""
        await self.client.room_send(
            room_id, "m.room.message",
            {"msgtype": "m.notice", "body": text("unencrypted_room", self.default_language)},
            tx_id=f"refuse-{room_id}",
        )
        await self.client.room_create(
            is_direct=True, invite=[youth],
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
        )
        await self.client.room_leave(room_id)

    async def _on_room_event(self, room_id: RoomID, event: Any) -> None:
        if getattr(event, "sender", None) == self.user_id:
            return
        if isinstance(event, MegolmEvent):
            self.undecryptable.add(EventID(event.event_id), room_id, event, self.clock.now())
            return
        if isinstance(event, RoomMessageText):
            await self._on_text(room_id, event)

    async def _on_text(self, room_id: RoomID, event: RoomMessageText) -> None:
        if await self._is_staff_room(room_id):
            return  # staff commands arrive with routing
        conversation = await self.store.conversation_by_room(room_id)
        if conversation is None or event.sender != conversation.youth:
            return
        if not await self.store.claim_event(EventID(event.event_id)):
            return  # handled before a restart
        body = event.body if isinstance(event.body, str) else ""
        await self._note_language(conversation, body)
        sealed = self.vault.seal_text(body, context=INTAKE_CONTEXT)
        await self.store.add_intake(conversation.conversation_id, EventID(event.event_id), sealed)

    async def _note_language(self, conversation: ConversationRecord, body: str) -> None:
        if await self.store.intake(conversation.conversation_id):
            return  # judged on the first message only
        language = guess_language(body, self.default_language)
        if language != conversation.language:
            await self.store.set_language(conversation.conversation_id, language)
            await self.say(conversation.room_id, "greeting", language)

    async def intake_transcript(self, conversation_id: ConversationID) -> list[str]:
        return [
            self.vault.open_text(blob, context=INTAKE_CONTEXT)
            for blob in await self.store.intake(conversation_id)
        ]

    # -- undecryptable messages -------------------------------------------------------------

    async def _retry_undecryptable(self) -> None:
        for event_id, event in self.undecryptable.pending():
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                continue  # still no key: keep waiting until the grace period ends
            self.undecryptable.resolved(event_id)
            await self._on_room_event(RoomID(event.room_id), decrypted)
        for room_id in self.undecryptable.expire(self.clock.now()):
            await self.say(room_id, "undecryptable", await self._language_of(room_id))

    async def _language_of(self, room_id: RoomID) -> Language:
        conversation = await self.store.conversation_by_room(room_id)
        return conversation.language if conversation else self.default_language

    # -- staff room -------------------------------------------------------------------------

    async def _is_staff_room(self, room_id: RoomID) -> bool:
        return room_id == await self.store.get_meta(STAFF_ROOM_KEY)

    async def ensure_staff_room(self) -> RoomID:
        """An encrypted room for counsellors and team leads; created once, staff kept invited."""
        existing = await self.store.get_meta(STAFF_ROOM_KEY)
        if existing:
            return RoomID(existing)
        answer = await self.client.room_create(
            name=text("staff_room_name", self.default_language),
            invite=sorted(self.staff),
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
        )
        room_id = RoomID(answer.room_id)
        await self.store.set_meta(STAFF_ROOM_KEY, room_id)
        return room_id

    async def notify_staff(self, key: str, **params: object) -> None:
        room_id = await self.store.get_meta(STAFF_ROOM_KEY)
        if room_id and room_id in self.client.rooms:
            await self.say(RoomID(room_id), key, self.default_language, **params)

    # -- sending ----------------------------------------------------------------------------

    async def say(
        self, room_id: RoomID, key: str, language: Language, /, **params: object
    ) -> None:
        content = {"msgtype": "m.notice", "body": text(key, language, **params)}
        await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
