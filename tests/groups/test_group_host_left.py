"""The counsellor hosting a group leaves its room while the group is open (their app
crashed, a wrong tap, an emergency at home): the youths were left alone together, nobody
moderating, until the group's end, and no one on the team learnt of it. Now the leads of
the group's office are called in its staff room. The bot on a fake of nio's client, the
conductor with the memory store, no server."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from nio import MatrixRoom, RoomMemberEvent

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.effects import SayToStaff
from tests.counsel_bot.test_youth_room_stranger import FakeClient
from tests.groups.test_group_desk import ANNA, GROUP_ROOM, Parts
from tests.groups.test_group_offices import LEA, two_offices


def _leaves(user: str, n: int) -> RoomMemberEvent:
    event = RoomMemberEvent.from_dict({
        "type": "m.room.member", "state_key": user, "sender": user, "event_id": f"$l{n}",
        "origin_server_ts": n, "content": {"membership": "leave"},
        "unsigned": {"prev_content": {"membership": "join"}}})
    assert isinstance(event, RoomMemberEvent)
    return event


async def _evening() -> tuple[Parts, CounselBot]:
    p = Parts()
    await p.start(settings=two_offices())
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()

    async def send(room_id: str, body: str, key: str) -> None:
        return None

    async def perform(_effect: object, _key: str) -> None:
        return None

    client = FakeClient()
    client.rooms[GROUP_ROOM] = MatrixRoom(GROUP_ROOM, client.user_id, encrypted=True)
    executor = SimpleNamespace(perform=perform, send=send, admin=None, protected=frozenset())
    bot = CounselBot(client, p.c, executor, p.clock,  # type: ignore[arg-type]
                     default_language="de", undecryptable_grace=timedelta(seconds=5))
    return p, bot


async def test_the_host_leaving_an_open_group_calls_its_offices_leads() -> None:
    p, bot = await _evening()
    await bot._on_room_event_once(GROUP_ROOM, _leaves(ANNA, 1))
    told = [e for e in await p.new() if isinstance(e, SayToStaff)]
    assert told, "nobody was told that the group has no host"
    [notice] = told
    assert LEA in notice.mentions
    assert notice.office == "familie"


async def test_a_youth_leaving_or_the_host_after_the_end_calls_nobody() -> None:
    p, bot = await _evening()
    await bot._on_room_event_once(GROUP_ROOM, _leaves("@y1:x", 1))
    await p.staff(ANNA, "!group end 1")
    await p.new()
    await bot._on_room_event_once(GROUP_ROOM, _leaves(ANNA, 2))
    assert [e for e in await p.new() if isinstance(e, SayToStaff)] == []
