"""Forum rooms follow the roster: on every start a stored forum room's staff are brought up
to date. A counsellor who joined the team since gets the staff level (50, what answering
takes) and an invitation; one who left loses it and is removed, for the room's key would
otherwise keep reaching them with every youth's post. Youths, the bot and any level below
staff's are left alone.

A recording stand-in for nio's client; the real homeserver path is the group e2e tests'."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nio import ErrorResponse, JoinedMembersResponse, RoomGetStateEventResponse
from nio.responses import RoomMember

from counsel_bot.channels.matrix.group_rooms import (
    GroupRooms,
    forum_power_levels,
    forum_room_key,
    forum_staff_levels,
)
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

BOT, ANNA, NEU, GONE, YOUTH = "@bot:x", "@anna:x", "@neu:x", "@gone:x", "@y1:x"


class RecordingClient:
    """Enough of nio's AsyncClient for `GroupRooms.ensure_forum_rooms` on a stored room."""

    def __init__(self, members: list[str], levels: dict[str, Any], *,
                 refuse_levels: bool = False) -> None:
        self.user_id = BOT
        self.rooms: dict[str, object] = {}
        self.members = members
        self.levels = levels
        self.refuse_levels = refuse_levels
        self.calls: list[tuple[str, object]] = []

    async def joined_members(self, room_id: str) -> object:
        return JoinedMembersResponse([RoomMember(u, u, "") for u in self.members], room_id)

    async def room_invite(self, room_id: str, user: str) -> object:
        self.calls.append(("invite", user))
        return object()

    async def room_kick(self, room_id: str, user: str, reason: str | None = None) -> object:
        self.calls.append(("kick", user))
        return object()

    async def room_put_state(self, room_id: str, event_type: str, content: dict[str, Any],
                             state_key: str = "") -> object:
        if self.refuse_levels:
            return ErrorResponse("forbidden", "M_FORBIDDEN")
        self.calls.append((event_type, content))
        self.levels = content
        return object()

    async def room_get_state_event(self, room_id: str, event_type: str,
                                   state_key: str = "") -> object:
        return RoomGetStateEventResponse(self.levels, event_type, "", room_id)


async def start(client: RecordingClient, staff: list[str]) -> None:
    """A start of the bot with a forum room made on an earlier day."""
    store = MemoryStore(AeadSealer())
    await store.set_setting(forum_room_key("schule"), "!forum:x")
    executor = SimpleNamespace(client=client, store=store, default_language="de")
    rooms = GroupRooms(executor, room_opened=lambda n, r: None,  # type: ignore[arg-type]
                       room_purged=lambda n: None)
    await rooms.ensure_forum_rooms([("schule", "Schule")], staff)


def made_with(staff: list[str]) -> dict[str, Any]:
    levels = forum_power_levels(staff)
    levels["users"] = {BOT: 100, **levels["users"]}
    return levels


async def test_new_staff_can_answer_and_former_staff_are_removed() -> None:
    client = RecordingClient([BOT, ANNA, GONE, YOUTH], made_with([ANNA, GONE]))
    await start(client, [ANNA, NEU])  # today's roster: Anna stays, Neu joined, Gone left
    [levels] = [c for kind, c in client.calls if kind == "m.room.power_levels"]
    assert levels["users"] == {BOT: 100, ANNA: 50, NEU: 50}  # type: ignore[index]
    assert levels["events_default"] == 50  # type: ignore[index]
    assert ("kick", GONE) in client.calls
    assert ("kick", YOUTH) not in client.calls
    assert ("invite", NEU) in client.calls
    # The levels come first: the new counsellor can answer the moment they join.
    kinds = [kind for kind, _ in client.calls]
    assert kinds.index("m.room.power_levels") < kinds.index("invite")


async def test_a_roster_that_did_not_change_changes_nothing() -> None:
    client = RecordingClient([BOT, ANNA, YOUTH], made_with([ANNA]))
    await start(client, [ANNA])
    assert client.calls == []


async def test_a_refused_level_change_still_removes_who_left() -> None:
    """The room is invite-only: out is out, whatever their level says."""
    client = RecordingClient([BOT, ANNA, GONE], made_with([ANNA, GONE]), refuse_levels=True)
    await start(client, [ANNA])
    assert ("kick", GONE) in client.calls


def test_levels_below_staff_and_the_bots_own_are_left_alone() -> None:
    users = {BOT: 100, ANNA: 50, GONE: 50, "@muted:x": -1}
    wanted, left = forum_staff_levels(users, [ANNA, NEU], BOT)
    assert wanted == {BOT: 100, ANNA: 50, NEU: 50, "@muted:x": -1}
    assert left == [GONE]
    assert forum_staff_levels({BOT: 100}, [BOT], BOT) == ({BOT: 100}, [])
