"""Mail programs wrap a youth's text into lines of some 72 characters. Thunderbird, Apple
Mail and others send it as format=flowed (RFC 3676): a line ending in a space goes on in
the next, the break is the program's, not the youth's. Read with those breaks, "ich will
mich" / "umbringen" were two clauses to the crisis check (a line end stops a phrase from
matching across two thoughts), and the sentence raised no flag.

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.routing.model import CrisisStatus
from tests.support.mail_office import OFFICE, read_by_office

# As Thunderbird wraps it at 72 characters: the soft breaks end in a space.
FLOWED = ("Hallo,\r\n\r\nseit Wochen geht es mir schlecht, und heute Nacht habe ich gedacht, "
          "ich will mich \r\numbringen. Ich weiss nicht, was ich tun soll.\r\n\r\n-- \r\n"
          "Kim\r\n")


@pytest.mark.parametrize("delsp", ["", "; delsp=no"])
async def test_crisis_words_across_a_soft_line_break_are_read(
        tmp_path: Path, delsp: str) -> None:
    raw = (b"From: sunflower@youth.example\r\nTo: " + OFFICE.encode()
           + b"\r\nSubject: hilfe\r\nMessage-ID: <flowed@youth.example>\r\n"
           + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed"
           + delsp.encode() + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + FLOWED.encode())
    crisis, read = await read_by_office(tmp_path, raw)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert "ich will mich umbringen. Ich weiss nicht" in read
    assert read.endswith("\n-- \nKim") or read.endswith("\n--\nKim")


async def test_crisis_words_across_a_hard_line_break_of_a_wrapped_text_are_read(
        tmp_path: Path) -> None:
    """Gmail's plain-text mode and Outlook ("wrap text at 76 characters") break the lines
    themselves, without format=flowed: the same sentence, the same miss."""
    wrapped = ("Hallo,\r\n\r\nseit Wochen geht es mir schlecht, und heute Nacht dachte ich, "
               "ich will mich\r\numbringen. Ich weiss nicht, was ich tun soll.\r\n")
    raw = (b"From: sunflower@youth.example\r\nTo: " + OFFICE.encode()
           + b"\r\nSubject: hilfe\r\nMessage-ID: <wrapped@youth.example>\r\n"
           + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + wrapped.encode())
    crisis, _ = await read_by_office(tmp_path, raw)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"


@pytest.mark.parametrize("second", ["ritze mich jeden abend", "sterben will ich"])
async def test_a_youths_own_line_joined_to_the_next_never_denies_its_crisis_words(
        tmp_path: Path, second: str) -> None:
    """Youths on a phone end their lines themselves and seldom with a full stop: a line of a
    wrapped line's length that ends in "nicht" is theirs, and joined to the next as if the
    program had broken it, its "nicht" denied the crisis words that follow ("… auch nicht
    ritze mich jeden abend"). Read as written, they raised a flag."""
    words = ("seit papa weg ist geht gar nichts mehr, die schule nicht und die freunde auch "
             f"nicht\r\n{second}\r\n")
    raw = (b"From: sunflower@youth.example\r\nTo: " + OFFICE.encode()
           + b"\r\nSubject: hilfe\r\nMessage-ID: <own-lines@youth.example>\r\n"
           + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + words.encode())
    crisis, _ = await read_by_office(tmp_path, raw)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
