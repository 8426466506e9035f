"""The token-bucket limiter: per address and global, on a fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core.clock import FakeClock
from homeserver_bridge.rate_limit import Rate, RateLimiter


def limiter(per_address: int = 3, overall: int = 60) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(Rate.per_hour(per_address), Rate.per_hour(overall), clock), clock


def test_an_address_gets_its_burst_then_waits_for_one_refill() -> None:
    limits, clock = limiter(per_address=3)
    assert [limits.acquire("a").allowed for _ in range(3)] == [True, True, True]
    refused = limits.acquire("a")
    assert not refused.allowed
    assert refused.limited_by == "address"
    # 3 per hour refill one unit every 20 minutes.
    assert refused.retry_after == timedelta(minutes=20)
    clock.advance(timedelta(minutes=19, seconds=59))
    assert not limits.acquire("a").allowed
    clock.advance(timedelta(seconds=1))
    assert limits.acquire("a").allowed
    assert not limits.acquire("a").allowed


def test_addresses_do_not_share_their_buckets() -> None:
    limits, _ = limiter(per_address=1)
    assert limits.acquire("a").allowed
    assert not limits.acquire("a").allowed
    assert limits.acquire("b").allowed


def test_the_global_bucket_stops_many_addresses() -> None:
    limits, clock = limiter(per_address=3, overall=5)
    assert all(limits.acquire(f"address-{n}").allowed for n in range(5))
    refused = limits.acquire("address-new")
    assert (refused.allowed, refused.limited_by) == (False, "global")
    assert refused.retry_after == timedelta(minutes=12)
    clock.advance(timedelta(minutes=12))
    assert limits.acquire("address-new").allowed


def test_a_refused_request_costs_nothing() -> None:
    limits, clock = limiter(per_address=1)
    assert limits.acquire("a").allowed
    for _ in range(50):
        assert not limits.acquire("a").allowed
    clock.advance(timedelta(hours=1))
    assert limits.acquire("a").allowed


def test_a_refusal_by_the_address_does_not_spend_the_global_bucket() -> None:
    limits, _ = limiter(per_address=1, overall=2)
    assert limits.acquire("a").allowed
    assert not limits.acquire("a").allowed
    assert limits.acquire("b").allowed


def test_check_changes_nothing_and_record_spends() -> None:
    limits, _ = limiter(per_address=1)
    for _ in range(5):
        assert limits.check("a").allowed
    limits.record("a")
    assert not limits.check("a").allowed


def test_the_longer_wait_is_reported_when_both_buckets_are_empty() -> None:
    limits, _ = limiter(per_address=1, overall=1)
    assert limits.acquire("a").allowed
    refused = limits.check("a")
    assert refused.retry_after == timedelta(hours=1)


def test_full_buckets_are_forgotten() -> None:
    limits, clock = limiter(per_address=2)
    for n in range(10):
        limits.acquire(f"address-{n}")
    assert limits.tracked_keys == 10
    clock.advance(timedelta(hours=1))
    limits.check("someone")
    assert limits.tracked_keys == 0


def test_a_clock_running_back_refills_nothing() -> None:
    limits, clock = limiter(per_address=1)
    assert limits.acquire("a").allowed
    clock.set(clock.now() - timedelta(hours=5))
    assert not limits.acquire("a").allowed


@pytest.mark.parametrize(
    ("capacity", "period"), [(0, timedelta(hours=1)), (1, timedelta(0)), (1, -timedelta(1))]
)
def test_a_rate_must_make_sense(capacity: int, period: timedelta) -> None:
    with pytest.raises(ValueError, match="a rate needs"):
        Rate(capacity, period)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=80))
def test_no_window_lets_through_more_than_burst_plus_refill(gaps: list[int]) -> None:
    limits, clock = limiter(per_address=3, overall=1000)
    allowed_at = []
    for gap in gaps:
        clock.advance(timedelta(seconds=gap))
        if limits.acquire("a").allowed:
            allowed_at.append(clock.now())
    window = timedelta(hours=1)
    for start in allowed_at:
        inside = [t for t in allowed_at if start <= t < start + window]
        # Bucket bound: capacity + rate * window = 3 + 3.
        assert len(inside) <= 6


def test_a_client_keeping_to_the_rate_is_never_refused() -> None:
    limits, clock = limiter(per_address=3)
    for _ in range(20):
        assert limits.acquire("a").allowed
        clock.advance(timedelta(minutes=20))
