"""Group evenings with several offices: a group belongs to the office of the counsellor who
announced it (narrowed to the office whose staff room it was announced in), and only its
host or a team lead of that office moderates or ends it, as staff act only on their own
office's conversations. One office: every team lead, as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from counsel_bot.config import OfficeSettings, RoutingSettings, Settings
from counsel_bot.core import groups as g
from counsel_bot.core.device_trust_check import DeviceTrustCheck
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_book_codec import decode_book, encode_book
from counsel_bot.core.group_effects import (
    CloseGroupRoom,
    KickFromGroup,
    MuteInGroup,
)
from counsel_bot.core.ids import RoomID, UserID
from tests.groups.test_group_desk import ANNA, BEN, Parts, notices

# Anna counsels in "familie", whose lead is Lea; Tom leads "schule"; Mia works in both.
LEA, TOM, MIA = UserID("@lea:x"), UserID("@tom:x"), UserID("@mia:x")
SCHOOL_ROOM = RoomID("!schule-staff:x")
STAFF_ROOM = RoomID("!staff:x")
START = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


def two_offices() -> Settings:
    return Settings(
        routing=RoutingSettings(fallback_office="familie"),
        offices=(OfficeSettings(id="familie", name="Familie", topics=("family",),
                                counsellors=(ANNA, MIA), team_leads=(LEA,)),
                 OfficeSettings(id="schule", name="Schule", topics=("school",),
                                counsellors=(BEN, MIA), team_leads=(TOM,))))


async def evening(host: UserID = ANNA, room: RoomID = STAFF_ROOM) -> tuple[Parts, str]:
    """Group 1, announced by ``host`` in ``room``, open, one youth seated; their nickname."""
    p = Parts()
    await p.start(settings=two_offices())
    p.c.office_of_room = lambda r: "schule" if r == SCHOOL_ROOM else None
    await p.staff(host, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4', room)
    await p.youth(1, "gruppe 1")
    opened = await p.open_group()
    [(_, nick)] = opened.members
    return p, nick


def acted(effects: list[object]) -> list[object]:
    return [e for e in effects if isinstance(e, CloseGroupRoom | KickFromGroup | MuteInGroup)]


@pytest.mark.parametrize("command", ["!end", "!remove", "!mute"])
async def test_a_team_lead_of_another_office_cannot_moderate_the_group(command: str) -> None:
    p, nick = await evening()
    assert p.desk.book.get(1).offices == {"familie"}
    await p.in_group(TOM, command if command == "!end" else f"{command} {nick}")
    effects = await p.new()
    assert acted(effects) == []
    [refused] = [e for e in effects if isinstance(e, SayToStaff)]
    assert refused.key == "group.not_host"
    await p.in_group(LEA, command if command == "!end" else f"{command} {nick}")
    assert acted(await p.new()) != []


async def test_a_team_lead_of_another_office_cannot_end_it_from_the_staff_room() -> None:
    p, _ = await evening()
    await p.staff(TOM, "!group end 1")
    assert CloseGroupRoom(1) not in await p.new()
    await p.staff(LEA, "!group end 1")
    assert CloseGroupRoom(1) in await p.new()


async def test_a_host_of_two_offices_announcing_in_one_offices_room_gives_it_to_that_one(
) -> None:
    p, _ = await evening(MIA, SCHOOL_ROOM)
    assert p.desk.book.get(1).offices == {"schule"}
    await p.staff(LEA, "!group end 1")
    assert CloseGroupRoom(1) not in await p.new()
    await p.staff(TOM, "!group end 1")
    assert CloseGroupRoom(1) in await p.new()


async def test_a_host_of_two_offices_announcing_elsewhere_gives_it_to_both() -> None:
    p, _ = await evening(MIA)
    assert p.desk.book.get(1).offices == {"familie", "schule"}
    await p.staff(TOM, "!group end 1")
    assert CloseGroupRoom(1) in await p.new()


def test_the_groups_office_is_kept_and_a_book_from_before_offices_has_none() -> None:
    """Kept in the sealed book; a group announced before groups had offices belongs to none,
    so every team lead may still moderate it (what it was announced under)."""
    book, _ = g.announce(g.GroupBook(), g.NewGroup("Schlaf", START, g.MIN_DURATION, 4),
                         ANNA, START.replace(day=1), frozenset({"familie"}))
    assert decode_book(encode_book(book)) == book
    old = encode_book(book).replace(b',"offices":["familie"]', b"")
    assert b"offices" not in old
    [group] = decode_book(old).groups
    assert group.offices == frozenset()
    g.may_moderate(group, g.Moderator(TOM, team_lead=True, offices=frozenset({"schule"})))


async def group_crisis(**familie: object) -> list[object]:
    """Anna's group of the office "familie" (changed by ``familie``), open, and a crisis in
    it: the effects of that message."""
    settings = two_offices()
    settings = replace(settings, offices=(replace(settings.offices[0], **familie),
                                          settings.offices[1]))
    p = Parts()
    await p.start(settings=settings)
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    return list(await p.new())


async def test_a_crisis_in_a_group_calls_its_offices_leads_not_every_office() -> None:
    """A group flag calls the leads at once (the host is moderating). With offices it called
    every office's leads, also those of offices the group has nothing to do with: an alert
    they may not act on, and a reason to stop reading alerts. Now the group's offices'
    leads (and the installation's own); every lead only when the group's offices have none.
    The youth's offer names the group's office's emergency numbers."""
    effects = await group_crisis(emergency_de="Familien-Notdienst 0800 0000 000")
    [alert] = [e for e in effects if isinstance(e, SayToStaff)]
    assert alert.key == "group.staff_crisis_alert"
    assert alert.mentions == (ANNA, LEA)
    assert dict(alert.params)["leads"] == LEA
    [offer] = notices(effects, "group.crisis_offer")  # type: ignore[arg-type]
    assert dict(offer.params)["emergency"] == "Familien-Notdienst 0800 0000 000"


async def test_a_crisis_in_a_group_whose_office_has_no_lead_calls_every_lead() -> None:
    [alert] = [e for e in await group_crisis(team_leads=()) if isinstance(e, SayToStaff)]
    assert alert.mentions == (ANNA, TOM)


async def test_a_crisis_in_a_group_whose_office_has_nobody_on_duty_calls_the_on_call_office(
) -> None:
    """A youth's crisis in a 1:1 whose office has nobody on duty goes to the on-call office
    (`offices.leads_for`, `_office_now`). A group's flag called only its own office's
    leads, who are off duty with everyone else there: nobody who works now was called,
    and a group flag is never paged again later."""
    settings = replace(two_offices(), routing=RoutingSettings(fallback_office="familie",
                                                              on_call_office="schule"))
    p = Parts()
    await p.start(settings=settings)
    await p.staff(BEN, "!duty on")  # "schule" works tonight; nobody of "familie" does
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    [alert] = [e for e in await p.new() if isinstance(e, SayToStaff)
               and e.key == "group.staff_crisis_alert"]
    assert TOM in alert.mentions, "the on-call office's lead was not called"
    assert TOM in str(dict(alert.params)["leads"])


async def test_the_group_list_shows_another_offices_groups_to_nobody() -> None:
    """Staff see and act on their own office's conversations only; ``!group list`` listed
    every office's groups (topic, evening, host, how many signed up) to everyone."""
    p, _ = await evening()
    await p.staff(BEN, '!group new "Schulstress" 2026-12-11 18:00 60min max 4')
    await p.new()
    await p.staff(BEN, "!group list")
    [listing] = await p.new()
    assert isinstance(listing, SayInRoom)
    lines = str(dict(listing.params)["lines"])
    assert "Schulstress" in lines
    assert "Prüfungsangst" not in lines, "a group of the office familie shown to schule"
    await p.staff(MIA, "!group list")
    [both] = await p.new()
    assert isinstance(both, SayInRoom)
    assert "Prüfungsangst" in str(dict(both.params)["lines"])
    assert "Schulstress" in str(dict(both.params)["lines"])


@pytest.mark.parametrize("command", ["!end", "!remove", "!mute"])
async def test_a_lead_who_only_counsels_in_the_groups_office_cannot_moderate_it(
        command: str) -> None:
    """A team lead leads only the offices they lead (routing rule 7): in an office where
    they only counsel they are a counsellor like the others. Mia leads "familie" and counsels
    in "schule"; she could end Ben's "schule" group, remove and mute its youths."""
    settings = two_offices()
    familie, schule = settings.offices
    settings = replace(settings, offices=(replace(familie, team_leads=(LEA, MIA)), schule))
    p = Parts()
    await p.start(settings=settings)
    await p.staff(BEN, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    [(_, nick)] = (await p.open_group()).members
    assert p.desk.book.get(1).offices == {"schule"}
    await p.in_group(MIA, command if command == "!end" else f"{command} {nick}")
    effects = await p.new()
    assert acted(effects) == [], "a lead of another office moderated the group"
    [refused] = [e for e in effects if isinstance(e, SayToStaff)]
    assert refused.key == "group.not_host"
    await p.in_group(TOM, command if command == "!end" else f"{command} {nick}")
    assert acted(await p.new()) != []


async def test_a_crisis_in_a_group_whose_offices_lead_has_no_device_calls_another_lead(
) -> None:
    """Lea's account was closed (no device left): a group flag that calls only her rings
    nobody's phone, as a 1:1's page did (tests/counsel_bot/test_lead_without_devices.py)."""
    p = Parts()
    await p.start(settings=two_offices())
    await p.c.devices_checked(DeviceTrustCheck(LEA, False, (), devices=0), START)
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), "ich will nicht mehr leben")
    [alert] = [e for e in await p.new() if isinstance(e, SayToStaff)
               and e.key == "group.staff_crisis_alert"]
    assert LEA not in alert.mentions
    assert TOM in alert.mentions, "no lead who can be rung was called"
