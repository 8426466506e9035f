"""Issue 4 end to end on real Synapse: queue, capacity, late-joiner transcript, close, transfer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import (
    BotProcess,
    NioYouth,
    goes_on_duty,
    login,
    provision_bot,
    until,
)

pytestmark = pytest.mark.integration


@dataclass
class Office:
    bot: BotProcess
    counsellors: list[NioYouth]
    staff_room: str



@pytest_asyncio.fixture(loop_scope="session")
async def office(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> AsyncIterator[Office]:
    """A bot with two counsellors, each on duty with capacity 1, in the staff room."""
    counsellors = [await login(synapse, user_factory, tmp_path, f"counsellor{i}")
                   for i in (1, 2)]
    bot = await provision_bot(synapse, tmp_path / "bot",
                              staff=[c.client.user_id for c in counsellors])
    await bot.start()
    staff_room = ""
    for counsellor in counsellors:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!capacity 1")
        await counsellor.wait_for(staff_room, bot.user_id, "Kapazität 1")
        await goes_on_duty(counsellor, staff_room, bot.user_id)
    yield Office(bot, counsellors, staff_room)
    await bot.stop()
    for counsellor in counsellors:
        await counsellor.close()


async def youth_writes(synapse: SynapseHandle, user_factory: UserFactory, tmp: Path,
                       bot: BotProcess, text: str) -> tuple[NioYouth, str]:
    youth = await login(synapse, user_factory, tmp, "youth")
    room = await youth.open_chat(bot.user_id)
    await youth.wait_for(room, bot.user_id, "anonym")
    await youth.send(room, text)
    return youth, room


async def test_three_youths_two_counsellors_queue_close_and_transfer(
    synapse: SynapseHandle, user_factory: UserFactory, office: Office, tmp_path: Path
) -> None:
    bot, (anna, ben) = office.bot, office.counsellors
    youths: list[NioYouth] = []
    try:
        rooms = []
        for i, text in enumerate(["Hallo, ich habe Streit mit meinen Eltern",
                                  "ich werde in der Schule gemobbt",
                                  "ich weiß nicht mehr weiter mit meiner Freundin"]):
            youth, room = await youth_writes(synapse, user_factory, tmp_path, bot, text)
            youths.append(youth)
            rooms.append(room)
            if i < 2:
                # Each of the first two goes to one counsellor (capacity 1 each).
                await until(lambda n=i + 1: _invites_total(office) == n,  # type: ignore[misc]
                            what=f"counsellor invitation {i + 1}")

        # The third waits, and is told so.
        await youths[2].wait_for(rooms[2], bot.user_id, "Platz 1")
        assert _invites_total(office) == 2

        # A counsellor who joins late reads what the youth wrote before.
        holder = anna if rooms[0] in anna.invited_to() else ben
        other = ben if holder is anna else anna
        joined = await holder.accept_invite()
        assert joined == rooms[0]
        transcript = await holder.wait_for(rooms[0], bot.user_id, "Streit mit meinen Eltern")
        assert "deine bisherigen Nachrichten" in transcript
        # The youth sees it too (same room), worded for them: it says who it is for and why.
        seen = await youths[0].wait_for(rooms[0], bot.user_id, "deine bisherigen Nachrichten")
        assert seen == transcript
        assert seen.startswith("Für ")
        assert "nicht lesen kann" in seen
        await youths[0].wait_for(rooms[0], bot.user_id, "ist jetzt für dich da")

        # Closing frees capacity: the waiting youth is routed to the same counsellor.
        await holder.send(rooms[0], "!close")
        await youths[0].wait_for(rooms[0], bot.user_id, "beendet")
        await until(lambda: rooms[2] in holder.invited_to(), what="the third youth to be routed")
        third = await holder.accept_invite()
        assert third == rooms[2]
        await holder.wait_for(rooms[2], bot.user_id, "nicht mehr weiter")

        # A transfer moves the room to the colleague: the other counsellor has room 2.
        second = await other.accept_invite()
        assert second == rooms[1]
        await holder.send(office.staff_room, "!capacity 2")
        await holder.wait_for(office.staff_room, bot.user_id, "Kapazität 2")
        await other.send(rooms[1], f"!transfer {holder.client.user_id}")
        await until(lambda: rooms[1] in holder.invited_to(), what="the transfer invitation")
        moved = await holder.accept_invite()
        assert moved == rooms[1]
        await holder.wait_for(rooms[1], bot.user_id, "gemobbt")

        async def other_removed() -> bool:
            members = await synapse.admin.room_members(rooms[1])
            return other.client.user_id not in members
        await until(other_removed, what="the previous counsellor to be removed")
    finally:
        for youth in youths:
            await youth.close()


def _invites_total(office: Office) -> int:
    return sum(len(c.invited_to()) + _conversation_rooms(c, office) for c in office.counsellors)


def _conversation_rooms(counsellor: NioYouth, office: Office) -> int:
    return sum(1 for room in counsellor.client.rooms
               if room != office.staff_room and room not in counsellor.client.invited_rooms)

