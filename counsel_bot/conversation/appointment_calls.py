"""A video appointment's call, due fifteen minutes before it (`Appointments.due`).

It never cuts the chat's own call while that is live: its counsellor may be talking to the
youth right then (the widget vanished mid-call, the youth got a new link, and a counsellor
who had taken the chat over was not told why). The appointment's counsellor in that call
keeps it for the appointment (`VideoCalls.adopt`); another's makes the appointment's call
wait until it is over (ended, handed over, its links run out), started then while the
appointment may still run (`waited_for`). Those concerned are told, with the reason. No I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation import video_calls
from counsel_bot.conversation.change import Change
from counsel_bot.core import appointments as ap
from counsel_bot.core.effects import MailToYouth, SayToStaff
from counsel_bot.core.ids import ConversationID

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor


class AppointmentCalls:
    def __init__(self, conductor: Conductor) -> None:
        self.conductor = conductor

    def due(self, step: Change, appointment: ap.Appointment, tell_youth: bool) -> str | None:
        """The call of a video appointment, due now: the youth's link (None: none new)."""
        c = self.conductor
        conversation, hosts = appointment.conversation, c.appointments.hosts(appointment)
        params = (("id", appointment.id), ("conversation", conversation))
        if c.video.chat_call_live(conversation, step.at):
            host = c.video.hosts.get(conversation)
            if host in hosts and c.video.adopt(step, conversation,
                                               appointment.end + ap.OVERRUN):
                step.add(SayToStaff("video.appointment_in_call", params, mentions=hosts,
                                    office=appointment.office))
                return None
            c.video.wait(step, conversation, appointment.id)
            told = tuple(dict.fromkeys((*hosts, *((host,) if host else ()))))
            step.add(SayToStaff("video.appointment_waits", params, mentions=told,
                                office=appointment.office))
            return None
        return self._start(step, appointment, tell_youth)

    def waited_for(self, step: Change, at: datetime) -> None:
        """Appointments' calls that waited for the chat's live call: started once it is
        over, while the appointment may still run; given up once it is off or over."""
        c = self.conductor
        for conversation, appointment_id in sorted(c.video.waiting.items()):
            appointment = c.appointments.known.get(appointment_id)
            if appointment is None or not appointment.live \
                    or at >= appointment.end + ap.OVERRUN:
                c.video.waited(step, conversation)
            elif not c.video.chat_call_live(conversation, at):
                c.video.waited(step, conversation)
                by_mail = c.appointments.by_mail(conversation)
                url = self._start(step, appointment, not by_mail)
                if by_mail and url is not None:
                    step.add(MailToYouth(conversation, "video.link", (("url", url),)))

    async def restore(self) -> None:
        """The calls waiting, from the store (at the start, after a failed step)."""
        c = self.conductor
        c.video.waiting = {
            ConversationID(key.removeprefix(video_calls.WAITING_PREFIX)): value
            for key, value in await c.store.settings(video_calls.WAITING_PREFIX) if value}

    def _start(self, step: Change, appointment: ap.Appointment, tell_youth: bool) -> str | None:
        c = self.conductor
        return c.video.start(
            step, appointment.conversation, appointment.counsellor,
            self._host_name(appointment), tell_youth=tell_youth,
            office=appointment.office, until=appointment.end + ap.OVERRUN,
            staff_link=True, mentions=c.appointments.hosts(appointment),
            appointment=True)

    def _host_name(self, appointment: ap.Appointment) -> str:
        """The name the call's moderator link shows the youth: its counsellor's, none once
        they left the staff (whoever takes the call over must not appear as them)."""
        c = self.conductor
        counsellor = appointment.counsellor
        return c.counsellor_name(counsellor) if counsellor in c.policy.staff else ""
