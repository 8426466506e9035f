"""The router's own cost with offices: 20 offices, 200 counsellors on duty, ~300 open.

``python -m bench.office_routing [--quick]``. No homeserver: it times `Router.handle` for a
youth's first message (open, assign) with and without offices, the part of "first message ->
counsellor invited" that offices change. The end-to-end figure is bench.latency's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    ConversationOpened,
    CounsellorOnDuty,
    Role,
    Router,
    RouterConfig,
    StaffAdded,
    YouthEnded,
)
from counsel_bot.core.routing.offices import OfficeRules

T0 = datetime(2026, 3, 2, tzinfo=UTC)
OFFICES = 20
COUNSELLORS = 200
OPEN = 300


def build(with_offices: bool) -> Router:
    ids = tuple(f"o{i}" for i in range(OFFICES))
    users = [UserID(f"@c{i}:bench") for i in range(COUNSELLORS)]
    rules = (OfficeRules(ids, {u: frozenset({ids[i % OFFICES]}) for i, u in enumerate(users)},
                         ids[0], ids[0]) if with_offices else OfficeRules())
    router = Router(RouterConfig(offices=rules))
    for user in users:
        router.handle(StaffAdded(T0, user, Role.COUNSELLOR))
        router.handle(CounsellorOnDuty(T0, user))
    return router


def sample(with_offices: bool, count: int) -> list[float]:
    router = build(with_offices)
    times = []
    for i in range(count + OPEN):
        at = T0 + timedelta(seconds=i)
        office = f"o{i % OFFICES}" if with_offices else ""
        start = time.perf_counter()
        router.handle(ConversationOpened(at, ConversationID(f"C-{i}"), office=office))
        if i >= OPEN:
            times.append(time.perf_counter() - start)
            router.handle(YouthEnded(at, ConversationID(f"C-{i - OPEN}")))
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    count = 300 if args.quick else 3000
    for with_offices in (False, True):
        times = sample(with_offices, count)
        p50 = statistics.median(times) * 1000
        p95 = sorted(times)[int(len(times) * 0.95)] * 1000
        label = f"{OFFICES} offices" if with_offices else "one office"
        print(f"{label:>11}, {COUNSELLORS} counsellors, {OPEN} open: "
              f"first message routed in p50 {p50:.3f} ms, p95 {p95:.3f} ms (router only)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
