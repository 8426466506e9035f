"""The mutable routing state and the transitions every handler shares."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.actions import Action, Assign, Closed, Reply, ReplyKey, Unassign
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    ConversationState,
    CounsellorSnapshot,
    HandoverReason,
    Priority,
    RouterConfig,
    UnassignReason,
)
from counsel_bot.core.routing.offices import UNDECIDED
from counsel_bot.core.routing.policy import add_sample, moving_average, ordered_queue

_END_OF_SHIFT = frozenset({UnassignReason.OFF_DUTY_PLANNED, UnassignReason.OFF_DUTY_UNPLANNED})


class RoutingState:
    def __init__(self, config: RouterConfig) -> None:
        self._config = config
        self._conversations: dict[ConversationID, ConversationSnapshot] = {}
        self._counsellors: dict[UserID, CounsellorSnapshot] = {}
        self._handling: tuple[float, ...] = ()
        self._next_seq = 0
        self._version = 0

    def average_handling_time(self) -> timedelta:
        average = moving_average(self._handling)
        if average is None:
            return self._config.assumed_handling_time
        return timedelta(seconds=average)

    # --- state helpers used by the staff handlers ------------------------------------------

    def _put(self, conv: ConversationSnapshot) -> None:
        self._conversations[conv.conversation] = conv

    def _waiting(self) -> list[ConversationSnapshot]:
        return ordered_queue(
            c for c in self._conversations.values() if c.state is ConversationState.WAITING
        )

    def _loads(self) -> dict[UserID, int]:
        loads: dict[UserID, int] = {}
        for conv in self._conversations.values():
            if conv.assigned_to is not None:
                loads[conv.assigned_to] = loads.get(conv.assigned_to, 0) + 1
        return loads

    def _open_of(self, user: UserID) -> list[ConversationSnapshot]:
        return sorted(
            (c for c in self._conversations.values() if c.assigned_to == user),
            key=lambda c: c.seq,
        )

    def _crisis_waiting(self) -> bool:
        return any(c.priority is Priority.CRISIS for c in self._waiting())

    def _assign(
        self, conv: ConversationSnapshot, user: UserID, at: datetime, *, manual: bool
    ) -> Assign:
        office = conv.office
        if office == UNDECIDED and self._config.offices.enabled:
            # Whoever gets it talks with the youth now: it is their office's, so the
            # youth's next words are not taken as the office answer that hands it on.
            office = self._config.offices.settled_for(user)
        assigned = replace(
            conv,
            office=office,
            state=ConversationState.ASSIGNED,
            assigned_to=user,
            assigned_at=at,
            assignments=conv.assignments + 1,
            returned_by=None,
            last_notice=None,
        )
        self._put(assigned)
        self._counsellors[user] = replace(self._counsellors[user], last_assigned_at=at)
        return Assign(conv.conversation, user, assigned.assignments, manual=manual)

    def _hand_back(
        self, conv: ConversationSnapshot, reason: UnassignReason, at: datetime
    ) -> Unassign:
        previous = conv.assigned_to
        assert previous is not None
        # The end of a shift is no choice against this youth: marked, a crisis left at the
        # shift's end waited behind every newer youth once its counsellor was back on duty.
        returned_by = None if reason in _END_OF_SHIFT else previous
        self._put(
            replace(
                conv,
                state=ConversationState.WAITING,
                assigned_to=None,
                assigned_at=None,
                returned_by=returned_by,
                last_notice=None,
                requeued_at=at,
            )
        )
        return Unassign(conv.conversation, previous, reason)

    def _hand_back_all(
        self, user: UserID, reason: UnassignReason, at: datetime
    ) -> list[Action]:
        return [self._hand_back(conv, reason, at) for conv in self._open_of(user)]

    def _close(self, conv: ConversationSnapshot, at: datetime, by: UserID | None) -> Closed:
        if conv.assigned_at is not None:
            seconds = (at - conv.assigned_at).total_seconds()
            self._handling = add_sample(self._handling, seconds, self._config.handling_window)
        del self._conversations[conv.conversation]
        return Closed(conv.conversation, by, conv.assigned_to)

    @staticmethod
    def _off_duty_reason(reason: HandoverReason) -> UnassignReason:
        if reason is HandoverReason.UNPLANNED:
            return UnassignReason.OFF_DUTY_UNPLANNED
        return UnassignReason.OFF_DUTY_PLANNED

    def _staff_reply(self, to: UserID, key: ReplyKey, **params: str | int) -> Reply:
        return Reply(to, key, tuple(sorted(params.items())))
