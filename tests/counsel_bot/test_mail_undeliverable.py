"""A reply that cannot go out by mail never stops the bot (review of the mail channel,
finding 1: a `MailComposeError` or `MailSendError` escaped the executor, the outbox worker
took it for a bug and stopped the bot, and the restarted bot met the same pending mail).

The real conductor, mail channel, executor and outbox worker on a memory store; a loopback
SMTP server where one is needed; no homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.policy import default
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.channels.outbox_worker import OutboxWorker
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import (
    Effect,
    MailCode,
    SayToYouth,
    SendMail,
    StaffDigest,
    decode_effect,
)
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.incoming_text import mail_address
from counsel_bot.core.routing.model import Channel
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import MailSender, MailSettings, start_inbound
from homeserver_bridge.mail.settings import is_address
from tests.fuzz.hostile import hostile_text
from tests.store.conftest import AeadSealer
from tests.support.mail_office import (
    AT,
    OFFICE,
    RecordingSender,
    counsellor_replies,
    office_on,
    perform_mails,
    switched_chat_youth,
)

CHAT = RoomID("!chat:x")


class Office:
    """The support office (tests/support/mail_office.py) with the executor's room messages
    recorded (there is no homeserver) and the outbox worker as the bot runs it."""

    def __init__(self, sender: Any) -> None:
        self.sender = sender
        self.said: list[tuple[RoomID, str]] = []

    async def open(self) -> Office:
        self.parts = await office_on(MemoryStore(AeadSealer()), self.sender)
        self.conductor, self.mail = self.parts.conductor, self.parts.mail

        async def send(room: RoomID, body: str, key: str) -> None:
            self.said.append((room, body))

        self.parts.executor.send = send  # type: ignore[method-assign]
        return self

    async def youth(self, event: str, body: str) -> None:
        await self.conductor.youth_wrote(CHAT, UserID("@kim:x"), "Kim", EventID(event), body, AT)

    async def switched_youth(self, address: str) -> ConversationID:
        """A chat youth who types `mail` and then ``address``; Anna replies."""
        conversation = await switched_chat_youth(self.parts, address)
        await counsellor_replies(self.parts, conversation, "$reply", "Schreib mir, wann du magst.")
        return conversation

    def worker(self) -> OutboxWorker:
        """Mail effects by the real executor, the rest taken as done."""
        async def perform(effect: Effect | StaffDigest, key: str) -> None:
            if isinstance(effect, SendMail):
                await self.parts.executor.perform(effect, key)
        return OutboxWorker(perform, self.conductor.store, FakeClock(AT))

    async def pending_mails(self) -> list[SendMail]:
        return [e for e in map(decode_effect, (entry.payload for entry in
                                               await self.conductor.store.pending_outbox()))
                if isinstance(e, SendMail)]


async def run_briefly(worker: OutboxWorker) -> None:
    """Run the worker as the bot does, then stop it; what `run` raises would stop the bot."""
    stop = asyncio.Event()
    running = asyncio.ensure_future(worker.run(stop, grace=0.5, finish=0.2))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(running, 5)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(hostile_text(big=False), st.emails(),
                      st.tuples(st.text(max_size=12), st.sampled_from("@,;:()[]\"\\ <>."),
                                st.emails()).map("".join)))
def test_every_address_the_chat_takes_is_one_the_mail_composer_sends_to(text: str) -> None:
    address = mail_address(text)
    assert address is None or is_address(address), address


@contextlib.asynccontextmanager
async def relay(provider: Any) -> AsyncIterator[MailSender]:
    """A local SMTP relay with ``provider`` as its handler, and the bot's sender to it."""
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(provider, hostname="relay.example"), host="127.0.0.1", port=0)
    try:
        yield MailSender(MailSettings(
            smtp_host="127.0.0.1", smtp_port=server.sockets[0].getsockname()[1],
            smtp_starttls=False, smtp_timeout_seconds=5))
    finally:
        server.close()
        await server.wait_closed()


async def test_a_mistyped_address_is_answered_and_the_youth_stays_in_the_chat() -> None:
    office = await Office(RecordingSender()).open()
    await office.youth("$1", "Hallo, ich brauche Hilfe")
    await office.youth("$2", "mail")
    await office.youth("$3", "anna,mueller@gmx.de")  # a comma for a dot, on a phone
    record = await office.conductor.store.conversation_by_room(CHAT)
    assert record is not None
    current = office.conductor.router.conversation(record.conversation)
    assert current is not None
    assert current.channel is Channel.CHAT
    said = [decode_effect(e.payload) for e in await office.conductor.store.pending_outbox()]
    assert SayToYouth(record.conversation, "mail.address_unusable") in said
    # Asked still: the address typed right now gets its code, and the code switches.
    await office.youth("$4", "anna.mueller@gmx.de")
    [code] = [e.code for e in (decode_effect(o.payload)
                               for o in await office.conductor.store.pending_outbox())
              if isinstance(e, MailCode)]
    await office.youth("$5", code)
    current = office.conductor.router.conversation(record.conversation)
    assert current is not None
    assert current.channel is Channel.MAIL


async def test_a_mail_server_that_is_away_keeps_the_reply_and_the_bot_running() -> None:
    with closed_port() as port:
        sender = MailSender(MailSettings(smtp_host="127.0.0.1", smtp_port=port,
                                         smtp_starttls=False, smtp_timeout_seconds=2))
        office = await Office(sender).open()
        await office.switched_youth("kim@youth.example")
        await run_briefly(office.worker())  # raised MailSendError: the bot stopped
    assert await office.pending_mails(), "the reply waits for the mail server"
    assert office.said == []


async def test_an_address_the_mail_server_refuses_is_told_in_the_room_once() -> None:
    provider = RefusingProvider()
    async with relay(provider) as sender:
        office = await Office(sender).open()
        await office.switched_youth("kim@youth.example")
        await run_briefly(office.worker())
    assert provider.refused == 1, "refused once: sending again cannot help"
    assert await office.pending_mails() == []
    [(room, body)] = office.said
    assert room == RoomID("!chat:x")
    assert "nicht zugestellt" in body
    assert "kim@" not in body


async def test_a_mail_the_mail_server_refuses_for_good_holds_up_nothing_and_is_told() -> None:
    """The relay refuses one reply itself at DATA (554: a link its filter blocks, a size it
    takes not): sending that mail again cannot help. Before, the refusal was taken for a
    relay that is away: the conversation's lane stopped and retried it every few seconds
    for ever, every later effect of the conversation waited behind it (the counsellor's
    next reply, the youth's next mail shown in the room), and nobody was told."""
    provider = ContentFilter()
    async with relay(provider) as sender:
        office = await Office(sender).open()
        conversation = await switched_chat_youth(office.parts, "kim@youth.example")
        await counsellor_replies(office.parts, conversation, "$r1",
                                 "Schau mal hier: http://blocked.example/hilfe")
        await counsellor_replies(office.parts, conversation, "$r2", "Wie geht es dir heute?")
        await run_briefly(office.worker())
    assert any("Wie geht es dir heute?" in body for body in provider.accepted), \
        "the next reply waited behind the refused one"
    [(room, body)] = office.said
    assert room == CHAT
    assert "abgelehnt" in body
    assert "kim@" not in body


class ContentFilter:
    """A relay whose filter refuses any mail with a link to blocked.example."""

    def __init__(self) -> None:
        self.accepted: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content.decode("utf-8", "replace").replace("=\r\n", "")
        if "blocked.example" in content:
            return "554 5.7.1 Message rejected: blocked content"
        self.accepted.append(content)
        return "250 OK"


async def test_an_address_a_relay_without_smtputf8_cannot_take_is_told_in_the_room() -> None:
    """The chat takes "jürgen@web.de"; a relay that does not speak SMTPUTF8 can never send to
    it. Before, that was taken for a relay that is away ("could not be reached"): the
    conversation's lane retried it for ever, everything after it in the conversation waited,
    and nobody learnt that the youth's address was the reason."""
    provider = ContentFilter()
    async with relay(provider) as sender:
        office = await Office(sender).open()
        await office.switched_youth("jürgen@web.de")
        await run_briefly(office.worker())
    assert await office.pending_mails() == []
    [(room, body)] = office.said
    assert room == CHAT
    assert "nicht zugestellt" in body
    assert "jürgen" not in body


class RefusingProvider:
    """An SMTP server that knows no such user."""

    def __init__(self) -> None:
        self.refused = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        self.refused += 1
        return "550 5.1.1 no such user"


class closed_port:
    """A loopback port nobody listens on."""

    def __enter__(self) -> int:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
        probe.close()
        return port

    def __exit__(self, *exc: object) -> None:
        return None


def _failure_report(reply_id: str, recipient: str) -> bytes:
    """A delivery status notification (RFC 3464) as relays send it days after they took a
    reply: the status per recipient, and the headers of the mail that did not arrive."""
    return (
        "From: MAILER-DAEMON@relay.counsel.example\r\nTo: beratung@counsel.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@relay.counsel.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system at host relay.counsel.example.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; relay.counsel.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: beratung@counsel.example\r\nTo: {recipient}\r\nMessage-ID: {reply_id}\r\n"
        "Subject: Re: Hilfe\r\n\r\n--B--\r\n").encode()


async def test_a_reply_the_youths_provider_returns_later_is_told_in_the_room() -> None:
    """The office's relay takes every reply (a submission server refuses no remote address);
    a mistyped address ("kim@yuoth.example") or a full mailbox comes back later as a
    delivery report to the office. It was dropped unread as automatic mail: the counsellor
    believed the reply sent, and the youth waited for an answer that never came."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    conversation = await switched_chat_youth(office, "kim@yuoth.example")
    await counsellor_replies(office, conversation, "$reply", "Schreib mir, wann du magst.")
    await perform_mails(office)
    [reply] = sender.sent
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: AT)
    try:
        await asyncio.wait_for(aiosmtplib.send(
            message_from_bytes(_failure_report(str(reply["Message-ID"]), "kim@yuoth.example"),
                               policy=default),
            hostname="127.0.0.1", port=server.port, start_tls=False, sender="",
            recipients=[OFFICE]), 10)
    finally:
        await server.stop()
    told = [decode_effect(e.payload) for e in await office.conductor.store.pending_outbox()]
    assert SayToYouth(conversation, "mail.undeliverable") in told
