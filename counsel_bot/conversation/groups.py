"""Group sessions in the bot's conversations: what announcing, signing up, moderating and the
clock change, made durable through the conductor's transitions.

The decisions are `core/groups.py`'s; this part holds the current `GroupBook`, keeps it as a sealed
setting (it names youths and their rooms; the store seals it and re-encrypts it on vault
rotation) written in the same transition as the effects, and
turns decisions into effects the executor performs (`core/group_effects.py`). Crisis flags in
a group room go through the conductor's `CrisisFlags`, keyed by group and nickname, so the
same detector (and whatever replaces it) judges group messages too (`group_crisis.py`: who
is alerted, what the youth is offered). Message text of a group is never stored: it is
looked at for the crisis check and dropped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.group_crisis import GroupCrisis, offer_key
from counsel_bot.conversation.group_crisis import crisis_key as crisis_key  # its old home
from counsel_bot.conversation.offices import room_for, staff_office
from counsel_bot.core import group_commands as gc
from counsel_bot.core import groups as g
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_effects import (
    CloseGroupRoom,
    GroupRoomNotice,
    InviteToGroup,
    KickFromGroup,
    MuteInGroup,
    OpenGroupRoom,
    PurgeGroupRoom,
    RoomNotice,
)
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.incoming_text import storable
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.core.routing.model import (
    Role,
)

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

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


BOOK_KEY = "groups:book"
# How versions before the sealed settings kept the book: a vault blob (base64) in the plain
# settings, which rotation did not reach. Read only by the upgrade (runtime/legacy_settings).
LEGACY_BOOK_CONTEXT = b"groups:book"


def room_key(number: int) -> str:
    """Settings key of a group's room (room ids are kept in the clear, like conversations')."""
    return f"group_room:{number}"


async def staff_only(conductor: Conductor, step: Change, room_id: RoomID) -> Change:
    """Replies to staff commands given in a youth's conversation room go to the staff room:
    the youth must not read about other youths' groups or forum posts. With offices, the
    conversation's office's, as other commands' replies there (the main one is read by
    every office), or the sender's own when they are not in it (`room_for`)."""
    record = await conductor.store.conversation_by_room(room_id)
    if record is not None:
        office = staff_office(record.conversation, conductor.router,
                              conductor.policy.router.offices, conductor.policy.offices) \
            if conductor.policy.offices.enabled else ""
        book = conductor.policy.offices
        step.effects = [(SayToStaff(e.key, e.params, mentions=(e.to,),
                                    office=room_for(book, office, e.to))
                         if isinstance(e, SayInRoom) else e, tag) for e, tag in step.effects]
    return step


def kick_tag(number: int, nickname: str) -> str:
    """The key of the kick that takes an erased youth out of an open group's room."""
    return f"group_forget:{number}:{nickname}"


def hosted_key(number: int) -> str:
    """Settings key set once someone who may moderate joined the group's room (names no
    one)."""
    return f"group_hosted:{number}"


class GroupDesk:
    def __init__(self, conductor: Conductor, zone: tzinfo, purge_after: timedelta,
                 room_names: Callable[[RoomID], Mapping[UserID, str]] | None = None) -> None:
        self.conductor = conductor
        # The names a room's state shows its members under (the adapter's copy of it): the
        # joins the desk saw are memory only, and a restart mid-evening forgot every one.
        self.room_names = room_names
        self.zone = zone
        self.purge_after = purge_after
        self.book = g.GroupBook()
        self.rooms: dict[RoomID, int] = {}
        self.crisis = GroupCrisis(conductor)
        # Per group, the name each member's app shows in its room (their account's display
        # name, not the nickname): the host moderates by what they see. Memory only.
        self.shown: dict[int, dict[UserID, str]] = {}
        # Groups whose room someone who may moderate has joined (`hosted_key`), and those
        # whose leads were called because nobody had (`core.groups.unhosted`).
        self.hosted: set[int] = set()
        self.called: set[int] = set()
        # Open groups whose host left the team, removed from the room (outbox keys make a
        # repeat after a restart a no-op).
        self.host_gone: set[int] = set()

    async def load(self) -> None:
        store = self.conductor.store
        stored = await store.get_sealed_setting(BOOK_KEY)
        self.book = g.decode_book(stored) if stored is not None else g.GroupBook()
        self.rooms = {}
        self.hosted = set()
        for group in self.book.groups:
            room = await store.get_setting(room_key(group.number))
            if room:
                self.rooms[RoomID(room)] = group.number
            if await store.get_setting(hosted_key(group.number)):
                self.hosted.add(group.number)

    def room_opened(self, number: int, room_id: RoomID) -> None:
        """The executor created the room (and stored it under `room_key`)."""
        self.rooms[room_id] = number

    def room_purged(self, number: int) -> None:
        self.rooms = {r: n for r, n in self.rooms.items() if n != number}
        self.shown.pop(number, None)

    def owns_room(self, room_id: RoomID) -> bool:
        return room_id in self.rooms

    def holds_room(self, room_id: RoomID, at: datetime) -> bool:
        """A seat's room, for a group not over yet: its invitation, a call-off or a removal
        is said there (`core.groups.seated_rooms`)."""
        return room_id in g.seated_rooms(self.book, at)

    def place(self, room_id: RoomID, language: Language) -> tuple[str, frozenset[str]] | None:
        number = self.rooms.get(room_id)
        if number is None:
            return None
        try:
            offices = self.book.get(number).offices
        except g.GroupRefused:
            offices = frozenset()
        return text("group.report_place", language, number=number), offices

    # -- the conductor's hooks -------------------------------------------------------------

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
                           body: str, at: datetime) -> None:
        """A message in a group's room: a moderator's command, or a youth's words (looked
        at for a crisis, never kept)."""
        # The sync loop calls the doors of a group's room outside any conductor step: each
        # is one (step_lock.py), or its commit writes a book read before another task's step
        # (retention, a deletion) forgot a youth in it, and names them again.
        async with self.conductor.steps.held():
            await self._room_message(room_id, sender, event_id, body, at)

    async def _room_message(self, room_id: RoomID, sender: UserID, event_id: EventID,
                            body: str, at: datetime) -> None:
        number = self.rooms.get(room_id)
        if number is None or await self.conductor.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        group = self.book.get(number)
        if sender in self.conductor.policy.staff:
            command = gc.parse_group_room(body)
            if command is None:
                return
            self._moderate(step, sender, group, command)
        else:
            seat = group.writer(sender)
            if seat is None:
                return
            await self.crisis.check(step, group, seat, body)
        await self._commit(step)

    async def member_named(self, room_id: RoomID, member: UserID, display_name: str,
                           event_id: EventID, at: datetime) -> None:
        """A member joined a group's room or took a display name ("" for none): one that
        claims to be another youth or the team is answered in the room with who it really
        is; someone who may moderate coming in means the group is hosted
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
        whom = g.poses_as(group, member, display_name)
        if seat is None or whom is None:
            if step.settings:
                await self._commit(step)
                self.hosted.add(number)
            return
        step.add(GroupRoomNotice(number, "group.poses_as_team" if whom == ""
                                 else "group.poses_as_youth",
                                 (("nickname", seat.nickname), ("other", whom))))
        await self._commit(step)

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

    async def tick(self, at: datetime) -> None:
        step = Change(at, None)
        for group in g.due_to_open(self.book, at):
            self.book = g.open_group(self.book, group.number)
            # A host who left the team since the announcement is not let in among the
            # youths ("" = no host: the leads are called when nobody moderates).
            host = group.host if self._on_staff(group.host) else UserID("")
            step.add(OpenGroupRoom(group.number, group.topic,
                                   int(group.duration.total_seconds() // 60), host,
                                   tuple((s.youth, s.nickname) for s in group.seats)),
                     f"group_open:{group.number}")
            step.add(GroupRoomNotice(group.number, "group.room_welcome", (
                ("topic", group.topic),
                ("minutes", int(group.duration.total_seconds() // 60)))),
                f"group_welcome:{group.number}")
            for seat in group.seats:
                step.add(RoomNotice(seat.home_room, "group.invited",
                                    (("number", group.number), ("nickname", seat.nickname)),
                                    youth=seat.youth),
                         f"group_invited:{group.number}:{seat.nickname}")
            step.add(SayToStaff("group.staff_opened", (("number", group.number),
                                                       ("seats", len(group.seats))),
                                mentions=(group.host,),
                                office=self.crisis.staff_office(group.offices, (group.host,))),
                     f"group_opened:{group.number}")
        for group in self.book.groups:
            if group.state is g.GroupState.OPEN and not self._on_staff(group.host) \
                    and group.number not in self.host_gone:
                # Left the team while hosting: out of the room, which they could read on.
                step.add(KickFromGroup(group.number, group.host),
                         f"group_host_gone:{group.number}")
                self.host_gone.add(group.number)
                if group.number in self.hosted:
                    # Their coming counted as the group's being hosted: the leads are called
                    # below as for a host who never came (a lead already in the room is
                    # called needlessly, rather than the youths being left alone).
                    self.hosted.discard(group.number)
                    step.settings.append((hosted_key(group.number), ""))
            for user in sorted(group.stepped_in) if group.state is g.GroupState.OPEN else ():
                if not self._may_moderate(group, user):
                    # Stepped in, then left the team (or no longer leads its office): out
                    # of the room, which they read along in with the moderator's power.
                    step.add(KickFromGroup(group.number, user),
                             f"group_stepped_out:{group.number}:{user}:{at.isoformat()}")
                    self.book = g.stepped_out(self.book, group.number, user)
                    if group.number in self.hosted:
                        # As for a host gone: their coming may be what counted as hosted.
                        self.hosted.discard(group.number)
                        step.settings.append((hosted_key(group.number), ""))
        called = []
        for group in g.unhosted(self.book, at, frozenset(self.hosted)):
            if group.number in self.called:
                continue
            # Nobody who may moderate has come: the youths are alone together in the room.
            offices, leads = self.crisis.leads(group)
            step.add(SayToStaff("group.host_missing",
                                (("number", group.number), ("host", group.host),
                                 ("leads", " ".join(leads) or "Team")),
                                mentions=(group.host, *leads),
                                office=self.crisis.staff_office(offices, (group.host, *leads))),
                     f"group_host_missing:{group.number}")
            called.append(group.number)
            # Asked to step in, they may (as what they are now: `Group.called_leads`).
            self.book = g.called(self.book, group.number, leads, self._leads(leads))
        for group in g.due_to_end(self.book, at):
            self._end(step, group.number, None)
        for group in g.due_to_purge(self.book, at, self.purge_after):
            for seat in (*group.seats, *group.gone):
                self.conductor.crisis.forget(step, crisis_key(group.number, seat.nickname))
            self.book = g.purged(self.book, group.number)
            step.add(PurgeGroupRoom(group.number), f"group_purge:{group.number}")
            if group.number in self.hosted:
                step.settings.append((hosted_key(group.number), ""))
        if step.effects:
            await self._commit(step)
        self.called.update(called)
        self.hosted -= {group.number for group in self.book.groups
                        if group.state is g.GroupState.PURGED}
        await self.crisis.drop_lapsed_offers(at)
        if self.conductor.metrics is not None:
            figures = g.figures(self.book, at)
            self.conductor.metrics.set_groups(planned=figures.upcoming, open_now=figures.open)

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
        step.sealed.append((BOOK_KEY, g.encode_book(self.book)))

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
            ("number", group.number), ("topic", group.topic), ("start", self._when(group)),
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
            f"{x.number}: „{x.topic}“ – {self._when(x)} ("
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
            ("number", number), ("topic", group.topic), ("start", self._when(group)),
            ("nickname", seat.nickname))))
        if group.state is g.GroupState.OPEN:  # late: the room is there already
            step.add(InviteToGroup(number, youth, seat.nickname),
                     f"group_invite:{number}:{seat.nickname}")
            step.add(RoomNotice(room_id, "group.invited",
                                (("number", number), ("nickname", seat.nickname))))

    def _moderate(self, step: Change, sender: UserID, group: g.Group,
                  command: gc.ModerateCommand | gc.EndGroupCommand | gc.GroupCommandError,
                  ) -> None:
        who = self._moderator(sender, group)
        try:
            if isinstance(command, gc.GroupCommandError):
                raise g.GroupRefused(command.key, hint=command.hint)
            elif isinstance(command, gc.EndGroupCommand):
                self._end(step, group.number, who)
            elif command.action == "remove":
                self.book, seat = g.remove(self.book, group.number, who, command.nickname,
                                           self._shown(group.number))
                # Without a seat, neither the purge nor an erasure finds their last words.
                self.conductor.crisis.forget(step, crisis_key(group.number, seat.nickname))
                step.add(KickFromGroup(group.number, seat.youth))
                step.add(RoomNotice(seat.home_room, "group.you_were_removed",
                                    (("number", group.number),), youth=seat.youth))
                self._moderated(step, sender, group, "remove", seat.nickname)
            else:
                on = command.action == "mute"
                self.book, seat = g.mute(self.book, group.number, who, command.nickname, on=on,
                                         shown=self._shown(group.number))
                step.add(MuteInGroup(group.number, seat.youth, on))
                self._moderated(step, sender, group, command.action, seat.nickname)
        except g.GroupRefused as refused:
            # Told in the staff room: the youths in the group need not read refusals.
            step.add(SayToStaff(refused.key, refused.params, mentions=(sender,),
                                office=self.crisis.staff_office(group.offices, (sender,))))

    def _moderated(self, step: Change, sender: UserID, group: g.Group, action: str,
                   nickname: str) -> None:
        """Told in the staff room, as a refusal is: the youths in the group do not read who
        was silenced or removed (the removed youth is told in their own chat)."""
        step.add(SayToStaff(f"group.moderated_{action}",
                            (("nickname", nickname), ("number", group.number)),
                            mentions=(sender,),
                            office=self.crisis.staff_office(group.offices, (sender,))))

    def _shown(self, number: int) -> dict[UserID, str]:
        """The name each member's app shows in the group's room: as the joins seen say,
        else as the room's state does (after a restart, which saw none of them)."""
        room = next((r for r, n in self.rooms.items() if n == number), None)
        known = dict(self.room_names(room)) if self.room_names and room is not None else {}
        return {**known, **self.shown.get(number, {})}

    def _on_staff(self, user: UserID) -> bool:
        return user in self.conductor.policy.staff

    def _leads(self, users: tuple[UserID, ...]) -> tuple[UserID, ...]:
        """The team leads among ``users`` (a call may reach counsellors in a lead's stead)."""
        return tuple(u for u in users if self.conductor.policy.staff.get(u) is Role.TEAM_LEAD)

    def _may_moderate(self, group: g.Group, user: UserID) -> bool:
        if not self._on_staff(user):
            return False  # (called once, then left the team)
        try:
            g.may_moderate(group, self._moderator(user, group))
        except g.GroupRefused:
            return False
        return True

    def _moderator(self, sender: UserID, group: g.Group) -> g.Moderator:
        policy = self.conductor.policy
        # The offices they lead, not all they work for: where a lead only counsels, they
        # are a counsellor like the others (routing rule 7, `OfficeRules.leads_on`).
        offices = policy.router.offices.leads.get(sender, frozenset())
        if group.offices and sender in policy.team_leads:
            # The installation's own leads (`[staff]`) are called for every group's host
            # gone missing and asked to step in ("!group join N"): they may, as its
            # office's leads do.
            offices = offices | group.offices
        return g.Moderator(sender, policy.staff.get(sender) is Role.TEAM_LEAD, offices)

    def _end(self, step: Change, number: int, who: g.Moderator | None) -> None:
        was_open = self.book.get(number).state is g.GroupState.OPEN
        self.book, group = g.end(self.book, number, who, step.at)
        if was_open:
            step.add(GroupRoomNotice(number, "group.ended_room"), f"group_bye:{number}")
            step.add(CloseGroupRoom(number), f"group_close:{number}")
        else:
            # Called off before it opened, or the bot was down all evening: there is no room
            # to say goodbye in, and the youths signed up were promised an invitation.
            self._called_off(step, group, "group.called_off" if who else "group.did_not_open")
        if group.named > 0:
            seats = group.named
            step.after.append(lambda m: m.group_held(seats))

    def _called_off(self, step: Change, group: g.Group, key: str) -> None:
        params = (("number", group.number), ("topic", group.topic),
                  ("start", self._when(group)))
        for seat in group.seats:
            step.add(RoomNotice(seat.home_room, key, params, youth=seat.youth),
                     f"group_called_off:{group.number}:{seat.nickname}")

    def _when(self, group: g.Group) -> str:
        return group.start.astimezone(self.zone).strftime("%d.%m.%Y %H:%M")

    # -- durability -------------------------------------------------------------------------

    async def _commit(self, step: Change) -> None:
        step.sealed.append((BOOK_KEY, g.encode_book(self.book)))
        try:
            await self.conductor.commit(step)
        except BaseException:
            await self.load()  # the store is the truth
            raise

