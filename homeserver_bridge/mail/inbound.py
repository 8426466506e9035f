"""The office's inbound SMTP server (aiosmtpd): the only receiving adapter.

Accepts mail for the office address only (others are refused at RCPT), parses it, and
hands the result to a `MailSink`. The sink must store the mail durably before it returns:
only then does the sender's server hear "250", and if the sink fails it hears "451" and
tries again later, so no mail is lost. A mail refused for size, attachments or form gets a
bounce through the outgoing sender and a 250; if the bounce cannot be sent, the refusal is
the SMTP reply (5xx), so the sender's own server tells them. Nothing here logs an address
or any content.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, AnyStr, Protocol

from aiosmtpd.smtp import SMTP

from homeserver_bridge.mail.backscatter import SendLimit
from homeserver_bridge.mail.compose import RandomBytes, build_bounce
from homeserver_bridge.mail.errors import MailSendError
from homeserver_bridge.mail.outbound import MailSender
from homeserver_bridge.mail.parse import Bounce, BounceReason, InboundMail, parse_inbound
from homeserver_bridge.mail.settings import MailLimits, MailSettings

log = logging.getLogger(__name__)



class MailSink(Protocol):
    async def deliver(self, mail: InboundMail) -> None:
        """Store `mail` durably (raise if that fails); called once per accepted mail."""
        ...


# Bounces go to the envelope sender, which nobody checks (backscatter): one a day to an
# address, a few an hour in all; past that the refusal is the SMTP reply, and the sending
# server, which knows whether its sender is real, tells them.
BOUNCE_PER_ADDRESS = timedelta(hours=24)
BOUNCE_WINDOW = timedelta(hours=1)
BOUNCES_PER_WINDOW = 30

# On a stop, deliveries in progress get this long to be stored (and answered 250).
STOP_GRACE_SECONDS = 5.0


class InboundServer:
    """A running inbound SMTP server; `stop()` ends it."""

    def __init__(self, server: asyncio.Server, handler: _Handler) -> None:
        self._server = server
        self._handler = handler
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Take no more mail, and let the deliveries in progress finish: their effects are
        then committed before the bot performs its last ones. (On Python 3.11
        `Server.wait_closed` does not wait for deliveries in progress.)"""
        self._server.close()
        self._handler.closing = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._handler.idle.wait(), grace)
        # Bounded: from Python 3.12 on it waits for every open connection, which an SMTP
        # client may hold open long after its last answer.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 1.0)


async def start_inbound(
    settings: MailSettings,
    sink: MailSink,
    *,
    now: Callable[[], datetime],
    bounce_sender: MailSender | None = None,
    random_bytes: RandomBytes = secrets.token_bytes,
    also_accept: frozenset[str] = frozenset(),
) -> InboundServer:
    """Listen on settings.listen_address/listen_port (0 picks a free port).

    `also_accept`: more addresses taken like the office's (several offices' own addresses);
    the mail says which one it came to (`InboundMail.to_address`).

    `now` dates the bounces (pass the bot's clock); without `bounce_sender` refused mail
    is only counted in the log, without address.
    """
    # aiosmtpd logs envelope addresses at debug level; this channel must never log them.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = _Handler(settings, sink, bounce_sender, now, random_bytes, also_accept)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _smtp(handler, settings),
        host=settings.listen_address,
        port=settings.listen_port,
    )
    return InboundServer(server, handler)


class _Smtp(SMTP):
    # A web form or an older mail program sends a paragraph as one line of 8-bit text; at
    # aiosmtpd's 1001 octets the whole mail was refused ("500 Line too long"), in English,
    # without the emergency numbers. RFC 5321 (4.5.3.1.6) asks receivers to take longer
    # lines where they can. Read in one buffer per connection, so bounded: a megabyte is a
    # book's chapter as one paragraph.
    line_length_limit = 1024 * 1024

    def __init__(self, handler: _Handler, limits: MailLimits, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._too_large = refusal_reply(BounceReason.TOO_LARGE, limits)
        self._unreadable = refusal_reply(BounceReason.UNREADABLE, limits)

    async def push(self, status: AnyStr) -> None:
        # aiosmtpd's own refusals of a mail past the hard limit (at MAIL FROM SIZE= and
        # after DATA): "552 Error: Too much mail data" reached the youth in their server's
        # failure notice, in English, naming neither the limit nor the emergency number.
        if isinstance(status, str) and status.startswith("552 Error:"):
            status = self._too_large
        # And of a mail with a line past line_length_limit (a form's file as one line of
        # base64), after DATA: the same, "500 Line too long (see RFC5321 4.5.3.1.6)".
        elif isinstance(status, str) and status.startswith("500 Line too long"):
            status = self._unreadable
        await super().push(status)


def _smtp(handler: _Handler, settings: MailSettings) -> SMTP:
    return _Smtp(
        handler,
        settings.limits,
        data_size_limit=settings.limits.hard_bytes,
        enable_SMTPUTF8=True,
        hostname=settings.office_domain,
        ident="ESMTP",
    )


class _Handler:
    def __init__(
        self,
        settings: MailSettings,
        sink: MailSink,
        bounce_sender: MailSender | None,
        now: Callable[[], datetime],
        random_bytes: RandomBytes,
        also_accept: frozenset[str] = frozenset(),
    ) -> None:
        self._settings = settings
        # Each address as configured, by its normalised form: a bounce comes from the one
        # the youth wrote to, as the office's replies do.
        self._addresses = {_normalise(a): a for a in (*also_accept, settings.office_address)}
        self._sink = sink
        self._bounce_sender = bounce_sender
        self._now = now
        self._random_bytes = random_bytes
        self._bounces = SendLimit(BOUNCE_PER_ADDRESS, BOUNCE_WINDOW, BOUNCES_PER_WINDOW)
        self.closing = False  # stopping: a mail that comes now is asked to come again
        self.idle = asyncio.Event()  # set while no delivery is in progress
        self.idle.set()
        self._delivering = 0
        # By envelope sender, done when the mail that arrived last from it has been handed
        # on (or refused): each mail waits for the one before it from its sender, so a
        # youth's mails are stored in the order they arrived. Not for the one before from
        # anyone: a stranger's mail (its bounce at a hung relay) held every youth's.
        self._last_in_line: dict[str, asyncio.Future[None]] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if _normalise(address) not in self._addresses:
            return "550 5.1.1 No such mailbox here"
        if envelope.rcpt_tos:
            # A repeated RCPT, or a second of our addresses: the mail is delivered once.
            return "250 2.1.5 OK"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        # Parsed in parallel, handed on in turn: a youth's short mail sent after a long one
        # (on a second connection) was parsed first and stored first, and the counsellor
        # read "forget my last mail" before that mail.
        sender = _normalise(envelope.mail_from or "")
        before = self._last_in_line.get(sender)
        mine = self._last_in_line[sender] = asyncio.get_running_loop().create_future()
        mine.add_done_callback(lambda _: self._out_of_line(sender, mine))
        try:
            return await self._handle_in_turn(envelope, before)
        finally:
            if before is None or before.done():
                mine.set_result(None)
            else:  # cancelled (the connection lost): the next one still waits for `before`
                before.add_done_callback(lambda _: mine.set_result(None))

    def _out_of_line(self, sender: str, done: asyncio.Future[None]) -> None:
        """Forgets a sender whose last mail has been handed on: nothing waits for it."""
        if self._last_in_line.get(sender) is done:
            del self._last_in_line[sender]

    async def _handle_in_turn(self, envelope: Any, before: asyncio.Future[None] | None) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        envelope_sender = envelope.mail_from or ""
        # In a thread: a mail of megabytes of headers takes seconds to parse, and on the
        # event loop no crisis alert would go out meanwhile. The parser is pure.
        result = await asyncio.to_thread(
            parse_inbound, raw, self._settings.limits, envelope_sender=envelope_sender,
            office_addresses=frozenset(self._addresses))
        if isinstance(result, InboundMail) and _normalise(result.from_address) in self._addresses:
            # Our own mail come back (a youth gave an address that forwards to the office),
            # or the office's website form or a forward sending someone's words in its
            # name: the sink tells them apart by the mails the office sent. By From, not by
            # envelope: a forward in front of the bot may put the office's address there
            # for every youth's mail.
            result = dataclasses.replace(result, from_office=True)
        if isinstance(result, InboundMail) and _normalise(result.reply_address) in self._addresses:
            # "Reply all", or a form or forward naming the office in Reply-To: replies sent
            # there come back as the office's own and are dropped, and the youth never hears
            # back. From is where they are reached.
            result = dataclasses.replace(result, reply_address=result.from_address)
        if isinstance(result, Bounce):
            if await self._bounce(result, envelope_sender, self._office_of(envelope)):
                return "250 2.0.0 Refused; the sender gets an explanation"
            # Unexplained, a 250 would lose the mail without a word: refused now, the
            # sender's own server tells them at once (a 4xx would retry the same refusal
            # for hours or days, and the mail may be a youth in crisis).
            return refusal_reply(result.reason, self._settings.limits)
        if envelope.rcpt_tos:
            result = dataclasses.replace(result, to_address=_normalise(envelope.rcpt_tos[0]))
        if before is not None:
            await asyncio.wait({before})  # not cancelled with this one
        if self.closing:
            return "421 4.3.2 Service shutting down, please try again later"
        self._delivering += 1
        self.idle.clear()
        try:
            await self._sink.deliver(result)
        except Exception as exc:
            # The sender's server keeps the mail and tries again: nothing is lost.
            log.warning(
                "an inbound mail could not be stored (%s); asked to retry", type(exc).__name__
            )
            return "451 4.3.0 Temporary failure, please try again later"
        finally:
            self._delivering -= 1
            if not self._delivering:
                self.idle.set()
        return "250 2.0.0 OK"

    def _office_of(self, envelope: Any) -> str:
        """The office address the mail was delivered to, as configured."""
        to = _normalise(envelope.rcpt_tos[0]) if envelope.rcpt_tos else ""
        return self._addresses.get(to, self._settings.office_address)

    async def _bounce(self, bounce: Bounce, envelope_sender: str, office_address: str) -> bool:
        """Explain the refusal by mail; False if the sender should have been told and was
        not (no bounce sender, an address a bounce cannot go to, the relay down)."""
        if bounce.auto_generated or not envelope_sender or envelope_sender == "<>":
            log.info("an inbound mail was refused (%s); automatic, no bounce", bounce.reason)
            return True
        if self._bounce_sender is None:
            log.warning("an inbound mail was refused (%s); no bounce sender, refused in "
                        "the SMTP reply", bounce.reason)
            return False
        at = self._now()
        if not self._bounces.allows(envelope_sender, at):
            log.info("an inbound mail was refused (%s); bounces to its sender are past "
                     "the limit, refused in the SMTP reply", bounce.reason)
            return False
        try:
            message = build_bounce(
                bounce,
                office_address=office_address,
                to_address=envelope_sender,
                limits=self._settings.limits,
                now=at,
                random_bytes=self._random_bytes,
            )
            await self._bounce_sender.send(message, envelope_sender="")
            self._bounces.sent(envelope_sender, at)
        except (MailSendError, ValueError) as exc:
            log.warning("a bounce could not be sent (%s); refused in the SMTP reply",
                        type(exc).__name__)
            return False
        log.info("an inbound mail was refused (%s); bounce sent", bounce.reason)
        return True


_DANGER = " Notruf/emergency: 112"


def refusal_reply(reason: BounceReason, limits: MailLimits) -> str:
    """The SMTP reply refusing a mail whose bounce could not be sent, or one past the hard
    limit (`_Smtp.push`): the sender's server puts it into its own failure notice. ASCII,
    German then English, like the bounce."""
    if reason is BounceReason.TOO_LARGE:
        kb = limits.hard_bytes // 1024
        return (f"552 5.3.4 Nicht zugestellt: groesser als {kb} KB, bitte ohne Bilder und "
                f"Anhaenge. / Not delivered: larger than {kb} KB, please send it without "
                "pictures or attachments." + _DANGER)
    if reason is BounceReason.TOO_MANY_ATTACHMENTS:
        n = limits.max_attachments
        if not n:
            return ("554 5.6.0 Nicht zugestellt: bitte ohne Anhang schicken, wir nehmen "
                    "keine an. / Not delivered: please send it without attachments, we take "
                    "none." + _DANGER)
        return (f"554 5.6.0 Nicht zugestellt: zu viele Anhaenge, bitte mit hoechstens {n}. "
                f"/ Not delivered: too many attachments, please send it with at most {n}."
                + _DANGER)
    return ("554 5.6.0 Nicht zugestellt: nicht lesbar, bitte als ganz normale Mail "
            "schicken. / Not delivered: unreadable, please send it as a plain mail." + _DANGER)


def _normalise(address: str) -> str:
    local, _, domain = address.strip().strip("<>").rpartition("@")
    return f"{local.lower()}@{domain.lower()}"
