"""A Synapse module: youths reach each other only in the rooms the staff moderate.

A youth sees other youths' Matrix ids in a group evening or a forum room. Without a rule, any
account may invite any other, so a youth could open a private chat with another youth by
that id, also long after the group was purged: contact outside any moderation (grooming,
bullying), and against the office's promise that youths meet only in moderated groups.

The rule: an account counsel does not name (every youth; an outsider too) may
- invite only the accounts counsel names (the bot, the staff), never another youth and
  nobody by e-mail or phone number, however the invitation is made (/invite, or a
  membership among a new room's initial state, which passes no check on invitations: each
  invitation is checked as an event too);
- invite the staff only into a room a bot of counsel's is joined to (a counsellor pulled
  into a youth's room of their own would counsel there without the bot: no crisis check,
  no records, no hand-over), so a new room only with the bot; a staff member so invited
  joins only while a bot is still there (it may leave between invitation and acceptance);
- join only a room it was invited to (so a room made public, open to knocking or to the
  members of another room lets in no youth uninvited);
- never open a room it made later (join rules other than invite), as at its creation: a
  knock is no join but carries a reason the room's members read;
- ban nobody who is not in the room (the banned account's app learns of the room, its name
  and the reason: a message to any account by its id), and set no "leave" of such an
  account either (the state endpoint lets a "kick" through that /kick refuses);
- remove no bot (kick or ban) while a staff member is in the room or invited: the youth
  who made a room holds more power there than the bot (since room version 12 its creator
  any power), and would be left alone with the counsellor, as in a room without the bot;
- take from a bot joined to the room no power to remove the others (raise someone to its
  level, lower it, set removal above it): the bot counsels in a youth's room only where it
  may remove a counsellor again (after a transfer, at the close), and the youth who made
  the room outranks it;
- show nothing of its own where it may only read (a forum room, a group that muted it):
  there its membership keeps the name and picture it had (a youth's join: the one the bot
  invited it under, or none), and its leave no reason, for a member may always rewrite its
  own membership, which every member's app shows ("Tom changed their name to ...");
- find in the user directory only the accounts counsel names (it lists everyone who
  shares a room with the searcher, a forum or group room too, and is searched by display
  name: the words a youth put into theirs were found by every other reader);
- make rooms only as a private chat: not public, not in the directory, with no address,
  and never readable by everyone (``world_readable`` history: any account reads such a room
  without joining it, so two youths would write to each other through their own rooms).
The accounts named (``trusted``) are unaffected, and Synapse's server admins (the bridge's
own account) skip these checks as Synapse skips all spam checks for them.

Synapse loads it from the homeserver config (``modules:``). ``trusted`` lists account ids
in the config and ``bots`` which of counsel's accounts are bots; ``trusted_file`` names a
JSON file of them (``{"bots": [...], "staff": [...]}``), which counsel rewrites at every
start from counsel.toml (the bot, the counsellors and team leads, every office's) and which
the module reads again whenever the file changes. A plain JSON list (as written before bots
were named) names nobody as a bot: then the staff may be invited anywhere, as before, and
Synapse's log says so.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from homeserver_bridge.paths import write_private

if TYPE_CHECKING:
    from synapse.module_api import ModuleApi
    from synapse.types import RoomAlias

log = logging.getLogger(__name__)

_OPTIONS = frozenset({"trusted", "bots", "trusted_file"})
_PRESENT = frozenset({"join", "invite", "knock"})
# Whom a "leave" set by another account may concern: a member, or one banned (an unban).
_MAY_LEAVE = _PRESENT | {"ban"}
# Shown by the youth's app as the reason (Synapse's own words name no way forward).
REFUSED_INVITE = (
    "Einladen kannst du hier nur die Beratung. Andere Jugendliche triffst du in den "
    "begleiteten Gruppen. / Here you can only invite the counselling service; you meet other "
    "young people in the moderated groups."
)
REFUSED_STAFF_INVITE = (
    "Eine Beraterin oder einen Berater kannst du nur in deinen Chat mit der Beratung "
    "einladen. Schreib dort, dann meldet sich jemand. / You can invite a counsellor only into "
    "your chat with the counselling service. Write there and someone will answer."
)
# Shown to the counsellor, whose app tried to accept the invitation.
REFUSED_STAFF_JOIN = (
    "Dieser Raum ist von einem Account ohne Beratungsrolle, und der Bot der Beratung ist "
    "nicht darin: kein Krisencheck, keine Akte, keine Übergabe. Berate nur in Räumen mit dem "
    "Bot. / This room belongs to an account that is not staff and the counselling bot is "
    "not in it: no crisis check, no records, no hand-over. Counsel only in rooms the bot is "
    "in."
)
REFUSED_ROOM = (
    "Hier kannst du nur private Chats mit der Beratung starten, keine offenen Räume. / Here "
    "you can only start private chats with the counselling service, no open rooms."
)
REFUSED_BAN = (
    "Sperren kannst du nur, wer in deinem Raum ist. / You can only ban someone who is in "
    "your room."
)
REFUSED_KICK = (
    "Entfernen kannst du nur, wer in deinem Raum ist. / You can only remove someone who is "
    "in your room."
)
REFUSED_BOT_REMOVAL = (
    "Den Bot der Beratung kannst du nicht entfernen, solange jemand aus dem Team im Raum "
    "ist. Willst du das Gespräch beenden, verlass den Raum. / You cannot remove the "
    "counselling bot while someone from the team is in the room. To end the conversation, "
    "leave the room."
)
REFUSED_POWER = (
    "So kannst du die Rechte in diesem Raum nicht ändern: der Bot der Beratung muss hier "
    "jemanden aus dem Team wieder hinausnehmen können. / You cannot change the power levels "
    "like this: the counselling bot must be able to take a team member out of this room "
    "again."
)
REFUSED_JOIN = (
    "Diesen Raum kannst du nur betreten, wenn du eingeladen wurdest. / You can only enter "
    "this room when you have been invited."
)
Refusal = tuple[Any, dict[str, str]]
Verdict = Literal["NOT_SPAM"] | Refusal


@dataclass(frozen=True)
class ContactSettings:
    trusted: frozenset[str] = frozenset()
    trusted_file: Path | None = None
    bots: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Trusted:
    """Whom the rules leave alone: counsel's bots and its staff (no bot: none named)."""

    bots: frozenset[str] = frozenset()
    staff: frozenset[str] = frozenset()

    @property
    def accounts(self) -> frozenset[str]:
        return self.bots | self.staff

    def __or__(self, other: Trusted) -> Trusted:
        return Trusted(self.bots | other.bots, self.staff | other.staff)


def write_trusted(path: Path, accounts: Collection[str], *, bots: Collection[str] = ()) -> None:
    """The accounts the rules leave alone, for ``trusted_file`` (0600, replaced atomically:
    the module never reads half a list); ``bots``, which of them (or besides) are bots."""
    named = {"bots": sorted(set(bots)), "staff": sorted(set(accounts) - set(bots))}
    write_private(path, json.dumps(named, indent=1) + "\n")


def read_trusted(path: Path) -> frozenset[str]:
    """Every id in ``path``, bots and staff; ValueError naming the file if it holds anything
    else."""
    return read_trusted_file(path).accounts


def read_trusted_file(path: Path) -> Trusted:
    """The bots and the staff in ``path``; ValueError naming the file if it holds anything
    else. A plain list names no bot."""
    try:
        named = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"contact_rules: trusted_file {path} cannot be read ({exc}); "
                         "it must be a JSON list of Matrix ids") from None
    if isinstance(named, list) and _are_user_ids(named):
        return Trusted(staff=frozenset(named))
    if (isinstance(named, dict) and set(named) <= {"bots", "staff"}
            and all(_are_user_ids(ids) for ids in named.values())):
        return Trusted(frozenset(named.get("bots", ())), frozenset(named.get("staff", ())))
    raise ValueError(f"contact_rules: trusted_file {path} must be a JSON list of Matrix "
                     "ids such as \"@beratung:example.org\", or an object "
                     "{\"bots\": [...], \"staff\": [...]} of such lists")


def _are_user_ids(value: object) -> bool:
    return isinstance(value, list) and all(_is_user_id(a) for a in value)


def _is_user_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith("@") and ":" in value


class ContactRules:
    def __init__(self, config: ContactSettings, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._file_seen: tuple[int, int, int] | None = None
        self._from_config = Trusted(config.bots, config.trusted)
        self._from_file = Trusted()
        from synapse.module_api import NOT_SPAM
        from synapse.module_api.errors import Codes

        self._allowed: Literal["NOT_SPAM"] = NOT_SPAM
        self._forbidden = Codes.FORBIDDEN
        if config.trusted_file is not None:
            # A missing or unreadable file stops Synapse's start, not an invitation later.
            self._from_file = read_trusted_file(config.trusted_file)
            self._file_seen = _identity(os.stat(config.trusted_file))
        if not self._trusted_now().bots:
            log.warning("contact_rules: no bot named (bots, or trusted_file as {\"bots\": "
                        "[...], \"staff\": [...]}): youths may invite the staff into rooms "
                        "without the bot")
        api.register_spam_checker_callbacks(
            user_may_invite=self.user_may_invite,
            user_may_send_3pid_invite=self.user_may_send_3pid_invite,
            user_may_join_room=self.user_may_join_room,
            user_may_create_room=self.user_may_create_room,
            user_may_create_room_alias=self.user_may_create_room_alias,
            user_may_publish_room=self.user_may_publish_room,
            check_event_for_spam=self.check_event_for_spam,
            check_username_for_spam=self.check_username_for_spam,
        )
        # Membership events pass no spam check: a ban, a kick, an invitation made some other
        # way than /invite are refused here.
        api.register_third_party_rules_callbacks(check_event_allowed=self.check_event_allowed)

    @staticmethod
    def parse_config(config: dict[str, Any] | None) -> ContactSettings:
        """Synapse calls this at start: a bad value stops it with the key named."""
        config = config or {}
        unknown = set(config) - _OPTIONS
        if unknown:
            raise ValueError(f"contact_rules: unknown option(s) {sorted(unknown)}")
        lists = {key: config.get(key, []) for key in ("trusted", "bots")}
        for key, ids in lists.items():
            if not _are_user_ids(ids):
                raise ValueError(f"contact_rules: {key} must be a list of Matrix ids such as "
                                 "\"@beratung:example.org\"")
        trusted, bots = lists["trusted"], lists["bots"]
        path = config.get("trusted_file")
        if path is not None and (not isinstance(path, str) or not path):
            raise ValueError("contact_rules: trusted_file must be the path of a JSON file")
        if not trusted and not bots and path is None:
            # With nobody trusted the bot could invite nobody: no youth would be counselled.
            raise ValueError("contact_rules: name the bot and the staff in trusted or "
                             "trusted_file; with neither, nobody could invite anybody")
        return ContactSettings(frozenset(trusted), Path(path) if path else None,
                               frozenset(bots))

    def _trusted_now(self) -> Trusted:
        path = self._config.trusted_file
        if path is None:
            return self._from_config
        try:
            info = os.stat(path)
        except OSError:
            # Gone while running (a restore, say): keep the list last read, not lock out the bot.
            return self._from_config | self._from_file
        seen = _identity(info)
        if seen != self._file_seen:
            try:
                self._from_file = read_trusted_file(path)
            except ValueError:
                # Half written by hand, say: the list last read holds until it is whole.
                log.warning("contact_rules: %s is no list of ids; the last one read holds",
                            path)
            self._file_seen = seen
        return self._from_config | self._from_file

    def _trusts(self, user_id: str) -> bool:
        return user_id in self._trusted_now().accounts

    def _refuse(self, reason: str) -> Refusal:
        # Synapse puts these fields into its error answer: "error" replaces its own words.
        return self._forbidden, {"error": reason}

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Verdict:
        trusted = self._trusted_now()
        if inviter in trusted.accounts or invitee in trusted.bots:
            return self._allowed
        if invitee not in trusted.staff:
            return self._refuse(REFUSED_INVITE)
        # No bot named (an old list): nothing to look for, the staff come as before.
        if not trusted.bots or await self._bot_joined(room_id, trusted.bots):
            return self._allowed
        return self._refuse(REFUSED_STAFF_INVITE)

    async def _bot_joined(self, room: str, bots: frozenset[str]) -> bool:
        """One read of the room's current state (Synapse's cache, else one indexed query),
        of the bots' membership only."""
        state = await self._api.get_room_state(room, [("m.room.member", b) for b in bots])
        return any(event.content.get("membership") == "join" for event in state.values())

    async def user_may_send_3pid_invite(self, inviter: str, medium: str, address: str,
                                        room_id: str) -> Verdict:
        return self._allowed if self._trusts(inviter) else self._refuse(REFUSED_INVITE)

    async def user_may_join_room(self, user: str, room: str, is_invited: bool) -> Verdict:
        # Synapse does not ask for the creator's own join when it makes a room.
        trusted = self._trusted_now()
        if is_invited and user in trusted.staff - trusted.bots and trusted.bots:
            return await self._staff_may_join(user, room, trusted)
        if is_invited or user in trusted.accounts or await self._joined(user, room):
            return self._allowed
        return self._refuse(REFUSED_JOIN)

    async def _staff_may_join(self, user: str, room: str, trusted: Trusted) -> Verdict:
        """Invited by the bot or a colleague: as they like. Invited by anybody else (checked
        then: a bot was there): only while a bot is still there."""
        wanted = [("m.room.member", key) for key in (user, *trusted.bots)]
        state = await self._api.get_room_state(room, wanted)
        invitation = state.get(("m.room.member", user))
        if invitation is None or invitation.sender in trusted.accounts:
            return self._allowed
        if any(event.content.get("membership") == "join"
               for (_, key), event in state.items() if key in trusted.bots):
            return self._allowed
        return self._refuse(REFUSED_STAFF_JOIN)

    async def _joined(self, user: str, room: str) -> bool:
        """A new display name or avatar is a "join" in each room the account is in."""
        state = await self._api.get_room_state(room, [("m.room.member", user)])
        member = state.get(("m.room.member", user))
        return member is not None and member.content.get("membership") == "join"

    async def user_may_create_room(self, user: str, room_config: dict[str, Any]) -> Verdict:
        if self._trusts(user):
            return self._allowed
        trusted = self._trusted_now()
        invited = room_config.get("invite") or []
        if room_config.get("invite_3pid") or any(i not in trusted.accounts for i in invited):
            # Refused before the room exists: Synapse would make it, then fail the invitation.
            return self._refuse(REFUSED_INVITE)
        if trusted.bots and any(i not in trusted.bots for i in invited):
            # A new room has no bot joined yet: the staff would be refused right after.
            return self._refuse(REFUSED_STAFF_INVITE)
        if any(isinstance(event, dict) and event.get("type") == "m.room.member"
               for event in room_config.get("initial_state") or []):
            # An invitation among the initial state meets no user_may_invite; refused here,
            # before Synapse has made half the room (check_event_allowed would stop it then).
            return self._refuse(REFUSED_INVITE)
        if (room_config.get("visibility") == "public"
                or room_config.get("preset") == "public_chat"
                or room_config.get("room_alias_name")
                or not _only_by_invitation(room_config.get("initial_state") or [])
                or _readable_by_all(room_config.get("initial_state") or [])):
            return self._refuse(REFUSED_ROOM)
        return self._allowed

    async def check_event_for_spam(self, event: Any) -> Verdict:
        """A room opened later by the youth who made it (power 100 there), as at creation:
        refused. A knock is no join (the rule on joins never sees it) and carries a reason
        the room's members read, so a room open to knocking is a channel between youths; a
        history readable by all is read by any account without joining."""
        if not event.is_state() or self._trusts(event.sender):
            return self._allowed
        # The content is a frozen mapping, no dict.
        state = [{"type": event.type, "content": dict(event.content)}]
        if not _only_by_invitation(state) or _readable_by_all(state):
            return self._refuse(REFUSED_ROOM)
        return self._allowed

    async def check_username_for_spam(self, user_profile: Mapping[str, Any],
                                      requester_id: str) -> bool:
        """True hides an account from a user directory search: another youth from a
        youth (an account counsel does not name from another)."""
        trusted = self._trusted_now().accounts
        return requester_id not in trusted and user_profile.get("user_id") not in trusted

    async def check_event_allowed(
        self, event: Any, state: Mapping[tuple[str, str], Any],
    ) -> tuple[bool, dict[Any, Any] | None]:
        """By an account counsel does not name (raised, so its app shows why): an invitation
        user_may_invite would refuse (Synapse asks that only on /invite, not for one among a
        new room's initial state); a ban or a "leave" of an account that is not in the room
        (either tells that account's app of the room, its name, its history and the
        reason); the removal of a bot while the staff are in the room or invited (the
        youth and the counsellor alone, without it). Its own join or leave where it may only
        read is replaced by one that shows nothing new (no name, picture or reason of its
        choosing). Power levels that take from a bot joined to the room its power to
        remove the others."""
        if self._trusts(event.sender):
            return True, None
        if event.type == "m.room.power_levels" and event.get_state_key() == "":
            if _disarms_a_bot(event, state, self._trusted_now().bots):
                from synapse.module_api.errors import SynapseError

                raise SynapseError(403, REFUSED_POWER, self._forbidden)
            return True, None
        membership = event.content.get("membership") if event.type == "m.room.member" else None
        if membership not in ("ban", "leave", "invite", "join"):
            return True, None
        if event.state_key == event.sender:
            quiet = membership in ("join", "leave")
            return True, _quietened(event, state) if quiet else None
        if membership == "join":
            return True, None
        from synapse.module_api.errors import SynapseError

        if membership == "invite":
            refusal = self._invitation_refused(event.state_key, state)
            if refusal is None:
                return True, None
            raise SynapseError(403, refusal, self._forbidden)
        trusted = self._trusted_now()
        if event.state_key in trusted.bots and _staff_in(state, trusted):
            raise SynapseError(403, REFUSED_BOT_REMOVAL, self._forbidden)
        if event.state_key in trusted.accounts:
            return True, None
        member = state.get(("m.room.member", event.state_key))
        present = _PRESENT if membership == "ban" else _MAY_LEAVE
        if member is not None and member.content.get("membership") in present:
            return True, None
        raise SynapseError(403, REFUSED_BAN if membership == "ban" else REFUSED_KICK,
                           self._forbidden)

    def _invitation_refused(self, invitee: str,
                            state: Mapping[tuple[str, str], Any]) -> str | None:
        """user_may_invite's rule on the room's state before the invitation: why it is
        refused, None if it is not."""
        trusted = self._trusted_now()
        if invitee in trusted.bots:
            return None
        if invitee not in trusted.staff:
            return REFUSED_INVITE
        bot_joined = any(
            (member := state.get(("m.room.member", bot))) is not None
            and member.content.get("membership") == "join" for bot in trusted.bots)
        return None if not trusted.bots or bot_joined else REFUSED_STAFF_INVITE

    async def user_may_create_room_alias(self, user: str, room_alias: RoomAlias) -> Verdict:
        return self._allowed if self._trusts(user) else self._refuse(REFUSED_ROOM)

    async def user_may_publish_room(self, user: str, room_id: str) -> Verdict:
        return self._allowed if self._trusts(user) else self._refuse(REFUSED_ROOM)


def _identity(info: os.stat_result) -> tuple[int, int, int]:
    """Changes whenever the file is replaced (counsel's writes) or written in place."""
    return info.st_ino, info.st_mtime_ns, info.st_size


def _disarms_a_bot(event: Any, state: Mapping[tuple[str, str], Any],
                   bots: frozenset[str]) -> bool:
    """Whether new power levels take from a bot joined to the room the power it had to
    remove every other account (but the sender's, whom it never needs to remove)."""
    before = state.get(("m.room.power_levels", ""))
    old = before.content if before is not None else {}
    creators = _creators(state)
    for bot in bots:
        member = state.get(("m.room.member", bot))
        if member is None or member.content.get("membership") != "join":
            continue
        others = bots | {event.sender}
        if (_removes_all(bot, old, others, creators)
                and not _removes_all(bot, event.content, others, creators)):
            return True
    return False


def _removes_all(bot: str, levels: Mapping[str, Any], others: frozenset[str],
                 creators: frozenset[str]) -> bool:
    """Whether under ``levels`` the bot may remove every account but ``others``."""
    if bot in creators:
        return True  # since room version 12: of unlimited power, outranked by nobody
    users = levels.get("users")
    users = users if isinstance(users, Mapping) else {}
    default = _level(levels.get("users_default"), 0)
    mine = _level(users.get(bot), default)
    highest = max([default, *(_level(level, default) for user, level in users.items()
                              if user not in others and user not in creators)])
    return mine >= _level(levels.get("kick"), 50) and mine > highest


def _creators(state: Mapping[tuple[str, str], Any]) -> frozenset[str]:
    create = state.get(("m.room.create", ""))
    if create is None:
        return frozenset()
    more = create.content.get("additional_creators")
    return frozenset([create.sender, *(more if isinstance(more, list | tuple) else ())])


# What a member's own membership shows the others beside the membership itself.
_SHOWN = ("displayname", "avatar_url", "reason")
# What a join or leave of one's own carries besides (a restricted room's join: who let it in).
_NEEDED = ("membership", "join_authorised_via_users_server")


def _quietened(event: Any, state: Mapping[tuple[str, str], Any]) -> dict[str, Any] | None:
    """A member's own join or leave where it may only read, with nothing new to show: the
    name and picture of its membership before (a join after the bot's invitation: the
    nickname it was invited under), no reason, no key of its own (a modified app shows
    those too). None where it may write, or if there was nothing new."""
    if _may_write(event.sender, state):
        return None
    before = state.get(("m.room.member", event.state_key))
    kept = dict(before.content) if before is not None else {}
    content = {key: value for key, value in event.content.items() if key in _NEEDED}
    if content.get("membership") == "join":
        content.update((key, kept[key]) for key in _SHOWN[:2] if key in kept)
    if content == dict(event.content):
        return None
    replaced: dict[str, Any] = event.get_dict()
    replaced["content"] = content
    return replaced


def _may_write(user: str, state: Mapping[tuple[str, str], Any]) -> bool:
    """Whether ``user`` may send a message (plain or encrypted) into the room."""
    if user in _creators(state):
        return True  # a creator (since room version 12: of unlimited power)
    levels_event = state.get(("m.room.power_levels", ""))
    if levels_event is None:
        return True
    levels = levels_event.content
    users, events = levels.get("users") or {}, levels.get("events") or {}
    default = _level(levels.get("events_default"), 0)
    needed = min(_level(events.get(kind), default)
                 for kind in ("m.room.message", "m.room.encrypted"))
    return _level(users.get(user), _level(levels.get("users_default"), 0)) >= needed


def _level(value: object, default: int) -> int:
    """A power level as Synapse reads it (older room versions allow numeric strings)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _staff_in(state: Mapping[tuple[str, str], Any], trusted: Trusted) -> bool:
    """Whether a staff member (no bot) is joined to the room or invited into it."""
    return any(kind == "m.room.member" and key in trusted.staff and key not in trusted.bots
               and event.content.get("membership") in ("join", "invite")
               for (kind, key), event in state.items())


def _only_by_invitation(initial_state: list[Any]) -> bool:
    """Whether the join rule the client asks for (none: the preset's, private) is invite."""
    for event in initial_state:
        if isinstance(event, dict) and event.get("type") == "m.room.join_rules":
            content = event.get("content")
            if not isinstance(content, dict) or content.get("join_rule") != "invite":
                return False
    return True


def _readable_by_all(initial_state: list[Any]) -> bool:
    """Whether the state asks for a history every account may read without joining."""
    return any(isinstance(event, dict) and event.get("type") == "m.room.history_visibility"
               and isinstance(event.get("content"), dict)
               and event["content"].get("history_visibility") == "world_readable"
               for event in initial_state)
