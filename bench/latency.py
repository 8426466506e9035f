"""Latency and throughput of the counsel bot against a bare E2E echo bot, same homeserver.

``python -m bench.latency [--quick]``. Samples are interleaved (echo, routing, echo, crisis
for each youth) so that load from anything else on the machine hits both sides alike.

- echo round trip: youth sends, youth receives the echo (baseline);
- routing: a youth's first message until a counsellor's client sees the invitation (one
  way: youth -> bot -> counsellor's invitation);
- handover: the same first message until the invited counsellor's client has joined and
  decrypted that message (the bot's transcript in the youth's room): the full path from the
  youth's words to a person, comparable to the echo's round trip (two hops through the bot,
  plus the counsellor's join, which the bench does at once);
- crisis: crisis wording until a staff client has the alert in the staff room (decrypted);
- burst: every burst youth sends at once (first message / echo), each timed on its own;
- throughput: youths send as fast as they can; the bot's rate is counted by the events it
  committed (``processed_events``), the echo bot's by the echoes the youths received. The two
  are different work (the counsel bot decrypts, checks and commits, and sends nothing; the
  echo bot decrypts, encrypts and sends), so they are reported side by side, not as a ratio.

Controls: ``--no-model`` (rules alone), ``--no-join`` (counsellors stay out of the youths'
rooms), ``--own-process`` (every counsellor and sequential youth in a process of its own,
see bench.remote; it did not change the crisis alert's delivery, bench/RESULTS.md).
``--element-staff``: the first counsellor also has an Element-stack device (matrix-js-sdk +
Rust crypto, bench.element_staff), and each crisis alert is timed on both of its devices.
``--floor``: the floor of the crisis alert, sampled beside it: a bare bot (bench.echo_bot
--alert) with its own staff room of the same counsellors, which invites one of them on a
youth's first message (who joins, as in the handover) and answers the next with a fixed
alert there; no detector, no store, no routing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import cast, element_staff, env
from bench.cast import Youth
from bench.client import Participant, Seen
from bench.stats import Summary, latency_table, markdown, ratio, verdict

WAIT = 60.0
FIRST_MESSAGE = "Hallo, ich brauche gerade jemanden zum Reden."
CRISIS_MESSAGE = "ich will nicht mehr leben"
CAPACITY = 10


@dataclass(frozen=True)
class Plan:
    sequential: int
    burst: int
    messages_per_youth: int
    model: bool = True  # the bot's crisis model (off: rules alone, a control run)
    join: bool = True  # counsellors join the youths' rooms (the handover sample); off: control
    # Each counsellor and each sequential youth in a process of its own (bench.remote), as
    # each person's device is; off: every client in the benchmark's one event loop.
    own_process: bool = False
    # The first counsellor also on an Element-stack device; each alert timed on both.
    element_staff: bool = False
    # The bare alert bot's alert, sampled after each crisis sample (the floor).
    floor: bool = False

    @property
    def counsellors(self) -> int:
        return math.ceil((self.sequential + self.burst) / CAPACITY) + 1


# A routed conversation: the youth, the bot and the counsellor it invited.
IN_CONVERSATION = 3

FULL = Plan(sequential=30, burst=100, messages_per_youth=10)
QUICK = Plan(sequential=5, burst=10, messages_per_youth=5)


@dataclass
class Results:
    echo: list[float]
    routing: list[float]
    handover: list[float]
    crisis: list[float]
    echo_burst: list[float]
    routing_burst: list[float]
    echo_rate: float
    bot_rate: float
    offered: int
    rss_idle_kib: int
    rss_loaded_kib: int
    rooms: int
    echo_split: list[Split] = dataclasses.field(default_factory=list)
    crisis_split: list[Split] = dataclasses.field(default_factory=list)
    # The same alerts, from the youth's send (wall clock) until each device of the first
    # counsellor had it decrypted: nio, and Element's stack (with --element-staff).
    crisis_nio: list[float] = dataclasses.field(default_factory=list)
    crisis_element: list[float] = dataclasses.field(default_factory=list)
    # The bare alert bot (--floor): its alerts, and their split as crisis_split.
    floor: list[float] = dataclasses.field(default_factory=list)
    floor_split: list[Split] = dataclasses.field(default_factory=list)


# (until the answer's event was on the server, from there until the receiving client had
# it decrypted), in seconds: where a sample's time went, bot side against delivery.
Split = tuple[float, float]


def split(sent_wall: float, seen: Seen, seen_wall: float) -> Split:
    on_server = seen.server_ms / 1000
    return on_server - sent_wall, seen_wall - on_server


async def echo_once(youth: Youth, echo_bot: str, body: str,
                    splits: list[Split] | None = None) -> float:
    room = youth.echo_room
    assert room is not None
    echoed = youth.client.expect(
        lambda s: s.room_id == room and s.sender == echo_bot and s.body == body)
    wall = time.time()
    started = await youth.client.send(room, body)
    seen = await asyncio.wait_for(echoed, WAIT)
    if splits is not None:
        splits.append(split(wall, seen, time.time() - (time.perf_counter() - seen.at)))
    return seen.at - started


async def route_once(youth: Youth, counsellors: Sequence[Participant],
                     body: str = FIRST_MESSAGE) -> float:
    invited = [asyncio.ensure_future(c.expect_invite(youth.counsel_room)) for c in counsellors]
    started = await youth.client.send(youth.counsel_room, body)
    done, pending = await asyncio.wait(invited, timeout=WAIT,
                                       return_when=asyncio.FIRST_COMPLETED)
    for future in pending:
        future.cancel()
    if not done:
        raise TimeoutError("no counsellor was invited")
    return next(iter(done)).result() - started


async def handover_once(
    youth: Youth, counsellors: Sequence[Participant], bot: str
) -> tuple[float, float]:
    """(first message -> invited, first message -> the invited counsellor joined and has the
    bot's transcript of that message decrypted)."""
    room = youth.counsel_room
    invited = {asyncio.ensure_future(c.expect_invite(room)): c for c in counsellors}
    started = await youth.client.send(room, FIRST_MESSAGE)
    done, pending = await asyncio.wait(invited, timeout=WAIT,
                                       return_when=asyncio.FIRST_COMPLETED)
    for future in pending:
        future.cancel()
    if not done:
        raise TimeoutError("no counsellor was invited")
    first = next(iter(done))
    counsellor = invited[first]
    transcript = counsellor.expect(
        lambda s: s.room_id == room and s.sender == bot and FIRST_MESSAGE in s.body)
    await counsellor.join(room)
    seen = await asyncio.wait_for(transcript, WAIT)
    return first.result() - started, seen.at - started


async def crisis_once(youth: Youth, staff: Participant, staff_room: str,
                      splits: list[Split] | None = None,
                      element: element_staff.Watch | None = None) -> float:
    room = youth.counsel_room

    await youth.client.share_room_key(room, members=IN_CONVERSATION)
    since = time.perf_counter()

    def alert(seen: Seen) -> bool:
        # Only an alert that came after this message: the model may have flagged the room
        # before, on the conversation's ordinary messages (see bench.concurrent).
        return (seen.room_id == staff_room and "⚠️" in seen.body and room in seen.body
                and seen.at >= since)

    alerted = staff.expect(alert)
    wall = time.time()
    other = None if element is None else element_staff.watch_alert(
        element.client, staff_room, element.bot, room, wall, WAIT)
    started = await youth.client.send(room, CRISIS_MESSAGE)
    seen = await asyncio.wait_for(alerted, WAIT)
    seen_wall = time.time() - (time.perf_counter() - seen.at)
    if splits is not None:
        splits.append(split(wall, seen, seen_wall))
    if element is not None and other is not None:
        element.nio.append(seen_wall - wall)
        element.element.append(await other)
    return seen.at - started


@dataclass
class Floor:
    """The bare alert bot, its staff room (the same counsellors) and its youths."""
    bot: env.ChildProcess
    staff_room: str
    youths: list[Youth]
    alerts: list[float] = dataclasses.field(default_factory=list)
    splits: list[Split] = dataclasses.field(default_factory=list)

    async def sample(self, index: int, staff: Sequence[Participant], join: bool,
                     timed: bool = True) -> None:
        """The youth's first message (a counsellor is invited and, with ``join``, joins),
        then crisis wording until the first counsellor has the bare bot's alert."""
        youth = self.youths[index]
        await route_once(youth, staff)
        if join:
            invited = next(c for c in staff if youth.counsel_room in c.invites)
            await invited.join(youth.counsel_room)
        await asyncio.sleep(0.2)
        took = await crisis_once(youth, staff[0], self.staff_room,
                                 self.splits if timed else None)
        if timed:
            self.alerts.append(took)


async def open_floor(hs: env.Homeserver, staff: Sequence[Participant], known: set[str],
                     plan: Plan, root: Path) -> Floor:
    """Start the bare alert bot once the counsellors are on duty, join its staff room and
    make a youth for each sequential sample; one more youth's sample (untimed) shares the
    staff room's key, as the counsel bot's duty answers did for its own."""
    bot = await env.provision_echo_bot(hs, invite=[c.user_id for c in staff], alert=True)
    await bot.start()
    first = staff[0]
    deadline = time.perf_counter() + WAIT
    while not (fresh := set(first.invites) - known):
        if time.perf_counter() > deadline:
            raise TimeoutError("the bare alert bot never invited the counsellors")
        await asyncio.sleep(0.05)
    room = fresh.pop()
    for client in staff:
        await asyncio.wait_for(client.expect_invite(room), WAIT)
        await client.join(room)
    youths = await cast.youths(hs, plan.sequential + 1, root / "floor", env.bot_user_of(bot),
                               None)
    floor = Floor(bot, room, youths)
    await floor.sample(plan.sequential, staff, plan.join, timed=False)
    return floor


async def warm_echo(youths: Sequence[Youth], echo_bot: str) -> None:
    """The echo bot's first answer in a room shares its room key: done before timing,
    as the counsel bot's greeting did it for its rooms."""
    await asyncio.gather(*(echo_once(y, echo_bot, "warm-up") for y in youths))


def processed_count(bot_data: Path, store_url: str | None = None) -> int:
    if store_url is not None:
        with psycopg.connect(store_url, autocommit=True) as pg:
            row = pg.execute("SELECT count(*) FROM processed_events").fetchone()
            return int(row[0]) if row else 0
    db = bot_data / "bot" / "counsel.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT count(*) FROM processed_events").fetchone()[0])


async def until_count(bot_data: Path, target: int, store_url: str | None = None) -> float:
    deadline = time.perf_counter() + 300
    while time.perf_counter() < deadline:
        if await asyncio.to_thread(processed_count, bot_data, store_url) >= target:
            return time.perf_counter()
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not handle every message within 300 s")


async def flood(youths: Sequence[Youth], count: int, echo: bool) -> None:
    async def one(youth: Youth, index: int) -> None:
        room = youth.echo_room if echo else youth.counsel_room
        assert room is not None
        for n in range(count):
            await youth.client.send(room, f"Nachricht {index}-{n}: wie geht es weiter?")

    await asyncio.gather(*(one(y, i) for i, y in enumerate(youths)))


async def throughput(
    youths: Sequence[Youth], count: int, echo_bot: str, bot_data: Path,
    store_url: str | None = None,
) -> tuple[float, float]:
    total = len(youths) * count
    rooms = {y.echo_room for y in youths}
    before = sum(1 for y in youths for s in y.client.messages
                 if s.room_id in rooms and s.sender == echo_bot)
    started = time.perf_counter()
    await flood(youths, count, echo=True)
    deadline = time.perf_counter() + 180
    echoed = 0
    while echoed < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
        echoed = sum(1 for y in youths for s in y.client.messages
                     if s.room_id in rooms and s.sender == echo_bot) - before
    # An echo that never came (the echo bot could not decrypt it) counts as not handled.
    echo_rate = echoed / (time.perf_counter() - started)
    target = await asyncio.to_thread(processed_count, bot_data, store_url) + total
    started = time.perf_counter()
    await flood(youths, count, echo=False)
    bot_rate = total / (await until_count(bot_data, target, store_url) - started)
    return echo_rate, bot_rate


async def start_profiler(pid: int, out: Path | None) -> asyncio.subprocess.Process | None:
    """py-spy on the bot process (CPU samples, collapsed stacks); None without ``out``."""
    if out is None:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
        "--output", str(out), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)


async def stop_profiler(spy: asyncio.subprocess.Process | None) -> None:
    if spy is not None and spy.returncode is None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        await asyncio.wait_for(spy.wait(), 60)


async def run(plan: Plan, root: Path, log: logging.Logger,
              profile: Path | None = None, store_url: str | None = None) -> Results:
    async with env.homeserver(root) as hs:
        staff_accounts = await hs.register_many("counsellor", plan.counsellors)
        bot = await env.provision_counsel_bot(
            hs, "counsel", [a.user_id for a in staff_accounts], CAPACITY, store_url,
            plan.model)
        echo = await env.provision_echo_bot(hs)
        await bot.start()
        await echo.start()
        bot_user, echo_user = env.bot_user_of(bot), env.bot_user_of(echo)
        people: list[Participant] = []
        element: element_staff.Watch | None = None
        floor: Floor | None = None
        try:
            staff, staff_room = await cast.on_duty(hs, staff_accounts, root, bot_user,
                                                   plan.own_process)
            people += staff
            if plan.element_staff:
                # Before any youth's room exists, so every youth shares its keys with it.
                element = element_staff.Watch(
                    await element_staff.open_device(hs.base_url, staff_accounts[0]), bot_user)
            rss_idle = env.rss_kib(bot.pid)[0]
            log.info("%d counsellors on duty; making %d youths", len(staff),
                     plan.sequential + plan.burst)
            made = await cast.youths(hs, plan.sequential + plan.burst, root, bot_user, echo_user,
                                     own_process=plan.sequential if plan.own_process else 0)
            people += [y.client for y in made]
            await warm_echo(made, echo_user)
            if plan.floor:
                floor = await open_floor(hs, staff, {staff_room}, plan, root)
                people += [y.client for y in floor.youths]
            sequential, burst = made[: plan.sequential], made[plan.sequential :]
            echo_s, route_s, handover_s, crisis_s = [], [], [], []
            log.info("sequential samples")
            echo_split: list[Split] = []
            crisis_split: list[Split] = []
            for n, youth in enumerate(sequential):
                echo_s.append(await echo_once(youth, echo_user, "ping-1", echo_split))
                if plan.join:
                    invited, handed = await handover_once(youth, staff, bot_user)
                    handover_s.append(handed)
                else:
                    invited = await route_once(youth, staff)
                route_s.append(invited)
                echo_s.append(await echo_once(youth, echo_user, "ping-2", echo_split))
                crisis_s.append(await crisis_once(youth, staff[0], staff_room, crisis_split,
                                                  element))
                await asyncio.sleep(0.2)  # let the bot finish staff notices: isolated samples
                if floor is not None:
                    await floor.sample(n, staff, plan.join)
                    await asyncio.sleep(0.2)
            spy = await start_profiler(bot.pid, profile)
            log.info("burst of %d", len(burst))
            echo_b = list(await asyncio.gather(*(echo_once(y, echo_user, "burst")
                                                 for y in burst)))
            await asyncio.sleep(1)
            route_b = list(await asyncio.gather(*(route_once(y, staff) for y in burst)))
            rss_loaded = env.rss_kib(bot.pid)[0]
            log.info("throughput")
            echo_rate, bot_rate = await throughput(
                sequential, plan.messages_per_youth, echo_user, env.bot_data_of(bot), store_url)
            await stop_profiler(spy)
            bot.check_alive()
            return Results(echo_s, route_s, handover_s, crisis_s, echo_b, route_b, echo_rate,
                           bot_rate, len(sequential) * plan.messages_per_youth, rss_idle,
                           rss_loaded, len(made), echo_split, crisis_split,
                           element.nio if element else [], element.element if element else [],
                           floor.alerts if floor else [], floor.splits if floor else [])
        finally:
            if element is not None:
                await element.client.stop()
            await cast.close_all(people)
            await bot.stop()
            await echo.stop()
            if floor is not None:
                await floor.bot.stop()


def report(plan: Plan, r: Results) -> str:
    echo = Summary.of(r.echo)
    routing, crisis = Summary.of(r.routing), Summary.of(r.crisis)
    handover = Summary.of(r.handover)
    echo_b, routing_b = Summary.of(r.echo_burst), Summary.of(r.routing_burst)
    out = [
        f"Crisis model in the bot: {'loaded' if plan.model else 'off (rules alone)'}.",
        "",
        f"Latency, sequential youths ({plan.sequential}; one at a time, interleaved with echo):",
        "",
        latency_table([("echo round trip (baseline)", echo),
                       ("first message -> counsellor invited (one way)", routing),
                       ("first message -> counsellor joined, has it decrypted", handover),
                       ("crisis message -> staff alert", crisis)], echo),
        "",
        f"Burst: {plan.burst} youths send at the same moment (each timed on its own):",
        "",
        latency_table([("echo round trip (baseline)", echo_b),
                       ("first message -> counsellor invited", routing_b)], echo_b),
        "",
        f"Throughput ({r.offered} messages from {plan.sequential} youths at once):",
        "",
        markdown(["bot", "what one message costs it", "msgs/s"],
                 [["echo bot", "decrypt, encrypt, send (counted when echoed)",
                   f"{r.echo_rate:,.1f}"],
                  ["counsel bot", "decrypt, crisis check, fsync'd commit; no send",
                   f"{r.bot_rate:,.1f}"]]),
        "Different work: no ratio is drawn between these two rows.",
        "",
        "Where the time went (p50 ms, sequential): youth's send until the answer was on the "
        "server (the bot's part, with the send) / from there until the receiving client had "
        "it decrypted (delivery):",
        f"- echo: {_half(r.echo_split, 0)} / {_half(r.echo_split, 1)}",
        f"- crisis alert: {_half(r.crisis_split, 0)} / {_half(r.crisis_split, 1)}",
        "",
        f"Bot RSS: {r.rss_idle_kib / 1024:.0f} MiB with counsellors on duty, "
        f"{r.rss_loaded_kib / 1024:.0f} MiB after {r.rooms} youth rooms "
        f"(~{(r.rss_loaded_kib - r.rss_idle_kib) / max(r.rooms, 1):.0f} KiB per room).",
        "",
        "Goals:",
        f"- routing p50 <= 1.15x echo p50 (sequential): {ratio(routing.p50, echo.p50)} "
        f"-> {verdict(routing.p50 <= 1.15 * echo.p50)}",
        f"- handover (message -> counsellor has it) p50 vs echo round trip: "
        f"{ratio(handover.p50, echo.p50)} (no goal set; the comparable full path)",
        f"- routing p99 < 1 s with {plan.burst} youths sending at the same moment: "
        f"{routing_b.p99:.2f} s -> {verdict(routing_b.p99 < 1.0)}",
        f"- crisis alert <= 1.3x echo (p50): {ratio(crisis.p50, echo.p50)} "
        f"-> {verdict(crisis.p50 <= 1.3 * echo.p50)}",
    ]
    if r.crisis_element:
        out += ["", *_element_report(r, echo)]
    if r.floor:
        out += ["", *_floor_report(r, echo)]
    return "\n".join(out)


def _element_report(r: Results, echo: Summary) -> list[str]:
    nio, element = Summary.of(r.crisis_nio), Summary.of(r.crisis_element)
    faster = sum(e < n for e, n in zip(r.crisis_element, r.crisis_nio, strict=True))
    return [
        "The same alerts on the first counsellor's two devices (from the youth's send, wall "
        "clock):",
        "",
        latency_table([("echo round trip (baseline)", echo),
                       ("crisis alert, nio device", nio),
                       ("crisis alert, Element-stack device (Rust crypto)", element)], echo),
        "",
        f"The Element-stack device had the alert first in {faster} of {len(r.crisis_element)}.",
        f"- crisis alert on the Element-stack device <= 1.3x echo (p50): "
        f"{ratio(element.p50, echo.p50)} -> {verdict(element.p50 <= 1.3 * echo.p50)}",
    ]


def _floor_report(r: Results, echo: Summary) -> list[str]:
    crisis, floor = Summary.of(r.crisis), Summary.of(r.floor)
    return [
        "The floor: a bare bot that decrypts and sends a fixed alert to its own staff room of "
        "the same counsellors (bench.echo_bot --alert), sampled after each crisis sample:",
        "",
        latency_table([("echo round trip (baseline)", echo),
                       ("crisis message -> staff alert", crisis),
                       ("crisis message -> staff alert, bare alert bot (the floor)", floor)],
                      echo),
        "",
        f"- split bare alert bot: {_half(r.floor_split, 0)} / {_half(r.floor_split, 1)}",
        f"- crisis alert against the floor (p50): {ratio(crisis.p50, floor.p50)}; the floor "
        f"against the echo: {ratio(floor.p50, echo.p50)}",
    ]


def _half(splits: Sequence[Split], index: int) -> str:
    return f"{statistics.median(x[index] for x in splits) * 1000:.0f}" if splits else "-"


def quiet_libraries() -> None:
    logging.basicConfig(level=logging.INFO, format="[bench] %(message)s")
    for noisy in ("nio", "peewee", "aiohttp", "homeserver_bridge"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="py-spy the bot during burst and throughput (collapsed stacks)")
    parser.add_argument("--postgres", action="store_true",
                        help="the bot's store in a throwaway PostgreSQL cluster (issue 18)")
    parser.add_argument("--burst", type=int, default=None, metavar="N",
                        help="youths in the burst (default 100; 10 with --quick)")
    parser.add_argument("--no-model", action="store_true",
                        help="the bot without its crisis model (rules alone): a control run")
    parser.add_argument("--no-join", action="store_true",
                        help="counsellors do not join the youths' rooms (no handover sample): "
                             "a control run")
    parser.add_argument("--own-process", action="store_true",
                        help="each counsellor and each sequential youth in a process of its own")
    parser.add_argument("--element-staff", action="store_true",
                        help="time each crisis alert also on an Element-stack device "
                             "(matrix-js-sdk + Rust crypto) of the first counsellor")
    parser.add_argument("--floor", action="store_true",
                        help="sample the floor too: a bare bot's alert to its own staff room")
    args = parser.parse_args(argv)
    quiet_libraries()
    env.interrupt_on_sigterm()
    plan = QUICK if args.quick else FULL
    if args.burst is not None:
        plan = dataclasses.replace(plan, burst=args.burst)
    if args.no_model:
        plan = dataclasses.replace(plan, model=False)
    if args.no_join:
        plan = dataclasses.replace(plan, join=False)
    if args.own_process:
        plan = dataclasses.replace(plan, own_process=True)
    if args.element_staff:
        plan = dataclasses.replace(plan, element_staff=True)
    if args.floor:
        plan = dataclasses.replace(plan, floor=True)
    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp, \
            contextlib.ExitStack() as stack:
        store_url = None
        if args.postgres:
            # A throwaway cluster of Debian's PostgreSQL, as the tests start it.
            from tests.support.postgres import running_postgres
            store_url = stack.enter_context(running_postgres(env.free_port())).new_database()
        started = time.perf_counter()
        results = asyncio.run(run(plan, Path(tmp), logging.getLogger("bench"), args.profile,
                                  store_url))
    store = "PostgreSQL store" if args.postgres else "SQLite store"
    print(f"## Latency and throughput ({os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, {time.perf_counter() - started:.0f} s, {store})\n")
    print(report(plan, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
