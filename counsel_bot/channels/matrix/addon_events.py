"""A group's or a forum's room: what its events say, handed to the part that owns it.

Never a 1:1 conversation, never greeted; words of any kind (text, /me, a caption, a poll,
a reaction, a sticker) go to its part for the crisis check and moderation, and so do the
members' names and leaving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nio import (
    AsyncClient,
    BadEvent,
    MegolmEvent,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessage,
    StickerEvent,
    UnknownEvent,
)

from counsel_bot.channels.matrix.event_words import (
    BAD_WITH_WORDS,
    POLL_TYPES,
    edited_words,
    poll_words,
    words_of,
)
from counsel_bot.conversation.conductor import Addon
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.undecryptable import UndecryptableBuffer


class AddonEvents:
    def __init__(self, client: AsyncClient, clock: Clock,
                 undecryptable: UndecryptableBuffer[MegolmEvent],
                 is_staff: Callable[[str], bool]) -> None:
        self.client = client
        self.clock = clock
        self.undecryptable = undecryptable
        self._is_staff = is_staff

    async def handle(self, addon: Addon, room_id: RoomID, event: Any, *,
                     resume: str | None) -> None:
        """A group's or a forum's room: never a 1:1 conversation, never greeted. Words go
        to its part (a group's crisis check and moderation); nothing else is taken."""
        if isinstance(event, MegolmEvent):
            # Held for its key like any message: a crisis in a group must not slip through.
            self.undecryptable.add(EventID(event.event_id), room_id, event, self.clock.now(),
                                   resume=resume)
        elif isinstance(event, RoomMessage | BadEvent | UnknownEvent) and (body := (
                words_of(event) if isinstance(event, RoomMessage) or (
                    isinstance(event, BadEvent) and event.type in BAD_WITH_WORDS
                    and not self._is_staff(str(event.sender)))
                else poll_words(event.source.get("content") or {})
                if isinstance(event, UnknownEvent) and event.type in POLL_TYPES else "")):
            # Text, and what else carries words: /me, notices, a picture's caption, a poll;
            # a youth's that nio could not parse too (a picture sent unencrypted: its caption).
            # An edit as the group's apps show it (its body is only a fallback, see
            # `YouthWords.text`), still marked as one, so it is no moderator's command.
            corrected = edited_words(event) if not isinstance(event, UnknownEvent) else None
            if corrected is not None:
                body = f"* {corrected}"
            room = self.client.rooms.get(room_id)
            if room is not None and room.encrypted:
                await addon.room_message(room_id, UserID(event.sender), EventID(event.event_id),
                                         body, self.clock.now())
        elif isinstance(event, ReactionEvent | StickerEvent) and event.sender is not None \
                and not self._is_staff(str(event.sender)) \
                and (words := event.key if isinstance(event, ReactionEvent) else event.body):
            # What else a youth writes for the whole group to read: a reaction's key (free
            # text in many apps) and a sticker's body. Both are looked at for a crisis like a
            # message; a reaction of words is deleted (`core/reactions.py`).
            room = self.client.rooms.get(room_id)
            if room is not None and room.encrypted:
                await addon.room_message(room_id, UserID(event.sender), EventID(event.event_id),
                                         words, self.clock.now(),
                                         reaction=isinstance(event, ReactionEvent))
        elif isinstance(event, RoomMemberEvent) and event.membership == "join":
            # A joining member's own client writes the name others see, and may change it
            # at any time: a youth posing as another or as the team is said to be who it is.
            # A join without a name is still a join: the host coming counts (groups.py).
            name = event.content.get("displayname") if isinstance(event.content, dict) else None
            await addon.member_named(room_id, UserID(event.state_key),
                                     name if isinstance(name, str) else "",
                                     EventID(event.event_id), self.clock.now())
        elif isinstance(event, RoomMemberEvent) and event.prev_membership == "join" \
                and event.membership in ("leave", "ban"):
            await addon.member_left(room_id, UserID(event.state_key), EventID(event.event_id),
                                    self.clock.now())
