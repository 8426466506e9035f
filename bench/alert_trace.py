"""Where a crisis alert's delivery time goes in the benchmark's own process (a diagnostic).

``python -m bench.alert_trace [--quick] [--no-join]`` runs ``bench.latency`` as it is, with
every bench client's sync cycle traced: when its sync request went out, when the HTTP
response came back (headers), when nio began and ended handling it (parse, decrypt, the
callbacks), and a 1 ms timer shows when the loop was busy. For each crisis sample it prints,
for the measured staff client, when the sync that brought the alert came back and when the
callback saw it, how long every other client handled its own syncs in between on the same
event loop, and how many other clients' sync responses came back before it; the same for
the echo samples. Times are perf_counter, relative to the answer's ``origin_server_ts``.
It also gives the CPU time each process (Synapse, the bots, the benchmark's clients) spent
while a sample ran. ``--own-process`` as in bench.latency. Findings: bench/RESULTS.md, "Is
the alert's delivery the benchmark's own event loop?".
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import math
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nio import SyncResponse

from bench import element_staff, env, latency
from bench.cast import Youth
from bench.client import BenchClient, Participant, Seen

# (perf_counter, client user id, phase); phases: poll (sync sent), http (response headers),
# begin / end (nio's handling of the parsed response: decryption and callbacks).
Event = tuple[float, str, str]


@dataclasses.dataclass
class Tracer:
    events: list[Event] = dataclasses.field(default_factory=list)
    # (from, to) perf_counter: a 1 ms timer woke more than 1 ms late, the loop was busy.
    stalls: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    # (sample kind, CPU seconds by process role while the sample ran)
    cpu: list[tuple[str, dict[str, float]]] = dataclasses.field(default_factory=list)

    async def watch_loop(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            after = time.perf_counter()
            if after - before > 0.002:
                self.stalls.append((before + 0.001, after))

    def stalled(self, start: float, end: float) -> float:
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.stalls)

    def install(self) -> None:
        tracer = self
        original = BenchClient.__init__

        def init(self: BenchClient, client: Any) -> None:
            original(self, client)
            user = str(client.user_id)
            send, receive, sync = client.send, client.receive_response, client.sync

            async def traced_send(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
                answer = await send(method, path, *args, **kwargs)
                if "/sync" in path:
                    tracer.events.append((time.perf_counter(), user, "http"))
                return answer

            async def traced_receive(response: Any) -> None:
                if not isinstance(response, SyncResponse):
                    await receive(response)
                    return
                tracer.events.append((time.perf_counter(), user, "begin"))
                try:
                    await receive(response)
                finally:
                    tracer.events.append((time.perf_counter(), user, "end"))

            async def traced_sync(*args: Any, **kwargs: Any) -> Any:
                tracer.events.append((time.perf_counter(), user, "poll"))
                return await sync(*args, **kwargs)

            client.send = traced_send
            client.receive_response = traced_receive
            client.sync = traced_sync

        BenchClient.__init__ = init  # type: ignore[method-assign]

    def window(self, start: float, end: float) -> list[Event]:
        return [e for e in self.events if start <= e[0] <= end]


@dataclasses.dataclass
class Sample:
    kind: str
    on_server: float  # perf_counter of the answer's origin_server_ts
    seen: float  # perf_counter the receiving client's callback had it
    poll: float  # the receiving client's sync that brought it: sent
    http: float  # ... its response headers back
    begin: float  # ... nio began handling it
    others_busy: float  # seconds other clients spent handling syncs in (on_server, seen)
    others: int  # how many other clients handled a sync in that window
    own_before: float  # the receiving client's own handling of earlier syncs in the window
    stalled: float  # seconds the loop was busy (1 ms timer late) from on_server until http
    # other clients whose first sync response after on_server came back before the
    # receiver's / after it (within 0.5 s): the receiver's place in the fan-out
    ahead: int = 0
    behind: int = 0


def analyse(tracer: Tracer, kind: str, receiver: str, seen: Seen, seen_wall_offset: float,
            ) -> Sample:
    on_server = seen.server_ms / 1000 - seen_wall_offset
    mine = [e for e in tracer.events if e[1] == receiver and e[0] <= seen.at]
    begin = max((e[0] for e in mine if e[2] == "begin"), default=float("nan"))
    http = max((e[0] for e in mine if e[2] == "http" and e[0] <= begin), default=float("nan"))
    busy = 0.0
    own_before = 0.0
    users: set[str] = set()
    started: dict[str, float] = {}
    for t, user, phase in tracer.events:
        if phase == "begin":
            started[user] = t
        elif phase == "end" and user in started:
            a, b = max(started.pop(user), on_server), min(t, seen.at)
            if b <= a:
                continue
            if user == receiver:
                own_before += b - a
            else:
                busy += b - a
                users.add(user)
    first: dict[str, float] = {}
    for t, user, phase in tracer.events:
        if phase == "http" and on_server <= t <= on_server + 0.5 and user != receiver:
            first.setdefault(user, t)
    ahead = sum(1 for t in first.values() if t < http)
    return Sample(kind, on_server, seen.at, seen.polled, http, begin, busy, len(users),
                  own_before, tracer.stalled(on_server, seen.at if math.isnan(http) else http),
                  ahead, len(first) - ahead)


ROLES = (("synapse", "synapse"), ("counsel_bot.cli", "counsel bot"),
         ("bench.echo_bot", "echo bot"), ("bench.remote", "own-process clients"))


def cpu_by_role() -> dict[str, float]:
    """CPU seconds so far of this process and its children, by role (every thread's
    /proc schedstat run time: nanoseconds, unlike the 10 ms ticks of /proc stat)."""
    me = os.getpid()
    found: dict[str, float] = {"bench process": _run_time(me)}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != me:
                continue
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        role = next((name for key, name in ROLES if key in cmdline), "other")
        found[role] = found.get(role, 0.0) + _run_time(int(proc.name))
    return found


def _run_time(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


# (kind, receiving client, what it saw, wall clock minus perf_counter): analysed after the run,
# when every client's later syncs are in the trace too.
Raw = tuple[str, str, Seen, float]


def install_samplers(tracer: Tracer, samples: list[Raw]) -> None:
    echo_once, crisis_once = latency.echo_once, latency.crisis_once

    async def traced_echo(youth: Youth, echo_bot: str, body: str,
                          splits: list[latency.Split] | None = None) -> float:
        before = cpu_by_role() if splits is not None else {}
        took = await echo_once(youth, echo_bot, body, splits)
        if splits is not None:
            tracer.cpu.append(("echo", cpu_delta(before, cpu_by_role())))
            seen = next(s for s in reversed(youth.client.messages)
                        if s.sender == echo_bot and s.body == body)
            samples.append(("echo", youth.client.user_id, seen,
                            time.time() - time.perf_counter()))
        return took

    async def traced_crisis(youth: Youth, staff: Participant, staff_room: str,
                            splits: list[latency.Split] | None = None,
                            element: element_staff.Watch | None = None) -> float:
        before = cpu_by_role()
        took = await crisis_once(youth, staff, staff_room, splits, element)
        tracer.cpu.append(("crisis", cpu_delta(before, cpu_by_role())))
        seen = next(s for s in reversed(staff.messages)
                    if s.room_id == staff_room and "⚠️" in s.body)
        samples.append(("crisis", staff.user_id, seen, time.time() - time.perf_counter()))
        return took

    latency.echo_once = traced_echo
    latency.crisis_once = traced_crisis


def summary(samples: Sequence[Sample]) -> str:
    def p50(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:6.0f}" if values else "     -"

    lines = ["| sample | n | poll sent (vs on server) | http back | nio begins | callback "
             "| others' sync handling in window | other clients | own earlier syncs "
             "| loop busy before http |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in ("echo", "crisis"):
        mine = [s for s in samples if s.kind == kind]
        lines.append(
            f"| {kind} | {len(mine)} | {p50([s.poll - s.on_server for s in mine])} "
            f"| {p50([s.http - s.on_server for s in mine])} "
            f"| {p50([s.begin - s.on_server for s in mine])} "
            f"| {p50([s.seen - s.on_server for s in mine])} "
            f"| {p50([s.others_busy for s in mine])} "
            f"| {statistics.median([s.others for s in mine]) if mine else 0} "
            f"| {p50([s.own_before for s in mine])} "
            f"| {p50([s.stalled for s in mine if not math.isnan(s.stalled)])} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-join", action="store_true")
    parser.add_argument("--own-process", action="store_true",
                        help="each counsellor and sequential youth in its own process")
    parser.add_argument("--verbose", action="store_true", help="every crisis sample")
    args = parser.parse_args(argv)
    latency.quiet_libraries()
    env.interrupt_on_sigterm()
    plan = latency.QUICK if args.quick else latency.FULL
    plan = dataclasses.replace(plan, join=not args.no_join, own_process=args.own_process)
    tracer = Tracer()
    tracer.install()
    raw: list[Raw] = []
    install_samplers(tracer, raw)

    async def traced(root: Path) -> latency.Results:
        watcher = asyncio.create_task(tracer.watch_loop())
        try:
            return await latency.run(plan, root, logging.getLogger("bench"))
        finally:
            watcher.cancel()

    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp:
        results = asyncio.run(traced(Path(tmp)))
    print(latency.report(plan, results))
    samples = [analyse(tracer, *r) for r in raw]
    print()
    print("p50 ms after the answer was on the server (origin_server_ts):")
    print(summary(samples))
    print()
    print("CPU ms per sample (mean; from the youth's send until the client had the answer, "
          "the sample's own bookkeeping included):")
    roles = sorted({r for _, d in tracer.cpu for r in d})
    print("| sample | n | " + " | ".join(roles) + " |")
    print("|---|---:|" + "---:|" * len(roles))
    for kind in ("echo", "crisis"):
        rows = [d for k, d in tracer.cpu if k == kind]
        if rows:
            print(f"| {kind} | {len(rows)} | " + " | ".join(
                f"{1000 * statistics.mean(d.get(r, 0.0) for d in rows):.1f}" for r in roles)
                + " |")
    if args.verbose:
        for s in samples:
            print(f"{s.kind:6} poll {1000 * (s.poll - s.on_server):7.1f} "
                  f"http {1000 * (s.http - s.on_server):7.1f} "
                  f"begin {1000 * (s.begin - s.on_server):7.1f} "
                  f"seen {1000 * (s.seen - s.on_server):7.1f} "
                  f"others {1000 * s.others_busy:6.1f} ({s.others}) "
                  f"own {1000 * s.own_before:5.1f} busy {1000 * s.stalled:5.1f} "
                  f"syncs back before/after {s.ahead}/{s.behind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
