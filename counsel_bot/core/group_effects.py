"""Effects of group sessions and the forum, stored in the outbox like every effect.

Kept apart from `core/effects.py` so groups add to it in one place; `effects.encode_effect`
and `decode_effect` hand these over here. Payloads name youths and rooms and carry forum
post text: the store seals every outbox payload, so none of it is plaintext at rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counsel_bot.core.ids import RoomID, UserID

Params = tuple[tuple[str, str | int], ...]
PREFIX = "grp_"


@dataclass(frozen=True)
class RoomNotice:
    """A text from the catalogue into a youth's own 1:1 room (a room with no conversation
    record yet: sign-up replies, the crisis offer, forum notes)."""

    room_id: RoomID
    key: str
    params: Params = ()
    # Set for what must reach the youth even if they left that room (a seat's notices: the
    # crisis offer, the invitation, a call-off, a removal): the bot then opens a new 1:1
    # room with them for it.
    youth: UserID | None = None
    # The language of the youth's chat, for what they must understand (the crisis offer);
    # "" = the installation's, as for every other group text.
    language: str = ""


@dataclass(frozen=True)
class OpenGroupRoom:
    """Create the group's encrypted room (only the bot manages membership), welcome, and
    invite the host and every signed-up youth under their nickname."""

    number: int
    topic: str
    minutes: int
    host: UserID
    members: tuple[tuple[UserID, str], ...]


@dataclass(frozen=True)
class InviteToGroup:
    """A youth who signs up while the group runs (the room exists already), or, with no
    nickname, staff: the host who left the room, or a lead who steps in to moderate."""

    number: int
    youth: UserID
    nickname: str


@dataclass(frozen=True)
class MuteInGroup:
    number: int
    user: UserID
    muted: bool


@dataclass(frozen=True)
class KickFromGroup:
    number: int
    user: UserID


@dataclass(frozen=True)
class RedactInGroup:
    """Delete one event in the group's room (a youth's reaction of words: its key is
    unencrypted, `core/reactions.py`)."""

    number: int
    event_id: str


@dataclass(frozen=True)
class GroupRoomNotice:
    """A text from the catalogue into the group's room."""

    number: int
    key: str
    params: Params = ()


@dataclass(frozen=True)
class CloseGroupRoom:
    """Say goodbye in the room and remove everyone but the bot."""

    number: int


@dataclass(frozen=True)
class PurgeGroupRoom:
    """Delete and purge the room through the admin API (retention of group rooms)."""

    number: int


@dataclass(frozen=True)
class PostToForum:
    forum: str
    nickname: str
    text: str


@dataclass(frozen=True)
class InviteToForum:
    forum: str
    youth: UserID


GroupEffect = (RoomNotice | OpenGroupRoom | InviteToGroup | MuteInGroup | KickFromGroup
               | RedactInGroup | GroupRoomNotice | CloseGroupRoom | PurgeGroupRoom
               | PostToForum | InviteToForum)
GROUP_EFFECTS = (RoomNotice, OpenGroupRoom, InviteToGroup, MuteInGroup, KickFromGroup,
                 RedactInGroup, GroupRoomNotice, CloseGroupRoom, PurgeGroupRoom, PostToForum,
                 InviteToForum)
_BY_NAME: dict[str, type[Any]] = {PREFIX + cls.__name__: cls for cls in GROUP_EFFECTS}


def encode_group_effect(effect: GroupEffect) -> dict[str, Any]:
    data: dict[str, Any] = {"type": PREFIX + type(effect).__name__}
    for name, value in vars(effect).items():
        data[name] = [list(v) for v in value] if isinstance(value, tuple) else value
    return data


def decode_group_effect(data: dict[str, Any]) -> GroupEffect:
    cls = _BY_NAME[data["type"]]
    fields = {k: v for k, v in data.items() if k != "type"}
    for name in ("params", "members"):
        if name in fields:
            fields[name] = tuple(tuple(item) for item in fields[name])
    effect: GroupEffect = cls(**fields)
    return effect


def group_lane(effect: GroupEffect) -> str:
    """One lane per group room, per youth room, per forum: each keeps its order."""
    if isinstance(effect, RoomNotice):
        return f"room:{effect.room_id}"
    if isinstance(effect, PostToForum | InviteToForum):
        return f"forum:{effect.forum}"
    return f"group:{effect.number}"


def group_urgent(effect: GroupEffect) -> bool:
    """The crisis offer waits for nothing."""
    return isinstance(effect, RoomNotice) and effect.key == "group.crisis_offer"
