"""Moving a youth out of a room the bot cannot moderate, into one of its own.

A room without encryption, or one where the bot could not remove a counsellor again, is no
place for counselling. The bot explains, opens its own room and invites the youth (the
request, and the room found again after a stop: `move_rooms.py`); until the youth is there
the move is pending (the links and why: `room_moves.py`). Meanwhile:

- what the youth writes in the first room counts as written in the new room (the crisis
  check included), and they are told once per new room, with the numbers, that it went
  along;
- words written there once a counsellor is in the new room are passed on to her;
- a youth who declines the new room is told that their next message brings a new
  invitation, and it does.

The bot leaves the first room once the youth has joined the new one, or left the first.
What a move given up leaves behind (rooms made for it, a first room left before it) is
taken away by `move_leftovers.py`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta

from nio import AsyncClient, MatrixRoom, RoomCreateResponse

from counsel_bot.channels.matrix import passed_on
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.matrix.move_leftovers import MoveLeftovers
from counsel_bot.channels.matrix.move_rooms import MoveRooms
from counsel_bot.channels.matrix.room_moves import (
    ARRIVED,
    DECLINED,
    RoomMoves,
)
from counsel_bot.channels.matrix.second_chats import SecondChats
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.commands import YouthCommandKind, language_asked, parse_youth
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.language import told_language
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.store import ConversationRecord

log = logging.getLogger(__name__)

# A refused room for a move is asked for again this often (the bot's welcome loop).
MOVE_RETRY = timedelta(minutes=1)
# A youth who declined the room they were moved to: their next message moves them again.
MOVE_AGAIN_PREFIX = "move_again:"
# The refusal of a new room that waiting does not end: the bot's account may not create rooms.
FORBIDDEN = "M_FORBIDDEN"
# A first room whose youth's account refused the invitation to the room they were moved to.
INVITE_BLOCKED_PREFIX = "invite_blocked:"
# A first room whose move was refused for good and the leads called for it: not called
# again at the next start while the refusal lasts (`YouthMoves._refused_for_good`).
REFUSED_CALLED_PREFIX = "move_refused_called:"
# ... and the youth told so (written once the notice went through: one the homeserver
# refused is sent again at the next try).
REFUSED_TOLD_PREFIX = "move_refused_told:"
# A first room whose youth's crisis words were held and whose reply (the numbers) the
# homeserver refused: sent at the next try (`YouthMoves._numbers_after_crisis`).
CRISIS_OWED_PREFIX = "crisis_owed:"
# Between an owed reply's key and its language (no event or room id holds it); an owed
# reply of an older version has none, and is in the installation's language.
_OWED_LANGUAGE = "#"


class YouthMoves:
    def __init__(self, client: AsyncClient, conductor: Conductor, executor: Executor,
                 clock: Clock, language: Language, links: RoomMoves) -> None:
        self._client = client
        self._conductor = conductor
        self._store = conductor.store
        self._executor = executor
        self._clock = clock
        self._language = language
        self.links = links
        self.second = SecondChats(conductor, clock, self._joined)
        # First rooms whose new room was refused for good at the last try (403: the bot's
        # account may not create rooms): waiting does not bring it (`HeldEvents`).
        self.refused_for_good: set[RoomID] = set()
        # First rooms whose new room was asked for and is not there yet (refused, or not
        # answered within CREATE_WAIT): what the youth writes there waits for it
        # (`HeldEvents`), encrypted or not, so no conversation opens in the first room.
        self.pending: set[RoomID] = set()
        # The new rooms: asked for once, found again after a stop (`move_rooms.py`).
        self.rooms = MoveRooms(client, self._store, clock, links)
        # What moves given up leave behind (`move_leftovers.py`).
        self.leftovers = MoveLeftovers(client, conductor, executor, clock, links, self.rooms,
                                       self.second.links, pending=self.pending,
                                       refused_for_good=self.refused_for_good)

    async def move(self, room: MatrixRoom, youth: UserID) -> bool:
        """Explain and open the bot's own room. False if the homeserver refused the new
        room: asked for again later."""
        first = RoomID(room.room_id)
        if await self.links.target(first) is not None:
            return True
        moved, told = f"moved:{first}", f"move_told:{first}"
        if await self._store.get_setting(moved) is not None:
            await self._client.room_leave(first)  # moved by a version that left at once
            return True
        # Told once, also when the new room is refused and asked for again. A room that
        # lets the bot not write refuses it: the invitation below is then all they see.
        if await self._store.get_setting(told) is None:
            key = "unencrypted_room" if not room.encrypted else "moving_room"
            if await self._say_in(first, text(key, self._language), moved):
                await self._store.set_setting(told, "1")
        if owed := await self._store.get_setting(f"{CRISIS_OWED_PREFIX}{first}"):
            key, _, language = owed.partition(_OWED_LANGUAGE)
            await self._numbers_after_crisis(
                first, key, spoken(language) if language else self._language)
        made = await self.rooms.new_room(first, youth)
        self.pending.add(first)
        if made is None:
            log.warning("the homeserver has not yet answered the room to move a youth to; "
                        "looked at again in %d s", MOVE_RETRY.total_seconds())
            return False
        answer, blocked = made
        if not isinstance(answer, RoomCreateResponse):
            await self.rooms.answered(first)
            status = getattr(answer, "status_code", "?")
            log.warning("the homeserver refused a room to move a youth to (%s); asked "
                        "again in %d s", status, MOVE_RETRY.total_seconds())
            if status == FORBIDDEN:
                self.refused_for_good.add(first)
                await self._refused_for_good(first)
            else:
                await self._refusal_over(first)
            return False
        await self._refusal_over(first)
        # Noted only once the new room exists: a stop before must not strand the youth.
        await self.links.moved(first, RoomID(answer.room_id))
        await self.rooms.answered(first)
        self.pending.discard(first)
        if blocked:
            await self._invite_blocked(first, RoomID(answer.room_id))
        return True

    async def _refused_for_good(self, first: RoomID) -> None:
        """Waiting does not bring the new room (403): the youth, told it was sent, would
        write where nobody reads, and nobody would know. The staff learn it (the leads
        called: an admin must act; neither the room nor anything else that names the
        youth), and the youth is told what is true, with the numbers. Once while the refusal
        lasts (`refused_for_good`), however often the room is asked for again, and however
        often the bot starts meanwhile (REFUSED_CALLED_PREFIX, written with the call: a
        night-shift lead was woken for the same stuck room at every restart); the notice's
        key names no room (the outbox keeps it, and no erasure would find it there). The
        youth is told until a notice went through (REFUSED_TOLD_PREFIX, written once sent):
        noted with the call, a notice the homeserver refused was never sent again."""
        called, told = f"{REFUSED_CALLED_PREFIX}{first}", f"{REFUSED_TOLD_PREFIX}{first}"
        if not await self._store.get_setting(called):
            await self._call_leads("staff_move_refused", f"move-refused:{secrets.token_hex(8)}",
                                   noted=called)
        if await self._store.get_setting(told):
            return
        language, emergency = await self._spoken_in(None)
        # Keyed by the time too: its transaction id derives from the key, and Synapse
        # answered the notice of a later refusal (after one that passed: news) within half an
        # hour with the first, sending nothing.
        if await self._say_in(first, text("move_refused", language, emergency=emergency),
                              f"move-refused:{first}:{self._clock.now():%s}"):
            await self._store.set_setting(told, "1")

    async def _refusal_over(self, first: RoomID) -> None:
        """The homeserver answered otherwise than 403: a later refusal for good is news."""
        self.refused_for_good.discard(first)
        await self._store.move_to_sealed(f"{REFUSED_CALLED_PREFIX}{first}", None)
        await self._store.move_to_sealed(f"{REFUSED_TOLD_PREFIX}{first}", None)

    async def held(self, first: RoomID, youth: UserID, event_id: EventID, words: str) -> None:
        """The youth wrote ``words`` in ``first`` while its new room is refused: they are
        read once it exists (`HeldEvents`), which may be never (403). Crisis words
        among them (split over short lines too: `flags_held`) alert the staff now, as any
        crisis does (neither the words nor the room: nothing there names the youth; leads
        called, since no counsellor has them), and the youth gets the numbers where they
        write."""
        if await self._flags(first, words):
            # The youth's reply keyed by the words too: its transaction id derives from the
            # key, and Synapse answered a second crisis in the room (within half an hour)
            # with the first reply, sending nothing, while the leads read "she has the numbers".
            await self._call_leads("staff_crisis_unmoved", f"crisis-unmoved:{event_id}",
                                   noted=None)
            # In the language of the words (no conversation knows the youth's yet).
            language = language_asked(words) or told_language(words) or self._language
            await self._numbers_after_crisis(first, f"crisis-unmoved:{first}:{event_id}",
                                             language)
        elif first in self.refused_for_good and (command := parse_youth(words)) is not None \
                and command.kind in (YouthCommandKind.DELETE, YouthCommandKind.CONFIRM_DELETE):
            if (earlier := await self._with_words(first)) is not None:
                # What they wrote before (declining a room, or in this chat, over, that they
                # invited the bot back into) is a conversation's, which a counsellor may
                # have read and which leaving does not delete: it goes as any closed
                # conversation's does, the answers shown here (`declined_in`).
                await self._conductor.youth_wrote(earlier, youth, None, event_id, words,
                                                  self._clock.now())
            else:
                await self._no_deletion_yet(first, event_id,
                                            english="delete" in words.casefold())

    async def _with_words(self, first: RoomID) -> RoomID | None:
        """``first`` itself, or a room made for a move out of it (one the youth declined),
        whose conversation holds what they wrote before."""
        for new in [first, *await self.links.made_for(first)]:
            if await self._store.conversation_by_room(new) is not None:
                return new
        return None

    async def declined_in(self, room: RoomID) -> RoomID | None:
        """For ``room``, a room its youth declined: the first room, while its next move is
        refused for good. They wait there, and read there what the bot says to the
        conversation ``room`` holds (the answers to their "löschen" among it: `held`)."""
        if await self.links.first_of(room) is not None:
            return None  # a pending move: `RoomMoves.first_of`
        first, _others = await self.links.same_chat(room)
        return first if first is not None and first in self.refused_for_good else None

    async def _no_deletion_yet(self, first: RoomID, event_id: EventID, *,
                               english: bool) -> None:
        """"löschen" held for a move refused for good: answered now (the words wait for a
        room that may never come, and the command waited with them, in silence). Nothing is
        there to delete yet but the chat itself, which goes once the youth leaves it
        (`MoveLeftovers.given_up`); without admin access the bot can only leave it, and says
        so."""
        key = "delete_unmoved" if getattr(self._executor, "admin", None) is not None \
            else "delete_unmoved_kept"
        # In the language of the word: no conversation knows the youth's yet.
        language: Language = "en" if english else self._language
        emergency = self._conductor.policy.emergency[language]
        await self._say_in(first, text(key, language, emergency=emergency),
                           f"delete-unmoved:{event_id}")

    async def gone_unread(self, room: RoomID, event_id: EventID, words: str) -> None:
        """The youth wrote ``words`` in ``room``, a room without encryption, and left it
        before the bot read them: no conversation may open there and nobody is left to
        move, so nobody will read them. Crisis words among them still alert the leads
        (neither the words nor the room), as held words do: written on the way out, they
        reached nobody."""
        if not await self._flags(room, words):
            return
        step = Change(self._clock.now(), None)
        step.add(SayToStaff("staff_crisis_gone", mentions=self._conductor.every_lead()),
                 f"crisis-gone:{event_id}")
        await self._commit(step)

    async def _flags(self, room: RoomID, words: str) -> bool:
        """Whether words no conversation holds raise a flag (with the short lines written in
        ``room`` just before: `flags_held`)."""
        try:
            return bool(words.strip()) and await self._conductor.crisis.flags_held(
                room, words, self._clock.now())
        except Exception as exc:
            # A check that fails counts as a flag (as a report's): the words may be a crisis.
            log.error("words without a conversation could not be checked for a crisis (%s); "
                      "the staff are alerted", type(exc).__name__)
            return True

    async def _numbers_after_crisis(self, first: RoomID, key: str,
                                    language: Language) -> None:
        """The numbers for crisis words held in ``first``, in ``language`` (that of the
        words). One the homeserver refused (a 429, a 502) is owed (CRISIS_OWED_PREFIX, its
        language with it) and sent with the next try for the new room (`move`): sent once,
        the youth went without, and the leads read they had them."""
        owed = f"{CRISIS_OWED_PREFIX}{first}"
        emergency = self._conductor.policy.emergency[language]
        if await self._say_in(first, text("crisis_unmoved", language, emergency=emergency),
                              key):
            await self._store.move_to_sealed(owed, None)  # None: only deleted
        else:
            await self._store.set_setting(owed, f"{key}{_OWED_LANGUAGE}{language}")

    async def _call_leads(self, notice: str, notice_tag: str, *, noted: str | None) -> None:
        """``noted``: a setting written with the call, in one transition."""
        step = Change(self._clock.now(), None)
        step.add(SayToStaff(notice, mentions=self._conductor.every_lead()), notice_tag)
        if noted is not None:
            step.settings.append((noted, "1"))
        await self._commit(step)

    async def invite_blocked(self, first: RoomID, new: RoomID) -> None:
        """For a move begun elsewhere (`room_upgrades.py`): as `_invite_blocked`."""
        await self._invite_blocked(first, new)

    async def _invite_blocked(self, first: RoomID, new: RoomID) -> None:
        """The youth cannot enter ``new`` (their app blocks invitations), so the answers of
        the counsellor there cannot reach them, while the bot's texts (each telling them to
        accept an invitation) do. The staff learn it, with the room (the counsellor's, not
        the youth's first one), never the words; the youth learns why, how to come over, and
        the numbers. Their next message asks the invitation again (`_again`)."""
        await self._store.set_setting(f"{INVITE_BLOCKED_PREFIX}{first}", "1")
        step = Change(self._clock.now(), None)
        step.add(SayToStaff("staff_invite_blocked", (("link", f"https://matrix.to/#/{new}"),)),
                 f"invite-blocked:{secrets.token_hex(8)}")
        await self._commit(step)
        language, emergency = await self._spoken_in(new)
        await self._say_in(first, text("invite_blocked", language, emergency=emergency),
                           f"invite-blocked:{first}:{self._clock.now():%s}")

    async def moved_out(self, room: RoomID) -> bool:
        """Whether ``room`` is the first room of a move still under way, or one whose youth
        declined the new room and is invited again when writing: words written there count
        (in the bot's room), even where ``room`` itself is no place for counselling."""
        return await self.links.target(room) is not None \
            or bool(await self._store.get_setting(f"{MOVE_AGAIN_PREFIX}{room}"))

    async def words_room(self, room: MatrixRoom, youth: UserID) -> RoomID:
        """Where the words ``youth`` just wrote in ``room`` count (any kind of message: text,
        /me, a caption, one still undecryptable): the room they were moved to, if so; a
        youth who declined it is invited again first."""
        first = RoomID(room.room_id)
        await self._again(room, youth)
        moved = await self.links.target(first)
        if moved is not None and await self._store.conversation_by_room(moved) is not None:
            counted = moved
        else:
            # A second chat the bot moves (one it cannot moderate): until the new room has a
            # conversation of its own, words count in the youth's open one, not a new one.
            counted = await self.second.counted_in(first, youth) or moved or first
        await self.second.noted(youth, counted)
        return counted

    async def counted_room(self, room: RoomID) -> RoomID:
        """Where words already written in ``room`` were counted (a deletion or an edit of
        one is taken back there): the room of a pending move out of it, or the open
        conversation's a second chat counts in; else ``room``. Nobody is invited or linked."""
        for target in (await self.links.target(room), await self.second.links.target(room)):
            if target is not None and await self._store.conversation_by_room(target) is not None:
                return target
        return room

    async def taken_along(self, first: RoomID, new: RoomID, event_id: EventID,
                          body: str, *, edits: EventID | None = None) -> None:
        """Words written in ``first`` went to ``new``'s conversation: say so, pass them on
        (``edits``: the message they correct, whose copy they replace)."""
        second = await self.second.links.target(first) == new
        if second:
            await self._show_the_way_back(first, new)
        elif not await self._store.get_setting(f"{INVITE_BLOCKED_PREFIX}{first}"):
            # (While their app refuses the invitation, `_invite_blocked` told them the way.)
            await self._tell_where_to_go_on(first, new)
        await self._pass_on(first, new, event_id, body, edits=edits,
                            key="second_chat_passed_on" if second else "moved_room_passed_on")

    async def _again(self, room: MatrixRoom, youth: UserID) -> None:
        """A youth who declined the new room writes in the first: a new invitation. One
        whose app refused it: asked again into the same room (they may allow it now)."""
        first = RoomID(room.room_id)
        if await self._store.get_setting(f"{MOVE_AGAIN_PREFIX}{first}"):
            await self._store.set_setting(f"{MOVE_AGAIN_PREFIX}{first}", "")
            await self.move(room, youth)
        blocked = f"{INVITE_BLOCKED_PREFIX}{first}"
        if await self._store.get_setting(blocked) and (
                new := await self.links.target(first)) is not None \
                and await self.rooms.invite(new, youth):
            await self._store.move_to_sealed(blocked, None)  # None: only deleted

    # What moves leave behind: `move_leftovers.py`.

    async def in_use(self, room: RoomID) -> bool:
        return await self.leftovers.in_use(room)

    async def erase_rest_of_chat(self, record: ConversationRecord) -> None:
        await self.leftovers.erase_rest_of_chat(record)

    async def undo_abandoned(self, rooms: Iterable[str]) -> None:
        await self.leftovers.undo_abandoned(rooms)

    async def bot_out(self, room: RoomID) -> None:
        await self.leftovers.bot_out(room)

    async def youth_joined(self, room_id: RoomID) -> None:
        """Someone not on staff joined ``room_id``: the new room of a pending move, maybe."""
        if (first := await self.links.first_of(room_id)) is not None:
            await self._ended(first, ARRIVED)

    async def youth_left(self, room_id: RoomID, *, declined: bool) -> None:
        """Someone not on staff left ``room_id`` (``declined``: from an invitation)."""
        if await self.second.links.left(room_id):
            await self._client.room_leave(room_id)  # a second chat: its words count nowhere
        elif await self.links.target(room_id) is not None:
            await self._ended(room_id, ARRIVED)  # the youth left the first room
        elif declined and (first := await self.links.first_of(room_id)) is not None:
            await self._declined(first)
        elif await self.leftovers.never_moved(room_id):
            await self.leftovers.given_up(room_id)

    async def _ended(self, first: RoomID, how: str) -> None:
        await self.links.ended(first, how)
        await self._client.room_leave(first)

    async def _declined(self, first: RoomID) -> None:
        """Told in the room they are in that their next message brings a new invitation
        (and the numbers, in case)."""
        new = await self.links.ended(first, DECLINED)
        await self._store.set_setting(f"{MOVE_AGAIN_PREFIX}{first}", "1")
        language, emergency = await self._spoken_in(new)
        await self._say_in(first, text("moving_declined", language, emergency=emergency),
                           f"move-declined:{first}:{self._clock.now():%s}")

    async def _tell_where_to_go_on(self, first: RoomID, new: RoomID) -> None:
        """Once per new room: their words went along; go on in the new room; the numbers,
        because nobody has read the words yet."""
        reminded = f"move_reminded:{first}:{new}"
        if await self._store.get_setting(reminded) is not None:
            return
        language, emergency = await self._spoken_in(new)
        if await self._say_in(first, text("moved_room_reminder", language,
                                          emergency=emergency), reminded):
            await self._store.set_setting(reminded, "1")

    async def _show_the_way_back(self, second: RoomID, open_room: RoomID) -> None:
        """In a second chat: the youth's words went to the chat they already have; a link
        there, and the numbers, because nobody has read the words yet."""
        if not await self.second.remind_due(second, open_room):
            return
        record = await self._store.conversation_by_room(open_room)
        language = self._language if record is None else spoken(record.language)
        policy = self._conductor.policy
        # The youth's office's own lines (another region's, maybe), as the welcome gives.
        emergency = policy.emergency if record is None else policy.emergency_for(record.office)
        body = text("second_chat_reminder", language, link=f"https://matrix.to/#/{open_room}",
                    emergency=emergency[language])
        if await self._say_in(second, body, f"second-chat:{second}:{self._clock.now():%s}"):
            await self.second.reminded(second, open_room)

    def _joined(self, room_id: RoomID) -> set[str] | None:
        room = self._client.rooms.get(room_id)
        return None if room is None else set(room.users) - set(room.invited_users)

    async def _pass_on(self, first: RoomID, new: RoomID, event_id: EventID, body: str, *,
                       key: str, edits: EventID | None) -> None:
        """Once a counsellor is in the new room (before, the transcript at her join carries
        the words); the copy is remembered, to go if the youth takes the words back."""
        record = await self._store.conversation_by_room(new)
        current = None if record is None else self._conductor.router.conversation(
            record.conversation)
        counsellor = None if current is None else current.assigned_to
        room = self._client.rooms.get(new)
        if counsellor is None or room is None or counsellor not in room.users \
                or counsellor in room.invited_users:
            return
        name = self._conductor.counsellor_name(counsellor)
        language = self._language if record is None else spoken(record.language)
        try:
            copy = await self._executor.send(new, text(key, language, counsellor=name,
                                                       line=body), key=f"passed-on:{event_id}")
        except EffectFailed as failure:
            log.warning("could not say something about a youth's move (%s)", failure)
            return
        for message in {event_id, edits or event_id}:
            await passed_on.remember(self._store, first, message, new, copy)

    async def taken_back(self, first: RoomID, message: EventID) -> None:
        """The youth deleted or edited ``message`` in ``first``: its copy passed on goes
        too (`passed_on.take_back`)."""
        await passed_on.take_back(self._client, self._store, first, message)

    async def _spoken_in(self, new: RoomID | None) -> tuple[Language, str]:
        """The language of the conversation in ``new`` and its office's numbers (another
        region's lines, maybe) in it, as the welcome gives them; the installation's before
        it has one. An English-writing youth was told in German, with the German lines."""
        policy = self._conductor.policy
        record = None if new is None else await self._store.conversation_by_room(new)
        if record is None:
            return self._language, policy.emergency[self._language]
        language = spoken(record.language)
        return language, policy.emergency_for(record.office)[language]

    async def _commit(self, step: Change) -> None:
        """Commit a staff notice as one step: a mail delivered meanwhile may be between its
        router change and its commit (step_lock.py)."""
        async with self._conductor.steps.held():
            await self._conductor.commit(step)

    async def _say_in(self, room_id: RoomID, body: str, key: str) -> bool:
        try:
            await self._executor.send(room_id, body, key=key)
        except EffectFailed as failure:
            log.warning("could not say something about a youth's move (%s)", failure)
            return False
        return True

