"""The working-day command parser: notes and snippets, never raising, never echoing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize("case", ["Ｃ－００００ＣＡＦＥ", "\u200fC-0000cafe",
                                  "C\u200b-0000CAFE"])
def test_a_case_id_typed_full_width_or_with_invisible_marks_is_the_id(case: str) -> None:
    """As the routing commands read it ("!take Ｃ－…"): else the note went, id and all, to
    the conversation of the youth's room it was typed in, or in the staff room was
    refused with "which conversation?" for the id it named."""
    assert parse_workday(f"!note {case} ruft morgen wieder an") == NoteCommand(
        ConversationID("C-0000CAFE"), "ruft morgen wieder an")
    assert parse_workday(f"!notes {case}") == NotesCommand(ConversationID("C-0000CAFE"))


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


@given(st.text(max_size=300))
def test_the_parser_never_raises(text: str) -> None:
    for candidate in (text, "!" + text, "!note " + text, "!appointment " + text,
                      "!snippet " + text, "!s " + text):
        parse_workday(candidate)


@pytest.mark.parametrize("duration", ["45 min", "45 Min.", "45min.", "45 Minuten", "45 minutes"])
def test_an_appointments_duration_is_read_as_counsellors_write_it(duration: str) -> None:
    """A review found "!termin 2026-12-10 16:00 45 Min. video" answered "Zu viele Angaben"
    and "45min." "Das verstehe ich nicht": the way a German counsellor writes a duration,
    refused with a usage line they had followed but for a space or a dot."""
    from counsel_bot.core.appointments import Kind
    from counsel_bot.core.workday_commands import AppointmentCommand

    assert parse_workday(f"!termin 2026-12-10 16:00 {duration} video") == AppointmentCommand(
        None, "2026-12-10", "16:00", 45, Kind.VIDEO)
    assert parse_workday(f"!termin C-0000CAFE 2026-12-10 16:00 {duration} video") == \
        AppointmentCommand(ConversationID("C-0000CAFE"), "2026-12-10", "16:00", 45, Kind.VIDEO)


def test_appointment_commands() -> None:
    from counsel_bot.core.appointments import Kind
    from counsel_bot.core.workday_commands import (
        AppointmentCancel,
        AppointmentCommand,
        AppointmentList,
    )

    assert parse_workday("!appointment 2026-12-10 16:00 45min inperson") == AppointmentCommand(
        None, "2026-12-10", "16:00", 45, Kind.IN_PERSON)
    assert parse_workday("!appointment C-0000CAFE 2026-12-10 9:30 30 video") == \
        AppointmentCommand(ConversationID("C-0000CAFE"), "2026-12-10", "9:30", 30, Kind.VIDEO)
    assert parse_workday("!termin 2026-12-10 16:00 45m telefon") == AppointmentCommand(
        None, "2026-12-10", "16:00", 45, Kind.PHONE)
    assert parse_workday("!appointment cancel t-00000a") == AppointmentCancel("T-00000A")
    assert parse_workday("!appointment cancel T-0A1B2C3D") == AppointmentCancel("T-0A1B2C3D")
    assert parse_workday("!appointments") == AppointmentList()
    for bad in ("!appointment 2026-12-10 16:00 45min bus", "!appointment 2026-12-10 16:00",
                "!appointment cancel", "!appointment 2026-12-10 16:00 lang video",
                "!appointment cancel T-0A1B2C3", "!appointment cancel T-0A1B2C3D4"):
        assert isinstance(parse_workday(bad), ParseError), bad
