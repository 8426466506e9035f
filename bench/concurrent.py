"""Routing and crisis alerts while many youths are in live conversations at the same time.

``python -m bench.concurrent [--youths N] [--arrivals M] [--pace S] [--quick]``.

The burst in ``bench.latency`` has every youth send at the same millisecond: a stress test
that even the bare echo bot fails on a small machine. This is the everyday shape of "200
concurrent youths": N youths (default 200) each have an open conversation with a counsellor
and keep writing, each a real E2E message every S seconds on average (default 20 s,
exponential gaps, so about N/S messages per second that the bot decrypts, commits and checks
for crisis wording). Meanwhile:

- M new youths (default 30) arrive one at a time: first message until a counsellor's client
  sees the invitation, each interleaved with an echo round trip (the baseline) of its own;
- every other arrival, one of the writing youths writes crisis wording: until a staff client
  has the decrypted alert.

At the end the bot's backlog is checked: every message written during the run committed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import cast, env, latency
from bench.cast import Youth
from bench.client import Participant
from bench.stats import Summary, latency_table, ratio, verdict

CAPACITY = 10


@dataclass(frozen=True)
class Plan:
    youths: int
    arrivals: int
    pace: float  # mean seconds between one youth's messages

    @property
    def counsellors(self) -> int:
        return math.ceil((self.youths + self.arrivals) / CAPACITY) + 1


FULL = Plan(youths=200, arrivals=30, pace=20.0)
QUICK = Plan(youths=20, arrivals=6, pace=5.0)


@dataclass
class Load:
    """The writing youths: how many messages they sent, while running."""

    sent: int = 0

    async def write(self, youth: Youth, pace: float, rng: random.Random) -> None:
        n = 0
        while True:
            await asyncio.sleep(rng.expovariate(1 / pace))
            n += 1
            await youth.client.send(youth.counsel_room, f"und dann noch etwas, teil {n}")
            self.sent += 1


@dataclass
class Results:
    echo: list[float]
    routing: list[float]
    crisis: list[float]
    offered_rate: float
    sent: int
    backlog_s: float
    flagged_rooms: int = 0  # writers' rooms with a crisis alert on their ordinary messages


async def open_conversations(youths: Sequence[Youth], staff: Sequence[Participant]) -> None:
    """Every writing youth's first message, ten at a time, until each room has a counsellor."""
    gate = asyncio.Semaphore(10)

    async def one(youth: Youth) -> None:
        async with gate:
            await latency.route_once(youth, staff)

    await asyncio.gather(*(one(y) for y in youths))


async def sample(
    arrivals: Sequence[Youth], writers: Sequence[Youth], staff: Sequence[Participant],
    staff_room: str, echo_user: str,
) -> tuple[list[float], list[float], list[float]]:
    echo, routing, crisis = [], [], []
    for index, youth in enumerate(arrivals):
        echo.append(await latency.echo_once(youth, echo_user, "ping-1"))
        routing.append(await latency.route_once(youth, staff))
        echo.append(await latency.echo_once(youth, echo_user, "ping-2"))
        if index % 2 == 0 and index // 2 < len(writers):
            crisis.append(await latency.crisis_once(writers[index // 2], staff[0], staff_room))
        await asyncio.sleep(0.5)
    return echo, routing, crisis


async def run(plan: Plan, root: Path, log: logging.Logger, seed: int = 7) -> Results:
    async with env.homeserver(root) as hs:
        staff_accounts = await hs.register_many("counsellor", plan.counsellors)
        bot = await env.provision_counsel_bot(
            hs, "counsel", [a.user_id for a in staff_accounts], CAPACITY)
        echo = await env.provision_echo_bot(hs)
        await bot.start()
        await echo.start()
        bot_user, echo_user = env.bot_user_of(bot), env.bot_user_of(echo)
        people: list[Participant] = []
        writing: list[asyncio.Task[None]] = []
        try:
            staff, staff_room = await cast.on_duty(hs, staff_accounts, root, bot_user)
            people += staff
            log.info("%d counsellors on duty; making %d youths", len(staff),
                     plan.youths + plan.arrivals)
            writers = await cast.youths(hs, plan.youths, root / "w", bot_user, None)
            people += [y.client for y in writers]
            arrivals = await cast.youths(hs, plan.arrivals, root / "a", bot_user, echo_user)
            people += [y.client for y in arrivals]
            await latency.warm_echo(arrivals, echo_user)
            log.info("opening %d conversations", len(writers))
            await open_conversations(writers, staff)
            base = await asyncio.to_thread(latency.processed_count, env.bot_data_of(bot))
            load, rng = Load(), random.Random(seed)
            writing = [asyncio.create_task(load.write(y, plan.pace, rng)) for y in writers]
            await asyncio.sleep(plan.pace)  # the load is in full swing before timing starts
            log.info("sampling %d arrivals under load", len(arrivals))
            started, sent_before = time.perf_counter(), load.sent
            echo_s, route_s, crisis_s = await sample(arrivals, writers, staff, staff_room,
                                                     echo_user)
            offered = (load.sent - sent_before) / (time.perf_counter() - started)
            for task in writing:
                task.cancel()
            await asyncio.gather(*writing, return_exceptions=True)
            backlog = await drained(bot, base + load.sent + len(arrivals) + len(crisis_s))
            bot.check_alive()
            return Results(echo_s, route_s, crisis_s, offered, load.sent, backlog,
                           false_alerts(staff[0], staff_room, writers[len(crisis_s):]))
        finally:
            for task in writing:
                task.cancel()
            await cast.close_all(people)
            await bot.stop()
            await echo.stop()


def false_alerts(staff: Participant, staff_room: str, quiet: Sequence[Youth]) -> int:
    """Rooms of writing youths who never wrote crisis wording but whose conversation the
    staff were alerted about (the load writes "und dann noch etwas, teil N")."""
    alerts = [s.body for s in staff.messages if s.room_id == staff_room and "⚠️" in s.body]
    return sum(1 for y in quiet if any(y.counsel_room in body for body in alerts))


async def drained(bot: env.ChildProcess, total: int) -> float:
    """Seconds after the load stopped until the bot had committed every message of the run
    (the load, the arrivals' first messages, the crisis messages)."""
    started = time.perf_counter()
    await latency.until_count(env.bot_data_of(bot), total)
    return time.perf_counter() - started


def report(plan: Plan, r: Results) -> str:
    echo, routing, crisis = Summary.of(r.echo), Summary.of(r.routing), Summary.of(r.crisis)
    return "\n".join([
        f"{plan.youths} youths in open conversations, each writing every {plan.pace:.0f} s on "
        f"average ({r.offered_rate:.1f} messages/s offered while sampling, {r.sent} in all); "
        f"{plan.arrivals} new youths arrive one at a time:",
        "",
        latency_table([("echo round trip (baseline)", echo),
                       ("first message -> counsellor invited", routing),
                       ("crisis message -> staff alert", crisis)], echo),
        "",
        f"Backlog when the load stopped: every message committed {r.backlog_s:.1f} s later.",
        "",
        f"Crisis alerts on ordinary messages: {r.flagged_rooms} of "
        f"{plan.youths - len(r.crisis)} writing youths who never wrote crisis wording had their "
        "conversation flagged to staff.",
        "",
        "Goals:",
        f"- routing p99 < 1 s with {plan.youths} youths writing at {r.offered_rate:.1f} "
        f"msgs/s (a different load from {plan.youths} youths at once: that is "
        f"`bench.latency --burst {plan.youths}`): {routing.p99:.2f} s "
        f"-> {verdict(routing.p99 < 1.0)}",
        f"- routing p50 <= 1.15x echo p50: {ratio(routing.p50, echo.p50)} "
        f"-> {verdict(routing.p50 <= 1.15 * echo.p50)}",
        f"- crisis alert <= 1.3x echo (p50): {ratio(crisis.p50, echo.p50)} "
        f"-> {verdict(crisis.p50 <= 1.3 * echo.p50)}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--youths", type=int, default=None, help="writing youths (200)")
    parser.add_argument("--arrivals", type=int, default=None, help="timed new youths (30)")
    parser.add_argument("--pace", type=float, default=None,
                        help="mean seconds between one youth's messages (20)")
    args = parser.parse_args(argv)
    latency.quiet_libraries()
    env.interrupt_on_sigterm()
    plan = QUICK if args.quick else FULL
    plan = Plan(args.youths or plan.youths, args.arrivals or plan.arrivals,
                args.pace or plan.pace)
    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp:
        started = time.perf_counter()
        results = asyncio.run(run(plan, Path(tmp), logging.getLogger("bench")))
    print(f"## Concurrent youths ({os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s)\n")
    print(report(plan, results))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
