"""An office's own words for when it is closed (`out_of_hours_text`: its holidays, its way
back) are said "instead of the standard text". They were said only to a youth who answered
the office question: one who came with the office's start text from the entry page, or
whose first words named the office, and one handed back as the office closed, read the
standard text (with the installation's next opening), never the office's. A memory store,
the real detector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counsel_bot.config import Settings, settings_from_mapping
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import UserID
from tests.counsel_bot.test_crisis_paths import T0, office, pending, staff, youth

ANNA = UserID("@anna:x")
OWN = "Wir sind bis zum 6. Januar in den Ferien. Danach sind wir wieder für dich da."


def _settings(hours: dict[str, list[str]]) -> Settings:
    return settings_from_mapping({
        "routing": {"fallback_office": "jugend"},
        "offices": [
            {"id": "familie", "name": "Familienberatung", "topics": ["family"],
             "postcodes": ["89"], "counsellors": [ANNA], "hours": hours,
             "out_of_hours_text": OWN},
            {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
             "counsellors": ["@cem:x"]},
        ],
    })


async def _closed_texts(c: Conductor) -> list[tuple[str, dict[str, object]]]:
    return [(e.key, dict(e.params)) for e in await pending(c)
            if isinstance(e, SayToYouth) and "out_of_hours" in e.key]


@pytest.mark.parametrize("first", ["stelle:familie", "Stress mit meinen Eltern, 89073"])
async def test_a_youth_who_reaches_a_closed_office_at_once_reads_its_own_words(
        first: str) -> None:
    c = await office(_settings({"mon": ["09:00-10:00"]}))  # T0 is a Tuesday
    await youth(c, first, T0)
    [(key, params)] = await _closed_texts(c)
    assert key == "office.out_of_hours"
    assert params["text"] == OWN


async def test_a_youth_handed_back_as_the_office_closes_reads_its_own_words() -> None:
    c = await office(_settings({"tue": ["14:00-16:00"]}))  # T0 is 15:00 in Berlin
    await staff(c, ANNA, "!duty on", T0)
    await youth(c, "stelle:familie", T0)
    assert await _closed_texts(c) == []
    await staff(c, ANNA, "!duty off", T0 + timedelta(hours=1, minutes=5))
    [(key, params)] = await _closed_texts(c)
    assert key == "office.out_of_hours"
    assert params["text"] == OWN


OWN_EN = "We are on holiday until 6 January. After that we are here for you again."


@pytest.mark.parametrize(("own_en", "key", "text"), [
    (OWN_EN, "office.out_of_hours", OWN_EN),
    # None in English: the standard text in English (when the office opens, from its
    # hours), not the German words the youth may not read.
    ("", "out_of_hours", None),
])
async def test_an_english_speaking_youth_reads_the_offices_words_in_english(
        own_en: str, key: str, text: str | None) -> None:
    """The office counsels in English too (`languages`, as in the README's example), and its
    closed text was German only: an English-speaking youth read "Wir sind bis zum 6. Januar
    in den Ferien" and an English line with the numbers."""
    settings = settings_from_mapping({
        "routing": {"fallback_office": "jugend"},
        "offices": [
            {"id": "familie", "name": "Familienberatung", "topics": ["family"],
             "postcodes": ["89"], "counsellors": [ANNA], "languages": ["de", "en"],
             "hours": {"mon": ["09:00-10:00"]}, "out_of_hours_text": OWN,
             "out_of_hours_text_en": own_en},
            {"id": "jugend", "name": "Jugendberatung", "topics": ["general"],
             "counsellors": ["@cem:x"]},
        ],
    })
    c = await office(settings)
    await youth(c, "I have a lot of trouble with my parents at home, 89073", T0)
    [(said, params)] = await _closed_texts(c)
    assert (said, params.get("text")) == (key, text)
