"""The group desk on the clock: groups opened when due (room, invitations, welcome), hosts
gone from the team taken out, leads called when nobody moderates, groups ended and their
rooms purged when due, the figures for the metrics."""

from __future__ import annotations

from datetime import datetime

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.group_crisis import crisis_key
from counsel_bot.conversation.group_keys import hosted_key
from counsel_bot.conversation.group_moderation import GroupModeration
from counsel_bot.core import groups as g
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import (
    GroupRoomNotice,
    KickFromGroup,
    OpenGroupRoom,
    PurgeGroupRoom,
    RoomNotice,
)
from counsel_bot.core.group_figures import figures as group_figures
from counsel_bot.core.ids import UserID


class GroupClock(GroupModeration):
    """`GroupModeration` with the clock's steps; `GroupDesk` is built on it."""

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
            # Deleted at the end only with the bot's admin access: said only then.
            kept = "" if self.conductor.can_delete() else "_kept"
            step.add(GroupRoomNotice(group.number, f"group.room_welcome{kept}", (
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
            figures = group_figures(self.book, at)
            self.conductor.metrics.set_groups(planned=figures.upcoming, open_now=figures.open)
