"""The working-day command parser: notes and snippets, never raising, never echoing."""

from __future__ import annotations

import pytest

from counsel_bot.core.commands import ParseError, ParseErrorKey
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.workday_commands import (
    NoteCommand,
    NotesCommand,
    SnippetAdd,
    SnippetCommand,
    SnippetList,
    SnippetRemove,
    parse_workday,
    workday_help,
)


def test_a_note_with_and_without_a_case_id() -> None:
    assert parse_workday("!note c-0000cafe ruft morgen wieder an") == NoteCommand(
        ConversationID("C-0000CAFE"), "ruft morgen wieder an")
    assert parse_workday("!note Schule ist Thema\nzweite Zeile") == NoteCommand(
        None, "Schule ist Thema\nzweite Zeile")
    assert parse_workday("!note C-0000CAFE\nmehrzeilig") == NoteCommand(
        ConversationID("C-0000CAFE"), "mehrzeilig")


@pytest.mark.parametrize("text", ["!note", "!note C-0000CAFE", "!note    "])
def test_an_empty_note_is_an_error_without_the_input(text: str) -> None:
    result = parse_workday(text)
    assert isinstance(result, ParseError)
    assert result.key is ParseErrorKey.MISSING_ARGUMENT
    assert "C-0000CAFE" not in result.hint


def test_snippets() -> None:
    assert parse_workday("!s Hallo") == SnippetCommand("hallo")
    assert parse_workday("!snippet add gruss Hallo, ich bin da.") == SnippetAdd(
        "gruss", "Hallo, ich bin da.")
    assert parse_workday("!snippet remove gruss") == SnippetRemove("gruss")
    assert parse_workday("!snippets") == SnippetList()
    assert parse_workday("!snippet list") == SnippetList()
    assert isinstance(parse_workday("!s"), ParseError)
    assert isinstance(parse_workday("!s zwei worte"), ParseError)
    assert isinstance(parse_workday("!snippet add gruss"), ParseError)
    assert isinstance(parse_workday("!snippet fly x y"), ParseError)


@pytest.mark.parametrize("text", ["note this", "!duty on", "!notebook", "!notes-x", "hallo"])
def test_other_messages_are_left_to_the_routing_parser(text: str) -> None:
    assert parse_workday(text) is None


def test_notes_listing_and_help_recommends_the_staff_room() -> None:
    assert parse_workday("!notes C-0000CAFE") == NotesCommand(ConversationID("C-0000CAFE"))
    assert "staff room" in workday_help("en", "note")
    assert "Teamraum" in workday_help("de")
    assert "signed by your device" in workday_help("en", "s")
