"""Appointments through the conductor: propose, answer, file, reminders, cancel; no server."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.video_calls import VideoCalls
from counsel_bot.core import appointments as ap
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import (
    Effect,
    MailToYouth,
    PutWidget,
    SayInRoom,
    SayPrivately,
    SayToStaff,
    SayToYouth,
    SendCalendar,
    decode_effect,
    encode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM, YOUTH, STAFF_ROOM = RoomID("!room:x"), UserID("@sunflower:x"), RoomID("!staff:x")
ANNA = UserID("@anna:x")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # default hours: always open
START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 16:00 Berlin


async def office() -> tuple[Conductor, ConversationID, FakeClock]:
    policy = replace(policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA),)),
                                          video=VideoSettings(base_url="https://meet.x"))),
                     appointments=AppointmentSettings(office_address="Musterstr. 1"))
    clock = FakeClock(NOW)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, NOW)
    c.appointments.new_id = lambda: "T-00000A"
    await c.sync_roster(NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo", NOW)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    return c, record.conversation, clock


async def outbox(c: Conductor) -> list[Effect]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def youth_keys(c: Conductor) -> list[str]:
    return [e.key for e in await outbox(c) if isinstance(e, SayToYouth)]


async def test_propose_confirm_remind_with_the_call_link_and_cancel() -> None:
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    assert "appointments.proposed_video" in await youth_keys(c)
    staff = [e for e in await outbox(c) if isinstance(e, SayToStaff)
             and e.key == "appointments.proposed_staff"]
    assert len(staff) == 1  # the reply to a command in the youth's room goes to staff

    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", clock.now())
    assert "appointments.confirmed" in await youth_keys(c)
    [calendar] = [e for e in await outbox(c) if isinstance(e, SendCalendar)]
    assert "DTSTART:20261210T150000Z" in calendar.ics
    assert calendar.filename == "termin-t-00000a.ics"
    # "ja" was an answer, not a message the routing parser saw as a command.
    assert "youth_help" not in await youth_keys(c)

    clock.set(START - timedelta(hours=23))
    await c.tick(clock.now())
    assert (await youth_keys(c)).count("appointments.reminder_day_before") == 1
    await c.tick(clock.advance(timedelta(minutes=5)))
    assert (await youth_keys(c)).count("appointments.reminder_day_before") == 1

    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    keys = await youth_keys(c)
    assert "appointments.reminder_soon" in keys
    assert "video.link" in keys
    assert any(isinstance(e, PutWidget) for e in await outbox(c))

    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a2"), "!appointments", clock.now())
    [listing] = [e for e in await outbox(c) if isinstance(e, SayInRoom)
                 and e.key == "appointments.list"]
    assert "T-00000A" in str(listing.params)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"), "!appointment cancel T-00000A",
                        clock.now())
    assert "appointments.cancelled" in await youth_keys(c)
    assert c.appointments.known["T-00000A"].status.value == "cancelled"


async def test_refusals_reach_the_counsellor_only_and_a_no_asks_for_another_time() -> None:
    c, conversation, _ = await office()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"),
                        f"!appointment {conversation} 2026-11-30 16:00 45min video", NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a2"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min phone", NOW)
    replies = [e.key for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert replies[-2:] == ["appointments.past", "appointments.no_phone"]
    assert not any(k.startswith("appointments.") for k in await youth_keys(c))

    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min inperson", NOW)
    [proposal] = [e for e in await outbox(c) if isinstance(e, SayToYouth)
                  and e.key == "appointments.proposed_inperson"]
    assert dict(proposal.params)["address"] == "Musterstr. 1"
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "anderer Termin", NOW)
    assert "appointments.declined" in await youth_keys(c)
    assert not any(isinstance(e, SendCalendar) for e in await outbox(c))


async def test_appointments_survive_a_restart_and_go_with_the_conversation() -> None:
    c, conversation, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    again = await Conductor.open(c.store, c.detector, c.policy, NOW)
    assert list(again.appointments.known) == ["T-00000A"]
    await c.store.erase_conversation(conversation)
    assert await c.store.sealed_settings("appt:") == []


async def test_a_failed_write_leaves_no_appointment_in_memory() -> None:
    c, _, _ = await office()

    async def failing(transition: object) -> bool:
        raise OSError("disk full")
    c.store.commit_transition = failing  # type: ignore[method-assign,assignment]
    with pytest.raises(OSError, match="disk full"):
        await c.staff_wrote(ROOM, ANNA, EventID("$a1"),
                            "!appointment 2026-12-10 16:00 45min video", NOW)
    assert c.appointments.known == {}


async def test_after_the_chat_closes_the_bot_stays_for_the_appointments_reminders() -> None:
    from counsel_bot.core.effects import Leave

    c, conversation, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "5", NOW)
    assert not any(isinstance(e, Leave) for e in await outbox(c))
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert "appointments.reminder_soon" in await youth_keys(c)


async def mail_youth() -> tuple[Conductor, ConversationID, FakeClock]:
    """The office above, with the youth switched to mail (as the mail channel does)."""
    from counsel_bot.core.routing import events as ev
    from counsel_bot.core.routing.model import Channel

    c, conversation, clock = await office()

    async def switch(step: Change, conv: ConversationID, address: str) -> None:
        c.handle(step, [ev.ChannelChanged(step.at, conv, Channel.MAIL)], reply_room=None)
    c.mail_switch = switch
    step = Change(NOW, None)
    await switch(step, conversation, "kim@youth.example")
    await c.commit(step)
    return c, conversation, clock


async def mails(c: Conductor) -> list[MailToYouth]:
    return [e for e in await outbox(c) if isinstance(e, MailToYouth)]


async def test_a_mail_youth_gets_proposal_file_reminders_with_the_link_and_cancel_by_mail(
) -> None:
    import icalendar

    c, conversation, clock = await mail_youth()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min video", NOW)
    assert [m.key for m in await mails(c)] == ["appointments.mail.proposed_video"]
    assert not any(k.startswith("appointments.") for k in await youth_keys(c))

    # The youth's reply mail: a greeting, the answer, the quoted proposal.
    step = Change(NOW, EventID("mail:1"))
    assert c.appointments.mail_answered(
        step, conversation, "Hallo,\n\nja, gerne!\n\nAm 01.12.2026 schrieb Beratung:\n> Passt das?")
    await c.commit(step)
    confirmed = (await mails(c))[-1]
    assert confirmed.key == "appointments.mail.confirmed"
    assert confirmed.filename == "termin-t-00000a.ics"
    [event] = icalendar.Calendar.from_ical(confirmed.ics).walk("VEVENT")
    assert event.decoded("DTSTART") == START
    assert "per Mail" in str(event["DESCRIPTION"])
    assert not any(isinstance(e, SendCalendar) for e in await outbox(c))

    clock.set(START - timedelta(hours=23))
    await c.tick(clock.now())
    assert (await mails(c))[-1].key == "appointments.mail.reminder_day_before"
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    soon = (await mails(c))[-1]
    assert soon.key == "appointments.mail.reminder_soon_video"
    assert str(dict(soon.params)["url"]).startswith("https://meet.x/")
    assert "video.link" not in await youth_keys(c)  # the link went by mail only
    assert any(isinstance(e, PutWidget) for e in await outbox(c))  # the counsellor's side

    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a2"), "!appointment cancel T-00000A",
                        clock.now())
    cancel = (await mails(c))[-1]
    assert cancel.key == "appointments.mail.cancelled_file"
    [gone] = icalendar.Calendar.from_ical(cancel.ics).walk("VEVENT")
    assert str(gone["STATUS"]) == "CANCELLED"
    assert str(gone["UID"]) == str(event["UID"])


async def test_a_mail_no_declines_and_other_mail_is_no_answer() -> None:
    c, conversation, _ = await mail_youth()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min inperson", NOW)
    assert not c.appointments.mail_answered(Change(NOW, None), conversation,
                                            "ja, aber lieber später?")
    step = Change(NOW, EventID("mail:2"))
    assert c.appointments.mail_answered(step, conversation, "Nein, da habe ich Schule.")
    await c.commit(step)
    assert (await mails(c))[-1].key == "appointments.mail.declined"
    assert c.appointments.known["T-00000A"].status.value == "declined"


async def test_the_mail_effect_survives_the_outbox_codec() -> None:
    effect = MailToYouth(ConversationID("C-1"), "appointments.mail.confirmed",
                         (("when", "10.12.2026 16:00"), ("minutes", 45)), "termin-t-1.ics",
                         "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    assert decode_effect(encode_effect(effect)) == effect


async def test_a_mail_conversation_after_mail_was_switched_off_is_refused_with_the_reason(
) -> None:
    c, conversation, _ = await mail_youth()
    c.mail_switch = None  # the installation restarted with [mail] enabled = false
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min video", NOW)
    assert [e.key for e in await outbox(c) if isinstance(e, SayInRoom)][-1] == \
        "appointments.mail"
    assert await mails(c) == []
    assert c.appointments.known == {}


async def test_a_refused_second_proposal_leaves_the_first_one_open() -> None:
    """The counsellor proposes, then mistypes a second proposal (a date in the past): the
    refusal goes to the counsellor only, who rightly believes the first proposal stands, and
    the youth's "ja" confirms it. Before, the first was cancelled silently first."""
    c, _, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    c.appointments.new_id = lambda: "T-00000B"
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "!appointment 2026-11-10 16:00 45min video",
                        NOW)
    assert "appointments.past" in [e.key for e in await outbox(c)
                                   if isinstance(e, SayToStaff | SayInRoom)]
    assert "T-00000B" not in c.appointments.known
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    assert "appointments.confirmed" in await youth_keys(c)
    assert c.appointments.known["T-00000A"].status is ap.Status.CONFIRMED


async def test_an_accepted_second_proposal_replaces_the_first_even_at_an_overlapping_time(
) -> None:
    """A new proposal replaces the unanswered one; its own slot does not count as a clash."""
    c, _, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    c.appointments.new_id = lambda: "T-00000B"
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "!appointment 2026-12-10 16:30 45min video",
                        NOW)
    assert c.appointments.known["T-00000A"].status is ap.Status.CANCELLED
    assert c.appointments.known["T-00000B"].status is ap.Status.PROPOSED
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    assert c.appointments.known["T-00000B"].status is ap.Status.CONFIRMED


async def _video_confirmed() -> tuple[Conductor, FakeClock]:
    """A 45-minute video appointment at 16:00 the youth said yes to; the day-before reminder
    gone out: the set-up of the bot-was-down tests below."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    clock.set(START - timedelta(hours=23))
    await c.tick(clock.now())
    return c, clock


async def test_a_video_appointments_link_still_comes_when_the_bot_was_down_at_t_minus_15(
) -> None:
    """A bot that restarts in the last 15 minutes (a deploy, a crash) comes back at 16:01:
    the youth still gets the link to the call, told it has begun, and the counsellor the
    reminder (once: a second tick sends nothing). Before, no link came at all."""
    c, clock = await _video_confirmed()
    clock.set(START + timedelta(minutes=1))  # down from 15:44 to 16:01
    await c.tick(clock.now())
    await c.tick(clock.now() + timedelta(minutes=1))
    keys = await youth_keys(c)
    assert keys.count("video.link") == 1
    assert keys.count("appointments.reminder_begun") == 1
    assert "appointments.reminder_soon" not in keys
    staff = [e.key for e in await outbox(c) if isinstance(e, SayToStaff)]
    assert staff.count("appointments.reminder_staff_begun") == 1


async def test_a_video_appointment_the_bot_was_down_through_is_told_to_both_sides() -> None:
    """Down from 15:40 until 16:50, past the end of a 45-minute video appointment: its
    call was never opened, and no link came. A review found nothing was said at all when
    the bot came back: the youth had waited for a link that never came, and the
    counsellor, never reminded, did not know the youth had been let down. Now the youth
    hears it failed on our side and that their counsellor will be in touch, and the
    counsellor is asked to; each once."""
    c, clock = await _video_confirmed()
    clock.set(START + timedelta(minutes=50))  # down from 15:40 to 16:50
    await c.tick(clock.now())
    await c.tick(clock.advance(timedelta(minutes=1)))
    keys = await youth_keys(c)
    assert keys.count("appointments.missed_video") == 1
    assert "video.link" not in keys
    staff = [e.key for e in await outbox(c) if isinstance(e, SayToStaff)]
    assert staff.count("appointments.missed_staff") == 1
    # In person or by phone the youth had what they needed (the time, the place, the
    # number): nothing is said to them, nor to staff.
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"),
                        "!appointment 2026-12-10 16:00 45min inperson", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    clock.set(START + timedelta(minutes=50))
    await c.tick(clock.now())
    assert not [k for k in await youth_keys(c) if "missed" in k]
    assert not [e for e in await outbox(c) if isinstance(e, SayToStaff) and "missed" in e.key]


async def test_the_day_before_reminder_across_the_spring_clock_change_comes_the_day_before(
) -> None:
    """An appointment on Monday 29.3.2027 at 00:30, after the night the clocks went
    forward: 24 hours before it is Saturday 23:30, and a review found the reminder came
    then, saying "Morgen" of an appointment two dates on. The day before is the date
    before at the same time on the office's clock: Sunday 00:30."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2027-03-29 00:30 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    clock.set(datetime(2027, 3, 27, 22, 45, tzinfo=UTC))  # Saturday 23:45 in Berlin
    await c.tick(clock.now())
    assert "appointments.reminder_day_before" not in await youth_keys(c)
    clock.set(datetime(2027, 3, 27, 23, 31, tzinfo=UTC))  # Sunday 00:31 in Berlin
    await c.tick(clock.now())
    assert (await youth_keys(c)).count("appointments.reminder_day_before") == 1


async def test_an_appointment_over_already_cannot_be_cancelled_to_the_youth() -> None:
    """A counsellor cancelling by an id from an old notice (a typo of the next one's)
    took back an appointment held the day before: a review found the youth was told "Der
    Termin am 10.12.2026 16:00 fällt leider aus" the day after they had it, with a file
    taking it out of their calendar. One that is over is no open appointment any more."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    clock.set(START + timedelta(days=1))
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"), "!appointment cancel T-00000A",
                        clock.now())
    assert "appointments.cancelled" not in await youth_keys(c)
    assert len([e for e in await outbox(c) if isinstance(e, SendCalendar)]) == 1
    replies = [e.key for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert replies[-1] == "appointments.unknown"


async def test_a_day_before_reminder_missed_until_the_day_itself_says_today() -> None:
    """A bot down from the evening before until 13:00 on the day (a deploy gone wrong)
    sends the missed day-before reminder then. A review found it said "Erinnerung: Morgen,
    10.12.2026 16:00" on 10.12.: a youth who trusts "morgen" misses the appointment three
    hours later, and the counsellor was told "Morgen:" as well. Late on the day itself it
    says today, to both sides; sent the day before, it still says tomorrow."""
    c, _, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    clock.set(START - timedelta(hours=3))  # 13:00 Berlin on the day
    await c.tick(clock.now())
    await c.tick(clock.advance(timedelta(minutes=1)))
    keys = await youth_keys(c)
    assert "appointments.reminder_day_before" not in keys
    assert keys.count("appointments.reminder_today") == 1
    staff = [e.key for e in await outbox(c) if isinstance(e, SayToStaff)]
    assert "appointments.reminder_staff_day_before" not in staff
    assert staff.count("appointments.reminder_staff_today") == 1
    [said] = [e for e in await outbox(c) if isinstance(e, SayToYouth)
              and e.key == "appointments.reminder_today"]
    assert "heute" in text(said.key, "de", **dict(said.params)).casefold()
    assert "today" in text(said.key, "en", **dict(said.params))


async def test_an_appointment_id_drawn_twice_does_not_replace_the_first_appointment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids are drawn until unused (and are 32 bits wide now): a second appointment drawing
    an id already known gets another, so the first youth's confirmed appointment is still
    reminded and `!appointment cancel` names one appointment. Before, 24 random bits were
    never checked, and the second replaced the first (likely with a few thousand kept)."""
    from types import SimpleNamespace

    from counsel_bot.conversation import appointments as conv_ap

    c, conversation, clock = await office()
    # The real generator, its random source drawing the same value every time.
    c.appointments.new_id = conv_ap.Appointments(c.store, c.policy.appointments,
                                                 c.policy.hours).new_id
    monkeypatch.setattr(conv_ap, "secrets", SimpleNamespace(token_hex=lambda n: "00000a"))
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    room2 = RoomID("!room2:x")
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$cap"), "!capacity 3", NOW)
    await c.youth_wrote(room2, UserID("@daisy:x"), None, EventID("$z1"), "hallo", NOW)
    record = await c.store.conversation_by_room(room2)
    assert record is not None
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a3"),
                        f"!appointment {record.conversation} 2026-12-11 16:00 45min video", NOW)
    assert (await youth_keys(c)).count("appointments.proposed_video") == 2
    assert len(c.appointments.known) == 2
    [first] = [a for a in c.appointments.known.values() if a.conversation == conversation]
    assert first.status is ap.Status.CONFIRMED
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert "appointments.reminder_soon" in await youth_keys(c)


async def test_new_ids_are_eight_hex_digits_and_old_six_digit_ids_still_load_and_cancel(
) -> None:
    c, conversation, _ = await office()
    fresh = c.appointments.__class__(c.store, c.policy.appointments, c.policy.hours).new_id()
    assert re.fullmatch(r"T-[0-9A-F]{8}", fresh)
    old = ap.Appointment("T-ABC123", conversation, ANNA, START, 45, ap.Kind.VIDEO)
    await c.store.set_sealed_setting(f"appt:T-ABC123:{conversation}", old.encode())
    await c.appointments.load()
    assert c.appointments.known["T-ABC123"] == old
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$x"), "!appointment cancel t-abc123", NOW)
    assert c.appointments.known["T-ABC123"].status is ap.Status.CANCELLED


@pytest.mark.parametrize("at", ["00:00", "00:52"])
async def test_a_year_one_date_is_refused_not_a_crash(at: str) -> None:
    """`!appointment 0001-01-01 …` is answered "not a valid date". Before, the conversion to
    UTC raised OverflowError out of the command handler, which stopped the bot (and counted
    as its bug: twice, and the counsellor's message was set aside)."""
    c, _, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), f"!appointment 0001-01-01 {at} 45min video",
                        NOW)
    assert "appointments.bad_date" in [e.key for e in await outbox(c)
                                       if isinstance(e, SayToStaff | SayInRoom)]


async def test_the_youths_video_token_is_valid_until_the_appointment_ends() -> None:
    """The link of an appointment's call is made 15 minutes before; its token lasts until
    the appointment's end and the time it may run over, not only `link_ttl_minutes` (120)
    from then: a youth whose connection drops in the third hour of a 180-minute appointment
    can join again. Before, Jitsi refused the expired token."""
    c, _, clock = await office()
    video = VideoSettings(base_url="https://meet.x", jitsi_app_id="counsel",
                          jitsi_app_secret_file="/dev/null")
    c.policy = replace(c.policy, video=video, video_secret="s" * 32)
    c.video = VideoCalls(video, "s" * 32)
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 180min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    clock.set(START - timedelta(minutes=15))
    await c.tick(clock.now())
    [link] = [e for e in await outbox(c) if isinstance(e, SayToYouth) and e.key == "video.link"]
    token = parse_qs(urlsplit(str(dict(link.params)["url"])).query)["jwt"][0]
    claims = jwt.decode(token, options={"verify_signature": False})
    end = START + timedelta(minutes=180)
    assert claims["exp"] == int((end + ap.OVERRUN).timestamp())


async def test_a_yes_after_the_proposed_time_is_told_to_the_counsellor_too() -> None:
    """The youth is told their counsellor will suggest a new time: unless the counsellor
    learns it, nobody does, and a mail youth's "Ja, gerne!" in the room reads as a yes."""
    c, conversation, _ = await mail_youth()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a1"),
                        f"!appointment {conversation} 2026-12-10 16:00 45min video", NOW)
    step = Change(START + timedelta(minutes=5), EventID("mail:late"))
    assert c.appointments.mail_answered(step, conversation, "Ja, gerne!")
    await c.commit(step)
    assert (await mails(c))[-1].key == "appointments.mail.expired"
    told = [e for e in await outbox(c) if isinstance(e, SayToStaff)
            and e.key.startswith("appointments.expired")]
    assert [e.mentions for e in told] == [(ANNA,)]
    assert ("id", "T-00000A") in told[0].params


async def test_the_counsellor_gets_the_call_link_of_a_video_appointment_after_the_close(
) -> None:
    """At the close the counsellor leaves the youth's room, so the link said there (or
    mailed) never reaches them: without Jitsi tokens, where both links are one, they had no
    link at all and the youth waited alone in the call."""
    c, conversation, clock = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    [youth_link] = [e for e in await outbox(c)
                    if isinstance(e, SayToYouth) and e.key == "video.link"]
    url = dict(youth_link.params)["url"]
    told = [e for e in await outbox(c) if isinstance(e, SayPrivately)
            and ("url", url) in e.params]
    assert [e.to for e in told] == [ANNA]
    assert not [e for e in await outbox(c) if isinstance(e, SayToStaff)
                and ("url", url) in e.params]


async def test_a_chat_youth_gets_the_cancelled_calendar_file_as_a_mail_youth_does() -> None:
    """The confirmation brought a calendar file the youth may have put in their calendar:
    the cancellation brings the same event marked cancelled, which takes it out there, in
    the chat as by mail. Before, the chat youth kept a live entry for a cancelled time."""
    import icalendar

    c, _, _ = await office()
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$a2"), "!appointment cancel T-00000A", NOW)
    first, cancelled = [e for e in await outbox(c) if isinstance(e, SendCalendar)]
    [event] = icalendar.Calendar.from_ical(first.ics).walk("VEVENT")
    [gone] = icalendar.Calendar.from_ical(cancelled.ics).walk("VEVENT")
    assert (str(gone["STATUS"]), str(gone["UID"])) == ("CANCELLED", str(event["UID"]))
    assert "appointments.cancelled" in await youth_keys(c)


async def test_video_for_a_mail_youth_after_mail_was_switched_off_is_refused_with_the_reason(
) -> None:
    """The link goes to a mail youth by mail: with mail off it could reach nobody, so the
    counsellor is told, as for an appointment, instead of it being dropped unseen."""
    c, _, _ = await mail_youth()
    await c.staff_wrote(ROOM, ANNA, EventID("$v0"), "!video", NOW)
    [link] = await mails(c)
    assert link.key == "video.link"
    c.mail_switch = None  # the installation restarted with [mail] enabled = false
    await c.staff_wrote(ROOM, ANNA, EventID("$v1"), "!video", NOW)
    assert await mails(c) == [link]
    told = [e.key for e in await outbox(c) if isinstance(e, SayToStaff) and e.mentions == (ANNA,)]
    assert told[-1] == "video.mail_off"
