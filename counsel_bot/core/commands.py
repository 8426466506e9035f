"""A pure command parser for staff ("!" commands) and youths (single plain words).

Staff: a message is a command only if it starts with "!" (after trimming); anything else is
ordinary text. Youth: a message is a command only if the whole message is one of the few
command words ("hilfe", "help", "video", "mail", "ende", "end", "löschen", "delete", or the
deletion confirmation "ja löschen" / "yes delete"; a cry for help, "hilf mir", "SOS", is
"hilfe"), ignoring case, surrounding spaces, a leading "!" or "/", trailing ".!?" and the
quotes the bot shows the words in. A sentence that merely contains the word stays a
message. A command never hides the message: it is still in the room, so a "Hilfe!" meant
as a cry for help reaches the counsellor too.

The parser never raises: it returns a command, a `ParseError` (message key + usage hint), or
None for ordinary text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.messages import Language
from counsel_bot.core.routing.model import HandoverReason

MAX_STAFF_COMMAND_CHARS = 1000
MAX_YOUTH_COMMAND_CHARS = 64
MAX_LIST_ITEMS = 10
MAX_CAPACITY_SYNTAX = 99

_CONVERSATION = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The form of every id the bot hands out (`youth_side.new_conversation_id`).
_CASE_ID = re.compile(r"C-[0-9A-F]{8}", re.IGNORECASE)
_USER = re.compile(r"@[a-z0-9._=/+-]{1,200}:[A-Za-z0-9.-]{1,200}(:[0-9]{1,5})?")
_OFFICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_TOPIC = re.compile(r"[\w-]{1,32}")
# The working day's case note (workday_commands.py), whose misspelling is named here.
_NOTE = "note"


class ParseErrorKey(StrEnum):
    UNKNOWN = "command.unknown"
    MISSING_ARGUMENT = "command.missing_argument"
    BAD_ARGUMENT = "command.bad_argument"
    TOO_MANY_ARGUMENTS = "command.too_many_arguments"
    TOO_LONG = "command.too_long"


@dataclass(frozen=True)
class ParseError:
    key: ParseErrorKey
    hint: str  # usage to show, e.g. "!capacity N"; never echoes the input
    command: str | None = None  # the recognised command name, if any


# --- staff commands ----------------------------------------------------------------------


@dataclass(frozen=True)
class DutyCommand:
    on: bool
    reason: HandoverReason = HandoverReason.PLANNED


@dataclass(frozen=True)
class CapacityCommand:
    capacity: int


@dataclass(frozen=True)
class LanguagesCommand:
    languages: tuple[str, ...]


@dataclass(frozen=True)
class TopicsCommand:
    topics: tuple[str, ...]  # empty = clear


@dataclass(frozen=True)
class NextCommand:
    pass


@dataclass(frozen=True)
class TakeCommand:
    conversation: ConversationID


@dataclass(frozen=True)
class TransferCommand:
    to: UserID | None  # None = back to the queue
    conversation: ConversationID | None = None  # None = the room the command was sent in


@dataclass(frozen=True)
class TransferToOfficeCommand:
    """``!transfer [C-…] office:ID``: to another counselling office's queue."""

    office: str
    conversation: ConversationID | None = None


@dataclass(frozen=True)
class CloseCommand:
    conversation: ConversationID | None = None


@dataclass(frozen=True)
class ConfirmCommand:
    conversation: ConversationID | None = None


@dataclass(frozen=True)
class DismissCommand:
    conversation: ConversationID | None = None


@dataclass(frozen=True)
class StatusCommand:
    pass


@dataclass(frozen=True)
class QueueCommand:
    pass


@dataclass(frozen=True)
class HelpCommand:
    topic: str | None = None


@dataclass(frozen=True)
class ChatCommand:
    """Invite a mail youth to continue live in chat (anonymously), or (``end``) remove
    whoever came into the room with the case code, and go on by mail."""

    end: bool = False


@dataclass(frozen=True)
class VideoCommand:
    end: bool = False  # "!video end": the call is over, its widget goes


@dataclass(frozen=True)
class SuperviseCommand:
    """A team lead reads along in a conversation (read-only), or stops (``end``)."""

    conversation: ConversationID
    end: bool = False


StaffCommand = (
    DutyCommand
    | CapacityCommand
    | LanguagesCommand
    | TopicsCommand
    | NextCommand
    | TakeCommand
    | TransferCommand
    | TransferToOfficeCommand
    | CloseCommand
    | ConfirmCommand
    | DismissCommand
    | StatusCommand
    | QueueCommand
    | HelpCommand
    | VideoCommand
    | ChatCommand
    | SuperviseCommand
)


# --- youth commands ----------------------------------------------------------------------


class YouthCommandKind(StrEnum):
    HELP = "help"
    VIDEO = "video"
    MAIL = "mail"
    END = "end"
    DELETE = "delete"
    CONFIRM_DELETE = "confirm_delete"
    LANGUAGE = "language"


@dataclass(frozen=True)
class YouthCommand:
    kind: YouthCommandKind
    language: Language | None = None  # LANGUAGE: the one named


_PLEASE = ("please", "pls", "plz", "bitte")


def _language_phrases() -> Mapping[str, Language]:
    """"english", "auf Deutsch bitte", "in German, please", "bitte auf Deutsch": a youth
    naming the language they want to be answered in (alone as a message; "ich kann kein
    englisch" is words). The "please" before or after: German puts it first."""
    names: dict[Language, tuple[str, ...]] = {"en": ("english", "englisch"),
                                               "de": ("deutsch", "german")}
    return MappingProxyType({
        f"{please}{before}{name}{after}": language
        for language, spellings in names.items() for name in spellings
        for please in ("", *(f"{word} " for word in _PLEASE))
        for before in ("", "in ", "auf ")
        for after in ("", *(f" {word}" for word in _PLEASE))
    })


_YOUTH_LANGUAGES = _language_phrases()


_YOUTH_WORDS: Mapping[str, YouthCommandKind] = MappingProxyType(
    {
        "hilfe": YouthCommandKind.HELP,
        "help": YouthCommandKind.HELP,
        "video": YouthCommandKind.VIDEO,
        "videochat": YouthCommandKind.VIDEO,
        "mail": YouthCommandKind.MAIL,
        "email": YouthCommandKind.MAIL,
        "e-mail": YouthCommandKind.MAIL,
        "ende": YouthCommandKind.END,
        "end": YouthCommandKind.END,
        "beenden": YouthCommandKind.END,
        "löschen": YouthCommandKind.DELETE,
        "loeschen": YouthCommandKind.DELETE,
        "delete": YouthCommandKind.DELETE,
        "ja löschen": YouthCommandKind.CONFIRM_DELETE,
        "ja loeschen": YouthCommandKind.CONFIRM_DELETE,
        "yes delete": YouthCommandKind.CONFIRM_DELETE,
    }
)


# --- help --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    de: str
    en: str


STAFF_HELP: Mapping[str, HelpEntry] = MappingProxyType(
    {
        "duty": HelpEntry(
            "!duty on|off [planned|unplanned]",
            "Dienst beginnen oder beenden; offene Gespräche werden übergeben.",
            "Go on or off duty; open conversations are handed over.",
        ),
        "capacity": HelpEntry(
            "!capacity N",
            "Wie viele Gespräche du gleichzeitig führst.",
            "How many conversations you take at once.",
        ),
        "languages": HelpEntry(
            "!languages de en …",
            "Deine Sprachen (Kürzel).",
            "Your languages (codes).",
        ),
        "topics": HelpEntry(
            "!topics thema …",
            "Deine Schwerpunkte; ohne Angabe löschen.",
            "Your topics; none to clear.",
        ),
        "next": HelpEntry(
            "!next", "Das nächste wartende Gespräch nehmen.", "Take the next waiting one."
        ),
        "take": HelpEntry(
            "!take <gespräch>",
            "Ein bestimmtes wartendes Gespräch nehmen.",
            "Take a given waiting conversation.",
        ),
        "transfer": HelpEntry(
            "!transfer [gespräch] <@user:server|queue|office:ID>",
            "An Kolleg*in oder zurück in die Warteschlange übergeben.",
            "Hand to a colleague or back to the queue.",
        ),
        "close": HelpEntry("!close [gespräch]", "Gespräch beenden.", "Close the conversation."),
        "confirm": HelpEntry(
            "!confirm [gespräch]", "Krisenhinweis bestätigen.", "Confirm a crisis flag."
        ),
        "dismiss": HelpEntry(
            "!dismiss [gespräch]", "Krisenhinweis verwerfen.", "Dismiss a crisis flag."
        ),
        "status": HelpEntry("!status", "Dein Dienststatus.", "Your duty status."),
        "queue": HelpEntry("!queue", "Überblick über die Warteschlange.", "Queue overview."),
        "video": HelpEntry(
            "!video [end]", "Einen Videoanruf anbieten (end: beenden).",
            "Offer the youth a video call (end: end it).",
        ),
        "chat": HelpEntry(
            "!chat [end]", "Mail-Person anonym in den Live-Chat einladen (end: wer mit dem "
            "Fall-Code kam, muss den Raum verlassen; weiter per Mail).",
            "Invite a mail youth to continue live in chat, anonymously (end: whoever came in "
            "with the case code is removed; go on by mail).",
        ),
        "supervise": HelpEntry(
            "!supervise [end] <gespräch>",
            "Teamleitung: ein Gespräch nur lesend begleiten (end: beenden); die Person wird "
            "informiert.",
            "Team leads: read along in a conversation, read-only (end: stop); the youth is "
            "told.",
        ),
        "help": HelpEntry("!help [befehl]", "Diese Hilfe.", "This help."),
    }
)

YOUTH_HELP: Mapping[YouthCommandKind, HelpEntry] = MappingProxyType(
    {
        YouthCommandKind.HELP: HelpEntry("hilfe / help", "Diese Hilfe.", "This help."),
        YouthCommandKind.VIDEO: HelpEntry(
            "video", "Per Video weitersprechen.", "Continue by video."
        ),
        YouthCommandKind.MAIL: HelpEntry(
            "mail", "Später per Nachricht antworten lassen.", "Get a written reply later."
        ),
        YouthCommandKind.END: HelpEntry("ende / end", "Gespräch beenden.", "End the chat."),
        YouthCommandKind.DELETE: HelpEntry(
            "löschen / delete",
            "Gespräch beenden und alles löschen (mit Bestätigung).",
            "End and delete everything (asks to confirm).",
        ),
        YouthCommandKind.LANGUAGE: HelpEntry(
            "deutsch / english", "Die Sprache wechseln.", "Switch the language."
        ),
    }
)


def help_text(language: str, topic: str | None = None, *, staff: bool = True) -> str:
    """Help in German ("de") or English (anything else); one command if `topic` is known."""
    entries: list[HelpEntry] = list(STAFF_HELP.values() if staff else YOUTH_HELP.values())
    if staff and topic is not None and topic.lower().lstrip("!") in STAFF_HELP:
        entries = [STAFF_HELP[topic.lower().lstrip("!")]]
    return help_lines(entries, language)


def help_lines(entries: Iterable[HelpEntry], language: str) -> str:
    """One line a command: its usage, then what it does, in German ("de") or English."""
    pick: Callable[[HelpEntry], str] = (lambda e: e.de) if language == "de" else (lambda e: e.en)
    return "\n".join(f"{e.usage} — {pick(e)}" for e in entries)


# --- parsing -----------------------------------------------------------------------------


def command_text(text: str) -> str:
    """NFKC, without invisible format characters (zero-width, bidi overrides): how every
    command parser reads what was typed ("！duty", "!\u200bduty" are "!duty")."""
    normal = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in normal if unicodedata.category(ch) != "Cf")


# A Turkish keyboard's capital "İ" (lowered: "i" and a combining dot, which split a word)
# and its dotless "ı" are an "i" in a youth's words.
_TURKISH_I = str.maketrans({"\u0130": "I", "\u0131": "i"})


def youth_words_text(text: str) -> str:
    """A youth's words as their commands and language are read: `command_text`, lowered,
    a Turkish keyboard's "İ" and "ı" as "i" ("HİLFE" is "hilfe"). Only to read them:
    what is kept or posted stays as typed."""
    return command_text(text).translate(_TURKISH_I).lower()


# Around a command word: the quotes the bot shows it in („ja löschen“, "english"), copied
# with it. A markdown stress (*english*) only as a pair: an edit's words come as "* …"
# (`bot.py`), and an edit into "löschen" is no command.
_QUOTES = "\"'„“”‚‘’«»‹›`"
_STRESS = "*_"
_CLAUSES = re.compile(r"[,.;:!?\n]+|\s[-–—]+\s")


def language_asked(text: str) -> Language | None:
    """The language a youth asks for beside other words ("english please, i want to die",
    "ich kann nicht mehr. deutsch bitte"): a part of the message between punctuation that
    is a language phrase with a please in it. The rest stays words (judged for a crisis);
    a language named in passing ("Englisch, da hab ich ne 6") asks for nothing, nor does a
    message asking for both."""
    parts = [" ".join(_without_emoji(part).strip(_QUOTES).split()).lstrip("/") for part in
             _CLAUSES.split(youth_words_text(text).casefold())]
    # A part alone, or with the next: "English, please, …" is typed with commas.
    clauses = [*parts, *(f"{one} {two}" for one, two in pairwise(parts))]
    asked = {_YOUTH_LANGUAGES[clause] for clause in clauses
             if clause in _YOUTH_LANGUAGES and any(word in _PLEASE for word in clause.split())}
    return asked.pop() if len(asked) == 1 else None


# "Hilfe!" may be a cry for help (answered with the numbers first); so are these, alone.
_CRY_FOR_HELP = re.compile(
    r"(?:(?:bitte|please|pls|plz) )?"
    r"(?:h+i+l+f+e+|h+e+l+p+|s+o+s+|hilf mir|helft mir|help me)"
    r"(?: (?:bitte|please|pls|plz))?")


def _without_emoji(phrase: str) -> str:
    """``phrase`` without the emoji and emoticons around it ("hilfe 😭😭", "english pls 🙏",
    "hilf mir :(")."""
    def around(ch: str) -> bool:
        return unicodedata.category(ch)[0] in "SZ" or ch in ":;()\ufe0f\u20e3"
    start = next((i for i, ch in enumerate(phrase) if not around(ch)), len(phrase))
    end = next((i for i in range(len(phrase), start, -1) if not around(phrase[i - 1])), start)
    return phrase[start:end]


def parse_youth(text: str) -> YouthCommand | None:
    try:
        if len(text) > MAX_YOUTH_COMMAND_CHARS:
            return None
        words = youth_words_text(text).casefold().replace(",", " ").split()
        phrase = " ".join(words).strip(_QUOTES).lstrip("!/").rstrip(".!?").strip(_QUOTES)
        if len(phrase) > 1 and phrase[0] == phrase[-1] and phrase[0] in _STRESS:
            phrase = phrase.strip(_STRESS)
        phrase = " ".join(phrase.split())
        kind = _YOUTH_WORDS.get(phrase)
        # Beside an emoji only a cry for help or a language: "ende 😭" may be words, and
        # ends the chat for good.
        bare = _without_emoji(phrase).rstrip(".!?")
        language = _YOUTH_LANGUAGES.get(bare)
    except (TypeError, AttributeError, ValueError):
        return None
    if language is not None:
        return YouthCommand(YouthCommandKind.LANGUAGE, language)
    if kind is None and (_YOUTH_WORDS.get(bare) is YouthCommandKind.HELP
                         or _CRY_FOR_HELP.fullmatch(bare)):
        kind = YouthCommandKind.HELP
    return None if kind is None else YouthCommand(kind)


def parse_staff(text: str) -> StaffCommand | ParseError | None:
    try:
        return _parse_staff(text)
    except (TypeError, AttributeError, ValueError):
        return None


def _parse_staff(text: str) -> StaffCommand | ParseError | None:
    stripped = text.strip()
    # Past any number of invisible marks, as the working-day parser reads a note: what it
    # saves must be a command here too, or the bot mails it to a youth counselled by mail.
    start = next((i for i, ch in enumerate(stripped) if unicodedata.category(ch) != "Cf"),
                 len(stripped))
    head = command_text(stripped[start:start + 8])
    if head.startswith("/"):
        # "/note C-… Verdacht": a slash command of other chat programs, sent as text by an
        # app that knows no such command; as a reply it was mailed to a mail youth.
        return _doubled_mark(stripped[start:])
    if not head.startswith("!"):
        return None
    if unicodedata.category(head[1:2] or "a")[0] in "PSN":
        # "!!! ruf sofort 112 an", "!112 anrufen": a reply with emphasis, for the youth; a
        # command is "!" and a word (a typo of one is still an unknown command, with a hint).
        return _doubled_mark(stripped)
    if len(stripped) > MAX_STAFF_COMMAND_CHARS:
        return ParseError(ParseErrorKey.TOO_LONG, "!help")
    parts = command_text(stripped)[1:].split()
    if not parts:
        return ParseError(ParseErrorKey.UNKNOWN, "!help")
    name, args = parts[0].casefold(), parts[1:]
    parser = _PARSERS.get(name)
    if parser is None:
        # "note" among them: a misspelt note ("!ntoe", "!notiz") is named, and so redacted
        # from a youth's room as a refused note is; its words are about the youth.
        close = difflib.get_close_matches(name, [*_PARSERS, _NOTE], n=1)
        if args and _CASE_ID.fullmatch(args[0]):
            # "! Vermerk C-… Verdacht …": a case id is never in words for the youth; as a
            # reply the note stayed in their room and was mailed to one counselled by mail.
            close = [_NOTE]
        if head[1:2].isspace() and close != [_NOTE]:
            # "! Ruf sofort 112 an": a mark, a space, words for the youth, as after "!!!";
            # read as an unknown command they were never mailed to a youth counselled by
            # mail. A working day's command after the space ("! s gruss") is still one.
            return _doubled_mark("!" + " ".join(parts))
        return ParseError(ParseErrorKey.UNKNOWN, f"!{close[0]}" if close else "!help",
                          _NOTE if close == [_NOTE] else None)
    return parser(args)


def _doubled_mark(text: str) -> ParseError | None:
    """A command word right after more marks ("!!note C-… text", "!.take C-…") is a
    command mistyped, not a reply: as a reply a case note went to the youth (mailed whole
    to one counselled by mail). Words after the marks ("!!! ruf an") are a reply."""
    # Here, not at the top: the working day's parser builds on this module.
    from counsel_bot.core.workday_commands import parse_workday

    cleaned = command_text(text)
    # Any marks, not "!" alone: "!.note", "!/note" are a thumb on the key beside it or a
    # habit from other chat programs, and read as a reply the note was mailed to the youth.
    after = cleaned[next((i for i, ch in enumerate(cleaned)
                          if unicodedata.category(ch)[0] not in "PS"), len(cleaned)):]
    word = (after.split(maxsplit=1) or [""])[0].casefold() if after[:1].strip() else ""
    if word and (word in _PARSERS or parse_workday(f"!{after}") is not None):
        # Named: a mistyped note is no less about the youth (redacted from their room).
        return ParseError(ParseErrorKey.UNKNOWN, f"!{word}", word)
    return None


def _error(key: ParseErrorKey, name: str) -> ParseError:
    return ParseError(key, STAFF_HELP[name].usage, name)


def _no_args(name: str, command: StaffCommand) -> Callable[[list[str]], StaffCommand | ParseError]:
    def parse(args: list[str]) -> StaffCommand | ParseError:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, name) if args else command

    return parse


def _optional_conversation(
    name: str, make: Callable[[ConversationID | None], StaffCommand]
) -> Callable[[list[str]], StaffCommand | ParseError]:
    def parse(args: list[str]) -> StaffCommand | ParseError:
        if len(args) > 1:
            return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, name)
        if not args:
            return make(None)
        if not _CONVERSATION.fullmatch(args[0]):
            return _error(ParseErrorKey.BAD_ARGUMENT, name)
        return make(_conversation(args[0]))

    return parse


def _conversation(word: str) -> ConversationID:
    """A conversation id as the bot wrote it: "c-1a2b3c4d" typed on a phone is
    "C-1A2B3C4D" (as `!note` reads it), not an unknown conversation."""
    return ConversationID(word.upper() if _CASE_ID.fullmatch(word) else word)


def _video(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return VideoCommand()
    if len(args) > 1:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "video")
    if args[0].casefold() in ("end", "ende", "stop"):
        return VideoCommand(end=True)
    return _error(ParseErrorKey.BAD_ARGUMENT, "video")


def _chat(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return ChatCommand()
    if len(args) > 1:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "chat")
    if args[0].casefold() in ("end", "ende", "stop"):
        return ChatCommand(end=True)
    return _error(ParseErrorKey.BAD_ARGUMENT, "chat")


def _supervise(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return _error(ParseErrorKey.MISSING_ARGUMENT, "supervise")
    if len(args) > 2:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "supervise")
    end = len(args) == 2
    if end and args[0].casefold() not in ("end", "ende", "stop"):
        return _error(ParseErrorKey.BAD_ARGUMENT, "supervise")
    if not _CONVERSATION.fullmatch(args[-1]):
        return _error(ParseErrorKey.BAD_ARGUMENT, "supervise")
    return SuperviseCommand(_conversation(args[-1]), end=end)


def _duty(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return _error(ParseErrorKey.MISSING_ARGUMENT, "duty")
    if len(args) > 2:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "duty")
    state = args[0].casefold()
    if state not in ("on", "off", "an", "aus"):
        return _error(ParseErrorKey.BAD_ARGUMENT, "duty")
    on = state in ("on", "an")
    if len(args) == 1:
        return DutyCommand(on)
    reason = args[1].casefold()
    if on or reason not in ("planned", "unplanned", "geplant", "ungeplant"):
        return _error(ParseErrorKey.BAD_ARGUMENT, "duty")
    planned = reason in ("planned", "geplant")
    return DutyCommand(False, HandoverReason.PLANNED if planned else HandoverReason.UNPLANNED)


def _capacity(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return _error(ParseErrorKey.MISSING_ARGUMENT, "capacity")
    if len(args) > 1:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "capacity")
    if not (args[0].isascii() and args[0].isdigit() and len(args[0]) <= 2):
        return _error(ParseErrorKey.BAD_ARGUMENT, "capacity")
    return CapacityCommand(int(args[0]))


def _languages(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return _error(ParseErrorKey.MISSING_ARGUMENT, "languages")
    codes = [a.casefold().strip(",") for a in args]
    if len(codes) > MAX_LIST_ITEMS:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "languages")
    if not all(code.isascii() and _LANGUAGE.fullmatch(code) for code in codes):
        return _error(ParseErrorKey.BAD_ARGUMENT, "languages")
    return LanguagesCommand(tuple(dict.fromkeys(codes)))


def _topics(args: list[str]) -> StaffCommand | ParseError:
    topics = [a.casefold().strip(",") for a in args]
    if len(topics) > MAX_LIST_ITEMS:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "topics")
    if not all(_TOPIC.fullmatch(t) for t in topics):
        return _error(ParseErrorKey.BAD_ARGUMENT, "topics")
    return TopicsCommand(tuple(dict.fromkeys(topics)))


def _take(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return _error(ParseErrorKey.MISSING_ARGUMENT, "take")
    if len(args) > 1:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "take")
    if not _CONVERSATION.fullmatch(args[0]):
        return _error(ParseErrorKey.BAD_ARGUMENT, "take")
    return TakeCommand(_conversation(args[0]))


def _transfer(args: list[str]) -> StaffCommand | ParseError:
    if not args:
        return _error(ParseErrorKey.MISSING_ARGUMENT, "transfer")
    if len(args) > 2:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "transfer")
    conversation: ConversationID | None = None
    if len(args) == 2:
        if not _CONVERSATION.fullmatch(args[0]):
            return _error(ParseErrorKey.BAD_ARGUMENT, "transfer")
        conversation = _conversation(args[0])
    target = args[-1]
    if target.casefold() in ("queue", "warteschlange"):
        return TransferCommand(None, conversation)
    office = _office_target(target)
    if office is not None:
        return TransferToOfficeCommand(office, conversation)
    if not _USER.fullmatch(target):
        return _error(ParseErrorKey.BAD_ARGUMENT, "transfer")
    return TransferCommand(UserID(target), conversation)


def _office_target(target: str) -> str | None:
    prefix, _, office = target.partition(":")
    if prefix.casefold() not in ("office", "stelle") or not _OFFICE.fullmatch(office):
        return None
    return office.lower()


def _help(args: list[str]) -> StaffCommand | ParseError:
    if len(args) > 1:
        return _error(ParseErrorKey.TOO_MANY_ARGUMENTS, "help")
    topic = args[0].casefold().lstrip("!") if args else None
    return HelpCommand(topic if topic in STAFF_HELP else None)


_PARSERS: Mapping[str, Callable[[list[str]], StaffCommand | ParseError]] = MappingProxyType(
    {
        "duty": _duty,
        "capacity": _capacity,
        "languages": _languages,
        "topics": _topics,
        "next": _no_args("next", NextCommand()),
        "take": _take,
        "transfer": _transfer,
        "close": _optional_conversation("close", CloseCommand),
        "confirm": _optional_conversation("confirm", ConfirmCommand),
        "dismiss": _optional_conversation("dismiss", DismissCommand),
        "status": _no_args("status", StatusCommand()),
        "queue": _no_args("queue", QueueCommand()),
        "video": _video,
        "chat": _chat,
        "supervise": _supervise,
        "help": _help,
    }
)
