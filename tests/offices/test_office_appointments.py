"""Issue 19 with offices (issue 16): an appointment is its conversation's office's, held to
that office's opening hours and naming that office's address and phone; [opening_hours] and
[appointments] are the defaults. Pure rules first, then through the conductor (memory store,
no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from counsel_bot.config import ConfigError, settings_from_mapping
from counsel_bot.conversation import offices
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.video_calls import VideoCalls
from counsel_bot.core import appointments as ap
from counsel_bot.core import messages
from counsel_bot.core.effects import (
    Effect,
    PutWidget,
    SayInRoom,
    SayPrivately,
    SayToStaff,
    SendCalendar,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.offices import OfficeBook, OfficeDesk, office_from
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 16:00 in Berlin
CASE, ANNA, BEN = ConversationID("C-0000CAFE"), UserID("@anna:x"), UserID("@ben:x")
WEEKDAYS = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
MON_WED = {"mon": ["14:00-18:00"], "wed": ["14:00-18:00"]}


def hours(weekly: dict[str, list[str]]) -> OpeningHours:
    return OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": weekly})


DEFAULT = ap.Venue(hours(WEEKDAYS), "Hauptstraße 1, 89073 Ulm", "0731 000")
BOOK = OfficeBook(
    offices=(office_from("familie", "Familienberatung", ("family",), ()),
             office_from("schule", "Schulberatung", ("school",), ())),
    fallback="familie",
    desks={"familie": OfficeDesk(address="Münsterplatz 1, 89073 Ulm", phone="+49 731 111"),
           "schule": OfficeDesk(hours=hours(MON_WED), phone="089 222 333")})


def plan(venue: ap.Venue, day: str, at: str) -> ap.Appointment | ap.Refusal:
    return ap.plan(appointment_id="T-00000A", conversation=CASE, counsellor=ANNA, day=day,
                   at=at, minutes=45, kind=ap.Kind.IN_PERSON, venue=venue, now=NOW,
                   existing=())


def say(key: str, params: Any, language: messages.Language = "de") -> str:
    return messages.text(key, language, **dict(params))


# -- the pure rules ------------------------------------------------------------------------


def test_each_office_takes_its_own_hours_address_and_phone_and_the_defaults_for_the_rest(
) -> None:
    family, school = BOOK.venue("familie", DEFAULT), BOOK.venue("schule", DEFAULT)
    assert (family.hours, family.address, family.phone) == (
        DEFAULT.hours, "Münsterplatz 1, 89073 Ulm", "+49 731 111")
    assert (school.hours.weekly, school.address, school.phone) == (
        hours(MON_WED).weekly, DEFAULT.address, "089 222 333")
    assert (family.office, family.name, school.name) == (
        "familie", "Familienberatung", "Schulberatung")
    # An appointment from before offices ("") and a single office keep the defaults.
    assert BOOK.venue("", DEFAULT) == DEFAULT
    assert OfficeBook().venue("", DEFAULT) == DEFAULT


def test_a_slot_in_one_offices_hours_is_refused_for_the_other_naming_it_and_its_hours(
) -> None:
    # Thursday 10:00: the family office is open (weekdays 9-18), the school office is not
    # (Monday and Wednesday afternoons only).
    booked = plan(BOOK.venue("familie", DEFAULT), "2026-12-10", "10:00")
    assert isinstance(booked, ap.Appointment)
    assert booked.office == "familie"

    refused = plan(BOOK.venue("schule", DEFAULT), "2026-12-10", "10:00")
    assert isinstance(refused, ap.Refusal)
    assert refused.key == "appointments.closed_office"
    german = say(refused.key, refused.params)
    assert german.startswith("10.12.2026 10:00: Der Termin läge")
    assert ("Öffnungszeiten von Schulberatung (Mo 14:00–18:00; Di geschlossen; "
            "Mi 14:00–18:00; Do–So geschlossen)") in german
    english = say(refused.key, refused.params, "en")
    assert ("opening hours of Schulberatung (Mon 14:00–18:00; Tue closed; Wed 14:00–18:00; "
            "Thu–Sun closed)") in english

    # In the school office's own hours it is booked with the school office.
    wednesday = plan(BOOK.venue("schule", DEFAULT), "2026-12-09", "15:00")
    assert isinstance(wednesday, ap.Appointment)
    assert wednesday.office == "schule"


def test_without_offices_the_reason_stays_the_one_office_text() -> None:
    refused = plan(ap.Venue(hours(MON_WED)), "2026-12-10", "10:00")
    assert isinstance(refused, ap.Refusal)
    assert refused.key == "appointments.closed"


def test_the_office_is_kept_with_the_appointment_and_old_records_read_as_no_office() -> None:
    booked = plan(BOOK.venue("schule", DEFAULT), "2026-12-09", "15:00")
    assert isinstance(booked, ap.Appointment)
    assert ap.Appointment.decode(booked.encode()) == booked
    old = booked.encode().replace(b',"office":"schule"', b"")
    assert b"office" not in old
    assert ap.Appointment.decode(old).office == ""


# -- configuration -------------------------------------------------------------------------


def test_an_office_may_set_its_address_and_phone() -> None:
    settings = settings_from_mapping({"offices": [
        {"id": "a", "address": "Münsterplatz 1, 89073 Ulm", "phone": "+49 (731) 12 34-56"},
        {"id": "b", "phone": "116 111"}]})
    assert [(o.address, o.phone) for o in settings.offices] == [
        ("Münsterplatz 1, 89073 Ulm", "+49 (731) 12 34-56"), ("", "116 111")]


@pytest.mark.parametrize(("office", "message"), [
    ({"phone": "call us"}, r"office 'a': phone 'call us' is not a phone number youths can "
                           r"dial, like \"\+49 731 123456\""),
    ({"phone": "12"}, r"office 'a': phone '12' is not a phone number .*3 to 15 digits"),
    ({"phone": "+49 731 1234567890123"}, r"office 'a': phone .*\(3 to 15 digits"),
    ({"address": "Münsterplatz 1\n89073 Ulm"}, r"office 'a': address must be one line"),
    ({"address": "   "}, r"office 'a': address must be one line"),
    ({"address": "x" * 201}, r"office 'a': address must be one line of at most 200"),
    ({"phone": 731}, r"offices\[0\].phone: expected a string"),
])
def test_a_bad_office_address_or_phone_names_the_office_and_the_fix(
    office: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"offices": [{"id": "a", **office}]})


# -- through the conductor -----------------------------------------------------------------

CONFIG: dict[str, Any] = {
    "appointments": {"office_address": "Hauptstraße 1, 89073 Ulm", "office_phone": "0731 000"},
    "opening_hours": {"weekly": WEEKDAYS},
    "offices": [
        {"id": "familie", "name": "Familienberatung", "topics": ["family"],
         "counsellors": [str(ANNA)], "address": "Münsterplatz 1, 89073 Ulm",
         "phone": "+49 731 111"},
        {"id": "schule", "name": "Schulberatung", "topics": ["school"],
         "counsellors": [str(BEN)], "hours": MON_WED, "phone": "089 222 333"},
    ],
}


async def two_offices(config: dict[str, Any] = CONFIG
                      ) -> tuple[Conductor, dict[str, tuple[RoomID, ConversationID]]]:
    from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir

    policy = policy_from(settings_from_mapping(config))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, NOW)
    c.appointments.new_id = iter(f"T-00000{i}" for i in range(10)).__next__
    await c.sync_roster(NOW)
    for i, user in enumerate((ANNA, BEN)):
        await c.staff_wrote(RoomID("!staff:x"), user, EventID(f"$duty{i}"), "!duty on", NOW)
    rooms = {}
    for n, office in enumerate(("familie", "schule")):
        room = RoomID(f"!room{n}:x")
        await c.youth_wrote(room, UserID(f"@youth{n}:x"), None, EventID(f"$y{n}"),
                            f"stelle:{office} hallo", NOW)
        record = await c.store.conversation_by_room(room)
        assert record is not None
        rooms[office] = (room, record.conversation)
    return c, rooms


async def texts(c: Conductor, key_part: str) -> list[str]:
    """Every pending text whose key ends with ``key_part``, rendered in German."""
    found = []
    for pending in await c.store.pending_outbox():
        effect: Effect = decode_effect(pending.payload)
        key = getattr(effect, "key", "")
        if key.endswith(key_part):
            found.append(say(key, getattr(effect, "params", ())))
    return found


async def test_each_office_is_checked_against_its_hours_and_names_its_own_place() -> None:
    c, rooms = await two_offices()
    (family_room, family), (school_room, school) = rooms["familie"], rooms["schule"]
    assert c.router.conversation(family).assigned_to == ANNA  # type: ignore[union-attr]
    assert c.router.conversation(school).assigned_to == BEN  # type: ignore[union-attr]

    # Thursday 10:00: the family office's hours (the [opening_hours] default) allow it.
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    [proposal] = await texts(c, "proposed_inperson")
    assert "10.12.2026 10:00" in proposal
    assert "in unserer Beratungsstelle, Münsterplatz 1, 89073 Ulm." in proposal

    # The same slot for the school office's youth: refused, naming the office and its hours.
    await c.staff_wrote(school_room, BEN, EventID("$b1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    [refusal] = await texts(c, "closed_office")
    assert "außerhalb der Öffnungszeiten von Schulberatung (Mo 14:00–18:00" in refusal
    assert len(await texts(c, "proposed_inperson")) == 1  # nothing went to the youth

    # Wednesday 15:00, within the school office's hours: in person at the default address
    # (it sets none), then by phone at its own number.
    await c.staff_wrote(school_room, BEN, EventID("$b2"),
                        "!appointment 2026-12-09 15:00 45min inperson", NOW)
    assert any("Beratungsstelle, Hauptstraße 1, 89073 Ulm." in t
               for t in await texts(c, "proposed_inperson"))
    await c.staff_wrote(school_room, BEN, EventID("$b3"),
                        "!appointment 2026-12-09 15:00 45min phone", NOW)
    [phone] = await texts(c, "proposed_phone")
    assert "Du rufst uns dann an: 089 222 333" in phone

    # The family youth says yes: the calendar file names the family office's address.
    await c.youth_wrote(family_room, UserID("@youth0:x"), None, EventID("$y9"), "ja", NOW)
    [calendar] = [e for e in map(decode_effect, [p.payload for p in
                                                  await c.store.pending_outbox()])
                  if isinstance(e, SendCalendar) and e.conversation == family]
    assert "LOCATION:Münsterplatz 1\\, 89073 Ulm" in calendar.ics


async def test_the_booked_office_stays_the_place_after_a_transfer() -> None:
    c, rooms = await two_offices()
    family_room, family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    await c.staff_wrote(family_room, ANNA, EventID("$a2"), "!transfer office:schule", NOW)
    assert c.router.conversation(family).office == "schule"  # type: ignore[union-attr]
    await c.youth_wrote(family_room, UserID("@youth0:x"), None, EventID("$y9"), "ja", NOW)
    [confirmed] = await texts(c, "appointments.confirmed")
    [calendar] = [e for e in map(decode_effect, [p.payload for p in
                                                  await c.store.pending_outbox()])
                  if isinstance(e, SendCalendar)]
    # Agreed at the family office, so it stays there (the school office would refuse
    # Thursday 10:00 and has no address of its own).
    assert "LOCATION:Münsterplatz 1\\, 89073 Ulm" in calendar.ics
    assert "10.12.2026 10:00" in confirmed


async def test_an_office_without_an_address_and_no_default_is_refused_naming_the_key() -> None:
    config = {**CONFIG, "appointments": {}}
    c, rooms = await two_offices(config)
    school_room, _ = rooms["schule"]
    await c.staff_wrote(school_room, BEN, EventID("$b1"),
                        "!appointment 2026-12-09 15:00 45min inperson", NOW)
    [refusal] = await texts(c, "no_address_office")
    assert "Beratungsstelle schule" in refusal
    assert "address in ihrem [[offices]]-Eintrag" in refusal


async def test_a_reply_to_a_command_in_a_youths_room_goes_to_its_offices_staff_room() -> None:
    c, rooms = await two_offices()
    school_room, _ = rooms["schule"]
    await c.staff_wrote(school_room, BEN, EventID("$b1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    [refusal] = [e for e in map(decode_effect, [p.payload for p in
                                                 await c.store.pending_outbox()])
                 if isinstance(e, SayToStaff) and e.key == "appointments.closed_office"]
    # It names no conversation, so only the command's room tells where it belongs.
    assert refusal.office == "schule"
    assert refusal.mentions == (BEN,)


LEAD_B = UserID("@lena:x")  # team lead of the school office
LEAD_A = UserID("@lea:x")  # team lead of the family office
WITH_LEADS: dict[str, Any] = {
    **CONFIG,
    "offices": [{**CONFIG["offices"][0], "team_leads": [str(LEAD_A)]},
                {**CONFIG["offices"][1], "team_leads": [str(LEAD_B)]}],
}


async def _cancel_replies(c: Conductor, who: UserID) -> list[str]:
    effects = [decode_effect(p.payload) for p in await c.store.pending_outbox()]
    return [e.key for e in effects if isinstance(e, SayInRoom) and e.to == who]


async def test_a_lead_of_another_office_cannot_cancel_an_appointment() -> None:
    """Another office's conversation is unknown to a team lead, and so are its appointments:
    the school office's lead is told there is no such appointment, and it stays. Before,
    `!appointment cancel` checked only "is a team lead", in any office."""
    c, rooms = await two_offices(WITH_LEADS)
    family_room, _family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    [appointment] = c.appointments.known.values()
    await c.staff_wrote(RoomID("!staff:x"), LEAD_B, EventID("$l1"),
                        f"!appointment cancel {appointment.id}", NOW)
    assert c.appointments.known[appointment.id].status is ap.Status.PROPOSED
    assert await _cancel_replies(c, LEAD_B) == ["appointments.unknown"]


async def closed_with_an_appointment() -> tuple[Conductor, ap.Appointment]:
    """The family office's youth said yes to an in-person appointment, then the chat was
    closed: the conductor and the appointment."""
    c, rooms = await two_offices(WITH_LEADS)
    family_room, family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    await c.youth_wrote(family_room, UserID("@youth0:x"), None, EventID("$y9"), "ja", NOW)
    await c.staff_wrote(family_room, ANNA, EventID("$c"), f"!close {family}", NOW)
    [appointment] = c.appointments.known.values()
    return c, appointment


async def test_the_lead_of_its_office_cancels_it_also_after_the_close() -> None:
    c, appointment = await closed_with_an_appointment()
    await c.staff_wrote(RoomID("!staff:x"), LEAD_B, EventID("$l1"),
                        f"!appointment cancel {appointment.id}", NOW)
    assert c.appointments.known[appointment.id].status is ap.Status.CONFIRMED
    await c.staff_wrote(RoomID("!staff:x"), LEAD_A, EventID("$l2"),
                        f"!appointment cancel {appointment.id}", NOW)
    assert c.appointments.known[appointment.id].status is ap.Status.CANCELLED


def _staff(effects: list[Effect], key: str) -> list[SayToStaff]:
    return [e for e in effects if isinstance(e, SayToStaff) and e.key == key]


async def _pending(c: Conductor) -> list[Effect]:
    return [decode_effect(p.payload) for p in await c.store.pending_outbox()]


async def test_after_an_office_transfer_the_counsellor_who_booked_is_reminded_in_their_room(
) -> None:
    """Booked by Anna with the family office (its address, its hours), then the conversation
    moves to the school office: the reminders to staff still go to the family office's staff
    room, mentioning Anna, who holds the appointment there. Before, they followed the
    conversation to the school office's room, where Anna is not staff."""
    c, rooms = await two_offices()
    family_room, family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min inperson", NOW)
    await c.youth_wrote(family_room, UserID("@youth0:x"), None, EventID("$y9"), "ja", NOW)
    await c.staff_wrote(family_room, ANNA, EventID("$a2"), "!transfer office:schule", NOW)
    assert c.router.conversation(family).office == "schule"  # type: ignore[union-attr]
    await c.tick(datetime(2026, 12, 10, 9, 0, tzinfo=UTC) - timedelta(hours=23))
    [reminder] = _staff(await _pending(c), "appointments.reminder_staff_day_before")
    assert reminder.mentions == (ANNA,)
    assert reminder.office == "familie"


async def test_after_the_chat_closed_the_reminder_and_the_call_go_to_the_offices_staff_room(
) -> None:
    """A chat closed with an appointment to come: the staff reminder and the counsellor's
    call link go to the family office's staff room, where Anna works ("notices about an
    office's conversations go only there"). Before, the closed conversation was no longer
    in the router, so they went to the main staff room."""
    c, rooms = await two_offices()
    c.policy = replace(c.policy, video_secret="s" * 32)
    c.video = VideoCalls(VideoSettings(base_url="https://meet.x", jitsi_app_id="counsel",
                                       jitsi_app_secret_file="/dev/null"), "s" * 32)
    c.appointments.video_enabled = True
    family_room, family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min video", NOW)
    await c.youth_wrote(family_room, UserID("@youth0:x"), None, EventID("$y9"), "ja", NOW)
    await c.staff_wrote(family_room, ANNA, EventID("$c"), f"!close {family}", NOW)
    start = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    await c.tick(start - timedelta(hours=23))
    [reminder] = _staff(await _pending(c), "appointments.reminder_staff_day_before")
    assert reminder.office == "familie"
    await c.tick(start - timedelta(minutes=14))
    [sent] = _staff(await _pending(c), "video.link_sent")
    assert sent.office == "familie"
    [link] = [e for e in await _pending(c)
              if isinstance(e, SayPrivately) and e.key == "video.counsellor_link"]
    assert link.to == ANNA


async def test_another_offices_conversation_is_unknown_to_appointment_not_someone_elses(
) -> None:
    """Another office's conversation is unknown to its staff, as its appointments are: naming
    its id in `!appointment` tells no more than an id nobody has. Before, the answer was
    "not yours", which says the conversation exists and is another's."""
    c, rooms = await two_offices(WITH_LEADS)
    _room, family = rooms["familie"]
    for n, (who, case) in enumerate(((BEN, family), (BEN, "C-DEADBEEF"), (LEAD_B, family))):
        await c.staff_wrote(RoomID("!staff:x"), who, EventID(f"$x{n}"),
                            f"!appointment {case} 2026-12-10 10:00 45min inperson", NOW)
    replies = {who: [k for k in await _cancel_replies(c, who) if not k.startswith("duty.")]
               for who in (BEN, LEAD_B)}
    assert replies == {BEN: ["appointments.which", "appointments.which"],
                       LEAD_B: ["appointments.which"]}
    assert c.appointments.known == {}


def test_a_call_link_for_a_counsellor_in_no_office_stays_in_the_offices_own_room() -> None:
    """Anna booked a video appointment with the family office and has left since (taken off
    the staff, in no office now): its 15-minute reminder still brings the call link,
    mentioning her. It goes to the family office's room, whose staff can take the call,
    never to the main staff room every office reads: the link lets whoever reads it into
    the youth's call."""
    book = replace(BOOK, desks={**BOOK.desks, "familie": replace(BOOK.desks["familie"],
                                                                 staff=(str(BEN),))})
    for key in ("video.staff_link", "video.counsellor_link"):
        link = SayToStaff(key, (("conversation", CASE), ("url", "https://meet.x/c?jwt=t")),
                          mentions=(ANNA,), office="familie")
        assert [e.office for e in offices.reaching_everyone(link, book)
                if isinstance(e, SayToStaff)] == ["familie"], key


async def test_a_transfer_to_another_office_ends_the_call_whose_link_the_first_office_holds(
) -> None:
    """Anna started a call; its moderator link is in the family office's staff room, where
    all its staff read it. Sent on to the school office, the youth must not go on meeting in
    that call: the widget that leads into it is taken out of the room, and the school
    office starts its own."""
    c, rooms = await two_offices()
    c.policy = replace(c.policy, video_secret="s" * 32)
    c.video = VideoCalls(VideoSettings(base_url="https://meet.x", jitsi_app_id="counsel",
                                       jitsi_app_secret_file="/dev/null"), "s" * 32)
    family_room, family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$v"), "!video", NOW)
    [shown] = [e for e in await _pending(c) if isinstance(e, PutWidget) and e.content]
    await c.staff_wrote(family_room, ANNA, EventID("$t"), "!transfer office:schule", NOW)
    assert c.router.conversation(family).office == "schule"  # type: ignore[union-attr]
    removed = [e for e in await _pending(c) if isinstance(e, PutWidget) and not e.content]
    assert [e.widget_id for e in removed] == [shown.widget_id], "the call stays in the room"


async def test_a_transfer_to_another_office_leaves_the_appointments_call_of_the_first(
) -> None:
    """The appointment is the family office's and stands with Anna after the chat goes to
    the school office. Ten minutes into its call Anna sent the chat on to the school office,
    as agreed with the youth: the appointment's call they were talking in was taken out of
    the room, though it belongs to the appointment, not to the chat. An appointment's call
    stays, as through any other hand-over while it may run; a chat's own call of the first
    office still ends."""
    c, rooms = await two_offices()
    c.policy = replace(c.policy, video_secret="s" * 32)
    c.video = VideoCalls(VideoSettings(base_url="https://meet.x", jitsi_app_id="counsel",
                                       jitsi_app_secret_file="/dev/null"), "s" * 32)
    c.appointments.video_enabled = True
    family_room, family = rooms["familie"]
    await c.staff_wrote(family_room, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 10:00 45min video", NOW)
    await c.youth_wrote(family_room, UserID("@youth0:x"), None, EventID("$y9"), "ja", NOW)
    start = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    await c.staff_wrote(family_room, ANNA, EventID("$a2"), "gleich geht's los",
                        start - timedelta(minutes=15))
    await c.tick(start - timedelta(minutes=14))
    [shown] = [e for e in await _pending(c) if isinstance(e, PutWidget) and e.content]
    await c.staff_wrote(family_room, ANNA, EventID("$t"), "!transfer office:schule",
                        start + timedelta(minutes=10))
    assert c.router.conversation(family).office == "schule"  # type: ignore[union-attr]
    assert [e for e in await _pending(c) if isinstance(e, PutWidget)] == [shown]
    assert c.video.widgets == {family: shown.widget_id}
