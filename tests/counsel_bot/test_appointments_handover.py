"""Appointments after their counsellor is gone: no server, a memory store, a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core import appointments as ap
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import PutWidget, SayInRoom, SayPrivately, SayToStaff, SayToYouth
from counsel_bot.core.ids import ConversationID, EventID, UserID
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_appointments_flow import (
    ANNA,
    NOW,
    ROOM,
    STAFF_ROOM,
    START,
    YOUTH,
    outbox,
    youth_keys,
)
from tests.store.conftest import AeadSealer

LEA, BEN = UserID("@lea:x"), UserID("@ben:x")


def team(*counsellors: UserID) -> Settings:
    return Settings(staff=StaffSettings(counsellors=tuple(map(str, counsellors)),
                                        team_leads=(str(LEA),)),
                    video=VideoSettings(base_url="https://meet.x"))


async def booked_with_anna(*colleagues: UserID) -> tuple[Conductor, ConversationID, FakeClock]:
    """Anna booked a video appointment with the youth, who said yes."""
    policy = replace(policy_from(team(ANNA, *colleagues)), appointments=AppointmentSettings())
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, NOW)
    c.appointments.new_id = lambda: "T-00000A"
    await c.sync_roster(NOW)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$duty"), "!duty on", NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo", NOW)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    await c.staff_wrote(ROOM, ANNA, EventID("$a1"), "!appointment 2026-12-10 16:00 45min video",
                        NOW)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y2"), "ja", NOW)
    return c, record.conversation, FakeClock(NOW)


async def test_an_appointment_of_a_counsellor_who_left_the_team_goes_to_the_team_lead(
) -> None:
    """Anna leaves the team (taken off the staff list, and so out of the staff room): her
    appointments' reminders and the call's link mentioned her alone, where she no longer
    reads, and the youth waited in the call for nobody, no one in the team told. The team
    lead is told when she leaves, and the reminders and the link mention the lead."""
    c, conversation, clock = await booked_with_anna()
    c = await Conductor.open(c.store, c.detector,
                             replace(policy_from(team()), appointments=c.policy.appointments),
                             NOW + timedelta(hours=1))
    await c.sync_roster(NOW + timedelta(hours=1))
    [gone] = [e for e in await outbox(c) if isinstance(e, SayToStaff)
              and e.key == "appointments.counsellor_gone"]
    assert gone.mentions == (LEA,)
    assert ("id", "T-00000A") in gone.params
    assert ("conversation", conversation) in gone.params

    clock.set(START - timedelta(hours=23))
    await c.tick(clock.now())
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    [youth_link] = [e for e in await outbox(c)
                    if isinstance(e, SayToYouth) and e.key == "video.link"]
    url = dict(youth_link.params)["url"]
    told = {e.key: e.mentions for e in await outbox(c) if isinstance(e, SayToStaff)
            and (e.key.startswith("appointments.reminder_staff") or ("url", url) in e.params)}
    assert told == {"appointments.reminder_staff_day_before": (LEA,),
                    "appointments.reminder_staff_soon": (LEA,)}
    # The link itself to Lea alone (the staff room is read by all staff).
    linked = [(e.key, e.to) for e in await outbox(c) if isinstance(e, SayPrivately)
              and ("url", url) in e.params]
    assert linked == [("video.staff_link", LEA)]


async def test_an_appointments_call_outlasts_a_hand_over_of_the_chat() -> None:
    """An appointment's call belongs to the appointment, which stands after a transfer or
    the close: Anna going off duty at the end of her shift, ten minutes before it, must
    not take the link the youth just got (a chat's own call ends at a hand-over)."""
    c, conversation, clock = await booked_with_anna()
    await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "Bis gleich!", START - timedelta(minutes=15))
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to == ANNA
    [shown] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off",
                        clock.advance(timedelta(minutes=4)))
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to is None
    assert [e for e in await outbox(c) if isinstance(e, PutWidget)] == [shown]
    assert "video.link_void" not in await youth_keys(c)
    assert c.video.widgets == {conversation: shown.widget_id}

    # After a restart too: the stored call is known as the appointment's.
    again = await Conductor.open(c.store, c.detector, c.policy, clock.now())
    await again.staff_wrote(STAFF_ROOM, ANNA, EventID("$on"), "!duty on", clock.now())
    await again.staff_wrote(STAFF_ROOM, ANNA, EventID("$off2"), "!duty off", clock.now())
    assert [e for e in await outbox(again) if isinstance(e, PutWidget)] == [shown]


async def test_whoever_takes_a_former_colleagues_call_is_not_shown_under_her_name() -> None:
    """The moderator's token names the counsellor, and Jitsi shows that name in the call:
    the lead who opened the link of Anna's appointment after she left the team met the
    youth as "Anna"."""
    c, _, clock = await booked_with_anna()
    video = VideoSettings(base_url="https://meet.x", jitsi_app_id="counsel",
                          jitsi_app_secret_file="/dev/null")
    policy = replace(policy_from(team()), appointments=c.policy.appointments, video=video,
                     video_secret="s" * 32)
    c = await Conductor.open(c.store, c.detector, policy, NOW)
    c.nicknames[ANNA] = "Anna"
    await c.sync_roster(NOW)
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    [link] = [e for e in await outbox(c) if isinstance(e, SayPrivately)
              and e.key == "video.counsellor_link"]
    assert link.to == LEA
    token = parse_qs(urlsplit(str(dict(link.params)["url"])).query)["jwt"][0]
    claims = jwt.decode(token, options={"verify_signature": False})  # only its claims here
    assert claims["context"]["user"] == {"moderator": True}


async def test_a_cancelled_appointment_takes_its_call_away_and_a_closed_chat_says_so() -> None:
    """Cancelled after its link went out (the counsellor falls ill): the youth read that it
    is off, yet the room still showed the call and the link still opened it, where they
    could wait alone. And after the close "you can keep writing here" was untrue: what
    they wrote there was answered with "this conversation has ended"."""
    c, conversation, clock = await booked_with_anna()
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    [shown] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$x"), "!appointment cancel T-00000A",
                        clock.now())
    widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert widgets == [shown, PutWidget(conversation, shown.widget_id)]
    keys = await youth_keys(c)
    assert "appointments.cancelled_closed" in keys
    assert "appointments.cancelled" not in keys


async def test_a_youth_who_leaves_the_room_after_the_close_is_no_longer_reminded_there(
) -> None:
    """The usual end: Anna proposes, the youth says yes, she closes, and the youth tidies
    their app and leaves the room. The reminders and the call's link then went into a room
    nobody reads, and Anna waited in the call, never told. She is told at once: the
    appointment stands (the youth has the calendar file), but nothing reaches them in the
    chat any more; an unanswered proposal can no longer be answered and is off."""
    c, conversation, _ = await booked_with_anna()
    c.appointments.new_id = lambda: "T-00000B"
    await c.staff_wrote(ROOM, ANNA, EventID("$p3"), "!appointment 2026-12-11 16:00 45min video",
                        NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    await c.member_left(ROOM, YOUTH, EventID("$left"), NOW + timedelta(minutes=5))
    told = {dict(e.params)["id"]: (e.key, e.mentions) for e in await outbox(c)
            if isinstance(e, SayToStaff) and e.key.startswith("appointments.youth_left")}
    assert told == {"T-00000A": ("appointments.youth_left", (ANNA,)),
                    "T-00000B": ("appointments.youth_left_proposal", (ANNA,))}
    assert c.appointments.known["T-00000A"].status is ap.Status.CONFIRMED
    assert c.appointments.known["T-00000B"].status is ap.Status.CANCELLED


async def test_a_colleague_cannot_book_the_youth_at_the_hour_they_already_meet_anna() -> None:
    """The youth went on with Ben (a transfer), who does not see Anna's appointments: he
    proposed the same hour, the youth said yes to what they took for the same meeting, and
    at 16:00 Anna waited in the call while Ben waited at the office. An overlap with the
    youth's own appointment is refused as one with the counsellor's is."""
    c, conversation, _ = await booked_with_anna(BEN)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$b0"), "!duty on", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$t"), "!transfer @ben:x", NOW)
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to == BEN
    c.appointments.new_id = lambda: "T-00000B"
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$b1"),
                        f"!appointment {conversation} 2026-12-10 16:30 45min video", NOW)
    [refusal] = [e for e in await outbox(c) if isinstance(e, SayInRoom) and e.to == BEN
                 and e.key.startswith("appointments.")]
    assert refusal.key == "appointments.clash_conversation"
    assert ("other", "T-00000A") in refusal.params
    assert "T-00000B" not in c.appointments.known
    assert (await youth_keys(c)).count("appointments.proposed_video") == 1


async def test_the_chats_new_counsellor_is_reminded_while_the_first_holds_her_appointment(
) -> None:
    """Anna's video appointment with the youth, whose chat Ben has now: while her call
    ran (until its end and the time it may run over), Ben counted as in a call, so the
    youth's words to him in the chat waited for no answer, and nobody was reminded."""
    c, conversation, clock = await booked_with_anna(BEN)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$b0"), "!duty on", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$t"), "!transfer @ben:x", NOW)
    await c.staff_wrote(ROOM, BEN, EventID("$b1"), "Hallo, ich bin Ben.",
                        START - timedelta(minutes=15))
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert any(isinstance(e, PutWidget) for e in await outbox(c))
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y3"), "ben, bist du noch da?",
                        clock.advance(timedelta(minutes=1)))
    for _ in range(20):  # past the 15 minutes a next answer may take
        await c.tick(clock.advance(timedelta(minutes=1)))
    reminded = [e for e in await outbox(c)
                if isinstance(e, SayToStaff) and e.key.startswith("timers.remind")]
    assert [e.mentions for e in reminded] == [(BEN,)]
    assert dict(reminded[0].params)["conversation"] == conversation


async def test_an_appointments_call_that_is_over_goes_at_the_next_hand_over() -> None:
    """Kept through a hand-over while its appointment may still run, an appointment's call
    is only a stale link after it: the next hand-over takes it away like a chat's own
    (without token auth its link never expires), after a restart too."""
    for restart in (False, True):
        c, conversation, clock = await booked_with_anna()
        await c.staff_wrote(ROOM, ANNA, EventID("$a2"), "Bis gleich!",
                            START - timedelta(minutes=15))
        clock.set(START - timedelta(minutes=14))
        await c.tick(clock.now())
        [shown] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
        after = START + timedelta(hours=2)  # its links (120 minutes from T-14) expired
        if restart:
            c = await Conductor.open(c.store, c.detector, c.policy, after)
        await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$off"), "!duty off", after)
        widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
        assert widgets == [shown, PutWidget(conversation, shown.widget_id)], restart


@pytest.mark.parametrize("restart", [False, True])
@pytest.mark.parametrize("closed", [False, True])
async def test_an_appointments_call_leaves_the_room_once_the_appointment_is_over(
        closed: bool, restart: bool) -> None:
    """After the appointment the room still showed its call: in a chat going on, until the
    next `!video` or close; in a closed one (Anna's usual end: the next appointment, then
    the close), until retention purged the room. Without token auth its link (the widget's
    too) opened the conference all that time. Once the appointment is over, the time it
    may run over past and its links run out, its call goes, after a restart in between too."""
    c, conversation, clock = await booked_with_anna()
    if closed:
        await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    [shown] = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    over = START + timedelta(hours=2)  # its links (120 minutes from T-14) expired
    assert over > START + timedelta(minutes=45) + ap.OVERRUN
    if restart:
        c = await Conductor.open(c.store, c.detector, c.policy, over)
    await c.tick(over)
    widgets = [e for e in await outbox(c) if isinstance(e, PutWidget)]
    assert widgets == [shown, PutWidget(conversation, shown.widget_id)]
    assert conversation not in c.video.widgets


async def test_the_new_counsellor_is_told_of_the_youths_appointment_at_a_transfer() -> None:
    """Ben took over the chat and was told nothing of the video appointment the youth has
    with Anna on Thursday (`!appointment list` shows only his own; he learnt of it only by
    proposing the same hour): whatever he planned with the youth, or a close, he did not
    know of it. He is told at the transfer, with whom and when; Anna, who booked it, is not
    told of her own when the chat comes back to her."""
    c, conversation, _ = await booked_with_anna(BEN)
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$b0"), "!duty on", NOW)
    await c.staff_wrote(ROOM, ANNA, EventID("$t"), "!transfer @ben:x", NOW)
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.assigned_to == BEN
    [told] = [e for e in await outbox(c) if isinstance(e, SayToStaff)
              and e.key == "appointments.taken_over"]
    assert told.mentions == (BEN,)
    params = dict(told.params)
    assert params["id"] == "T-00000A"
    assert params["conversation"] == conversation
    assert params["counsellor"] == ANNA
    await c.staff_wrote(ROOM, BEN, EventID("$t2"), "!transfer @anna:x", NOW)
    assert [e.mentions for e in await outbox(c) if isinstance(e, SayToStaff)
            and e.key == "appointments.taken_over"] == [(BEN,)]


async def test_an_appointments_call_of_a_conversation_retention_erased_is_not_removed_later(
) -> None:
    """Retention holds a closed conversation only until its appointment's time to run over
    is past (its closed days long gone: booked weeks ahead), which is before its call's
    links run out: the call's removal, due then, went to a room and a record that no longer
    exist, and was logged as a dropped effect."""
    c, conversation, clock = await booked_with_anna()
    await c.staff_wrote(ROOM, ANNA, EventID("$c"), f"!close {conversation}", NOW)
    clock.set(START - timedelta(minutes=14))
    await c.tick(clock.now())
    assert conversation in c.video.widgets
    erased_at = START + timedelta(minutes=45) + ap.OVERRUN + timedelta(minutes=1)
    record = await c.store.conversation(conversation)
    assert record is not None
    await c.forget_traces(record, erased_at)
    await c.store.erase_conversation(conversation)
    await c.tick(START + timedelta(hours=2))
    assert not [e for e in await outbox(c) if isinstance(e, PutWidget) and not e.content]
    assert conversation not in c.video.widgets
