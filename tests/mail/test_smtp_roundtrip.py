"""A real SMTP round trip on loopback: youth -> office server -> sink; reply -> youth's provider."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import pytest_asyncio
from aiosmtpd.smtp import SMTP

from homeserver_bridge.mail import (
    BounceReason,
    InboundMail,
    InboundServer,
    MailConfigError,
    MailLimits,
    MailSender,
    MailSendError,
    MailSettings,
    ReplyThread,
    build_reply,
    inbound,
    start_inbound,
    thread_key,
)
from homeserver_bridge.mail.inbound import refusal_reply

OFFICE = "beratung@counsel.localhost"
YOUTH = "kim@youth.example"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
WAIT = 10.0
SECRET = bytes(32)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message


@dataclass
class Provider:
    """The youth's mail provider: an SMTP server that keeps what it gets."""

    port: int = 0
    inbox: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=default)
        await self.inbox.put(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


class QueueSink:
    def __init__(self) -> None:
        self.mails: asyncio.Queue[InboundMail] = asyncio.Queue()
        self.fail = False

    async def deliver(self, mail: InboundMail) -> None:
        if self.fail:
            raise OSError("disk full")
        await self.mails.put(mail)


@dataclass
class Office:
    server: InboundServer
    sink: QueueSink
    provider: Provider
    sender: MailSender
    settings: MailSettings


@pytest_asyncio.fixture(loop_scope="session")
async def office() -> AsyncIterator[Office]:
    provider = Provider()
    loop = asyncio.get_running_loop()
    provider_server = await loop.create_server(
        lambda: SMTP(provider, hostname="youth.example"), host="127.0.0.1", port=0
    )
    provider.port = provider_server.sockets[0].getsockname()[1]
    settings = MailSettings(
        max_attachments=0,  # a picture is how these tests get a mail returned
        enabled=True,
        listen_port=0,
        office_address=OFFICE,
        smtp_host="127.0.0.1",
        smtp_port=provider.port,
        smtp_starttls=False,
        max_bytes=64 * 1024,
    )
    sender = MailSender(settings)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW, bounce_sender=sender)
    try:
        yield Office(server, sink, provider, sender, settings)
    finally:
        await server.stop()
        provider_server.close()
        await provider_server.wait_closed()


def youth_mail(text: str, message_id: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Kim <{YOUTH}>"
    message["To"] = OFFICE
    message["Subject"] = headers.pop("Subject", "Ich weiß nicht weiter")
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


async def send_to_office(office: Office, message: EmailMessage, **kw: Any) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=office.server.port,
                          start_tls=False, **kw)  # fmt: skip


async def test_round_trip_with_threading(office: Office) -> None:
    await send_to_office(office, youth_mail("Hallo, mir geht es schlecht.", "<k1@youth.example>"))
    first = await asyncio.wait_for(office.sink.mails.get(), WAIT)
    assert first.text == "Hallo, mir geht es schlecht."
    assert first.reply_address == YOUTH

    reply = build_reply(office_address=OFFICE, to_address=first.reply_address,
                        thread=ReplyThread.from_mail(first),
                        text="Hallo Kim, danke für deine Mail.", now=NOW)  # fmt: skip
    await office.sender.send(reply)
    got = await asyncio.wait_for(office.provider.inbox.get(), WAIT)
    assert got.mail_from == OFFICE
    assert got.rcpt_tos == [YOUTH]
    assert got.message["From"] == OFFICE
    assert got.message["In-Reply-To"] == "<k1@youth.example>"
    assert got.message["References"] == "<k1@youth.example>"
    assert got.message["Subject"] == "Re: Ich weiß nicht weiter"
    assert got.message.get_content().rstrip() == "Hallo Kim, danke für deine Mail."
    reply_id = got.message["Message-ID"]
    assert reply_id.endswith("@counsel.localhost>")

    # Kim answers the reply, as a mail program does: parent in In-Reply-To, chain in References.
    answer = youth_mail("Danke, das hilft.", "<k2@youth.example>",
                        Subject="Re: Ich weiß nicht weiter", In_Reply_To=reply_id,
                        References=f"<k1@youth.example> {reply_id}")  # fmt: skip
    await send_to_office(office, answer)
    second = await asyncio.wait_for(office.sink.mails.get(), WAIT)
    assert second.in_reply_to == reply_id
    assert thread_key(second, SECRET) == thread_key(first, SECRET)

    reply2 = build_reply(office_address=OFFICE, to_address=second.reply_address,
                         thread=ReplyThread.from_mail(second), text="Gern.", now=NOW)  # fmt: skip
    await office.sender.send(reply2)
    got2 = await asyncio.wait_for(office.provider.inbox.get(), WAIT)
    assert got2.message["In-Reply-To"] == "<k2@youth.example>"
    assert got2.message["References"].split() == ["<k1@youth.example>", reply_id,
                                                  "<k2@youth.example>"]  # fmt: skip


async def test_other_recipients_are_refused_at_rcpt(office: Office) -> None:
    message = youth_mail("x", "<k3@youth.example>")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as caught:
        await send_to_office(office, message, recipients=["someone@counsel.localhost"])
    assert caught.value.recipients[0].code == 550
    # Upper case is the same mailbox.
    await send_to_office(office, message, recipients=["Beratung@Counsel.Localhost"])
    assert (await asyncio.wait_for(office.sink.mails.get(), WAIT)).text == "x"


async def test_attachment_is_bounced_with_an_explanation(office: Office) -> None:
    message = youth_mail("siehe Foto", "<k4@youth.example>", Subject="Foto")
    message.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="ich.jpg")
    await send_to_office(office, message)
    bounce = await asyncio.wait_for(office.provider.inbox.get(), WAIT)
    assert bounce.mail_from == "<>"  # the null sender: nobody answers a bounce
    assert bounce.rcpt_tos == [YOUTH]
    assert bounce.message["Auto-Submitted"] == "auto-replied"
    assert bounce.message["In-Reply-To"] == "<k4@youth.example>"
    text = bounce.message.get_content()
    assert "keine Anhänge" in text
    assert "cannot accept attachments" in text
    assert office.sink.mails.empty()


async def test_a_bounce_to_another_envelope_sender_never_quotes_the_youths_words(
    office: Office,
) -> None:
    """A bounce goes to the envelope sender, which nobody checks and which need not be the
    youth: a school's web form or a family's forwarding mailbox sends in its own name. It
    quoted the youth's subject there, where often what weighs on them stands."""
    message = youth_mail("siehe Foto", "<k40@youth.example>",
                         Subject="Mein Stiefvater schlaegt mich")
    message.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="arm.jpg")
    await send_to_office(office, message, sender="formular@schule-ulm.example",
                         recipients=[OFFICE])
    bounce = await asyncio.wait_for(office.provider.inbox.get(), WAIT)
    assert bounce.rcpt_tos == ["formular@schule-ulm.example"]
    assert "Stiefvater" not in bounce.message.as_string()
    assert "Stiefvater" not in str(bounce.message["Subject"])
    assert "cannot accept attachments" in bounce.message.get_content()


FAMILY = "Familie@familie-ulm.example"


@pytest_asyncio.fixture(loop_scope="session")
async def two_offices() -> AsyncIterator[tuple[int, Provider]]:
    """The installation's address and a second office's own, on another domain."""
    provider = Provider()
    loop = asyncio.get_running_loop()
    provider_server = await loop.create_server(
        lambda: SMTP(provider, hostname="youth.example"), host="127.0.0.1", port=0)
    settings = MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                            smtp_host="127.0.0.1",
                            smtp_port=provider_server.sockets[0].getsockname()[1],
                            smtp_starttls=False, max_bytes=64 * 1024, max_attachments=0)
    server = await start_inbound(settings, QueueSink(), now=lambda: NOW,
                                 bounce_sender=MailSender(settings),
                                 also_accept=frozenset({FAMILY}))
    try:
        yield server.port, provider
    finally:
        await server.stop()
        provider_server.close()
        await provider_server.wait_closed()


async def test_a_bounce_comes_from_the_office_address_the_youth_wrote_to(
    two_offices: tuple[int, Provider],
) -> None:
    """A refusal comes from the address the youth wrote to, spelled as configured, like
    the office's replies: a youth who wrote to one office never learns another address of
    the installation, nor that the offices share it."""
    port, provider = two_offices
    message = youth_mail("siehe Foto", "<photo2@youth.example>", Subject="Foto")
    message.replace_header("To", FAMILY)
    message.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="x.jpg")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port, start_tls=False,
                          recipients=["familie@FAMILIE-ULM.example"])
    bounce = await asyncio.wait_for(provider.inbox.get(), WAIT)
    assert bounce.message["From"].addresses[0].addr_spec == FAMILY
    assert bounce.message["Message-ID"].endswith("@familie-ulm.example>")
    assert OFFICE not in str(bounce.message)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture(loop_scope="session")
async def relay_down() -> AsyncIterator[tuple[int, QueueSink]]:
    """The office's SMTP server whose outgoing relay (for bounces) is unreachable."""
    settings = MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                            smtp_host="127.0.0.1", smtp_port=closed_port(),
                            smtp_starttls=False, smtp_timeout_seconds=2, max_bytes=64 * 1024,
                            max_attachments=0)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW,
                                 bounce_sender=MailSender(settings))
    try:
        yield server.port, sink
    finally:
        await server.stop()


async def test_a_refusal_whose_bounce_cannot_be_sent_is_the_smtp_reply(
    relay_down: tuple[int, QueueSink],
) -> None:
    """A refused mail is never lost without a word: when the bounce cannot go out (the
    relay down), the mail is refused in the SMTP reply with the reason, so the youth's own
    server tells them at once. Before, it was answered 250: neither passed on nor
    explained, and the youth's server took it as delivered."""
    port, sink = relay_down
    message = youth_mail("Das hat er mir angetan, siehe Foto.", "<photo1@youth.example>")
    message.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="arm.jpg")
    with pytest.raises(aiosmtplib.SMTPDataError) as caught:
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port, start_tls=False)
    assert caught.value.code == 554
    assert "without attachments" in caught.value.message
    assert "112" in caught.value.message
    assert sink.mails.empty()
    # An automatic mail is still taken without a word (nobody to tell, no mail loop).
    auto = youth_mail("Abwesend", "<auto1@youth.example>", Auto_Submitted="auto-replied")
    auto.add_attachment(bytes(10), maintype="image", subtype="png", filename="x.png")
    await aiosmtplib.send(auto, hostname="127.0.0.1", port=port, start_tls=False)


async def test_without_a_bounce_sender_a_refusal_is_the_smtp_reply() -> None:
    """No outgoing server configured: the refusal can only be told in the SMTP reply."""
    settings = MailSettings(listen_port=0, office_address=OFFICE,
                            max_bytes=64 * 1024, max_attachments=0)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW)
    message = youth_mail("hallo", "<big@youth.example>")
    message.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="ich.jpg")
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            await aiosmtplib.send(message, hostname="127.0.0.1", port=server.port,
                                  start_tls=False)
    finally:
        await server.stop()
    assert caught.value.code == 554
    assert "ohne Anhang" in caught.value.message
    assert sink.mails.empty()


@pytest.mark.parametrize("reason", list(BounceReason))
@pytest.mark.parametrize("attachments", [0, 3])
def test_every_refusal_reply_is_one_ascii_smtp_line_with_a_permanent_code(
    reason: BounceReason, attachments: int,
) -> None:
    """RFC 5321: a reply line is ASCII and at most 512 octets; 5xx, so the sender's server
    gives up and tells the sender now."""
    reply = refusal_reply(reason, MailLimits(max_attachments=attachments))
    assert reply.isascii()
    assert "\n" not in reply
    assert len(reply) + 2 <= 512
    assert re.match(r"5\d\d 5\.\d\.\d ", reply)
    assert "Nicht zugestellt" in reply
    assert "Not delivered" in reply


async def test_automatic_mail_is_refused_without_a_bounce(office: Office) -> None:
    message = youth_mail("Ich bin im Urlaub", "<k5@youth.example>", Auto_Submitted="auto-replied")
    message.add_attachment(bytes(10), maintype="image", subtype="png", filename="x.png")
    await send_to_office(office, message)
    await send_to_office(office, youth_mail("marker", "<k6@youth.example>"))
    assert (await asyncio.wait_for(office.sink.mails.get(), WAIT)).text == "marker"
    assert office.provider.inbox.empty()


async def test_oversized_mail_is_refused_by_the_server(office: Office) -> None:
    hard_limit = office.settings.max_bytes * 8
    message = youth_mail("x" * (hard_limit + 1000), "<k7@youth.example>")
    with pytest.raises(aiosmtplib.SMTPResponseException) as caught:
        await send_to_office(office, message)
    assert caught.value.code == 552
    # Between max_bytes and the hard limit it is read, however long its words (cut past
    # eight times max_text_bytes, with a note).
    await send_to_office(office, youth_mail("y" * (office.settings.max_bytes + 10), "<k8@y.ex>"))
    read = await asyncio.wait_for(office.sink.mails.get(), WAIT)
    assert read.text.startswith("yyyy")
    assert office.provider.inbox.empty()


async def test_a_mail_past_the_hard_limit_is_refused_with_the_limit_and_the_emergency_number(
    office: Office,
) -> None:
    """Past the hard limit the SMTP server stops reading. Its own refusal ("552 Error: Too
    much mail data", in English) reached the youth through their server's failure notice
    without the limit, without what to do and without the emergency number, which every
    other refusal names. The same when the sender's server announces the size (SIZE=)."""
    hard_limit = office.settings.max_bytes * 8
    message = youth_mail("x" * (hard_limit + 1000), "<k9@youth.example>")
    with pytest.raises(aiosmtplib.SMTPResponseException) as announced:
        await send_to_office(office, message)  # aiosmtplib announces the size
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=office.server.port, start_tls=False)
    async with client:
        await client.mail(YOUTH)
        await client.rcpt(OFFICE)
        with pytest.raises(aiosmtplib.SMTPDataError) as sent:
            await client.data(message.as_bytes())
    for code, reply in ((announced.value.code, announced.value.message),
                        (sent.value.code, sent.value.message)):
        assert code == 552
        assert f"{hard_limit // 1024} KB" in reply
        assert "ohne Bilder" in reply
        assert "112" in reply
    assert office.sink.mails.empty()


async def test_a_paragraph_sent_as_one_long_line_is_read(office: Office) -> None:
    """A web form or an older mail program sends a paragraph as one line of 8-bit text.
    Past 1000 octets the server refused the whole mail ("500 Line too long"): the youth's
    words reached nobody, and their own server's notice was English and technical, without
    the emergency numbers the office's refusals give. RFC 5321 (4.5.3.1.6) asks receivers
    to take longer lines where they can."""
    line = "ich weiß nicht mehr weiter, meine eltern schreien jeden abend. " * 40
    raw = ("From: kim@youth.example\r\nTo: beratung@counsel.localhost\r\nSubject: hilfe\r\n"
           "Message-ID: <line@youth.example>\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + line + "\r\n").encode()
    assert len(line.encode()) > 1000
    await aiosmtplib.send(raw, sender=YOUTH, recipients=[OFFICE], hostname="127.0.0.1",
                          port=office.server.port, start_tls=False)
    read = await asyncio.wait_for(office.sink.mails.get(), WAIT)
    assert read.text == line.strip()


async def test_two_mails_reach_the_counsellor_in_the_order_they_arrived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A youth's long mail and the short one they send after it arrive on two connections
    (their server delivers in parallel): each is parsed in a thread, and the short one,
    parsed first, was stored first. The counsellor read "sorry, forget the long mail"
    before the long mail, and an appointment's later "nein" before the earlier "ja". Here
    the first mail's parse is held until the second's is done: it must still come first."""
    second_parsed, first_parsing = threading.Event(), threading.Event()
    parse = inbound.parse_inbound

    def parse_in_turn(raw: bytes, limits: MailLimits, **options: Any) -> Any:
        if b"<first@youth.example>" in raw:
            first_parsing.set()
            second_parsed.wait(WAIT)
        result = parse(raw, limits, **options)
        if b"<second@youth.example>" in raw:
            second_parsed.set()
        return result

    settings = MailSettings(listen_port=0, office_address=OFFICE)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW)
    monkeypatch.setattr(inbound, "parse_inbound", parse_in_turn)
    try:
        port = server.port
        first = asyncio.create_task(aiosmtplib.send(
            youth_mail("Ein langer Brief.", "<first@youth.example>"),
            hostname="127.0.0.1", port=port, start_tls=False))
        deadline = time.monotonic() + WAIT
        while not first_parsing.is_set():
            assert time.monotonic() < deadline, "the first mail never reached the parser"
            await asyncio.sleep(0.01)
        second = asyncio.create_task(aiosmtplib.send(
            youth_mail("Vergiss die lange Mail.", "<second@youth.example>"),
            hostname="127.0.0.1", port=port, start_tls=False))
        await asyncio.wait_for(asyncio.gather(first, second), WAIT)
    finally:
        second_parsed.set()
        await server.stop()
    order = [sink.mails.get_nowait().message_id for _ in range(sink.mails.qsize())]
    assert order == ["<first@youth.example>", "<second@youth.example>"]


async def test_sink_failure_asks_the_sender_to_retry(office: Office) -> None:
    office.sink.fail = True
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as caught:
            await send_to_office(office, youth_mail("bitte", "<k9@youth.example>"))
        assert caught.value.code == 451
    finally:
        office.sink.fail = False
    await send_to_office(office, youth_mail("bitte", "<k9@youth.example>"))
    assert (await asyncio.wait_for(office.sink.mails.get(), WAIT)).message_id == (
        "<k9@youth.example>"
    )


async def test_a_stop_waits_for_the_delivery_in_progress(office: Office) -> None:
    # The bot stops its mail server before its last outbox drain: a mail being stored then
    # must be stored (and answered 250) first, so its staff notice and any crisis alert go
    # out with that drain, not at the next start.
    entered, release = asyncio.Event(), asyncio.Event()
    real_deliver = office.sink.deliver

    async def slow_deliver(mail: InboundMail) -> None:
        entered.set()
        await release.wait()
        await real_deliver(mail)

    office.sink.deliver = slow_deliver  # type: ignore[method-assign]
    sending = asyncio.create_task(
        send_to_office(office, youth_mail("Hallo.", "<slow@youth.example>")))
    await asyncio.wait_for(entered.wait(), WAIT)
    stopping = asyncio.create_task(office.server.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done(), "the stop did not wait for the mail being stored"
    release.set()
    await asyncio.wait_for(stopping, WAIT)
    await asyncio.wait_for(sending, WAIT)  # answered 250: aiosmtplib raises otherwise
    assert (await office.sink.mails.get()).text == "Hallo."


async def test_send_failure_names_settings_not_addresses() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = MailSettings(smtp_host="127.0.0.1", smtp_port=closed_port, smtp_starttls=False)
    reply = build_reply(office_address=OFFICE, to_address=YOUTH,
                        thread=ReplyThread("<k1@youth.example>"), text="t", now=NOW)  # fmt: skip
    with pytest.raises(MailSendError, match=r"mail\.smtp_host") as caught:
        await MailSender(settings, password=None).send(reply)
    assert YOUTH not in str(caught.value)
    assert caught.value.__cause__ is None


def test_password_file_is_read_and_errors_name_the_setting(tmp_path: Path) -> None:
    missing = MailSettings(smtp_host="mail.example.org", smtp_username="u",
                           smtp_password_file=str(tmp_path / "nope"))  # fmt: skip
    with pytest.raises(MailConfigError, match="smtp_password_file"):
        MailSender(missing)
    (tmp_path / "pw").write_text("geheim\n", encoding="utf-8")
    (tmp_path / "pw").chmod(0o600)  # readable by the service's user only, as documented
    ok = MailSettings(smtp_host="mail.example.org", smtp_username="u",
                      smtp_password_file=str(tmp_path / "pw"))  # fmt: skip
    MailSender(ok)


async def test_nothing_identifying_is_logged(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "canary-7f3a9c"
    message = youth_mail(f"text {canary}", f"<{canary}@youth.example>", Subject=canary)
    await send_to_office(office, message)
    await asyncio.wait_for(office.sink.mails.get(), WAIT)
    bounced = youth_mail(canary, f"<{canary}2@youth.example>", Subject=canary)
    bounced.add_attachment(bytes(10), maintype="image", subtype="png", filename=f"{canary}.png")
    await send_to_office(office, bounced)
    await asyncio.wait_for(office.provider.inbox.get(), WAIT)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused (too_many_attachments); bounce sent" in logged
    for secret in (canary, YOUTH, "kim@"):
        assert secret not in logged


async def test_a_reply_to_naming_the_office_itself_is_not_where_replies_go(
    office: Office,
) -> None:
    """A youth who hits "reply all", or whose form or forward sets Reply-To to the office,
    names the office's own address there. Taken as the youth's, every reply the counsellor
    wrote went to the office, came back as its own mail and was dropped: the youth never
    heard back. Their From is where they are reached."""
    await send_to_office(office, youth_mail("Hallo, mir geht es schlecht.",
                                            "<k-replyto@youth.example>",
                                            Reply_To=OFFICE.upper()))
    mail = await asyncio.wait_for(office.sink.mails.get(), WAIT)
    assert mail.reply_address == YOUTH


async def test_refused_mails_in_one_senders_name_get_one_bounce_then_the_smtp_reply(
    office: Office,
) -> None:
    """The envelope sender is not checked: anyone can send refused mails (a picture each)
    in a stranger's name, and each one made the office mail the stranger a bounce
    (backscatter, which gets the office's relay listed as a spam source). The first gets
    the explanation by mail; the next ones are refused in the SMTP reply, so the sending
    server, which knows whether the sender is real, tells them."""
    refused = []
    for n in range(4):
        message = youth_mail("siehe Foto", f"<bs{n}@youth.example>", Subject="Foto")
        message.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="a.jpg")
        try:
            await send_to_office(office, message)
        except aiosmtplib.SMTPDataError as exc:
            refused.append(exc.code)
    # Each bounce is sent before its mail is answered: all are in the inbox by now.
    assert office.provider.inbox.qsize() == 1, "more than one bounce to the same sender"
    assert refused == [554, 554, 554]


async def test_a_mail_of_megabytes_of_headers_does_not_stop_the_event_loop() -> None:
    """The SMTP server runs on the bot's event loop: while a mail is parsed, no crisis
    alert goes out and no youth's message is read. A mail under the hard limit (eight
    times max_bytes) made only of header lines took seconds to parse (7 s on a test
    machine), all of them with the loop stopped; anyone could send it again and again."""
    settings = MailSettings(listen_port=0, office_address=OFFICE)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW)
    gaps: list[float] = []
    sending = True

    async def tick() -> None:
        last = time.perf_counter()
        while sending:
            await asyncio.sleep(0.01)
            gaps.append(time.perf_counter() - last)
            last = time.perf_counter()

    raw = (f"From: {YOUTH}\r\nTo: {OFFICE}\r\nMessage-ID: <hdr@youth.example>\r\n".encode()
           + b"".join(b"X-H%d: v\r\n" % i for i in range(600_000)) + b"\r\nhi\r\n")
    ticker = asyncio.create_task(tick())
    try:
        with contextlib.suppress(aiosmtplib.SMTPDataError):  # refused, or read: either
            await aiosmtplib.send(raw, sender=YOUTH, recipients=[OFFICE],
                                  hostname="127.0.0.1", port=server.port, start_tls=False,
                                  timeout=120)
    finally:
        sending = False
        await ticker
        await server.stop()
    assert max(gaps) < 2.0, f"the event loop stood still for {max(gaps):.1f} s"


async def test_a_youths_mail_does_not_wait_for_another_senders_bounce_at_a_hung_relay() -> None:
    """Mails are handed on in the order they arrived from their sender. Every mail waited
    for the one that arrived before it from anyone: behind a stranger's refused mail whose
    bounce hung at the relay (a minute to its timeout, and one after another), a youth's
    mail, crisis words and all, reached nobody, and their server could give up on it."""
    hung = asyncio.Event()
    release = asyncio.Event()

    class HungRelay:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            hung.set()
            await release.wait()
            return "250 OK"

    loop = asyncio.get_running_loop()
    relay = await loop.create_server(lambda: SMTP(HungRelay(), hostname="relay.example"),
                                     host="127.0.0.1", port=0)
    settings = MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                            smtp_host="127.0.0.1",
                            smtp_port=relay.sockets[0].getsockname()[1],
                            smtp_starttls=False, smtp_timeout_seconds=60,
                            max_bytes=64 * 1024, max_attachments=0)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW,
                                 bounce_sender=MailSender(settings))
    stranger = youth_mail("siehe Foto", "<photo@else.example>")
    stranger.replace_header("From", "x@else.example")
    stranger.add_attachment(bytes(500), maintype="image", subtype="jpeg", filename="a.jpg")
    refused = asyncio.create_task(aiosmtplib.send(
        stranger, sender="x@else.example", recipients=[OFFICE], hostname="127.0.0.1",
        port=server.port, start_tls=False, timeout=120))
    try:
        await asyncio.wait_for(hung.wait(), WAIT)
        await asyncio.wait_for(aiosmtplib.send(
            youth_mail("Ich kann nicht mehr.", "<now@youth.example>"),
            hostname="127.0.0.1", port=server.port, start_tls=False, timeout=120), WAIT)
        read = sink.mails.get_nowait()
        assert read.message_id == "<now@youth.example>"
    finally:
        release.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(refused, WAIT)
        await server.stop()
        relay.close()
        await relay.wait_closed()


async def test_a_line_past_a_megabyte_is_refused_in_words_the_youth_can_act_on() -> None:
    """A web form's script that writes a file's base64 as one line: past the megabyte the
    server reads in a line, aiosmtpd refused the mail itself ("500 Line too long (see
    RFC5321 4.5.3.1.6)"), in English, without what to do or the emergency number, which
    every other refusal of the office names."""
    settings = MailSettings(listen_port=0, office_address=OFFICE)
    sink = QueueSink()
    server = await start_inbound(settings, sink, now=lambda: NOW)
    raw = ("From: kim@youth.example\r\nTo: beratung@counsel.localhost\r\nSubject: hilfe\r\n"
           "Message-ID: <b64@youth.example>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nIch kann nicht mehr.\r\n--B\r\n"
           "Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + "QUJD" * 300_000 + "\r\n--B--\r\n").encode()
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await aiosmtplib.send(raw, sender=YOUTH, recipients=[OFFICE], hostname="127.0.0.1",
                                  port=server.port, start_tls=False, timeout=60)
    finally:
        await server.stop()
    assert refused.value.code == 554
    assert "normale Mail" in refused.value.message
    assert "112" in refused.value.message
    assert sink.mails.empty()
