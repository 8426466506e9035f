"""Group sessions: a counsellor hosts a topic evening for a few youths. Pure.

The rules it keeps:
- A group never has more seats taken than its `max_seats`.
- A youth removed from a group never gets a seat in it again.
- Only the host or a team lead moderates, joins or ends a group; with offices, a team lead of one
  of the group's offices (those of the counsellor who announced it), as staff act only on
  their own office's conversations.
- A group goes announced → open (at its start) → ended (by `!end`, or at its end) → purged
  (once the retention after its end has passed); it never goes back.

Every decision takes the current `GroupBook` and the time and returns a new book (frozen
data) or raises `GroupRefused`, whose `key` is a message from the catalogue and whose params
never carry message text. Who a youth is stays inside the book, which the conversation part
seals before it is stored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from counsel_bot.core.ids import RoomID, UserID

MAX_SEATS = 20
MAX_DURATION = timedelta(hours=4)
MIN_DURATION = timedelta(minutes=15)
MAX_TOPIC_CHARS = 80
# Neutral animal names: friendly for a 12-year-old, and nothing that hints at a person.
NICKNAMES = ("Fuchs", "Eule", "Igel", "Otter", "Luchs", "Dachs", "Biber", "Falke", "Koala",
             "Panda", "Robbe", "Kranich", "Hase", "Wal", "Pinguin", "Elch", "Marder",
             "Lama", "Kolibri", "Delfin")


class GroupState(StrEnum):
    ANNOUNCED = "announced"
    OPEN = "open"
    ENDED = "ended"
    PURGED = "purged"


class GroupRefused(Exception):
    """A group decision was refused; ``key`` is the reply from the catalogue."""

    def __init__(self, key: str, **params: str | int) -> None:
        super().__init__(key)
        self.key = key
        self.params: tuple[tuple[str, str | int], ...] = tuple(sorted(params.items()))


@dataclass(frozen=True)
class Seat:
    youth: UserID
    nickname: str
    # The youth's own 1:1 room with the bot: where sign-up replies and a crisis offer go.
    home_room: RoomID


@dataclass(frozen=True)
class Group:
    number: int
    topic: str
    start: datetime
    duration: timedelta
    max_seats: int
    host: UserID
    seats: tuple[Seat, ...] = ()
    removed: frozenset[UserID] = frozenset()
    muted: frozenset[str] = frozenset()
    state: GroupState = GroupState.ANNOUNCED
    ended_at: datetime | None = None
    # How many nicknames were handed out: a seat freed by a removal never reuses a name.
    named: int = 0
    # The offices the group belongs to: the host's when they announced it (narrowed to the
    # office whose staff room they typed it in). Empty without offices, and for groups
    # announced before groups had offices: every team lead may moderate those.
    offices: frozenset[str] = frozenset()
    # The seats of removed youths: their words may still arrive (a message the bot could
    # decrypt only after the removal, or sent before the kick took effect), and are looked
    # at for a crisis like a seated youth's. Forgotten like seats (erasure, the purge).
    gone: tuple[Seat, ...] = ()
    # Staff other than the host let into the room (`join`: a lead stepping in): removed
    # again once they may no longer moderate (left the team, no longer lead its office).
    stepped_in: frozenset[UserID] = frozenset()
    # Whom the bot called to make sure somebody moderates (the host missing, or gone from
    # the room): the on-call office's leads among them, or every office's. Called to step
    # in, they may (`may_moderate`), whatever office they lead.
    called: frozenset[UserID] = frozenset()
    # Those among ``called`` who were called as team leads: they may while they lead (a
    # demoted lead, still on staff, is one no longer called). The others were called in a
    # lead's stead (no lead named or reachable then: `Conductor.every_lead`), as they were.
    called_leads: frozenset[UserID] = frozenset()

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def seat_of(self, youth: UserID) -> Seat | None:
        return next((s for s in self.seats if s.youth == youth), None)

    def writer(self, youth: UserID) -> Seat | None:
        """The seat under which the youth's words in the room are judged: theirs, or the
        one they were removed from."""
        return self.seat_of(youth) or next((s for s in self.gone if s.youth == youth), None)

    def seats_named(self, nickname: str,
                    shown: Mapping[UserID, str] | None = None) -> tuple[Seat, ...]:
        """The seats a moderator's name may mean: by its nickname, the youth's account id,
        or the name the youth's app shows in the room (``shown``; once a youth joins, their
        account's display name replaces the nickname there). More than one when a youth
        shows another's nickname (or id): the host, who sees that name on the messages,
        cannot mean the seat whose nickname it is rather than the one showing it."""
        wanted = nickname.strip().casefold()
        name = comparable(nickname)
        found = [s for s in self.seats
                 if s.nickname.casefold() == wanted or s.youth.casefold() == wanted
                 or (shown and name and comparable(shown.get(s.youth, "")) == name)]
        return tuple(found)


@dataclass(frozen=True)
class GroupBook:
    groups: tuple[Group, ...] = ()
    next_number: int = 1

    def get(self, number: int) -> Group:
        for group in self.groups:
            if group.number == number:
                return group
        raise GroupRefused("group.unknown", number=number)

    def with_group(self, group: Group) -> GroupBook:
        return replace(self, groups=tuple(group if g.number == group.number else g
                                          for g in self.groups))


@dataclass(frozen=True)
class NewGroup:
    """A parsed `!group new`: the start already as an aware datetime."""

    topic: str
    start: datetime
    duration: timedelta
    max_seats: int


@dataclass(frozen=True)
class Moderator:
    user: UserID
    team_lead: bool = False
    # The offices the user leads (empty without offices).
    offices: frozenset[str] = frozenset()


# -- decisions -------------------------------------------------------------------------------


# A youth's seat keeps the conversation they signed up from until the group is over
# (retention waits for it), as an appointment's does: a year at most, like appointments.
MAX_AHEAD = timedelta(days=365)


def announce(book: GroupBook, new: NewGroup, host: UserID, now: datetime,
             offices: frozenset[str] = frozenset()) -> tuple[GroupBook, Group]:
    """``offices``: the group's (see `Group.offices`)."""
    if new.start <= now:
        raise GroupRefused("group.in_past")
    if new.start - now > MAX_AHEAD:
        raise GroupRefused("group.too_far")
    if not MIN_DURATION <= new.duration <= MAX_DURATION:
        raise GroupRefused("group.bad_duration", longest=int(MAX_DURATION.total_seconds() // 60))
    if not 2 <= new.max_seats <= MAX_SEATS:
        raise GroupRefused("group.bad_seats", most=MAX_SEATS)
    topic = " ".join(new.topic.split())
    if not topic or len(topic) > MAX_TOPIC_CHARS:
        raise GroupRefused("group.bad_topic", most=MAX_TOPIC_CHARS)
    group = Group(book.next_number, topic, new.start, new.duration, new.max_seats, host,
                  offices=offices)
    return replace(book, groups=(*book.groups, group), next_number=book.next_number + 1), group


def upcoming(book: GroupBook, now: datetime) -> tuple[Group, ...]:
    """What a youth can still sign up for (or join late), soonest first."""
    return tuple(sorted((g for g in book.groups if _joinable(g, now)),
                        key=lambda g: (g.start, g.number)))


def sign_up(book: GroupBook, number: int, youth: UserID, home_room: RoomID,
            now: datetime) -> tuple[GroupBook, Seat, bool]:
    """A seat for the youth; ``True`` if it is new (a repeated sign-up keeps its seat)."""
    group = book.get(number)
    if youth in group.removed:
        raise GroupRefused("group.removed", number=number)
    seat = group.seat_of(youth)
    if seat is not None:
        if not _joinable(group, now):
            raise GroupRefused("group.over", number=number)
        return book, seat, False
    if not _joinable(group, now):
        raise GroupRefused("group.over", number=number)
    if len(group.seats) >= group.max_seats:
        raise GroupRefused("group.full", number=number)
    seat = Seat(youth, nickname(group.number, group.named), home_room)
    group = replace(group, seats=(*group.seats, seat), named=group.named + 1)
    return book.with_group(group), seat, True


def due_to_open(book: GroupBook, now: datetime) -> tuple[Group, ...]:
    return tuple(g for g in book.groups
                 if g.state is GroupState.ANNOUNCED and g.start <= now < g.end)


# How long after its start an open group may have nobody who moderates in its room before
# the leads are called: the youths are alone together there until someone comes.
HOST_GRACE = timedelta(minutes=10)


def unhosted(book: GroupBook, now: datetime, hosted: frozenset[int]) -> tuple[Group, ...]:
    """Open groups whose room nobody who may moderate has joined (``hosted``: the numbers
    of those someone has) though ``HOST_GRACE`` has passed since their start."""
    return tuple(g for g in book.groups if g.state is GroupState.OPEN
                 and g.number not in hosted and g.start + HOST_GRACE <= now < g.end)


def due_to_end(book: GroupBook, now: datetime) -> tuple[Group, ...]:
    """Groups whose time is over but nobody ended (announced ones that never opened too)."""
    return tuple(g for g in book.groups
                 if g.state in (GroupState.ANNOUNCED, GroupState.OPEN) and now >= g.end)


def due_to_purge(book: GroupBook, now: datetime, keep: timedelta) -> tuple[Group, ...]:
    return tuple(g for g in book.groups if g.state is GroupState.ENDED
                 and g.ended_at is not None and now >= g.ended_at + keep)


def open_group(book: GroupBook, number: int) -> GroupBook:
    group = book.get(number)
    if group.state is not GroupState.ANNOUNCED:
        return book
    return book.with_group(replace(group, state=GroupState.OPEN))


def may_moderate(group: Group, who: Moderator) -> None:
    if who.user == group.host or (who.user in group.called
                                  and (who.team_lead or who.user not in group.called_leads)):
        return
    if not who.team_lead or (group.offices and not group.offices & who.offices):
        raise GroupRefused("group.not_host", number=group.number)


def mute(book: GroupBook, number: int, who: Moderator, nick: str,
         *, on: bool = True, shown: Mapping[UserID, str] | None = None,
         ) -> tuple[GroupBook, Seat]:
    """``shown``: the names the youths' apps show in the room (`Group.seats_named`)."""
    group = _live(book, number)
    may_moderate(group, who)
    seat = _seat(group, nick, shown)
    muted = group.muted | {seat.nickname} if on else group.muted - {seat.nickname}
    return book.with_group(replace(group, muted=muted)), seat


def remove(book: GroupBook, number: int, who: Moderator, nick: str,
           shown: Mapping[UserID, str] | None = None) -> tuple[GroupBook, Seat]:
    group = _live(book, number)
    may_moderate(group, who)
    seat = _seat(group, nick, shown)
    group = replace(group, seats=tuple(s for s in group.seats if s != seat),
                    removed=group.removed | {seat.youth}, muted=group.muted - {seat.nickname},
                    gone=(*group.gone, seat))
    return book.with_group(group), seat


def join(book: GroupBook, number: int, who: Moderator) -> tuple[GroupBook, Group]:
    """Who may moderate an open group may come into its room (the host back, a lead
    stepping in for a host who is gone): only the bot can invite there. Who is not its host
    is noted (`Group.stepped_in`)."""
    group = _live(book, number)
    may_moderate(group, who)
    if who.user != group.host:
        group = replace(group, stepped_in=group.stepped_in | {who.user})
    return book.with_group(group), group


def called(book: GroupBook, number: int, users: Iterable[UserID],
           leads: Iterable[UserID] = ()) -> GroupBook:
    """``users`` were called to step in for the host of group ``number``, ``leads`` among
    them as team leads (the latest call says what each was called as)."""
    group = book.get(number)
    users = frozenset(users)
    return book.with_group(replace(group, called=group.called | users,
                                   called_leads=(group.called_leads - users)
                                   | (users & frozenset(leads))))


def stepped_out(book: GroupBook, number: int, user: UserID) -> GroupBook:
    """``user``, let in by `join`, is out of the room again (removed)."""
    group = book.get(number)
    return book.with_group(replace(group, stepped_in=group.stepped_in - {user}))


def end(book: GroupBook, number: int, who: Moderator | None, now: datetime) -> tuple[GroupBook,
                                                                                    Group]:
    """``who`` is None when the group's time ran out."""
    group = book.get(number)
    if who is not None:
        may_moderate(group, who)
    if group.state in (GroupState.ENDED, GroupState.PURGED):
        raise GroupRefused("group.already_ended", number=number)
    group = replace(group, state=GroupState.ENDED, ended_at=now)
    return book.with_group(group), group


def purged(book: GroupBook, number: int) -> GroupBook:
    """Purged: who sat in it is forgotten; the counts for the team-lead view stay."""
    group = book.get(number)
    return book.with_group(replace(group, state=GroupState.PURGED, seats=(),
                                    removed=frozenset(), muted=frozenset(), gone=(),
                                    named=group.named, stepped_in=frozenset(),
                                    called=frozenset(), called_leads=frozenset()))


def forget_youth(book: GroupBook, youth: UserID,
                 room: RoomID | None = None) -> tuple[GroupBook, tuple[tuple[int, Seat], ...]]:
    """The youth's own deletion ("löschen"): their account is deactivated with erasure, so
    the book must not name it anywhere. Every seat of theirs (or signed up from their erased
    room) goes, with its mute, and so does their removal: a deactivated account cannot sign
    up again, so keeping the id would keep nobody out and only keep the youth. A host keeps
    what needs no name: the group, its topic and ``named`` (the team-lead counts, and a
    nickname is never handed out twice). Returns the new book and the (group, seat) pairs
    forgotten."""
    return _forget(book, lambda s: s.youth == youth or s.home_room == room, youth)


def seated_rooms(book: GroupBook, now: datetime) -> frozenset[RoomID]:
    """The rooms youths signed up from for a group not over yet: its invitation and the
    youth's replies go there, so retention keeps their conversations until it is over."""
    return frozenset(s.home_room for g in book.groups
                     if g.state in (GroupState.ANNOUNCED, GroupState.OPEN) and now < g.end
                     for s in g.seats)


def forget_room(book: GroupBook,
                room: RoomID) -> tuple[GroupBook, tuple[tuple[int, Seat], ...]]:
    """Retention erases one conversation, not the youth: their account lives on and may be
    back from another room, seated in tonight's group. Only seats signed up from the erased
    room go (it is purged, and the book must not name it). Seats from other rooms stay, and
    so do removals: a removal is a moderator's safety decision about the account, and it is
    forgotten with the group's purge (`purged`) anyway, hours after the evening."""
    return _forget(book, lambda s: s.home_room == room, None)


def _forget(book: GroupBook, goes: Callable[[Seat], bool],
            youth: UserID | None) -> tuple[GroupBook, tuple[tuple[int, Seat], ...]]:
    """Drop the seats ``goes`` picks (with their mutes; removed youths' seats too) and
    ``youth``'s removals."""
    forgotten: list[tuple[int, Seat]] = []
    groups = []
    for group in book.groups:
        gone = tuple(s for s in group.seats if goes(s))
        left = tuple(s for s in group.gone if goes(s))
        if not gone and not left and (youth is None or youth not in group.removed):
            groups.append(group)
            continue
        forgotten += [(group.number, s) for s in (*gone, *left)]
        names = {s.nickname for s in gone}
        removed = group.removed if youth is None else group.removed - {youth}
        groups.append(replace(group, seats=tuple(s for s in group.seats if s not in gone),
                              removed=removed, muted=group.muted - names,
                              gone=tuple(s for s in group.gone if s not in left)))
    return replace(book, groups=tuple(groups)), tuple(forgotten)


def comparable(name: str) -> str:
    """A name as a reader takes it: width, case, invisible characters and spacing aside."""
    normal = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in normal if ch.isalnum())


def as_quote(words: str) -> str:
    """A youth's forum post, each of its lines behind "> ". The bot posts it under its own
    name with a header naming the nickname ("Lena schreibt:"), so a line of the post must
    not pass for the header of another nickname's post, or for the bot's own words."""
    return "\n".join(f"> {line}" if line.strip() else ">"
                     for line in words.splitlines() or [""])


def nickname(number: int, index: int) -> str:
    """The ``index``-th name handed out in group ``number``: unique within the group."""
    name = NICKNAMES[(index + number) % len(NICKNAMES)]
    round_ = index // len(NICKNAMES)
    return name if round_ == 0 else f"{name} {round_ + 1}"


# -- helpers ---------------------------------------------------------------------------------


def _joinable(group: Group, now: datetime) -> bool:
    return group.state in (GroupState.ANNOUNCED, GroupState.OPEN) and now < group.end


def _live(book: GroupBook, number: int) -> Group:
    group = book.get(number)
    if group.state is not GroupState.OPEN:
        raise GroupRefused("group.not_open", number=number)
    return group


def _seat(group: Group, nick: str, shown: Mapping[UserID, str] | None = None) -> Seat:
    seats = group.seats_named(nick, shown)
    if len(seats) > 1:
        raise GroupRefused("group.name_ambiguous", number=group.number)
    if not seats:
        raise GroupRefused("group.no_such_nickname", number=group.number)
    return seats[0]
