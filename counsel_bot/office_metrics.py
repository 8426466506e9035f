"""Per-office Prometheus metrics, only when several offices share the bot.

Label ``office`` takes only the configured office ids (and ``undecided`` for youths who have
not said yet what it is about): never a conversation, room or user id. The single-office
metrics in metrics.py stay as they are; these are added beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from counsel_bot.core.routing.actions import Action, Assign
from counsel_bot.core.routing.events import (
    ConversationOpened,
    Event,
    OfficeChosen,
    TransferToOffice,
)
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    Priority,
    RouterSnapshot,
)
from counsel_bot.core.routing.offices import UNDECIDED, OfficeRules

UNDECIDED_LABEL = "undecided"
_PRIORITIES = tuple(p.value for p in Priority)
_WAIT_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800)


class OfficeMetrics:
    def __init__(self, rules: OfficeRules, registry: CollectorRegistry) -> None:
        self._rules = rules
        self.labels: tuple[str, ...] = (*rules.offices, UNDECIDED_LABEL)
        self._queue = Gauge(
            "counsel_office_queue_length", "Conversations waiting, by office",
            ["office", "priority"], registry=registry,
        )
        self._longest = Gauge(
            "counsel_office_queue_longest_wait_seconds",
            "How long the longest-waiting youth of an office has waited (since handed back, "
            "if they were)", ["office"],
            registry=registry,
        )
        self._on_duty = Gauge(
            "counsel_office_counsellors_on_duty", "Staff on duty, by office", ["office"],
            registry=registry,
        )
        # What the entry page shows as "someone is there": on duty and taking new youths,
        # as the router counts an office staffed (`OfficeRules.staffed`; `!capacity 0`
        # takes none), so the page does not say so to a youth the bot then tells nobody is.
        self._taking = Gauge(
            "counsel_office_counsellors_taking", "Staff on duty taking new youths, by office",
            ["office"], registry=registry,
        )
        self._waited = Histogram(
            "counsel_office_wait_to_assignment_seconds",
            "Time from queueing to a counsellor's assignment, by office", ["office"],
            buckets=_WAIT_BUCKETS, registry=registry,
        )
        self._opened = Counter(
            "counsel_office_conversations_opened", "Conversations opened, by office", ["office"],
            registry=registry,
        )
        for office in self.labels:
            self._longest.labels(office).set(0)
            self._on_duty.labels(office).set(0)
            self._taking.labels(office).set(0)
            self._waited.labels(office)
            self._opened.labels(office)
            for priority in _PRIORITIES:
                self._queue.labels(office, priority).set(0)

    def label(self, conv: ConversationSnapshot) -> str:
        office = self._rules.office_of(conv)
        return UNDECIDED_LABEL if office == UNDECIDED or office not in self.labels else office

    def refresh(self, snapshot: RouterSnapshot, now: datetime) -> None:
        waiting = [c for c in snapshot.conversations if c.state is ConversationState.WAITING]
        for office in self.labels:
            mine = [c for c in waiting if self.label(c) == office]
            oldest = min((c.waiting_since for c in mine), default=now)
            self._longest.labels(office).set(max((now - oldest).total_seconds(), 0.0))
            for priority in _PRIORITIES:
                count = sum(1 for c in mine if c.priority.value == priority)
                self._queue.labels(office, priority).set(count)
            on_duty = [c for c in snapshot.counsellors
                       if c.on_duty and office in self._rules.offices_of(c.user)]
            self._on_duty.labels(office).set(len(on_duty))
            self._taking.labels(office).set(sum(1 for c in on_duty if c.capacity > 0))

    def assigned(self, conv: ConversationSnapshot, waited: timedelta) -> None:
        self._waited.labels(self.label(conv)).observe(max(waited.total_seconds(), 0.0))

    def opened(self, office: str) -> None:
        self._opened.labels(self._label_of(office)).inc()

    def _label_of(self, office: str) -> str:
        if office in self.labels:
            return office
        return UNDECIDED_LABEL if office == UNDECIDED else self._rules.home(office)

    def routed(self, event: Event, actions: Sequence[Action], before: RouterSnapshot) -> None:
        """Count one `Router.handle(event)` by office (like metrics.record_routing)."""
        known = {c.conversation: c for c in before.conversations}
        if isinstance(event, ConversationOpened) and event.conversation not in known:
            self.opened(event.office)
        for action in actions:
            if isinstance(action, Assign) and action.assignment == 1:
                conv = known.get(action.conversation)
                if conv is not None:
                    if (isinstance(event, OfficeChosen | TransferToOffice)
                            and event.conversation == conv.conversation):
                        # Given to a counsellor of the office it moved to in this step: the
                        # wait is that office's, not the one `before` still names.
                        conv = replace(conv, office=event.office)
                    elif conv.office == UNDECIDED:
                        # Undecided and given to somebody (by hand, a crisis): theirs now
                        # (`OfficeRules.settled_for`), and so is the wait.
                        conv = replace(conv, office=self._rules.settled_for(action.counsellor))
                    self.assigned(conv, event.at - conv.enqueued_at)
                elif isinstance(event, ConversationOpened):  # assigned as it opened
                    self._waited.labels(self._label_of(event.office)).observe(0.0)
