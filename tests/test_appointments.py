"""Appointment rules without a clock: valid slots, each refusal, answers, reminders, the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from counsel_bot.core import appointments as ap
from counsel_bot.core.appointment_ics import calendar_file
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.messages import text
from counsel_bot.core.opening_hours import OpeningHours

HOURS = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
    d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}})
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday
CASE, ANNA = ConversationID("C-0000CAFE"), UserID("@anna:x")


def plan(day: str = "2026-12-10", at: str = "16:00", minutes: int = 45,
         existing: tuple[ap.Appointment, ...] = (), who: UserID = ANNA,
         ) -> ap.Appointment | ap.Refusal:
    return ap.plan(appointment_id="T-00000A", conversation=CASE, counsellor=who, day=day,
                   at=at, minutes=minutes, kind=ap.Kind.VIDEO, venue=ap.Venue(HOURS), now=NOW,
                   existing=existing)


def test_a_slot_in_the_opening_hours_is_planned_in_the_office_timezone() -> None:
    result = plan()
    assert isinstance(result, ap.Appointment)
    assert result.start == datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    assert result.status is ap.Status.PROPOSED
    assert ap.Appointment.decode(result.encode()) == result


@pytest.mark.parametrize(("day", "at", "minutes", "key"), [
    ("2026-12-32", "16:00", 45, "appointments.bad_date"),
    ("10.12.2026", "16:00", 45, "appointments.bad_date"),
    ("2026-12-10", "25:00", 45, "appointments.bad_date"),
    ("2027-03-28", "02:30", 45, "appointments.clock_change"),  # skipped by the clock change
    ("2026-11-30", "16:00", 45, "appointments.past"),
    ("2028-01-10", "16:00", 45, "appointments.too_far"),
    ("2026-12-10", "16:00", 5, "appointments.bad_duration"),
    ("2026-12-10", "17:30", 45, "appointments.closed"),  # runs past 18:00
    ("2026-12-10", "11:30", 45, "appointments.closed"),  # runs into the lunch break
    ("2026-12-12", "10:00", 45, "appointments.closed"),  # Saturday
])
def test_refusals_name_their_reason(day: str, at: str, minutes: int, key: str) -> None:
    result = plan(day, at, minutes)
    assert isinstance(result, ap.Refusal)
    assert result.key == key


@pytest.mark.parametrize(("day", "at"), [
    ("2027-03-28", "02:30"),  # spring forward: 02:00 becomes 03:00, there is no 02:30
    ("2027-10-31", "02:30"),  # fall back: 02:30 comes twice, first summer, then winter time
])
def test_a_time_the_clock_change_skips_or_doubles_is_refused_saying_why(
        day: str, at: str) -> None:
    """A review found "2027-03-28 02:30" refused as "not a valid date and time. Write it like
    this: 2026-12-10 16:00", though written just so: a night-shift counsellor could not see
    what to change. And "2027-10-31 02:30" was booked as the summer-time 02:30 and told to
    the youth as "31.10.2027 02:30", which happens twice that night: the youth cannot know
    which hour to come. Both are refused, naming the clock change and what to pick."""
    always = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {
        d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    result = ap.plan(appointment_id="T-00000A", conversation=CASE, counsellor=ANNA, day=day,
                     at=at, minutes=30, kind=ap.Kind.VIDEO, venue=ap.Venue(always), now=NOW,
                     existing=())
    assert isinstance(result, ap.Refusal)
    assert result.key == "appointments.clock_change"
    for language in ("de", "en"):
        said = text(result.key, language, **dict(result.params))
        assert at in said
        assert "02:00" in said
        assert "03:00" in said
    # An hour either side is an ordinary time.
    assert isinstance(ap.plan(appointment_id="T-00000A", conversation=CASE, counsellor=ANNA,
                              day=day, at="03:30", minutes=30, kind=ap.Kind.VIDEO,
                              venue=ap.Venue(always), now=NOW, existing=()), ap.Appointment)


def test_a_clash_with_the_counsellors_other_appointment_is_refused_not_a_colleagues() -> None:
    first = plan()
    assert isinstance(first, ap.Appointment)
    clash = plan(at="16:30", existing=(first,))
    assert isinstance(clash, ap.Refusal)
    assert clash.key == "appointments.clash"
    assert dict(clash.params)["other"] == "T-00000A"
    assert isinstance(plan(at="16:45", existing=(first,)), ap.Appointment)  # back to back
    elsewhere = ap.Appointment(first.id, ConversationID("C-0000BEEF"), ANNA, first.start, 45,
                               ap.Kind.VIDEO)
    assert isinstance(plan(at="16:30", existing=(elsewhere,), who=UserID("@ben:x")),
                      ap.Appointment)
    # The same youth's, though a colleague's: they cannot meet both at once.
    theirs = plan(at="16:30", existing=(first,), who=UserID("@ben:x"))
    assert isinstance(theirs, ap.Refusal)
    assert theirs.key == "appointments.clash_conversation"
    cancelled = ap.Appointment(first.id, CASE, ANNA, first.start, 45, ap.Kind.VIDEO,
                               ap.Status.CANCELLED)
    assert isinstance(plan(at="16:30", existing=(cancelled,)), ap.Appointment)


@pytest.mark.parametrize(("body", "answer"), [
    ("ja", True), ("Yes!", True), ("ok.", True), ("nein", False), ("No", False),
    ("anderer Termin", False), ("ja aber ich hab angst", None), ("vielleicht", None),
])
def test_the_youth_answers_with_one_word(body: str, answer: bool | None) -> None:
    assert ap.youth_answer(body) is answer


@pytest.mark.parametrize(("body", "answer"), [
    ("Ja, gerne!", True), ("ja gern :)", True), ("Yes please", True), ("ok danke!!", True),
    ("nein danke", False), ("No, thank you.", False), ("danke", None), ("gerne", None),
    ("ja gerne aber ich hab angst", None), ("ja, bitte ruf mich nicht an", None),
])
def test_a_courteous_yes_or_no_in_the_chat_answers(body: str, answer: bool | None) -> None:
    """A review found "Ja, gerne!" was no answer: the youth believed the time booked, and
    no calendar file or reminder came. Words of courtesy around the answer are the answer;
    anything more goes to the counsellor as it is."""
    assert ap.youth_answer(body) is answer


def test_reminders_the_day_before_and_fifteen_minutes_before_each_once() -> None:
    planned = plan()
    assert isinstance(planned, ap.Appointment)
    assert ap.due_reminders([planned], planned.start - timedelta(hours=1)) == []  # proposed
    confirmed = ap.confirmed(planned, NOW)
    assert ap.due_reminders([confirmed], planned.start - timedelta(hours=25)) == []
    [(_, first)] = ap.due_reminders([confirmed], planned.start - timedelta(hours=23))
    assert first is ap.Reminder.DAY_BEFORE
    confirmed = ap.reminded(confirmed, first)
    assert ap.due_reminders([confirmed], planned.start - timedelta(minutes=16)) == []
    [(_, second)] = ap.due_reminders([confirmed], planned.start - timedelta(minutes=14))
    assert second is ap.Reminder.SOON
    confirmed = ap.reminded(confirmed, second)
    assert ap.due_reminders([confirmed], planned.start - timedelta(minutes=1)) == []


def test_a_missed_reminder_still_goes_out_until_the_appointment_ends() -> None:
    """Down from T-16 to T+1: the 15-minute reminder (the video link) comes late, once,
    saying the appointment has begun; after the end nothing is reminded any more."""
    planned = plan()
    assert isinstance(planned, ap.Appointment)
    confirmed = ap.reminded(ap.confirmed(planned, NOW), ap.Reminder.DAY_BEFORE)
    late = planned.start + timedelta(minutes=1)
    [(_, reminder)] = ap.due_reminders([confirmed], late)
    assert reminder is ap.Reminder.SOON
    assert ap.begun(confirmed, late)
    assert not ap.begun(confirmed, planned.start - timedelta(minutes=14))
    assert ap.due_reminders([ap.reminded(confirmed, reminder)], late) == []
    assert ap.due_reminders([confirmed], planned.end) == []
    # Both missed (down since before the day): only the late 15-minute one.
    both = ap.confirmed(planned, NOW)
    assert [r for _, r in ap.due_reminders([both], late)] == [ap.Reminder.SOON]


def test_confirming_within_a_day_counts_as_the_day_before_reminder() -> None:
    planned = plan()
    assert isinstance(planned, ap.Appointment)
    late = ap.confirmed(planned, planned.start - timedelta(hours=3))
    assert late.reminded == (ap.Reminder.DAY_BEFORE,)


def test_the_calendar_file_is_rfc5545_and_names_nobody() -> None:
    planned = plan()
    assert isinstance(planned, ap.Appointment)
    raw = calendar_file(planned, stamp=NOW, title="Beratungstermin",
                        location="Musterstr. 1, Musterstadt", description="Video")
    calendar = icalendar.Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    assert str(calendar["VERSION"]) == "2.0"
    assert event.decoded("DTSTART") == planned.start
    assert event.decoded("DTEND") == planned.end
    assert str(event["SUMMARY"]) == "Beratungstermin"
    assert str(event["UID"]) == "T-00000A@counsel.invalid"
    for absent in (b"ORGANIZER", b"ATTENDEE", b"anna"):
        assert absent not in raw
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")


def test_a_cancelled_appointments_file_has_the_same_uid_marked_cancelled() -> None:
    from dataclasses import replace

    planned = plan()
    assert isinstance(planned, ap.Appointment)
    confirmed = ap.confirmed(planned, NOW)
    first = icalendar.Calendar.from_ical(calendar_file(
        confirmed, stamp=NOW, title="T", location="", description="d"))
    cancelled = replace(confirmed, status=ap.Status.CANCELLED)
    second = icalendar.Calendar.from_ical(calendar_file(
        cancelled, stamp=NOW, title="T", location="", description="d"))
    [one], [two] = first.walk("VEVENT"), second.walk("VEVENT")
    assert str(one["UID"]) == str(two["UID"])
    assert (str(one["STATUS"]), str(two["STATUS"])) == ("CONFIRMED", "CANCELLED")
    assert int(two["SEQUENCE"]) > int(one["SEQUENCE"])
    assert str(second["METHOD"]) == "PUBLISH"


@pytest.mark.parametrize(("text", "answer"), [
    ("ja", True),
    ("Ja, gerne!\n\nKim", True),
    ("Hallo,\n\nja passt.\n\nAm 01.12.2026 um 11:00 schrieb Beratung:\n> Passt das?", True),
    ("Hallo Anna,\nYes, thanks!", True),
    ("ja\n-- \nKim, gesendet vom Handy", True),
    ("Nein, da habe ich Schule.", False),
    ("anderer Termin", False),
    ("Ja, aber lieber später", None),  # left to the counsellor
    ("ja aber später", None),
    ("ich weiß nicht", None),
    ("> ja\n", None),  # only the quoted proposal says it
    ("On Tue, Dec 1, 2026 Beratung wrote:\n> ja", None),
    ("", None),
])
def test_a_mail_answer_is_the_first_written_line_above_the_quote(
    text: str, answer: bool | None
) -> None:
    assert ap.mail_answer(text) is answer


@pytest.mark.parametrize(("text", "bare"), [
    ("Ja, gerne!\n\nKim", True),
    ("Hallo,\n\nnein, danke.\n\nViele liebe Grüße\nKim Müller\n\n> Passt das?", True),
    ("ja\n-- \nKim, gesendet vom Handy", True),
    ("Nein, da habe ich Schule.\n\nMir geht es gerade gar nicht gut, zu Hause ist Streit.",
     False),
    ("Nein, mir geht's gerade nicht gut", False),  # a reason can be the message
    ("Ja, gerne!\n\nMir geht's schlecht", False),
    ("ich weiß nicht", False),  # no answer at all
    # Only above the answer is a line that begins like a greeting one.
    ("ja\n\nLieber wäre mir, wenn meine Mutter nichts davon erfährt.", False),
    ("Yes\n\nDear me, I cannot do this any more.", False),
    ("nein\n\nLiebe Grüße, Kim", True),
])
def test_after_the_close_only_a_bare_answer_answers(text: str, bare: bool) -> None:
    assert ap.bare_mail_answer(text) is bare


@pytest.mark.parametrize(("day", "at", "zone"), [
    ("0001-01-01", "00:00", "Europe/Berlin"), ("0001-01-01", "00:52", "Europe/Berlin"),
    ("9999-12-31", "23:59", "America/New_York"), ("0001-01-01", "00:00", "Asia/Tokyo"),
])
def test_a_date_at_the_edge_of_the_calendar_is_no_such_time_not_a_crash(
    day: str, at: str, zone: str,
) -> None:
    """Its UTC time would fall before year 1 or after 9999 (OverflowError): no such time."""
    hours = OpeningHours.from_dict({"timezone": zone, "weekly": {}})
    assert ap.local_start(day, at, hours) is None


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-02"])
def test_the_first_and_last_years_are_refused_with_a_reason(day: str) -> None:
    """Dates that do exist there are refused as past or too far, never a crash."""
    result = ap.plan(appointment_id="T-00000001", conversation=ConversationID("C-1"),
                     counsellor=UserID("@a:x"), day=day, at="12:00", minutes=240,
                     kind=ap.Kind.VIDEO, venue=ap.Venue(OpeningHours.from_dict(
                         {"timezone": "Europe/Berlin", "weekly": {}})),
                     now=NOW, existing=())
    assert isinstance(result, ap.Refusal)
    assert result.key in ("appointments.past", "appointments.too_far")
