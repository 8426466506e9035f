"""What of an office's crisis reaches the main staff room, which every office's staff read.

A notice that calls somebody outside the office's own staff room (the on-call office's
counsellor holding the office's crisis, other offices' leads when the office has none to
ring) goes to the main room so that they read it. It carried everything the office's own
room gets: the crisis's category, severity, the rules that fired, the room's link, and a
report's reason (the words a youth typed). Another office needs only which conversation,
that it is urgent, and whose it is; the details stay in the office's own room, which still
gets them in full. A memory store, the real detector."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.video_calls import VideoCalls
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.effects import SayInRoom, SayPrivately, SayToStaff
from counsel_bot.core.ids import EventID, UserID
from counsel_bot.core.messages import text
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.reports import pass_on_reports
from tests.counsel_bot.test_crisis_paths import (
    ROOM,
    T0,
    conversation_of,
    eid,
    office,
    pending,
    staff,
    staff_notices,
    youth,
)
from tests.counsel_bot.test_event_reports import Reports, report
from tests.groups.test_group_desk import GROUP_ROOM, Parts
from tests.groups.test_group_offices import LEA, TOM, two_offices
from tests.offices.test_office_deletion_numbers import SETTINGS

ANNA, CEM = UserID("@anna:x"), UserID("@cem:x")
IDA = UserID("@ida:x")
THREE_OFFICES = settings_from_mapping({
    "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
    "offices": [
        {"id": "familie", "name": "Familienberatung", "topics": ["family"],
         "postcodes": ["89"], "counsellors": ["@anna:x"], "team_leads": ["@lea:x"]},
        {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
         "counsellors": ["@cem:x"], "team_leads": ["@ida:x"]},
        {"id": "schule", "name": "Schulberatung", "topics": ["school"],
         "counsellors": ["@ben:x"], "team_leads": ["@tom:x"]},
    ],
})
# What only the office's own staff may read.
DETAILS = frozenset({"category", "severity", "rules", "reason", "link"})


async def _main_room(c: Conductor) -> list[SayToStaff]:
    return [e for e in await staff_notices(c) if not e.office]


def _leaked(notices: list[SayToStaff]) -> list[tuple[str, list[str]]]:
    # The executor adds the room's link to a crisis alert: its key alone is a leak.
    return [(e.key, sorted(DETAILS & dict(e.params).keys())) for e in notices
            if DETAILS & dict(e.params).keys() or e.key == "staff_crisis_alert"]


async def test_a_crisis_raised_again_shows_the_main_room_no_category_nor_rules() -> None:
    c = await office(SETTINGS)
    await staff(c, CEM, "!duty on", T0)  # on call; nobody of the family office on duty
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich ritze mich", T0 + timedelta(minutes=1))  # given to Cem, on call
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=2))  # the family office's own
    await youth(c, "ich will mich umbringen", T0 + timedelta(minutes=3))  # raised to high
    cid = await conversation_of(c)

    main = [e for e in await _main_room(c) if cid in dict(e.params).values()]
    assert _leaked(main) == [], "the family office's crisis details in every office's room"
    high = [e for e in await staff_notices(c) if e.key == "staff_crisis_alert"
            and dict(e.params).get("severity") == "high"]
    # Cem, who holds the youth, reads it in his own office's room (the next test).
    assert [e.office for e in high if not e.mentions] == ["familie"], \
        "the office's own room lost its alert"


async def test_a_report_with_crisis_words_shows_the_main_room_no_reason() -> None:
    c = await office(SETTINGS)  # no team leads: every office's staff are called
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    reason = "er schreibt: ich will mich umbringen"
    await c.report_received(1, ROOM, EventID("$reported"), reason, T0 + timedelta(minutes=1))

    main = await _main_room(c)
    assert any(CEM in e.mentions for e in main), "the other office's staff are not called"
    assert _leaked(main) == [], "a youth's words in every office's room"
    own = [e for e in await staff_notices(c) if e.key == "staff_report_crisis"]
    assert [(e.office, dict(e.params)["reason"]) for e in own] == [("familie", reason)]


async def test_a_groups_report_with_no_lead_to_ring_shows_the_main_room_no_reason() -> None:
    """The group's office's only lead has no device left: the other office's lead is
    called, in the main room, and was shown the reason there."""
    p = Parts()
    await p.start(settings=two_offices())
    await p.c.devices_checked(DeviceTrustCheck(LEA, False, (), devices=0), p.clock.now())
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    reason = "der typ droht mir, ich will nicht mehr leben"
    await pass_on_reports(Reports(report(13, GROUP_ROOM, reason)), p.c, p.clock)

    said = [e for e in await p.new() if isinstance(e, SayToStaff)]
    main = [e for e in said if not e.office]
    assert any(TOM in e.mentions for e in main), "no lead who can be rung was called"
    assert _leaked(main) == [], "a youth's words in every office's room"
    own = [e for e in said if e.key == "staff_report_crisis"]
    assert [(e.office, dict(e.params)["reason"]) for e in own] == [("familie", reason)]


async def test_case_notes_asked_for_in_the_youths_room_by_the_on_call_counsellor() -> None:
    """`!notes` typed in the youth's room is answered aside, in a staff room: the office's,
    which the on-call counsellor holding its crisis is not in, so it went to the main room,
    case notes and all, for every office to read. The on-call office's room is theirs."""
    c = await office(SETTINGS)
    await staff(c, CEM, "!duty on", T0)  # on call; nobody of the family office on duty
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich ritze mich", T0 + timedelta(minutes=1))  # given to Cem, on call
    cid = await conversation_of(c)
    await staff(c, CEM, f"!note {cid} der Vater schlägt sie", T0 + timedelta(minutes=2))
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=3))  # the family office's own
    await c.staff_wrote(ROOM, CEM, eid(), "!notes", T0 + timedelta(minutes=4))

    [listed] = [e for e in await staff_notices(c) if e.key == "notes.list"]
    assert listed.office, "case notes in every office's main staff room"
    assert CEM in c.policy.offices.desk(listed.office).staff, "not in a room Cem is in"


async def test_the_on_call_counsellors_video_link_stays_out_of_the_main_room() -> None:
    """The counsellor's video link (with token auth: the moderator's, a key to the youth's
    call) goes to the staff room of the conversation's office; the on-call counsellor
    holding its crisis is not in that room, so it went to the main room, where any
    office's staff could have joined the youth's call. A room of their own office is
    theirs."""
    c = await office(SETTINGS)
    c.policy = replace(c.policy, video_secret="s" * 32)
    c.video = VideoCalls(VideoSettings(base_url="https://meet.x", jitsi_app_id="counsel",
                                       jitsi_app_secret_file="/dev/null",
                                       youth_may_request=True), "s" * 32)
    await staff(c, CEM, "!duty on", T0)  # on call; nobody of the family office on duty
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich ritze mich", T0 + timedelta(minutes=1))  # given to Cem, on call
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=2))  # the family office's own
    # The youth asks first: asked during the call Cem opens, "video" no longer replaces it.
    await youth(c, "video", T0 + timedelta(minutes=3))
    await c.staff_wrote(ROOM, CEM, eid(), "!video", T0 + timedelta(minutes=4))

    # Not into any staff room: to Cem alone, in the bot's direct room with him.
    links = [e for e in await pending(c) if isinstance(e, SayPrivately)]
    assert [(e.to, e.key) for e in links] == [(CEM, "video.counsellor_link")] * 2
    sent = [e for e in await staff_notices(c) if e.key.startswith("video.")]
    assert [e.key for e in sent] == ["video.link_sent"] * 2
    assert [e.office for e in sent if not e.office] == [], "a call's news for every office"
    assert not [e for e in sent if "url" in dict(e.params)]


async def test_a_page_to_another_offices_lead_says_whose_crisis_it_is() -> None:
    """Neither the family office's lead nor the on-call office's can be rung: the page
    calls the lead of a third office, in the main room. It told him "please take it:
    !take …", which refuses him (another office's conversation is unknown to him), and
    did not say whose it was, so he could not reach the staff who can take it."""
    c = await office(THREE_OFFICES)
    for lead in (LEA, IDA):  # no device left: ring no phone
        await c.devices_checked(DeviceTrustCheck(lead, False, (), devices=0), T0)
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich will mich umbringen", T0 + timedelta(minutes=1))  # nobody on duty
    for minute in range(2, 20):
        await c.tick(T0 + timedelta(minutes=minute))
    cid = await conversation_of(c)

    [page] = [e for e in await _main_room(c) if TOM in e.mentions]
    said = text(page.key, "en", **dict(page.params))
    assert "Jugendberatung" in said, f"whose crisis it is, not said: {said!r}"
    await staff(c, TOM, f"!take {cid}", T0 + timedelta(minutes=21))
    refused = [e.key for e in await pending(c) if isinstance(e, SayInRoom) and e.to == TOM]
    assert refused == ["refused.unknown_conversation"]
    assert "!take" not in said, "told to do what he may not"


async def test_the_on_call_counsellor_holding_the_crisis_reads_its_alert_in_a_room_of_theirs(
) -> None:
    """Cem, on call, holds the family office's crisis; the family office is staffed again
    and the youth's flag rises to high. The alert with its severity, category and "!confirm"
    stayed in the family office's room, which Cem is not in, and the main room told him
    "the details are only there": the counsellor with the youth could read them nowhere."""
    c = await office(SETTINGS)
    await staff(c, CEM, "!duty on", T0)  # on call; nobody of the family office on duty
    await youth(c, "Stress mit meinen Eltern, 89073", T0)
    await youth(c, "ich ritze mich", T0 + timedelta(minutes=1))  # given to Cem, on call
    await staff(c, ANNA, "!duty on", T0 + timedelta(minutes=2))  # the family office's own
    await youth(c, "ich will mich umbringen", T0 + timedelta(minutes=3))  # raised to high

    high = [e for e in await staff_notices(c) if e.key == "staff_crisis_alert"
            and dict(e.params).get("severity") == "high"]
    theirs = [e.office for e in high
              if CEM in e.mentions and CEM in c.policy.offices.desk(e.office).staff]
    assert theirs == ["jugend"], "the counsellor holding the youth cannot read the alert"
    assert "familie" in [e.office for e in high], "the office's own room lost its alert"
    assert _leaked(await _main_room(c)) == [], "crisis details in every office's room"
