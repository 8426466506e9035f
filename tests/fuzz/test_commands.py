"""Fuzzing the command parsers: any text in, a command, a ParseError or None out; never a crash."""

from __future__ import annotations

import re
import typing
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core import commands as cmd
from tests.fuzz.hostile import INVISIBLE, hostile_text

STAFF_EXAMPLES = 2800
YOUTH_EXAMPLES = 2800

# Every command the parser may return, read from its own union: a list written here missed
# the commands added since (`!chat`, `!supervise`, `!transfer office:`), and hypothesis found
# "!CHAT" only some runs.
STAFF_RESULTS = (*typing.get_args(cmd.StaffCommand), cmd.ParseError)
CONVERSATION = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_staff_result(result: object) -> None:
    assert result is None or isinstance(result, STAFF_RESULTS), type(result)
    match result:
        case cmd.CapacityCommand(capacity=capacity):
            assert 0 <= capacity <= cmd.MAX_CAPACITY_SYNTAX
        case cmd.LanguagesCommand(languages=languages):
            assert 0 < len(languages) <= cmd.MAX_LIST_ITEMS
            assert all(code.isascii() and 2 <= len(code) <= 3 for code in languages)
        case cmd.TopicsCommand(topics=topics):
            assert len(topics) <= cmd.MAX_LIST_ITEMS
        case cmd.TakeCommand(conversation=conversation):
            assert CONVERSATION.fullmatch(conversation)
        case cmd.ParseError(key=key):
            assert key in set(cmd.ParseErrorKey)


@settings(max_examples=STAFF_EXAMPLES, deadline=None)
@given(text=hostile_text())
def test_staff_parser_never_crashes(text: str) -> None:
    # The private parser too: parse_staff's safety net would hide its crashes as "not a
    # command", which silently drops a counsellor's command.
    inner = cmd._parse_staff(text)
    result = cmd.parse_staff(text)
    assert result == inner
    check_staff_result(result)
    if "!" not in unicodedata.normalize("NFKC", text):
        # Nothing is carried out without "!"; a slash command of other chat programs
        # ("/note …") is answered as a mistyped command, never passed on as a reply.
        assert result is None or (isinstance(result, cmd.ParseError) and "/" in text), (
            "a message without '!' is never a command")
    if isinstance(result, cmd.HelpCommand | cmd.ParseError):
        assert cmd.help_text("de", getattr(result, "topic", None))


@settings(max_examples=YOUTH_EXAMPLES, deadline=None)
@given(text=hostile_text())
def test_youth_parser_never_crashes(text: str) -> None:
    result = cmd.parse_youth(text)
    assert result is None or isinstance(result, cmd.YouthCommand)
    if len(text) > cmd.MAX_YOUTH_COMMAND_CHARS:
        assert result is None
    assert cmd.parse_youth(text) == result


VALID_STAFF = st.sampled_from([
    "!duty on", "!duty off unplanned", "!capacity 3", "!languages de en", "!topics", "!next",
    "!take C-0000ABCD", "!transfer C-1 @anna:x", "!transfer queue", "!close", "!confirm C-1",
    "!dismiss", "!status", "!queue", "!video", "!help take",
])


@st.composite
def with_invisibles(draw: st.DrawFn, text: str) -> str:
    """`text` with up to three invisible format characters slipped in anywhere."""
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(INVISIBLE)) + text[at:]
    return text


@settings(max_examples=800, deadline=None)
@given(data=st.data(), command=VALID_STAFF)
def test_invisible_characters_do_not_change_a_staff_command(
    data: st.DataObject, command: str
) -> None:
    disguised = data.draw(with_invisibles(command))
    assert cmd.parse_staff(disguised) == cmd.parse_staff(command)


YOUTH_WORDS = st.sampled_from(["hilfe", "Help", "VIDEO", "mail", "E-Mail", "ende", "End",
                               "löschen", "LOESCHEN", "delete", "ja löschen", "Yes Delete"])


@settings(max_examples=800, deadline=None)
@given(data=st.data(), word=YOUTH_WORDS, prefix=st.sampled_from(["", "!", "/", "  "]),
       suffix=st.sampled_from(["", ".", "!", "?!", "  "]))
def test_a_disguised_youth_word_is_still_that_command(
    data: st.DataObject, word: str, prefix: str, suffix: str
) -> None:
    disguised = data.draw(with_invisibles(prefix + word + suffix))
    expected = cmd.parse_youth(word)
    assert expected is not None
    assert cmd.parse_youth(disguised) == expected
