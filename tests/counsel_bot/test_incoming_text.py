"""What a message's text is taken for, and what is stored of it."""

from __future__ import annotations

import pytest

from counsel_bot.core.incoming_text import (
    case_code_in,
    mail_address,
    storable,
    without_reply_fallback,
)


@pytest.mark.parametrize(("body", "code"), [
    ("abcd-ef23-hjk4", True), (" ABCD-EF23-HJK4\n", True), ("abcd-ef23", False),
    ("mein code ist abcd-ef23-hjk4", False),
])
def test_a_case_code_is_the_whole_message(body: str, code: bool) -> None:
    assert (case_code_in(body) is not None) is code


@pytest.mark.parametrize("body", [
    "Fall-Code: abcd-ef23-hjk4", "diesen Fall-Code: abcd-ef23-hjk4", "abcd-ef23-hjk4.",
    "this case code: ABCD-EF23-HJK4", "Case code abcd-ef23-hjk4!", "„abcd-ef23-hjk4“",
    "Code: abcd-ef23-hjk4",
])
def test_a_case_code_pasted_with_its_label_or_a_stop_is_the_code(body: str) -> None:
    """The invitation mail says "Schreib ... diesen Fall-Code: abcd-...": a youth who pasted
    the line, or ended it with a full stop, was taken for a new youth and queued for a
    stranger, the code unused."""
    assert case_code_in(body) == "abcd-ef23-hjk4"


@pytest.mark.parametrize(("body", "address"), [
    ("sonne@example.org", "sonne@example.org"), (" <sonne@example.org> ", "sonne@example.org"),
    ("schreib mir: sonne@example.org", None), ("sonne@example", None), ("@example.org", None),
])
def test_a_mail_address_is_the_whole_message(body: str, address: str | None) -> None:
    assert mail_address(body) == address


def test_lone_surrogates_become_replacement_characters_and_text_stays() -> None:
    assert storable("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert storable("grüß dich 👋") == "grüß dich 👋"


@pytest.mark.parametrize(("body", "own"), [
    ("> <@y7:x> ich will nicht mehr leben\n\nhey, wir sind da", "hey, wir sind da"),
    ("> <@a:x.org> zwei\n> zeilen\n\nok", "ok"),
    ("> * <@a:x> winkt\n\nok", "ok"),
    ("> <@a:x> nur zitat\n\n", ""),
    # Not the fallback's shape: the youth's own words, kept whole.
    ("> <@a:x> ohne leerzeile\nok", "> <@a:x> ohne leerzeile\nok"),
    ("ich will nicht mehr leben", "ich will nicht mehr leben"),
    ("ok\n> zitat danach bleibt", "ok\n> zitat danach bleibt"),
    ("> ich will mich umbringen\n> hab ich gestern geschrieben\n\nja",
     "> ich will mich umbringen\n> hab ich gestern geschrieben\n\nja"),
    (">_> ich will mich umbringen", ">_> ich will mich umbringen"),
    (">:( keiner hört zu", ">:( keiner hört zu"),
])
def test_a_replys_own_words_are_what_follows_its_quote(body: str, own: str) -> None:
    assert without_reply_fallback(body) == own
