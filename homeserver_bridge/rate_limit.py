"""Token buckets, one per key (a client address) and one for everybody; pure, clock injected.

Rules this module keeps:
- A bucket holds at most ``capacity`` units and refills continuously at ``capacity`` units
  per ``period``; a request costs one unit from its key's bucket *and* the global bucket.
- A request is allowed only if both buckets hold a whole unit; a refused request costs
  nothing, so hammering the limit does not push the wait further out.
- ``check`` never changes state; ``record`` spends; ``acquire`` is both in one step. Callers
  that may fail after deciding (a homeserver call) check first and record on success.
- Time comes from the injected clock; a clock that runs back counts as no time passing.
- A key whose bucket has refilled completely is forgotten, so memory holds only keys that
  were served within the last period (bounded by the global capacity).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

Scope = Literal["address", "global"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


@dataclass(frozen=True)
class Rate:
    """``capacity`` requests per ``period``, with bursts up to ``capacity``."""

    capacity: int
    period: timedelta

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"a rate needs a capacity of at least 1, not {self.capacity}")
        if self.period <= timedelta(0):
            raise ValueError("a rate needs a positive period, such as timedelta(hours=1)")

    @classmethod
    def per_hour(cls, capacity: int) -> Rate:
        return cls(capacity, timedelta(hours=1))

    @property
    def units_per_second(self) -> float:
        return self.capacity / self.period.total_seconds()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Which bucket refused (the one with the longer wait if both did); None when allowed.
    limited_by: Scope | None = None
    retry_after: timedelta = timedelta(0)


@dataclass
class _Bucket:
    units: float
    updated: datetime


class RateLimiter:
    """Per-key and global token buckets sharing one clock."""

    def __init__(self, per_address: Rate, overall: Rate, clock: Clock) -> None:
        self._per_address = per_address
        self._overall = overall
        self._clock = clock
        self._global = _Bucket(float(overall.capacity), clock.now())
        self._keys: dict[Hashable, _Bucket] = {}

    def check(self, key: Hashable) -> Verdict:
        now = self._clock.now()
        self._forget_full(now)
        waits: list[tuple[float, Scope]] = []
        own = self._level(self._keys.get(key), self._per_address, now)
        if own < 1.0:
            waits.append((_seconds_to_one(own, self._per_address), "address"))
        shared = self._level(self._global, self._overall, now)
        if shared < 1.0:
            waits.append((_seconds_to_one(shared, self._overall), "global"))
        if not waits:
            return Verdict(True)
        seconds, scope = max(waits)
        return Verdict(False, scope, timedelta(seconds=math.ceil(seconds)))

    def record(self, key: Hashable) -> None:
        """Spend one unit for ``key`` and one globally (not below zero)."""
        now = self._clock.now()
        own = self._level(self._keys.get(key), self._per_address, now)
        self._keys[key] = _Bucket(max(own - 1.0, 0.0), now)
        shared = self._level(self._global, self._overall, now)
        self._global = _Bucket(max(shared - 1.0, 0.0), now)

    def acquire(self, key: Hashable) -> Verdict:
        verdict = self.check(key)
        if verdict.allowed:
            self.record(key)
        return verdict

    @property
    def tracked_keys(self) -> int:
        return len(self._keys)

    def _forget_full(self, now: datetime) -> None:
        full = [
            key
            for key, bucket in self._keys.items()
            if self._level(bucket, self._per_address, now) >= self._per_address.capacity
        ]
        for key in full:
            del self._keys[key]

    @staticmethod
    def _level(bucket: _Bucket | None, rate: Rate, now: datetime) -> float:
        if bucket is None:
            return float(rate.capacity)
        elapsed = max((now - bucket.updated).total_seconds(), 0.0)
        return min(bucket.units + elapsed * rate.units_per_second, float(rate.capacity))


def _seconds_to_one(level: float, rate: Rate) -> float:
    return (1.0 - level) / rate.units_per_second
