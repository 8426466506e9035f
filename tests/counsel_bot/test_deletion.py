"""A youth's own deletion without a server: asked first, confirmed in time, and with admin
access the erasing effects after everything the conversation still needs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.deletion import DELETE_CONFIRM_WITHIN, ask, asked_key, confirm
from counsel_bot.core.effects import (
    DeactivateYouth,
    EraseConversation,
    Leave,
    PurgeRoom,
    SayToStaff,
    SayToYouth,
)
from counsel_bot.core.messages import Language
from tests.counsel_bot.parts import AT, CASE, COUNSELLOR, assigned, effects

EMERGENCY: dict[Language, str] = {"de": "116 111", "en": "116 111 (en)"}


def confirmed(asked: str | None, *, can_delete: bool, later: timedelta = timedelta(0)
              ) -> tuple[Change, bool]:
    """`end` leaves a marker (standing for the router's closing effects) to show where."""
    step = Change(AT + later, None)
    erased = confirm(step, CASE, assigned(), asked, emergency=EMERGENCY,
                     can_delete=can_delete, end=lambda: step.add(Leave(CASE)))
    return step, erased


@pytest.mark.parametrize(("can_delete", "key"),
                         [(True, "delete.confirm"), (False, "delete.confirm_later")])
def test_asking_says_what_will_happen_and_remembers_when(can_delete: bool, key: str) -> None:
    step = Change(AT, None)
    ask(step, CASE, can_delete=can_delete)
    assert effects(step) == [SayToYouth(CASE, key)]
    assert step.settings == [(asked_key(CASE), AT.isoformat())]


@pytest.mark.parametrize("asked", [None, "", (AT - DELETE_CONFIRM_WITHIN
                                              - timedelta(seconds=1)).isoformat()])
def test_without_a_recent_question_the_youth_is_asked_first(asked: str | None) -> None:
    step, erased = confirmed(asked, can_delete=True)
    assert (effects(step), erased) == ([SayToYouth(CASE, "delete.ask_first")], False)


def test_confirmed_with_admin_access_the_erasure_comes_last() -> None:
    step, erased = confirmed(AT.isoformat(), can_delete=True, later=timedelta(minutes=9))
    assert erased
    goodbye, closed, staff, *rest = effects(step)
    assert closed == Leave(CASE)
    assert goodbye == SayToYouth(CASE, "delete.now", (("emergency", "116 111"),))
    assert isinstance(staff, SayToStaff)
    assert staff.mentions == (COUNSELLOR,)
    assert rest == [PurgeRoom(CASE), DeactivateYouth(CASE), EraseConversation(CASE)]
    assert step.settings == [(asked_key(CASE), "")]


def test_confirmed_without_admin_access_retention_deletes_it() -> None:
    step, erased = confirmed(AT.isoformat(), can_delete=False)
    assert not erased
    [goodbye, closed, staff] = effects(step)
    assert isinstance(goodbye, SayToYouth)
    assert goodbye.key == "delete.by_retention"
    assert closed == Leave(CASE)
    assert isinstance(staff, SayToStaff)
    assert staff.key == "staff_delete_by_retention"
