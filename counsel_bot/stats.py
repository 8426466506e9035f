"""`counsel stats`: the dashboard's figures in a terminal, read from the /metrics endpoint.

Reads the Prometheus text with prometheus_client's own parser, so what the terminal shows is
exactly what Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from counsel_bot.core.errors import BotError
from counsel_bot.metrics import (
    CHANNELS,
    OUTCOMES,
    PRIORITIES,
    REVIEW_SOURCES,
    SCORES,
    TodayFigures,
)
from counsel_bot.web.pages import duration, median_wait

_TIMEOUT = aiohttp.ClientTimeout(total=10)
_SEVERITIES = ("high", "medium", "low")


class StatsError(BotError):
    """The metrics endpoint could not be read; the message says what to check."""


@dataclass(frozen=True)
class Stats:
    # (priority, channel) -> conversations waiting
    queue: Mapping[tuple[str, str], int] = field(default_factory=dict)
    longest_wait_seconds: Mapping[str, float] = field(default_factory=dict)
    on_duty: int = 0
    free_capacity: int = 0
    # nickname -> open conversations; one "all" entry when the nickname label is off
    open_by_counsellor: Mapping[str, int] = field(default_factory=dict)
    open_flags: Mapping[str, int] = field(default_factory=dict)
    today: TodayFigures = field(default_factory=TodayFigures)
    escalations: int = 0
    deadline_breaches: int = 0
    crisis_reviews: Mapping[str, int] = field(default_factory=dict)
    # (source, outcome) -> reviews: who raised the flag, and what a human found
    crisis_reviews_by_source: Mapping[tuple[str, str], int] = field(default_factory=dict)
    feedback: Mapping[int, int] = field(default_factory=dict)
    # With several offices: office id -> its figures (empty for a single office).
    offices: Mapping[str, OfficeStats] = field(default_factory=dict)

    @property
    def queue_length(self) -> int:
        return sum(self.queue.values())


@dataclass(frozen=True)
class OfficeStats:
    waiting: int = 0
    crisis_waiting: int = 0
    longest_wait_seconds: float = 0.0
    on_duty: int = 0
    # On duty and taking new youths (capacity above 0): whom a youth who writes now reaches.
    taking: int = 0


def _offices(values: Mapping[str, list[tuple[Mapping[str, str], float]]]
             ) -> dict[str, OfficeStats]:
    figures: dict[str, dict[str, float]] = {}
    for labels, value in values.get("counsel_office_queue_length", []):
        mine = figures.setdefault(labels.get("office", "?"), {})
        mine["waiting"] = mine.get("waiting", 0) + value
        if labels.get("priority") == "crisis":
            mine["crisis_waiting"] = mine.get("crisis_waiting", 0) + value
    for name, key in (("counsel_office_queue_longest_wait_seconds", "longest"),
                      ("counsel_office_counsellors_on_duty", "on_duty"),
                      ("counsel_office_counsellors_taking", "taking")):
        for labels, value in values.get(name, []):
            figures.setdefault(labels.get("office", "?"), {})[key] = value
    return {
        office: OfficeStats(int(f.get("waiting", 0)), int(f.get("crisis_waiting", 0)),
                            f.get("longest", 0.0), int(f.get("on_duty", 0)),
                            int(f.get("taking", 0)))
        for office, f in sorted(figures.items())
    }


_SOURCE_NAMES = {"rule": "raised by a rule", "model": "raised by the model alone",
                 "unknown": "source not kept"}


def _reviews_by_source(values: Mapping[str, list[tuple[Mapping[str, str], float]]]
                       ) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for labels, value in values.get("counsel_crisis_reviews_total", []):
        key = (labels.get("source", "unknown"), labels.get("outcome", "?"))
        out[key] = out.get(key, 0) + int(value)
    return out


def parse_stats(text: str) -> Stats:
    """Stats from Prometheus text; raises StatsError when it holds no counsel metrics."""
    try:
        samples = [
            (s.name, s.labels, s.value)
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
    except ValueError as exc:
        raise StatsError(f"the metrics endpoint sent text Prometheus cannot read ({exc})") from None
    if not any(name.startswith("counsel_") for name, _, _ in samples):
        raise StatsError(
            "the endpoint has no counsel_ metrics; check the URL points at the bot's /metrics"
        )
    return _build(samples)


def _build(samples: Iterable[tuple[str, Mapping[str, str], float]]) -> Stats:
    values: dict[str, list[tuple[Mapping[str, str], float]]] = {}
    for name, labels, value in samples:
        values.setdefault(name, []).append((labels, value))

    def one(name: str) -> float:
        return sum(v for _, v in values.get(name, []))

    def by(name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for labels, value in values.get(name, []):
            key = labels.get(label, "all")
            out[key] = out.get(key, 0.0) + value
        return out

    queue = {
        (labels.get("priority", ""), labels.get("channel", "")): int(value)
        for labels, value in values.get("counsel_queue_length", [])
    }
    median = one("counsel_today_median_wait_seconds")
    # The gauge is 0 both for "nobody assigned yet" and for youths taken at once; the
    # count of today's samples tells them apart. A bot from before that count: 0 is none.
    if "counsel_today_assigned" in values:
        assigned = int(one("counsel_today_assigned"))
    else:
        assigned = 1 if median > 0 else 0
    today = TodayFigures(
        opened=int(one("counsel_today_opened")),
        closed=int(one("counsel_today_closed")),
        crisis_flags=int(one("counsel_today_crisis_flags")),
        median_wait_seconds=median if assigned else None,
        deadline_breaches=int(one("counsel_today_deadline_breaches")),
        assigned=assigned,
    )
    return Stats(
        queue=queue,
        longest_wait_seconds=by("counsel_queue_longest_wait_seconds", "priority"),
        on_duty=int(one("counsel_counsellors_on_duty")),
        free_capacity=int(one("counsel_capacity_free")),
        open_by_counsellor={
            k: int(v) for k, v in by("counsel_open_conversations", "counsellor").items()
        },
        open_flags={k: int(v) for k, v in by("counsel_crisis_flags_open", "severity").items()},
        today=today,
        escalations=int(one("counsel_escalations_total")),
        deadline_breaches=int(one("counsel_mail_deadline_breaches_total")),
        crisis_reviews={
            k: int(v) for k, v in by("counsel_crisis_reviews_total", "outcome").items()
        },
        crisis_reviews_by_source=_reviews_by_source(values),
        feedback={
            int(k): int(v) for k, v in by("counsel_feedback_total", "score").items()
            if k.isdecimal()
        },
        offices=_offices(values),
    )


async def fetch_stats(
    url: str, token: str | None = None, *, session: aiohttp.ClientSession | None = None
) -> Stats:
    """Read `url` (the bot's /metrics) with an optional bearer token and parse it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    own = session is None
    http = aiohttp.ClientSession() if session is None else session
    try:
        async with http.get(url, headers=headers, timeout=_TIMEOUT) as resp:
            if resp.status == 401:
                raise StatsError(
                    f"{url} wants a bearer token; pass the one in web.metrics_token_file"
                )
            if resp.status != 200:
                raise StatsError(f"{url} answered HTTP {resp.status}; check the URL and the bot")
            text = await resp.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StatsError(
            f"cannot read {url} ({type(exc).__name__}); is the bot running with the web "
            "endpoint on that address?"
        ) from None
    finally:
        if own:
            await http.close()
    return parse_stats(text)


def _table(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((len(label) for label, _ in rows), default=0)
    return [f"{indent}{label.ljust(width)}  {value}" for label, value in rows]


def format_stats(stats: Stats) -> str:
    """The figures the dashboard shows, as a plain-text table for a terminal."""
    queue_parts = []
    for priority in PRIORITIES:
        per_channel = ", ".join(
            f"{channel} {stats.queue.get((priority, channel), 0)}" for channel in CHANNELS
        )
        total = sum(stats.queue.get((priority, c), 0) for c in CHANNELS)
        queue_parts.append(f"{priority} {total} ({per_channel})")
    longest = ", ".join(
        f"{p} {duration(stats.longest_wait_seconds.get(p, 0.0))}" for p in PRIORITIES
    )
    flags = ", ".join(f"{s} {stats.open_flags.get(s, 0)}" for s in _SEVERITIES)
    lines = ["Right now"]
    lines += _table([
        ("Waiting", f"{stats.queue_length}: " + "; ".join(queue_parts)),
        ("Longest wait", longest),
        ("Staff on duty", f"{stats.on_duty} (free slots {stats.free_capacity})"),
        ("Open crisis flags", f"{sum(stats.open_flags.values())}: {flags}"),
    ])
    lines += ["", "Open conversations by counsellor"]
    if stats.open_by_counsellor:
        lines += _table(sorted(
            ((name, str(count)) for name, count in stats.open_by_counsellor.items()),
            key=lambda row: row[0].casefold(),
        ))
    else:
        lines.append("  none")
    if stats.offices:
        lines += ["", "By office (waiting, of them crisis; longest wait; on duty)"]
        lines += _table([
            (office, f"{o.waiting}, {o.crisis_waiting}; {duration(o.longest_wait_seconds)}; "
                     f"{o.on_duty}")
            for office, o in stats.offices.items()
        ])
    today = stats.today
    lines += ["", "Today"]
    lines += _table([
        ("Opened", str(today.opened)),
        ("Closed", str(today.closed)),
        ("Crisis flags", str(today.crisis_flags)),
        ("Median wait", median_wait(today.median_wait_seconds)),
        ("Mail deadlines missed", str(today.deadline_breaches)),
    ])
    reviews = ", ".join(f"{o} {stats.crisis_reviews.get(o, 0)}" for o in OUTCOMES)
    by_source = stats.crisis_reviews_by_source
    feedback = ", ".join(f"{s}: {stats.feedback.get(s, 0)}" for s in SCORES)
    lines += ["", "Since the bot started"]
    lines += _table([
        ("Escalations to team lead", str(stats.escalations)),
        ("Mail deadlines missed", str(stats.deadline_breaches)),
        ("Crisis flags reviewed", reviews),
        *((f"  {_SOURCE_NAMES[source]}",
           ", ".join(f"{o} {by_source.get((source, o), 0)}" for o in OUTCOMES))
          for source in REVIEW_SOURCES if any(by_source.get((source, o)) for o in OUTCOMES)),
        ("Feedback scores", feedback),
    ])
    return "\n".join(lines) + "\n"
