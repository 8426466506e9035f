"""Every parser of what a person types, fuzzed: a result, a parse error or None; never a crash.

The command parsers have their own fuzzers (test_commands.py). These are the others a
youth's or a counsellor's message passes through before anything is committed: the group
and forum words (asked about every youth's every message), the working-day commands, the
office question, the feedback score, the appointment answers. One of them raising stops the
sync loop on that message, and the restarted bot meets the same message again.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.conversation.feedback import score
from counsel_bot.conversation.offices import preselected
from counsel_bot.core import group_commands as gc
from counsel_bot.core.appointments import mail_answer, youth_answer
from counsel_bot.core.incoming_text import case_code_in, mail_address
from counsel_bot.core.language import guess_language
from counsel_bot.core.offices import match_office, office_from, postcode_in, topics_in
from counsel_bot.core.workday_commands import parse_workday
from tests.fuzz.hostile import hostile_text

EXAMPLES = 150  # for each parser
BERLIN = ZoneInfo("Europe/Berlin")
OFFICES = (office_from("familie", "Familie", ["family"], ["89000-89999"]),
           office_from("schule", "Schule", ["school"], []))

PARSERS: dict[str, Callable[[str], object]] = {
    "parse_youth_group": gc.parse_youth_group,
    "parse_staff_group": lambda text: gc.parse_staff_group(text, BERLIN),
    "parse_group_room": gc.parse_group_room,
    "parse_workday": parse_workday,
    "score": score,
    "preselected": preselected,
    "youth_answer": youth_answer,
    "mail_answer": mail_answer,
    "mail_address": mail_address,
    "case_code_in": case_code_in,
    "guess_language": lambda text: guess_language(text, "de"),
    "topics_in": lambda text: topics_in(text, OFFICES),
    "postcode_in": postcode_in,
    "match_office": lambda text: match_office(text, OFFICES, "familie", asked=True),
}
# What a message starts with when it is meant for the parser; the tail is hostile.
OPENINGS: dict[str, list[str]] = {
    "parse_youth_group": ["gruppe ", "group #", "Gruppe\u00a0", "forum ", "forum schule "],
    "parse_staff_group": ["!group end ", "!gruppe ende #", '!group new "x" 2026-12-10 18:00 ',
                          "!forum ", "!forum approve "],
    "parse_group_room": ["!mute ", "!remove ", "!end "],
    "parse_workday": ["!note ", "!note C-1 ", "!snippet add x ", "!s ", "!termin ",
                      "!termin cancel ", "!termine "],
    "score": ["", "5"], "youth_answer": ["ja ", "nein "], "mail_answer": ["ja\n", "> "],
    "topics_in": [" ", "Thema "], "match_office": ["Schule ", "89073 "],
}
# Digits str.isdigit() accepts and int() refuses (superscripts, circled digits, Ethiopic);
# then numbers of every script Unicode has.
ODD_DIGITS = [c for c in map(chr, range(0x30000)) if c.isdigit() and not c.isdecimal()]
NUMBERS = (st.text(st.sampled_from(ODD_DIGITS), min_size=1, max_size=3)
           | st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=4))


@pytest.mark.parametrize("parser", sorted(PARSERS))
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data(), tail=NUMBERS | hostile_text(big=False))
def test_no_parser_of_typed_text_raises(parser: str, data: st.DataObject, tail: str) -> None:
    opening = data.draw(st.sampled_from(["", *OPENINGS.get(parser, [])]))
    PARSERS[parser](opening + tail)


def test_a_digit_int_cannot_read_is_not_a_group_number() -> None:
    # "፩" (Ethiopic one) is a digit to str.isdigit() and nothing to int(): it stopped the
    # bot for everyone when a youth wrote "gruppe ፩" (review of groups, finding 1).
    assert gc.parse_youth_group("gruppe \u1369") is None
    assert isinstance(gc.parse_staff_group("!group end \u1369", BERLIN), gc.GroupCommandError)
    # A digit int() reads is a number like any other.
    assert gc.parse_youth_group("gruppe \u0663") == gc.YouthSignUp(3)
