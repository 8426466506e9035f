"""RouterDashboardSource: the dashboard built from the live routing state and small lookups."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.routing import CapacitySet, CounsellorOffDuty, Router, Transfer
from counsel_bot.metrics import TodayFigures
from counsel_bot.web import (
    CrisisDetail,
    CrisisEntry,
    DashboardDataError,
    QueueEntry,
    RouterDashboardSource,
    snapshot_to_json,
)
from tests.metrics.test_metrics import ANNA, BEN, NICKNAMES, T0, busy_router

ROOMS = {ConversationID("C-00000005"): "https://matrix.to/#/!secretroom:counsel.localhost"}


def source(router: Router, clock: FakeClock) -> RouterDashboardSource:
    return RouterDashboardSource(
        router.snapshot,
        clock,
        nickname=NICKNAMES.get,
        room_link=ROOMS.get,
        crisis_detail=lambda c: CrisisDetail("suicide", T0 + timedelta(minutes=6))
        if c == "C-00000005" else None,
        today=lambda: TodayFigures(opened=5, median_wait_seconds=30.0),
    )


async def test_snapshot_from_router() -> None:
    clock = FakeClock(T0 + timedelta(minutes=10))
    router = busy_router(T0)
    snap = await source(router, clock).snapshot()
    assert [q.conversation for q in snap.queue] == ["C-00000005"]
    assert snap.queue[0].priority == "crisis"
    assert [(s.nickname, s.load, s.capacity) for s in snap.staff] == [("anna", 2, 2),
                                                                       ("ben", 2, 2)]
    (flag,) = snap.crisis
    assert (flag.category, flag.severity) == ("suicide", "high")
    assert flag.since == T0 + timedelta(minutes=6)
    assert flag.room_link == ROOMS[ConversationID("C-00000005")]
    assert snap.today.opened == 5
    data = snapshot_to_json(snap)
    assert data["queue_length"] == 1
    assert data["crisis_waiting"] == 1
    assert data["longest_wait_seconds"] == 360


async def test_a_youth_handed_back_is_shown_waiting_since_the_hand_back() -> None:
    clock = FakeClock(T0 + timedelta(minutes=10))
    router = busy_router(T0)
    router.handle(CapacitySet(T0 + timedelta(minutes=7), ANNA, 1))  # C-00000005 waits on
    router.handle(Transfer(T0 + timedelta(minutes=8), ANNA, ConversationID("C-00000001"), None))
    snap = await source(router, clock).snapshot()
    assert [(q.conversation, q.waiting_since) for q in snap.queue] == [
        ("C-00000005", T0 + timedelta(minutes=4)), ("C-00000001", T0 + timedelta(minutes=8))]
    queue = snapshot_to_json(snap)["queue"]
    waited = {q["conversation"]: q["waited_seconds"] for q in queue}
    assert waited == {"C-00000005": 360, "C-00000001": 120}
    # Marked, so a lead sees why a shorter wait stands before a longer one.
    assert {q["conversation"]: q["handed_back"] for q in queue} == {
        "C-00000005": False, "C-00000001": True}


async def test_on_duty_staff_with_unverified_sessions_are_a_count_without_ids() -> None:
    clock = FakeClock(T0 + timedelta(minutes=10))
    router = busy_router(T0)
    router.handle(CounsellorOffDuty(T0 + timedelta(minutes=7), BEN))
    counted = RouterDashboardSource(router.snapshot, clock, nickname=NICKNAMES.get,
                                    unsigned=lambda: frozenset({ANNA, BEN}))
    data = snapshot_to_json(await counted.snapshot())
    assert data["unverified_on_duty"] == 1  # BEN is off duty
    text = json.dumps(data)
    for user in (ANNA, BEN):
        assert user not in text


async def test_json_carries_no_user_ids_and_room_ids_only_in_links() -> None:
    clock = FakeClock(T0 + timedelta(minutes=10))
    router = busy_router(T0)
    router.handle(CounsellorOffDuty(T0 + timedelta(minutes=7), BEN))
    text = json.dumps(snapshot_to_json(await source(router, clock).snapshot()))
    for user in (ANNA, BEN):
        assert user not in text
    assert text.count("!secretroom") == 1


async def test_unknown_lookups_show_as_unknown() -> None:
    clock = FakeClock(T0 + timedelta(minutes=10))
    router = busy_router(T0)
    plain = RouterDashboardSource(router.snapshot, clock, nickname=lambda _u: None)
    snap = await plain.snapshot()
    assert {s.nickname for s in snap.staff} == {"unnamed"}
    (flag,) = snap.crisis
    assert flag.category is None
    assert flag.room_link is None
    assert flag.since == T0 + timedelta(minutes=4)  # falls back to when it was queued


def test_a_room_of_version_12_has_a_link_without_a_server() -> None:
    """The embedded Synapse makes version 12 rooms: their ids have no ":server" part, and
    the dashboard answered 500 while any crisis was open (found on a fresh install)."""
    link = "https://matrix.to/#/!Yu4YFbjlYpEBrGLz-UKDeQz_kg0dJ6kNXxyP5wQ2dUA"
    assert CrisisEntry(ConversationID("C-00000001"), "suicide", "high", T0, link).room_link == link


def test_entries_refuse_what_must_not_be_shown() -> None:
    with pytest.raises(DashboardDataError):
        QueueEntry(ConversationID("!room:server"), "normal", "chat", "de", T0)
    with pytest.raises(DashboardDataError):
        CrisisEntry(ConversationID("C-00000001"), "suicide", "high", T0,
                    "javascript:alert(1)")
    with pytest.raises(DashboardDataError):
        CrisisEntry(ConversationID("C-00000001"), "suicide", "high", T0,
                    'https://matrix.to/#/!a:b" onclick="x')
    with pytest.raises(DashboardDataError):
        CrisisEntry(ConversationID("C-00000001"), "boredom", "high", T0)
