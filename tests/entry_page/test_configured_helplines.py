"""The helplines the entry page lists come from the configuration.

The page listed the German helplines whatever the office configured: an office in Vienna
that set its own numbers for the chat (`[crisis] emergency_*`) sent a youth in distress on
its entry page to TelefonSeelsorge 0800 111 0 111, a German line. Now the page lists
`[[entry_page.emergency_numbers]]` (the German ones when none are set), and a start whose
chat numbers differ from the page's says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from counsel_bot.config import ConfigError, settings_from_mapping
from counsel_bot.core.clock import FakeClock
from counsel_bot.runtime.service import (
    Running,
    banner,
    entry_page_content,
    helplines_differ,
)
from homeserver_bridge.entry_page import DEFAULT_EMERGENCY_NUMBERS
from homeserver_bridge.entry_page.render import Offer, PageRenderer
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.provision import Account

VIENNA = {
    "crisis": {"emergency_de": "Rat auf Draht 147 · Telefonseelsorge 142 · Notruf 112",
               "emergency_en": "Rat auf Draht 147 · Telefonseelsorge 142 · emergency 112"},
    "entry_page": {"emergency_numbers": [
        {"name_de": "Rat auf Draht", "numbers": ["147"],
         "note_de": "Für Kinder und Jugendliche, rund um die Uhr.",
         "note_en": "For children and young people, day and night."},
        {"name_de": "Telefonseelsorge", "numbers": ["142"]},
        {"name_de": "Notruf", "name_en": "Emergency", "numbers": ["112"]},
    ]},
}


def _page(data: dict[str, Any], tmp_path: Path, lang: str = "de") -> str:
    settings = settings_from_mapping(data)
    running = Running(settings, DataLayout(tmp_path), cast(Any, None),
                      Account("bot", "@beratung:counsel.localhost", "x", "Beratung"), [])
    content = entry_page_content(running, FakeClock(datetime(2026, 12, 1, 12, tzinfo=UTC)))
    return PageRenderer(content, 24).render(lang, Offer("press"))  # type: ignore[arg-type]


def test_the_page_lists_the_configured_helplines(tmp_path: Path) -> None:
    page = _page(VIENNA, tmp_path)
    assert "Rat auf Draht" in page
    assert "142" in page
    assert "0800 111 0 111" not in page
    assert "day and night" in _page(VIENNA, tmp_path, "en")


def test_without_any_the_german_helplines_are_listed(tmp_path: Path) -> None:
    assert settings_from_mapping({}).entry_page.helplines() == DEFAULT_EMERGENCY_NUMBERS
    assert "0800 111 0 111" in _page({}, tmp_path)


@pytest.mark.parametrize(("helpline", "message"), [
    ({"name_de": "Rat auf Draht", "numbers": ["ruf an"]}, "should be digits and spaces"),
    ({"name_de": "Rat auf Draht", "numbers": []}, "has no number to call"),
    ({"numbers": ["147"]}, "name_de: missing"),
])
def test_a_helpline_the_page_cannot_list_is_refused(helpline: dict[str, Any],
                                                    message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping({"entry_page": {"emergency_numbers": [helpline]}})


def test_chat_numbers_changed_without_the_pages_are_said_at_the_start() -> None:
    assert helplines_differ(settings_from_mapping(VIENNA)) is None
    assert helplines_differ(settings_from_mapping({})) is None
    only_chat = settings_from_mapping({"crisis": VIENNA["crisis"]})
    warning = helplines_differ(only_chat)
    assert warning is not None
    assert "[[entry_page.emergency_numbers]]" in warning
    running = Running(only_chat, DataLayout(Path("/nonexistent")), cast(Any, None),
                      Account("bot", "@beratung:counsel.localhost", "x", "Beratung"), [])
    assert warning in banner(running)
    off = settings_from_mapping({"crisis": VIENNA["crisis"], "entry_page": {"enabled": False}})
    assert helplines_differ(off) is None
