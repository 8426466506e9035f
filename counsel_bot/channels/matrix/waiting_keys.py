"""Messages that came before their room key: decrypted and handled once the key comes
(`core/undecryptable.py` keeps them for a grace period), or, once it ends, the writer asked
to send them again, in the conversation's language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nio import AsyncClient, MegolmEvent
from nio.exceptions import EncryptionError

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.core.undecryptable import UndecryptableBuffer
from counsel_bot.store import ConversationRecord

log = logging.getLogger(__name__)


class WaitingKeys:
    def __init__(
        self, client: AsyncClient, conductor: Conductor, executor: Executor, clock: Clock,
        default_language: Language, undecryptable: UndecryptableBuffer[MegolmEvent], *,
        counted_room: Callable[[RoomID], Awaitable[RoomID]],
        handle: Callable[[RoomID, Any], Awaitable[None]],
        is_staff: Callable[[str], bool],
        is_staff_room: Callable[[RoomID], Awaitable[bool]],
    ) -> None:
        self.client = client
        self.conductor = conductor
        self.store = conductor.store
        self.executor = executor
        self.clock = clock
        self.default_language = default_language
        self.undecryptable = undecryptable
        # The room a room's words count in (after a move: the new one).
        self._counted_room = counted_room
        # Handles a decrypted event as the sync loop does (the bot's `_on_room_event_once`).
        self._handle = handle
        self._is_staff = is_staff
        self._is_staff_room = is_staff_room

    async def retry(self) -> None:
        """Each message waiting for its key decrypted and handled once the key came; those
        whose grace ended: the youth is asked to write again (in a group, each writer in
        their own chat; never for a counsellor's answer alone)."""
        for event_id, event in self.undecryptable.pending():
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                continue  # still no key: keep waiting until the grace period ends
            self.undecryptable.resolved(event_id)
            await self._handle(RoomID(event.room_id), decrypted)
        for room_id, events in self.undecryptable.expire(self.clock.now()):
            addon = next((a for a in self.conductor.addons if a.owns_room(room_id)), None)
            if addon is not None:
                # Not in the group (it would not know whom the bot means): each writer in
                # their own chat, since one of them may have written what must be read.
                for writer in dict.fromkeys(UserID(e.sender) for e in events):
                    await addon.unreadable(room_id, writer, self.clock.now())
                continue
            # The conversation of the room its words count in (after a move: the new one).
            record = await self.store.conversation_by_room(
                await self._counted_room(room_id))
            if not await self._is_staff_room(room_id):
                staff = [e for e in events if self._is_staff(str(e.sender))]
                await self._tell_staff_writers(record, staff)
                if len(staff) == len(events):
                    # Only staff wrote it: the youth sent nothing to send again (their app
                    # shows the answer; only the bot did not read it).
                    continue
            # In the conversation's language: an English-writing youth asked in German may
            # never send it again.
            language = self.default_language if record is None else spoken(record.language)
            try:
                await self.executor.send(room_id, text("undecryptable", language),
                                         key=f"undecryptable:{room_id}:{self.clock.now():%s}")
            except EffectFailed as failure:
                # Raised, it stopped the bot; the restart fetched the message again (the
                # sync position waits for it) and stopped again when its grace ended.
                log.warning("could not ask a youth to write again (%s)", failure)

    async def _tell_staff_writers(self, record: ConversationRecord | None,
                                  events: list[MegolmEvent]) -> None:
        """Each counsellor whose message in a youth's chat the bot could not read is told
        in the staff room (the conversation, never the text, which the bot has not got): a
        command of theirs there (`!chat end`, `!close`) was not carried out, and nobody
        would otherwise know."""
        if not events:
            return
        log.warning("a staff message in a chat stayed unreadable for the bot")
        if record is None:
            return
        first = {UserID(e.sender): e.event_id for e in reversed(events)}
        for writer, event_id in first.items():
            notice = SayToStaff("unreadable_staff_message",
                                (("conversation", record.conversation), ("counsellor", writer)),
                                mentions=(writer,), office=record.office)
            try:
                await self.executor.perform(notice, f"unreadable:{event_id}")
            except EffectFailed as failure:
                log.warning("could not tell a counsellor of their unreadable message (%s)",
                            failure)
