"""An office that counsels only in English (`languages = ["en"]`), on an installation whose
default language is German: a youth who reaches it by its start text (which tells no
language) read the welcome, the office's name and when it opens in German, from an office
that speaks none. The office's language is the conversation's until the youth's own words
tell another. A memory store, the real detector."""

from __future__ import annotations

from counsel_bot.config import settings_from_mapping
from counsel_bot.core.effects import SayToYouth
from tests.counsel_bot.test_crisis_paths import T0, conversation_of, office, pending, youth

SETTINGS = settings_from_mapping({
    "routing": {"fallback_office": "jugend"},
    "offices": [
        {"id": "intl", "name": "International Youth Line", "topics": ["migration"],
         "languages": ["en"], "counsellors": ["@ada:x"], "hours": {"mon": ["09:00-10:00"]}},
        {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
         "counsellors": ["@cem:x"]},
    ],
})


async def test_a_youth_who_picks_an_english_office_is_answered_in_english() -> None:
    c = await office(SETTINGS)
    await youth(c, "stelle:intl", T0)
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.office == "intl"
    assert current.language == "en"
    said = [e.key for e in await pending(c) if isinstance(e, SayToYouth)]
    assert "office.chosen" in said


async def test_a_youth_whose_words_tell_german_keeps_german() -> None:
    c = await office(SETTINGS)
    await youth(c, "stelle:intl Hallo, ich brauche Hilfe mit meinem Aufenthalt", T0)
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.language == "de"


async def test_a_youth_who_answers_the_question_with_an_english_office_is_answered_in_english(
) -> None:
    """ "hey" tells no language; asked what it is about, the youth types the number of the
    English-only office's topic: its name, and when it opens, came in German."""
    c = await office(SETTINGS)
    await youth(c, "hey", T0)
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.office == "?"
    await youth(c, "1", T0)  # 1. Flucht und Migration
    current = c.router.conversation(await conversation_of(c))
    assert current is not None
    assert current.office == "intl"
    assert current.language == "en"
