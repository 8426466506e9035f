"""What staff write: routing commands (``!take``, ``!transfer``, ``!duty``, ...), help,
chat and video invitations, supervision, the working day (notes, snippets, appointments),
and a plain reply in a youth's room, which ends the wait for a counsellor's answer.
A reply to a command typed in a youth's room goes to the staff room, never to the youth.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import offices
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.staff_events import staff_event
from counsel_bot.core import appointments as ap
from counsel_bot.core import commands as cmd
from counsel_bot.core.effects import Effect, Redact, SayInRoom, SayToStaff, mails_private_key
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.incoming_text import storable
from counsel_bot.core.routing import events as ev
from counsel_bot.core.routing.model import Channel, ConversationSnapshot, Role
from counsel_bot.core.routing.offices import UNDECIDED, OfficeRules
from counsel_bot.core.workday_commands import (
    AppointmentCancel,
    AppointmentCommand,
    AppointmentList,
    SnippetAdd,
    SnippetRemove,
    WorkdayCommand,
    WorkdayHelp,
    parse_workday,
    workday_help,
)

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

# Working-day commands whose message leaves the youth's room once read (workday.py), refused
# as well as done: a case note is about the youth.
_REDACTED = frozenset({"note", "s"})


class StaffCommands:
    def __init__(self, conductor: Conductor) -> None:
        self.conductor = conductor

    async def wrote(
        self, room_id: RoomID, sender: UserID, event_id: EventID, body: str, at: datetime
    ) -> None:
        c = self.conductor
        for addon in c.addons:
            if await addon.staff_wrote(room_id, sender, event_id, body, at):
                return
        body = storable(body)
        workday = parse_workday(body)
        if workday is not None:
            await self._answer(room_id, event_id, at, lambda step, here: self._workday_command(
                step, room_id, sender, event_id, workday, here))
            return
        parsed = cmd.parse_staff(body)
        if parsed is None:
            await self._note_first_reply(room_id, sender, at)
            await self._counsellor_replied(room_id, sender, event_id, at,
                                           about_appointment=ap.names_appointment(body))
            return
        word = body.split(maxsplit=1)[0].casefold()  # "!confirm": named in the usage hint
        await self._answer(room_id, event_id, at, lambda step, here: self._staff_command(
            step, room_id, sender, parsed, here, word))

    async def edited_command(self, room_id: RoomID, sender: UserID, event_id: EventID,
                             command: str, at: datetime,
                             original: EventID | None = None) -> None:
        """A message edited into a command (Element's up arrow corrects "!duty of") is not
        carried out, as one carried out already would be twice; nor is it a reply to the
        youth. Said, so that nobody believes it was done. One edited into a case note
        leaves the youth's room, the edit and the line it corrected (``original``)."""
        parsed = parse_workday(command) or cmd.parse_staff(command)

        async def tell(step: Change, here: ConversationID | None) -> None:
            if here is not None and isinstance(parsed, cmd.ParseError) \
                    and parsed.command in _REDACTED:
                step.add(Redact(here, event_id))
                if original is not None:
                    step.add(Redact(here, original))
            step.add(SayInRoom(room_id, sender, "command.edited", (("command", command),)))

        await self._answer(room_id, event_id, at, tell)

    async def answered(self, room_id: RoomID, sender: UserID, event_id: EventID,
                       at: datetime) -> None:
        """A voice message, picture, file or /me of theirs answers the youth as their
        text does: the wait for a counsellor's answer is over."""
        await self._note_first_reply(room_id, sender, at)
        await self._counsellor_replied(room_id, sender, event_id, at)

    async def _answer(
        self, room_id: RoomID, event_id: EventID, at: datetime,
        act: Callable[[Change, ConversationID | None], Awaitable[None]],
    ) -> None:
        """A staff command's change: once per event, about the conversation of the room it
        was typed in (if any), committed as one."""
        c = self.conductor
        if await c.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        record = await c.store.conversation_by_room(room_id)
        here = record.conversation if record is not None else None
        await act(step, here)
        if here is not None:
            # Staff asides never go into a youth's room: the reply goes to the staff room.
            step.effects = [(self._aside(e, here), tag) for e, tag in step.effects]
        await c.commit(step)

    async def _staff_command(
        self, step: Change, room_id: RoomID, sender: UserID,
        parsed: cmd.StaffCommand | cmd.ParseError, here: ConversationID | None,
        word: str = "!…",
    ) -> None:
        c = self.conductor
        if isinstance(parsed, cmd.ParseError):
            if here is not None and step.event_id is not None \
                    and parsed.command in _REDACTED:
                # "!!note …" mistyped in the youth's room: its words are about the youth.
                step.add(Redact(here, step.event_id))
            step.add(SayInRoom(room_id, sender, parsed.key.value, (("hint", parsed.hint),)))
        elif isinstance(parsed, cmd.HelpCommand):
            # A working day's command ("!help note") is parse_workday's (`WorkdayHelp`).
            help_text = cmd.help_text(c.policy.default_language, parsed.topic, staff=True)
            if parsed.topic is None:
                # Group sessions and the forum, where they are on: their commands too.
                more = [e for addon in c.addons for e in addon.staff_help()]
                help_text = "\n".join((help_text, workday_help(c.policy.default_language),
                                        *([cmd.help_lines(more, c.policy.default_language)]
                                          if more else [])))
            step.add(SayInRoom(room_id, sender, "help_text", (("text", help_text),)))
        elif isinstance(parsed, cmd.ChatCommand) and parsed.end:
            await self._end_chat(step, room_id, sender, here)
        elif isinstance(parsed, cmd.ChatCommand):
            await self._invite_to_chat(step, room_id, sender, here)
        elif isinstance(parsed, cmd.VideoCommand):
            self._video(step, room_id, sender, here, parsed.end)
        elif isinstance(parsed, cmd.SuperviseCommand):
            # Whoever reads along may end it, lead of the conversation now or not (its
            # office staffed again after a crisis the on-call office's lead read along in).
            ending = parsed.end and c.supervision.is_reading(parsed.conversation, sender)
            if parsed.end or not c.devices.refused(step, room_id, sender,
                                                   "supervise.unsigned_refused"):
                current = c.router.conversation(parsed.conversation) if ending \
                    else self._visible_to(sender, parsed.conversation)
                c.supervision.command(
                    step, room_id, sender, parsed, current,
                    team_lead=ending or (self._lead(sender) and (
                        current is None or self.leads(sender, current))))
        else:
            event = staff_event(parsed, sender, here, step.at)
            if event is None:
                step.add(SayInRoom(room_id, sender, cmd.ParseErrorKey.MISSING_ARGUMENT.value,
                                   (("hint", f"{word} C-XXXXXXXX"),)))
            elif isinstance(event, ev.CounsellorOnDuty):
                c.devices.duty_on(step, room_id, sender, event)
            else:
                c.handle(step, [event], reply_room=room_id)
                c.crisis.reviewed(step, event, c.router.conversation)

    async def _workday_command(
        self, step: Change, room_id: RoomID, sender: UserID, event_id: EventID,
        command: WorkdayCommand | cmd.ParseError, here: ConversationID | None,
    ) -> None:
        """Case notes, snippets (conversation/workday.py) and appointments."""
        if isinstance(command, cmd.ParseError):
            if here is not None and command.command in _REDACTED:
                # Refused (a note too long, say), its words are no less about the youth.
                step.add(Redact(here, event_id))
            step.add(SayInRoom(room_id, sender, command.key.value, (("hint", command.hint),)))
        elif isinstance(command, WorkdayHelp):
            step.add(SayInRoom(room_id, sender, "help_text", (
                ("text", workday_help(self.conductor.policy.default_language, command.topic)),)))
        elif isinstance(command, AppointmentCommand | AppointmentCancel | AppointmentList):
            self._appointment(step, room_id, sender, command, here)
        else:
            its_offices, several = self._command_offices(sender, room_id, here)
            if isinstance(command, SnippetAdd | SnippetRemove):
                its_offices, several = self._own_offices(sender, its_offices, several)
            await self.conductor.workday.command(
                step, room_id, sender, event_id, command, here, its_offices, several=several,
                sees=lambda conversation: self._sees_conversation(sender, conversation))

    def _appointment(
        self, step: Change, room_id: RoomID, sender: UserID,
        command: AppointmentCommand | AppointmentCancel | AppointmentList,
        here: ConversationID | None,
    ) -> None:
        c = self.conductor
        if isinstance(command, AppointmentList):
            c.appointments.list_for(step, room_id, sender)
        elif isinstance(command, AppointmentCancel):
            c.appointments.cancel(
                step, room_id, sender, command.appointment,
                team_lead=lambda appointment: self._leads_appointment(sender, appointment),
                sees=lambda appointment: self._sees(sender, appointment))
        else:
            conversation = command.conversation or here
            # Another office's conversation is unknown to the sender, as in the router: "not
            # yours" would say it exists and is someone else's.
            current = None if conversation is None else self._visible_to(sender, conversation)
            if current is None:
                step.add(SayInRoom(room_id, sender, "appointments.which"))
            elif current.channel is Channel.MAIL and c.mail_switch is None:
                # A mail conversation kept after mail was switched off: nothing can reach
                # its youth, so refused rather than lost.
                step.add(SayInRoom(room_id, sender, "appointments.mail"))
            elif self._may_act(step, room_id, sender, current):
                c.appointments.propose(step, room_id, sender, command, current.conversation)

    def _command_offices(
        self, sender: UserID, room_id: RoomID, here: ConversationID | None,
    ) -> tuple[tuple[str, ...], bool]:
        """The offices a staff command is about (none without offices), and whether that
        is unclear (several): the conversation's office in a youth's room, else the
        office whose staff room it is, else the sender's one office."""
        c = self.conductor
        rules = c.policy.router.offices
        if not rules.enabled:
            return (), False
        current = None if here is None else c.router.conversation(here)
        if current is not None:
            office = rules.office_of(current)
            return (rules.fallback if office == UNDECIDED else office,), False
        mine = tuple(sorted(rules.offices_of(sender)))
        room_office = c.office_of_room(room_id)
        if room_office is not None and room_office in mine:
            return (room_office,), False
        return mine, len(mine) != 1

    def _own_offices(
        self, sender: UserID, its_offices: tuple[str, ...], several: bool,
    ) -> tuple[tuple[str, ...], bool]:
        """The offices whose snippets a command may change: the sender's own only. In the
        room of another office's youth (an on-call counsellor's crisis) that is their own
        office, not the youth's, whose staff would be offered the text as theirs."""
        rules = self.conductor.policy.router.offices
        mine = rules.offices_of(sender)
        if not rules.enabled or several or set(its_offices) <= mine:
            return its_offices, several
        own = tuple(sorted(mine))
        return own, len(own) != 1

    def _aside(self, effect: Effect, here: ConversationID) -> Effect:
        """A reply to a command typed in a youth's room, for the staff room; with offices,
        the one that hears about the conversation (a reply naming no conversation, such as a
        refused appointment, would otherwise land in the main staff room, away from the
        office), or one of the sender's own when they are not in it (`offices.room_for`:
        the case notes an on-call counsellor asks for are not for every office)."""
        if not isinstance(effect, SayInRoom):
            return effect
        c = self.conductor
        office = offices.room_for(c.policy.offices, offices.staff_office(
            here, c.router, c.policy.router.offices, c.policy.offices),
            effect.to) if c.policy.offices.enabled else ""
        return SayToStaff(effect.key, effect.params, mentions=(effect.to,), office=office)

    async def _note_first_reply(self, room_id: RoomID, sender: UserID, at: datetime) -> None:
        c = self.conductor
        if c.metrics is None:
            return
        record = await c.store.conversation_by_room(room_id)
        current = None if record is None else c.router.conversation(record.conversation)
        waited = c.first_replies.wait(current, sender, at)
        if waited is not None:
            c.metrics.first_reply(waited)

    async def _counsellor_replied(self, room_id: RoomID, sender: UserID, event_id: EventID,
                                  at: datetime, *, about_appointment: bool = False) -> None:
        """The wait is over. A reply of the assigned counsellor in a chat is kept handled by
        its id: a batch handled again (a gap the homeserver did not give) or a sync resumed
        from before it reads it again after the youth's next message, whose wait it must
        not end. (A mail conversation's reply is the mail channel's to mark: it sends it.)"""
        c = self.conductor
        record = await c.store.conversation_by_room(room_id)
        current = None if record is None else c.router.conversation(record.conversation)
        if current is None or current.assigned_to != sender \
                or current.channel is not Channel.CHAT or await c.store.is_processed(event_id):
            return
        step = Change(at, event_id)
        changed = c.timers.counsellor_wrote(current, sender)
        if changed is not None:
            step.settings.append(changed)
        # A bare "ja"/"nein" after this may answer them, not an open appointment proposal;
        # after "Passt dir der Termin?" it is the proposal's again.
        c.appointments.talked_over(step, current.conversation, over=not about_appointment)
        await c.commit(step)

    async def _invite_to_chat(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None
    ) -> None:
        c = self.conductor
        current = None if here is None else c.router.conversation(here)
        if current is not None and current.channel is Channel.CHAT \
                and c.chat_invite is not None and c.chat_end is not None \
                and await c.store.get_setting(mails_private_key(current.conversation)):
            # Someone came into the chat with the case code and is gone (a lost phone, a
            # new app): a new code is sent once the case is back on mail, which `!chat end`
            # does, and it also removes the account left in the room.
            step.add(SayInRoom(room_id, sender, "chat.end_first"))
        elif current is None or current.channel is not Channel.MAIL or c.chat_invite is None:
            step.add(SayInRoom(room_id, sender, "chat.only_mail"))
        elif self._may_act(step, room_id, sender, current):
            await c.chat_invite(step, current.conversation, sender)

    async def _end_chat(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None
    ) -> None:
        """``!chat end``: whoever came into the room with the case code leaves it."""
        c = self.conductor
        current = None if here is None else c.router.conversation(here)
        if current is None or c.chat_end is None:
            step.add(SayInRoom(room_id, sender, "chat.only_mail"))
        elif self._may_act(step, room_id, sender, current):
            await c.chat_end(step, current.conversation, sender)

    def _video(
        self, step: Change, room_id: RoomID, sender: UserID, here: ConversationID | None,
        end: bool,
    ) -> None:
        c = self.conductor
        current = None if here is None else c.router.conversation(here)
        if current is None:
            step.add(SayInRoom(room_id, sender, "video.where"))
        elif not end and current.channel is Channel.MAIL and c.mail_switch is None:
            # A mail youth gets the link by mail, which is off: it would reach nobody.
            step.add(SayInRoom(room_id, sender, "video.mail_off"))
        elif self._may_act(step, room_id, sender, current):
            host = c.video.appointment_call_host(current.conversation, step.at)
            if host is not None and sender != host and not self.leads(sender, current):
                # The call the room shows is an appointment's, running now with its own
                # counsellor (the chat handed over since): a new call or its end cut them
                # off mid-appointment, untold. It ends with the appointment.
                step.add(SayInRoom(room_id, sender, "video.appointment_running",
                                   (("host", c.counsellor_name(host) or host),)))
                return
            c.video.by_staff(step, current, end=end,
                             counsellor_name=c.counsellor_name(current.assigned_to))

    def _may_act(
        self, step: Change, room_id: RoomID, sender: UserID, current: ConversationSnapshot
    ) -> bool:
        """Only its counsellor or a team lead of its office acts for a conversation; others
        are told."""
        if current.assigned_to == sender or (
                self._visible_to(sender, current.conversation) is not None
                and self.leads(sender, current)):
            return True
        step.add(SayInRoom(room_id, sender, "refused.not_yours", (("id", current.conversation),)))
        return False

    def _lead(self, user: UserID) -> bool:
        return self.conductor.policy.staff.get(user) is Role.TEAM_LEAD

    def leads(self, user: UserID, current: ConversationSnapshot) -> bool:
        """A team lead of the conversation's office (with offices; else any team lead)."""
        c = self.conductor
        return self._lead(user) and offices.lead_of(c.router, c.policy.router.offices, user,
                                                    current)

    def _leads_appointment(self, user: UserID, appointment: ap.Appointment) -> bool:
        """A team lead of the appointment's office: its conversation's now, or, closed,
        the office it was booked with."""
        c = self.conductor
        rules = c.policy.router.offices
        current = c.router.conversation(appointment.conversation)
        if current is not None:
            return self.leads(user, current)
        return self._lead(user) and (not rules.enabled or _booked_with(
            appointment, rules) in rules.leads.get(user, frozenset()))

    def _sees(self, user: UserID, appointment: ap.Appointment) -> bool:
        """Whether ``user`` may know of an appointment: its conversation is visible to them
        (`_visible_to`), or, closed, it was booked with one of their offices."""
        c = self.conductor
        rules = c.policy.router.offices
        if c.router.conversation(appointment.conversation) is not None:
            return self._visible_to(user, appointment.conversation) is not None
        return not rules.enabled or _booked_with(appointment, rules) in rules.offices_of(user)

    async def _sees_conversation(self, user: UserID, conversation: ConversationID) -> bool:
        """Whether ``user`` may know of a conversation, open (`_visible_to`) or closed (it
        was its office's when it closed; as the router reads an office, `office_of`)."""
        c = self.conductor
        rules = c.policy.router.offices
        if not rules.enabled:
            return True
        if c.router.conversation(conversation) is not None:
            return self._visible_to(user, conversation) is not None
        record = await c.store.conversation(conversation)
        if record is None:
            return False
        return rules.home(record.office) in rules.offices_of(user)

    def _visible_to(
        self, user: UserID, conversation: ConversationID
    ) -> ConversationSnapshot | None:
        """A conversation of another office is unknown to `user` (as in the router)."""
        c = self.conductor
        return offices.visible(c.router, c.policy.router.offices, user, conversation)


def _booked_with(appointment: ap.Appointment, rules: OfficeRules) -> str:
    """The office an appointment of a closed conversation is with: the one it was booked
    with (as it is called now), or the fallback office for one from before offices or of
    an office removed since (rule 2 of core/routing/offices.py), as for its conversation."""
    return rules.home(appointment.office)
