"""The day a youth has to accept a new 1:1 room (`group_rooms.JOIN_WAIT`) counts from the
invitation. It counted from the bot's first look for their join, which comes after the
homeserver's answer to the room's creation: the youth's app could show the invitation
before it. A clock that moved in between (a loaded CI: the e2e test advanced it as soon as
the youth saw the invitation) started the day anew, and the room was never undone. The
group rooms' executor on a stand-in of nio's client; no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from nio import JoinedMembersResponse, RoomCreateResponse, RoomKickResponse, RoomLeaveResponse
from nio.responses import RoomMember

from counsel_bot.channels.matrix.group_rooms import JOIN_WAIT, UNDONE, GroupRooms, _home_setting
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.group_effects import RoomNotice
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

YOUTH = UserID("@y1:x")
LEFT = RoomID("!left:x")
NEW = RoomID("!new:x")
KEY = "group_crisis_offer:1:x"


class Client:
    """The youth left their room; the new one's creation is answered while the clock moves
    on by ``late`` (the youth sees the invitation meanwhile)."""

    user_id = "@bot:x"

    def __init__(self, clock: FakeClock, late: timedelta) -> None:
        self.clock, self.late = clock, late
        self.rooms: dict[str, object] = {NEW: object()}
        self.kicked: list[str] = []

    async def room_create(self, **_: object) -> RoomCreateResponse:
        self.clock.advance(self.late)
        return RoomCreateResponse(NEW)

    async def joined_members(self, room_id: str) -> JoinedMembersResponse:
        return JoinedMembersResponse([RoomMember(self.user_id, "bot", "")], room_id)

    async def room_kick(self, room_id: str, user_id: str) -> RoomKickResponse:
        self.kicked.append(user_id)
        return RoomKickResponse()

    async def room_leave(self, room_id: str) -> RoomLeaveResponse:
        return RoomLeaveResponse()

    olm = store = None


@pytest.mark.parametrize("late", [timedelta(0), JOIN_WAIT + timedelta(minutes=5)])
async def test_the_day_to_accept_a_new_room_counts_from_the_invitation(late: timedelta) -> None:
    clock = FakeClock(datetime(2026, 12, 9, 19, 0, tzinfo=UTC))
    client = Client(clock, late)
    store = MemoryStore(AeadSealer())
    executor = SimpleNamespace(client=client, store=store, default_language="de", clock=clock,
                               admin=None)
    rooms = GroupRooms(executor, room_opened=lambda n, r: None,  # type: ignore[arg-type]
                       room_purged=lambda n: None)
    notice = RoomNotice(LEFT, "group.crisis_offer", youth=YOUTH)

    async def performed() -> EffectFailed:
        with pytest.raises(EffectFailed) as failed:
            await rooms.perform(notice, KEY)
        return failed.value

    first = await performed()
    if late:  # the day was over by the first look already
        assert first.permanent, "the day counted from the bot's first look, not the invitation"
    else:
        assert not first.permanent  # waiting for the youth
        clock.advance(JOIN_WAIT + timedelta(minutes=5))
        assert (await performed()).permanent
    assert client.kicked == [YOUTH]  # the invitation taken back
    assert await store.get_setting(_home_setting(KEY)) == UNDONE  # named nowhere
