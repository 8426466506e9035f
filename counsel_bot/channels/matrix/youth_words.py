"""A youth's words in their chat, whatever form they take: a message of any kind, an edit,
a picture's caption, a poll, a sticker, a reaction, a new name, a deleted message. Each is
read like a message (crisis check) and kept as a note for a counsellor joining later, in
the room its words count in (after a move: the new one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nio import (
    AsyncClient,
    BadEvent,
    CallInviteEvent,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomGetEventResponse,
    RoomMemberEvent,
    RoomMessage,
    RoomMessageMedia,
    RoomMessageText,
    RoomNameEvent,
    RoomTopicEvent,
    StickerEvent,
    UnknownBadEvent,
    UnknownEvent,
)
from nio.exceptions import EncryptionError

from counsel_bot.channels.matrix.event_words import (
    LIVE_LOCATIONS,
    NOT_MESSAGES,
    POLL_TYPES,
    TEXT_MSGTYPES,
    content_of,
    edited_event,
    edited_words,
    held_words,
    poll_words,
    words_of,
)
from counsel_bot.channels.matrix.held_events import HeldEvents
from counsel_bot.channels.matrix.room_youth import RoomYouth
from counsel_bot.channels.matrix.strangers import Strangers
from counsel_bot.channels.matrix.youth_moves import YouthMoves
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.group_crisis import offer_key, offered_flag
from counsel_bot.core.appointments import reaction_answer
from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.reactions import one_emoji

MEDIA_MSGTYPES = {"m.image": "Bild", "m.file": "Datei", "m.audio": "Audio",
                  "m.video": "Video"}


class YouthWords:
    def __init__(
        self, client: AsyncClient, conductor: Conductor, clock: Clock, *,
        room_youth: RoomYouth, moving: YouthMoves, held: HeldEvents, strangers: Strangers,
        is_staff_room: Callable[[RoomID], Awaitable[bool]],
        held_position: Callable[[RoomID], str | None],
        welcome_later: Callable[[RoomID], Awaitable[None]],
        replaying: set[RoomID],
    ) -> None:
        self.client = client
        self.conductor = conductor
        self.store = conductor.store
        self.clock = clock
        self.room_youth = room_youth
        self.moving = moving
        self.held = held
        self.strangers = strangers
        self._is_staff_room = is_staff_room
        self._held_position = held_position
        # Puts a room whose move the homeserver refused back on the welcome's list.
        self._welcome_later = welcome_later
        # Rooms whose held words are being read (`Welcomes`): checked when held.
        self._replaying = replaying

    async def text(self, room_id: RoomID, event: RoomMessageText) -> None:
        """A youth's text (or a text by someone else in a youth's room)."""
        body = words_of(event)
        at = self.clock.now()
        event_id, sender = EventID(event.event_id), UserID(event.sender)
        room = self.client.rooms.get(room_id)
        if room is None or await self._is_staff_room(room_id):
            return
        if not await self.room_youth.is_youth(room, sender):
            await self.strangers.one_to_one_only(room, self.room_youth.others(room))
            return
        if not await self._readable(room):
            await self._gone_unread(room, event)
            return
        corrected = edited_words(event)
        original = edited_event(event)
        if corrected is not None and original is not None:
            if await self.conductor.youth_retracted(await self.moving.counted_room(room_id),
                                                    sender, event_id, original, corrected, at):
                return  # a waiting forum post changed or withdrawn
            await self.moving.taken_back(room_id, original)
        if corrected is not None:
            # The words the youth's app shows; the body is only a fallback for apps without
            # edits, and may say anything ("* edited"). Still marked as an edit: an edit
            # into "löschen" is no command.
            body = f"* {corrected}"
        nickname = room.user_name(sender)
        counselling = await self.moving.words_room(room, sender)
        if counselling == room_id and (not room.encrypted or room_id in self.moving.pending):
            # The new room was refused: never a conversation without encryption, nor in a
            # room the youth is to be moved out of.
            await self._hold_until_moved(room_id, event)
            return
        await self.conductor.youth_wrote(counselling, sender, nickname, event_id, body, at,
                                         edits=original if corrected is not None else None)
        if counselling != room_id:
            await self.moving.taken_along(room_id, counselling, event_id, body,
                                          edits=original if corrected is not None else None)


    async def other_message(
        self, room_id: RoomID, event: RoomMessage | BadEvent | UnknownBadEvent
    ) -> None:
        """Pictures, files and unknown kinds of message: the counsellor in the room sees
        them in their own app; the bot keeps a note of them (and any text they carry) for a
        counsellor who joins later, and tells the youth once that it cannot pass files on."""
        room = await self._youths_words_room(room_id, event)
        if room is None:
            return
        raw = event.source if isinstance(event.source, dict) else {}
        if raw.get("type", "m.room.message") != "m.room.message":
            return  # other event types (reactions, state) carry nothing to counsel on
        content = content_of(event)
        kind = str(content.get("msgtype", "?"))
        if kind in NOT_MESSAGES:
            # A verification asked for: no words (its body names the youth). One of the bot
            # is answered; one of their counsellor is for her app to accept.
            if content.get("to") == self.client.user_id:
                await self.conductor.youth_asked_verification(
                    room_id, EventID(event.event_id), self.clock.now())
            return
        shown = words_of(event)
        # An edit (of a caption too: a picture a client sent unencrypted comes as a
        # BadEvent, its encrypted file missing).
        corrected, original = edited_words(event), edited_event(event)
        if corrected is not None and original is not None:
            if await self.conductor.youth_retracted(
                    await self.moving.counted_room(room_id), UserID(event.sender),
                    EventID(event.event_id), original, corrected, self.clock.now()):
                return  # a waiting forum post changed or withdrawn
            await self.moving.taken_back(room_id, original)
        if corrected is not None:
            # As for a text (`text`): the words the youth's app shows, not the fallback.
            shown = f"* {corrected}"
        if isinstance(event, RoomMessageMedia) or kind in MEDIA_MSGTYPES:
            # The whole caption: a youth may say the one important thing under a picture.
            note = f"[{MEDIA_MSGTYPES.get(kind, 'Datei')}: {shown}]"
        elif shown:
            # Unknown or malformed but with a body (the fallback every client shows): the
            # youth's words are kept like any message.
            note = shown
        else:
            # Nothing readable to keep; the youth is told once what the bot cannot pass on.
            await self.conductor.youth_sent_unreadable(room_id, EventID(event.event_id),
                                                       self.clock.now())
            return
        # A /me or a notice is words like any text: no note that files cannot be passed on.
        await self._take_note(room, event, note, attachment=kind not in TEXT_MSGTYPES,
                              edits=original if corrected is not None else None)

    async def poll_or_sticker(self, room_id: RoomID,
                                  event: UnknownEvent | StickerEvent) -> None:
        """A poll (its question and answers are words like any message: a youth may ask
        the one important thing as a poll), a sticker (kept as a note, like a picture) or
        a live location begun (a note: their counsellor's app shows it once they are in
        the chat). Other kinds of event (reactions, receipts) carry nothing to counsel on."""
        room = await self._youths_words_room(room_id, event)
        if room is None:
            return
        if isinstance(event, StickerEvent):
            await self._take_note(room, event, f"[Sticker: {event.body}]", attachment=True)
        elif event.type in LIVE_LOCATIONS and isinstance(
                started := event.source.get("content"), dict) and started.get("live") is True:
            described = started.get("description")
            note = f"[Live-Standort: {described}]" if isinstance(described, str) \
                and described.strip() else "[Live-Standort]"
            await self._take_note(room, event, note, attachment=True)
        elif event.type in POLL_TYPES and (words := poll_words(
                event.source.get("content") or {})):
            await self._take_note(room, event, f"[Umfrage: {words}]", attachment=False)

    async def call(self, room_id: RoomID, event: CallInviteEvent | UnknownEvent) -> None:
        """A call (Element and FluffyChat offer one in every direct chat of two; Element X
        rings by a notification, `CALL_RINGS`): the bot
        takes none, and ignored, it rang out with no word to the youth, and a youth who
        called before writing opened no conversation. It is a youth reaching out like a
        message: kept as a note for a counsellor joining later, the youth told to write."""
        room = await self._youths_words_room(room_id, event)
        if room is None:
            return
        await self._take_note(room, event, "[Anruf]", attachment=True, told="call_not_taken")

    async def reaction(self, room_id: RoomID, event: ReactionEvent) -> None:
        """A reaction: one emoji is no message (a 👍 on the welcome opens nothing), but any
        app that lets one type a reaction lets a youth say anything as one. Words are read
        like a message (crisis check) and kept as a note for a counsellor joining later.
        While the 1:1 offered after a crisis in a group stands in the room, any reaction
        answers it, as a message would: a 👍 on "Möchtest du allein mit jemandem reden?"
        is a yes. A 👍 or 👎 under the bot's appointment proposal is its answer."""
        if one_emoji(event.key) and not await self._offer_stands(room_id):
            await self._answers_proposal(room_id, event)
            return
        room = await self._youths_words_room(room_id, event)
        if room is None:
            return
        await self._take_note(room, event, f"[Reaktion: {event.key}]", attachment=False)

    async def _youths_words_room(self, room_id: RoomID, event: Any) -> MatrixRoom | None:
        """The room, if ``event`` is its youth's and their words are read there (one
        without encryption and no move: checked for a crisis all the same, `_gone_unread`)."""
        room = self.client.rooms.get(room_id)
        if room is None or not await self.room_youth.is_youth(room, event.sender) \
                or await self._is_staff_room(room_id):
            return None
        if not await self._readable(room):
            await self._gone_unread(room, event)
            return None
        return room

    async def _answers_proposal(self, room_id: RoomID, event: ReactionEvent) -> None:
        """Element offers 👍 under every message: a youth who gave it to "Passt das?" has
        answered, as far as they know. Only under a message of the bot's (a 👍 under the
        counsellor's "bis morgen" is for them), read from the server: nio keeps no timeline."""
        if reaction_answer(event.key) is None:
            return
        room = self.client.rooms.get(room_id)
        if room is None or await self._is_staff_room(room_id) \
                or not await self.room_youth.is_youth(room, event.sender):
            return
        counted = await self.moving.counted_room(room_id)
        record = await self.store.conversation_by_room(counted)
        if record is None or not self.conductor.appointments.proposal_open(record.conversation):
            return
        target = await self.client.room_get_event(room_id, event.reacts_to)
        if not isinstance(target, RoomGetEventResponse) \
                or target.event.sender != self.client.user_id \
                or not self._is_proposal(target.event, record.conversation):
            return
        await self.conductor.youth_reacted(counted, UserID(event.sender),
                                           EventID(event.event_id), event.key, self.clock.now())

    def _is_proposal(self, event: Any, conversation: ConversationID) -> bool:
        """Whether the bot's ``event`` is the proposal itself (in a room the youth was moved
        out of, with the hint to go on in the new one after it)."""
        if isinstance(event, MegolmEvent):
            try:
                event = self.client.decrypt_event(event)
            except EncryptionError:
                return False
        body = getattr(event, "body", None)
        return isinstance(body, str) and any(
            body.startswith(proposal)
            for proposal in self.conductor.appointments.proposal_texts(conversation))

    async def _offer_stands(self, room_id: RoomID) -> bool:
        """Whether a 1:1 offered after a crisis in a group waits for its answer in the room
        (`group_crisis.offer_key`)."""
        offered = await self.store.get_setting(offer_key(room_id))
        return offered is not None and offered_flag(offered, self.clock.now()) is not None

    async def _readable(self, room: MatrixRoom) -> bool:
        """Whether a youth's words in ``room`` are taken. Never counselled in without
        encryption; but the first room of a move (`room_moves`) is read whatever it is, its
        words counted in the bot's encrypted room, crisis check included: a youth goes on
        writing where they are until they see the new room."""
        return room.encrypted or await self.moving.moved_out(RoomID(room.room_id))

    async def _gone_unread(self, room: MatrixRoom, event: Any) -> None:
        """A youth's words in a room without encryption and no move out of it: never read
        (no counselling there). One the bot moves is read in the new room; but a youth who
        wrote and left before the bot read them (nio's members are those at the end of the
        sync) was never moved: their words are checked for a crisis all the same."""
        room_id = RoomID(room.room_id)
        if self.room_youth.others(room) or room_id in self._replaying \
                or not isinstance(getattr(event, "event_id", None), str) \
                or await self.store.conversation_by_room(room_id) is not None:
            return  # (words held for a move were checked when held: `_hold_until_moved`)
        await self.moving.gone_unread(room_id, EventID(event.event_id), held_words(event))

    async def _take_note(self, room: MatrixRoom, taken: Any, note: str, *,
                         attachment: bool, edits: EventID | None = None,
                         told: str | None = "attachment_note") -> None:
        """What the youth sent (the event ``taken``), as the words kept (and checked) for it;
        ``edits``: the message it corrects; ``told``: what the youth is told of an
        ``attachment``."""
        youth, event, room_id = UserID(taken.sender), EventID(taken.event_id), \
            RoomID(room.room_id)
        counselling = await self.moving.words_room(room, youth)
        if counselling == room_id and (not room.encrypted or room_id in self.moving.pending):
            # The new room was refused: never a conversation without encryption, nor in a
            # room the youth is to be moved out of.
            await self._hold_until_moved(room_id, taken)
            return
        if attachment and told is not None and await self._counsellor_sees(room, counselling):
            # The note is for a youth whose counsellor is not there yet ("only once they
            # are in the chat"; "they answer you here"): now they see it, or take the call.
            told = None
        await self.conductor.youth_wrote(counselling, youth, room.user_name(youth), event,
                                         note, self.clock.now(), attachment=attachment,
                                         edits=edits, told=told)
        if counselling != room_id:
            await self.moving.taken_along(room_id, counselling, event, note, edits=edits)

    async def _counsellor_sees(self, room: MatrixRoom, counselling: RoomID) -> bool:
        """Whether the counsellor of the conversation counted in ``counselling`` is in
        ``room`` (joined: nio gives an invited member the room key too, but their app shows
        nothing before the join), and so sees in their app what the youth sent there."""
        record = await self.store.conversation_by_room(counselling)
        current = None if record is None else self.conductor.router.conversation(
            record.conversation)
        counsellor = None if current is None else current.assigned_to
        return counsellor is not None and counsellor in room.users \
            and counsellor not in room.invited_users

    async def _hold_until_moved(self, room_id: RoomID, event: Any) -> None:
        """A youth who declined the new room wrote in the first, and the room for their new
        invitation was refused or not answered within the loop's wait: their words are held
        and the room asked for again, as for a move refused at the join (`Welcomes.joined`),
        crisis check at once. Returned unread, they were dropped, and so
        was all they wrote there after (the note "invite again" was spent): crisis words
        too, with no alert."""
        await self._welcome_later(room_id)
        self.held.hold(room_id, event, self._held_position(room_id))
        await self.moving.held(room_id, UserID(event.sender), EventID(event.event_id),
                               held_words(event))

    async def renamed(self, room_id: RoomID, event: RoomMemberEvent) -> None:
        """A youth took a new name (their profile's: the homeserver writes it into every
        room of theirs). The counsellor reading the chat sees it; crisis words as a name
        are read like a message, so they reach someone while nobody is there yet; once, in
        the room of the youth's open conversation when they are in it (the name comes there
        too). Any other name is no message: it opens nothing."""
        content = event.content if isinstance(event.content, dict) else {}
        before = event.prev_content if isinstance(event.prev_content, dict) else {}
        name = content.get("displayname")
        if not isinstance(name, str) or not name.strip() or name == before.get("displayname"):
            return
        room = self.client.rooms.get(room_id)
        if room is None or await self._is_staff_room(room_id) \
                or not await self.room_youth.is_youth(room, event.sender) \
                or await self.moving.second.elsewhere(room_id, UserID(event.sender)) \
                or not await self._readable(room) \
                or not await self.conductor.crisis.flags_alone(name):
            return
        await self._take_note(room, event, f"[Name: {name}]", attachment=False)

    async def room_named(self, room_id: RoomID, event: RoomNameEvent | RoomTopicEvent) -> None:
        """A youth wrote their chat's name or topic (Element lets them in a direct chat it
        made): the counsellor sees it in the chat's header. Read as a new display name is
        (`renamed`): crisis words as a message, so they reach someone while nobody is there
        yet; anything else is no message."""
        words = event.name if isinstance(event, RoomNameEvent) else event.topic
        room = self.client.rooms.get(room_id)
        if not isinstance(words, str) or not words.strip() or room is None \
                or await self._is_staff_room(room_id) \
                or not await self.room_youth.is_youth(room, event.sender) \
                or not await self._readable(room) \
                or not await self.conductor.crisis.flags_alone(words):
            return
        label = "Raumname" if isinstance(event, RoomNameEvent) else "Thema"
        await self._take_note(room, event, f"[{label}: {words}]", attachment=False)

    async def redaction(self, room_id: RoomID, event: RedactionEvent) -> None:
        """A youth deleted one of their messages: a waiting forum post is withdrawn, and a
        counsellor who joins later gets a transcript without it, unless it may be a crisis
        (`YouthSide.taken_back`)."""
        room = self.client.rooms.get(room_id)
        if room is None or await self._is_staff_room(room_id) \
                or not await self.room_youth.is_youth(room, event.sender):
            return
        # Written in a second chat or a room moved out of: counted in another room's
        # conversation, and taken back there.
        if not await self.conductor.youth_retracted(
                await self.moving.counted_room(room_id), UserID(event.sender),
                EventID(event.event_id), EventID(event.redacts), None, self.clock.now()):
            # A copy passed on to the counsellor goes too, as the message would.
            await self.moving.taken_back(room_id, EventID(event.redacts))
