"""A youth upgrades the room of their open conversation (Element's ``/upgraderoom``).

A room the youth made as Element makes a direct chat is theirs to upgrade (the bot's own
rooms forbid it). Synapse then raises the old room's posting level above the counsellor's,
so each of her messages is refused, and the new room it makes holds only the youth: the bot
is not invited, nor is she. The conversation went silent, and nobody was told.

When the bot reads the ``m.room.tombstone`` in an open conversation's room, it moves the
youth into a room of its own, as it moves a youth out of any room it cannot counsel in
(`youth_moves.py`, `move_rooms.py`: the room asked for once, with a mark, and found again
after a stop), and the conversation goes on there: its record (crisis flag, counsellor,
intake) is moved to the new room with the link to the old one in one transaction
(`Store.move_conversation`), so that

- what the youth still writes in the old room counts in the new one until they are there
  (the move is pending: `room_moves.py`), and the bot's words to them go to both rooms;
- the counsellor is invited into the new room, and told in the staff room why;
- erasing the conversation purges the old room too (`PurgingFirstRooms`).

A room the homeserver does not give at once (it answers once it has sent the youth's
invitation, maybe over federation) is taken after a later sync, the sync loop reading on
meanwhile; one refused is asked for again. The staff learn it if it has not come within
``UNANSWERED_FOR`` (or at a refusal), and the move is made once it comes (`RoomUpgrades.due`).

The youth's own replacement room stays theirs. Element's upgrade dialog invites the old
room's members into it, the bot among them: it counts as a second chat of the moved
conversation (`second_chats.py`), so what the youth writes there reaches the counsellor and
no second conversation opens; erasing the conversation purges it with the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from nio import AsyncClient, ErrorResponse, RoomCreateResponse, RoomUpgradeEvent

from counsel_bot.channels.matrix.move_rooms import CREATE_WAIT
from counsel_bot.channels.matrix.room_moves import MOVED_FROM_PREFIX
from counsel_bot.channels.matrix.youth_moves import MOVE_RETRY, YouthMoves
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import Clock
from counsel_bot.core.effects import SayToStaff, SayToYouth, Supervise
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import spoken
from counsel_bot.core.routing.model import Channel, ConversationState
from counsel_bot.store import ConversationRecord

log = logging.getLogger(__name__)

# How long the room for the move may take before the staff are told it did not come: the
# homeserver is local and answers within a second, unless it invites a youth of another
# homeserver (over federation, minutes maybe). Not waited for by the sync loop: it read
# nobody meanwhile, a counsellor's command or another youth's crisis words neither.
_TRIES = 6
UNANSWERED_FOR = _TRIES * CREATE_WAIT
# An upgraded room whose new room the homeserver did not give at the tombstone (not yet
# answered, or refused): asked for again after each sync until it comes (`RoomUpgrades.due`),
# and the youth moved then. Before, a request answered late made the room and invited the
# youth into it all the same, with no conversation in it, and the counsellor never.
UPGRADE_DUE_PREFIX = "upgrade_due:"


@dataclass(frozen=True)
class _Due:
    """A move asked for again: the tombstone's id, the youth's replacement room ("" if
    none), when it was asked first, and whether the staff were told it did not come."""

    tombstone: EventID
    replacement: str
    since: datetime
    told: bool

    def value(self) -> str:
        return (f"{self.tombstone} {self.replacement or '-'} {self.since.isoformat()} "
                f"{int(self.told)}")

    @classmethod
    def parse(cls, value: str) -> _Due | None:
        parts = value.split(" ")
        if len(parts) != 4:
            return None
        tombstone, replacement, since, told = parts
        return cls(EventID(tombstone), "" if replacement == "-" else replacement,
                   datetime.fromisoformat(since), told == "1")


class RoomUpgrades:
    def __init__(self, client: AsyncClient, conductor: Conductor, clock: Clock,
                 moving: YouthMoves) -> None:
        self._client = client
        self._conductor = conductor
        self._store = conductor.store
        self._clock = clock
        self._moving = moving
        self._due: dict[RoomID, _Due] | None = None  # `UPGRADE_DUE_PREFIX`
        self._again: dict[RoomID, datetime] = {}  # not asked again before (a refusal)

    async def tombstoned(self, room_id: RoomID, event: RoomUpgradeEvent) -> None:
        """``room_id`` was upgraded: its open conversation goes on in a room of the bot's."""
        event_id = EventID(event.event_id)
        if await self._store.is_processed(event_id):
            return
        record = await self._store.conversation_by_room(room_id)
        if record is None:
            # Moved before a stop that took the notices (marking the tombstone processed)
            # with it: read again at the start, it must still tell them.
            # Or moved before for another reason (a room the bot cannot moderate): the youth
            # upgraded the room they are moved out of. Either way their replacement room, if
            # they invite the bot along, is a second chat of the moved conversation, as in
            # `_move` (not linked, it opened a conversation, or a move, of its own).
            moved = await self._moved_to(room_id)
            if moved is not None:
                if event.replacement_room:
                    await self._moving.second.links.link(RoomID(event.replacement_room),
                                                         moved[1])
                await self._told(moved[0], room_id, moved[1], event_id)
            elif event.replacement_room and (
                    open_room := await self._moving.second.links.target(room_id)) is not None:
                # A second chat upgraded (the youth's replacement room, upgraded in turn):
                # its own replacement counts where it did. Nobody is told anew: the
                # conversation did not move.
                await self._moving.second.links.link(RoomID(event.replacement_room), open_room)
            return
        if record.channel is not Channel.CHAT:
            return
        if record.state is ConversationState.CLOSED:
            # The bot stays in a closed chat's room for its appointments: their reminders
            # and video link said there reach nobody now, as after the youth left it, and
            # the counsellor learns it so (`Appointments.youth_left`).
            await self._conductor.member_left(room_id, record.youth_user_id, event_id,
                                              self._clock.now())
            return
        # Waited for once (CREATE_WAIT); not answered by then, it is taken after a later
        # sync (`due`), the sync loop reading on meanwhile.
        made = await self._moving.rooms.new_room(room_id, record.youth_user_id)
        answer, blocked = (None, False) if made is None else made
        if not isinstance(answer, RoomCreateResponse):
            now = self._clock.now()
            entry = _Due(event_id, event.replacement_room or "", now, told=False)
            step = Change(now, event_id)
            if answer is not None:
                await self._moving.rooms.answered(room_id)  # its mark: no room came of it
                self._again[room_id] = now + MOVE_RETRY
                self._unmoved(step, record, answer)
                entry = replace(entry, told=True)
            self._note_due(step, room_id, await self._due_loaded(), entry)
            await self._commit(step)
            return
        await self._move(record, room_id, answer, blocked, event.replacement_room or "",
                         event_id)

    async def due(self) -> None:
        """After each sync: the upgrades whose room the homeserver did not give at their
        tombstone (`UPGRADE_DUE_PREFIX`), asked for again (a refusal after ``MOVE_RETRY``;
        a request still unanswered is not waited for here), and the youth moved once it
        comes. The staff (leads too) and the youth are told it did not come at a refusal
        or after ``UNANSWERED_FOR``, once; each notice under an id of its own (the
        tombstone's was taken when the move was asked for again)."""
        due = await self._due_loaded()
        for old, entry in list(due.items()):
            later = EventID(f"{entry.tombstone}:moved")
            record = await self._store.conversation_by_room(old)
            if record is None:
                # Moved before a stop that took the notices with it.
                moved = await self._moved_to(old)
                if moved is not None:
                    await self._told(moved[0], old, moved[1], later)
                else:
                    await self._given_up(old)  # erased meanwhile
                await self._drop_due(old)
                continue
            if record.channel is not Channel.CHAT or record.state is ConversationState.CLOSED:
                await self._given_up(old)  # over meanwhile: nobody to move
                await self._drop_due(old)
                continue
            now = self._clock.now()
            made = None
            if not self._moving.rooms.waiting(old) and now >= self._again.get(old, now):
                made = await self._moving.rooms.new_room(old, record.youth_user_id)
            answer, blocked = (None, False) if made is None else made
            if isinstance(answer, RoomCreateResponse):
                log.info("the room to move a youth whose chat was upgraded came late; "
                         "moved now")
                await self._move(record, old, answer, blocked, entry.replacement, later)
                continue
            if answer is not None:
                await self._moving.rooms.answered(old)  # its mark: no room came of it
                self._again[old] = now + MOVE_RETRY
            elif entry.told or now - entry.since < UNANSWERED_FOR:
                continue
            if not entry.told:
                step = Change(now, EventID(f"{entry.tombstone}:unmoved"))
                self._unmoved(step, record, answer)
                self._note_due(step, old, due, replace(entry, told=True))
                await self._commit(step)

    def _unmoved(self, step: Change, record: ConversationRecord, answer: object) -> None:
        """The youth has only their new room, which nobody of the team is in: the staff
        learn it (an admin must look; the move is asked for again meanwhile), and the youth
        is told in the old one, which their app still links."""
        log.warning("the homeserver gave no room to move a youth whose chat was upgraded "
                    "(%s)", getattr(answer, "status_code", "no answer"))
        step.add(SayToStaff("staff_room_upgraded_unmoved",
                            (("conversation", record.conversation),),
                            mentions=self._mentions(record, leads=True),
                            office=record.office))
        step.add(SayToYouth(record.conversation, "room_upgraded_unmoved",
                            (("emergency", self._emergency(record.office, record.language)),)))

    @staticmethod
    def _note_due(step: Change, old: RoomID, due: dict[RoomID, _Due], entry: _Due) -> None:
        """``entry`` written with ``step``, and kept once it is durable."""
        step.settings.append((f"{UPGRADE_DUE_PREFIX}{old}", entry.value()))

        def kept() -> None:
            due[old] = entry
        step.committed.append(kept)

    async def _due_loaded(self) -> dict[RoomID, _Due]:
        if self._due is None:
            self._due = {}
            for key, value in await self._store.settings(UPGRADE_DUE_PREFIX):
                entry = _Due.parse(value)
                if entry is not None:
                    self._due[RoomID(key.removeprefix(UPGRADE_DUE_PREFIX))] = entry
        return self._due

    async def _given_up(self, old: RoomID) -> None:
        """The room still asked for, made after all, would hold no conversation, and the
        youth invited into it would open one nobody knows of: undone once made."""
        await self._moving.rooms.abandon(old, self._moving.leftovers.undo)

    async def _drop_due(self, old: RoomID) -> None:
        await self._store.move_to_sealed(f"{UPGRADE_DUE_PREFIX}{old}", None)  # None: deleted
        (await self._due_loaded()).pop(old, None)
        self._again.pop(old, None)

    async def _move(self, record: ConversationRecord, room_id: RoomID,
                    answer: RoomCreateResponse, blocked: bool, replacement: str,
                    event_id: EventID) -> None:
        """The conversation in ``room_id`` goes on in ``answer``'s room, and all are told."""
        new = RoomID(answer.room_id)
        # One transaction: the conversation, the link to the old room (its words count in
        # the new one until the youth is there; its purge goes with the conversation's), and
        # no greeting in a room whose conversation is under way.
        await self._store.move_conversation(record.conversation, new, (
            (f"{MOVED_FROM_PREFIX}{new}", room_id), (f"greeted:{new}", "1")))
        await self._moving.links.moved(room_id, new)
        await self._moving.rooms.answered(room_id)
        if replacement:
            # The youth's own new room: Element's upgrade invites the old room's members into
            # it, the bot too. What they write there counts in the conversation, as in any
            # second chat (the way to the bot's room shown), instead of opening another one.
            await self._moving.second.links.link(RoomID(replacement), new)
        await self._moving.second.noted(record.youth_user_id, new)
        if blocked:
            # Their app refuses invitations: told how to come over, in the old room, where
            # what they write meanwhile still counts (`YouthMoves._again` asks again).
            await self._moving.invite_blocked(room_id, new)
        await self._told(record, room_id, new, event_id)

    async def _moved_to(self, old: RoomID) -> tuple[ConversationRecord, RoomID] | None:
        """The open conversation moved out of ``old``, and its room: the move pending, or
        over already (the youth joined the bot's room while it was stopped, and the first
        sync after the start brought their join before the tombstone, in no set order)."""
        pending = await self._moving.links.target(old)
        for new in [pending] if pending is not None else \
                reversed(await self._moving.links.made_for(old)):
            record = await self._store.conversation_by_room(new)
            if record is not None and record.state is not ConversationState.CLOSED:
                return record, new
        return None

    async def _told(self, record: ConversationRecord, old: RoomID, new: RoomID,
                    event_id: EventID) -> None:
        """The counsellor invited into ``new`` (unless she is there), she learns why in the
        staff room, and the youth in both rooms; committed with the tombstone processed."""
        current = self._conductor.router.conversation(record.conversation)
        counsellor = None if current is None else current.assigned_to
        room = self._client.rooms.get(new)
        if counsellor is not None and (room is None or counsellor not in room.users):
            invited = await self._client.room_invite(new, counsellor)
            if isinstance(invited, ErrorResponse):
                log.warning("the counsellor could not be invited into the room a youth was "
                            "moved to after an upgrade (%s)", invited.status_code)
        step = Change(self._clock.now(), event_id)
        step.add(SayToStaff("staff_room_upgraded", (
            ("conversation", record.conversation), ("link", f"https://matrix.to/#/{new}")),
            mentions=self._mentions(record), office=record.office))
        # Into the new room and, while the youth is not there yet, the old one (`_to_youth`).
        step.add(SayToYouth(record.conversation, "room_upgraded", (
            ("emergency", self._emergency(record.office, record.language)),)))
        # A lead reading along comes along, read-only as before (her transcript at her join).
        for lead in sorted(self._conductor.supervision.leads.get(record.conversation, ())):
            step.add(Supervise(record.conversation, lead))
        # A move asked for again (`due`) is over with it.
        step.settings.append((f"{UPGRADE_DUE_PREFIX}{old}", None))
        due = await self._due_loaded()

        def over() -> None:
            due.pop(old, None)
        step.committed.append(over)
        await self._commit(step)
        self._again.pop(old, None)

    def _mentions(self, record: ConversationRecord, *,
                  leads: bool = False) -> tuple[UserID, ...]:
        """Its counsellor, and with ``leads`` (an admin must act) the leads as well. While
        nobody has it, it waits in the queue, which gives it out in the new room."""
        current = self._conductor.router.conversation(record.conversation)
        mine = () if current is None or current.assigned_to is None \
            else (current.assigned_to,)
        return (*mine, *(u for u in self._conductor.every_lead() if u not in mine)) \
            if leads else mine

    def _emergency(self, office: str, language: str) -> str:
        """The office's own lines (another region's, maybe), as the welcome gives them."""
        return self._conductor.policy.emergency_for(office)[spoken(language)]

    async def _commit(self, step: Change) -> None:
        async with self._conductor.steps.held():
            await self._conductor.commit(step)
