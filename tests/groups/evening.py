"""What the group tests on real Synapse share: a bot with its host (and leads) in the staff
room, one group announced; accepting an invitation; leaving a room; a stored setting; a
youth signed up; a youth who left their chat writing crisis words in the group."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot, until

CRISIS = "ich will nicht mehr leben"
# Announced at noon (the clock's start) for the same evening.
GROUP_1 = '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8'
NOON = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
OPEN = datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC)  # its room is open from here


async def join(client: NioYouth, room_id: str) -> None:
    """Accept one particular invitation (a counsellor has several)."""
    await until(lambda: room_id in client.client.invited_rooms or room_id in client.client.rooms,
                what="the invitation")
    await client.client.join(room_id)
    await until(lambda: room_id in client.client.rooms
                and room_id not in client.client.invited_rooms, what="the join to sync")


async def leave(synapse: SynapseHandle, youth: NioYouth, room: str) -> None:
    """The youth leaves ``room`` (Element's "Leave"), as the homeserver holds it."""
    await youth.client.room_leave(room)

    async def left() -> bool:
        return youth.client.user_id not in await synapse.admin.room_members(room)

    await until(left, what="the youth to leave their room")


def nickname_in(reply: str) -> str:
    found = re.search(r"heißt du „([^“]+)“", reply)
    assert found, reply
    return found[1]


async def setting(process: object, key: str) -> str:
    bot = getattr(process, "bot", None)
    assert bot is not None
    async def stored() -> bool:
        return bool(await bot.store.get_setting(key))
    await until(stored, what=key)
    value = await bot.store.get_setting(key)
    assert value
    return value


async def signed_up(synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
                    bot_id: str, name: str, closing: list[NioYouth],
                    ) -> tuple[NioYouth, str, str]:
    """A youth on nio who signed up for group 1 in their own chat: the client, that chat,
    and the nickname the bot gave."""
    youth = await login(synapse, user_factory, tmp_path, name)
    closing.append(youth)
    home = await youth.open_chat(bot_id)
    await youth.wait_for(home, bot_id, "anonym")
    await youth.send(home, "gruppe 1")
    return youth, home, nickname_in(await youth.wait_for(home, bot_id, "Du bist dabei"))


@dataclass
class Announced:
    """Group 1 announced by its host in the staff room; ``closing`` takes every client a
    test logs in, closed at the end."""

    process: BotProcess
    host: NioYouth
    staff: dict[str, NioYouth]  # every other staff login, by the name it was made with
    staff_room: str
    clock: FakeClock
    closing: list[NioYouth]

    @property
    def bot_id(self) -> str:
        return self.process.user_id


@asynccontextmanager
async def group_announced(synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
                          *, colleagues: Sequence[str] = (), leads: Sequence[str] = (),
                          ) -> AsyncIterator[Announced]:
    """A bot whose counsellors are "host" and ``colleagues`` and whose team leads are
    ``leads``; the host and the leads are in the staff room (colleagues only invited), and
    the host has announced group 1 for 18:00."""
    closing: list[NioYouth] = []
    process: BotProcess | None = None
    try:
        clock = FakeClock(NOON)
        host = await login(synapse, user_factory, tmp_path, "host")
        closing.append(host)
        staff: dict[str, NioYouth] = {}
        for name in (*colleagues, *leads):
            staff[name] = await login(synapse, user_factory, tmp_path, name)
            closing.append(staff[name])
        process = await provision_bot(
            synapse, tmp_path / "bot",
            staff=[host.client.user_id, *(staff[n].client.user_id for n in colleagues)],
            team_leads=[staff[n].client.user_id for n in leads] or None, clock=clock)
        await process.start()
        staff_room = await setting(process, "staff_room")
        for member in (host, *(staff[n] for n in leads)):
            await join(member, staff_room)
        await host.send(staff_room, GROUP_1)
        await host.wait_for(staff_room, process.user_id, "Gruppe 1 angekündigt")
        yield Announced(process, host, staff, staff_room, clock, closing)
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()


async def crisis_after_leaving(synapse: SynapseHandle, user_factory: UserFactory,
                               tmp_path: Path, evening: Announced,
                               ) -> tuple[NioYouth, str, str]:
    """A youth signed up for group 1 in their chat, left that chat, joined the group's room
    at its opening (the host too) and writes crisis words there, and the host was alerted:
    the youth, the chat they left and the group's room."""
    bot_id, host = evening.bot_id, evening.host
    youth, home, _ = await signed_up(synapse, user_factory, tmp_path, bot_id, "youth-b",
                                     evening.closing)
    evening.clock.set(OPEN)
    group_room = await setting(evening.process, "group_room:1")
    await youth.wait_for(home, bot_id, "Gruppe 1 beginnt")
    await join(youth, group_room)
    await join(host, group_room)
    await leave(synapse, youth, home)
    await youth.send(group_room, CRISIS)
    await host.wait_for(evening.staff_room, bot_id, "Krisenhinweis in Gruppe 1")
    return youth, home, group_room
