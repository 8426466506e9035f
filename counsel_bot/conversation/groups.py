"""Group sessions in the bot's conversations: what announcing, signing up, moderating and the
clock change, made durable through the conductor's transitions.

The decisions are `core/groups.py`'s; the desk holds the current `GroupBook`, keeps it as a
sealed setting (it names youths and their rooms; the store seals it and re-encrypts it on
vault rotation) written in the same transition as the effects (`group_desk_state.py`), and
turns decisions into effects the executor performs (`core/group_effects.py`): moderation in
`group_moderation.py`, the clock's steps in `group_clock.py`, the rest here. Crisis flags in
a group room go through the conductor's `CrisisFlags`, keyed by group and nickname, so the
same detector (and whatever replaces it) judges group messages too (`group_crisis.py`: who
is alerted, what the youth is offered). Message text of a group is never stored: it is
looked at for the crisis check and dropped.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.group_clock import GroupClock
from counsel_bot.conversation.group_crisis import crisis_key, offer_key
from counsel_bot.conversation.group_keys import BOOK_KEY, hosted_key, kick_tag
from counsel_bot.conversation.staff_only import staff_only
from counsel_bot.core import group_commands as gc
from counsel_bot.core import groups as g
from counsel_bot.core.commands import HelpEntry
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_book_codec import encode_book
from counsel_bot.core.group_effects import (
    GroupRoomNotice,
    InviteToGroup,
    KickFromGroup,
    RedactInGroup,
    RoomNotice,
)
from counsel_bot.core.group_names import poses_as
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.incoming_text import storable
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.core.reactions import one_emoji


@dataclass(frozen=True)
class GroupSettings:
    enabled: bool = True
    # Minutes after a group ended until its room is deleted and purged (admin API). Short
    # on purpose: what youths wrote to each other is for that evening only.
    purge_after_minutes: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.purge_after_minutes, bool) or not \
                0 <= self.purge_after_minutes <= 60 * 24 * 30:
            raise ValueError("purge_after_minutes must be between 0 and 43200 (30 days)")


class GroupDesk(GroupClock):
    """The groups in the bot's conversations: the conductor's hooks (commands in a
    youth's or the staff room, a group room's messages and members), erasure, and the
    announcements, lists and sign-ups they make."""

    # -- the conductor's hooks -------------------------------------------------------------

    def youth_words(self, language: Language) -> tuple[str, ...]:
        return gc.GROUP_WORDS[language]

    def staff_help(self) -> tuple[HelpEntry, ...]:
        return gc.GROUP_HELP

    async def youth_wrote(self, room_id: RoomID, youth: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool:
        """``gruppe`` / ``gruppe N`` in a youth's own room; False if it is not for us."""
        parsed = gc.parse_youth_group(body)
        if not isinstance(parsed, gc.YouthListGroups | gc.YouthSignUp):
            return False
        if await self.conductor.store.is_processed(event_id):
            return True
        step = Change(at, event_id)
        if isinstance(parsed, gc.YouthListGroups):
            await self._list_for_youth(step, room_id, youth, at)
        else:
            self._sign_up(step, room_id, youth, parsed.number, at)
        await self._commit(step)
        return True

    async def staff_wrote(self, room_id: RoomID, sender: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool:
        parsed = gc.parse_staff_group(storable(body), self.zone)
        if parsed is None or isinstance(parsed, gc.ForumPendingCommand | gc.ForumDecisionCommand):
            return False
        if await self.conductor.store.is_processed(event_id):
            return True
        step = Change(at, event_id)
        if isinstance(parsed, gc.GroupCommandError):
            step.add(SayInRoom(room_id, sender, parsed.key, (("hint", parsed.hint),)))
        elif isinstance(parsed, gc.NewGroupCommand):
            self._announce(step, room_id, sender, parsed)
        elif isinstance(parsed, gc.ListGroupsCommand):
            self._list_for_staff(step, room_id, sender)
        elif isinstance(parsed, gc.EndGroupCommand) and parsed.number is not None:
            try:
                self._moderate(step, sender, self.book.get(parsed.number), parsed)
            except g.GroupRefused as refused:
                step.add(SayInRoom(room_id, sender, refused.key, refused.params))
        elif isinstance(parsed, gc.JoinGroupCommand):
            try:
                self.book, group = g.join(self.book, parsed.number,
                                          self._moderator(sender, self.book.get(parsed.number)))
            except g.GroupRefused as refused:
                step.add(SayInRoom(room_id, sender, refused.key, refused.params))
            else:
                # Keyed by this message: each ask invites (the executor does nothing for
                # someone in the room or invited already).
                step.add(InviteToGroup(group.number, sender, ""))
                step.add(SayInRoom(room_id, sender, "group.joining",
                                   (("number", group.number),)))
        await self._commit(await staff_only(self.conductor, step, room_id))
        return True

    async def room_message(self, room_id: RoomID, sender: UserID, event_id: EventID,
                           body: str, at: datetime, *, reaction: bool = False) -> None:
        """A message in a group's room: a moderator's command, or a youth's words (looked
        at for a crisis, never kept). A youth's reaction or sticker is words too; a
        reaction of more than one emoji is deleted (its key is unencrypted) and its writer
        told why in their own chat."""
        # The sync loop calls the doors of a group's room outside any conductor step: each
        # is one (step_lock.py), or its commit writes a book read before another task's step
        # (retention, a deletion) forgot a youth in it, and names them again.
        async with self.conductor.steps.held():
            await self._room_message(room_id, sender, event_id, body, at, reaction=reaction)

    async def _room_message(self, room_id: RoomID, sender: UserID, event_id: EventID,
                            body: str, at: datetime, *, reaction: bool) -> None:
        number = self.rooms.get(room_id)
        if number is None or await self.conductor.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        group = self.book.get(number)
        if sender in self.conductor.policy.staff:
            command = None if reaction else gc.parse_group_room(body)
            if command is None:
                return
            self._moderate(step, sender, group, command)
        else:
            seat = group.writer(sender)
            if seat is None:
                return
            await self.crisis.check(step, group, seat, body)
            if reaction and not one_emoji(body):
                step.add(RedactInGroup(number, event_id))
                step.add(RoomNotice(seat.home_room, "group.reaction_removed",
                                    (("number", number),)))
        await self._commit(step)

    async def member_named(self, room_id: RoomID, member: UserID, display_name: str,
                           event_id: EventID, at: datetime) -> None:
        """A member joined a group's room or took a display name ("" for none): a youth's
        own name, read by the whole group, is looked at for a crisis like a message; one
        that claims to be another youth or the team is answered in the room with who it
        really is; someone who may moderate coming in means the group is hosted
        (`core.groups.unhosted`)."""
        async with self.conductor.steps.held():
            await self._member_named(room_id, member, display_name, event_id, at)

    async def _member_named(self, room_id: RoomID, member: UserID, display_name: str,
                            event_id: EventID, at: datetime) -> None:
        number = self.rooms.get(room_id)
        if number is None:
            return
        self.shown.setdefault(number, {})[member] = display_name
        if await self.conductor.store.is_processed(event_id):
            return
        group = self.book.get(number)
        step = Change(at, event_id)
        if number not in self.hosted and self._may_moderate(group, member):
            step.settings.append((hosted_key(number), "1"))
        seat = group.seat_of(member)
        if seat is not None and display_name and display_name != seat.nickname:
            # A name the youth chose, read by the whole group: words like a message.
            await self.crisis.check(step, group, seat, display_name)
        whom = poses_as(group, member, display_name)
        if seat is not None and whom is not None:
            step.add(GroupRoomNotice(number, "group.poses_as_team" if whom == ""
                                     else "group.poses_as_youth",
                                     (("nickname", seat.nickname), ("other", whom))))
        if step.settings or step.effects:
            await self._commit(step)
            if step.settings:
                self.hosted.add(number)

    async def member_left(self, room_id: RoomID, member: UserID, event_id: EventID,
                          at: datetime) -> None:
        """The host left an open group's room: the youths are alone there and only the bot
        can invite. The host is invited back and the leads of the group's office called."""
        async with self.conductor.steps.held():
            await self._member_left(room_id, member, event_id, at)

    async def _member_left(self, room_id: RoomID, member: UserID, event_id: EventID,
                           at: datetime) -> None:
        number = self.rooms.get(room_id)
        if number is None or await self.conductor.store.is_processed(event_id):
            return
        group = self.book.get(number)
        if member != group.host or group.state is not g.GroupState.OPEN \
                or not self._on_staff(member):
            return
        offices, leads = self.crisis.leads(group)
        step = Change(at, event_id)
        # Asked to step in, they may (as what they are now: `Group.called_leads`).
        self.book = g.called(self.book, number, leads, self._leads(leads))
        step.add(InviteToGroup(number, member, ""))
        step.add(SayToStaff("group.host_left", (("number", number), ("host", member),
                                                ("leads", " ".join(leads) or "Team")),
                            mentions=(member, *leads),
                            office=self.crisis.staff_office(offices, (member, *leads))))
        await self._commit(step)

    async def youth_retracted(self, room_id: RoomID, youth: UserID, event_id: EventID,
                              original: EventID, words: str | None, at: datetime) -> bool:
        return False  # a sign-up is taken back with its own command

    async def unreadable(self, room_id: RoomID, writer: UserID, at: datetime) -> None:
        """A youth's message in a group's room the bot could not decrypt within its grace:
        nobody checked it for a crisis, so its writer is asked, in their own chat, to
        write it again there or to the team (once per room and writer per expiry)."""
        async with self.conductor.steps.held():
            await self._unreadable(room_id, writer, at)

    async def _unreadable(self, room_id: RoomID, writer: UserID, at: datetime) -> None:
        number = self.rooms.get(room_id)
        seat = None if number is None else self.book.get(number).writer(writer)
        if number is None or seat is None:
            return
        step = Change(at, None)
        step.add(RoomNotice(seat.home_room, "group.unreadable", (("number", str(number)),),
                            youth=seat.youth),
                 # Names no one: outbox keys are stored in the clear.
                 f"group_unreadable:{number}:{secrets.token_hex(8)}")
        await self._commit(step)

    async def forget_youth(self, step: Change, youth: UserID, room: RoomID, *,
                           account: bool) -> None:
        """Erasure: the book stops naming ``room`` (retention: `core.groups.forget_room`)
        or, with ``account``, the youth at all (`core.groups.forget_youth`), and the crisis
        windows of the seats forgotten go too; written with ``step``."""
        book, forgotten = (g.forget_youth(self.book, youth, room) if account
                           else g.forget_room(self.book, room))
        if book == self.book:
            return
        for number, seat in forgotten:
            self.conductor.crisis.forget(step, crisis_key(number, seat.nickname))
            step.settings.append((offer_key(seat.home_room), None))  # its flag, if offered
            self.shown.get(number, {}).pop(seat.youth, None)
            if book.get(number).state is g.GroupState.OPEN:
                # Out of the room too: a member without a seat is one the bot no longer
                # watches for a crisis (with admin access the deactivation does it anyway).
                step.add(KickFromGroup(number, seat.youth), kick_tag(number, seat.nickname))
        self.book = book
        step.sealed.append((BOOK_KEY, encode_book(self.book)))

    # -- decisions into effects ------------------------------------------------------------

    def _announce(self, step: Change, room_id: RoomID, sender: UserID,
                  new: gc.NewGroupCommand) -> None:
        try:
            self.book, group = g.announce(
                self.book, g.NewGroup(new.topic, new.start, gc.duration(new), new.max_seats),
                sender, step.at, self._offices_for_new(sender, room_id))
        except g.GroupRefused as refused:
            step.add(SayInRoom(room_id, sender, refused.key, refused.params))
            return
        step.add(SayInRoom(room_id, sender, "group.announced", (
            ("number", group.number), ("topic", group.topic), *self._start(group),
            ("minutes", new.minutes), ("max", group.max_seats), ("host", sender))))

    def _offices_for_new(self, host: UserID, room_id: RoomID) -> frozenset[str]:
        """The offices a group belongs to (`core.groups.Group.offices`): its host's, or the
        one whose staff room it was announced in, if the host works there (as for staff
        commands); none without offices."""
        mine = self.conductor.policy.router.offices.offices_of(host)
        here = self.conductor.office_of_room(room_id)
        return frozenset({here}) if here is not None and here in mine else mine

    def _list_for_staff(self, step: Change, room_id: RoomID, sender: UserID) -> None:
        # With offices, the sender's offices' groups only (and those from before groups had
        # offices), as staff see their own office's conversations only.
        rules = self.conductor.policy.router.offices
        mine = rules.offices_of(sender)
        groups = [x for x in self.book.groups if x.state is not g.GroupState.PURGED
                  and (not rules.enabled or not x.offices or x.offices & mine)]
        if not groups:
            step.add(SayInRoom(room_id, sender, "group.none"))
            return
        lines = "\n".join(
            f"{x.number}: „{x.topic}“ {self._when(x)} · {x.state.value} · "
            f"{len(x.seats)}/{x.max_seats} · {x.host}" for x in groups)
        step.add(SayInRoom(room_id, sender, "group.list_staff", (("lines", lines),)))

    async def _list_for_youth(self, step: Change, room_id: RoomID, youth: UserID,
                              at: datetime) -> None:
        groups = [x for x in g.upcoming(self.book, at) if youth not in x.removed]
        if not groups:
            step.add(RoomNotice(room_id, "group.none_youth"))
            return
        # The free seats in the language the notice is sent in (that of the youth's chat,
        # `GroupRooms._language_of`): the lines are written here, the rest there.
        record = await self.conductor.store.conversation_by_room(room_id)
        language = self.conductor.policy.default_language if record is None \
            else spoken(record.language)
        lines = "\n".join(
            f"{x.number}: „{x.topic}“ – {self._when(x, language)} ("
            + ("✓" if x.seat_of(youth) else
               text("group.seats_free", language, count=x.max_seats - len(x.seats))) + ")"
            for x in groups)
        step.add(RoomNotice(room_id, "group.list_youth", (("lines", lines),)))

    def _sign_up(self, step: Change, room_id: RoomID, youth: UserID, number: int,
                 at: datetime) -> None:
        try:
            self.book, seat, new = g.sign_up(self.book, number, youth, room_id, at)
        except g.GroupRefused as refused:
            step.add(RoomNotice(room_id, refused.key, refused.params))
            return
        group = self.book.get(number)
        if not new and group.state is g.GroupState.OPEN:
            # They declined the invitation or left the room and want back in: only the bot
            # can invite. Keyed by this message, so each ask invites (the executor does
            # nothing for a youth who is in the room or invited already).
            step.add(InviteToGroup(number, youth, seat.nickname))
            step.add(RoomNotice(room_id, "group.invited_again",
                                (("number", number), ("nickname", seat.nickname))))
            return
        if not new:
            step.add(RoomNotice(room_id, "group.already_signed",
                                (("number", number), ("nickname", seat.nickname))))
            return
        step.add(RoomNotice(room_id, "group.signed_up", (
            ("number", number), ("topic", group.topic), *self._start(group),
            ("nickname", seat.nickname))))
        if group.state is g.GroupState.OPEN:  # late: the room is there already
            step.add(InviteToGroup(number, youth, seat.nickname),
                     f"group_invite:{number}:{seat.nickname}")
            step.add(RoomNotice(room_id, "group.invited",
                                (("number", number), ("nickname", seat.nickname))))

