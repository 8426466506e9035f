"""The command parser: every command, the errors, and that no input crashes it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.core.commands import (
    MAX_STAFF_COMMAND_CHARS,
    STAFF_HELP,
    YOUTH_HELP,
    CapacityCommand,
    CloseCommand,
    ConfirmCommand,
    DismissCommand,
    DutyCommand,
    HelpCommand,
    LanguagesCommand,
    NextCommand,
    ParseError,
    ParseErrorKey,
    QueueCommand,
    StatusCommand,
    SuperviseCommand,
    TakeCommand,
    TopicsCommand,
    TransferCommand,
    VideoCommand,
    YouthCommand,
    YouthCommandKind,
    help_text,
    language_asked,
    parse_staff,
    parse_youth,
)
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import HandoverReason
from counsel_bot.core.workday_commands import parse_workday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!duty on", DutyCommand(True)),
        ("  !DUTY off  ", DutyCommand(False)),
        ("!duty off unplanned", DutyCommand(False, HandoverReason.UNPLANNED)),
        ("!duty aus geplant", DutyCommand(False, HandoverReason.PLANNED)),
        ("!capacity 3", CapacityCommand(3)),
        ("!languages de EN tr de", LanguagesCommand(("de", "en", "tr"))),
        ("!topics gewalt schule", TopicsCommand(("gewalt", "schule"))),
        ("!topics", TopicsCommand(())),
        ("!next", NextCommand()),
        ("!take c-42", TakeCommand(ConversationID("c-42"))),
        ("!transfer @ben:example.org", TransferCommand(UserID("@ben:example.org"))),
        ("!transfer queue", TransferCommand(None)),
        (
            "!transfer c7 @ben:example.org:8448",
            TransferCommand(UserID("@ben:example.org:8448"), ConversationID("c7")),
        ),
        ("!close", CloseCommand()),
        ("!close c7", CloseCommand(ConversationID("c7"))),
        ("!confirm c7", ConfirmCommand(ConversationID("c7"))),
        ("!dismiss", DismissCommand()),
        ("!status", StatusCommand()),
        ("!queue", QueueCommand()),
        ("!video", VideoCommand()),
        ("!help", HelpCommand()),
        ("!help !transfer", HelpCommand("transfer")),
        ("!help nonsense", HelpCommand()),
        ("！ne\u200bxt", NextCommand()),  # full-width "!" and a zero-width space
    ],
)
def test_staff_commands(text: str, expected: object) -> None:
    assert parse_staff(text) == expected


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("!nxt", ParseErrorKey.UNKNOWN, "!next"),
        ("!", ParseErrorKey.UNKNOWN, "!help"),
        ("!frobnicate", ParseErrorKey.UNKNOWN, "!help"),
        ("!capacity", ParseErrorKey.MISSING_ARGUMENT, "!capacity N"),
        ("!capacity -1", ParseErrorKey.BAD_ARGUMENT, "!capacity N"),
        ("!capacity ٣", ParseErrorKey.BAD_ARGUMENT, "!capacity N"),  # Arabic-Indic digit
        ("!capacity 2 3", ParseErrorKey.TOO_MANY_ARGUMENTS, "!capacity N"),
        ("!duty maybe", ParseErrorKey.BAD_ARGUMENT, STAFF_HELP["duty"].usage),
        ("!duty on unplanned", ParseErrorKey.BAD_ARGUMENT, STAFF_HELP["duty"].usage),
        ("!languages deutsch", ParseErrorKey.BAD_ARGUMENT, STAFF_HELP["languages"].usage),
        ("!take", ParseErrorKey.MISSING_ARGUMENT, STAFF_HELP["take"].usage),
        ("!take <script>", ParseErrorKey.BAD_ARGUMENT, STAFF_HELP["take"].usage),
        ("!transfer ben", ParseErrorKey.BAD_ARGUMENT, STAFF_HELP["transfer"].usage),
        ("!next now", ParseErrorKey.TOO_MANY_ARGUMENTS, "!next"),
        ("!" + "x" * MAX_STAFF_COMMAND_CHARS, ParseErrorKey.TOO_LONG, "!help"),
    ],
)
def test_staff_errors_carry_a_key_and_a_usage_hint(
    text: str, key: ParseErrorKey, hint: str
) -> None:
    result = parse_staff(text)
    assert isinstance(result, ParseError)
    assert (result.key, result.hint) == (key, hint)


@pytest.mark.parametrize("text", ["hello", "", "   ", "what does !next do?", "next"])
def test_ordinary_staff_text_is_not_a_command(text: str) -> None:
    assert parse_staff(text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hilfe", YouthCommandKind.HELP),
        ("Hilfe!", YouthCommandKind.HELP),
        ("  HELP ", YouthCommandKind.HELP),
        ("/help", YouthCommandKind.HELP),
        ("video", YouthCommandKind.VIDEO),
        ("E-Mail", YouthCommandKind.MAIL),
        ("Ende.", YouthCommandKind.END),
        ("end", YouthCommandKind.END),
        ("LÖSCHEN", YouthCommandKind.DELETE),
        ("lo\u0308schen", YouthCommandKind.DELETE),  # decomposed umlaut
        ("loeschen", YouthCommandKind.DELETE),
        ("delete", YouthCommandKind.DELETE),
        ("Ja, löschen", YouthCommandKind.CONFIRM_DELETE),
        ("yes delete", YouthCommandKind.CONFIRM_DELETE),
        ("hil\u200bfe", YouthCommandKind.HELP),
    ],
)
def test_youth_commands_are_whole_messages(text: str, kind: YouthCommandKind) -> None:
    assert parse_youth(text) == YouthCommand(kind)


@pytest.mark.parametrize(
    "text",
    [
        "ich brauche hilfe",
        "das ende ist nah",
        "can you help me",
        "ja",
        "!next",
        "delete" * 20,
    ],
)
def test_sentences_with_command_words_stay_messages(text: str) -> None:
    assert parse_youth(text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("english", "en"),
        ("English please", "en"),
        ("in english", "en"),
        ("auf Englisch", "en"),
        ("Deutsch", "de"),
        ("auf deutsch bitte", "de"),
        ("german", "de"),
        ("in German, please!", "de"),
    ],
)
def test_a_youth_names_the_language_to_be_answered_in(text: str, language: str) -> None:
    """A youth could not change the chat's language: it was told once, by the first words
    that told one, and a German youth whose first words were "ok thanks" (or an English one
    who greeted with "Hallo") read the other language to the end, the emergency numbers
    too. Naming the language, alone as a message, switches it."""
    assert parse_youth(text) == YouthCommand(YouthCommandKind.LANGUAGE, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("bitte auf deutsch", "de"),
        ("Bitte Deutsch!", "de"),
        ("please english", "en"),
        ("pls in english", "en"),
        ("english plz", "en"),
    ],
)
def test_a_language_asked_for_with_please_first_is_named(text: str, language: str) -> None:
    """"Bitte auf Deutsch" is how German puts it, "please english" how a youth in a hurry
    does: only "auf Deutsch bitte" was read, and the youth who wrote it the other way round
    went on reading a language they had asked to leave, told nothing."""
    assert parse_youth(text) == YouthCommand(YouthCommandKind.LANGUAGE, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("english please, i want to die", "en"),
        ("English, please, i can't anymore", "en"),
        ("ich kann nicht mehr. Deutsch, bitte!", "de"),
        ("bitte, auf deutsch - ich will nicht mehr", "de"),
        ("Englisch, da hab ich ne 6", None),
        ("Mathe, Deutsch, bitte nicht schon wieder", None),
        ("english please. nein, deutsch bitte", None),
        ("english pls 🙏 i want to die", None),  # no mark between: one part, no phrase
        ("english pls 🙏, i want to die", "en"),
        ("i want to die. 🇬🇧 english please 🙏", "en"),
    ],
)
def test_a_language_asked_for_beside_other_words(text: str, language: str | None) -> None:
    """With a please, also split by commas as youths type it ("English, please, ..."): a
    language named in passing asks for nothing, nor do two."""
    assert language_asked(text) == language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("„ja löschen“", YouthCommand(YouthCommandKind.CONFIRM_DELETE)),
        ('"yes delete"', YouthCommand(YouthCommandKind.CONFIRM_DELETE)),
        ("„hilfe“", YouthCommand(YouthCommandKind.HELP)),
        ('"english"', YouthCommand(YouthCommandKind.LANGUAGE, "en")),
        ("“english”", YouthCommand(YouthCommandKind.LANGUAGE, "en")),
        ("«deutsch»", YouthCommand(YouthCommandKind.LANGUAGE, "de")),
        ("'deutsch'", YouthCommand(YouthCommandKind.LANGUAGE, "de")),
        ("*english*", YouthCommand(YouthCommandKind.LANGUAGE, "en")),
    ],
)
def test_a_command_typed_in_the_quotes_it_was_shown_in_is_read(
    text: str, expected: YouthCommand,
) -> None:
    """The bot shows its words in quotes („ja löschen“, "english"), and a youth copies them
    with the quotes, or stresses them (*english*): the confirmation was ignored in silence
    (the chat and the account stayed, the youth believing them gone), the language stayed."""
    assert parse_youth(text) == expected


@pytest.mark.parametrize("text", ["* löschen", "* ja löschen", "* english", "* „löschen“"])
def test_an_edit_marked_as_one_is_no_command(text: str) -> None:
    """An edit's words come marked "* …" (`bot.py`): an edit into "löschen" is no command.
    Read past its "*" as a markdown stress, it asked to delete the chat and the account."""
    assert parse_youth(text) is None
    assert language_asked(f"{text}, i want to die") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HİLFE", YouthCommand(YouthCommandKind.HELP)),
        ("ENGLİSH", YouthCommand(YouthCommandKind.LANGUAGE, "en")),
        ("VİDEO", YouthCommand(YouthCommandKind.VIDEO)),
        ("hılfe", YouthCommand(YouthCommandKind.HELP)),
    ],
)
def test_a_command_typed_on_a_turkish_keyboard_is_read(text: str,
                                                       expected: YouthCommand) -> None:
    """A Turkish keyboard types "İ" for a capital i (and has a dotless "ı" beside "i"):
    "HİLFE" in caps lock was words, and the youth who cried for help got no numbers."""
    assert parse_youth(text) == expected


@pytest.mark.parametrize("text", ["bitte hilfe", "Hilfe bitte!", "hilf mir", "Hilf mir bitte",
                                  "helft mir", "help me", "please help", "help me please",
                                  "hilfeeee", "HEEELP", "SOS"])
def test_a_cry_for_help_is_answered_as_hilfe_is(text: str) -> None:
    """"Hilfe!" may be a cry for help and gets the numbers first (`YouthSide._help`); "hilf
    mir bitte", "help me", "SOS" and "hilfeeee" are the same cry, and were words the crisis
    check does not flag: with counsellors on duty but busy, the youth who wrote them was
    told the wait and nothing else."""
    assert parse_youth(text) == YouthCommand(YouthCommandKind.HELP)


@pytest.mark.parametrize("text", ["ich brauche hilfe", "hilfe bei mathe", "help me with this",
                                  "sos-kinderdorf"])
def test_a_sentence_about_help_is_a_message(text: str) -> None:
    assert parse_youth(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("English please 🙏", YouthCommand(YouthCommandKind.LANGUAGE, "en")),
        ("deutsch bitte :)", YouthCommand(YouthCommandKind.LANGUAGE, "de")),
        ("🇬🇧 english", YouthCommand(YouthCommandKind.LANGUAGE, "en")),
        ("hilfe 😭😭", YouthCommand(YouthCommandKind.HELP)),
        ("hilf mir :(", YouthCommand(YouthCommandKind.HELP)),
        ("help ❤️", YouthCommand(YouthCommandKind.HELP)),
        ("ende 😭", None),
        ("löschen 😢", None),
    ],
)
def test_an_emoji_beside_a_cry_for_help_or_a_language_changes_nothing(
    text: str, expected: YouthCommand | None,
) -> None:
    """"hilfe 😭😭" is the cry "Hilfe!" is, and "English please 🙏" asks for English: with
    the emoji they were words, no numbers came, the language stayed. Not so for the words
    that end or delete the chat: "ende 😭" may be words, and is not taken as the end."""
    assert parse_youth(text) == expected


@pytest.mark.parametrize("text", ["ich kann kein englisch", "do you speak english?",
                                  "deutsch ist mein schlechtestes fach"])
def test_a_sentence_naming_a_language_is_a_message(text: str) -> None:
    assert parse_youth(text) is None


def test_help_texts_exist_in_both_languages() -> None:
    for entry in [*STAFF_HELP.values(), *YOUTH_HELP.values()]:
        assert entry.de
        assert entry.en
        assert entry.de != entry.en
    assert "!capacity N" in help_text("de", "capacity")
    assert help_text("en", "capacity").count("\n") == 0
    assert "löschen" in help_text("de", staff=False)


def test_every_staff_command_has_help() -> None:
    for name in STAFF_HELP:
        result = parse_staff(f"!{name}")
        assert not (isinstance(result, ParseError) and result.key is ParseErrorKey.UNKNOWN)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=300))
def test_any_short_text_never_crashes(text: str) -> None:
    parse_staff(text)
    parse_youth(text)
    parse_staff("!" + text)
    parse_staff("!transfer " + text)


def _to_64_kb(text: str) -> str:
    return (text * (65_536 // len(text) + 1))[:65_536]


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=500).map(_to_64_kb))
def test_64_kb_bodies_never_crash(text: str) -> None:
    assert len(text) == 65_536
    assert parse_youth(text) is None
    assert isinstance(parse_staff("!a" + text), ParseError)  # "!" and a word: a command
    parse_staff("!" + text)
    parse_staff(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!take c-1a2b3c4d", TakeCommand(ConversationID("C-1A2B3C4D"))),
        ("!close c-1a2b3c4d", CloseCommand(ConversationID("C-1A2B3C4D"))),
        ("!confirm C-1a2B3c4D", ConfirmCommand(ConversationID("C-1A2B3C4D"))),
        ("!dismiss c-1a2b3c4d", DismissCommand(ConversationID("C-1A2B3C4D"))),
        ("!transfer c-1a2b3c4d queue", TransferCommand(None, ConversationID("C-1A2B3C4D"))),
        ("!supervise end c-1a2b3c4d", SuperviseCommand(ConversationID("C-1A2B3C4D"), end=True)),
    ],
)
def test_a_case_id_typed_in_lower_case_names_the_conversation(
    text: str, expected: object
) -> None:
    """Review (workflow) finding 2: ids are "C-" and eight upper-case hex digits, and `!note`
    and `!appointment` took them in any case; the routing commands kept "c-1a2b3c4d" as
    typed, so "!take c-1a2b3c4d" (a phone's keyboard, a tired hand) answered "There is no
    open conversation c-1a2b3c4d" while that youth waited."""
    assert parse_staff(text) == expected


@pytest.mark.parametrize("text", [
    "!!! ruf sofort 112 an", "!!", "!? bist du noch da", "!!!" + "x" * MAX_STAFF_COMMAND_CHARS,
    "！！ bitte melde dich", "!112 anrufen, sofort", "!1000 dank fürs schreiben",
])
def test_a_reply_that_starts_with_punctuation_is_no_command(text: str) -> None:
    """A counsellor's urgent reply ("!!! ruf sofort 112 an") is words for the youth: read as
    an unknown command, it did not end the youth's wait and was never mailed to a youth
    counselled by mail. A command is "!" and a word; a typo of one is still an unknown
    command ("!nxt", above)."""
    assert parse_staff(text) is None


@pytest.mark.parametrize("text", [
    "! Ruf sofort 112 an", "! bitte melde dich, wenn du das liest", "!\tGeh zu deiner Tante",
    "!\nRuf 112 an", "！ Ruf 112 an",
])
def test_a_mark_with_a_space_after_it_is_a_reply(text: str) -> None:
    """"! Ruf sofort 112 an" is the counsellor's urgent words for the youth, as "!!! ruf
    sofort 112 an" is: read as an unknown command ("ruf"), the counsellor got a command
    error, the youth's wait went on, and a youth counselled by mail was never mailed the
    words (`_maybe_mail_reply` sends only what this parser calls no command)."""
    assert parse_staff(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("! duty off", DutyCommand(False)),
    ("! note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater",
     ParseError(ParseErrorKey.UNKNOWN, "!note", "note")),
    ("! notiz C-1A2B3C4D Verdacht auf Gewalt", ParseError(ParseErrorKey.UNKNOWN, "!note", "note")),
    # A word no command resembles, but a case id after it: a note in other words, never
    # words for the youth (a youth counselled by mail had it mailed whole).
    ("! Vermerk C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater",
     ParseError(ParseErrorKey.UNKNOWN, "!note", "note")),
    ("! Anmerkung c-1a2b3c4d Mutter trinkt", ParseError(ParseErrorKey.UNKNOWN, "!note", "note")),
])
def test_a_command_word_after_a_mark_and_a_space_stays_a_command(
    text: str, expected: object
) -> None:
    """What a command word follows is no reply: a case note read as one was mailed whole to
    a youth counselled by mail."""
    assert parse_staff(text) == expected


@pytest.mark.parametrize(("text", "hint"), [
    ("!!note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater", "!note"),
    ("!!take C-1A2B3C4D", "!take"),
    ("!!!transfer C-1A2B3C4D @lea:example.org", "!transfer"),
    ("！！notes C-1A2B3C4D", "!notes"),
    ("!\u200b!duty off", "!duty"),
    ("!!termin C-1A2B3C4D 12.12. 15:00 30 video", "!termin"),
])
def test_a_command_typed_with_a_doubled_mark_is_no_reply(text: str, hint: str) -> None:
    """A command word right after "!!" is a command mistyped, not words for the youth: read
    as a reply, a case note typed "!!note C-… Verdacht auf Gewalt" was mailed whole to a
    youth counselled by mail (`_maybe_mail_reply` sends what this calls no command), where
    whoever reads their mail reads it too; the counsellor was told nothing."""
    parsed = parse_staff(text)
    assert isinstance(parsed, ParseError)
    assert (parsed.key, parsed.hint) == (ParseErrorKey.UNKNOWN, hint)


@pytest.mark.parametrize("text", [
    "!.note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater",
    "!/note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater",
    "!-note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater",
    "!,note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater",
])
def test_a_note_typed_after_another_mark_is_no_reply(text: str) -> None:
    """A slip of the thumb to the key beside "!" ("!.note", "!-note") or a habit from other
    chat programs ("!/note") is as much a mistyped note as "!!note": read as a reply it stayed
    in the youth's room and was mailed whole to a youth counselled by mail
    (`_maybe_mail_reply` sends what this parser calls no command)."""
    parsed = parse_staff(text)
    assert isinstance(parsed, ParseError)
    assert (parsed.key, parsed.hint, parsed.command) == (ParseErrorKey.UNKNOWN, "!note", "note")


@pytest.mark.parametrize(("text", "hint", "command"), [
    ("/note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater", "!note", "note"),
    ("/take C-1A2B3C4D", "!take", "take"),
])
def test_a_command_typed_with_a_slash_is_no_reply(text: str, hint: str, command: str) -> None:
    """A counsellor used to slash commands ("/note …", which a chat app sends as text
    when it knows no such command) typed a case note that was no command here: it stayed
    in the youth's room, and `_maybe_mail_reply` mailed it whole to a youth counselled by
    mail; the counsellor was told nothing."""
    parsed = parse_staff(text)
    assert isinstance(parsed, ParseError)
    assert (parsed.key, parsed.hint, parsed.command) == (ParseErrorKey.UNKNOWN, hint, command)


@pytest.mark.parametrize("text", ["/ bin gleich wieder da", "/shrug", "//", "/10 Punkte"])
def test_a_reply_with_a_slash_before_no_command_stays_a_reply(text: str) -> None:
    assert parse_staff(text) is None


@pytest.mark.parametrize("word", ["!ntoe", "!nte", "!notiz", "!noet"])
def test_a_misspelt_note_is_named_a_note(word: str) -> None:
    """"!ntoe C-… Verdacht" is refused as an unknown command; unnamed, it was not redacted
    from the youth's room as a note refused there is (`_REDACTED`): the youth, or whoever
    reads their phone, read the counsellor's suspicion about them."""
    parsed = parse_staff(f"{word} C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater")
    assert isinstance(parsed, ParseError)
    assert (parsed.key, parsed.hint, parsed.command) == (ParseErrorKey.UNKNOWN, "!note", "note")


@pytest.mark.parametrize("marks", ["\u200b" * 8, "\u200e\u200f" * 5, "\ufeff" + "\u2066" * 9])
def test_a_note_after_many_invisible_marks_is_no_reply(marks: str) -> None:
    """The working-day parser reads a note after any number of invisible format marks (a
    paste, an RTL writer's direction marks) and saves it; the bot mails to a youth
    counselled by mail what this parser calls no command (`_maybe_mail_reply`). After eight
    marks it called the note none, and the case note went out to the youth by mail."""
    text = f"{marks}!note C-1A2B3C4D Verdacht auf Gewalt durch den Stiefvater"
    assert parse_workday(text) is not None
    assert parse_staff(text) is not None
