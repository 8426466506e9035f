"""How a new chat conversation starts: greeting, staff notice, and out of hours."""

from __future__ import annotations

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.welcome import welcome
from counsel_bot.core.effects import SayToStaff, SayToYouth
from counsel_bot.core.messages import Language
from counsel_bot.core.opening_hours import OpeningHours
from tests.counsel_bot.parts import AT, CASE, effects

EMERGENCY: dict[Language, str] = {"de": "116 111", "en": "116 111 (en)"}
# AT is a Monday, 16:00 in Berlin.
OPEN = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {"mon": ["14:00-20:00"]}})
CLOSED = OpeningHours.from_dict({"timezone": "Europe/Berlin", "weekly": {"tue": ["14:00-20:00"]}})


def test_in_hours_and_in_the_default_language_only_staff_hear() -> None:
    step = Change(AT, None)
    welcome(step, CASE, "de", default_language="de", hours=OPEN, emergency=EMERGENCY)
    assert effects(step) == [SayToStaff("staff_new_conversation",
                                        (("conversation", CASE), ("language", "de")))]


def test_another_language_is_greeted_again_and_out_of_hours_told_when_and_where() -> None:
    step = Change(AT, None)
    welcome(step, CASE, "en", default_language="de", hours=CLOSED, emergency=EMERGENCY)
    greeting, _, notice = effects(step)
    assert greeting == SayToYouth(CASE, "greeting")
    assert notice == SayToYouth(CASE, "out_of_hours", (("next_opening", "24.11. 14:00"),
                                                       ("emergency", "116 111 (en)")))
