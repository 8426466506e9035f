"""A mail whose own words run past eight times mail.max_text_bytes (some 40,000 words) keeps
their beginning and end; the middle is cut (`homeserver_bridge.mail.parse`). The cut middle
was read by nobody: crisis words there raised no flag and the youth got no emergency
numbers, and the youth was not told either, so they believed every word read.

Real SMTP server (the parser with its limits), conductor, mail channel, executor and
store; a recording sender stands in for the relay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from counsel_bot.core.routing.model import CrisisStatus
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from homeserver_bridge.mail import InboundServer, MailSettings, start_inbound
from tests.support.mail_office import (
    OFFICE,
    Office,
    RecordingSender,
    office_on,
    perform_mails,
    plain_text,
)

# 60 bytes a line: some 330 KB each side, well past the 256 KB kept, far below max_bytes.
FILLER = "Heute war wieder Schule, danach Hausaufgaben und Abendessen.\n" * 5500
CRISIS = "und heute nacht bring ich mich um"


async def _office(tmp_path: Path) -> tuple[Office, RecordingSender, InboundServer]:
    store = await SqliteStore.open(tmp_path / "counsel.db",
                                   Vault.create(tmp_path / "vault.json", "pass phrase here"))
    sender = RecordingSender()
    office = await office_on(store, sender)
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    return office, sender, server


async def _send(server: InboundServer, body: str) -> None:
    message = EmailMessage()
    message["From"] = "sunflower@youth.example"
    message["To"] = OFFICE
    message["Subject"] = "alles"
    message["Message-ID"] = "<diary@youth.example>"
    message.set_content(body)
    await asyncio.wait_for(aiosmtplib.send(
        message, hostname="127.0.0.1", port=server.port, start_tls=False,
        sender="sunflower@youth.example", recipients=[OFFICE]), 30)


async def test_crisis_words_in_the_cut_middle_of_a_long_mail_raise_the_flag(
    tmp_path: Path,
) -> None:
    office, sender, server = await _office(tmp_path)
    try:
        await _send(server, f"{FILLER}{CRISIS}\n{FILLER}")
        [conversation] = office.conductor.router.snapshot().conversations
        assert conversation.crisis is CrisisStatus.RAISED, "crisis words read by nobody"
        await perform_mails(office)
        assert any("116 111" in plain_text(m) and "Danke, dass du das erzählst" in plain_text(m)
                   for m in sender.sent), "no emergency numbers for the youth"
    finally:
        await server.stop()
        await office.conductor.store.close()  # type: ignore[attr-defined]


async def test_the_youth_is_told_that_the_middle_of_their_long_mail_was_not_passed_on(
    tmp_path: Path,
) -> None:
    office, sender, server = await _office(tmp_path)
    try:
        middle = "Mittendrin erzähle ich von meinem Bruder.\n"
        await _send(server, f"{FILLER}{middle}{FILLER}")
        await perform_mails(office)
        texts = [plain_text(m) for m in sender.sent]
        told = [t for t in texts if "zweiten Mail" in t]
        assert told, f"the youth was not told: {[t[:80] for t in texts]}"
        # Their words are never quoted back (a mail can be read by someone else).
        assert not any("Hausaufgaben" in t or "Bruder" in t for t in texts)
    finally:
        await server.stop()
        await office.conductor.store.close()  # type: ignore[attr-defined]
