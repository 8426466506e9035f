"""The entry page with several offices: each listed with topics, hours and its start text,
and the start text takes the youth straight to that office."""

from __future__ import annotations

from datetime import date

import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.runtime.offices import office_listings
from homeserver_bridge.entry_page.content import EntryPageContent, OfficeListing
from homeserver_bridge.entry_page.render import Offer, PageRenderer
from tests.offices.test_office_conversation import CONFIG, conductor, open_youth

BASE = EntryPageContent(homeserver_url="https://matrix.example.org", server_name="example.org",
                        bot_user_id="@beratung:example.org")


def test_one_office_shows_no_office_list() -> None:
    page = PageRenderer(BASE, token_ttl_hours=24).render("de", Offer("p"))
    assert "Unsere Beratungsstellen" not in page
    assert "stelle:" not in page


@pytest.mark.parametrize(("lang", "heading", "topic"), [
    ("de", "Unsere Beratungsstellen", "Familie und Eltern"),
    ("en", "Our counselling offices", "family and parents"),
])
def test_offices_are_listed_with_topics_hours_and_start_text(
    lang: str, heading: str, topic: str
) -> None:
    settings = settings_from_mapping({**CONFIG, "offices": [
        {**CONFIG["offices"][0], "hours": {"mon": ["14:00-18:00"]}},  # type: ignore[index]
        *CONFIG["offices"][1:],  # type: ignore[index]
    ]})
    listings = office_listings(settings, date(2026, 11, 23))
    content = EntryPageContent(**{**BASE.__dict__, "offices": listings})
    page = PageRenderer(content, token_ttl_hours=24).render(lang, Offer("p"))  # type: ignore[arg-type]
    assert heading in page
    assert "Familienberatung Ulm" in page
    assert topic in page
    assert '<code>stelle:familie</code>' in page
    assert 'id="office-schule"' in page
    assert "14:00" in page


def test_office_names_are_escaped() -> None:
    listing = OfficeListing("x", "<b>Böse</b>", {"de": "a & b"})
    content = EntryPageContent(**{**BASE.__dict__, "offices": (listing,)})
    page = PageRenderer(content, token_ttl_hours=24).render("de", Offer("p"))
    assert "<b>Böse</b>" not in page
    assert "&lt;b&gt;Böse&lt;/b&gt;" in page


async def test_the_start_text_preselects_the_office() -> None:
    c = await conductor()
    cid = await open_youth(c, "!e1:x", "stelle:schule")
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == "schule"
