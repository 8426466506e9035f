"""The moderated forum: a youth's post waits (sealed) until a counsellor approves it.

A youth writes ``forum THEMA text`` in their own room with the bot. The post is kept as a
sealed setting (``forum_post:<id>``; the store seals it and re-encrypts it on vault rotation)
written in the same transition as the staff notice; counsellors list waiting posts in the
staff room and approve or reject them. An approved post is posted by the bot into the
topic's room under a nickname, and the youth is invited there to read the answers; a
rejected one gets a kind private note. Either way the sealed post is then deleted: the forum
room (end-to-end encrypted) is the only place a post lives on. A post with crisis words is
no post: it is taken as a message to the counsellors (see `youth_wrote`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.staff_only import staff_only
from counsel_bot.core import forum_nicknames
from counsel_bot.core import group_commands as gc
from counsel_bot.core.commands import HelpEntry
from counsel_bot.core.effects import SayInRoom, SayToStaff
from counsel_bot.core.group_effects import InviteToForum, PostToForum, RoomNotice
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.incoming_text import storable
from counsel_bot.core.messages import Language, text

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

PENDING_KEY = "forum:pending"
# Waiting posts shown at once in the staff room (each can be long), and at most this many
# bytes of them as nio sends them (`group_commands.wire_size`), as transcripts are split: a
# Matrix event is at most 64 KiB, encrypted, and a longer list was refused by the homeserver,
# so no waiting post could be read for moderation.
SHOW_PENDING = 10
SHOW_PENDING_BYTES = 24_000


def post_key(post: str) -> str:
    return f"forum_post:{post}"


NICKNAMES_PREFIX = "forum_nicknames:"


def nicknames_key(forum: str) -> str:
    """Sealed setting of the nicknames a forum has handed out (one a line). They name no
    youth, but say how many posts a topic had: sealed like the posts."""
    return f"{NICKNAMES_PREFIX}{forum}"


def legacy_context(post: str) -> bytes:
    """How versions before the sealed settings sealed a post: a vault blob (base64) in the
    plain settings, which rotation did not reach. Read only by the upgrade."""
    return f"forum_post:{post}".encode()


@dataclass(frozen=True)
class ForumTopic:
    id: str
    name: str

    def __post_init__(self) -> None:
        if not gc.FORUM_ID.fullmatch(self.id):
            raise ValueError(f"id {self.id!r}: youths post with \"forum ID text\", so use "
                             "1-32 letters, digits, - or _ (no spaces), e.g. \"schule\"")
        if not self.name.strip():
            raise ValueError(f"name: the topic {self.id!r} needs a name youths see in the list")


@dataclass(frozen=True)
class Post:
    id: str
    forum: str
    youth: UserID
    home_room: RoomID
    nickname: str
    text: str
    # The youth's message that made it: deleting or editing that message takes it back.
    event: str = ""


class ForumDesk:
    def __init__(self, conductor: Conductor, topics: tuple[ForumTopic, ...]) -> None:
        self.conductor = conductor
        self.topics = {t.id.casefold(): t for t in topics}
        self.pending: list[str] = []
        # Where each waiting post came from: its approval or rejection is said there.
        self.homes: dict[str, RoomID] = {}
        self.rooms: set[RoomID] = set()
        # Per forum, every nickname handed out: never one twice (`core.forum_nicknames`).
        self.nicknames: dict[str, frozenset[str]] = {}

    async def load(self) -> None:
        store = self.conductor.store
        stored = await store.get_setting(PENDING_KEY)
        self.pending = [p for p in (stored or "").split(",") if p]
        taken: dict[str, set[str]] = {}
        for key, names in await store.sealed_settings(NICKNAMES_PREFIX):
            taken[key.removeprefix(NICKNAMES_PREFIX)] = set(names.decode().splitlines())
        self.homes = {}
        for post_id in self.pending:
            # Waiting posts from before the names were kept have theirs reserved too.
            if (post := await self._open(post_id)) is not None:
                taken.setdefault(post.forum, set()).add(post.nickname)
                self.homes[post_id] = post.home_room
        self.nicknames = {forum: frozenset(names) for forum, names in taken.items()}
        self._count()

    def set_rooms(self, rooms: dict[str, RoomID]) -> None:
        self.rooms = set(rooms.values())

    def youth_words(self, language: Language) -> tuple[str, ...]:
        # Without topics "forum" answers only that the forum is not set up.
        return gc.FORUM_WORDS if self.topics else ()

    def staff_help(self) -> tuple[HelpEntry, ...]:
        return gc.FORUM_HELP if self.topics else ()

    def owns_room(self, room_id: RoomID) -> bool:
        """Forum rooms carry no commands (counsellors simply answer there), and are never
        taken for a youth's 1:1 conversation."""
        return room_id in self.rooms

    def holds_room(self, room_id: RoomID, at: datetime) -> bool:
        """A room a waiting post came from: its approval or rejection is said there."""
        return room_id in self.homes.values()

    def place(self, room_id: RoomID, language: Language) -> tuple[str, frozenset[str]] | None:
        """The forum is every office's."""
        if room_id not in self.rooms:
            return None
        return text("forum.report_place", language), frozenset()

    async def room_message(self, room_id: RoomID, sender: UserID, event_id: EventID,
                           body: str, at: datetime, *, reaction: bool = False) -> None:
        return None

    async def member_named(self, room_id: RoomID, member: UserID, display_name: str,
                           event_id: EventID, at: datetime) -> None:
        return None  # staff answer there under their own accounts; youths only read

    async def member_left(self, room_id: RoomID, member: UserID, event_id: EventID,
                          at: datetime) -> None:
        return None  # nobody hosts a forum: staff answer when they can

    async def unreadable(self, room_id: RoomID, writer: UserID, at: datetime) -> None:
        return None  # only staff write there, and read it in their own apps

    async def tick(self, at: datetime) -> None:
        return None

    async def youth_wrote(self, room_id: RoomID, youth: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool:
        parsed = gc.parse_youth_group(body)
        ours = gc.YouthListForums | gc.YouthForumRead | gc.YouthForumPost
        if not isinstance(parsed, ours) and not (
                isinstance(parsed, gc.GroupCommandError) and parsed.key.startswith("forum.")):
            return False
        unclear = not isinstance(parsed, ours) or (
            isinstance(parsed, gc.YouthForumRead | gc.YouthForumPost)
            and parsed.forum not in self.topics)
        if unclear and await self.conductor.store.conversation_by_room(room_id) is not None:
            return False  # "Forum hat mir geholfen" is a message for the counsellor
        if await self.conductor.crisis.flags_alone(body):
            # Crisis words are not for a moderation queue someone reads hours later: they
            # go to the youth's conversation, which alerts staff and answers with the numbers.
            await self._not_posted(room_id, event_id, at)
            return False
        if await self.conductor.store.is_processed(event_id):
            return True
        step = Change(at, event_id)
        if not self.topics:
            step.add(RoomNotice(room_id, "forum.none"))
        elif isinstance(parsed, gc.GroupCommandError):
            step.add(RoomNotice(room_id, parsed.key, (("hint", parsed.hint),)))
        elif isinstance(parsed, gc.YouthListForums):
            step.add(RoomNotice(room_id, "forum.list", (("lines", self._lines()),)))
        elif parsed.forum not in self.topics:
            step.add(RoomNotice(room_id, "forum.unknown_topic", (("lines", self._lines()),)))
        elif isinstance(parsed, gc.YouthForumRead):
            step.add(InviteToForum(parsed.forum, youth), f"forum_read:{event_id}")
            step.add(RoomNotice(room_id, "forum.invited", (
                ("forum", self.topics[parsed.forum].name),)))
        else:
            taken = self.nicknames.get(parsed.forum, frozenset())
            nickname = forum_nicknames.draw(taken, secrets.randbelow)
            post = Post("P-" + secrets.token_hex(4).upper(), parsed.forum, youth, room_id,
                        nickname, storable(parsed.text), event_id)
            step.sealed.append((post_key(post.id), _value(post)))
            # Reserved with the post, whether it is approved or not: a name once shown to a
            # counsellor stays this post's.
            taken = taken | {nickname}
            step.sealed.append((nicknames_key(post.forum), "\n".join(sorted(taken)).encode()))
            step.add(RoomNotice(room_id, "forum.received"))
            # Invited to read now, as anyone who asks to read is: an invitation right behind
            # the approved post would tell every reader whose post it is. Keyed by the
            # message, not the post: the post's id must go with the post if it is erased.
            step.add(InviteToForum(post.forum, youth), f"forum_read:{event_id}")
            step.add(SayToStaff("forum.staff_new", (("id", post.id),)))
            await self._commit(step, [*self.pending, post.id])
            self.homes[post.id] = room_id
            self.nicknames = {**self.nicknames, post.forum: taken}
            return True
        await self.conductor.commit(step)
        return True

    async def youth_retracted(self, room_id: RoomID, youth: UserID, event_id: EventID,
                              original: EventID, words: str | None, at: datetime) -> bool:
        """The youth deleted (``words`` None) or edited the message that made a waiting post:
        what they took back must never be approved (a real name, a school, written in a
        hurry). An edit that is still a post to the same topic replaces the words; anything
        else withdraws the post. Crisis words withdraw it too, and are not taken: the edit
        goes on to the youth's conversation, as a crisis post does."""
        post = await self._written_by(original)
        if post is None or post.youth != youth:
            return False
        if words is not None and await self.conductor.crisis.flags_alone(words):
            # A step of its own that leaves the event to the conversation's crisis check.
            step = Change(at, None)
            step.add(RoomNotice(room_id, "forum.to_counsellor"), f"forum-crisis:{event_id}")
            self._withdraw(step, post, told=None)
            await self._commit(step, [p for p in self.pending if p != post.id])
            return False
        if await self.conductor.store.is_processed(event_id):
            return True
        step = Change(at, event_id)
        parsed = None if words is None else gc.parse_youth_group(words)
        if isinstance(parsed, gc.YouthForumPost) and parsed.forum == post.forum:
            changed = replace(post, text=storable(parsed.text))
            step.sealed.append((post_key(post.id), _value(changed)))
            step.forget_on_disk = True  # the words edited out were taken back
            step.add(RoomNotice(room_id, "forum.updated"))
            step.add(SayToStaff("forum.staff_changed", (("id", post.id),)))
            await self.conductor.commit(step)
            return True
        self._withdraw(step, post, told=room_id)
        await self._commit(step, [p for p in self.pending if p != post.id])
        return True

    def _withdraw(self, step: Change, post: Post, told: RoomID | None) -> None:
        step.sealed.append((post_key(post.id), None))
        step.forget_on_disk = True  # taken back: a real name, a school
        if told is not None:
            step.add(RoomNotice(told, "forum.withdrawn"))
        step.add(SayToStaff("forum.staff_withdrawn", (("id", post.id),)))

    async def _written_by(self, event_id: EventID) -> Post | None:
        for post_id in self.pending:
            post = await self._open(post_id)
            if post is not None and post.event and post.event == event_id:
                return post
        return None

    async def _not_posted(self, room_id: RoomID, event_id: EventID, at: datetime) -> None:
        """Tell the youth why their post will not appear (else they wait for a forum answer
        that never comes). A step of its own, keyed by the event: the conversation's step
        claims the event, and a redelivery before that must not repeat the note."""
        if await self.conductor.store.is_processed(event_id):
            return
        step = Change(at, None)
        step.add(RoomNotice(room_id, "forum.to_counsellor"), f"forum-crisis:{event_id}")
        await self.conductor.commit(step)

    async def staff_wrote(self, room_id: RoomID, sender: UserID, event_id: EventID, body: str,
                          at: datetime) -> bool:
        parsed = gc.parse_staff_group(storable(body), self.conductor.policy.hours.timezone)
        if not isinstance(parsed, gc.ForumPendingCommand | gc.ForumDecisionCommand):
            return False
        if await self.conductor.store.is_processed(event_id):
            return True
        step = Change(at, event_id)
        if isinstance(parsed, gc.ForumPendingCommand):
            await self._list(step, room_id, sender)
            await self.conductor.commit(await staff_only(self.conductor, step, room_id))
            return True
        post = await self._open(parsed.post) if parsed.post in self.pending else None
        if post is None:
            step.add(SayInRoom(room_id, sender, "forum.unknown_post", (("id", parsed.post),)))
            await self.conductor.commit(await staff_only(self.conductor, step, room_id))
            return True
        if parsed.approve:
            topic = self.topics.get(post.forum)
            step.add(PostToForum(post.forum, post.nickname, post.text), f"forum_post:{post.id}")
            # With the youth: a youth who left the room the post came from hears it in a
            # new one the bot opens (`GroupRooms.perform`), as a group's crisis offer.
            step.add(RoomNotice(post.home_room, "forum.approved_youth", (
                ("forum", topic.name if topic else post.forum), ("nickname", post.nickname)),
                youth=post.youth))
            step.add(SayInRoom(room_id, sender, "forum.approved_staff", (("id", post.id),)))
        else:
            reason = parsed.reason or self._no_reason()
            step.add(RoomNotice(post.home_room, "forum.rejected_youth", (("reason", reason),),
                                youth=post.youth))
            step.add(SayInRoom(room_id, sender, "forum.rejected_staff", (("id", post.id),)))
            step.forget_on_disk = True  # rejected, often for naming someone
        step.sealed.append((post_key(post.id), None))
        await self._commit(await staff_only(self.conductor, step, room_id),
                           [p for p in self.pending if p != post.id])
        return True

    async def forget_youth(self, step: Change, youth: UserID, room: RoomID, *,
                           account: bool) -> None:
        """Erasure: the waiting posts written from ``room`` (and, with ``account``, every
        post of the youth's) are deleted unread, with ``step``. Retention erases one
        conversation, not the youth, so a post they wrote today from another room stays.
        Published posts are the bot's, under a nickname, and no longer linked to anyone (the
        sealed post is deleted when it is approved), so nothing there names the youth."""
        gone = []
        for post_id in self.pending:
            post = await self._open(post_id)
            if post is None or post.home_room == room or (account and post.youth == youth):
                gone.append(post_id)
                step.sealed.append((post_key(post_id), None))
        if not gone:
            return
        # Dropped from memory at once, so no write that follows puts them back; a failed
        # commit reloads the list from the store (`Conductor.forget_traces`).
        self.pending = [p for p in self.pending if p not in gone]
        self.homes = {p: r for p, r in self.homes.items() if p in self.pending}
        step.settings.append((PENDING_KEY, ",".join(self.pending)))
        self._count()

    # -- helpers --------------------------------------------------------------------------

    async def _list(self, step: Change, room_id: RoomID, sender: UserID) -> None:
        if not self.pending:
            step.add(SayInRoom(room_id, sender, "forum.pending_none"))
            return
        lines: list[str] = []
        shown = size = 0
        for post_id in self.pending[:SHOW_PENDING]:
            post = await self._open(post_id)
            if post is not None:
                line = (f"{post.id} [{post.forum}] {post.nickname}:\n› "
                        + post.text.replace("\n", "\n› "))
                size += gc.wire_size(line) + 2
                if lines and size > SHOW_PENDING_BYTES:
                    break  # the rest with the next "!forum pending", once these are decided
                lines.append(line)
            shown += 1
        more = len(self.pending) - shown
        if more > 0:
            lines.append(f"(+{more})")
        step.add(SayInRoom(room_id, sender, "forum.pending", (("lines", "\n".join(lines)),)))

    def _lines(self) -> str:
        return "\n".join(f"• {t.id} – {t.name}" for t in self.topics.values())

    def _no_reason(self) -> str:
        return text("forum.no_reason", self.conductor.policy.default_language)

    async def _open(self, post_id: str) -> Post | None:
        stored = await self.conductor.store.get_sealed_setting(post_key(post_id))
        if stored is None:
            return None
        data = json.loads(stored)
        return Post(post_id, data["forum"], UserID(data["youth"]), RoomID(data["room"]),
                    data["nick"], data["text"], str(data.get("event", "")))

    async def _commit(self, step: Change, pending: list[str]) -> None:
        step.settings.append((PENDING_KEY, ",".join(pending)))
        await self.conductor.commit(step)
        self.pending = pending
        self.homes = {p: r for p, r in self.homes.items() if p in pending}
        self._count()

    def _count(self) -> None:
        if self.conductor.metrics is not None:
            self.conductor.metrics.set_forum_waiting(len(self.pending))


def _value(post: Post) -> bytes:
    return json.dumps({"forum": post.forum, "youth": post.youth, "room": post.home_room,
                       "nick": post.nickname, "text": post.text, "event": post.event},
                      ensure_ascii=False).encode()
