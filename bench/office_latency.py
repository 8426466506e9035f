"""First message -> counsellor invited with 20 offices and 200 counsellors, end to end.

``python -m bench.office_latency [--quick] [--profile FILE]``. One embedded Synapse, three bots
in their own processes: the counsel bot configured as one office (no ``[[offices]]``, as
bench.latency runs it), the counsel bot configured with 20 offices and 200 counsellors, and
the bare E2E echo bot (the baseline). Samples are interleaved per round: echo, one office,
echo, 20 offices, so load from anything else on the machine hits all of them alike.

The 20-office bot is set up through the product's own path: it makes each office's staff
room and invites that office's 10 counsellors (and all 200 to its main staff room); each
counsellor is a real E2E nio client that joins its office's staff room and says ``!duty on``
there; an office counts as staffed when the bot's own /metrics counts all its counsellors on
duty. 200 syncing E2E clients do not fit beside Synapse and three bots on 2 cores, so then
the clients of all but ``watched`` offices stop syncing (closed; their devices stay, and
they stay on duty in the bot, which does not know or care whether a client syncs). The
timed youths write to the watched offices only, so the counsellor invited is always one
whose client still syncs.

The floor: a bare invite bot (bench.echo_bot --invite) that invites one counsellor on a
room's first text, with nothing between (no routing, no store, no crisis check), timed the
same way in the same rounds. It shows how near to the echo any bot whose answer is an
invitation can come on this homeserver and machine.

A youth's first message names a topic and a postcode ("Stress mit meinen Eltern, 12073"):
every office counsels family topics and serves its own postcode area, so only the postcode
singles the office out, through the product's matcher (checked before the run). The
one-office bot gets the same text.
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

from bench import cast, env
from bench.cast import Youth
from bench.client import BenchClient, Participant
from bench.latency import (
    CAPACITY,
    echo_once,
    quiet_libraries,
    route_once,
    start_profiler,
    stop_profiler,
    warm_echo,
)
from bench.stats import markdown, ms, percentile, ratio
from counsel_bot.config import load_settings, settings_from_mapping
from counsel_bot.core.offices import MatchKind, match_office
from counsel_bot.stats import fetch_stats

# Besides family (every office has it): each office's second topic, so offices differ.
SECOND_TOPIC = ("school", "addiction", "violence", "sexuality", "lgbtq", "migration")
GOAL = 1.15
# After each routing sample: the bots finish their other sends, so samples are isolated.
ISOLATE = 0.2


@dataclass(frozen=True)
class Plan:
    samples: int  # rounds: echo, one office, echo, 20 offices
    offices: int
    per_office: int
    watched: int  # offices whose counsellors keep syncing (the timed youths write to these)
    one_office_counsellors: int


FULL = Plan(samples=30, offices=20, per_office=10, watched=2, one_office_counsellors=10)
QUICK = Plan(samples=4, offices=4, per_office=2, watched=2, one_office_counsellors=2)


def office_id(index: int) -> str:
    return f"o{index:02d}"


def office_name(index: int) -> str:
    return f"Bench office {index:02d}"


def postcode(index: int) -> str:
    return f"{10 + index}073"  # office i serves the prefix 10+i, i.e. (10+i)000-(10+i)999


def first_message(index: int) -> str:
    return f"Stress mit meinen Eltern, {postcode(index)}"


def offices_toml(staff: Sequence[Sequence[str]]) -> str:
    """``[routing]`` and one ``[[offices]]`` per list of counsellor ids (no staff_room: the
    bot makes each office's room, as an installation without configured rooms does)."""
    lines = ["[routing]", f'fallback_office = "{office_id(0)}"']
    for index, counsellors in enumerate(staff):
        quoted = ", ".join(f'"{c}"' for c in counsellors)
        lines += [
            "[[offices]]",
            f'id = "{office_id(index)}"',
            f'name = "{office_name(index)}"',
            f'topics = ["family", "{SECOND_TOPIC[index % len(SECOND_TOPIC)]}"]',
            f'postcodes = ["{10 + index}"]',
            f"counsellors = [{quoted}]",
        ]
    return "\n".join(lines)


def check_matching(staff: Sequence[Sequence[str]]) -> None:
    """The first messages reach their office through the product's matcher, directly (no
    question back): otherwise the bench would time something else than it says."""
    import tomllib

    settings = settings_from_mapping(tomllib.loads(offices_toml(staff)))
    offices = tuple(o.office() for o in settings.offices)
    for index in range(len(staff)):
        found = match_office(first_message(index), offices, office_id(0), asked=False)
        if found.kind is not MatchKind.MATCHED or found.office != office_id(index):
            raise RuntimeError(f"the first message for office {index} matched {found}")


async def office_room(client: BenchClient, index: int) -> str:
    """The room id of the invitation to office ``index``'s staff room (named for it)."""
    deadline = time.perf_counter() + cast.SETUP_TIMEOUT
    while time.perf_counter() < deadline:
        for room_id, room in client.client.invited_rooms.items():
            if (room.name or "").endswith(office_name(index)):
                return str(room_id)
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no invitation to the staff room of office {index}")


async def offices_on_duty(
    hs: env.Homeserver, staff: Sequence[Sequence[env.Account]], root: Path, bot: str,
    metrics: str, watched: int, parallel: int = 5,
) -> list[list[BenchClient]]:
    """Every counsellor joins their office's staff room and says ``!duty on`` there. An
    office is done when the bot's own /metrics counts all its counsellors on duty (the bot
    decrypted each command and committed it); then the clients of all but the first
    ``watched`` offices are closed. Offices are set up side by side, each office's
    counsellors one after the other: nio drops a room's key on every join, and a colleague
    joining while a command is encrypted could leave the bot without that command's key."""
    gate = asyncio.Semaphore(parallel)
    log = logging.getLogger("bench")

    async def office(index: int, accounts: Sequence[env.Account]) -> list[BenchClient]:
        async with gate:
            clients = []
            for number, account in enumerate(accounts):
                client = await BenchClient.create(hs.base_url, account,
                                                  root / f"staff-{index}-{number}")
                room = await office_room(client, index)
                await client.join(room)
                await client.prepare_room(room, bot)
                await client.send(room, "!duty on")
                clients.append((client, room))
            await until_on_duty(metrics, index, len(accounts), clients)
            log.info("office %d: %d on duty", index, len(accounts))
            if index < watched:
                return [c for c, _ in clients]
            await cast.close_all([c for c, _ in clients])
            return []

    made = await asyncio.gather(*(office(i, a) for i, a in enumerate(staff)))
    return made[:watched]


async def until_on_duty(metrics: str, index: int, want: int,
                        clients: Sequence[tuple[BenchClient, str]]) -> None:
    """Wait until the bot counts ``want`` on duty in office ``index``. A command the bot
    still cannot decrypt after a while (its key got lost in one of nio's races on the
    client's side) is sent again with a fresh room key: once, before giving up."""
    deadline = time.perf_counter() + cast.SETUP_TIMEOUT
    resend = time.perf_counter() + 20
    while True:
        stats = await fetch_stats(metrics)
        figures = stats.offices.get(office_id(index))
        if figures is not None and int(figures.on_duty) >= want:
            return
        now = time.perf_counter()
        if now > deadline:
            raise TimeoutError(f"office {index}: {figures} on duty, {want} wanted")
        if now > resend:
            resend = deadline
            for client, room in clients:
                if client.client.olm is not None:
                    client.client.olm.outbound_group_sessions.pop(room, None)
                await client.send(room, "!duty on")
        await asyncio.sleep(1)


def metrics_url(bot: env.ChildProcess) -> str:
    settings = load_settings(env.bot_data_of(bot) / "counsel.toml")
    return f"http://{settings.web.bind_address}:{settings.web.port}/metrics"


# Where a routing sample's time went, in seconds, at the homeserver's timestamps: the youth's
# send until their message was on the server; from there until the bot's invitation was
# (the bot's part: its sync, decryption, routing, commit, the invite call); from there until
# the counsellor's client had the invitation (delivery).
Split = tuple[float, float, float]


async def route_timed(youth: Youth, counsellors: Sequence[Participant], body: str,
                      splits: list[Split], polls: list[float]) -> float:
    """bench.latency's route_once, and afterwards (untimed) where its time went."""
    room = youth.counsel_room
    wall, perf = time.time(), time.perf_counter()
    took = await route_once(youth, counsellors, body)
    first = min((c for c in counsellors if room in c.invites), key=lambda c: c.invites[room])
    seen, polled = first.invites[room], first.invites_polled[room]
    staff = {c.user_id for c in counsellors}
    me = youth.client.user_id
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        mine = [s.server_ms for s in youth.client.messages
                if s.room_id == room and s.sender == me and s.body == body]
        invited = [ms for (r, user), ms in youth.client.invited_on_server.items()
                   if r == room and user in staff]
        if mine and invited:
            sent_ms, invite_ms = mine[0] / 1000, min(invited) / 1000
            splits.append((sent_ms - wall, invite_ms - sent_ms,
                           wall + (seen - perf) - invite_ms))
            polls.append(wall + (polled - perf) - invite_ms)
            break
        await asyncio.sleep(0.02)
    return took


async def echo_timed(youth: Youth, echo_bot: str, body: str,
                     splits: list[tuple[float, float]], polls: list[float]) -> float:
    """bench.latency's echo_once, and afterwards (untimed) when the youth's client sent
    the sync request that brought the echo, against the echo's server timestamp."""
    took = await echo_once(youth, echo_bot, body, splits)
    room = youth.echo_room
    seen = [s for s in youth.client.messages
            if s.room_id == room and s.sender == echo_bot and s.body == body][-1]
    polls.append(time.time() - (time.perf_counter() - seen.polled) - seen.server_ms / 1000)
    return took


@dataclass
class Results:
    echo: list[float]
    one_office: list[float]
    offices: list[float]
    floor: list[float]  # the bare invite bot
    rss_kib: int  # the 20-office bot's, after the samples
    echo_split: list[tuple[float, float]]
    one_split: list[Split]
    offices_split: list[Split]
    # Per sample: when the receiving client sent the sync that brought the echo or the
    # invitation, less when that was on the server (> 0: the client was not long-polling).
    echo_polls: list[float]
    offices_polls: list[float]
    floor_split: list[Split]


async def run(plan: Plan, root: Path, log: logging.Logger, profile: Path | None) -> Results:
    async with env.homeserver(root) as hs:
        log.info("registering %d + %d counsellors", plan.offices * plan.per_office,
                 plan.one_office_counsellors)
        many = await hs.register_many("oc", plan.offices * plan.per_office)
        staff = [many[i * plan.per_office:(i + 1) * plan.per_office]
                 for i in range(plan.offices)]
        ids = [[a.user_id for a in accounts] for accounts in staff]
        check_matching(ids)
        single = await hs.register_many("counsellor", plan.one_office_counsellors)
        one = await env.provision_counsel_bot(hs, "one-office", [a.user_id for a in single],
                                              CAPACITY)
        twenty = await env.provision_counsel_bot(hs, "offices", [], CAPACITY,
                                                 extra=offices_toml(ids))
        echo = await env.provision_echo_bot(hs)
        floor_account = (await hs.register_many("floor", 1))[0]
        inviter = await env.provision_echo_bot(hs, invite=[floor_account.user_id])
        bots = (one, twenty, echo, inviter)
        for child in bots:
            await child.start()
        one_user, twenty_user = env.bot_user_of(one), env.bot_user_of(twenty)
        echo_user, inviter_user = env.bot_user_of(echo), env.bot_user_of(inviter)
        people: list[Participant] = []
        try:
            floor_staff = await BenchClient.create(hs.base_url, floor_account, root / "floor")
            people.append(floor_staff)
            one_staff, _ = await cast.on_duty(hs, single, root / "one", one_user)
            people += one_staff
            log.info("one office: %d on duty; %d offices: bringing %d on duty", len(one_staff),
                     plan.offices, len(many))
            started = time.perf_counter()
            watched = await offices_on_duty(hs, staff, root / "offices", twenty_user,
                                            metrics_url(twenty), plan.watched)
            people += [c for office in watched for c in office]
            log.info("all on duty in %.0f s; making 2 x %d youths",
                     time.perf_counter() - started, plan.samples)
            youths_one = await cast.youths(hs, plan.samples, root / "one", one_user, echo_user)
            youths_many = await cast.youths(hs, plan.samples, root / "offices", twenty_user,
                                            echo_user)
            youths_floor = await cast.youths(hs, plan.samples, root / "floor", inviter_user,
                                             None)
            people += [y.client for y in (*youths_one, *youths_many, *youths_floor)]
            await warm_echo([*youths_one, *youths_many], echo_user)
            spy = await start_profiler(twenty.pid, profile)
            echo_s: list[float] = []
            one_s: list[float] = []
            many_s: list[float] = []
            echo_split: list[tuple[float, float]] = []
            one_split: list[Split] = []
            many_split: list[Split] = []
            echo_polls: list[float] = []
            many_polls: list[float] = []
            one_polls: list[float] = []
            floor_s: list[float] = []
            floor_split: list[Split] = []
            floor_polls: list[float] = []
            log.info("samples")
            for n in range(plan.samples):
                office = n % plan.watched
                body = first_message(office)
                echo_s.append(await echo_timed(youths_one[n], echo_user, "ping-1", echo_split,
                                               echo_polls))
                one_s.append(await route_timed(youths_one[n], one_staff, body, one_split,
                                               one_polls))
                # Also here, not only after the round: the one-office bot's sends after an
                # invitation (the youth's notice, the staff digest) would otherwise fall into
                # the next echo sample and slow the baseline.
                await asyncio.sleep(ISOLATE)
                echo_s.append(await echo_timed(youths_many[n], echo_user, "ping-2", echo_split,
                                               echo_polls))
                many_s.append(await route_timed(youths_many[n], watched[office], body,
                                                many_split, many_polls))
                await asyncio.sleep(ISOLATE)  # the bots finish their other sends
                floor_s.append(await route_timed(youths_floor[n], [floor_staff], body,
                                                 floor_split, floor_polls))
                await asyncio.sleep(ISOLATE)
            await stop_profiler(spy)
            for child in bots:
                child.check_alive()
            return Results(echo_s, one_s, many_s, floor_s, env.rss_kib(twenty.pid)[0],
                           echo_split, one_split, many_split, echo_polls, many_polls,
                           floor_split)
        finally:
            await cast.close_all(people)
            for child in bots:
                await child.stop()


def _row(name: str, samples: Sequence[float], echo: Sequence[float]) -> list[str]:
    p50, p90 = percentile(samples, 50), percentile(samples, 90)
    return [name, str(len(samples)), ms(p50), ms(p90), ratio(p50, percentile(echo, 50)),
            ratio(p90, percentile(echo, 90))]


def _parts(splits: Sequence[Sequence[float]]) -> str:
    if not splits:
        return "-"
    return " / ".join(ms(percentile([s[i] for s in splits], 50))
                      for i in range(len(splits[0])))


def _late(polls: Sequence[float]) -> str:
    late = [p for p in polls if p > 0]
    if not late:
        return f"0 of {len(polls)}"
    return f"{len(late)} of {len(polls)} (by {ms(percentile(late, 50))} ms at p50)"


def report(plan: Plan, r: Results) -> str:
    echo50 = percentile(r.echo, 50)
    many50 = percentile(r.offices, 50)
    met = many50 <= GOAL * echo50
    counsellors = plan.offices * plan.per_office
    return "\n".join([
        markdown(["measurement", "n", "p50 ms", "p90 ms", "p50 vs echo", "p90 vs echo"], [
            _row("echo round trip (baseline)", r.echo, r.echo),
            _row(f"first message -> invited, one office ({plan.one_office_counsellors} "
                 "counsellors)", r.one_office, r.echo),
            _row(f"first message -> invited, {plan.offices} offices ({counsellors} "
                 "counsellors)", r.offices, r.echo),
            _row("first message -> invited, bare invite bot (the floor: decrypt, invite)",
                 r.floor, r.echo),
        ]),
        "",
        "Where the time went (p50 ms, at the homeserver's timestamps): youth's send until "
        "the message was on the server / until the invitation was (the bot's part) / until "
        "the counsellor's client had it (delivery); echo: until the echo was on the server "
        "(its send included) / delivery:",
        f"- one office: {_parts(r.one_split)}",
        f"- {plan.offices} offices: {_parts(r.offices_split)}",
        f"- bare invite bot: {_parts(r.floor_split)}",
        f"- echo: {_parts(r.echo_split)}",
        "",
        "The receiving client's sync that brought it was sent after it was on the server "
        "(the client was not waiting in a long poll): "
        f"{_late(r.offices_polls)} of the {plan.offices}-office invitations, "
        f"{_late(r.echo_polls)} of the echoes.",
        "",
        f"{plan.offices}-office bot RSS after the samples: {r.rss_kib / 1024:.0f} MiB.",
        "",
        f"Goal: {plan.offices} offices, first message -> invited p50 <= {GOAL}x echo p50: "
        f"{ratio(many50, echo50)} -> {'met' if met else 'not met'}; the floor "
        f"{ratio(percentile(r.floor, 50), echo50)}, the {plan.offices}-office bot "
        f"{ratio(many50, percentile(r.floor, 50))} of the floor.",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run (4 offices)")
    parser.add_argument("--samples", type=int, default=None, metavar="N",
                        help="rounds of samples (default 30; 4 with --quick)")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="py-spy the 20-office bot during the samples (collapsed stacks)")
    args = parser.parse_args(argv)
    quiet_libraries()
    env.interrupt_on_sigterm()
    plan = QUICK if args.quick else FULL
    if args.samples is not None:
        plan = Plan(args.samples, plan.offices, plan.per_office, plan.watched,
                    plan.one_office_counsellors)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp:
        started = time.perf_counter()
        results = asyncio.run(run(plan, Path(tmp), logging.getLogger("bench"), args.profile))
    print(f"## First message -> invited with offices ({os.cpu_count()} cores, load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after, "
          f"{time.perf_counter() - started:.0f} s)\n")
    print(report(plan, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
