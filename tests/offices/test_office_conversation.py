"""Offices in the conductor: the first exchange, the one question, isolation of staff commands,
`!transfer office:ID`, crisis to the on-call office. A memory store, the real detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, SayToYouth, Supervise, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.messages import text
from counsel_bot.core.routing import QueuePositionChanged
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

# A Tuesday afternoon in Berlin.
T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
ANNA, BEN, CEM = UserID("@anna:x"), UserID("@ben:x"), UserID("@cem:x")
LEA, IDA = UserID("@lea:x"), UserID("@ida:x")
STAFF_ROOM = RoomID("!staff:x")
CONFIG = {
    "routing": {"fallback_office": "jugend", "on_call_office": "jugend"},
    "offices": [
        {"id": "familie", "name": "Familienberatung Ulm", "topics": ["family"],
         "postcodes": ["89"], "counsellors": [ANNA], "team_leads": [LEA]},
        {"id": "schule", "name": "Schulberatung", "topics": ["school", "family"],
         "postcodes": ["80000-85999"], "counsellors": [BEN]},
        {"id": "jugend", "name": "Jugendberatung", "topics": ["general", "addiction"],
         "counsellors": [CEM], "team_leads": [IDA]},
    ],
}
_events = iter(range(1_000_000))


def eid() -> EventID:
    return EventID(f"$e{next(_events)}")


async def conductor() -> Conductor:
    policy = policy_from(settings_from_mapping(CONFIG))
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, T0)
    await c.sync_roster(T0)
    return c


async def effects(c: Conductor) -> list[object]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def youth_keys(c: Conductor) -> list[tuple[str, dict[str, object]]]:
    return [(e.key, dict(e.params)) for e in await effects(c) if isinstance(e, SayToYouth)]


async def staff_says(c: Conductor, who: UserID, text: str, at: datetime = T0) -> list[str]:
    before = len(await effects(c))
    await c.staff_wrote(STAFF_ROOM, who, eid(), text, at)
    after = (await effects(c))[before:]
    return [e.key for e in after if hasattr(e, "key") and not isinstance(e, SayToYouth)]


async def open_youth(c: Conductor, room: str, text: str) -> ConversationID:
    await c.youth_wrote(RoomID(room), UserID("@y" + room[1:]), None, eid(), text, T0)
    record = await c.store.conversation_by_room(RoomID(room))
    assert record is not None
    return record.conversation


async def test_the_issues_example_reaches_the_family_office_and_is_told() -> None:
    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    await staff_says(c, BEN, "!duty on")
    cid = await open_youth(c, "!r1:x", "Stress mit meinen Eltern, 89073")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == "familie"
    assert conv.assigned_to == ANNA
    assert ("office.chosen", {"office": "Familienberatung Ulm"}) in await youth_keys(c)


async def test_unclear_first_words_get_one_question_then_an_office() -> None:
    c = await conductor()
    await staff_says(c, BEN, "!duty on")
    cid = await open_youth(c, "!r2:x", "hallo")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == UNDECIDED
    assert conv.assigned_to is None
    [ask] = [p for k, p in await youth_keys(c) if k == "office.ask"]
    assert "2. Schule und Ausbildung" in str(ask["menu"])
    await c.youth_wrote(RoomID("!r2:x"), UserID("@yr2:x"), None, eid(), "2", T0)
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.office, conv.assigned_to) == ("schule", BEN)
    assert ("office.chosen", {"office": "Schulberatung"}) in await youth_keys(c)


async def test_a_second_unclear_answer_goes_to_the_fallback_office() -> None:
    c = await conductor()
    cid = await open_youth(c, "!r3:x", "hallo")
    await c.youth_wrote(RoomID("!r3:x"), UserID("@yr3:x"), None, eid(), "weiß nicht", T0)
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == "jugend"
    assert ("office.fallback", {"office": "Jugendberatung"}) in await youth_keys(c)


async def test_other_offices_staff_are_refused_everything() -> None:
    c = await conductor()
    cid = await open_youth(c, "!r4:x", "Stress mit meinen Eltern, 89073")
    await staff_says(c, BEN, "!duty on")
    await staff_says(c, BEN, "!queue")
    queue = [e for e in await effects(c) if getattr(e, "key", "") == "queue"]
    assert dict(queue[-1].params)["waiting"] == 0  # type: ignore[attr-defined]
    assert cid not in str(queue[-1].params)  # type: ignore[attr-defined]
    for command in (f"!take {cid}", f"!close {cid}", f"!transfer {cid} queue",
                    f"!transfer {cid} office:schule", f"!confirm {cid}"):
        assert await staff_says(c, BEN, command) == ["refused.unknown_conversation"], command
    assert await staff_says(c, BEN, "!next") == ["queue.empty"]
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.assigned_to is None


async def test_transfer_to_another_office_tells_the_youth() -> None:
    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    cid = await open_youth(c, "!r5:x", "Stress mit meinen Eltern, 89073")
    keys = await staff_says(c, ANNA, f"!transfer {cid} office:jugend")
    assert "office.transferred" in keys
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.office, conv.assigned_to) == ("jugend", None)
    assert ("office.transferred_youth", {"office": "Jugendberatung"}) in await youth_keys(c)


async def test_a_crisis_with_nobody_on_duty_goes_to_the_on_call_office_and_pages_its_lead(
) -> None:
    c = await conductor()
    await staff_says(c, CEM, "!duty on")
    await staff_says(c, CEM, "!capacity 0")
    cid = await open_youth(c, "!r6:x", "Stress mit meinen Eltern, 89073")
    await c.youth_wrote(RoomID("!r6:x"), UserID("@yr6:x"), None, eid(),
                        "ich will mich umbringen", T0 + timedelta(seconds=5))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.crisis.value == "raised"
    await c.tick(T0 + timedelta(minutes=5))
    [page] = [e for e in await effects(c) if isinstance(e, SayToStaff)
              and e.key == "staff_lead_page"]
    assert page.mentions == (IDA,)
    await staff_says(c, CEM, "!capacity 2")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.assigned_to == CEM


async def test_metrics_per_office_name_offices_never_conversations() -> None:
    from counsel_bot.core.clock import FakeClock
    from counsel_bot.metrics import CounselMetrics
    from counsel_bot.office_metrics import OfficeMetrics
    from counsel_bot.runtime.offices import office_rules

    policy = policy_from(settings_from_mapping(CONFIG))
    metrics = CounselMetrics(FakeClock(T0))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, T0,
                             metrics=metrics)
    c.office_metrics = OfficeMetrics(office_rules(settings_from_mapping(CONFIG)),
                                     metrics.registry)
    await c.sync_roster(T0)
    await staff_says(c, BEN, "!duty on")
    family = await open_youth(c, "!m1:x", "Stress mit meinen Eltern, 89073")
    school = await open_youth(c, "!m2:x", "Mobbing in der Schule")
    undecided = await open_youth(c, "!m3:x", "hallo")
    text = metrics.render().decode()
    assert 'counsel_office_queue_length{office="familie",priority="normal"} 1.0' in text
    assert 'counsel_office_queue_length{office="schule",priority="normal"} 0.0' in text
    assert 'counsel_office_queue_length{office="undecided",priority="normal"} 1.0' in text
    assert 'counsel_office_counsellors_on_duty{office="schule"} 1.0' in text
    assert 'counsel_office_wait_to_assignment_seconds_count{office="schule"} 1.0' in text
    assert 'counsel_office_conversations_opened_total{office="familie"} 1.0' in text
    for cid in (family, school, undecided):
        assert cid not in text
    # The single-office metrics are as they were.
    assert 'counsel_queue_length{channel="chat",priority="normal"} 2.0' in text


async def test_the_dashboard_shows_a_lead_their_own_offices_only() -> None:
    from counsel_bot.core.clock import FakeClock
    from counsel_bot.runtime.offices import office_rules
    from counsel_bot.web.router_source import RouterDashboardSource

    c = await conductor()
    await staff_says(c, BEN, "!duty on")
    family = await open_youth(c, "!d1:x", "Stress mit meinen Eltern, 89073")
    school = await open_youth(c, "!d2:x", "Mobbing in der Schule")
    names = {ANNA: "anna", BEN: "ben", CEM: "cem"}
    source = RouterDashboardSource(lambda: c.router.snapshot(), FakeClock(T0),
                                   nickname=names.get,
                                   offices=office_rules(settings_from_mapping(CONFIG)))
    lea = await source.snapshot_for(LEA)
    assert [q.conversation for q in lea.queue] == [family]
    assert school not in str(lea)
    assert lea.staff == ()  # ben, on duty, works for schule; anna is off duty
    everyone = await source.snapshot()
    assert [q.conversation for q in everyone.queue] == [family]  # school's is assigned
    # Anna (familie) comes on duty and takes the family youth: Lea sees her, still not Ben.
    await staff_says(c, ANNA, "!duty on")
    lea = await source.snapshot_for(LEA)
    assert [(s.nickname, s.load) for s in lea.staff] == [("anna", 1)]
    assert [s.nickname for s in (await source.snapshot()).staff] == ["anna", "ben"]


async def test_counsel_stats_shows_each_office() -> None:
    from counsel_bot.core.clock import FakeClock
    from counsel_bot.metrics import CounselMetrics
    from counsel_bot.office_metrics import OfficeMetrics
    from counsel_bot.runtime.offices import office_rules
    from counsel_bot.stats import format_stats, parse_stats

    metrics = CounselMetrics(FakeClock(T0))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()),
                             policy_from(settings_from_mapping(CONFIG)), T0, metrics=metrics)
    c.office_metrics = OfficeMetrics(office_rules(settings_from_mapping(CONFIG)),
                                     metrics.registry)
    await c.sync_roster(T0)
    await staff_says(c, CEM, "!duty on")
    await open_youth(c, "!s1:x", "Stress mit meinen Eltern, 89073")
    stats = parse_stats(metrics.render().decode())
    assert stats.offices["familie"].waiting == 1
    assert stats.offices["jugend"].on_duty == 1
    assert "familie" in format_stats(stats)
    assert stats.queue_length == 1


async def test_staff_notices_go_to_the_offices_own_staff_room() -> None:
    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    family = await open_youth(c, "!n1:x", "Stress mit meinen Eltern, 89073")
    undecided = await open_youth(c, "!n2:x", "hallo")
    notices = [e for e in await effects(c) if isinstance(e, SayToStaff)]
    about = {(dict(n.params).get("conversation"), n.key): n.office for n in notices}
    assert about[(family, "staff_new_conversation")] == "familie"
    assert about[(family, "staff_assigned")] == "familie"
    assert about[(undecided, "staff_new_conversation")] == "jugend"  # the fallback's room
    await c.youth_wrote(RoomID("!n2:x"), UserID("@yn2:x"), None, eid(), "2", T0)
    notices = [e for e in await effects(c) if isinstance(e, SayToStaff)]
    assert any(n.office == "schule" and dict(n.params).get("conversation") == undecided
               for n in notices)


def test_a_staff_digest_never_mixes_offices() -> None:
    from counsel_bot.channels.outbox_worker import coalesce, lane_of
    from counsel_bot.core.effects import StaffDigest

    work = [(SayToStaff("staff_new_conversation", office=o), f"k{i}")
            for i, o in enumerate(("a", "a", "b", "b"))]
    items = coalesce(work)
    assert [tuple(n.office for n in item[0].notices) for item in items
            if isinstance(item[0], StaffDigest)] == [("a", "a"), ("b", "b")]
    assert lane_of(work[0][0]) != lane_of(work[2][0])
    assert lane_of(SayToStaff("x")) == "staff"


async def test_a_youth_who_never_answers_goes_to_the_fallback_office() -> None:
    c = await conductor()
    await staff_says(c, CEM, "!duty on")
    cid = await open_youth(c, "!q1:x", "hallo")
    await c.tick(T0 + timedelta(minutes=1))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == UNDECIDED
    await c.tick(T0 + timedelta(minutes=4))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.office, conv.assigned_to) == ("jugend", CEM)
    assert ("office.fallback", {"office": "Jugendberatung"}) in await youth_keys(c)


async def test_the_web_dashboard_answers_each_lead_with_their_offices() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from counsel_bot.core.clock import FakeClock
    from counsel_bot.metrics import CounselMetrics
    from counsel_bot.runtime.offices import office_rules
    from counsel_bot.web import WebSettings, build_web_app
    from counsel_bot.web.router_source import RouterDashboardSource
    from tests.web.fakes import FakeAuth

    c = await conductor()
    family = await open_youth(c, "!w1:x", "Stress mit meinen Eltern, 89073")
    general = await open_youth(c, "!w2:x", "ich kiffe zu viel")
    clock = FakeClock(T0)
    source = RouterDashboardSource(lambda: c.router.snapshot(), clock,
                                   nickname=lambda _user: None,
                                   offices=office_rules(settings_from_mapping(CONFIG)))
    app = build_web_app(CounselMetrics(clock), source, FakeAuth({LEA: "pw", IDA: "pw"}),
                        WebSettings(), clock)
    for lead, sees, not_seen in ((LEA, family, general), (IDA, general, family)):
        async with TestClient(TestServer(app)) as client:
            await client.post("/login", data={"user_id": lead, "password": "pw"},
                              allow_redirects=False)
            page = await (await client.get("/dashboard/data")).text()
            html = await (await client.get("/dashboard")).text()
        assert sees in page
        assert not_seen not in page
        assert not_seen not in html


def test_a_mail_goes_to_the_office_its_text_names_else_the_fallback() -> None:
    from counsel_bot.conversation.offices import mail_office
    from counsel_bot.core.offices import OfficeBook
    from counsel_bot.runtime.offices import office_book

    book = office_book(settings_from_mapping(CONFIG))
    assert mail_office(book, "Hallo, ich habe Stress mit meinen Eltern. PLZ 89073") == "familie"
    assert mail_office(book, "Guten Tag, ich habe eine Frage.") == "jugend"
    assert mail_office(OfficeBook(), "Stress mit meinen Eltern") == ""


async def test_a_team_lead_cannot_supervise_another_offices_conversation() -> None:
    c = await conductor()
    family = await open_youth(c, "!v1:x", "Stress mit meinen Eltern, 89073")
    general = await open_youth(c, "!v2:x", "ich kiffe zu viel")
    assert await staff_says(c, IDA, f"!supervise {family}") == ["refused.unknown_conversation"]
    assert not c.supervision.is_reading(family, IDA)
    keys = await staff_says(c, IDA, f"!supervise {general}")
    assert "supervise.on" in keys


async def test_another_offices_case_notes_are_unknown_to_staff() -> None:
    """Review (workflow) finding 3: `!notes C-…` read, and `!note C-…` wrote, the case notes
    of any office's conversation, though another office's conversation is "unknown" to its
    staff for every other command."""
    from counsel_bot.conversation.notes import read

    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    cid = await open_youth(c, "!r9:x", "Stress mit meinen Eltern, 89073")
    assert await staff_says(c, ANNA, f"!note {cid} Vater trinkt, Schule weiß nichts") == [
        "notes.saved"]
    assert await staff_says(c, BEN, f"!notes {cid}") == ["notes.unknown"]
    assert await staff_says(c, BEN, f"!note {cid} hallo") == ["notes.unknown"]
    assert [n.by for n in await read(c.store, cid)] == [ANNA]
    await staff_says(c, ANNA, f"!close {cid}")  # closed, it stays its office's
    assert await staff_says(c, BEN, f"!notes {cid}") == ["notes.unknown"]
    assert await staff_says(c, LEA, f"!notes {cid}") == ["notes.list"]


async def test_a_youth_who_never_answers_hears_when_the_fallback_office_opens() -> None:
    """A youth whose first words name no office is asked once; one who answers is told,
    out of the office's hours, when it opens and where help is meanwhile. One who does not
    answer (a youth in distress does not pick from a menu) went to the fallback office after
    three minutes and was told its name only: at night, a wait with no end in sight. They
    now hear what the one who answered hears."""
    offices = [*CONFIG["offices"][:2],
               {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
                "counsellors": [CEM], "hours": {"mon": ["14:00-18:00"]}}]  # T0: a Tuesday
    closed = {**CONFIG, "offices": offices}
    policy = policy_from(settings_from_mapping(closed))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, T0)
    await c.sync_roster(T0)
    cid = await open_youth(c, "!r9:x", "hallo")
    assert "office.ask" in [k for k, _ in await youth_keys(c)]
    await c.tick(T0 + timedelta(minutes=4))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == "jugend"
    said = await youth_keys(c)
    assert ("office.fallback", {"office": "Jugendberatung"}) in said
    [(_, hours)] = [(k, p) for k, p in said if k.startswith("out_of_hours")]
    assert hours["next_opening"] == "30.11. 14:00"


async def test_a_youth_who_never_answers_with_nobody_on_duty_learns_where_help_is() -> None:
    """A youth who answers the office question is told where help is when nobody of the
    office is on duty (`YouthSide._settle_office`); one who never answers was put with the
    fallback office after three minutes and told only its name and "nobody is free right
    now": no numbers, while the welcome had held them back until an office was known."""
    c = await conductor()
    cid = await open_youth(c, "!q2:x", "hallo")
    assert not [k for k, _ in await youth_keys(c) if k == "nobody_on_duty"]
    await c.tick(T0 + timedelta(minutes=4))
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.office, conv.assigned_to) == ("jugend", None)
    [told] = [p for k, p in await youth_keys(c) if k == "nobody_on_duty"]
    assert "112" in str(told["emergency"])


async def test_the_office_question_says_when_the_wait_is_told() -> None:
    """The greeting promises "after your first message I will tell you about how long it
    takes"; with the office question the first message brings the question instead, and
    the wait only comes with the answer. The question says so, or the youth, told nothing
    of the wait, takes it that nobody is coming."""
    c = await conductor()
    await staff_says(c, BEN, "!duty on")
    cid = await open_youth(c, "!q3:x", "hallo")
    said = [k for k, _ in await youth_keys(c)]
    assert "office.ask" in said
    assert not [e for e in await effects(c) if isinstance(e, QueuePositionChanged)
                and e.conversation == cid]
    assert "wie lange" in text("office.ask", "de", menu="1. Familie")
    assert "how long" in text("office.ask", "en", menu="1. family")


async def test_the_answer_that_tells_the_language_gets_the_numbers_in_it() -> None:
    """A "hey" leaves the language open; the answer to the office question that tells it
    (English) sets it, and what that answer brings (where help is, nobody being on duty)
    names the numbers in it, not in the language the conversation had a moment before."""
    c = await conductor()
    cid = await open_youth(c, "!q4:x", "hey")
    await c.youth_wrote(RoomID("!q4:x"), UserID("@yq4:x"), None, eid(),
                        "2 please, I have problems at school", T0)
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.office, conv.language) == ("schule", "en")
    [told] = [p for k, p in await youth_keys(c) if k == "nobody_on_duty"]
    assert told["emergency"] == c.policy.emergency["en"]


async def test_a_youth_transferred_to_a_closed_office_hears_when_it_opens() -> None:
    """A lead sends a waiting conversation (`!transfer C-… office:ID`) to an office closed
    until next week: the youth was told only the new office's name and waited, with nobody
    on duty there and no word of when anyone would be, nor where help is meanwhile (one
    taken from a counsellor hears it, as handed back). They now hear what a youth choosing
    that office hears: when it opens, and the emergency numbers."""
    offices = [*CONFIG["offices"][:2],
               {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
                "counsellors": [CEM], "hours": {"mon": ["14:00-18:00"]}}]  # T0: a Tuesday
    policy = policy_from(settings_from_mapping({**CONFIG, "offices": offices}))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, T0)
    await c.sync_roster(T0)
    cid = await open_youth(c, "!r10:x", "Stress mit meinen Eltern, 89073")
    # Still waiting, nobody on duty in the family office: its lead sends it on.
    assert "office.transferred" in await staff_says(c, LEA, f"!transfer {cid} office:jugend")
    said = await youth_keys(c)
    assert ("office.transferred_youth", {"office": "Jugendberatung"}) in said
    [(_, hours)] = [(k, p) for k, p in said if k.startswith("out_of_hours")]
    assert hours["next_opening"] == "30.11. 14:00"
    assert "112" in str(hours["emergency"])


async def test_a_youth_who_switches_language_before_answering_is_asked_again_in_it() -> None:
    """"Hallo" opened the chat in German and brought the office question with a German
    menu; the youth, who reads English, wrote "english". They were greeted in English but
    never asked again: the only question stayed German, and a youth who could not answer it
    was sent to the fallback office minutes later, whatever their trouble."""
    c = await conductor()
    await staff_says(c, BEN, "!duty on")
    cid = await open_youth(c, "!q5:x", "Hallo")
    await c.youth_wrote(RoomID("!q5:x"), UserID("@yq5:x"), None, eid(), "english please", T0)
    conv = c.router.conversation(cid)
    assert conv is not None
    assert (conv.office, conv.language) == (UNDECIDED, "en")
    asked = [p for k, p in await youth_keys(c) if k == "office.ask"]
    assert any("2. school and training" in str(p["menu"]) for p in asked), asked


async def test_when_an_office_opens_with_nobody_on_duty_its_own_leads_are_called() -> None:
    """A youth sent to an office closed until Wednesday waits there; it opens with nobody
    on duty: the youth hears it and that office's lead is called in its room, at its own
    opening, not at another office's."""
    offices = [*CONFIG["offices"][:2],
               {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
                "counsellors": [CEM], "team_leads": [IDA],
                "hours": {"wed": ["14:00-18:00"]}}]  # T0: a Tuesday
    policy = policy_from(settings_from_mapping({**CONFIG, "offices": offices}))
    c = await Conductor.open(MemoryStore(AeadSealer()),
                             CrisisDetector.from_directory(default_lexicon_dir()), policy, T0)
    await c.sync_roster(T0)
    cid = await open_youth(c, "!r11:x", "Stress mit meinen Eltern, 89073")
    await staff_says(c, LEA, f"!transfer {cid} office:jugend")
    await c.tick(T0 + timedelta(hours=1))

    def opened(found: list[object]) -> list[object]:
        return [e for e in found if getattr(e, "key", "").endswith("opened_nobody_on_duty")]

    assert opened(await effects(c)) == []
    wednesday = datetime(2026, 11, 25, 13, 1, tzinfo=UTC)  # 14:01 in Berlin
    await c.tick(wednesday)
    youth, staff = opened(await effects(c))
    assert isinstance(youth, SayToYouth)
    assert youth.conversation == cid
    assert isinstance(staff, SayToStaff)
    assert (staff.office, staff.mentions) == ("jugend", (IDA,))


async def test_a_lead_reading_along_stops_when_the_conversation_goes_to_another_office(
) -> None:
    """The family office's lead reads along; the conversation is sent on to the youth
    office (`!transfer C-… office:jugend`). She went on reading another office's chat, the
    youth never told, and could not even end it: `!supervise end` answered "unknown" for a
    conversation now another office's. She goes with the transfer, the youth told, as
    when she ends it herself; after a restart she is not brought back."""
    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    cid = await open_youth(c, "!v3:x", "Stress mit meinen Eltern, 89073")
    assert "supervise.on" in await staff_says(c, LEA, f"!supervise {cid}")
    assert "office.transferred" in await staff_says(c, ANNA, f"!transfer {cid} office:jugend")
    assert not c.supervision.is_reading(cid, LEA)
    assert Supervise(cid, LEA, end=True) in await effects(c)
    assert ("supervision.ended", {}) in await youth_keys(c)
    again = await Conductor.open(c.store, c.detector, c.policy, T0)
    assert not again.supervision.is_reading(cid, LEA)


@pytest.mark.parametrize("now", ["counsellor", "gone"])
async def test_a_lead_no_longer_leading_stops_reading_along_at_the_next_start(now: str) -> None:
    """The family office's lead reads along; the configuration takes her off the team
    leads (she only counsels now) or off the staff, and the bot is started again. She was
    brought back as a reader from the store, read-only in the youth's room for as long as
    the chat lasted, and `!supervise end` refused her (no team lead now). She goes at the
    start, the youth told."""
    c = await conductor()
    await staff_says(c, ANNA, "!duty on")
    cid = await open_youth(c, "!v4:x", "Stress mit meinen Eltern, 89073")
    assert "supervise.on" in await staff_says(c, LEA, f"!supervise {cid}")
    family = {**CONFIG["offices"][0], "team_leads": [],
              "counsellors": [ANNA, LEA] if now == "counsellor" else [ANNA]}
    policy = policy_from(settings_from_mapping(
        {**CONFIG, "offices": [family, *CONFIG["offices"][1:]]}))
    again = await Conductor.open(c.store, c.detector, policy, T0)
    await again.sync_roster(T0)
    assert not again.supervision.is_reading(cid, LEA)
    assert Supervise(cid, LEA, end=True) in await effects(again)
    assert ("supervision.ended", {}) in await youth_keys(again)


async def test_a_fallback_lead_reading_along_stops_when_the_youth_chooses_another_office(
) -> None:
    """A conversation whose office is not decided yet is the fallback office's: its lead
    may read along. The youth then answers the office question: the conversation is the
    school office's now, and the youth office's lead went on reading it, the youth never
    told. She goes when the office is decided, the youth told."""
    c = await conductor()
    cid = await open_youth(c, "!v5:x", "hallo")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == UNDECIDED
    assert "supervise.on" in await staff_says(c, IDA, f"!supervise {cid}")
    await c.youth_wrote(RoomID("!v5:x"), UserID("@yv5:x"), None, eid(), "2", T0)
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == "schule"
    assert not c.supervision.is_reading(cid, IDA)
    assert Supervise(cid, IDA, end=True) in await effects(c)
    assert ("supervision.ended", {}) in await youth_keys(c)


async def test_the_on_call_lead_reading_along_a_crisis_can_end_it_once_its_office_is_back(
) -> None:
    """A crisis in the family office with nobody on duty there is the on-call office's:
    its lead may read along. Then the family counsellor comes on duty: the conversation is
    the family office's again, unknown to the on-call lead, and `!supervise end` answered
    "there is no open conversation": the lead could not end her own reading along. Whoever
    reads along may end it."""
    c = await conductor()
    await staff_says(c, CEM, "!duty on")
    await staff_says(c, CEM, "!capacity 0")
    cid = await open_youth(c, "!v6:x", "Stress mit meinen Eltern, 89073")
    await c.youth_wrote(RoomID("!v6:x"), UserID("@yv6:x"), None, eid(),
                        "ich will mich heute umbringen", T0 + timedelta(seconds=5))
    assert "supervise.on" in await staff_says(c, IDA, f"!supervise {cid}")
    await staff_says(c, ANNA, "!duty on")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.assigned_to == ANNA
    assert await staff_says(c, IDA, f"!supervise end {cid}") == ["supervise.off"]
    assert not c.supervision.is_reading(cid, IDA)
    assert Supervise(cid, IDA, end=True) in await effects(c)
    assert ("supervision.ended", {}) in await youth_keys(c)


async def test_the_on_call_lead_reading_along_a_crisis_stays_over_a_restart() -> None:
    """The on-call office's lead reads along a family crisis taken by her own counsellor
    while the family office had nobody on duty. The family counsellor has come on duty
    since; the bot starts again with the same configuration. Nothing in it changed, so she
    stays: the start takes out only readers the configuration no longer makes a lead of
    the conversation, not those whom who is on duty now would not let begin."""
    c = await conductor()
    cid = await open_youth(c, "!v7:x", "Stress mit meinen Eltern, 89073")
    await c.youth_wrote(RoomID("!v7:x"), UserID("@yv7:x"), None, eid(),
                        "ich will mich heute umbringen", T0 + timedelta(seconds=5))
    await staff_says(c, CEM, "!duty on")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.assigned_to == CEM
    assert "supervise.on" in await staff_says(c, IDA, f"!supervise {cid}")
    await staff_says(c, ANNA, "!duty on")
    assert c.supervision.is_reading(cid, IDA)
    again = await Conductor.open(c.store, c.detector, c.policy, T0)
    await again.sync_roster(T0)
    assert again.supervision.is_reading(cid, IDA)
    assert Supervise(cid, IDA, end=True) not in await effects(again)
