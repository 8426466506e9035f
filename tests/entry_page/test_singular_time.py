"""The entry page says "1 Stunde" and "1 Minute", not "1 Stunden" and "1 minutes".

`token_ttl_hours = 1` is a valid setting (1 to 720), and a sign-up limit that ends within
the minute is told as one minute: the page told a youth "Ein Code gilt 1 Stunden" and "Einen
neuen Code gibt es in etwa 1 Minuten", "1 hours", "1 minutes" in English. The real renderer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from homeserver_bridge.entry_page.content import Lang
from homeserver_bridge.entry_page.render import Issued, Limited, PageRenderer
from tests.entry_page.test_render import CONTENT, OFFER

SINGULAR = {"de": ("1 Stunde ", "1 Minute."), "en": ("1 hour ", "1 minute.")}
PLURAL = {"de": ("1 Stunden", "1 Minuten"), "en": ("1 hours", "1 minutes")}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_one_hour_and_one_minute_are_singular(lang: Lang) -> None:
    renderer = PageRenderer(CONTENT, token_ttl_hours=1)
    hour, minute = SINGULAR[lang]
    offer = renderer.render(lang, OFFER)
    issued = renderer.render(lang, Issued("tok-123"))
    limited = renderer.render(lang, Limited("address", timedelta(seconds=30)))
    assert hour in offer
    assert hour in issued
    assert minute in limited
    for page in (offer, issued, limited):
        for wrong in PLURAL[lang]:
            assert wrong not in page


@pytest.mark.parametrize("lang", ["de", "en"])
def test_more_stay_plural(lang: Lang) -> None:
    renderer = PageRenderer(CONTENT, token_ttl_hours=24)
    page = renderer.render(lang, OFFER)
    assert ("24 Stunden" if lang == "de" else "24 hours") in page
    limited = renderer.render(lang, Limited("global", timedelta(minutes=5)))
    assert ("5 Minuten" if lang == "de" else "5 minutes") in limited
