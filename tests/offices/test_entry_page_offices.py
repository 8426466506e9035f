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


def test_on_duty_is_shown_per_office_only_when_known() -> None:
    listings = (OfficeListing("familie", "Familienberatung"), OfficeListing("schule", "Schule"))
    content = EntryPageContent(**{**BASE.__dict__, "offices": listings})
    renderer = PageRenderer(content, token_ttl_hours=24)
    page = renderer.render("de", Offer("p"), {"familie": True, "schule": False})
    family = page.split('id="office-familie"')[1].split('id="office-schule"')[0]
    school = page.split('id="office-schule"')[1]
    assert "Gerade ist jemand da." in family
    assert "Gerade ist niemand im Chat" in school
    unknown = renderer.render("en", Offer("p"))
    assert "Someone is there" not in unknown
    assert "Nobody is in the chat" not in unknown


async def test_office_duty_is_read_from_the_bots_metrics() -> None:
    import aiohttp
    from aiohttp.test_utils import TestServer

    from counsel_bot.core.clock import FakeClock
    from counsel_bot.metrics import CounselMetrics
    from counsel_bot.office_metrics import OfficeMetrics
    from counsel_bot.runtime.office_duty import OfficeDuty
    from counsel_bot.runtime.offices import office_rules
    from counsel_bot.web import WebSettings, build_web_app
    from counsel_bot.web.router_source import RouterDashboardSource
    from tests.offices.test_office_conversation import BEN, T0, staff_says
    from tests.web.fakes import FakeAuth

    metrics = CounselMetrics(FakeClock(T0))
    c = await conductor()
    c.metrics = metrics
    c.office_metrics = OfficeMetrics(office_rules(settings_from_mapping(CONFIG)),
                                     metrics.registry)
    await staff_says(c, BEN, "!duty on")
    source = RouterDashboardSource(lambda: c.router.snapshot(), FakeClock(T0),
                                   nickname=lambda _user: None)
    app = build_web_app(metrics, source, FakeAuth({}), WebSettings(), FakeClock(T0))
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        duty = OfficeDuty(str(server.make_url("/metrics")), None)
        await duty.refresh(session)
        assert duty() == {"familie": False, "schule": True, "jugend": False}
    async with aiohttp.ClientSession() as session:
        await duty.refresh(session)  # the bot is gone: unknown, not stale
    assert duty() == {}


async def test_an_office_whose_only_one_on_duty_takes_no_new_youths_shows_nobody_there() -> None:
    """Ben is on duty with `!capacity 0` (reading along, wrapping up: no new youths): the
    router counts his office as unstaffed (`OfficeRules.staffed`), and a youth who writes
    is told nobody is on duty. The entry page said "Someone is there right now" first."""
    import aiohttp
    from aiohttp.test_utils import TestServer

    from counsel_bot.core.clock import FakeClock
    from counsel_bot.metrics import CounselMetrics
    from counsel_bot.office_metrics import OfficeMetrics
    from counsel_bot.runtime.office_duty import OfficeDuty
    from counsel_bot.runtime.offices import office_rules
    from counsel_bot.web import WebSettings, build_web_app
    from counsel_bot.web.router_source import RouterDashboardSource
    from tests.offices.test_office_conversation import ANNA, BEN, T0, staff_says
    from tests.web.fakes import FakeAuth

    metrics = CounselMetrics(FakeClock(T0))
    c = await conductor()
    c.metrics = metrics
    c.office_metrics = OfficeMetrics(office_rules(settings_from_mapping(CONFIG)),
                                     metrics.registry)
    await staff_says(c, ANNA, "!duty on")
    await staff_says(c, BEN, "!duty on")
    await staff_says(c, BEN, "!capacity 0")
    source = RouterDashboardSource(lambda: c.router.snapshot(), FakeClock(T0),
                                   nickname=lambda _user: None)
    app = build_web_app(metrics, source, FakeAuth({}), WebSettings(), FakeClock(T0))
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        duty = OfficeDuty(str(server.make_url("/metrics")), None)
        await duty.refresh(session)
        assert duty() == {"familie": True, "schule": False, "jugend": False}


@pytest.mark.parametrize("first", [
    "stelle:familie.",  # a sentence's full stop, or the phone's after a double space
    "Hallo, stelle:familie",
    "Starttext: stelle:familie Zum Chat",  # the page's whole line, copied
    "Stelle: Familie",  # the phone made it a capital, and a space after the colon
])
async def test_the_start_text_within_other_words_still_preselects_the_office(first: str) -> None:
    """Family is served by two offices, so the words alone ("familie": the family topic)
    do not decide it: after copying or typing the office's start text, the youth was asked
    what it is about instead of reaching the office they picked on the page."""
    c = await conductor()
    cid = await open_youth(c, "!e2:x", first)
    conv = c.router.conversation(cid)
    assert conv is not None
    assert conv.office == "familie"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_an_office_with_its_own_crisis_lines_shows_them_on_its_card(lang: str) -> None:
    """An office in another region (Vienna: German 0800 lines do not work from there) sets
    its own numbers, which its youths get in the chat; the page listed it without them, so
    a youth reading its card in a bad way found only the installation's lines at the top."""
    vienna = "Rat auf Draht 147 (rund um die Uhr) · Notruf 112"
    settings = settings_from_mapping({**CONFIG, "offices": [
        {**CONFIG["offices"][0], "emergency_de": vienna},  # type: ignore[index]
        *CONFIG["offices"][1:],  # type: ignore[index]
    ]})
    listings = office_listings(settings, date(2026, 11, 23))
    content = EntryPageContent(**{**BASE.__dict__, "offices": listings})
    page = PageRenderer(content, token_ttl_hours=24).render(lang, Offer("p"))  # type: ignore[arg-type]
    family = page.split('id="office-familie"')[1].split('id="office-schule"')[0]
    school = page.split('id="office-schule"')[1]
    assert "Rat auf Draht 147" in family
    assert "Rat auf Draht 147" not in school
