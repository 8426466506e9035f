"""A web form or an old mail program labels its text with a charset it is not in: Latin-1
text labelled UTF-8 (a form whose page is Latin-1), UTF-8 labelled Latin-1 (a script that
writes iso-8859-1 into every header). Read as labelled, "schlägt" became "schl�gt" or
"schlÃ¤gt", and the crisis check, which knows the word, did not flag it.

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import pytest

from counsel_bot.core.routing.model import CrisisStatus
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from homeserver_bridge.mail import MailSettings, start_inbound
from tests.support.mail_office import OFFICE, RecordingSender, office_on

CRISIS = "Mein Vater schlägt mich jeden Abend."


@pytest.mark.parametrize(("label", "encoding"), [
    ("utf-8", "cp1252"), ("iso-8859-1", "utf-8"), ("windows-1252", "utf-8"),
], ids=["latin-1 labelled utf-8", "utf-8 labelled latin-1", "utf-8 labelled windows-1252"])
async def test_crisis_words_in_a_mislabelled_mail_are_read(
    tmp_path: Path, label: str, encoding: str,
) -> None:
    store = await SqliteStore.open(tmp_path / "counsel.db",
                                   Vault.create(tmp_path / "vault.json", "pass phrase here"))
    office = await office_on(store, RecordingSender())
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    raw = (b"From: sunflower@youth.example\r\nTo: " + OFFICE.encode()
           + b"\r\nSubject: Kontaktformular\r\nMessage-ID: <form@youth.example>\r\n"
           + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=" + label.encode()
           + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + CRISIS.encode(encoding) + b"\r\n")
    try:
        await asyncio.wait_for(aiosmtplib.send(
            raw, hostname="127.0.0.1", port=server.port, start_tls=False,
            sender="sunflower@youth.example", recipients=[OFFICE]), 30)
        [conversation] = office.conductor.router.snapshot().conversations
        assert conversation.crisis is CrisisStatus.RAISED, "crisis words read by nobody"
        [item] = await store.read_intake(conversation.conversation)
        assert CRISIS in item.body.decode(), "the counsellor reads broken words"
    finally:
        await server.stop()
        await store.close()
