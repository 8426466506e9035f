"""A staff member's words in the staff room or a conversation's room: commands, answers
(text or anything else), and what goes out as mail to a youth counselled by mail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nio import RedactionEvent, RoomMessage, RoomMessageText, StickerEvent, UnknownEvent

from counsel_bot.channels.matrix.event_words import (
    NOT_MESSAGES,
    TEXT_MSGTYPES,
    command_head,
    content_of,
    edited_event,
    edited_words,
    words_of,
)
from counsel_bot.channels.matrix.staff_devices import StaffDevices
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.commands import DutyCommand, parse_staff
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.workday_commands import parse_workday

if TYPE_CHECKING:
    from counsel_bot.channels.mail.mail_channel import MailChannel

# How many answers that went out as mail are remembered, for a deletion of one (`deleted`).
MAILED_REMEMBERED = 1000


class StaffWords:
    def __init__(self, conductor: Conductor, clock: Clock, staff_devices: StaffDevices,
                 is_staff_room: Callable[[RoomID], Awaitable[bool]]) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.clock = clock
        self._staff_devices = staff_devices
        self._is_staff_room = is_staff_room
        self.mail: MailChannel | None = None  # set by the runner when mail is on
        # The latest answers that went out as mail, by event: one deleted in the room is
        # told to have gone out all the same. In memory: a hint, which a restart forgets.
        self._mailed: dict[EventID, ConversationID] = {}

    async def text(self, room_id: RoomID, event: RoomMessageText) -> None:
        """A staff member's text: a command or an answer (and, to a youth counselled by
        mail, a mail)."""
        body = words_of(event)
        at = self.clock.now()
        event_id, sender = EventID(event.event_id), UserID(event.sender)
        # Only in the staff room or a conversation's room: a room someone else made and
        # invited the bot into is no place for staff commands (others would read along).
        if await self._is_staff_room(room_id) or \
                await self.store.conversation_by_room(room_id) is not None:
            corrected = edited_words(event)
            if corrected is not None and (parse_staff(corrected) is not None
                                          or parse_workday(corrected) is not None):
                await self.conductor.staff_edited_command(
                    room_id, sender, event_id, command_head(corrected), at,
                    edited_event(event))
                return
            command = parse_staff(body)
            if isinstance(command, DutyCommand) and command.on:
                # Going on duty: is every device of theirs readable in strict mode?
                await self._staff_devices.check([sender])
            await self.conductor.staff_wrote(room_id, sender, event_id, body, at)
            await self._mail_reply(room_id, sender, event_id,
                                   body if corrected is None else corrected,
                                   correction=corrected is not None)

    async def other(self, room_id: RoomID,
                    event: RoomMessage | StickerEvent | UnknownEvent) -> None:
        """A counsellor's voice message, picture, sticker, poll, file, /me or notice in a
        conversation's room answers the youth as their text does (the wait for an answer
        ends); it is never a command. To a youth counselled by mail a /me or a notice goes
        out as mail like text; what no mail carries is told to the counsellor."""
        record = await self.store.conversation_by_room(room_id)
        if record is None or content_of(event).get("msgtype") in NOT_MESSAGES:
            return  # a verification of the youth asked for is no answer to them
        sender, event_id, at = UserID(event.sender), EventID(event.event_id), self.clock.now()
        await self.conductor.staff_answered(room_id, sender, event_id, at)
        if self.mail is None or record.channel is not Channel.MAIL:
            return
        words = words_of(event)
        if content_of(event).get("msgtype") in TEXT_MSGTYPES and words.strip():
            corrected = edited_words(event)
            await self._mail_reply(room_id, sender, event_id,
                                   words if corrected is None else corrected,
                                   correction=corrected is not None)
        else:
            await self.conductor.reply_not_mailed(record.conversation, sender, event_id, at)

    async def _mail_reply(
        self, room_id: RoomID, sender: UserID, event_id: EventID, body: str, *,
        correction: bool,
    ) -> None:
        if self.mail is None or not body.strip() or parse_staff(body) is not None:
            return  # a command, or a reply that was only the quote
        record = await self.store.conversation_by_room(room_id)
        if record is not None and record.channel is Channel.MAIL \
                and await self.mail.counsellor_wrote(record, sender, event_id, body,
                                                     self.clock.now(), correction=correction):
            self._mailed[event_id] = record.conversation
            if len(self._mailed) > MAILED_REMEMBERED:
                del self._mailed[next(iter(self._mailed))]

    async def deleted(self, room_id: RoomID, event: RedactionEvent) -> None:
        """A staff member deleted a message: one that went out as mail to a youth cannot be
        taken back, so they are told (believing it undone, they would send no correction).
        Element deletes an edited message by its original, which went out first."""
        conversation = self._mailed.pop(EventID(event.redacts), None)
        if conversation is not None:
            await self.conductor.mail_not_recalled(conversation, UserID(event.sender),
                                                   EventID(event.event_id), self.clock.now())
