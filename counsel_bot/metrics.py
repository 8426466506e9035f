"""Prometheus metrics for team leads: numbers only, never who a youth is or what they wrote.

Rules this module keeps (tests/metrics/ checks each):

1. Every metric lives in the registry this object owns (no process-wide globals), and every
   name starts with ``counsel_``.
2. Label values come only from small fixed sets: priority, channel, crisis category, severity,
   review outcome, feedback score, and the counsellor's staff nickname. A nickname that does
   not look like a name (e.g. a Matrix id slipped in, or a sentence) is reported as ``unnamed``;
   with ``counsellor_label=False`` the per-counsellor gauge has no label at all.
3. Conversation ids, room ids and user ids never become label values.
4. "Today" figures roll over at local midnight of ``day_zone``, read from the injected clock
   when scraped, so a quiet night still shows zeros the next morning. They are counted by
   `count_today` from what a committed step carries (`core/today.py`), not by the event
   methods below: the conductor keeps the day's tally in the store with each step, so a
   restart goes on with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from counsel_bot.core.clock import Clock, require_aware
from counsel_bot.core.crisis.lexicon import CATEGORIES, SEVERITIES
from counsel_bot.core.ids import UserID
from counsel_bot.core.routing.actions import Action, Assign, Closed
from counsel_bot.core.routing.events import ConversationOpened, Event
from counsel_bot.core.routing.model import (
    Channel,
    ConversationSnapshot,
    ConversationState,
    Priority,
    RouterSnapshot,
)
from counsel_bot.core.today import DailyTally, DayCount
from counsel_bot.core.today import TodayFigures as TodayFigures  # where web and stats find it

PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)
CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)
OUTCOMES: tuple[str, ...] = ("confirmed", "dismissed")
# Who raised a flag: a rule of the reviewed lexicons, or the model alone. A review counts for
# whoever raised the conversation's flag last, so confirmed / (confirmed + dismissed) per
# source is an office's own precision of each: on the test data the model's flags are right
# less often on short lines, and whether they should send the youth the emergency numbers
# is for the office's professionals to decide. "unknown": a review whose flag's source was
# not kept (raised before the source was counted, or no detail of it left).
FLAG_SOURCES: tuple[str, ...] = ("rule", "model")
REVIEW_SOURCES: tuple[str, ...] = (*FLAG_SOURCES, "unknown")
SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)
UNNAMED = "unnamed"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# A nickname is the name staff chose to be shown ("anna.k", "Mia (Beraterin)", "Zoë Adeyemi"):
# words of letters and digits of any script (with ._-' inside), one space between words, a
# word perhaps in parentheses, at most three words and 32 characters. Anything else is not
# trusted as a label: a Matrix id (the fallback for staff without a display name, and nio's
# "Name (@id:server)" when two share a name) has @ and :, a room id ! and :, and a sentence
# (message text in the wrong place) has more words than a name.
_WORD = r"\(?[^\W_][\w.'’-]*\)?"
_NICKNAME = re.compile(rf"{_WORD}(?: {_WORD}){{0,2}}")
_NICKNAME_MAX = 32
# Seconds: from a few seconds in a crisis to a mail enquiry answered the next day.
_WAIT_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800)
# Router severities are ranks: high=3, medium=2, low=1 (as the crisis detector ranks them).
_SEVERITY_BY_RANK = {len(SEVERITIES) - i: s for i, s in enumerate(SEVERITIES)}


class MetricsLabelError(ValueError):
    """A metric was given a value outside its fixed label set; the caller passes wrong data."""


def severity_name(rank: int) -> str:
    """The severity word for a router severity rank; out-of-range ranks clamp to the set."""
    clamped = min(max(rank, 1), len(SEVERITIES))
    return _SEVERITY_BY_RANK[clamped]


def safe_nickname(nickname: str | None) -> str:
    """The nickname if it looks like a name staff chose, else ``unnamed``: ids and sentences
    never become labels."""
    if (nickname is not None and len(nickname) <= _NICKNAME_MAX
            and _NICKNAME.fullmatch(nickname)):
        return nickname
    return UNNAMED


def _require(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise MetricsLabelError(
            f"{what} {value!r} is not one of {', '.join(allowed)}; pass one of those codes"
        )
    return value


class CounselMetrics:
    """The bot's metrics. Counters/histograms by method call; gauges from a router snapshot."""

    def __init__(
        self, clock: Clock, *, counsellor_label: bool = True, day_zone: tzinfo = UTC
    ) -> None:
        self._clock = clock
        self._counsellor_label = counsellor_label
        self._today = DailyTally(day_zone)
        self.registry = CollectorRegistry(auto_describe=True)
        self._gauges()
        self._events()
        self._today_gauges()
        self._groups()
        self._instance_metrics()
        self._timer_metrics()

    def _timer_metrics(self) -> None:
        self._overdue = Gauge(
            "counsel_replies_overdue",
            "Live chats whose youth waits past the response target (a count; who is said in "
            "the staff room only)",
            registry=self.registry,
        )
        self._requeued = Counter(
            "counsel_requeued_unanswered",
            "Conversations handed back to the queue because nobody answered in time",
            registry=self.registry,
        )

    def replies_overdue(self, count: int) -> None:
        self._overdue.set(count)

    def requeued_unanswered(self) -> None:
        self._requeued.inc()

    # --- construction ----------------------------------------------------------------------

    def _gauges(self) -> None:
        r = self.registry
        self._queue = Gauge(
            "counsel_queue_length", "Conversations waiting for a counsellor",
            ["priority", "channel"], registry=r,
        )
        self._longest_wait = Gauge(
            "counsel_queue_longest_wait_seconds",
            "How long the longest-waiting youth has waited (since handed back, if they were)",
            ["priority"], registry=r,
        )
        self._on_duty = Gauge(
            "counsel_counsellors_on_duty", "Counsellors and team leads on duty", registry=r
        )
        self._unverified = Gauge(
            "counsel_on_duty_unverified_devices",
            "Staff on duty with a device they have not cross-signed (a count; who is said in "
            "the staff room only)",
            registry=r,
        )
        self._capacity = Gauge(
            "counsel_capacity_free", "Free conversation slots of staff on duty", registry=r
        )
        labels = ["counsellor"] if self._counsellor_label else []
        self._open = Gauge(
            "counsel_open_conversations", "Conversations assigned, by counsellor nickname",
            labels, registry=r,
        )
        self._open_flags = Gauge(
            "counsel_crisis_flags_open", "Live conversations with a raised or confirmed flag",
            ["severity"], registry=r,
        )
        for priority in PRIORITIES:
            self._longest_wait.labels(priority).set(0)
            for channel in CHANNELS:
                self._queue.labels(priority, channel).set(0)
        for severity in SEVERITIES:
            self._open_flags.labels(severity).set(0)

    def _events(self) -> None:
        r = self.registry
        self._opened = Counter(
            "counsel_conversations_opened", "Conversations opened", ["channel"], registry=r
        )
        self._closed = Counter(
            "counsel_conversations_closed", "Conversations closed", ["channel"], registry=r
        )
        self._waited = Histogram(
            "counsel_wait_to_assignment_seconds", "Time from queueing to a counsellor's assignment",
            buckets=_WAIT_BUCKETS, registry=r,
        )
        self._first_reply = Histogram(
            "counsel_first_reply_seconds", "Time from assignment to the counsellor's first reply",
            buckets=_WAIT_BUCKETS, registry=r,
        )
        self._flags = Counter(
            "counsel_crisis_flags", "Crisis flags raised, by who raised them (rule or model)",
            ["category", "severity", "source"], registry=r
        )
        self._reviews = Counter(
            "counsel_crisis_reviews",
            "Crisis flags a human confirmed or dismissed, by who raised the flag last",
            ["category", "outcome", "source"], registry=r,
        )
        self._escalations = Counter(
            "counsel_escalations", "Escalations to the team lead", registry=r
        )
        self._set_aside = Counter(
            "counsel_events_set_aside",
            "Messages and other events the bot failed on twice and no longer handles (a bug; "
            "its kind and place are in the log): the staff were alerted, the youth asked to "
            "write again", registry=r,
        )
        self._dropped = Counter(
            "counsel_effects_dropped",
            "Effects the homeserver refused for good (their kind is in the log); urgent: a "
            "crisis alert or a lead page that reached nobody", ["urgent"], registry=r,
        )
        for urgent in ("true", "false"):
            self._dropped.labels(urgent=urgent)  # 0 from the start: the panel shows it
        self._breaches = Counter(
            "counsel_mail_deadline_breaches", "Mail enquiries past their first-reply deadline",
            registry=r,
        )
        self._feedback = Counter(
            "counsel_feedback", "Feedback scores given by youths (1 worst, 5 best)", ["score"],
            registry=r,
        )
        for channel in CHANNELS:
            self._opened.labels(channel)
            self._closed.labels(channel)
        for category in CATEGORIES:
            for severity in SEVERITIES:
                for source in FLAG_SOURCES:
                    self._flags.labels(category, severity, source)
            for outcome in OUTCOMES:
                for source in REVIEW_SOURCES:
                    self._reviews.labels(category, outcome, source)
        for score in SCORES:
            self._feedback.labels(str(score))

    def _instance_metrics(self) -> None:
        r = self.registry
        self._active = Gauge(
            "counsel_instance_active",
            "1 while this bot is the active one (it acts); 0 while it waits as a standby",
            registry=r,
        )
        self._failovers = Counter(
            "counsel_failovers",
            "Takeovers by a standby bot after the active one stopped (PostgreSQL store)",
            registry=r,
        )
        self._failovers_seen = 0

    def instance_role(self, *, active: bool, failovers: int = 0) -> None:
        """This process's role; `failovers` is the database's count of takeovers so far."""
        self._active.set(1 if active else 0)
        if failovers > self._failovers_seen:
            self._failovers.inc(failovers - self._failovers_seen)
            self._failovers_seen = failovers

    def _today_gauges(self) -> None:
        r = self.registry
        specs = {
            "opened": "Conversations opened today",
            "closed": "Conversations closed today",
            "crisis_flags": "Crisis flags raised today",
            "deadline_breaches": "Mail first-reply deadline breaches today",
            "assigned": "Conversations given to a counsellor for the first time today (the "
                        "median wait's samples)",
        }
        for name, doc in specs.items():
            gauge = Gauge(f"counsel_today_{name}", doc, registry=r)
            gauge.set_function(self._today_reader(name))
        # Prometheus has no "no value" for a gauge: 0 here is also "nobody assigned yet";
        # counsel_today_assigned tells the two apart (`counsel stats` and Grafana read it).
        median = Gauge(
            "counsel_today_median_wait_seconds",
            "Median wait to assignment today (0 with counsel_today_assigned 0: none yet)",
            registry=r,
        )
        median.set_function(lambda: self.today().median_wait_seconds or 0.0)

    def _today_reader(self, name: str) -> Callable[[], float]:
        return lambda: float(getattr(self.today(), name))

    # --- reading ---------------------------------------------------------------------------

    @property
    def counsellor_label(self) -> bool:
        return self._counsellor_label

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric (content type ``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

    def today(self) -> TodayFigures:
        return self._today.figures(self._clock.now())

    def count_today(self, count: DayCount) -> None:
        """Add what a step counts to today's figures (the day read from the clock)."""
        self._today.add(count, self._clock.now())

    def today_state(self) -> str:
        """Today's tally as a store setting (counts only); `restore_today` reads it back."""
        return self._today.encode()

    def restore_today(self, encoded: str | None) -> bool:
        """Today's tally as the store keeps it; False if the value was unreadable (the day's
        figures then start from zero)."""
        return self._today.restore(encoded)

    # --- gauges from the routing state -----------------------------------------------------

    def refresh_from_snapshot(
        self,
        snapshot: RouterSnapshot,
        staff_nicknames: Mapping[UserID, str],
        now: datetime,
        unsigned: AbstractSet[UserID] = frozenset(),
    ) -> None:
        """Set every gauge from the router's state. Call after each handled event or on a tick.

        ``unsigned``: staff with a device they have not cross-signed (only counted).
        """
        require_aware(now)
        waiting = [c for c in snapshot.conversations if c.state is ConversationState.WAITING]
        for priority in PRIORITIES:
            in_priority = [c for c in waiting if c.priority.value == priority]
            oldest = min((c.waiting_since for c in in_priority), default=now)
            self._longest_wait.labels(priority).set(max((now - oldest).total_seconds(), 0.0))
            for channel in CHANNELS:
                count = sum(1 for c in in_priority if c.channel.value == channel)
                self._queue.labels(priority, channel).set(count)
        loads: dict[UserID, int] = {}
        for conv in snapshot.conversations:
            if conv.assigned_to is not None:
                loads[conv.assigned_to] = loads.get(conv.assigned_to, 0) + 1
        on_duty = [c for c in snapshot.counsellors if c.on_duty]
        self._on_duty.set(len(on_duty))
        self._unverified.set(sum(1 for c in on_duty if c.user in unsigned))
        self._capacity.set(sum(max(c.capacity - loads.get(c.user, 0), 0) for c in on_duty))
        self._set_open(loads, staff_nicknames)
        self._set_open_flags(snapshot)

    def _set_open(self, loads: Mapping[UserID, int], nicknames: Mapping[UserID, str]) -> None:
        if not self._counsellor_label:
            self._open.set(sum(loads.values()))
            return
        by_nickname: dict[str, int] = {}
        for user, load in loads.items():
            label = safe_nickname(nicknames.get(user))
            by_nickname[label] = by_nickname.get(label, 0) + load
        # Series of staff who went off the roster disappear instead of freezing at a value.
        self._open.clear()
        for label, load in by_nickname.items():
            self._open.labels(label).set(load)

    def _set_open_flags(self, snapshot: RouterSnapshot) -> None:
        counts = dict.fromkeys(SEVERITIES, 0)
        for conv in snapshot.conversations:
            if conv.priority is Priority.CRISIS:
                counts[severity_name(conv.severity)] += 1
        for severity, count in counts.items():
            self._open_flags.labels(severity).set(count)

    # --- events from the bot adapter -------------------------------------------------------

    def opened(self, channel: str) -> None:
        self._opened.labels(_require(channel, CHANNELS, "channel")).inc()

    def assigned(self, waited: timedelta) -> None:
        seconds = max(waited.total_seconds(), 0.0)
        self._waited.observe(seconds)

    def first_reply(self, after: timedelta) -> None:
        self._first_reply.observe(max(after.total_seconds(), 0.0))

    def crisis_flagged(self, category: str, severity: str, source: str) -> None:
        self._flags.labels(
            _require(category, CATEGORIES, "crisis category"),
            _require(severity, SEVERITIES, "severity"),
            _require(source, FLAG_SOURCES, "flag source"),
        ).inc()

    def crisis_reviewed(self, category: str, outcome: str, source: str) -> None:
        self._reviews.labels(
            _require(category, CATEGORIES, "crisis category"),
            _require(outcome, OUTCOMES, "review outcome"),
            _require(source, REVIEW_SOURCES, "flag source"),
        ).inc()

    def escalated(self) -> None:
        self._escalations.inc()

    def event_set_aside(self) -> None:
        self._set_aside.inc()

    def effect_dropped(self, urgent: bool) -> None:
        self._dropped.labels(urgent="true" if urgent else "false").inc()

    def mail_deadline_breached(self) -> None:
        self._breaches.inc()

    def closed(self, channel: str) -> None:
        self._closed.labels(_require(channel, CHANNELS, "channel")).inc()

    def feedback(self, score: int) -> None:
        if isinstance(score, bool) or score not in SCORES:
            raise MetricsLabelError(f"feedback score {score!r} is not 1 to 5; pass a whole 1..5")
        self._feedback.labels(str(score)).inc()

    # --- group sessions and the forum (counts only) --------------------------------------

    def _groups(self) -> None:
        r = self.registry
        self._groups_held = Counter("counsel_group_sessions_held",
                                    "Group sessions that ended with youths signed up",
                                    registry=r)
        self._group_participants = Counter("counsel_group_participants",
                                           "Youths who had a seat in a group that was held",
                                           registry=r)
        self._groups_planned = Gauge("counsel_group_sessions_planned",
                                     "Group sessions announced and not yet begun", registry=r)
        self._groups_open = Gauge("counsel_group_sessions_open", "Group sessions running now",
                                  registry=r)
        self._forum_waiting = Gauge("counsel_forum_posts_waiting",
                                    "Forum posts waiting for a counsellor's approval",
                                    registry=r)

    def group_held(self, participants: int) -> None:
        self._groups_held.inc()
        self._group_participants.inc(max(0, participants))

    def set_groups(self, *, planned: int, open_now: int) -> None:
        self._groups_planned.set(planned)
        self._groups_open.set(open_now)

    def set_forum_waiting(self, waiting: int) -> None:
        self._forum_waiting.set(waiting)


@dataclass(frozen=True)
class _Routed:
    """What one router step did that the figures count (channels, never conversations)."""

    opened: tuple[str, ...] = ()
    waits: tuple[timedelta, ...] = ()
    closed: tuple[str, ...] = ()


def _routed(event: Event, actions: Sequence[Action], before: RouterSnapshot) -> _Routed:
    known: dict[str, ConversationSnapshot] = {c.conversation: c for c in before.conversations}
    opened: list[str] = []
    waits: list[timedelta] = []
    closed: list[str] = []
    if isinstance(event, ConversationOpened) and event.conversation not in known:
        opened.append(event.channel.value)
    for action in actions:
        conv = known.get(action.conversation) if isinstance(action, Assign | Closed) else None
        if isinstance(action, Assign) and action.assignment == 1:
            enqueued = conv.enqueued_at if conv is not None else event.at
            waits.append(event.at - enqueued)
        elif isinstance(action, Closed) and conv is not None:
            closed.append(conv.channel.value)
    return _Routed(tuple(opened), tuple(waits), tuple(closed))


def record_routing(
    metrics: CounselMetrics, event: Event, actions: Sequence[Action], before: RouterSnapshot
) -> None:
    """Count what one `Router.handle(event)` did: openings, first assignments, closings.

    `before` is the router's snapshot taken before the event, because a closed conversation
    is gone from the snapshot after it. Reassignments are not waits: only a conversation's
    first assignment observes the wait histogram.
    """
    routed = _routed(event, actions, before)
    for channel in routed.opened:
        metrics.opened(channel)
    for waited in routed.waits:
        metrics.assigned(waited)
    for channel in routed.closed:
        metrics.closed(channel)


def routing_day_count(
    event: Event, actions: Sequence[Action], before: RouterSnapshot
) -> DayCount:
    """What the same step adds to today's figures; the same walk as `record_routing`, so the
    "Today" figures and the counters cannot count differently."""
    routed = _routed(event, actions, before)
    return DayCount(opened=len(routed.opened), closed=len(routed.closed),
                    waits=tuple(max(w.total_seconds(), 0.0) for w in routed.waits))
