"""Issue 17's figure: in a group of 8 youths plus the host, a message reaches every member,
decrypted, within 2× the echo round trip (p50), on real Synapse with real nio clients.

The echo round trip is measured in the same run against `bench/echo_bot.py`'s bare E2E bot,
samples interleaved with the group's, so load from elsewhere hits both alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nio import MatrixRoom, RoomMessageText

from bench.echo_bot import EchoBot
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import join, setting
from tests.support.bot_harness import NioYouth, login, provision_bot, trust, until

pytestmark = pytest.mark.integration

YOUTHS = 8
SAMPLES = 10


@dataclass
class Arrivals:
    """When each client had each body decrypted (taken in nio's callback)."""

    at: dict[tuple[str, str], float] = field(default_factory=dict)

    def watch(self, client: NioYouth) -> None:
        me = client.client.user_id

        async def seen(room: MatrixRoom, event: RoomMessageText) -> None:
            if event.sender == me:
                return  # one's own message comes back in the sync: not an arrival
            self.at.setdefault((me, event.body), time.monotonic())

        client.client.add_event_callback(seen, RoomMessageText)  # type: ignore[arg-type]


async def test_a_group_message_reaches_all_nine_within_twice_the_echo(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    await process.start()
    bot_id = process.user_id
    closing = [host]
    arrivals = Arrivals()
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await host.send(staff_room, '!group new "Fanout" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")

        async def sign_up(i: int) -> NioYouth:
            youth = await login(synapse, user_factory, tmp_path, f"fan{i}")
            home = await youth.open_chat(bot_id)
            await youth.wait_for(home, bot_id, "anonym", within=60)
            await youth.send(home, "gruppe 1")
            await youth.wait_for(home, bot_id, "Du bist dabei", within=60)
            return youth

        youths = list(await asyncio.gather(*(sign_up(i) for i in range(YOUTHS))))
        closing += youths
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
        group_room = await setting(process, "group_room:1")
        for member in (host, *youths):
            await join(member, group_room)
            arrivals.watch(member)

        # The echo partner: a bare E2E bot, and one youth with a direct chat to it.
        echo = await login(synapse, user_factory, tmp_path, "echo")
        closing.append(echo)
        trust(synapse, bots=[echo.client.user_id])  # a bot: youths may open a chat with it
        EchoBot(echo.client)
        echo_room = await youths[0].open_chat(echo.client.user_id, like_element=False)
        await youths[0].send(echo_room, "warm up")
        await youths[0].wait_for(echo_room, echo.client.user_id, "warm up", within=60)
        # Warm up the group too: every member's room key shared before timing.
        for member in (host, *youths):
            await member.send(group_room, f"hallo von {member.client.user_id}")
        await until(lambda: all((m.client.user_id, f"hallo von {host.client.user_id}")
                                in arrivals.at for m in youths), within=60,
                    what="the warm-up to reach everyone")

        echoes: list[float] = []
        fanouts: list[float] = []
        everyone = [m.client.user_id for m in (host, *youths)]
        for i in range(SAMPLES):
            body = f"echo {i}"
            started = time.monotonic()
            await youths[0].client.room_send(echo_room, "m.room.message",
                                             {"msgtype": "m.text", "body": body},
                                             ignore_unverified_devices=True)
            await youths[0].wait_for(echo_room, echo.client.user_id, body, within=30)
            echoes.append(arrivals_or_now(arrivals, youths[0].client.user_id, body, started))

            sender = (host, *youths)[i % (YOUTHS + 1)]
            body = f"gruppe {i}"
            started = time.monotonic()
            await sender.client.room_send(group_room, "m.room.message",
                                          {"msgtype": "m.text", "body": body},
                                          ignore_unverified_devices=True)
            receivers = [u for u in everyone if u != sender.client.user_id]
            await until(reached(arrivals, body, receivers), within=30,
                        what=f"{body} to reach all members")
            fanouts.append(max(arrivals.at[(u, body)] for u in receivers) - started)

        echo_p50, fan_p50 = statistics.median(echoes), statistics.median(fanouts)
        print(f"echo round trip p50 {echo_p50 * 1000:.0f} ms; group of {YOUTHS}+1, last "
              f"member decrypted p50 {fan_p50 * 1000:.0f} ms "
              f"(ratio {fan_p50 / echo_p50:.2f}); max {max(fanouts) * 1000:.0f} ms")
        assert fan_p50 <= 2 * echo_p50
    finally:
        await process.stop()
        for client in closing:
            await client.close()


def reached(arrivals: Arrivals, body: str, receivers: list[str]) -> Callable[[], bool]:
    return lambda: all((u, body) in arrivals.at for u in receivers)


def arrivals_or_now(arrivals: Arrivals, user: str, body: str, started: float) -> float:
    """The echo's arrival as nio's callback saw it (the echo room is watched too)."""
    return arrivals.at.get((user, body), time.monotonic()) - started
