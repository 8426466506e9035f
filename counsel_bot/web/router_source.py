"""`RouterDashboardSource`: the dashboard's figures built from the live routing state.

The routing state knows neither crisis categories, nor when a flag was raised, nor room ids,
nor staff nicknames; the bot adapter passes small lookups for those. Lookups return None when
they do not know, and the page says so rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime

from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    Priority,
    RouterSnapshot,
)
from counsel_bot.core.routing.offices import OfficeRules
from counsel_bot.metrics import TodayFigures, safe_nickname, severity_name
from counsel_bot.web.snapshot import CrisisEntry, DashboardSnapshot, QueueEntry, StaffEntry


@dataclass(frozen=True)
class CrisisDetail:
    """What the adapter knows about a conversation's flag: the category and when it first
    rose, and who raised it last ("rule", "model"; "unknown" where that was not kept)."""

    category: str
    raised_at: datetime
    source: str = "unknown"


def _no_detail(_: ConversationID) -> CrisisDetail | None:
    return None


def _no_link(_: ConversationID) -> str | None:
    return None


def _no_figures() -> TodayFigures:
    return TodayFigures()


def _nobody() -> AbstractSet[UserID]:
    return frozenset()


def _none_overdue(_: RouterSnapshot) -> int:
    return 0


class RouterDashboardSource:
    """A `DashboardSource` reading a `RouterSnapshot` each time the page asks."""

    def __init__(
        self,
        router_snapshot: Callable[[], RouterSnapshot],
        clock: Clock,
        *,
        nickname: Callable[[UserID], str | None],
        room_link: Callable[[ConversationID], str | None] = _no_link,
        crisis_detail: Callable[[ConversationID], CrisisDetail | None] = _no_detail,
        today: Callable[[], TodayFigures] = _no_figures,
        unsigned: Callable[[], AbstractSet[UserID]] = _nobody,
        overdue: Callable[[RouterSnapshot], int] = _none_overdue,
        offices: OfficeRules | None = None,
    ) -> None:
        self._router_snapshot = router_snapshot
        self._clock = clock
        self._nickname = nickname
        self._room_link = room_link
        self._crisis_detail = crisis_detail
        self._today = today
        self._unsigned = unsigned
        self._overdue = overdue
        self._offices = offices

    async def snapshot(self) -> DashboardSnapshot:
        return self._build(self._router_snapshot(), whole=True)

    async def snapshot_for(self, user: str) -> DashboardSnapshot:
        """With several offices, a team lead sees the conversations and staff of the offices
        they lead only; another office's queue, crisis flags and figures are not theirs to
        see, nor are those of an office where they only counsel (offices.py rule 7)."""
        state = self._router_snapshot()
        rules = self._offices
        if rules is None or not rules.enabled:
            return self._build(state, whole=True)
        lead = UserID(user)
        mine = rules.leads.get(lead, frozenset())
        staffed = rules.staffed(state.counsellors)
        return self._build(replace(
            state,
            conversations=tuple(c for c in state.conversations
                                if c.assigned_to == lead
                                or rules.leads_on(lead, c, staffed)),
            counsellors=tuple(c for c in state.counsellors
                              if mine & rules.offices_of(c.user)),
        ), whole=mine >= set(rules.offices), loads=_loads(state))

    def _build(self, state: RouterSnapshot, *, whole: bool,
               loads: dict[UserID, int] | None = None) -> DashboardSnapshot:
        """`whole`: the lead may see the whole installation. "Today" is tallied for the
        whole installation only (core/today.py), so a lead of some offices gets none rather
        than every office's. `loads`: each counsellor's conversations, every office's (a
        count: one shown free while full with another office's youths is not free)."""
        return DashboardSnapshot(
            generated_at=self._clock.now(),
            queue=self._queue(state),
            staff=self._staff(state, _loads(state) if loads is None else loads),
            crisis=self._crisis(state),
            today=self._today() if whole else None,
            unverified_on_duty=self._unverified_on_duty(state),
            overdue_replies=self._overdue(state),
        )

    def _unverified_on_duty(self, state: RouterSnapshot) -> int:
        unsigned = self._unsigned()
        return sum(1 for c in state.counsellors if c.on_duty and c.user in unsigned)

    @staticmethod
    def _queue(state: RouterSnapshot) -> tuple[QueueEntry, ...]:
        waiting = [c for c in state.conversations if c.state is ConversationState.WAITING]
        # The order counsellors are served in: crisis first, then longest wait.
        waiting.sort(key=lambda c: (c.priority is not Priority.CRISIS, c.enqueued_at, c.seq))
        return tuple(
            QueueEntry(c.conversation, c.priority.value, c.channel.value, c.language,
                       c.waiting_since, handed_back=c.requeued_at is not None)
            for c in waiting
        )

    def _staff(self, state: RouterSnapshot,
               loads: dict[UserID, int]) -> tuple[StaffEntry, ...]:
        entries = [
            StaffEntry(safe_nickname(self._nickname(c.user)), loads.get(c.user, 0), c.capacity)
            for c in state.counsellors
            if c.on_duty
        ]
        return tuple(sorted(entries, key=lambda s: s.nickname.casefold()))

    def _crisis(self, state: RouterSnapshot) -> tuple[CrisisEntry, ...]:
        flagged = [c for c in state.conversations if c.priority is Priority.CRISIS]
        entries = [self._crisis_entry(c) for c in flagged]
        return tuple(sorted(entries, key=lambda e: (-_rank(e.severity), e.since)))

    def _crisis_entry(self, conv: ConversationSnapshot) -> CrisisEntry:
        detail = self._crisis_detail(conv.conversation)
        return CrisisEntry(
            conversation=conv.conversation,
            category=None if detail is None else detail.category,
            severity=severity_name(conv.severity),
            since=conv.enqueued_at if detail is None else detail.raised_at,
            room_link=self._room_link(conv.conversation),
        )


def _loads(state: RouterSnapshot) -> dict[UserID, int]:
    loads: dict[UserID, int] = {}
    for conv in state.conversations:
        if conv.assigned_to is not None:
            loads[conv.assigned_to] = loads.get(conv.assigned_to, 0) + 1
    return loads


def _rank(severity: str) -> int:
    return {"high": 3, "medium": 2, "low": 1}.get(severity, 0)
