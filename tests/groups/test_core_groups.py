"""The pure rules of group sessions, with a fake clock and hypothesis properties."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core import groups as g
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.group_book_codec import decode_book, encode_book
from counsel_bot.core.group_commands import (
    EndGroupCommand,
    ForumDecisionCommand,
    ForumPendingCommand,
    GroupCommandError,
    ListGroupsCommand,
    ModerateCommand,
    NewGroupCommand,
    YouthForumPost,
    YouthForumRead,
    YouthListForums,
    YouthListGroups,
    YouthSignUp,
    parse_group_room,
    parse_staff_group,
    parse_youth_group,
)
from counsel_bot.core.group_figures import figures as group_figures
from counsel_bot.core.group_names import poses_as
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import CATALOGUE

BERLIN = ZoneInfo("Europe/Berlin")
HOST = UserID("@host:x")
OTHER = UserID("@other:x")
START = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)


def youth(i: int) -> UserID:
    return UserID(f"@youth{i}:x")


def home(i: int) -> RoomID:
    return RoomID(f"!home{i}:x")


def announced(max_seats: int = 3, clock: FakeClock | None = None) -> tuple[g.GroupBook, int]:
    now = (clock.now() if clock else START - timedelta(days=1))
    book, group = g.announce(g.GroupBook(), g.NewGroup("Prüfungsangst", START,
                                                       timedelta(minutes=90), max_seats),
                             HOST, now)
    return book, group.number


# -- parsing ---------------------------------------------------------------------------------


def test_new_group_parses_the_example_in_local_time() -> None:
    parsed = parse_staff_group('!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8', BERLIN)
    assert parsed == NewGroupCommand("Prüfungsangst",
                                     datetime(2026, 12, 10, 18, 0, tzinfo=BERLIN), 90, 8)
    assert isinstance(parsed, NewGroupCommand)
    assert parsed.start == START


@pytest.mark.parametrize(("text", "key"), [
    ('!group new "Angst" 2026-13-10 18:00 90min max 8', "group.parse_date"),
    ('!group new "Angst" 2026-12-10 25:00 90min max 8', "group.parse_date"),
    ('!group new "Angst" morgen 18:00', "group.parse_date"),
    ('!group new "Angst 2026-12-10 18:00', "group.parse_topic"),
    ('!group new "Angst" 2026-12-10 18:00 lang', "group.parse_duration"),
    ("!group new", "command.missing_argument"),
])
def test_bad_announcements_get_a_clear_error(text: str, key: str) -> None:
    parsed = parse_staff_group(text, BERLIN)
    assert isinstance(parsed, GroupCommandError)
    assert parsed.key == key
    assert key in CATALOGUE
    assert "Angst" not in parsed.hint


@pytest.mark.parametrize(("tail", "key"), [
    ("90min max 1000", "group.bad_seats"),
    ("90min max 21", "group.bad_seats"),
    ("max 1 90min", "group.bad_seats"),
    ("90000min max 8", "group.bad_duration"),
])
def test_a_number_out_of_range_is_answered_with_its_range(tail: str, key: str) -> None:
    """"max 1000" is too many seats, not a duration the bot cannot read: the counsellor is
    told a group has 2–20 seats (and an overlong evening that it has 15–240 minutes)."""
    parsed = parse_staff_group(f'!group new "X" 2026-12-10 18:00 {tail}', BERLIN)
    assert isinstance(parsed, NewGroupCommand)
    new = g.NewGroup(parsed.topic, parsed.start, timedelta(minutes=parsed.minutes),
                     parsed.max_seats)
    with pytest.raises(g.GroupRefused) as refused:
        g.announce(g.GroupBook(), new, HOST, START - timedelta(days=1))
    assert refused.value.key == key


def test_other_staff_and_room_commands() -> None:
    assert parse_staff_group("!group", BERLIN) == ListGroupsCommand()
    assert parse_staff_group("!forum pending", BERLIN) == ForumPendingCommand()
    assert parse_staff_group("!forum approve p-0a1b2c3d", BERLIN) == \
        ForumDecisionCommand("P-0A1B2C3D", True)
    assert parse_staff_group("!forum reject P-0A1B2C3D zu persönlich", BERLIN) == \
        ForumDecisionCommand("P-0A1B2C3D", False, "zu persönlich")
    assert parse_staff_group("!take C-1", BERLIN) is None
    assert parse_group_room("!mute Fuchs") == ModerateCommand("mute", "Fuchs")
    assert parse_group_room("!remove  Eule ") == ModerateCommand("remove", "Eule")
    assert parse_group_room("!end") == EndGroupCommand()
    assert parse_group_room("hallo") is None


def test_only_our_own_long_commands_are_too_long() -> None:
    """Another desk's long command (a 4,000-character `!note`) is not ours to refuse; a
    too long `!group` or `!forum` is, naming the command."""
    long_text = "x" * 1500
    assert parse_staff_group(f"!note C-12345678 {long_text}", BERLIN) is None
    assert parse_staff_group(f"!snippet add eltern {long_text}", BERLIN) is None
    assert parse_staff_group(f"!group new {long_text}", BERLIN) == GroupCommandError(
        "command.too_long", "!group")
    assert parse_staff_group(f"!Forum reject P-1234ABCD {long_text}", BERLIN) == \
        GroupCommandError("command.too_long", "!forum")


def test_youth_commands() -> None:
    assert parse_youth_group("gruppe") == YouthListGroups()
    assert parse_youth_group("Group") == YouthListGroups()
    assert parse_youth_group("gruppe 1") == YouthSignUp(1)
    assert parse_youth_group("group #12") == YouthSignUp(12)
    assert parse_youth_group("gruppe ist doof") is None
    assert parse_youth_group("forum") == YouthListForums()
    assert parse_youth_group("forum schule Ich habe Angst vor der Prüfung") == \
        YouthForumPost("schule", "Ich habe Angst vor der Prüfung")
    assert parse_youth_group("forum Schule") == YouthForumRead("schule")
    assert parse_youth_group("hallo") is None


# -- decisions -------------------------------------------------------------------------------


def test_announce_refuses_past_overlong_and_bad_seats() -> None:
    now = START
    for new, key in [
        (g.NewGroup("A", START - timedelta(minutes=1), timedelta(minutes=90), 8), "group.in_past"),
        (g.NewGroup("A", START + timedelta(days=1), timedelta(minutes=300), 8),
         "group.bad_duration"),
        (g.NewGroup("A", START + timedelta(days=1), timedelta(minutes=90), 1), "group.bad_seats"),
        (g.NewGroup("  ", START + timedelta(days=1), timedelta(minutes=90), 8), "group.bad_topic"),
        # A seat keeps the youth's old conversation from retention until the group is over:
        # a group years ahead would keep it that long (appointments: a year at most too).
        (g.NewGroup("A", START + timedelta(days=366), timedelta(minutes=90), 8),
         "group.too_far"),
    ]:
        with pytest.raises(g.GroupRefused) as refused:
            g.announce(g.GroupBook(), new, HOST, now)
        assert refused.value.key == key


def test_a_whole_evening_with_a_fake_clock() -> None:
    clock = FakeClock(START - timedelta(days=1))
    book, number = announced(max_seats=2, clock=clock)
    assert [x.number for x in g.upcoming(book, clock.now())] == [number]
    book, first, new = g.sign_up(book, number, youth(1), home(1), clock.now())
    assert new
    again, same, new = g.sign_up(book, number, youth(1), home(1), clock.now())
    assert (again, same, new) == (book, first, False)  # nothing lost, nothing doubled
    book, second, _ = g.sign_up(book, number, youth(2), home(2), clock.now())
    assert first.nickname != second.nickname
    with pytest.raises(g.GroupRefused, match=r"group.full"):
        g.sign_up(book, number, youth(3), home(3), clock.now())
    assert g.due_to_open(book, clock.now()) == ()
    clock.set(START)
    assert [x.number for x in g.due_to_open(book, clock.now())] == [number]
    book = g.open_group(book, number)
    assert g.due_to_open(book, clock.now()) == ()
    with pytest.raises(g.GroupRefused, match=r"group.not_host"):
        g.remove(book, number, g.Moderator(OTHER), first.nickname)
    book, seat = g.mute(book, number, g.Moderator(HOST), first.nickname.upper())
    assert first.nickname in book.get(number).muted
    book, seat = g.remove(book, number, g.Moderator(OTHER, team_lead=True), first.nickname)
    assert seat == first
    with pytest.raises(g.GroupRefused, match=r"group.removed"):
        g.sign_up(book, number, youth(1), home(1), clock.now())
    # the freed seat goes to someone else, under a name never used before
    book, third, _ = g.sign_up(book, number, youth(3), home(3), clock.now())
    assert third.nickname not in (first.nickname, second.nickname)
    with pytest.raises(g.GroupRefused, match=r"group.not_host"):
        g.end(book, number, g.Moderator(OTHER), clock.now())
    clock.advance(timedelta(minutes=30))
    book, ended = g.end(book, number, g.Moderator(HOST), clock.now())
    assert ended.state is g.GroupState.ENDED
    with pytest.raises(g.GroupRefused, match=r"group.over"):
        g.sign_up(book, number, youth(4), home(4), clock.now())
    with pytest.raises(g.GroupRefused, match=r"group.already_ended"):
        g.end(book, number, g.Moderator(HOST), clock.now())
    keep = timedelta(hours=1)
    assert g.due_to_purge(book, clock.now(), keep) == ()
    clock.advance(keep)
    assert g.due_to_purge(book, clock.now(), keep) == (ended,)
    book = g.purged(book, number)
    purged = book.get(number)
    assert purged.state is g.GroupState.PURGED
    assert purged.seats == ()
    assert not purged.removed
    figures = group_figures(book, clock.now())
    assert (figures.held, figures.participants) == (1, 3)
    assert decode_book(encode_book(book)) == book


def test_time_running_out_ends_the_group() -> None:
    book, number = announced()
    assert g.due_to_end(book, START + timedelta(minutes=89)) == ()
    assert [x.number for x in g.due_to_end(book, START + timedelta(minutes=90))] == [number]
    book, _ = g.end(book, number, None, START + timedelta(minutes=90))
    assert g.upcoming(book, START) == ()


def test_unknown_group_and_nickname() -> None:
    book, number = announced()
    with pytest.raises(g.GroupRefused, match=r"group.unknown"):
        g.sign_up(book, 99, youth(1), home(1), START)
    book = g.open_group(book, number)
    with pytest.raises(g.GroupRefused, match=r"group.no_such_nickname"):
        g.mute(book, number, g.Moderator(HOST), "Niemand")


def test_nicknames_are_unique_beyond_the_list() -> None:
    names = [g.nickname(3, i) for i in range(3 * len(g.NICKNAMES))]
    assert len(set(names)) == len(names)


# -- properties ------------------------------------------------------------------------------

_steps = st.lists(st.tuples(st.sampled_from(["sign", "remove"]), st.integers(0, 12)),
                  max_size=60)


@settings(max_examples=200, deadline=None)
@given(max_seats=st.integers(2, 8), steps=_steps)
def test_never_over_max_seats_and_removed_never_rejoin(
    max_seats: int, steps: list[tuple[str, int]]
) -> None:
    book, number = announced(max_seats)
    book = g.open_group(book, number)
    now = START + timedelta(minutes=1)
    removed: set[UserID] = set()
    for action, i in steps:
        if action == "sign":
            try:
                book, seat, _ = g.sign_up(book, number, youth(i), home(i), now)
            except g.GroupRefused as refused:
                refusal = refused.key
            else:
                refusal = ""
                assert seat.youth not in removed
            assert refusal in ("", "group.full", "group.removed")
        else:
            seat = book.get(number).seat_of(youth(i))
            if seat is not None:
                book, _ = g.remove(book, number, g.Moderator(HOST), seat.nickname)
                removed.add(youth(i))
        group = book.get(number)
        assert len(group.seats) <= group.max_seats
        assert not {s.youth for s in group.seats} & removed
        assert len({s.nickname for s in group.seats}) == len(group.seats)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_the_parsers_never_raise(text: str) -> None:
    parse_staff_group(text, BERLIN)
    parse_staff_group("!group new " + text, BERLIN)
    parse_staff_group("!forum " + text, BERLIN)
    parse_group_room(text)
    parse_group_room("!" + text)
    parse_youth_group(text)
    parse_youth_group("forum " + text)


# -- erasure (issue 20: erased must mean erased) ---------------------------------------------


def test_forgetting_a_youth_drops_seat_mute_and_removal_but_keeps_the_counts() -> None:
    book, number = announced(4)
    for i in range(3):
        book, _, _ = g.sign_up(book, number, youth(i), home(i), START - timedelta(hours=1))
    book = g.open_group(book, number)
    nick0 = book.get(number).seat_of(youth(0))
    nick1 = book.get(number).seat_of(youth(1))
    assert nick0 is not None
    assert nick1 is not None
    book, _ = g.mute(book, number, g.Moderator(HOST), nick0.nickname)
    book, _ = g.remove(book, number, g.Moderator(HOST), nick1.nickname)
    for erased in (0, 1):
        book, _ = g.forget_youth(book, youth(erased), home(erased))
        group = book.get(number)
        raw = encode_book(book)
        assert youth(erased).encode() not in raw
        assert home(erased).encode() not in raw
        assert group.named == 3  # the team-lead counts stay, and no nickname is reused
        assert group.seat_of(youth(2)) is not None
    group = book.get(number)
    assert group.muted == frozenset()
    assert group.removed == frozenset()
    assert [s.youth for s in group.seats] == [youth(2)]
    book, seat, new = g.sign_up(book, number, youth(3), home(3), START + timedelta(minutes=5))
    assert new
    assert seat.nickname not in (nick0.nickname, nick1.nickname)


def test_forgetting_by_room_alone_finds_a_seat_taken_from_that_room() -> None:
    book, number = announced(3)
    book, _, _ = g.sign_up(book, number, youth(0), home(0), START - timedelta(hours=1))
    book, forgotten = g.forget_youth(book, youth(9), home(0))
    assert not book.get(number).seats
    assert [n for n, _ in forgotten] == [number]
    same, none = g.forget_youth(book, youth(9), home(0))
    assert same == book
    assert none == ()


def test_forgetting_a_room_takes_only_its_seats_and_keeps_removals() -> None:
    """Retention erases a conversation, not the account: a seat the same youth took from
    another room stays, and so does a removal (a moderator's safety decision)."""
    book, number = announced(4)
    now = START - timedelta(hours=1)
    book, _, _ = g.sign_up(book, number, youth(0), home(0), now)
    book, _, _ = g.sign_up(book, number, youth(1), home(1), now)
    book = g.open_group(book, number)
    seat1 = book.get(number).seat_of(youth(1))
    assert seat1 is not None
    book, _ = g.remove(book, number, g.Moderator(HOST), seat1.nickname)
    book, forgotten = g.forget_room(book, home(9))  # youth 0's old, erased room
    assert forgotten == ()
    assert book.get(number).seat_of(youth(0)) is not None
    book, forgotten = g.forget_room(book, home(1))
    # The seat youth 1 was removed from (kept for their late words) names the room: it goes.
    assert forgotten == ((number, seat1),)
    assert home(1).encode() not in encode_book(book)
    assert book.get(number).removed == {youth(1)}
    book, forgotten = g.forget_room(book, home(0))
    assert [s.youth for _, s in forgotten] == [youth(0)]
    assert home(0).encode() not in encode_book(book)


@settings(max_examples=200, deadline=None)
@given(max_seats=st.integers(2, 8), steps=_steps, erased=st.integers(0, 12))
def test_after_forgetting_the_book_never_names_the_youth(
    max_seats: int, steps: list[tuple[str, int]], erased: int
) -> None:
    book, number = announced(max_seats)
    book = g.open_group(book, number)
    now = START + timedelta(minutes=1)
    for action, i in steps:
        if action == "sign":
            with contextlib.suppress(g.GroupRefused):
                book, _, _ = g.sign_up(book, number, youth(i), home(i), now)
        elif (seat := book.get(number).seat_of(youth(i))) is not None:
            book, _ = g.remove(book, number, g.Moderator(HOST), seat.nickname)
    before = book.get(number)
    book, _ = g.forget_youth(book, youth(erased), home(erased))
    after = book.get(number)
    assert youth(erased).encode() + b'"' not in encode_book(book)
    assert home(erased).encode() + b'"' not in encode_book(book)
    assert after.named == before.named
    assert {s.youth for s in after.seats} == {s.youth for s in before.seats} - {youth(erased)}
    assert after.removed == before.removed - {youth(erased)}
    assert after.muted <= {s.nickname for s in after.seats}


def test_a_display_name_posing_as_another_youth_or_the_team_is_recognised() -> None:
    """A member may always rewrite their own name in a room (power levels do not reach
    membership): the bot can only say who it really is (review of groups, finding 4)."""
    group = g.Group(1, "Prüfungsangst", START, timedelta(minutes=90), 8, HOST, seats=(
        g.Seat(UserID("@b:x"), "Elch 1", RoomID("!b:x")),
        g.Seat(UserID("@c:x"), "Fuchs 2", RoomID("!c:x"))))
    b = UserID("@b:x")
    assert poses_as(group, b, "Fuchs 2") == "Fuchs 2"
    assert poses_as(group, b, "ｆｕｃｈｓ\u200b２ (echt)") == "Fuchs 2"  # width, invisibles
    assert poses_as(group, b, "Moderation") == ""
    assert poses_as(group, b, "Beraterin Anna") == ""
    assert poses_as(group, b, "Elch 1") is None, "their own nickname"
    assert poses_as(group, b, "youth-b-2-d38ba1") is None, "a profile name claims nobody"
    assert poses_as(group, b, "\u200b") is None
    assert poses_as(group, UserID("@nobody:x"), "Fuchs 2") is None, "not seated"
