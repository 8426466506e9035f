"""A web form or an old mail program labels its text with a charset it is not in: Latin-1
text labelled UTF-8 (a form whose page is Latin-1), UTF-8 labelled Latin-1 (a script that
writes iso-8859-1 into every header). Read as labelled, "schlägt" became "schl�gt" or
"schlÃ¤gt", and the crisis check, which knows the word, did not flag it.

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.routing.model import CrisisStatus
from tests.support.mail_office import OFFICE, read_by_office

CRISIS = "Mein Vater schlägt mich jeden Abend."


@pytest.mark.parametrize(("label", "encoding"), [
    ("utf-8", "cp1252"), ("iso-8859-1", "utf-8"), ("windows-1252", "utf-8"),
], ids=["latin-1 labelled utf-8", "utf-8 labelled latin-1", "utf-8 labelled windows-1252"])
async def test_crisis_words_in_a_mislabelled_mail_are_read(
    tmp_path: Path, label: str, encoding: str,
) -> None:
    raw = (b"From: sunflower@youth.example\r\nTo: " + OFFICE.encode()
           + b"\r\nSubject: Kontaktformular\r\nMessage-ID: <form@youth.example>\r\n"
           + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=" + label.encode()
           + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + CRISIS.encode(encoding) + b"\r\n")
    crisis, read = await read_by_office(tmp_path, raw)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert CRISIS in read, "the counsellor reads broken words"
