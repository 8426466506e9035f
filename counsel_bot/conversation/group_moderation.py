"""The group desk's moderation: who may moderate a group (its host, its offices' leads,
those called to step in), their commands in its room (`!mute`, `!remove`, `!end`) made
effects, a group's end and call-off told."""

from __future__ import annotations

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.group_crisis import crisis_key
from counsel_bot.conversation.group_desk_state import DeskState
from counsel_bot.core import group_commands as gc
from counsel_bot.core import groups as g
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.group_effects import (
    CloseGroupRoom,
    GroupRoomNotice,
    KickFromGroup,
    MuteInGroup,
    RoomNotice,
)
from counsel_bot.core.ids import UserID
from counsel_bot.core.messages import Language
from counsel_bot.core.opening_hours_text import english_when
from counsel_bot.core.routing.model import Role


class GroupModeration(DeskState):
    """`DeskState` with moderation; `GroupDesk` is built on it."""

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
            kept = "" if self.conductor.can_delete() else "_kept"
            step.add(GroupRoomNotice(number, f"group.ended_room{kept}"), f"group_bye:{number}")
            step.add(CloseGroupRoom(number), f"group_close:{number}")
        else:
            # Called off before it opened, or the bot was down all evening: there is no room
            # to say goodbye in, and the youths signed up were promised an invitation.
            self._called_off(step, group, "group.called_off" if who else "group.did_not_open")
        if group.named > 0:
            seats = group.named
            step.after.append(lambda m: m.group_held(seats))

    def _called_off(self, step: Change, group: g.Group, key: str) -> None:
        params: tuple[tuple[str, str | int], ...] = (
            ("number", group.number), ("topic", group.topic), *self._start(group))
        for seat in group.seats:
            step.add(RoomNotice(seat.home_room, key, params, youth=seat.youth),
                     f"group_called_off:{group.number}:{seat.nickname}")

    def _when(self, group: g.Group, language: Language = "de") -> str:
        """When the group starts, on the office's clock, as the language writes a date."""
        local = group.start.astimezone(self.zone)
        return english_when(local) if language == "en" else local.strftime("%d.%m.%Y %H:%M")

    def _start(self, group: g.Group) -> tuple[tuple[str, str], ...]:
        """``start`` for the German texts, ``start_en`` for the English ones."""
        return (("start", self._when(group)), ("start_en", self._when(group, "en")))
