"""The page as HTML: both languages, all three registration modes, escaping, structure."""

from __future__ import annotations

import itertools
import re
import string
from dataclasses import asdict, replace
from datetime import timedelta

import pytest

from homeserver_bridge.entry_page.content import EntryPageContent, Lang, Registration
from homeserver_bridge.entry_page.render import (
    Failed,
    Issued,
    Limited,
    Offer,
    PageRenderer,
    SignupState,
    qr_svg,
)
from homeserver_bridge.entry_page.texts import ENGLISH, GERMAN, amount, texts_for
from homeserver_bridge.rate_limit import Scope
from tests.entry_page.html_outline import outline

PRESS = "p" * 24
OFFER = Offer(PRESS)
CONTENT = EntryPageContent(
    homeserver_url="https://matrix.beratung.example",
    server_name="beratung.example",
    bot_user_id="@beratung:beratung.example",
    registration="token",
    opening_hours={"de": ["Mo–Fr 14:00–20:00", "Sa 10:00–14:00"], "en": ["Mon–Fri 2–8 pm"]},
    office_name="Jugendberatung Beispielstadt",
)
LANGS: list[Lang] = ["de", "en"]
MODES: list[Registration] = ["closed", "token", "open"]


def render(
    lang: Lang = "de",
    state: SignupState = OFFER,
    content: EntryPageContent = CONTENT,
) -> str:
    return PageRenderer(content, token_ttl_hours=24).render(lang, state)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_in_every_language_has_the_sections_in_heading_order(
    lang: Lang, mode: Registration
) -> None:
    page = outline(render(lang, content=replace(CONTENT, registration=mode)))
    texts = texts_for(lang)
    assert page.lang == lang
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), page.headings
    titles = [title for _, title in page.headings]
    for heading in (
        texts.headline, texts.emergency_heading, texts.private_heading, texts.hours_heading,
        texts.steps_heading, texts.step1_heading, texts.step2_heading, texts.step3_heading,
    ):
        assert heading in titles
    # Apps, matrix.to link, QR code and the bot's id are there in every mode.
    hrefs = {link.get("href") for link in page.links}
    assert {"https://element.io/download", "https://fluffychat.im/"} <= hrefs
    assert "https://matrix.to/#/@beratung:beratung.example" in hrefs
    assert "@beratung:beratung.example" in page.text
    [qr] = page.images
    assert qr["src"] == "/qr.svg"
    assert qr["alt"] == texts.step3_qr_alt


@pytest.mark.parametrize("lang", LANGS)
def test_token_mode_offers_a_real_form_that_works_without_javascript(lang: Lang) -> None:
    page = outline(render(lang))
    [form] = page.forms
    assert form["method"] == "post"
    assert form["action"].startswith("/token")
    fields = {i.get("name"): i.get("value") for i in page.inputs if i["tag"] == "input"}
    assert fields == {"lang": lang, "press": PRESS}
    [button] = [i for i in page.inputs if i["tag"] == "button"]
    assert button["type"] == "submit"
    assert texts_for(lang).code_button in page.text
    assert "https://matrix.beratung.example" in page.text
    assert page.scripts == 0


@pytest.mark.parametrize("lang", LANGS)
def test_open_mode_shows_the_server_address_and_no_button(lang: Lang) -> None:
    page = outline(render(lang, content=replace(CONTENT, registration="open")))
    assert page.forms == []
    assert "https://matrix.beratung.example" in page.text
    assert texts_for(lang).step2_nickname in page.text
    assert texts_for(lang).closed_text not in page.text


@pytest.mark.parametrize("lang", LANGS)
def test_closed_mode_says_so_and_offers_no_sign_up(lang: Lang) -> None:
    page = outline(render(lang, content=replace(CONTENT, registration="closed")))
    assert page.forms == []
    assert texts_for(lang).closed_text in page.text
    assert texts_for(lang).step2_create not in page.text
    # The emergency numbers are still there, which the closed text points to.
    assert "116 111" in page.text


@pytest.mark.parametrize("lang", LANGS)
def test_the_language_switch_points_to_the_other_language(lang: Lang) -> None:
    page = outline(render(lang))
    other = "en" if lang == "de" else "de"
    [switch] = [link for link in page.links if link.get("class") == "switch"]
    assert switch["hreflang"] == other
    assert switch["lang"] == other
    assert switch["href"] == ("/en/" if other == "en" else "/")


def test_opening_hours_per_language_with_german_as_fallback() -> None:
    assert "Sa 10:00–14:00" in render("de")
    english = render("en")
    assert "Mon–Fri 2–8 pm" in english
    assert "Sa 10:00–14:00" not in english
    only_german = replace(CONTENT, opening_hours={"de": ["Mo–Fr 14:00–20:00"]})
    # Shown on the English page, marked as German for screen readers.
    assert '<ul class="hours" lang="de">' in render("en", content=only_german)
    assert '<ul class="hours">' in render("de", content=only_german)
    none = replace(CONTENT, opening_hours={})
    assert ENGLISH.hours_unknown in outline(render("en", content=none)).text


def test_emergency_numbers_are_tap_to_call_links() -> None:
    page = outline(render())
    tel = {link["href"] for link in page.links if link.get("href", "").startswith("tel:")}
    assert tel == {"tel:116111", "tel:08001110111", "tel:08001110222", "tel:112"}
    assert "Nummer gegen Kummer" in page.text
    assert "TelefonSeelsorge" in page.text


def test_german_names_on_the_english_page_are_marked_as_german() -> None:
    english = render("en")
    assert '<span class="name" lang="de">Nummer gegen Kummer</span>' in english
    assert '<span class="name">Emergency</span>' in english
    assert 'lang="de"' not in render("de").replace('<html lang="de">', "")


@pytest.mark.parametrize("lang", LANGS)
def test_an_issued_token_replaces_the_button(lang: Lang) -> None:
    html = render(lang, Issued("AbCd1234efGH"))
    page = outline(html)
    assert page.forms == []
    assert "AbCd1234efGH" in page.text
    assert texts_for(lang).code_heading in [title for _, title in page.headings]
    assert 'id="code"' in html  # the form posts to /token#code, so the browser lands here


@pytest.mark.parametrize(
    ("scope", "field"), [("address", "code_limited_address"), ("global", "code_limited_global")]
)
@pytest.mark.parametrize("lang", LANGS)
def test_the_limit_message_names_the_wait_in_whole_minutes(
    lang: Lang, scope: Scope, field: str
) -> None:
    state = Limited(scope, timedelta(minutes=19, seconds=1))
    page = outline(render(lang, state))
    expected = getattr(texts_for(lang), field).format(minutes=amount(lang, "minutes", 20))
    assert ("20 Minuten" if lang == "de" else "20 minutes") in expected
    assert expected in page.text
    assert page.forms == []


def test_a_failure_says_so_and_offers_the_button_again() -> None:
    page = outline(render("en", Failed(PRESS)))
    assert ENGLISH.code_failed in page.text
    [form] = page.forms
    assert form["method"] == "post"


def test_config_values_cannot_inject_markup() -> None:
    hostile = replace(
        CONTENT,
        office_name='<script>alert("x")</script>',
        opening_hours={"de": ["<img src=x onerror=alert(1)>"]},
    )
    html = render(content=hostile)
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "<script" not in render(state=Issued('"><script>'))


@pytest.mark.parametrize("lang", LANGS)
def test_everything_loads_from_this_server(lang: Lang) -> None:
    page = outline(render(lang))
    assert page.resources
    assert all(url.startswith("/") and not url.startswith("//") for url in page.resources)
    # CSP forbids inline styles; none are needed.
    assert page.inline_styles == 0
    external = {
        link["href"] for link in page.links if re.match(r"https?://", link.get("href", ""))
    }
    assert external == {
        "https://element.io/download", "https://fluffychat.im/",
        "https://matrix.to/#/@beratung:beratung.example",
    }


def test_both_languages_have_every_text_with_the_same_placeholders() -> None:
    german, english = asdict(GERMAN), asdict(ENGLISH)
    for key, value in german.items():
        assert value.strip(), key
        assert english[key].strip(), key
        assert _fields(value) == _fields(english[key]), key
    assert GERMAN.code_rules.format(hours=24) != GERMAN.code_rules


def test_the_qr_code_is_an_svg_for_the_chat_link() -> None:
    svg = qr_svg(CONTENT.chat_link, "QR").decode()
    assert svg.startswith("<svg")
    assert "<title>QR</title>" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
