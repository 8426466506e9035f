"""Capacity: bot memory, routing latency and restart catch-up with many open conversations.

``python -m bench.scale [--quick] [--real N]``. For each (open conversations, counsellors) pair
a fresh bot (its own account, store and process) starts on conversations seeded through its
Store API (see bench/seed.py). Seeded, their rooms exist only in the store; with ``--real N``
(one row: N conversations, 200 counsellors) each conversation's room is a real encrypted
direct chat on the homeserver that the bot is invited to before it starts and joins and greets
at its first start (see bench/rooms.py), so nio holds their state and the restart's full-state
sync carries them. Then:

- routing: real E2E youths write their first message, one at a time, interleaved with echo
  round trips on the same homeserver; timed until the on-duty counsellor's client sees the
  invitation;
- memory: VmRSS of the `counsel bot` process after that (and its peak, VmHWM);
- restart catch-up: the bot is stopped (SIGTERM), more youths write their first message, the
  bot is started again; timed from spawning the process until the counsellor's client has
  seen the invitation for every message written while it was down.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import cast, env, latency, rooms
from bench.client import BenchClient
from bench.seed import seed
from bench.stats import Summary, markdown, ms, ratio, verdict

CAPACITY = 10


@dataclass(frozen=True)
class Plan:
    sizes: tuple[tuple[int, int], ...]  # (open conversations, counsellors)
    routing_samples: int
    backlog: int
    real: bool = False


FULL = Plan(sizes=((100, 20), (500, 20), (2000, 20), (100, 200), (500, 200), (2000, 200)),
            routing_samples=5, backlog=5)
QUICK = Plan(sizes=((2000, 200),), routing_samples=2, backlog=2)


@dataclass(frozen=True)
class Row:
    conversations: int
    counsellors: int
    routing: Summary
    echo: Summary
    rss_kib: int
    peak_kib: int
    first_start: float
    catch_up: float
    rss_after_restart_kib: int
    real: bool = False
    rooms_made_s: float = 0.0  # creating the real rooms (before the bot starts)
    joined_s: float = 0.0  # the bot's first start until it had joined and greeted them all


async def one_size(
    hs: env.Homeserver, plan: Plan, size: tuple[int, int], staff_pool: Sequence[str],
    watcher: BenchClient, echo_user: str, log: logging.Logger,
) -> Row:
    conversations, counsellors = size
    seeded = list(staff_pool[: counsellors - 1])
    name = f"scale-{conversations}-{counsellors}"
    bot = await env.provision_counsel_bot(hs, name, [*seeded, watcher.user_id], CAPACITY)
    bot_user = env.bot_user_of(bot)
    made: list[rooms.RealRoom] = []
    made_s = joined_s = 0.0
    if plan.real:
        log.info("creating %d real encrypted rooms", conversations)
        made, made_s = await rooms.create(hs, bot_user, conversations, f"{name}-youth")
        log.info("%d rooms in %.0f s", len(made), made_s)
    await seed(env.bot_data_of(bot), conversations, seeded, watcher.user_id, CAPACITY,
               [(r.room_id, r.youth) for r in made])
    spawned = await bot.start()
    if plan.real:
        joined_s = await rooms.until_greeted(env.bot_data_of(bot), made,
                                              bot.check_alive) - spawned
        log.info("the bot joined and greeted them in %.0f s", joined_s)
    youths: list[cast.Youth] = []
    try:
        timed = await cast.youths(hs, plan.routing_samples, hs.root / name, bot_user, echo_user)
        first_start = time.perf_counter() - spawned  # an upper bound: includes youth setup
        youths += timed
        backlog = await cast.youths(hs, plan.backlog, hs.root / f"{name}-b", bot_user, None)
        youths += backlog
        await latency.warm_echo(timed, echo_user)
        echo_s, route_s = [], []
        for youth in timed:
            echo_s.append(await latency.echo_once(youth, echo_user, "ping"))
            route_s.append(await latency.route_once(youth, [watcher]))
            await asyncio.sleep(0.2)
        bot.check_alive()
        rss, peak = env.rss_kib(bot.pid)
        await bot.stop()
        invited = [asyncio.ensure_future(watcher.expect_invite(y.counsel_room))
                   for y in backlog]
        await asyncio.gather(*(y.client.send(y.counsel_room, latency.FIRST_MESSAGE)
                               for y in backlog))
        restarted = await bot.start()
        seen = await asyncio.wait_for(asyncio.gather(*invited), 120)
        catch_up = max(seen) - restarted
        rss_after = env.rss_kib(bot.pid)[0]
        log.info("%d conversations / %d counsellors: done", conversations, counsellors)
        return Row(conversations, counsellors, Summary.of(route_s), Summary.of(echo_s),
                   rss, peak, first_start, catch_up, rss_after, plan.real, made_s, joined_s)
    finally:
        await cast.close_all([y.client for y in youths])
        await bot.stop()


async def run(plan: Plan, root: Path, log: logging.Logger) -> list[Row]:
    async with env.homeserver(root) as hs:
        biggest = max(c for _, c in plan.sizes)
        staff_pool = await hs.passwordless_users("seeded", biggest)
        watcher_account = await hs.register("watcher")
        watcher = await BenchClient.create(hs.base_url, watcher_account, root / "watcher")
        echo = await env.provision_echo_bot(hs)
        await echo.start()
        try:
            return [await one_size(hs, plan, size, staff_pool, watcher, env.bot_user_of(echo),
                                   log) for size in plan.sizes]
        finally:
            await watcher.close()
            await echo.stop()


def report(plan: Plan, rows: Sequence[Row]) -> str:
    table = markdown(
        ["open conversations", "rooms", "counsellors", "bot RSS MiB", "peak RSS MiB",
         "routing p50 ms", "routing p99 ms", "echo p50 ms", "routing/echo p50",
         "restart catch-up s", "RSS after restart MiB"],
        [[f"{r.conversations:,}", "real" if r.real else "seeded", str(r.counsellors),
          f"{r.rss_kib / 1024:.0f}",
          f"{r.peak_kib / 1024:.0f}", ms(r.routing.p50), ms(r.routing.p99), ms(r.echo.p50),
          ratio(r.routing.p50, r.echo.p50), f"{r.catch_up:.1f}",
          f"{r.rss_after_restart_kib / 1024:.0f}"] for r in rows],
    )
    biggest = max(rows, key=lambda r: (r.conversations, r.counsellors))
    worst_catch_up = max(r.catch_up for r in rows)
    made = [f"- {r.conversations:,} real rooms: created in {r.rooms_made_s:.0f} s; the bot's "
            f"first start until it had joined and greeted them all: {r.joined_s:.0f} s"
            for r in rows if r.real]
    return "\n".join([
        *made,
        f"Routing: {plan.routing_samples} youths per row, one at a time; restart catch-up: "
        f"{plan.backlog} first messages written while the bot was down.",
        "",
        table,
        "",
        "Goals:",
        f"- {biggest.conversations:,} open conversations ({'real' if biggest.real else 'seeded'}"
        f" rooms), model loaded, under 400 MB RSS: "
        f"{biggest.rss_kib / 1024:.0f} MiB (peak {biggest.peak_kib / 1024:.0f} MiB) -> "
        f"{verdict(biggest.peak_kib * 1024 < 400e6)}",
        f"- restart catch-up < 10 s: worst {worst_catch_up:.1f} s -> "
        f"{verdict(worst_catch_up < 10)}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--real", type=int, default=None, metavar="N",
                        help="one row: N open conversations in real encrypted rooms")
    args = parser.parse_args(argv)
    latency.quiet_libraries()
    env.interrupt_on_sigterm()
    plan = QUICK if args.quick else FULL
    if args.real is not None:
        plan = Plan(sizes=((args.real, 200),), routing_samples=plan.routing_samples,
                    backlog=plan.backlog, real=True)
    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp:
        started = time.perf_counter()
        rows = asyncio.run(run(plan, Path(tmp), logging.getLogger("bench")))
    print(f"## Scale ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"{time.perf_counter() - started:.0f} s)\n")
    print(report(plan, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
