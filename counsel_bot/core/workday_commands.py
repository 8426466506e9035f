"""Staff commands of the working day: case notes and text snippets (pure parser).

Kept beside `commands.py` (which parses routing commands) so that features added there and
here do not collide. Like it, this parser never raises and never echoes the input in an
error: it returns a command, a `ParseError` with a usage hint, or None when the message is
not one of these commands (the routing parser then has its turn).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType

from counsel_bot.core.appointments import KIND_WORDS, Kind
from counsel_bot.core.commands import HelpEntry, ParseError, ParseErrorKey, command_text
from counsel_bot.core.ids import ConversationID

MAX_NOTE_CHARS = 4000
MAX_SNIPPET_CHARS = 4000
CASE_ID = re.compile(r"C-[0-9A-F]{8}", re.IGNORECASE)
SNIPPET_NAME = re.compile(r"[\w-]{1,32}")


@dataclass(frozen=True)
class NoteCommand:
    """``!note [C-XXXXXXXX] text``: the id is needed in the staff room."""

    conversation: ConversationID | None
    text: str


@dataclass(frozen=True)
class NotesCommand:
    """``!notes [C-XXXXXXXX]``: the notes so far, in the staff room."""

    conversation: ConversationID | None


@dataclass(frozen=True)
class SnippetCommand:
    """``!s NAME``: the snippet's text handed back to the counsellor to send themselves."""

    name: str


@dataclass(frozen=True)
class SnippetAdd:
    name: str
    text: str


@dataclass(frozen=True)
class SnippetRemove:
    name: str


@dataclass(frozen=True)
class SnippetList:
    pass


@dataclass(frozen=True)
class AppointmentCommand:
    """``!appointment [C-XXXXXXXX] 2026-12-10 16:00 45min inperson|phone|video``."""

    conversation: ConversationID | None
    day: str
    at: str
    minutes: int
    kind: Kind


@dataclass(frozen=True)
class AppointmentCancel:
    appointment: str


@dataclass(frozen=True)
class AppointmentList:
    pass


@dataclass(frozen=True)
class WorkdayHelp:
    """``!help note`` (and the other commands here): read here, since the routing parser
    knows only its own commands' help."""

    topic: str


WorkdayCommand = NoteCommand | NotesCommand | SnippetCommand | SnippetAdd | SnippetRemove \
    | SnippetList | AppointmentCommand | AppointmentCancel | AppointmentList | WorkdayHelp
# Eight hex digits; six in data of older versions, whose ids still work.
APPOINTMENT_ID = re.compile(r"T-(?:[0-9A-F]{8}|[0-9A-F]{6})", re.IGNORECASE)
_UNIT = r"(?:min|m|minuten|minutes)\.?"
_DURATION = re.compile(rf"(\d{{1,3}})\s*(?:{_UNIT})?", re.IGNORECASE)
# "45 Min.": the unit as a word of its own, as counsellors write a duration.
_UNIT_WORD = re.compile(_UNIT, re.IGNORECASE)

WORKDAY_HELP = MappingProxyType({
    "note": HelpEntry(
        "!note C-XXXXXXXX text",
        "Fallnotiz (verschlüsselt gespeichert), nur für das Team; wer übernimmt, sieht sie "
        "im Teamraum vor dem Verlauf. Bitte hier im Teamraum schreiben: im Raum der Person "
        "löscht der Bot den Befehl sofort, aber der verschlüsselte Text ist dann schon auf "
        "ihren Geräten angekommen.",
        "Case note (stored sealed), for the team only; whoever takes over sees it in the "
        "staff room before the transcript. Please write it here in the staff room: in the "
        "person's room the bot redacts the command at once, but the encrypted text has "
        "already reached their devices.",
    ),
    "notes": HelpEntry("!notes C-XXXXXXXX", "Die Notizen zu einem Gespräch.",
                       "The notes of a conversation."),
    "s": HelpEntry(
        "!s NAME",
        "Textbaustein: der Bot gibt dir den Text hier zum Kopieren; du schickst ihn selbst, "
        "damit er von deinem Gerät signiert ist und deine Worte sind, nicht die des Bots.",
        "Text snippet: the bot hands you the text here to copy; you send it yourself, so it "
        "is signed by your device and is your words, not the bot's.",
    ),
    "appointment": HelpEntry(
        "!appointment [C-XXXXXXXX] 2026-12-10 16:00 45min inperson|phone|video | "
        "!appointment cancel T-XXXXXXXX | !appointments",
        "Termin vorschlagen (im Raum der Person, oder mit Nummer im Teamraum); die Person "
        "antwortet „ja“ oder „nein“. Bestätigt: Kalenderdatei und Erinnerungen (Vortag, 15 "
        "Min. vorher); bei Mail-Gesprächen alles per Mail. Nie nach Name oder Adresse fragen.",
        "Propose an appointment (in the person's room, or with the id in the staff room); "
        "the person answers \"yes\" or \"no\". Confirmed: a calendar file and reminders (the "
        "day before, 15 min before); in mail conversations all by mail. Never ask for a name "
        "or address.",
    ),
    "snippet": HelpEntry(
        "!snippet add NAME text | !snippet remove NAME | !snippets",
        "Textbausteine anlegen, entfernen, auflisten (mit mehreren Stellen: die deiner "
        "Stelle).",
        "Add, remove, list text snippets (with several offices: your office's).",
    ),
})


def workday_help(language: str, topic: str | None = None) -> str:
    entries = list(WORKDAY_HELP.values())
    if topic is not None:
        wanted = topic.lower().lstrip("!")
        entries = [WORKDAY_HELP[wanted]] if wanted in WORKDAY_HELP else []
    return "\n".join(f"{e.usage} — {e.de if language == 'de' else e.en}" for e in entries)


def is_help_topic(topic: str | None) -> bool:
    return topic is not None and topic.lower().lstrip("!") in WORKDAY_HELP


def parse_workday(text: str) -> WorkdayCommand | ParseError | None:
    after = _after_mark(text.strip())
    if after is None:
        return None
    head, rest = _split(after)
    name = command_text(head).casefold()
    if name == "note":
        return _note(rest)
    if name == "notes":
        return _notes(rest)
    if name == "s":
        return _use(rest)
    if name == "snippets":
        return SnippetList()
    if name == "snippet":
        return _snippet(rest)
    if name in ("appointment", "termin"):
        return _appointment(rest)
    if name in ("appointments", "termine"):
        return AppointmentList()
    if name == "help" and is_help_topic(rest):
        return WorkdayHelp(rest.lower().lstrip("!"))
    return None


def _appointment(rest: str) -> AppointmentCommand | AppointmentCancel | AppointmentList \
        | ParseError:
    usage = WORKDAY_HELP["appointment"].usage
    words = rest.split()
    if words and words[0].casefold() in ("cancel", "absagen"):
        if len(words) != 2 or not APPOINTMENT_ID.fullmatch(words[1]):
            return ParseError(ParseErrorKey.BAD_ARGUMENT, "!appointment cancel T-XXXXXXXX",
                              "appointment")
        return AppointmentCancel("T-" + words[1][2:].upper())
    if words and words[0].casefold() == "list" and len(words) == 1:
        return AppointmentList()
    conversation, after = _case_and_rest(rest)
    words = after.split()
    if len(words) == 5 and words[2].isdigit() and _UNIT_WORD.fullmatch(words[3]):
        words[2:4] = [words[2] + words[3]]
    if len(words) < 4:
        return ParseError(ParseErrorKey.MISSING_ARGUMENT, usage, "appointment")
    if len(words) > 4:
        return ParseError(ParseErrorKey.TOO_MANY_ARGUMENTS, usage, "appointment")
    day, at, duration, kind_word = words
    length = _DURATION.fullmatch(duration)
    kind = KIND_WORDS.get(kind_word.casefold())
    if length is None or kind is None:
        return ParseError(ParseErrorKey.BAD_ARGUMENT, usage, "appointment")
    return AppointmentCommand(conversation, day, at, int(length.group(1)), kind)


def _after_mark(text: str) -> str | None:
    """What follows a command's "!", found as the routing parser finds it: after invisible
    format characters (a pasted byte-order mark, a zero-width space) and as a full-width
    "！". Otherwise a note it calls an unknown command stays unsaved in the youth's room."""
    for index, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            return text[index + 1:] if unicodedata.normalize("NFKC", char) == "!" else None
    return None


def _split(text: str) -> tuple[str, str]:
    """The first word and the rest (notes may run over several lines)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _case_and_rest(rest: str) -> tuple[ConversationID | None, str]:
    first, after = _split(rest)
    # Read as the routing commands read it: "Ｃ－…" and an id after a bidi mark are the id.
    word = command_text(first)
    if CASE_ID.fullmatch(word):
        return ConversationID("C-" + word[2:].upper()), after
    return None, rest


def _note(rest: str) -> NoteCommand | ParseError:
    usage = WORKDAY_HELP["note"].usage
    if len(rest) > MAX_NOTE_CHARS:
        return ParseError(ParseErrorKey.TOO_LONG, usage, "note")
    conversation, text = _case_and_rest(rest)
    if not text:
        return ParseError(ParseErrorKey.MISSING_ARGUMENT, usage, "note")
    return NoteCommand(conversation, text)


def _notes(rest: str) -> NotesCommand | ParseError:
    conversation, after = _case_and_rest(rest)
    if after:
        return ParseError(ParseErrorKey.BAD_ARGUMENT, WORKDAY_HELP["notes"].usage, "notes")
    return NotesCommand(conversation)


def _use(rest: str) -> SnippetCommand | ParseError:
    if not SNIPPET_NAME.fullmatch(rest):
        return ParseError(ParseErrorKey.MISSING_ARGUMENT if not rest
                          else ParseErrorKey.BAD_ARGUMENT, WORKDAY_HELP["s"].usage, "s")
    return SnippetCommand(rest.casefold())


def _snippet(rest: str) -> SnippetAdd | SnippetRemove | SnippetList | ParseError:
    usage = WORKDAY_HELP["snippet"].usage
    verb, after = _split(rest)
    verb = verb.casefold()
    name, text = _split(after)
    if verb == "list" and not after:
        return SnippetList()
    if verb not in ("add", "remove") or not SNIPPET_NAME.fullmatch(name):
        return ParseError(ParseErrorKey.BAD_ARGUMENT, usage, "snippet")
    if verb == "remove":
        return SnippetRemove(name.casefold()) if not text.strip() else \
            ParseError(ParseErrorKey.TOO_MANY_ARGUMENTS, usage, "snippet")
    text = text.strip()
    if not text:
        return ParseError(ParseErrorKey.MISSING_ARGUMENT, usage, "snippet")
    if len(text) > MAX_SNIPPET_CHARS:
        return ParseError(ParseErrorKey.TOO_LONG, usage, "snippet")
    return SnippetAdd(name.casefold(), text)
