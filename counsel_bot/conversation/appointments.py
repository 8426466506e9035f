"""Appointments in a conversation's life: propose, the youth's answer, the file, reminders.

The rules are pure (`core/appointments.py`); this part keeps every appointment in memory and
sealed in the store (``appt:<id>:<conversation>``: erased with the conversation), and turns
each step into effects: the proposal and reminders for the youth in their room, replies and
reminders for the counsellor in the staff room, and the calendar file (`SendCalendar`) once
the youth has said yes. Reminders are due checks run from the conductor's tick.

With several offices an appointment is its conversation's office's (`office_of`, wired by the
conductor): checked against that office's opening hours, and its texts and file name that
office's address and phone (`venue_of`); the office is kept with the appointment, so later
texts name the place the youth agreed to. Without offices both are the installation's.

A youth on the mail channel (decided at each step: a youth may switch) gets the same steps
by mail instead (`MailToYouth`, in their thread, performed by the mail channel with its
Message-ID dedupe): the proposal, the answer's acknowledgement with the calendar file as a
``text/calendar`` attachment, the reminders (video: the call link in the 15-minute one), and
the cancellation with the file again, now marked cancelled. Their answer comes back by mail
(`mail_answered`).

A proposal outlives the close of its conversation (a counsellor often proposes the next
appointment and closes): the youth's answer after the close still confirms or declines it,
and the counsellor is told the conversation had closed. A closed conversation is reached as
it was at the close (`closed`): by mail if its youth was a mail youth then.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import get_args

from counsel_bot.conversation.change import Change
from counsel_bot.core import appointments as ap
from counsel_bot.core.appointment_ics import calendar_file, filename
from counsel_bot.core.effects import (
    MailToYouth,
    Params,
    SayInRoom,
    SayToStaff,
    SayToYouth,
    SendCalendar,
)
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import Language, text
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.workday_commands import AppointmentCommand
from counsel_bot.store import Store

PREFIX = "appt:"
# How many ids are drawn before `_free_id` counts on from the last.
_DRAWS = 8
_HEX = re.compile(r"T-[0-9A-F]{1,8}")


@dataclass(frozen=True)
class AppointmentSettings:
    # Said for appointments in person; never the youth's address, which is never asked.
    office_address: str = ""
    # Said for phone appointments: the youth calls the office (their number is never asked).
    office_phone: str = ""
    calendar_title: str = "Beratungstermin"

    def __post_init__(self) -> None:
        ap.check_place(self.office_address, self.office_phone,
                       address_key="office_address", phone_key="office_phone")


def key_of(appointment: ap.Appointment) -> str:
    return f"{PREFIX}{appointment.id}:{appointment.conversation}"


class Appointments:
    def __init__(self, store: Store, settings: AppointmentSettings, hours: OpeningHours,
                 *, video_enabled: bool = False) -> None:
        self.store = store
        self.video_enabled = video_enabled
        self.settings = settings
        self.default_venue = ap.Venue(hours, settings.office_address, settings.office_phone)
        # The office a conversation is with now ("" without offices), and an office's venue:
        # the conductor wires both when there are offices.
        self.office_of: Callable[[ConversationID], str] = lambda _conversation: ""
        self.venue_of: Callable[[str], ap.Venue] = lambda _office: self.default_venue
        self.known: dict[str, ap.Appointment] = {}
        # Drawn (`_free_id`) until unused: a drawn id already known would replace that
        # appointment. 32 bits, as conversation ids; older data has 24-bit ids.
        self.new_id: Callable[[], str] = lambda: "T-" + secrets.token_hex(4).upper()
        # Whether a conversation's youth is reached by mail now (the conductor wires it to
        # the router's channel; a youth may switch between chat and mail at any time).
        self.by_mail: Callable[[ConversationID], bool] = lambda _conversation: False
        # Whether the router still holds the conversation (wired by the conductor); a closed
        # one is reached by mail when it is in `mail_closed` (its channel at the close).
        self.is_open: Callable[[ConversationID], bool] = lambda _conversation: True
        self.mail_closed: set[ConversationID] = set()
        # Whether someone is on the staff list now, and whom an office's appointment calls
        # when its counsellor no longer is (its leads; wired by the conductor).
        self.is_staff: Callable[[UserID], bool] = lambda _user: True
        self.leads_of: Callable[[str], tuple[UserID, ...]] = lambda _office: ()
        # Takes an appointment's call out of its conversation's room (wired by the conductor
        # to the video calls; a chat's own call is left alone).
        self.call_over: Callable[[Change, ConversationID], None] = lambda _step, _conv: None

    async def load(self) -> None:
        self.known = {}
        for _, raw in await self.store.sealed_settings(PREFIX):
            appointment = ap.Appointment.decode(raw)
            self.known[appointment.id] = appointment
        self.mail_closed = set()
        for conversation in {a.conversation for a in self.known.values() if a.live}:
            record = await self.store.conversation(conversation)
            if record is not None and record.closed_at is not None \
                    and record.channel is Channel.MAIL:
                self.mail_closed.add(conversation)

    def closed(self, conversation: ConversationID, *, by_mail: bool) -> None:
        """The conversation closed; its youth is reached from now on as they were then."""
        if by_mail:
            self.mail_closed.add(conversation)
        else:
            self.mail_closed.discard(conversation)

    def upcoming(self, conversation: ConversationID, now: datetime) -> bool:
        """An appointment of this conversation is still to come, or a proposal waits for
        the youth's answer: the bot stays in its room after the close."""
        return any(a.conversation == conversation and a.live and a.end > now
                   for a in self.known.values())

    def proposal_open(self, conversation: ConversationID) -> bool:
        return any(a.conversation == conversation and a.status is ap.Status.PROPOSED
                   for a in self.known.values())

    def proposal_texts(self, conversation: ConversationID) -> frozenset[str]:
        """What the bot wrote to propose each open proposal of ``conversation``, in either
        language: a reaction answers a proposal only under that message (a 👎 under the
        welcome declined it)."""
        return frozenset(
            text(f"appointments.proposed_{a.kind.value}", language, **dict(self._params(a)))
            for a in self.known.values()
            if a.conversation == conversation and a.status is ap.Status.PROPOSED
            for language in get_args(Language))

    def erased(self, step: Change, conversation: ConversationID) -> None:
        """The youth erases their conversation ("ja löschen"): its live appointments are off,
        written so in this step, so nothing is reminded while the erasure is under way (nor
        after a restart in between) and retention holds nothing for them. Their counsellor is
        told, or they would wait for a youth who is not coming; the youth asked for all of it
        to go and is told nothing more about it."""
        for appointment in [a for a in self.known.values()
                            if a.conversation == conversation and a.live]:
            self._put(step, replace(appointment, status=ap.Status.CANCELLED))
            if appointment.end > step.at:  # one held already is nothing to act on
                self._tell_staff(step, "appointments.cancelled_erased", appointment)

    def counsellor_gone(self, step: Change, counsellor: UserID) -> None:
        """``counsellor`` left the staff list (and so the staff room): their appointments
        still stand, since the youth agreed to them, but from now on they call the office's
        team leads (`hosts`), who are told now, while there is time to take the appointment
        over or cancel it."""
        for appointment in sorted((a for a in self.known.values()
                                   if a.counsellor == counsellor and a.live
                                   and a.end > step.at), key=lambda a: a.start):
            self._tell_staff(step, "appointments.counsellor_gone", appointment,
                             f"appt_gone:{appointment.id}:{counsellor}",
                             extra=(("counsellor", counsellor),
                                    ("kind", appointment.kind.value)))

    def youth_left(self, step: Change, conversation: ConversationID) -> None:
        """A chat youth left their room (after the close, or ending the chat so): the
        reminders and a video call's link said there reach nobody. A confirmed appointment
        stands (the youth has its calendar file and may come, call or write again), and its
        counsellor is told now rather than waiting in the call; a proposal can no longer be
        answered there, so it is off, and its counsellor told."""
        if self._mail(conversation):
            return  # a mail youth is reached by mail, not in the room
        for appointment in sorted((a for a in self.known.values()
                                   if a.conversation == conversation and a.live
                                   and a.end > step.at), key=lambda a: a.start):
            if appointment.status is ap.Status.PROPOSED:
                self._put(step, replace(appointment, status=ap.Status.CANCELLED))
                self._tell_staff(step, "appointments.youth_left_proposal", appointment)
            else:
                self._tell_staff(step, "appointments.youth_left", appointment)

    def taken_over(self, step: Change, conversation: ConversationID,
                   counsellor: UserID) -> None:
        """``counsellor`` now has the conversation (a transfer, the queue): the youth's
        appointments and open proposals with someone else stand, and stay theirs, but the
        new counsellor sees none of them (`list_for` shows only one's own), so is told."""
        for appointment in sorted((a for a in self.known.values()
                                   if a.conversation == conversation and a.live
                                   and a.end > step.at and a.counsellor != counsellor),
                                  key=lambda a: a.start):
            step.add(SayToStaff("appointments.taken_over",
                                (("id", appointment.id), ("conversation", conversation),
                                 *self._params(appointment),
                                 ("counsellor", appointment.counsellor),
                                 ("kind", appointment.kind.value),
                                 ("status", appointment.status.value)),
                                mentions=(counsellor,)))

    def hosts(self, appointment: ap.Appointment) -> tuple[UserID, ...]:
        """Who its staff notices and its call's link mention: its counsellor, or, once they
        are off the staff list, its office's leads (a former colleague no longer reads the
        staff room, and must not get a new link into the youth's call)."""
        if self.is_staff(appointment.counsellor):
            return (appointment.counsellor,)
        return self.leads_of(appointment.office)

    def forget(self, conversation: ConversationID) -> None:
        self.known = {i: a for i, a in self.known.items() if a.conversation != conversation}
        self.mail_closed.discard(conversation)

    # -- the counsellor ------------------------------------------------------------------------

    def propose(self, step: Change, room_id: RoomID, sender: UserID,
                command: AppointmentCommand, conversation: ConversationID) -> None:
        venue = self.venue_of(self.office_of(conversation))
        office = (("office", venue.office),)
        if command.kind is ap.Kind.IN_PERSON and not venue.address:
            step.add(SayInRoom(room_id, sender, "appointments.no_address_office" if venue.office
                               else "appointments.no_address", office))
            return
        if command.kind is ap.Kind.PHONE and not venue.phone:
            step.add(SayInRoom(room_id, sender, "appointments.no_phone_office" if venue.office
                               else "appointments.no_phone", office))
            return
        if command.kind is ap.Kind.VIDEO and not self.video_enabled:
            step.add(SayInRoom(room_id, sender, "appointments.no_video"))
            return
        # A new proposal replaces one the youth has not answered yet, once it is accepted
        # itself: a refused one (a typo) leaves the first standing, as its counsellor thinks.
        earlier = [a for a in self.known.values()
                   if a.conversation == conversation and a.status is ap.Status.PROPOSED]
        result = ap.plan(appointment_id=self._free_id(), conversation=conversation,
                         counsellor=sender, day=command.day, at=command.at,
                         minutes=command.minutes, kind=command.kind, venue=venue,
                         now=step.at,
                         existing=[a for a in self.known.values() if a not in earlier])
        if isinstance(result, ap.Refusal):
            step.add(SayInRoom(room_id, sender, result.key, result.params))
            return
        for old in earlier:
            self._put(step, replace(old, status=ap.Status.CANCELLED))
        self._put(step, result)
        self._tell_youth(step, conversation, f"appointments.proposed_{result.kind.value}",
                         self._params(result))
        step.add(SayInRoom(room_id, sender, "appointments.proposed_staff",
                           (("id", result.id), ("conversation", conversation),
                            *self._params(result))))

    def list_for(self, step: Change, room_id: RoomID, sender: UserID) -> None:
        mine = sorted((a for a in self.known.values() if a.counsellor == sender and a.live
                       and a.end > step.at), key=lambda a: a.start)
        lines = "\n".join(
            f"• {a.id} · {a.conversation} · {ap.local_text(a.start, self._hours(a))} · "
            f"{a.minutes} min · {a.kind.value} · {a.status.value}" for a in mine)
        step.add(SayInRoom(room_id, sender, "appointments.list" if mine else "appointments.none",
                           (("lines", lines),)))

    def cancel(self, step: Change, room_id: RoomID, sender: UserID, appointment_id: str,
               *, team_lead: Callable[[ap.Appointment], bool],
               sees: Callable[[ap.Appointment], bool]) -> None:
        """Its counsellor, or a team lead of its office, cancels it. ``sees`` says whether
        the sender may know of it at all: another office's is unknown to them, as its
        conversation is."""
        appointment = self.known.get(appointment_id)
        # One that is over is no open appointment: "fällt aus" the day after would tell
        # the youth something untrue, and its file take a kept appointment off their
        # calendar.
        if appointment is None or not appointment.live or appointment.end <= step.at or (
                appointment.counsellor != sender and not sees(appointment)):
            step.add(SayInRoom(room_id, sender, "appointments.unknown",
                               (("id", appointment_id),)))
            return
        if appointment.counsellor != sender and not team_lead(appointment):
            step.add(SayInRoom(room_id, sender, "appointments.not_yours",
                               (("id", appointment_id),)))
            return
        cancelled = replace(appointment, status=ap.Status.CANCELLED)
        self._put(step, cancelled)
        if appointment.kind is ap.Kind.VIDEO and ap.Reminder.SOON in appointment.reminded:
            # Its link is out and the room shows its call: the youth would wait there alone.
            self.call_over(step, appointment.conversation)
        # After the close a chat youth cannot "keep writing here": a new chat it is (a mail
        # youth's text says to write to the office, as before).
        closed_chat = not self.is_open(appointment.conversation) \
            and not self._mail(appointment.conversation)
        after = "_closed" if closed_chat else ""
        if self._mail(appointment.conversation) and appointment.status is ap.Status.CONFIRMED:
            # The youth may have put the first file in their calendar: the same event again,
            # marked cancelled, takes it out there too.
            step.add(MailToYouth(appointment.conversation, "appointments.mail.cancelled_file",
                                 self._params(appointment), filename(cancelled),
                                 self._calendar(cancelled, step).decode("utf-8")))
        else:
            self._tell_youth(step, appointment.conversation, f"appointments.cancelled{after}",
                             self._params(appointment))
            if appointment.status is ap.Status.CONFIRMED:
                # The chat youth got the file too: the cancelled event takes it out again.
                step.add(SendCalendar(appointment.conversation, filename(cancelled),
                                      self._calendar(cancelled, step).decode("utf-8")))
        step.add(SayInRoom(room_id, sender, "appointments.cancelled_staff",
                           (("id", appointment.id), *self._params(appointment))))

    # -- the youth -----------------------------------------------------------------------------

    def talked_over(self, step: Change, conversation: ConversationID, *, over: bool) -> None:
        """The counsellor wrote to the youth: ``over``, about something else, so a bare
        "ja"/"nein" from now on may answer them, not a proposal made before
        (`youth_answered`); else about the appointment, whose answer it is again."""
        for appointment in list(self.known.values()):
            if appointment.conversation == conversation \
                    and appointment.status is ap.Status.PROPOSED \
                    and appointment.talked_over != over:
                self._put(step, replace(appointment, talked_over=over))

    def youth_answered(self, step: Change, conversation: ConversationID, body: str) -> bool:
        """A yes or no to the open proposal; False when there is none or it is no answer.
        A bare one after the counsellor wrote again, in the open chat, is theirs: the youth
        is asked once to name the appointment ("Termin ja"), and it stays a message."""
        explicit = ap.explicit_answer(body)
        if explicit is not None:
            return self._answered(step, conversation, body, lambda _body: explicit)
        pending = [a for a in self.known.values()
                   if a.conversation == conversation and a.status is ap.Status.PROPOSED]
        if pending and self.is_open(conversation) and ap.youth_answer(body) is not None:
            appointment = max(pending, key=lambda a: a.start)
            if appointment.talked_over and appointment.start <= step.at:
                # Its time has passed: nothing to ask about, the word is the counsellor's
                # ("Termin ja" still hears that it passed).
                return False
            if appointment.talked_over:
                # Once per proposal (the tag is the outbox key): asked again at every
                # "ja", the youth would read the bot between them and their counsellor.
                step.add(SayToYouth(conversation, "appointments.which_answer",
                                    self._params(appointment)),
                         f"appointment-which:{appointment.id}")
                return False
        return self._answered(step, conversation, body, ap.youth_answer)

    def reacted(self, step: Change, conversation: ConversationID, key: str) -> bool:
        """A 👍 or 👎 under the bot's proposal (`core.appointments.reaction_answer`): its
        answer, as plainly as "Termin ja", also after the counsellor wrote again."""
        return self._answered(step, conversation, key, ap.reaction_answer)

    def mail_answered(self, step: Change, conversation: ConversationID, text: str) -> bool:
        """The same by mail: the first line the youth wrote above the quoted proposal."""
        return self._answered(step, conversation, text, ap.mail_answer)

    def _answered(self, step: Change, conversation: ConversationID, body: str,
                  read: Callable[[str], bool | None]) -> bool:
        pending = [a for a in self.known.values()
                   if a.conversation == conversation and a.status is ap.Status.PROPOSED]
        answer = read(body) if pending else None
        if answer is None:
            return False
        appointment = max(pending, key=lambda a: a.start)
        params = self._params(appointment)
        # After the close nobody can propose another time in this conversation: the youth
        # is pointed to a new one, and the counsellor told that it had closed.
        after = "" if self.is_open(conversation) else "_closed"
        if not answer:
            self._put(step, replace(appointment, status=ap.Status.DECLINED))
            self._tell_youth(step, conversation, f"appointments.declined{after}", params)
            self._tell_staff(step, f"appointments.declined_staff{after}", appointment)
            return True
        if appointment.start <= step.at:
            self._put(step, replace(appointment, status=ap.Status.CANCELLED))
            self._tell_youth(step, conversation, f"appointments.expired{after}", params)
            # The youth now waits for another time: its counsellor has to know, as for a no.
            self._tell_staff(step, f"appointments.expired_staff{after}", appointment)
            return True
        confirmed = ap.confirmed(appointment, step.at, self._hours(appointment).timezone)
        self._put(step, confirmed)
        ics = self._calendar(confirmed, step).decode("utf-8")
        # Within a day of it no day-before reminder comes: none is promised.
        soon = "_soon" if ap.Reminder.DAY_BEFORE in confirmed.reminded else ""
        if self._mail(conversation):
            # One mail: the confirmation with the file attached.
            step.add(MailToYouth(conversation, f"appointments.mail.confirmed{soon}", params,
                                 filename(confirmed), ics))
        else:
            step.add(SayToYouth(conversation, f"appointments.confirmed{soon}", params))
            step.add(SendCalendar(conversation, filename(confirmed), ics))
        self._tell_staff(step, f"appointments.confirmed_staff{after}", appointment)
        return True

    # -- time ----------------------------------------------------------------------------------

    async def due(self, step: Change,
                  start_video: Callable[[ap.Appointment, bool], str | None]) -> None:
        """Reminders due now. ``start_video(appointment, tell_youth)`` opens the call and
        returns the youth's link (None: video is off); by mail the link goes in the
        reminder itself, in chat the call's own message carries it."""
        await self.missed(step)
        for appointment, reminder in ap.due_reminders(
                self.known.values(), step.at, lambda a: self._hours(a).timezone):
            if await self.store.room_of(appointment.conversation) is None:
                # Erased meanwhile (retention, deletion): its appointments went with it.
                self.forget(appointment.conversation)
                continue
            self._put(step, ap.reminded(appointment, reminder))
            params = self._params(appointment)
            by_mail = self._mail(appointment.conversation)
            soon = reminder is ap.Reminder.SOON
            # Missed while the bot was down: late, but the call link is still needed, and
            # a day-before one on the day itself says today.
            text = ap.reminder_words(appointment, reminder, step.at, self._hours(appointment))
            video = soon and appointment.kind is ap.Kind.VIDEO
            url = start_video(appointment, not by_mail) if video else None
            if by_mail and url is not None:
                step.add(MailToYouth(appointment.conversation,
                                     f"appointments.mail.reminder_{text}_video",
                                     (*params, ("url", url))))
            else:
                self._tell_youth(step, appointment.conversation,
                                 f"appointments.reminder_{text}", params)
            self._tell_staff(step, f"appointments.reminder_staff_{text}", appointment,
                             f"appt_remind:{appointment.id}:{reminder.value}")

    async def missed(self, step: Change) -> None:
        """Video appointments the bot was down through until their end (`ap.missed`): no
        call, no link. The youth is told it failed on our side and their counsellor will
        be in touch; the counsellor is asked to."""
        for appointment in ap.missed(self.known.values(), step.at):
            if await self.store.room_of(appointment.conversation) is None:
                self.forget(appointment.conversation)
                continue
            self._put(step, ap.reminded(appointment, ap.Reminder.MISSED))
            self._tell_youth(step, appointment.conversation, "appointments.missed_video",
                             self._params(appointment))
            self._tell_staff(step, "appointments.missed_staff", appointment,
                             f"appt_missed:{appointment.id}")

    # -- helpers -------------------------------------------------------------------------------

    def _tell_staff(self, step: Change, key: str, appointment: ap.Appointment,
                    tag: str = "", *, extra: Params = ()) -> None:
        """To its counsellor, in the staff room of the office it was booked with: the one
        whose address and hours it carries, where its counsellor works, whether its
        conversation has moved to another office since or closed. (Without offices, or
        booked before them, the notice follows its conversation as any other.) Once its
        counsellor has left the staff, to its office's leads (`hosts`)."""
        step.add(SayToStaff(key, (("id", appointment.id),
                                  ("conversation", appointment.conversation),
                                  *self._params(appointment), *extra),
                            mentions=self.hosts(appointment), office=appointment.office),
                 tag)

    def _tell_youth(self, step: Change, conversation: ConversationID, key: str,
                    params: Params) -> None:
        """In the youth's room, or by mail (``appointments.mail.*`` texts) to a mail youth."""
        if self._mail(conversation):
            step.add(MailToYouth(conversation, key.replace("appointments.",
                                                           "appointments.mail.", 1), params))
        else:
            step.add(SayToYouth(conversation, key, params))

    def _free_id(self) -> str:
        """A new id no appointment has: ids are the key of the records in memory and in the
        store, and `!appointment cancel` names them."""
        drawn = self.new_id()
        for _ in range(_DRAWS):
            if drawn not in self.known:
                return drawn
            drawn = self.new_id()
        # A source that keeps repeating itself (never, with 32 random bits) must not stop
        # the bot: count on from the last draw to the next free id.
        number = int(drawn.removeprefix("T-"), 16) if _HEX.fullmatch(drawn) else 0
        while (candidate := f"T-{number:08X}") in self.known:
            number = (number + 1) % 2 ** 32
        return candidate

    def _mail(self, conversation: ConversationID) -> bool:
        """The youth is reached by mail: now, or for a closed conversation at its close."""
        if self.is_open(conversation):
            return self.by_mail(conversation)
        return conversation in self.mail_closed

    def _hours(self, appointment: ap.Appointment) -> OpeningHours:
        return self.venue_of(appointment.office).hours

    def _params(self, appointment: ap.Appointment) -> Params:
        venue = self.venue_of(appointment.office)
        return (*ap.when_params(appointment.start, venue.hours),
                ("minutes", appointment.minutes), ("address", venue.address),
                ("phone", venue.phone))

    def _calendar(self, appointment: ap.Appointment, step: Change) -> bytes:
        by_mail = self._mail(appointment.conversation)
        venue = self.venue_of(appointment.office)
        where = {ap.Kind.IN_PERSON: venue.address,
                 ap.Kind.PHONE: f"Telefon / phone: {venue.phone}",
                 ap.Kind.VIDEO: "Video (Link per Mail / link by mail)" if by_mail
                 else "Video (Link im Chat / link in the chat)"}[appointment.kind]
        description = {
            ap.Kind.IN_PERSON: "Beratung vor Ort. In-person counselling.",
            ap.Kind.PHONE: "Bitte ruf uns zur Zeit des Termins an. Please call us then.",
            ap.Kind.VIDEO: "Den Link zum Videogespräch bekommst du 15 Minuten vorher per Mail. "
                           "You get the video link by mail 15 minutes before." if by_mail
                           else "Den Link zum Videogespräch bekommst du 15 Minuten vorher im "
                           "Chat. You get the video link in the chat 15 minutes before.",
        }[appointment.kind]
        return calendar_file(appointment, stamp=step.at, title=self.settings.calendar_title,
                             location=where, description=description)

    def _put(self, step: Change, appointment: ap.Appointment) -> None:
        self.known[appointment.id] = appointment
        step.sealed.append((key_of(appointment), appointment.encode()))
