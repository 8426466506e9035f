"""The people in a benchmark: counsellors on duty and youths with their rooms ready."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.client import BenchClient, Participant, Seen
from bench.env import Account, Homeserver
from bench.remote import RemoteClient

SETUP_TIMEOUT = 120.0


@dataclass
class Youth:
    client: Participant
    counsel_room: str
    echo_room: str | None


def from_bot(room_id: str, bot: str) -> object:
    return lambda seen: seen.room_id == room_id and seen.sender == bot


async def youths(
    hs: Homeserver, count: int, root: Path, counsel_bot: str, echo_bot: str | None,
    parallel: int = 10, own_process: int = 0,
) -> list[Youth]:
    """Youths who opened a direct chat with the bot (greeted) and, optionally, with the
    echo bot; room keys are shared in both rooms already. The first ``own_process`` run in
    a process of their own each (``bench.remote``), the rest share this one."""
    gate = asyncio.Semaphore(parallel)

    async def one(index: int) -> Youth:
        async with gate:
            account = await hs.register("youth")
            kind = RemoteClient if index < own_process else BenchClient
            client: Participant = await kind.create(hs.base_url, account,
                                                    root / f"youth-{index}")
            room = await client.open_direct(counsel_bot)
            greeting = client.expect(lambda s: s.room_id == room and s.sender == counsel_bot)
            echo_room = await client.open_direct(echo_bot) if echo_bot else None
            await asyncio.wait_for(greeting, SETUP_TIMEOUT)
            await client.prepare_room(room, counsel_bot)
            if echo_room is not None and echo_bot is not None:
                await client.prepare_room(echo_room, echo_bot)
            return Youth(client, room, echo_room)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def on_duty(
    hs: Homeserver, accounts: Sequence[Account], root: Path, bot: str,
    own_process: bool = False,
) -> tuple[list[Participant], str]:
    """Counsellors who joined the staff room and said ``!duty on``; returns the room too.
    With ``own_process`` each counsellor's client runs in a process of its own."""
    kind = RemoteClient if own_process else BenchClient
    clients: list[Participant] = [await kind.create(hs.base_url, a, root / f"staff-{i}")
                                  for i, a in enumerate(accounts)]
    first = clients[0]
    deadline = asyncio.get_running_loop().time() + SETUP_TIMEOUT
    while not first.invites:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the bot never invited the counsellors to its staff room")
        await asyncio.sleep(0.1)
    staff_room = next(iter(first.invites))
    for client in clients:
        await asyncio.wait_for(client.expect_invite(staff_room), SETUP_TIMEOUT)
        await client.join(staff_room)
    for client in clients:
        await duty_on(client, staff_room, bot)
    return clients, staff_room


async def duty_on(client: Participant, staff_room: str, bot: str) -> None:
    """A counsellor who joined ``staff_room`` says ``!duty on`` there and waits for the bot's
    answer (the bot decrypted the command and committed the duty change)."""
    await client.prepare_room(staff_room, bot)
    me = client.user_id

    def reply(seen: Seen) -> bool:
        return seen.room_id == staff_room and seen.sender == bot and seen.body.startswith(me)

    answer = client.expect(reply)
    await client.send(staff_room, "!duty on")
    await asyncio.wait_for(answer, SETUP_TIMEOUT)


async def close_all(clients: Sequence[Participant]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
