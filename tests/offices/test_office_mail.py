"""Offices' own mail addresses: accepted beside the office address, the mail says which it
came to, other addresses are still refused; the mail goes to that office."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage

import aiosmtplib
import pytest

from counsel_bot.config import settings_from_mapping
from counsel_bot.conversation.offices import mail_from, office_of_address
from counsel_bot.runtime.offices import office_book
from homeserver_bridge.mail import InboundMail, MailSettings, start_inbound

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
OFFICE = "beratung@counsel.localhost"
FAMILY = "familie@counsel.localhost"


class Sink:
    def __init__(self) -> None:
        self.mails: asyncio.Queue[InboundMail] = asyncio.Queue()

    async def deliver(self, mail: InboundMail) -> None:
        await self.mails.put(mail)


def _mail(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "kim@youth.example"
    message["To"] = to
    message["Subject"] = "Hallo"
    message["Message-ID"] = f"<{to.split('@')[0]}@youth.example>"
    message.set_content("Stress zuhause")
    return message


async def test_an_offices_own_address_is_accepted_and_named() -> None:
    sink = Sink()
    settings = MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                            smtp_host="127.0.0.1", smtp_starttls=False)
    server = await start_inbound(settings, sink, now=lambda: NOW,
                                 also_accept=frozenset({FAMILY}))
    try:
        for to in (FAMILY, OFFICE):
            await aiosmtplib.send(_mail(to), hostname="127.0.0.1", port=server.port,
                                  start_tls=False)
            mail = await asyncio.wait_for(sink.mails.get(), 10)
            assert mail.to_address == to
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await aiosmtplib.send(_mail("schule@counsel.localhost"), hostname="127.0.0.1",
                                  port=server.port, start_tls=False)
    finally:
        await server.stop()


def test_the_address_names_the_office_and_replies_come_from_it() -> None:
    book = office_book(settings_from_mapping({
        "routing": {"fallback_office": "jugend"},
        "offices": [{"id": "familie", "mail_address": FAMILY}, {"id": "jugend"}],
    }))
    assert office_of_address(book, "Familie@counsel.localhost") == "familie"
    assert office_of_address(book, OFFICE) is None
    assert mail_from(book, "familie", OFFICE) == FAMILY
    assert mail_from(book, "jugend", OFFICE) == OFFICE
    assert mail_from(book, "", OFFICE) == OFFICE


def test_a_renamed_offices_mail_replies_come_from_its_address() -> None:
    """A mail conversation of "familie", renamed "eltern" (`former_ids`): its replies came
    from the main address, so the youth's answers no longer went to its own address."""
    book = office_book(settings_from_mapping({
        "mail": {"enabled": True, "office_address": OFFICE, "smtp_host": "mail.example.org"},
        "routing": {"fallback_office": "jugend"},
        "offices": [{"id": "eltern", "former_ids": ["familie"], "mail_address": FAMILY},
                    {"id": "jugend"}]}))
    assert mail_from(book, "familie", OFFICE) == FAMILY
    assert mail_from(book, "gone", OFFICE) == OFFICE  # removed: the fallback office's
