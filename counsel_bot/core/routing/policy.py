"""Pure routing policy: queue order, counsellor choice, ETA and when to tell a waiting youth."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

from counsel_bot.core.ids import UserID
from counsel_bot.core.routing.model import (
    ConversationSnapshot,
    CounsellorSnapshot,
    Notice,
    Priority,
)

# ETA buckets in minutes: a youth is told again only when the estimate crosses one of these.
ETA_BUCKET_BOUNDS_MIN: tuple[int, ...] = (5, 15, 30, 60)
ETA_UNKNOWN_BUCKET = -1

_PRIORITY_RANK = {Priority.CRISIS: 0, Priority.NORMAL: 1}


def queue_key(conv: ConversationSnapshot) -> tuple[int, datetime, int]:
    """Crisis first, then longest wait, then opening order (FIFO within a priority)."""
    return (_PRIORITY_RANK[conv.priority], conv.enqueued_at, conv.seq)


def ordered_queue(conversations: Iterable[ConversationSnapshot]) -> list[ConversationSnapshot]:
    return sorted(conversations, key=queue_key)


def can_take_more(counsellor: CounsellorSnapshot, load: int) -> bool:
    return counsellor.on_duty and load < counsellor.capacity


def pick_counsellor(
    conv: ConversationSnapshot,
    counsellors: Iterable[CounsellorSnapshot],
    loads: Mapping[UserID, int],
    unsigned: AbstractSet[UserID] = frozenset(),
) -> CounsellorSnapshot | None:
    """Least loaded on-duty counsellor with free capacity whose languages match, else any.

    Among those, counsellors in ``unsigned`` (with a device they have not cross-signed, which
    a youth in Element's strict mode cannot read) are chosen only when nobody else is free:
    an unreadable counsellor is still better than waiting, and the youth may not be strict.
    Language comes first because it is certain to matter; strictness only may.
    The counsellor who handed the conversation back is never chosen automatically.
    """
    eligible = [
        c
        for c in counsellors
        if can_take_more(c, loads.get(c.user, 0)) and c.user != conv.returned_by
    ]
    if not eligible:
        return None
    matching = [c for c in eligible if not conv.language or conv.language in c.languages]
    pool = matching or eligible
    pool = [c for c in pool if c.user not in unsigned] or pool
    epoch = datetime.min.replace(tzinfo=conv.enqueued_at.tzinfo)
    return min(
        pool,
        key=lambda c: (loads.get(c.user, 0), c.last_assigned_at or epoch, c.user),
    )


def moving_average(samples: tuple[float, ...]) -> float | None:
    return sum(samples) / len(samples) if samples else None


def add_sample(samples: tuple[float, ...], seconds: float, window: int) -> tuple[float, ...]:
    return (*samples, max(0.0, seconds))[-window:]


def estimate_wait(position: int, handling: timedelta, free_slots_total: int) -> timedelta | None:
    """Expected wait at `position`: one slot frees every handling/slots on average.

    `free_slots_total` is the summed capacity of on-duty counsellors; with none on duty there
    is no honest estimate. Rounded up to whole minutes so tiny changes don't look like news.
    """
    if free_slots_total <= 0 or position <= 0:
        return None
    seconds = handling.total_seconds() * position / free_slots_total
    return timedelta(minutes=max(1, math.ceil(seconds / 60)))


def eta_bucket(eta: timedelta | None) -> int:
    if eta is None:
        return ETA_UNKNOWN_BUCKET
    minutes = eta.total_seconds() / 60
    for index, bound in enumerate(ETA_BUCKET_BOUNDS_MIN):
        if minutes < bound:
            return index
    return len(ETA_BUCKET_BOUNDS_MIN)


def should_notify(
    previous: Notice | None,
    position: int,
    bucket: int,
    at: datetime,
    min_interval: timedelta,
) -> bool:
    """Tell a waiting youth only what is news, never spam.

    - the first notice is always sent;
    - a position lower than the one last told is always sent (progress is what they wait for);
    - otherwise only a changed ETA bucket, and at most once per `min_interval`, so a moving
      average that wobbles around a bound cannot flood the room. A worse position with the
      same ETA bucket is not sent: the estimate they hold is still right.
    """
    if previous is None:
        return True
    if position < previous.position:
        return True
    if bucket == previous.eta_bucket:
        return False
    return at - previous.at >= min_interval
