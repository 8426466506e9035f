"""Commands for group sessions and the forum, in the style of `core/commands.py`. Pure.

Staff (staff room): ``!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8``,
``!group list``, ``!group join 1``, ``!group end 1``, ``!forum pending``, ``!forum approve ID``,
``!forum reject ID reason``.
Staff (a group's room): ``!mute NICK``, ``!unmute NICK``, ``!remove NICK``, ``!end``.
Youths (their own 1:1 room): ``gruppe``/``group`` lists, ``gruppe 1``/``group 1`` signs up,
``forum`` lists the topics, ``forum THEMA text`` sends a post for approval.

A parse error carries a catalogue key and a usage hint, never the text that was typed.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from counsel_bot.core.commands import HelpEntry, command_text

MAX_COMMAND_CHARS = 1000
MAX_POST_CHARS = 4000
# A post as nio sends it (`wire_size`): a Matrix event is at most 64 KiB, encrypted, and 4,000
# emoji would be 48,000 bytes, a post the forum room and the moderation list refuse.
MAX_POST_BYTES = 12_000
NEW_USAGE = '!group new "Thema" 2026-12-10 18:00 90min max 8'
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
# Numbers of any length: a number out of range is for `core.groups.announce` to refuse with
# the range ("2 bis 20 Plätze"), not for the parser to cut and then misread.
_MINUTES = re.compile(r"(\d+)\s*(?:min|m|minuten|minutes)?", re.IGNORECASE)
_MAX_SEATS = re.compile(r"max\s*(\d+)")
_POST_ID = re.compile(r"P-[0-9A-F]{8}", re.IGNORECASE)
# What a youth can type as a topic in "forum ID text"; the config refuses other ids.
FORUM_ID = re.compile(r"[\w-]{1,32}")


# For the staff's "!help" and the youth's "hilfe", where group sessions and the forum are on.
GROUP_HELP = (
    HelpEntry(
        '!group new "Thema" 2026-12-10 18:00 90min max 8 | !group list | !group join N | '
        "!group end N",
        "Gruppenabend ankündigen (Jugendliche melden sich mit „gruppe N“ an), auflisten, "
        "zum Moderieren in den Raum kommen, beenden.",
        "Announce a group evening (youths sign up with \"group N\"), list them, join the "
        "room to moderate, end it.",
    ),
    HelpEntry(
        "!mute NAME | !unmute NAME | !remove NAME | !end",
        "Im Raum einer Gruppe: jemanden stummschalten, wieder sprechen lassen, entfernen; "
        "die Gruppe beenden.",
        "In a group's room: mute someone, let them speak again, remove them; end the group.",
    ),
)
FORUM_HELP = (
    HelpEntry(
        "!forum pending | !forum approve P-XXXXXXXX | !forum reject P-XXXXXXXX Grund",
        "Forum: wartende Beiträge zeigen, freigeben, ablehnen (mit Grund für die Person).",
        "Forum: show waiting posts, approve, reject (with a reason for the youth).",
    ),
)
GROUP_WORDS: dict[str, tuple[str, ...]] = {"de": ("gruppe",), "en": ("group",)}
FORUM_WORDS: tuple[str, ...] = ("forum",)


@dataclass(frozen=True)
class GroupCommandError:
    key: str
    hint: str = ""


@dataclass(frozen=True)
class NewGroupCommand:
    topic: str
    start: datetime
    minutes: int
    max_seats: int


@dataclass(frozen=True)
class ListGroupsCommand:
    pass


@dataclass(frozen=True)
class ModerateCommand:
    action: str  # "mute", "unmute", "remove"
    nickname: str


@dataclass(frozen=True)
class EndGroupCommand:
    # Given in the staff room (`!group end 1`); inside a group's room it is that group.
    number: int | None = None


@dataclass(frozen=True)
class JoinGroupCommand:
    """``!group join 1``: into an open group's room, to moderate it (its host or a lead)."""

    number: int


@dataclass(frozen=True)
class ForumPendingCommand:
    pass


@dataclass(frozen=True)
class ForumDecisionCommand:
    post: str
    approve: bool
    reason: str = ""


StaffGroupCommand = (NewGroupCommand | ListGroupsCommand | ModerateCommand | EndGroupCommand
                     | JoinGroupCommand | ForumPendingCommand | ForumDecisionCommand)


@dataclass(frozen=True)
class YouthListGroups:
    pass


@dataclass(frozen=True)
class YouthSignUp:
    number: int


@dataclass(frozen=True)
class YouthListForums:
    pass


@dataclass(frozen=True)
class YouthForumPost:
    forum: str
    text: str


@dataclass(frozen=True)
class YouthForumRead:
    """"forum THEMA" alone: to read the topic's room (answers are read there)."""

    forum: str


YouthGroupCommand = (YouthListGroups | YouthSignUp | YouthListForums | YouthForumRead
                     | YouthForumPost)


def parse_staff_group(text: str, zone: tzinfo) -> StaffGroupCommand | GroupCommandError | None:
    """None if the text is not one of these commands (the other parsers may know it)."""
    stripped = command_text(text.strip())
    if not stripped.startswith("!"):
        return None
    name, _, rest = stripped[1:].partition(" ")
    name = name.casefold()
    if name not in ("group", "gruppe", "forum"):
        # Another desk's command, which may be long (a case note, a snippet): not ours to
        # measure against our limit.
        return None
    if len(stripped) > MAX_COMMAND_CHARS:
        return GroupCommandError("command.too_long", f"!{name}")
    if name in ("group", "gruppe"):
        return _group(rest.strip(), zone)
    if name == "forum":
        return _forum(rest.strip())
    return None


def parse_group_room(text: str) -> ModerateCommand | EndGroupCommand | GroupCommandError | None:
    """Commands a counsellor gives inside a group's room."""
    stripped = command_text(text.strip())
    if not stripped.startswith("!") or len(stripped) > MAX_COMMAND_CHARS:
        return None
    name, _, rest = stripped[1:].partition(" ")
    name, rest = name.casefold(), rest.strip()
    if name in ("mute", "unmute", "remove"):
        if not rest or len(rest) > 40:
            return GroupCommandError("command.missing_argument", f"!{name} NICKNAME")
        return ModerateCommand(name, rest)
    if name in ("end", "ende"):
        return EndGroupCommand()
    return None


def parse_youth_group(text: str) -> YouthGroupCommand | GroupCommandError | None:
    stripped = command_text(text.strip())
    typed, _, rest = stripped.partition(" ")
    word = typed.casefold().lstrip("!/").rstrip(".!?:")
    rest = rest.strip()
    if word in ("gruppe", "group", "gruppen", "groups"):
        if not rest:
            return YouthListGroups()
        number = rest.lstrip("#").rstrip(".!?")
        if number.isdecimal() and len(number) <= 6:
            return YouthSignUp(int(number))
        return None  # "gruppe ist doof" is a message, not a command
    if word == "forum":
        if not rest:
            return YouthListForums()
        if typed != typed.rstrip(".!?:"):
            # "Forum? ich brauche jemanden zum reden": a sentence, not "forum THEMA text";
            # read as a post to an unknown topic, a first message got the list of topics
            # and no counsellor ever read it.
            return None
        forum, _, post = rest.partition(" ")
        post = post.strip()
        if not FORUM_ID.fullmatch(forum):
            return GroupCommandError("forum.usage")
        if not post:
            return YouthForumRead(forum.casefold())
        if len(post) > MAX_POST_CHARS or wire_size(post) > MAX_POST_BYTES:
            return GroupCommandError("forum.too_long", str(MAX_POST_CHARS))
        return YouthForumPost(forum.casefold(), post)
    return None


def _group(rest: str, zone: tzinfo) -> StaffGroupCommand | GroupCommandError:
    if rest.casefold() in ("", "list", "liste"):
        return ListGroupsCommand()
    verb, _, args = rest.partition(" ")
    if verb.casefold() in ("end", "ende", "join", "beitreten"):
        ending = verb.casefold() in ("end", "ende")
        number = args.strip().lstrip("#")
        if not number.isdecimal() or len(number) > 6:
            return GroupCommandError("command.missing_argument",
                                     "!group end 1" if ending else "!group join 1")
        return EndGroupCommand(int(number)) if ending else JoinGroupCommand(int(number))
    if verb.casefold() not in ("new", "neu"):
        return GroupCommandError("command.unknown", NEW_USAGE)
    try:
        words = shlex.split(args)
    except ValueError:
        return GroupCommandError("group.parse_topic", NEW_USAGE)
    if len(words) < 3:
        return GroupCommandError("command.missing_argument", NEW_USAGE)
    topic, day, clock, *more = words
    date, time = _DATE.fullmatch(day), _TIME.fullmatch(clock)
    if date is None or time is None:
        return GroupCommandError("group.parse_date", NEW_USAGE)
    try:
        start = datetime(int(date[1]), int(date[2]), int(date[3]), int(time[1]), int(time[2]),
                         tzinfo=zone)
    except ValueError:
        return GroupCommandError("group.parse_date", NEW_USAGE)
    minutes, max_seats = 90, 8
    tail = " ".join(more).casefold()
    found_max = _MAX_SEATS.search(tail)
    if found_max:
        max_seats = int(found_max[1])
        tail = tail.replace(found_max[0], " ")
    tail = tail.strip()
    if tail:
        found_minutes = _MINUTES.fullmatch(tail)
        if found_minutes is None:
            return GroupCommandError("group.parse_duration", NEW_USAGE)
        minutes = int(found_minutes[1])
    try:
        length = timedelta(minutes=minutes)
    except OverflowError:
        return GroupCommandError("group.parse_duration", NEW_USAGE)
    try:
        # Its end must be a date too: a group ending past 9999-12-31 raised in every tick
        # and every youth's listing, long after it was announced.
        start + length
    except OverflowError:
        return GroupCommandError("group.parse_date", NEW_USAGE)
    return NewGroupCommand(topic, start, minutes, max_seats)


def _forum(rest: str) -> StaffGroupCommand | GroupCommandError:
    verb, _, args = rest.partition(" ")
    verb = verb.casefold()
    if verb in ("", "pending", "offen"):
        return ForumPendingCommand()
    if verb in ("approve", "ok", "freigeben", "reject", "ablehnen"):
        post, _, reason = args.strip().partition(" ")
        if not _POST_ID.fullmatch(post):
            return GroupCommandError("command.missing_argument", f"!forum {verb} P-XXXXXXXX")
        return ForumDecisionCommand(post.upper(), verb in ("approve", "ok", "freigeben"),
                                    reason.strip()[:500])
    return GroupCommandError("command.unknown", "!forum pending | approve ID | reject ID Grund")


def wire_size(text: str) -> int:
    """Bytes of the text in an event as nio sends it (JSON with ASCII escapes: an "ä" costs
    6, an emoji 12)."""
    return len(json.dumps(text)) - 2


def duration(command: NewGroupCommand) -> timedelta:
    return timedelta(minutes=command.minutes)
