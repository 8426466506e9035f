"""The wait for a counsellor's first words counts once per assignment, for them only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from counsel_bot.conversation.first_reply import FirstReplies
from tests.counsel_bot.parts import AT, COUNSELLOR, LEAD, WAITING, assigned

LATER = AT + timedelta(minutes=3)


def test_only_the_first_message_of_the_assigned_counsellor_counts() -> None:
    replies = FirstReplies()
    assert replies.wait(WAITING, COUNSELLOR, LATER) is None
    assert replies.wait(assigned(), LEAD, LATER) is None
    assert replies.wait(assigned(), COUNSELLOR, LATER) == timedelta(minutes=3)
    assert replies.wait(assigned(), COUNSELLOR, LATER) is None


def test_a_new_assignment_counts_again() -> None:
    replies = FirstReplies()
    replies.wait(assigned(), COUNSELLOR, LATER)
    again = replace(assigned(), assignments=2, assigned_at=LATER)
    assert replies.wait(again, COUNSELLOR, LATER + timedelta(minutes=1)) == timedelta(minutes=1)
