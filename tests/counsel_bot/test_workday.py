"""Case notes and snippets through the conductor: memory store, sealed values, no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.notes import notes_key, read
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import (
    Effect,
    Redact,
    SayInRoom,
    SayToStaff,
    SayToYouth,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

ROOM, YOUTH, STAFF_ROOM = RoomID("!room:x"), UserID("@sunflower:x"), RoomID("!staff:x")
ANNA = UserID("@anna:x")
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


async def opened(snippets: dict[str, str] | None = None) -> tuple[Conductor, ConversationID]:
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(ANNA,))))
    if snippets:
        policy.snippets.update(snippets)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    c = await Conductor.open(MemoryStore(AeadSealer()), detector, policy, T0)
    await c.sync_roster(T0)
    await c.youth_wrote(ROOM, YOUTH, None, EventID("$y1"), "hallo", T0)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    return c, record.conversation


async def outbox(c: Conductor) -> list[Effect]:
    return [decode_effect(e.payload) for e in await c.store.pending_outbox()]


async def test_a_staff_room_note_is_stored_sealed_and_erased_with_the_conversation() -> None:
    c, conversation = await opened()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n1"),
                        f"!note {conversation} Schulangst, Mutter weiß Bescheid", T0)
    [note] = await read(c.store, conversation)
    assert (note.by, note.text) == (ANNA, "Schulangst, Mutter weiß Bescheid")
    assert c.store._sealed_settings[notes_key(conversation)] != b""  # type: ignore[attr-defined]
    assert b"Schulangst" not in c.store._sealed_settings[  # type: ignore[attr-defined]
        notes_key(conversation)]
    [reply] = [e for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert (reply.room_id, reply.key) == (STAFF_ROOM, "notes.saved")
    await c.store.erase_conversation(conversation)
    assert await read(c.store, conversation) == []


async def test_a_note_in_the_youths_room_is_redacted_and_answered_in_the_staff_room() -> None:
    c, conversation = await opened()
    await c.staff_wrote(ROOM, ANNA, EventID("$n1"), "!note ruft morgen wieder an", T0)
    assert [n.text for n in await read(c.store, conversation)] == ["ruft morgen wieder an"]
    effects = await outbox(c)
    assert Redact(conversation, EventID("$n1")) in effects
    replies = [e for e in effects if isinstance(e, SayToStaff) and e.key.startswith("notes.")]
    assert [r.key for r in replies] == ["notes.saved_in_youth_room"]
    assert not any(isinstance(e, SayToYouth) and "morgen" in str(e.params) for e in effects)
    assert not any(isinstance(e, SayInRoom) and e.room_id == ROOM for e in effects)


@pytest.mark.parametrize("lead", ["\ufeff!", "\u200b!", "\uff01"], ids=["bom", "zwsp", "fullwidth"])
async def test_a_note_the_routing_parser_reads_as_a_command_is_a_note_and_redacted(
        lead: str) -> None:
    """A note pasted with an invisible mark before its "!" (or typed with a full-width one)
    is a command to the routing parser, which drops such marks: the working-day parser must
    read it too, or the note stays in the youth's room for them to read and is not saved."""
    c, conversation = await opened()
    await c.staff_wrote(ROOM, ANNA, EventID("$n1"), f"{lead}note Vater schlägt, Verdacht", T0)
    assert [n.text for n in await read(c.store, conversation)] == ["Vater schlägt, Verdacht"]
    assert Redact(conversation, EventID("$n1")) in await outbox(c)


async def test_a_note_refused_as_too_long_in_the_youths_room_is_redacted_too() -> None:
    """A long case summary pasted with "!note" into the youth's room was refused as too
    long, and only a saved note was redacted: the refused one stayed there for the youth
    to read, about them."""
    c, conversation = await opened()
    await c.staff_wrote(ROOM, ANNA, EventID("$n1"), "!note " + "Vater schlägt. " * 300, T0)
    assert await read(c.store, conversation) == []
    effects = await outbox(c)
    assert Redact(conversation, EventID("$n1")) in effects
    [refused] = [e for e in effects if isinstance(e, SayToStaff) and e.key == "command.too_long"]
    assert "Vater" not in str(refused.params)


@pytest.mark.parametrize("marks", ["!!", "!!!", "!！", "!.", "!/", "/"])
async def test_a_note_typed_after_doubled_marks_in_the_youths_room_is_redacted(
        marks: str) -> None:
    """"!!note Vater schlägt, Verdacht" is told to the counsellor as a mistyped command
    (ca3c292), not saved, and it stayed in the youth's room: the youth, or whoever reads
    their phone, read the counsellor's suspicion about them."""
    c, conversation = await opened()
    await c.staff_wrote(ROOM, ANNA, EventID("$n1"), f"{marks}note Vater schlägt, Verdacht", T0)
    effects = await outbox(c)
    assert Redact(conversation, EventID("$n1")) in effects
    [told] = [e for e in effects if isinstance(e, SayToStaff) and e.key == "command.unknown"]
    assert "Vater" not in str(told.params)


async def test_a_misspelt_note_in_the_youths_room_is_redacted() -> None:
    """"!ntoe …" is refused as an unknown command, and it stayed in the youth's room for
    the youth to read, about them."""
    c, conversation = await opened()
    await c.staff_wrote(ROOM, ANNA, EventID("$n1"), "!ntoe Vater schlägt, Verdacht", T0)
    effects = await outbox(c)
    assert Redact(conversation, EventID("$n1")) in effects
    assert any(isinstance(e, SayToStaff) and e.key == "command.unknown" for e in effects)


async def test_a_message_edited_into_a_note_in_the_youths_room_is_redacted() -> None:
    """A line corrected into "!note …" (Element's up arrow) is not carried out (b184f9b),
    and the counsellor is told to send it anew; the corrected note stayed in the youth's
    room, shown in place of the line, for the youth to read, about them."""
    c, conversation = await opened()
    await c.staff_edited_command(ROOM, ANNA, EventID("$e1"), "!note", T0, EventID("$n1"))
    effects = await outbox(c)
    assert Redact(conversation, EventID("$e1")) in effects
    assert Redact(conversation, EventID("$n1")) in effects
    assert any(isinstance(e, SayToStaff) and e.key == "command.edited" for e in effects)


async def test_a_note_needs_a_known_conversation_in_the_staff_room() -> None:
    c, _ = await opened()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n1"), "!note ohne Nummer", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n2"), "!note C-DEADBEEF gibt es nicht", T0)
    keys = [e.key for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert keys == ["notes.which", "notes.unknown"]


async def test_snippets_come_back_to_the_counsellor_never_into_the_youths_room() -> None:
    c, conversation = await opened({"hallo": "Hallo, ich bin für dich da."})
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$s1"), "!s hallo", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$s2"),
                        "!snippet add schluss Danke fürs Schreiben!", T0)
    await c.staff_wrote(ROOM, ANNA, EventID("$s3"), "!s schluss", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$s4"), "!s gibtsnicht", T0)
    effects = await outbox(c)
    copies = [e for e in effects if isinstance(e, SayInRoom | SayToStaff)
              and e.key == "snippets.copy"]
    assert [dict(e.params)["text"] for e in copies] == ["Hallo, ich bin für dich da.",
                                                       "Danke fürs Schreiben!"]
    assert isinstance(copies[1], SayToStaff)  # asked in the youth's room, answered in staff's
    assert Redact(conversation, EventID("$s3")) in effects
    [unknown] = [e for e in effects if isinstance(e, SayInRoom) and e.key == "snippets.unknown"]
    assert dict(unknown.params)["names"] == "hallo, schluss"
    assert await c.store.get_sealed_setting("snippet:schluss") == "Danke fürs Schreiben!".encode()
    assert not any(isinstance(e, SayToYouth) for e in effects[1:] if "Danke" in str(e))


async def test_help_lists_the_new_commands() -> None:
    c, _ = await opened()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$h"), "!help", T0)
    [reply] = [e for e in await outbox(c) if isinstance(e, SayInRoom) and e.key == "help_text"]
    text = str(dict(reply.params)["text"])
    assert "!note C-XXXXXXXX" in text
    assert "!s NAME" in text
    assert "!duty" in text


async def test_the_notes_of_a_closed_conversation_are_still_read_without_offices() -> None:
    c, conversation = await opened()
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$d1"), "!duty on", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n1"), f"!note {conversation} war gut", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$c1"), f"!close {conversation}", T0)
    await c.staff_wrote(STAFF_ROOM, ANNA, EventID("$n2"), f"!notes {conversation}", T0)
    keys = [e.key for e in await outbox(c) if isinstance(e, SayInRoom)]
    assert keys[-1] == "notes.list"


async def test_help_on_a_working_day_command_shows_that_command() -> None:
    """Review (workflow) finding 8: "!help note" showed the whole list: the routing parser
    kept only its own topics, so the per-command help of the working day's commands (which
    the conductor meant to show) was never reached."""
    c, _ = await opened()
    for i, (asked, usage) in enumerate((("note", "!note C-XXXXXXXX text"), ("!s", "!s NAME"),
                                        ("appointment", "!appointment"))):
        await c.staff_wrote(STAFF_ROOM, ANNA, EventID(f"$h{i}"), f"!help {asked}", T0)
        [shown] = [e for e in await outbox(c) if isinstance(e, SayInRoom)
                   and e.key == "help_text"][i:]
        text = str(dict(shown.params)["text"])
        assert text.startswith(usage), asked
        assert "!duty" not in text, asked
