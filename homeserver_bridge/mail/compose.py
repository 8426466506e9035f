"""Outgoing mail built from data: the counsellor's reply and the bounce. Pure.

Replies are text/plain UTF-8: no HTML, no images, no tracking headers, no mail-program
name. The one attachment a reply may carry is a calendar file (an appointment's iCalendar,
RFC 5545), sent as ``text/calendar; method=PUBLISH`` the way iMIP (RFC 6047) asks: the
method parameter repeats the file's METHOD, so mail programs offer "add to calendar".
Threading follows RFC 5322: In-Reply-To names the youth's last mail, References carries the
chain (root first), and every mail gets a fresh, unguessable Message-ID on the office's
domain.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from homeserver_bridge.mail.html_text import clean_text
from homeserver_bridge.mail.parse import Bounce, BounceReason, InboundMail
from homeserver_bridge.mail.settings import MailLimits, is_address

RandomBytes = Callable[[int], bytes]

_REPLY_PREFIX = re.compile(r"\s*(re|aw|antw|sv|vs|wg|fw|fwd)\s*:", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")
_MAX_REFERENCES = 20
_DEFAULT_SUBJECT = "Deine Nachricht an die Beratung"
_MAX_SUBJECT = 300
_FILENAME = re.compile(r"[A-Za-z0-9_-]{1,80}\.ics")
# PUBLISH: an event to add, no organiser to answer (our files name no one); CANCEL would
# need an ORGANIZER (RFC 5546), so a cancellation is published with STATUS:CANCELLED.
_METHODS = frozenset({"PUBLISH"})


class MailComposeError(ValueError):
    """A mail cannot be built from these values; the message says which one to fix."""


@dataclass(frozen=True)
class ReplyThread:
    """What a reply needs of the youth's last mail (store it sealed: the subject is content)."""

    message_id: str
    references: tuple[str, ...] = ()
    subject: str = field(default="", repr=False)

    @classmethod
    def from_mail(cls, mail: InboundMail) -> ReplyThread:
        return cls(mail.message_id, mail.references, mail.subject)


def new_message_id(office_address: str, random_bytes: RandomBytes = secrets.token_bytes) -> str:
    token = base64.b32encode(random_bytes(20)).decode("ascii").rstrip("=").lower()
    return f"<{token}@{_domain(office_address)}>"


def reply_subject(subject: str) -> str:
    subject = _header_safe(subject)[:_MAX_SUBJECT]
    if not subject:
        return f"Re: {_DEFAULT_SUBJECT}"
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def build_reply(
    *,
    office_address: str,
    to_address: str,
    thread: ReplyThread,
    text: str,
    now: datetime,
    random_bytes: RandomBytes = secrets.token_bytes,
    display_name: str = "",
    calendar: CalendarFile | None = None,
    automatic: bool = False,
) -> EmailMessage:
    """The counsellor's `text` as a reply in the youth's thread, from the office address;
    with `calendar`, a multipart/mixed mail with the file attached after the text;
    `automatic` for the bot's own words (RFC 3834: no vacation reply answers them)."""
    chain = [i for i in (*thread.references, thread.message_id) if _MESSAGE_ID.fullmatch(i)]
    chain = list(dict.fromkeys(chain))
    if len(chain) > _MAX_REFERENCES:
        chain = chain[:1] + chain[-(_MAX_REFERENCES - 1) :]
    message = _base(office_address, to_address, now, random_bytes, display_name)
    message["Subject"] = reply_subject(thread.subject)
    if _MESSAGE_ID.fullmatch(thread.message_id):
        message["In-Reply-To"] = thread.message_id
    if chain:
        message["References"] = " ".join(chain)
    if automatic:
        message["Auto-Submitted"] = "auto-generated"
    _set_text(message, text)
    if calendar is not None:
        _attach_calendar(message, calendar)
    return message


def build_notice(
    *,
    office_address: str,
    to_address: str,
    subject: str,
    text: str,
    now: datetime,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> EmailMessage:
    """A mail of the office's own that starts no thread (a confirmation code): automatic,
    so no vacation reply answers it (RFC 3834)."""
    message = _base(office_address, to_address, now, random_bytes, "")
    message["Subject"] = _header_safe(subject)[:_MAX_SUBJECT]
    message["Auto-Submitted"] = "auto-generated"
    _set_text(message, text)
    return message


@dataclass(frozen=True)
class CalendarFile:
    """An iCalendar file for a reply: its name and content (RFC 5545, UTF-8)."""

    filename: str
    ics: bytes = field(repr=False)
    method: str = "PUBLISH"

    def __post_init__(self) -> None:
        if not _FILENAME.fullmatch(self.filename):
            raise MailComposeError("the calendar file name must be letters, digits, - and _ "
                                   "ending in .ics")
        if self.method not in _METHODS:
            raise MailComposeError(f"calendar method {self.method!r}: use one of "
                                   + ", ".join(sorted(_METHODS)))


def _attach_calendar(message: EmailMessage, calendar: CalendarFile) -> None:
    # Base64 keeps the file byte-exact: iCalendar lines end in CRLF and are folded at 75
    # octets, which quoted-printable and 7-bit relays would otherwise rewrite.
    message.add_attachment(calendar.ics, maintype="text", subtype="calendar",
                           filename=calendar.filename,
                           params={"method": calendar.method, "charset": "utf-8"})


def build_bounce(
    bounce: Bounce,
    *,
    office_address: str,
    to_address: str,
    limits: MailLimits,
    now: datetime,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> EmailMessage:
    """A plain-language refusal in German and English, marked as an automatic reply.

    Send it with an empty envelope sender, so no mail program answers it in turn.
    """
    message = _base(office_address, to_address, now, random_bytes, "")
    # Never the youth's subject: the envelope sender, unchecked, need not be the youth (a
    # school's web form, a family's forwarding mailbox), and the subject is often what
    # weighs on them. In-Reply-To shows the youth's own program which mail it was.
    message["Subject"] = f"Nicht zugestellt / Not delivered: {_DEFAULT_SUBJECT}"
    if _MESSAGE_ID.fullmatch(bounce.message_id):
        message["In-Reply-To"] = bounce.message_id
        message["References"] = bounce.message_id
    # RFC 3834: tells well-behaved programs not to answer automatically.
    message["Auto-Submitted"] = "auto-replied"
    _set_text(message, bounce_text(bounce.reason, limits))
    return message


def bounce_text(reason: BounceReason, limits: MailLimits) -> str:
    de, en = _REASONS[reason](limits)
    return (
        "Hallo,\n\n"
        "deine Mail ist nicht bei uns angekommen: Wir haben sie nicht an die Beratung "
        f"weitergegeben.\n\n{de}\n\n"
        "Wenn du gerade in akuter Gefahr bist, ruf bitte sofort den Notruf 112 an.\n\n"
        "---\n\n"
        "Hello,\n\n"
        "your mail did not reach us: it was not passed on to the counsellors.\n\n"
        f"{en}\n\n"
        "If you are in danger right now, please call the emergency number 112.\n"
    )


def _too_large(limits: MailLimits) -> tuple[str, str]:
    size = f"{limits.hard_bytes // 1024} KB"
    return (
        f"Sie ist zu groß (mehr als {size}). Bitte schick sie noch einmal, "
        "ohne Bilder und ohne Anhänge.",
        f"It is too large (more than {size}). Please send it again without pictures "
        "or attachments.",
    )


def _too_many_attachments(limits: MailLimits) -> tuple[str, str]:
    if limits.max_attachments == 0:
        return (
            "Wir können keine Anhänge (Bilder, Dateien) annehmen. Bitte schreib deine "
            "Nachricht direkt in die Mail und schick sie noch einmal ohne Anhang.",
            "We cannot accept attachments (pictures, files). Please write your message "
            "into the mail itself and send it again without attachments.",
        )
    n = limits.max_attachments
    return (
        f"Sie hat zu viele Anhänge. Bitte schick sie noch einmal mit höchstens {n}.",
        f"It has too many attachments. Please send it again with at most {n}.",
    )


def _unreadable(limits: MailLimits) -> tuple[str, str]:
    return (
        "Wir konnten sie nicht lesen (sie ist verschlüsselt, beschädigt oder hat keinen "
        "Absender). Bitte schick sie noch einmal als ganz normale Mail.",
        "We could not read it (it is encrypted, damaged or has no sender). Please send it "
        "again as a plain, ordinary mail.",
    )


_REASONS: dict[BounceReason, Callable[[MailLimits], tuple[str, str]]] = {
    BounceReason.TOO_LARGE: _too_large,
    BounceReason.TOO_MANY_ATTACHMENTS: _too_many_attachments,
    BounceReason.UNREADABLE: _unreadable,
}


def _base(
    office_address: str,
    to_address: str,
    now: datetime,
    random_bytes: RandomBytes,
    display_name: str,
) -> EmailMessage:
    if not is_address(office_address):
        raise MailComposeError("office_address is not a mail address; check mail.office_address")
    if not is_address(to_address):
        raise MailComposeError(
            "the recipient's mail address is not usable; ask for a new address"
        )
    if now.tzinfo is None:
        raise MailComposeError("now must be timezone-aware, e.g. datetime.now(UTC)")
    message = EmailMessage()
    local, _, domain = office_address.rpartition("@")
    message["From"] = Address(_header_safe(display_name), local, domain)
    message["To"] = to_address
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = new_message_id(office_address, random_bytes)
    return message


def _set_text(message: EmailMessage, text: str) -> None:
    # Quoted-printable keeps the mail 7-bit clean for servers without 8BITMIME.
    message.set_content(clean_text(text) + "\n", charset="utf-8", cte="quoted-printable")


def _header_safe(value: str) -> str:
    return " ".join(clean_text(value).split())


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()

