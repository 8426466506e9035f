"""The iCalendar file (RFC 5545) of a confirmed appointment, made with `icalendar` (pure).

It says only what the youth needs on their calendar: a neutral title, the time, where (the
office's address for an appointment in person) and how; never a name, never the youth's
details, and no organiser or attendee addresses (calendar apps would show and sync them).
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from counsel_bot.core.appointments import Appointment, Status

PRODID = "-//counsel//appointments//DE"


def calendar_file(
    appointment: Appointment, *, stamp: datetime, title: str, location: str, description: str,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # The appointment id is random and says nothing; the domain part only makes it unique.
    event.add("uid", f"{appointment.id}@counsel.invalid")
    event.add("dtstamp", stamp)
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", title)
    if location:
        event.add("location", location)
    event.add("description", description)
    event.add("class", "PRIVATE")
    if appointment.status is Status.CANCELLED:
        # The same UID with a higher SEQUENCE and STATUS:CANCELLED: a calendar that took the
        # first file marks the event cancelled (METHOD:CANCEL would need an organiser).
        event.add("status", "CANCELLED")
        event.add("sequence", 1)
        event.add("transp", "TRANSPARENT")
    else:
        event.add("status", "CONFIRMED")
        event.add("sequence", 0)
        event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def filename(appointment: Appointment) -> str:
    return f"termin-{appointment.id.lower()}.ics"


