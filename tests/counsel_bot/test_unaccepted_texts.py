"""`UnacceptedTexts`: when a text waiting for a direct room's invitation is reported to the
team leads (pure: the time is passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from counsel_bot.channels.matrix.unaccepted import UNACCEPTED_AFTER, UnacceptedTexts

AT = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


def test_told_once_after_the_wait_counted_from_the_first_try() -> None:
    texts = UnacceptedTexts()
    texts.tried("k", AT)
    assert not texts.due("k", AT + timedelta(minutes=1))  # the room was only just opened
    assert not texts.due("k", AT + UNACCEPTED_AFTER - timedelta(seconds=1))
    assert texts.due("k", AT + UNACCEPTED_AFTER)
    assert not texts.due("k", AT + 2 * UNACCEPTED_AFTER)  # once, not at every retry


def test_a_failed_telling_is_tried_again_and_a_sent_text_starts_afresh() -> None:
    texts = UnacceptedTexts()
    texts.tried("k", AT)
    assert texts.due("k", AT + UNACCEPTED_AFTER)
    texts.not_told("k")
    assert texts.due("k", AT + UNACCEPTED_AFTER + timedelta(seconds=5))
    texts.sent("k")
    texts.tried("k", AT + timedelta(hours=1))
    assert not texts.due("k", AT + timedelta(hours=1, minutes=1))
