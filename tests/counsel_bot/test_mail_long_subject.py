"""On a phone many write everything into the subject line and leave the body empty. A
subject past 2000 characters was cut there, silently: crisis words after the cut reached
neither the counsellor nor the crisis check (past 8192 characters of the raw header, the
rest was not even decoded).

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from counsel_bot.core.routing.model import CrisisStatus
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from homeserver_bridge.mail import MailSettings, start_inbound
from tests.support.mail_office import OFFICE, RecordingSender, office_on

FILLER = "meine eltern streiten jeden tag und in der schule weiß keiner was los ist, "
CRISIS = "ehrlich gesagt will ich nicht mehr leben"


@pytest.mark.parametrize("repeats", [40, 200], ids=["3000 characters", "15000 characters"])
async def test_crisis_words_at_the_end_of_a_long_subject_are_read(
    tmp_path: Path, repeats: int,
) -> None:
    store = await SqliteStore.open(tmp_path / "counsel.db",
                                   Vault.create(tmp_path / "vault.json", "pass phrase here"))
    office = await office_on(store, RecordingSender())
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    try:
        message = EmailMessage()
        message["From"] = "sunflower@youth.example"
        message["To"] = OFFICE
        message["Subject"] = FILLER * repeats + CRISIS
        message["Message-ID"] = "<subject@youth.example>"
        message.set_content("")
        await asyncio.wait_for(aiosmtplib.send(
            message, hostname="127.0.0.1", port=server.port, start_tls=False,
            sender="sunflower@youth.example", recipients=[OFFICE]), 30)
        [conversation] = office.conductor.router.snapshot().conversations
        assert conversation.crisis is CrisisStatus.RAISED, "crisis words read by nobody"
        [item] = await store.read_intake(conversation.conversation)
        assert CRISIS in item.body.decode(), "the counsellor never sees the end"
    finally:
        await server.stop()
        await store.close()
