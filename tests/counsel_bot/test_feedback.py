"""A closed conversation takes one score, once; everything else points to a new one."""

from __future__ import annotations

import pytest

from counsel_bot.conversation.change import Change
from counsel_bot.conversation.feedback import after_close, score, setting_key
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.messages import text
from tests.counsel_bot.parts import AT, CASE, effects


@pytest.mark.parametrize(("body", "given"), [
    ("4", 4), (" 5! ", 5), ("1.", 1), ("0", None), ("6", None), ("4 war gut", None), ("", None),
])
def test_a_score_is_a_lone_digit_from_one_to_five(body: str, given: int | None) -> None:
    assert score(body) == given


@pytest.mark.parametrize(("body", "given"), [
    ("\uff15", 5), ("\uff13\uff01", 3),  # full-width, from a Japanese or Chinese keyboard
    ("5\ufe0f\u20e3", 5), ("2\u20e3", 2),  # keycap emoji, a phone's emoji digits
    ("\u2b50" * 5, 5), ("\u2b50\ufe0f" * 4, 4), ("\u2605\u2605\u2605", 3), (" \u2b50 ", 1),
    ("\u2b50" * 6, None), ("\u2605\u2b50x", None), ("\uff10", None),
    # An Arabic or Persian keyboard's digits: "٥", "۳"
    ("\u0665", 5), ("\u06f3", 3), ("\u0660", None), ("\u0665\u0665", None),
])
def test_a_score_as_a_phone_writes_it_counts(body: str, given: int | None) -> None:
    """Asked for a number from 1 to 5, a youth answered "⭐⭐⭐⭐⭐", "5️⃣", a full-width
    "５" or an Arabic "٥": no score was kept, and instead of a thank-you they were told the
    chat had ended and to start a new one, with the emergency numbers, as if they had asked
    for help."""
    assert score(body) == given


def test_the_first_score_is_thanked_and_kept() -> None:
    step = Change(AT, None)
    after_close(step, CASE, "5", scored_before=False)
    assert effects(step) == [SayToYouth(CASE, "feedback_thanks")]
    assert step.settings == [(setting_key(CASE), "1")]
    assert len(step.after) == 1


@pytest.mark.parametrize(("body", "scored_before"), [("5", True), ("noch was", False)])
def test_anything_else_points_to_a_new_conversation(body: str, scored_before: bool) -> None:
    step = Change(AT, None)
    after_close(step, CASE, body, scored_before=scored_before, emergency="116 111")
    assert effects(step) == [SayToYouth(CASE, "closed_write_new", (("emergency", "116 111"),))]
    assert step.settings == []
    assert step.after == []


@pytest.mark.parametrize("key", ["feedback_thanks", "closed_for_youth"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_youth_learns_that_talking_again_means_a_new_chat(key: str, language: str) -> None:
    """The bot leaves a closed conversation's room ten minutes after the youth's last word
    there. "Du kannst jederzeit wieder schreiben" and, after the score, only "Pass auf dich
    auf" left a youth who came back days later writing into a room nobody reads any more
    (crisis words too): both now say a new chat is the way back."""
    said = text(key, language)  # type: ignore[arg-type]
    assert ("neuen Chat" if language == "de" else "new chat") in said


def test_a_score_corrected_after_one_was_counted_is_left_unanswered() -> None:
    step = Change(AT, None)
    after_close(step, CASE, "5", scored_before=True, emergency="116 111", edit=True)
    assert (effects(step), step.settings, step.after) == ([], [], [])
