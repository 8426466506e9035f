"""The office's words told from a youth's own in the quote of an answer (`said`)."""

from __future__ import annotations

from homeserver_bridge.mail import Said, kept_said, unquoted
from homeserver_bridge.mail.said import MAX_SAID_CHARS

PLAN = ("Dein Notfallplan: Wenn die Gedanken an Suizid wiederkommen, ruf die 112 an oder "
        "schreib uns sofort.\n\nViele Grüße\nAnna")


def test_the_offices_words_are_known_however_the_quote_is_wrapped() -> None:
    said = Said.of([PLAN])
    assert said.wrote("> Dein Notfallplan: Wenn die Gedanken an Suizid")
    assert said.wrote(">> wiederkommen, ruf die 112 an oder schreib uns sofort.")
    assert said.wrote("> Anna")
    assert said.wrote(">")
    assert not said.wrote("> ich ritze mich wieder")


def test_a_youths_line_inside_the_quote_is_read_the_offices_left_out() -> None:
    answer = ("Danke.\n> Dein Notfallplan: Wenn die Gedanken an Suizid wiederkommen,\n"
              "> ich ritze mich wieder jeden abend\n> ruf die 112 an oder schreib uns sofort.")
    read = unquoted(answer, Said.of([PLAN]))
    assert "ich ritze mich wieder jeden abend" in read
    assert "Suizid" not in read
    assert "Suizid" not in unquoted(answer)
    assert "ritze" not in unquoted(answer)


def test_the_newest_words_are_kept_to_a_bound() -> None:
    kept = kept_said("alt " * MAX_SAID_CHARS, "neu")
    assert len(kept) == MAX_SAID_CHARS
    assert kept.endswith("\n\nneu")


def test_the_lines_the_office_did_not_write_are_found_in_its_mail() -> None:
    quoted = f"{PLAN}\n[Kim] der plan hilft mir nicht"
    assert Said.of([PLAN]).unsaid(quoted) == ["[Kim] der plan hilft mir nicht"]
