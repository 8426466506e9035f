"""The buffer of messages waiting for their room keys, and where a restarted bot resumes."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import EventID, RoomID
from counsel_bot.core.undecryptable import UndecryptableBuffer

CLOCK = FakeClock()
ROOM = RoomID("!r:x")


def test_it_waits_for_the_grace_period_then_names_each_room_once() -> None:
    buffer: UndecryptableBuffer[str] = UndecryptableBuffer(timedelta(seconds=30))
    buffer.add(EventID("$a"), ROOM, "a", CLOCK.now())
    buffer.add(EventID("$b"), ROOM, "b", CLOCK.now())
    assert buffer.expire(CLOCK.now() + timedelta(seconds=29)) == []
    assert buffer.expire(CLOCK.now() + timedelta(seconds=30)) == [(ROOM, ["a", "b"])]
    assert len(buffer) == 0


def test_a_restart_resumes_from_before_the_earliest_waiting_message() -> None:
    buffer: UndecryptableBuffer[str] = UndecryptableBuffer(timedelta(seconds=30))
    assert not buffer.holds_back()
    buffer.add(EventID("$a"), ROOM, "a", CLOCK.now(), resume="s1")
    buffer.add(EventID("$b"), ROOM, "b", CLOCK.now(), resume="s2")
    buffer.add(EventID("$a"), ROOM, "a", CLOCK.now(), resume="s3")  # seen again: kept as was
    assert buffer.holds_back()
    assert buffer.resume_token() == "s1"
    buffer.resolved(EventID("$a"))
    assert buffer.resume_token() == "s2"
    buffer.resolved(EventID("$b"))
    assert not buffer.holds_back()


def test_a_message_from_the_very_first_sync_resumes_from_the_start() -> None:
    buffer: UndecryptableBuffer[str] = UndecryptableBuffer(timedelta(seconds=30))
    buffer.add(EventID("$a"), ROOM, "a", CLOCK.now(), resume=None)
    assert buffer.holds_back()
    assert buffer.resume_token() is None
