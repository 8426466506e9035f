"""Perform the effects of group sessions and the forum: rooms, invitations, power levels.

Group rooms are end-to-end encrypted and the bot alone manages membership (invite, kick,
ban and state need power 100; only the bot has it); youths write at the default level, the
host (and a lead who steps in) at 50, which deletes messages; a muted youth is set one
below ``events_default``, which the server enforces. Each youth is invited under the
group nickname (the invitation's ``displayname``), so the invitation and the member list
show the nickname until the youth's own client changes it; what Matrix cannot hide (the
account id in the member list) is said in the README.

Forum rooms: staff write at 50, youths read only (``events_default`` 50): a youth's post
reaches the room only through the bot, after a counsellor approved it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nio import AsyncClient, ErrorResponse, JoinedMembersResponse

from counsel_bot.channels.matrix.executor import _check as check_answer
from counsel_bot.channels.matrix.nio_erasure import forget_in_nio
from counsel_bot.channels.matrix.room_settings import ENCRYPTION
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.conversation.group_crisis import offer_key
from counsel_bot.core.group_effects import (
    CloseGroupRoom,
    GroupEffect,
    GroupRoomNotice,
    InviteToForum,
    InviteToGroup,
    KickFromGroup,
    MuteInGroup,
    OpenGroupRoom,
    PostToForum,
    PurgeGroupRoom,
    RedactInGroup,
    RoomNotice,
)
from counsel_bot.core.groups import as_quote
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import Language, spoken, text
from counsel_bot.store import Store
from homeserver_bridge.errors import AdminApiError, NotFound

if TYPE_CHECKING:
    from counsel_bot.channels.matrix.executor import Executor

log = logging.getLogger(__name__)

# How long a message for a youth waits for them to accept a room the bot opened for it.
JOIN_WAIT = timedelta(days=1)
# A new room (`GroupRooms._new_home`) the youth never accepted, undone: none is opened again
# for the same notice. Names no room.
UNDONE = "-"


# The host of a group (and a lead who steps in with `!group join`): may delete anybody's
# message there, nothing else a youth may not.
GROUP_MODERATOR_LEVEL = 50


def group_power_levels(host: str) -> dict[str, Any]:
    """Only the bot (creator) invites, kicks, bans and sets state; everyone else writes at
    0, so a muted member at -1 cannot send anything (messages, reactions, redactions). The
    host deletes messages (words that name someone, a method): muting or removing the
    writer left them on everyone's screen. A youth deletes only their own."""
    return {
        "users_default": 0, "events_default": 0, "state_default": 100,
        "invite": 100, "kick": 100, "ban": 100, "redact": GROUP_MODERATOR_LEVEL,
        "events": {"m.room.encryption": 100, "m.room.power_levels": 100,
                   "m.room.name": 100, "m.room.topic": 100},
        # The creator (the bot) is not named: the room version gives it every power.
        # No host (""): one who left the team is not given a say.
        "users": {host: GROUP_MODERATOR_LEVEL} if host else {},
    }


def one_to_one_power_levels() -> dict[str, Any]:
    """As in every room the bot makes for counselling: only the bot manages membership."""
    return {
        "users_default": 0, "events_default": 0, "state_default": 100,
        "invite": 100, "kick": 100, "ban": 100, "redact": 50,
        "events": {"m.room.encryption": 100, "m.room.power_levels": 100},
    }


FORUM_STAFF_LEVEL = 50


def forum_power_levels(staff: list[str]) -> dict[str, Any]:
    """Youths read; staff answer (50); only the bot manages the room."""
    return {
        "users_default": 0, "events_default": FORUM_STAFF_LEVEL, "state_default": 100,
        "invite": 100, "kick": 100, "ban": 100, "redact": 100,
        "events": {"m.room.encryption": 100, "m.room.power_levels": 100},
        "users": dict.fromkeys(staff, FORUM_STAFF_LEVEL),
    }


def forum_staff_levels(users: dict[str, Any], staff: list[str],
                       bot: str) -> tuple[dict[str, Any], list[str]]:
    """A forum room's ``users`` power levels brought up to date with the roster, and who
    left the team: everyone on staff answers (50); anyone else the room gave a staff level
    (50 or more) was staff once, loses it and is to be removed, for the room's key would
    otherwise keep reaching them with every youth's post. The bot's own level is left
    alone, and so is any level below staff's."""
    left = sorted(u for u, level in users.items()
                  if u != bot and u not in staff and isinstance(level, int)
                  and level >= FORUM_STAFF_LEVEL)
    kept = {u: level for u, level in users.items() if u not in left}
    return {**kept, **dict.fromkeys((u for u in staff if u != bot), FORUM_STAFF_LEVEL)}, left


def _home_setting(key: str) -> str:
    """The new room opened for the notice of outbox key ``key`` (`GroupRooms._new_home`)."""
    return f"new_home:{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def group_room_key(number: int) -> str:
    return f"group_room:{number}"


def forum_room_key(forum: str) -> str:
    return f"forum_room:{forum}"


class GroupRooms:
    def __init__(self, executor: Executor, *, room_opened: Callable[[int, RoomID], None],
                 room_purged: Callable[[int], None],
                 forum_rooms: Callable[[dict[str, RoomID]], None] | None = None) -> None:
        self.executor = executor
        self.client: AsyncClient = executor.client
        self.store: Store = executor.store
        self.language: Language = executor.default_language
        self._room_opened = room_opened
        self._room_purged = room_purged
        self._forum_rooms = forum_rooms
        self._waiting: dict[str, datetime] = {}

    async def perform(self, effect: GroupEffect, key: str) -> None:
        match effect:
            case RoomNotice():
                room_id = effect.room_id
                language = await self._language_of(effect)
                if effect.youth is not None and not await self._still_there(room_id,
                                                                            effect.youth):
                    room_id = await self._new_home(effect.youth, key)
                    await self._carry_offer(effect.room_id, room_id)
                    await self._wait_for_join(room_id, effect.youth, key)
                await self._say(room_id, effect.key, effect.params, key, language=language)
            case OpenGroupRoom():
                await self._open(effect, key)
            case InviteToGroup():
                room = await self._room(effect.number)
                if not effect.nickname:  # staff: the host back, or a lead who steps in
                    await self._moderator_level(room, effect.youth)
                await self._invite(room, effect.youth, effect.nickname)
            case MuteInGroup():
                await self.executor._set_power(await self._room(effect.number), effect.user,
                                               read_only=effect.muted)
            case KickFromGroup():
                room = await self._room(effect.number)
                await self._kick(room, effect.user)
                await self._no_moderator_level(room, effect.user)
            case RedactInGroup():
                # No reason given: a redaction's reason is not encrypted either.
                _check(await self.client.room_redact(await self._room(effect.number),
                                                     effect.event_id), "redact")
            case GroupRoomNotice():
                await self._say(await self._room(effect.number), effect.key, effect.params, key)
            case CloseGroupRoom():
                await self._close(await self._room(effect.number))
            case PurgeGroupRoom():
                await self._purge(effect.number)
            case PostToForum():
                room = await self._forum(effect.forum)
                await self._say(room, "forum.post", (("nickname", effect.nickname),
                                                     ("text", as_quote(effect.text))), key)
            case InviteToForum():
                room = await self._forum(effect.forum)
                await self._invite(room, effect.youth, None)

    # -- group rooms -----------------------------------------------------------------------

    async def _open(self, effect: OpenGroupRoom, key: str) -> None:
        stored = await self.store.get_setting(group_room_key(effect.number))
        if stored:
            room_id = RoomID(stored)
        else:
            answer = await self.client.room_create(
                initial_state=[ENCRYPTION],
                power_level_override=group_power_levels(effect.host))
            created = getattr(answer, "room_id", None)
            if not created:
                raise EffectFailed("could not create the group room", permanent=False)
            room_id = RoomID(created)
            # A crash between creating and storing leaves one empty room behind, which the
            # next try does not reuse; it holds nothing but the bot.
            await self.store.set_setting(group_room_key(effect.number), room_id)
        self._room_opened(effect.number, room_id)
        if effect.host:
            await self._invite(room_id, effect.host, None)
        for youth, nickname in effect.members:
            await self._invite(room_id, youth, nickname)

    async def _invite(self, room_id: RoomID, user: UserID, nickname: str | None) -> None:
        members = await self._members(room_id, invited=True)
        if user in members:
            return  # joined already: a replay
        if not nickname:  # staff (a host invited back too): their own name
            answer = await self.client.room_invite(room_id, user)
        else:
            # The invitation carries the per-group name: the member list shows it.
            answer = await self.client.room_put_state(
                room_id, "m.room.member", {"membership": "invite", "displayname": nickname},
                state_key=user)
        _check(answer, "invite")

    async def _moderator_level(self, room_id: RoomID, user: UserID) -> None:
        """Before the invitation, so a lead who steps in can delete a message at once.
        Read fresh from the server: nio's copy may lag a sync behind."""
        answer = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = getattr(answer, "content", None)
        if not isinstance(content, dict):
            raise EffectFailed("group power levels unreadable", permanent=False)
        users = dict(content.get("users") or {})
        level = users.get(user, content.get("users_default", 0))
        if isinstance(level, int) and level >= GROUP_MODERATOR_LEVEL:
            return  # the host, or a replay
        users[user] = GROUP_MODERATOR_LEVEL
        _check(await self.client.room_put_state(room_id, "m.room.power_levels",
                                                {**content, "users": users}), "power levels")

    async def _no_moderator_level(self, room_id: RoomID, user: UserID) -> None:
        """Removed, a host or a lead who stepped in (left the team, say) loses the power to
        delete messages there too: kept, it was theirs in the youths' room for good, and any
        invitation back would bring it along. A youth's level (muted) stays as it is."""
        answer = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = getattr(answer, "content", None)
        if not isinstance(content, dict):
            raise EffectFailed("group power levels unreadable", permanent=False)
        users = dict(content.get("users") or {})
        level = users.get(user)
        if not isinstance(level, int) or level < GROUP_MODERATOR_LEVEL \
                or user == self.client.user_id:
            return
        del users[user]
        _check(await self.client.room_put_state(room_id, "m.room.power_levels",
                                                {**content, "users": users}), "power levels")

    async def _kick(self, room_id: RoomID, user: UserID) -> None:
        answer = await self.client.room_kick(room_id, user)
        _check(answer, "kick", tolerate=("not in the room", "not in room"))

    async def _close(self, room_id: RoomID) -> None:
        for user in sorted(await self._members(room_id, invited=True)):
            if user != self.client.user_id:
                await self._kick(room_id, UserID(user))

    async def _purge(self, number: int) -> None:
        stored = await self.store.get_setting(group_room_key(number))
        if not stored:
            return  # never opened, or purged already
        admin = self.executor.admin
        if admin is None:
            await self.client.room_leave(stored)
            raise EffectFailed("no admin access; the group room is left to the homeserver's "
                               "retention", permanent=True)
        try:
            await admin.delete_room_and_wait(stored)
        except NotFound:
            pass
        except AdminApiError as exc:
            if exc.status != 404:
                transient = exc.status == 0 or exc.status >= 500 or exc.status == 429
                raise EffectFailed(f"admin API {exc.status} {exc.errcode}",
                                   permanent=not transient) from None
        # Gone from the homeserver: its id and the keys to what the youths wrote there go
        # from nio's store too, before the setting that finds the room again after a crash.
        forget_in_nio(self.client, RoomID(stored), None)
        await self.store.set_setting(group_room_key(number), "")
        self._room_purged(number)

    async def _room(self, number: int) -> RoomID:
        stored = await self.store.get_setting(group_room_key(number))
        if not stored:
            raise EffectFailed("the group room is not open", permanent=True)
        return RoomID(stored)

    async def _members(self, room_id: RoomID, *, invited: bool = False) -> set[str]:
        """Joined members from the server (nio's copy may lag); invited ones from nio."""
        answer = await self.client.joined_members(room_id)
        if not isinstance(answer, JoinedMembersResponse):
            raise EffectFailed("group members unreadable", permanent=False)
        members = {m.user_id for m in answer.members}
        room = self.client.rooms.get(room_id)
        if invited and room is not None:
            members |= set(room.invited_users)
        return members

    # -- a youth's own room -----------------------------------------------------------------

    async def _still_there(self, room_id: RoomID, youth: UserID) -> bool:
        if room_id not in self.client.rooms:
            return False
        answer = await self.client.joined_members(room_id)
        if not isinstance(answer, JoinedMembersResponse):
            return room_id in self.client.rooms  # unreadable: try the room we know
        return youth in {m.user_id for m in answer.members}

    async def _new_home(self, youth: UserID, key: str) -> RoomID:
        """The youth left their 1:1 room: open a new one (once per effect, by its key), as
        the bot does for a youth who wrote from an unfit room."""
        setting = _home_setting(key)
        stored = await self.store.get_setting(setting)
        if stored == UNDONE:
            raise EffectFailed("the youth did not accept the new room", permanent=True)
        if stored:
            return RoomID(stored)
        # The day counts from the invitation, which the youth's app may show before the bot
        # first looks for their join (a loaded CI advanced the clock in between: never undone).
        self._waiting.setdefault(key, self.executor.clock.now())
        answer = await self.client.room_create(
            is_direct=True, invite=[youth], initial_state=[ENCRYPTION],
            power_level_override=one_to_one_power_levels())
        created = getattr(answer, "room_id", None)
        if not created:
            raise EffectFailed("could not open a 1:1 room", permanent=False)
        await self.store.set_setting(setting, created)
        return RoomID(created)

    async def _carry_offer(self, left: RoomID, home: RoomID) -> None:
        """A group's crisis offer noted for the room the youth ``left`` goes with it to the
        new ``home``, where they answer it: noted for the room they left, their answer
        opened an unflagged chat at the back of the queue (`group_crisis.offer_key`)."""
        offered = await self.store.get_setting(offer_key(left))
        if offered:
            await self.store.set_setting(offer_key(home), offered)
            # Deleted, not emptied: the room left holds no conversation, whose erasure
            # would find its key.
            await self.store.move_to_sealed(offer_key(left), None)

    async def _wait_for_join(self, room_id: RoomID, youth: UserID, key: str) -> None:
        """Sent only once the youth joined: their devices get the room key only then. Tried
        again with each sync; given up after a day (the staff were alerted anyway)."""
        if await self._still_there(room_id, youth):
            self._waiting.pop(key, None)
            return
        since = self._waiting.setdefault(key, self.executor.clock.now())
        if self.executor.clock.now() - since > JOIN_WAIT:
            await self._undo_new_home(room_id, youth, key)
            self._waiting.pop(key, None)
            raise EffectFailed("the youth did not accept the new room", permanent=True)
        raise EffectFailed("waiting for the youth to join", permanent=False)

    async def _undo_new_home(self, room_id: RoomID, youth: UserID, key: str) -> None:
        """Never accepted: the invitation is taken back and the room goes (purged with admin
        access, else the bot leaves it), and nothing names it any more (its setting, the
        offer carried there): kept, the youth's app showed the invitation for good, and no
        erasure would ever find a room no conversation is in."""
        answer = await self.client.room_kick(room_id, youth)  # the invitation taken back
        _check(answer, "kick", tolerate=("not in the room", "not in room"))
        admin = self.executor.admin
        purged = False
        if admin is not None:
            try:
                await admin.delete_room_and_wait(room_id)
                purged = True
            except NotFound:
                purged = True
            except AdminApiError as exc:
                # Status and errcode only: the homeserver's text may quote the room id.
                log.warning("a room a youth never accepted could not be purged (%s %s); the "
                            "bot leaves it", exc.status, exc.errcode)
        if not purged:
            await self.client.room_leave(room_id)
        forget_in_nio(self.client, room_id, None)
        await self.store.move_to_sealed(offer_key(room_id), None)  # None: only deleted
        # The room's id replaced, also in the write-ahead log that still held it.
        await self.store.set_setting(_home_setting(key), UNDONE, forget_on_disk=True)

    # -- forum rooms -----------------------------------------------------------------------

    async def ensure_forum_rooms(self, forums: list[tuple[str, str]], staff: list[str],
                                 ) -> dict[str, RoomID]:
        """One encrypted room per forum topic, made once. On every start its staff follow
        the roster: staff get the staff level and are invited; who left the team loses it
        and is removed."""
        rooms: dict[str, RoomID] = {}
        for forum, name in forums:
            stored = await self.store.get_setting(forum_room_key(forum))
            if stored:
                room_id = RoomID(stored)
                await self._forum_staff(room_id, staff)
            else:
                answer = await self.client.room_create(
                    name=name, invite=staff, initial_state=[ENCRYPTION],
                    power_level_override=forum_power_levels(staff))
                created = getattr(answer, "room_id", None)
                if not created:
                    log.warning("could not create a forum room")
                    continue
                room_id = RoomID(created)
                await self.store.set_setting(forum_room_key(forum), room_id)
            rooms[forum] = room_id
        if self._forum_rooms is not None:
            self._forum_rooms(rooms)
        return rooms

    async def _forum_staff(self, room_id: RoomID, staff: list[str]) -> None:
        """Levels before invitations, so a new counsellor can answer as soon as they join.
        A refusal is logged and left to the next start: the forum goes on meanwhile, and a
        former member's removal does not wait for their level (the room is invite-only)."""
        answer = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = getattr(answer, "content", None)
        if not isinstance(content, dict):
            log.warning("a forum room's power levels are unreadable; its staff stay as they "
                        "were until the next start")
            return
        users = dict(content.get("users") or {})
        wanted, left = forum_staff_levels(users, staff, self.client.user_id)
        if wanted != users:
            answer = await self.client.room_put_state(room_id, "m.room.power_levels",
                                                      {**content, "users": wanted})
            if isinstance(answer, ErrorResponse):
                log.warning("could not bring a forum room's power levels up to date")
        members = await self._members(room_id, invited=True)
        for user in left:
            if user in members:
                answer = await self.client.room_kick(room_id, user)
                if isinstance(answer, ErrorResponse):
                    log.warning("could not remove a former staff member from a forum room")
        for user in staff:
            if user not in members:
                await self.client.room_invite(room_id, user)

    async def _forum(self, forum: str) -> RoomID:
        stored = await self.store.get_setting(forum_room_key(forum))
        if not stored:
            raise EffectFailed("the forum room does not exist", permanent=False)
        return RoomID(stored)

    # -- sending ---------------------------------------------------------------------------

    async def _language_of(self, effect: RoomNotice) -> Language:
        """The notice's own language, else that of the chat in the youth's room (an
        English-writing youth read German: the sign-up's warning, the forum's answers),
        else the installation's."""
        if effect.language:
            return spoken(effect.language)
        record = await self.store.conversation_by_room(effect.room_id)
        return self.language if record is None else spoken(record.language)

    async def _say(self, room_id: RoomID, key: str, params: tuple[tuple[str, Any], ...],
                   outbox_key: str, *, language: Language | None = None) -> None:
        room = self.client.rooms.get(room_id)
        if room is None or not room.encrypted:
            # Created moments ago: nio knows it (and that it is encrypted) after a sync.
            raise EffectFailed("the room is not synced yet", permanent=False)
        await self.executor.send(room_id, text(key, language or self.language, **dict(params)),
                                 outbox_key)


def _check(answer: object, what: str, tolerate: tuple[str, ...] = ()) -> None:
    check_answer(answer, what, tolerate=(*tolerate, "already in the room", "is already joined"))
