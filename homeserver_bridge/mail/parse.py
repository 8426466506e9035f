"""An inbound mail parsed into what a counsellor needs, or a bounce. Pure; never raises.

The stdlib parser runs in its lenient compat32 mode and every header is decoded by hand,
because a hostile or broken mail must become a clear result, never an exception that takes
the channel down. Only text reaches the counsellor: an attached text file (a letter
written elsewhere) is read like the mail's words, other attachments are listed by name and
size, HTML is reduced to text (see html_text), and nothing is fetched.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import re
from dataclasses import dataclass, field, replace
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32
from email.utils import getaddresses
from enum import StrEnum

from homeserver_bridge.mail.documents import MAX_DOCUMENT_XML, document_member, document_text
from homeserver_bridge.mail.html_text import clean_text, html_to_text
from homeserver_bridge.mail.reply_lines import (
    QUOTE_LEFT_OUT,
    unflowed,
    unquoted,
    without_office_quote,
)
from homeserver_bridge.mail.settings import MailLimits, is_address

_LIST_POST = re.compile(r"<mailto:([^>?\s]+)", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<([\x21-\x3b\x3d\x3f-\x7e]{1,250})>")
_MAX_REFERENCES = 50
# A mail's own words past max_text_bytes are still read, up to this multiple (`_at_most`).
LONG_TEXT_FACTOR = 8
# What is cut is still read for crisis words, up to this multiple (`InboundMail.uncut_text`):
# the rules take some 2 s a megabyte on a small machine, in the judge's worker thread, which
# gives up on the model after JUDGE_LIMIT_SECONDS and then runs the rules on the event loop.
READ_TEXT_FACTOR = 32
# The counsellor learns whether the crisis check read what is cut: an alert raised by words
# they cannot see is no false one.
_CUT_NOTE = ("[… hier gekürzt: die Mitte fehlt, die Krisenprüfung hat sie gelesen; bitte "
             "frag nach / cut here: the middle is missing, the crisis check read it; please "
             "ask for it]")
_CUT_UNREAD_NOTE = ("[… hier gekürzt: die Mitte fehlt, auch der Krisenprüfung; bitte frag "
                    "nach / cut here: the middle is missing, to the crisis check too; please "
                    "ask for it]")
# Attached files read like the mail's words (`_is_text_file`): kinds a person writes a
# letter in; Word and LibreOffice letters are read too (documents.py). Never a file
# that runs itself, and never one passed on.
_TEXT_FILES = frozenset({"text/plain", "text/markdown", "text/x-markdown", "text/html"})
_TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".htm", ".html")
_FORWARDED = "weitergeleitete Mail / forwarded mail"
_MAX_DEPTH = 20
_MAX_PARTS = 200
# Header fields of one mail (a long Received chain is some dozens): each header read walks
# all of them, and megabytes of them are no mail a person wrote.
_MAX_HEADERS = 1000
# On a phone many write everything into the subject and leave the body empty: it is read
# to some 300 words; replies cut their copy of it. At most 8 KB of UTF-8. A longer one is
# read whole with the mail's words (`_long_header_text`).
_MAX_SUBJECT = 2000
_MAX_FILENAME = 120
# Of a header's raw text, what is decoded: far beyond any real subject or file name. Decoding
# encoded words takes time quadratic in their number (the standard library's), on the bot's
# event loop, and a mail may carry megabytes of them.
_MAX_HEADER_CHARS = 8192
# Single-byte Western labels (their codecs' names) that UTF-8 text often comes under.
_WESTERN_8BIT = frozenset({"iso8859-1", "cp1252", "iso8859-15"})
# Synthetic ids for mails that came without one; .invalid can never be a real domain.
_MISSING_ID_DOMAIN = "missing.counsel.invalid"


class BounceReason(StrEnum):
    TOO_LARGE = "too_large"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Attachment:
    name: str = field(repr=False)
    size: int
    content_type: str
    # Part of an HTML body (a signature logo, a pasted picture): listed, never counted.
    inline: bool = False


@dataclass(frozen=True)
class DeliveryFailure:
    """What a delivery report (RFC 3464) says failed: a mail the office sent, by its
    Message-ID, to these recipients."""

    message_id: str
    recipients: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class InboundMail:
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    # Content and addresses are kept out of repr, so a stray log line cannot leak them.
    subject: str = field(repr=False)
    from_address: str = field(repr=False)
    # Where a reply goes: Reply-To if the mail gives a usable one, else From.
    reply_address: str = field(repr=False)
    text: str = field(repr=False)
    attachments: tuple[Attachment, ...] = field(repr=False)
    size: int = 0
    from_html: bool = False
    # An auto-reply, list mail or delivery report: never answered automatically.
    auto_generated: bool = False
    # A delivery report (null envelope sender, multipart/report): it quotes the office's own
    # mail that could not be delivered, not a youth's words; never read for crisis words.
    delivery_report: bool = False
    # In a delivery report: the mail of the office that did not arrive, if it names it.
    failure: DeliveryFailure | None = None
    # The address it was delivered to (the office's, or one of `also_accept`).
    to_address: str = field(default="", repr=False)
    # The first address of its To header: the office's own mail come back names there the
    # youth it was sent to.
    addressed_to: str = field(default="", repr=False)
    # From one of the office's own addresses (set by the SMTP server, which knows them):
    # its own mail come back, or a form or forward sending someone's words in its name.
    from_office: bool = False
    # A mailing list's own address (List-Post, RFC 2369): a reply there reaches all members.
    list_address: str = field(default="", repr=False)
    # When the middle of `text` was cut (`_at_most`): the words with that middle, for the
    # crisis check only (never posted or stored); "" when nothing was cut.
    uncut_text: str = field(default="", repr=False)
    # The office's mail left out below an Outlook header block (`reply_lines.without_office_quote`):
    # its words, up to the next header block (the older thread), never shown as they are;
    # the mail channel, knowing what the office said, finds the youth's lines in it.
    office_quote: str = field(default="", repr=False)

    @property
    def cut(self) -> bool:
        """Part of the mail's own words is missing from `text`."""
        return bool(self.uncut_text)


@dataclass(frozen=True)
class Bounce:
    """The mail is refused; the sender gets `build_bounce` (unless it was auto-generated)."""

    reason: BounceReason
    message_id: str
    subject: str = field(repr=False, default="")
    auto_generated: bool = False


class _Unreadable(Exception):
    """Internal: the structure cannot be read (too deep, too many parts, encrypted)."""


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    from_html: bool = False
    parts: int = 0
    # Unzipped bytes of documents read (`MAX_DOCUMENT_XML` in all).
    unzipped: int = 0
    # The office's own mail: its addresses, and the ids of the mails this one answers
    # (`_office_mail`, `reply_lines.without_office_quote`).
    office: frozenset[str] = frozenset()
    answered: frozenset[str] = frozenset()
    office_quotes: list[str] = field(default_factory=list)


def parse_inbound(
    raw: bytes, limits: MailLimits, *, envelope_sender: str = "",
    office_addresses: frozenset[str] = frozenset(),
) -> InboundMail | Bounce:
    """Parse `raw` (the DATA of an SMTP transaction); refuse it with a `Bounce` if needed.

    `envelope_sender` (SMTP MAIL FROM) stands in when the From header has no usable address;
    the null sender ("<>") marks the mail as automatic. `office_addresses`: the office's
    own, so that its mail carried along in an answer (attached, or quoted below its
    headers) is not read as the sender's words.
    """
    try:
        return _parse(raw, limits, envelope_sender,
                      frozenset(a.strip().lower() for a in office_addresses if a.strip()))
    except Exception:
        # Defence in depth: the stdlib parser has had crashes on crafted input before.
        return Bounce(BounceReason.UNREADABLE, _missing_id(raw))


def _at_most(text: str, size: int, note: str = _CUT_NOTE) -> str:
    """A youth's own words are read whole however long (a letter written at night, ten
    pages and more: returned, they reached nobody, crisis words and all); the bot posts
    them in several messages. Past ``size`` bytes of UTF-8 (some 40,000 words by default)
    their middle is cut, and the counsellor told so: a diary tells what matters at its
    end. What is cut is still read for crisis words (`InboundMail.uncut_text`)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= size:
        return text
    head = encoded[: size // 2].decode("utf-8", "ignore")
    tail = encoded[-(size // 2):].decode("utf-8", "ignore")
    return f"{head}\n{note}\n{tail}"


def _parse(raw: bytes, limits: MailLimits, envelope_sender: str,
           office: frozenset[str]) -> InboundMail | Bounce:
    oversized = len(raw) > limits.hard_bytes
    msg = BytesParser(policy=compat32).parsebytes(raw, headersonly=oversized)
    message_id = next(iter(_ids(msg, "Message-ID")), None) or _missing_id(raw)
    subject = _header_text(msg, "Subject")[:_MAX_SUBJECT]
    # The null sender is reserved for delivery reports and other automatic notices (RFC
    # 5321 4.5.5), also those without Auto-Submitted; RFC 3834 forbids answering them.
    report = envelope_sender.strip() == "<>" or msg.get_content_type() == "multipart/report"
    auto = _auto_generated(msg) or report
    if oversized:
        return Bounce(BounceReason.TOO_LARGE, message_id, subject, auto)
    if len(msg) > _MAX_HEADERS:
        return Bounce(BounceReason.UNREADABLE, message_id, subject, auto)
    from_address = _address(msg, "From") or _clean_address(envelope_sender)
    if not from_address:
        return Bounce(BounceReason.UNREADABLE, message_id, subject, auto)
    in_reply_to = next(iter(_ids(msg, "In-Reply-To")), None)
    references = _ids(msg, "References")
    try:
        body = _Body(office=office,
                     answered=frozenset(references) | ({in_reply_to} if in_reply_to else set()))
        _walk(msg, body, depth=0, inline=False)
    except _Unreadable:
        return Bounce(BounceReason.UNREADABLE, message_id, subject, auto)
    if sum(not a.inline for a in body.attachments) > limits.max_attachments:
        return Bounce(BounceReason.TOO_MANY_ATTACHMENTS, message_id, subject, auto)
    texts = body.texts
    written = _long_header_text(msg, "Subject", limits.max_text_bytes * READ_TEXT_FACTOR)
    if len(written) > _MAX_SUBJECT:
        # A whole message written into the subject: what is past its cut is read too, with
        # the rest of the words (and cut and judged as they are).
        texts = [written, *texts]
    text = clean_text("\n\n".join(t for t in texts if t))
    uncut = ""
    if len(text.encode("utf-8")) > limits.max_text_bytes:
        # Mail programs quote the whole thread under a reply; after weeks of counselling by
        # mail the quote alone is too long. The room has the thread: the quote goes first.
        own = unquoted(text)
        read = limits.max_text_bytes * READ_TEXT_FACTOR
        text = _at_most(own, limits.max_text_bytes * LONG_TEXT_FACTOR,
                        _CUT_NOTE if len(own.encode("utf-8")) <= read else _CUT_UNREAD_NOTE)
        if text is not own:
            # Crisis words in the cut middle must still reach a person.
            uncut = _at_most(own, read, _CUT_UNREAD_NOTE)
    if len(references) > _MAX_REFERENCES:
        # The root identifies the thread; the newest ones find the parent.
        references = references[:1] + references[-(_MAX_REFERENCES - 1) :]
    return InboundMail(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=tuple(references),
        subject=subject,
        from_address=from_address,
        reply_address=_address(msg, "Reply-To") or from_address,
        text=text,
        attachments=tuple(body.attachments),
        size=len(raw),
        from_html=body.from_html,
        auto_generated=auto,
        delivery_report=report,
        failure=_delivery_failure(msg) if report else None,
        addressed_to=_address(msg, "To"),
        list_address=_list_address(msg),
        uncut_text=uncut,
        office_quote="\n\n".join(body.office_quotes),
    )


def _delivery_failure(msg: Message) -> DeliveryFailure | None:
    """The failed recipients of a delivery report and the Message-ID of the mail it
    returns (from its headers part, or the mail itself attached); None if it names none."""
    recipients: list[str] = []
    message_id = None
    # The report's own parts only (RFC 3464): never down into the mail it returns.
    parts = msg.get_payload() if msg.is_multipart() else []
    for part in parts:
        if not isinstance(part, Message):
            continue
        ctype = part.get_content_type()
        payload = part.get_payload()
        if ctype == "message/delivery-status" and isinstance(payload, list):
            for block in payload:
                if not isinstance(block, Message) \
                        or not _header_text(block, "Action").lower().startswith("failed"):
                    continue
                for name in ("Final-Recipient", "Original-Recipient"):
                    address = _clean_address(_header_text(block, name).rpartition(";")[2])
                    if address:
                        recipients.append(address)
        elif ctype == "text/rfc822-headers" and isinstance(payload, str):
            headers = HeaderParser(policy=compat32).parsestr(payload[:_MAX_HEADER_CHARS * 8])
            message_id = next(iter(_ids(headers, "Message-ID")), message_id)
        elif ctype == "message/rfc822" and isinstance(payload, list) and payload \
                and isinstance(payload[0], Message):
            message_id = next(iter(_ids(payload[0], "Message-ID")), message_id)
    if message_id is None or not recipients:
        return None
    return DeliveryFailure(message_id, tuple(dict.fromkeys(recipients)))


# --- body ------------------------------------------------------------------------------------


def _walk(part: Message, body: _Body, *, depth: int, inline: bool) -> None:
    body.parts += 1
    if depth > _MAX_DEPTH or body.parts > _MAX_PARTS:
        raise _Unreadable
    ctype = part.get_content_type()
    if ctype == "message/rfc822" and not inline and _office_mail(part, body):
        # The office's mail the youth answers, attached whole (Outlook's "attach original
        # message"), or brought back by a filter's notice: the counsellor's words, which
        # the room has. Read as a forwarded letter, a safety plan in it raised a crisis
        # alert and was shown as the youth's words.
        body.texts.append(QUOTE_LEFT_OUT)
        return
    if ctype == "message/rfc822" and not inline and _read_forwarded(part, body, depth):
        return
    if ctype.startswith("message/"):
        body.attachments.append(Attachment(_filename(part), _size(part), ctype, inline))
        return
    if part.is_multipart():
        _walk_multipart(part, ctype, body, depth=depth, inline=inline)
        return
    disposition = part.get_content_disposition()
    name = _filename(part)
    if ctype.startswith("multipart/") and not name:
        # Labelled multipart, but no boundary found (a web form's script): mail programs
        # show its body as text, and so it is read.
        ctype = "text/plain"
    readable = ctype in ("text/plain", "text/html") and disposition != "attachment"
    # A name alone makes no file: Apple Mail and phone apps send text parts of the body
    # inline with one, and the youth's program shows them as the mail's words.
    if readable and not inline and (not name or disposition == "inline"):
        text = _decode(part.get_payload(decode=True), part.get_content_charset())
        if ctype == "text/plain" and str(part.get_param("format", "")).lower() == "flowed":
            text = unflowed(text, str(part.get_param("delsp", "")).lower() == "yes")
        if ctype == "text/html":
            body.from_html = True
            text = html_to_text(text)
        own, quoted = without_office_quote(clean_text(text), body.office)
        body.texts.append(own)
        if quoted:
            body.office_quotes.append(quoted)
        return
    if not inline and _is_text_file(ctype, name):
        html = ctype == "text/html" or name.lower().endswith((".htm", ".html"))
        letter = _file_text(part.get_payload(decode=True), part.get_content_charset(), html)
        if letter is not None:
            # Under its name: the counsellor learns the words came as a file.
            body.texts.append(f"📎 {name or ctype}:\n{letter}")
            return
    member = document_member(ctype, name)
    if not inline and member:
        read = document_text(part.get_payload(decode=True), member,
                             MAX_DOCUMENT_XML - body.unzipped)
        if read is not None:
            letter, unzipped = read
            body.unzipped += unzipped
            body.texts.append(f"📎 {name or ctype}:\n{letter}")
            return
    body.attachments.append(Attachment(name, _size(part), ctype, inline))


def _office_mail(part: Message, body: _Body) -> bool:
    """An attached mail that is the office's own: one this mail answers (by its id), or
    one From the office's address with a Message-ID of the office's domain (a filter's
    notice). Not by its From line alone, which anyone writes: a bully's mail "from the
    counselling", forwarded by the youth, was left out unread."""
    payload = part.get_payload()
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], Message):
        return False
    inner = payload[0]
    ids = _ids(inner, "Message-ID")
    if any(i in body.answered for i in ids):
        return True
    domains = {a.rpartition("@")[2] for a in body.office}
    return _address(inner, "From").lower() in body.office \
        and any(i.strip("<>").rpartition("@")[2].lower() in domains for i in ids)


def _read_forwarded(part: Message, body: _Body, depth: int) -> bool:
    """A mail forwarded as an attachment (the letter a youth wrote to a teacher, the threat
    they got): its words read like the mail's, under its subject, its own files named and
    not counted (the youth attached the mail, not them). False if it cannot be read (then
    it is only named, as before, and never refuses the mail that brought it)."""
    payload = part.get_payload()
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], Message):
        return False
    inner = payload[0]
    # Within a bound of parts of its own: counted against the mail that brought it, its
    # parts made that mail unreadable (refused, crisis words and all) for the youth's own
    # photos after it. Each part is still walked once; documents share the mail's bound.
    forwarded = _Body(unzipped=body.unzipped, office=body.office, answered=body.answered)
    try:
        _walk(inner, forwarded, depth=depth + 1, inline=False)
    except _Unreadable:
        return False
    finally:
        body.unzipped = forwarded.unzipped
    words = clean_text("\n\n".join(t for t in forwarded.texts if t))
    subject = _header_text(inner, "Subject")[:_MAX_SUBJECT]
    body.texts.append(f"📎 {_FORWARDED}: {subject}\n{words}" if subject
                      else f"📎 {_FORWARDED}:\n{words}")
    body.attachments.extend(replace(a, inline=True) for a in forwarded.attachments)
    return True


def _is_text_file(ctype: str, name: str) -> bool:
    """A letter written elsewhere and attached ("siehe Anhang"): phones send a shared
    text file as application/octet-stream, so its name tells it then."""
    if ctype in _TEXT_FILES:
        return True
    return ctype == "application/octet-stream" and name.lower().endswith(_TEXT_SUFFIXES)


def _file_text(data: object, charset: str | None, html: bool) -> str | None:
    """An attached text file's words, or None if it holds no text (a file of another kind
    under a text name): then it is only named, as other files are."""
    if not isinstance(data, bytes):
        return None
    # Windows' editors save "Unicode" as UTF-16 with a byte order mark, and UTF-8 with one.
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            break
    else:
        text = _decode(data, charset)
    if "\x00" in text:
        return None
    if html:
        text = html_to_text(text)
    return clean_text(text)


def _walk_multipart(part: Message, ctype: str, body: _Body, *, depth: int, inline: bool) -> None:
    children = [c for c in part.get_payload() if isinstance(c, Message)]
    if not children:
        return
    if ctype == "multipart/encrypted":
        raise _Unreadable
    if ctype == "multipart/alternative":
        chosen = _preferred_alternative(children)
        _walk(chosen, body, depth=depth + 1, inline=inline)
        for child in children:
            if child is not chosen and child.is_multipart():
                # The pictures of the HTML not chosen (pasted into it): listed, so the
                # counsellor learns they were there; never counted, as the youth did not
                # attach them as files.
                other = _Body(parts=body.parts, unzipped=body.unzipped)
                try:
                    _walk(child, other, depth=depth + 1, inline=inline)
                except _Unreadable:
                    continue  # only listed: it never refuses a mail whose words were read
                finally:
                    body.unzipped = other.unzipped
                body.parts = other.parts
                body.attachments.extend(replace(a, inline=True) for a in other.attachments)
    elif ctype == "multipart/signed":
        # The signature part is not an attachment the youth meant to send.
        _walk(children[0], body, depth=depth + 1, inline=inline)
    elif ctype == "multipart/related":
        _walk(children[0], body, depth=depth + 1, inline=inline)
        for child in children[1:]:
            _walk(child, body, depth=depth + 1, inline=True)
    else:
        for child in children:
            _walk(child, body, depth=depth + 1, inline=inline)


def _preferred_alternative(children: list[Message]) -> Message:
    # Plain text is what the sender's own program wrote; HTML needs reducing. Some programs
    # put an empty plain part beside the HTML that holds the words: that one is no choice.
    plain = [c for c in children if c.get_content_type() == "text/plain" and not _filename(c)]
    for child in plain:
        if _has_words(child):
            return child
    for child in reversed(children):
        if child.get_content_type() == "text/html" or child.is_multipart():
            return child
    return plain[0] if plain else children[-1]


def _has_words(part: Message) -> bool:
    # Letters or digits, not just non-blank: zero-width spaces and the like fill some.
    text = _decode(part.get_payload(decode=True), part.get_content_charset())
    return any(c.isalnum() for c in text)


def _size(part: Message) -> int:
    if not part.is_multipart():
        payload = part.get_payload(decode=True)
        return len(payload) if isinstance(payload, bytes | str) else 0
    return sum(_size(p) for p in part.get_payload() if isinstance(p, Message))


def _filename(part: Message) -> str:
    name = part.get_filename() or ""
    name = _decode_words(_unsurrogate(name[:_MAX_HEADER_CHARS])) if name else ""
    name = re.split(r"[\\/]", name)[-1]
    return _one_line(name)[:_MAX_FILENAME]


# --- headers ---------------------------------------------------------------------------------


def _raw_values(msg: Message, name: str) -> list[str]:
    # raw_items, not get(): get() turns raw 8-bit bytes into replacement characters before
    # they can be read as the UTF-8 that modern senders put there (RFC 6532).
    wanted = name.lower()
    return [_unsurrogate(str(v)) for k, v in msg.raw_items() if k.lower() == wanted]


def _header_text(msg: Message, name: str) -> str:
    values = _raw_values(msg, name)
    return _one_line(_decode_words(values[0][:_MAX_HEADER_CHARS])) if values else ""


def _long_header_text(msg: Message, name: str, limit: int) -> str:
    """A header's text up to ``limit`` characters, decoded in pieces split at blanks
    (where encoded words end): decoding takes time quadratic in the encoded words of one
    piece (`_MAX_HEADER_CHARS`)."""
    values = _raw_values(msg, name)
    raw = values[0][:limit] if values else ""
    pieces = []
    start = 0
    while start < len(raw):
        end = min(len(raw), start + _MAX_HEADER_CHARS)
        if end < len(raw):
            blank = max(raw.rfind(c, start, end) for c in " \t\n")
            end = blank if blank > start else end
        pieces.append(_decode_words(raw[start:end]))
        start = end
    return _one_line(" ".join(pieces))


def _ids(msg: Message, name: str) -> list[str]:
    values = _raw_values(msg, name)
    found = [f"<{m}>" for v in values for m in _MESSAGE_ID.findall(v)]
    if not found and name == "Message-ID" and values:
        # Some senders leave out the angle brackets.
        bare = values[0].strip()
        if _MESSAGE_ID.fullmatch(f"<{bare}>"):
            found = [f"<{bare}>"]
    return found


def _address(msg: Message, name: str) -> str:
    values = _raw_values(msg, name)
    for _, address in getaddresses(values):
        cleaned = _clean_address(address)
        if cleaned:
            return cleaned
    return ""


def _list_address(msg: Message) -> str:
    """The address members post to (``List-Post: <mailto:8b@school.example>``), or ""."""
    match = _LIST_POST.search(_header_text(msg, "List-Post"))
    return _clean_address(match.group(1)) if match else ""


def _clean_address(address: str) -> str:
    address = address.strip()
    if not is_address(address):
        return ""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _auto_generated(msg: Message) -> bool:
    auto = _header_text(msg, "Auto-Submitted").lower()
    precedence = _header_text(msg, "Precedence").lower()
    return (
        (bool(auto) and not auto.startswith("no"))
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or any(msg.get(h) is not None for h in ("List-Id", "X-Autoreply", "X-Autorespond"))
    )


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; unknown charsets replaced, never an error."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        try:
            chunks = decode_header(value)
        except Exception:
            return value
        return " ".join(_decode_chunk(c, cs) for c, cs in chunks)


def _decode_chunk(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    if charset is None:
        # decode_header hands back text between encoded words in this codec.
        return chunk.decode("raw-unicode-escape", errors="replace")
    return _decode(chunk, charset)


def _decode(data: object, charset: str | None) -> str:
    if isinstance(data, str):
        return data
    if not isinstance(data, bytes):
        return ""
    name = (charset or "").lower()
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):  # none, an unknown name, or a NUL in it
        name = codec = ""
    if name in ("", "unknown-8bit", "us-ascii", "ascii") or codec == "utf-8":
        # Many senders label UTF-8 as ASCII, older ones Windows-1252 too; a web form whose
        # page is Windows-1252 labels it UTF-8. Read as labelled, "schlägt" was
        # "schl\ufffdgt", and the crisis check did not know the word.
        return _unlabelled(data)
    if codec in _WESTERN_8BIT and not data.isascii():
        # And a script that writes iso-8859-1 into every header sends UTF-8 ("schlÃ¤gt"):
        # Western text that is valid UTF-8 beyond ASCII hardly occurs.
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-8")
    try:
        return data.decode(name, errors="replace")
    except (LookupError, ValueError):
        # A label naming a codec that is no text encoding (base64, hex, rot13, zlib) or
        # that refuses errors="replace" (idna, punycode): the label is wrong, the words are
        # still there, and a youth's mail is never refused over a header.
        return _unlabelled(data)


def _unlabelled(data: bytes) -> str:
    """8-bit text without a true label: UTF-8 from modern senders, Windows-1252 (Latin-1's
    superset) from older programs and web forms. Read as UTF-8 with replacement
    characters, "töten" in Latin-1 lost the umlaut, and the crisis word was not found."""
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" not in text or any(c > "\x7f" and c != "\ufffd" for c in text):
        return text  # UTF-8, at worst with a stray broken byte beside its umlauts
    return data.decode("cp1252", errors="replace")


def _unsurrogate(value: str) -> str:
    """Raw 8-bit header bytes (kept as surrogates by the parser) read as UTF-8 (RFC 6532),
    or as Windows-1252 where they are no UTF-8."""
    try:
        return _unlabelled(value.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")


def _one_line(value: str) -> str:
    return " ".join(clean_text(value).split())


def _missing_id(raw: bytes) -> str:
    # Derived from the mail itself, so a resent copy of the same mail gets the same id.
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@{_MISSING_ID_DOMAIN}>"
