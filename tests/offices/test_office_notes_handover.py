"""Case notes handed over with a conversation go to its office's staff room. The executor
posted them (what a counsellor wrote about a youth, sealed at rest) into the main staff
room, which every office's staff read. Memory store, fake clock, the executor with its
sends caught, no server."""

from __future__ import annotations

from typing import Any

from nio import AsyncClient, MatrixRoom

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.effects import Transcript, effect_key
from counsel_bot.core.ids import EventID, RoomID, UserID
from tests.offices.test_office_workday import BEN, STAFF_ROOM, T0, offices, outbox, youth_in

SCHOOL_ROOM = RoomID("!schule-staff:x")
NOTE = "Mobbing in der 8b, Klassenlehrerin informiert"


async def test_the_notes_handed_over_go_to_the_conversations_office_only() -> None:
    c, clock = await offices()
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$duty"), "!duty on", T0)
    school = await youth_in(c, "schule", 1)
    record = await c.store.conversation(school)
    assert record is not None
    await c.staff_wrote(STAFF_ROOM, BEN, EventID("$note"), f"!note {school} {NOTE}", T0)
    await c.member_joined(record.room_id, BEN, EventID("$joined"), T0)
    [handover] = [e for e in await outbox(c) if isinstance(e, Transcript)]

    client = AsyncClient("http://127.0.0.1:9", "@counsel:x", device_id="BOT")
    for room in (STAFF_ROOM, SCHOOL_ROOM, record.room_id):
        client.rooms[room] = MatrixRoom(room, client.user_id)

    async def main_room() -> RoomID | None:
        return STAFF_ROOM

    async def office_room(office: str) -> RoomID | None:
        return SCHOOL_ROOM if office == "schule" else None

    executor = Executor(client, c.store, clock, default_language="de", staff_room=main_room)
    executor.office_staff_room = office_room
    sent: list[tuple[RoomID, str]] = []

    async def send(room_id: RoomID, body: str, key: str, **_: Any) -> None:
        sent.append((room_id, body))

    async def name(user: UserID) -> str:
        return "Ben"

    executor.send = send  # type: ignore[method-assign]
    executor._display_name = name  # type: ignore[method-assign]
    try:
        await executor.perform(handover, effect_key(handover, version=0, index=0))
    finally:
        await client.close()
    notes = [room for room, body in sent if NOTE in body]
    assert notes == [SCHOOL_ROOM], "the case notes went to the staff room of every office"
