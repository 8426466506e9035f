"""A youth's mail as the counsellor reads it and as the crisis check reads it (pure): its
words under its subject, the attachments named; for the check, the lines it quotes from the
office's own mail left out and the line breaks its mail program made joined."""

from __future__ import annotations

from dataclasses import replace

from homeserver_bridge.mail import InboundMail, Said, unquoted, unwrapped_and_written


def is_list(mail: InboundMail, address: str) -> bool:
    return bool(mail.list_address) \
        and address.strip().lower() == mail.list_address.strip().lower()


def as_writer(mail: InboundMail) -> InboundMail:
    """A list mail sent in the list's own name ("Kim via Klasse 8b", for DMARC) as its
    writer's, named in Reply-To: every member's mail has the list's From, and known by it
    (thread keys, a retry's id), one member's mail was taken for another's."""
    if not is_list(mail, mail.from_address) or is_list(mail, mail.reply_address):
        return mail
    return replace(mail, from_address=mail.reply_address)


_NAMED_ATTACHMENTS = 10


def words_read(mail: InboundMail, office_domains: frozenset[str],
                said: Said | None = None) -> str:
    """The mail as the crisis check reads it: `as_text`, with the middle a long mail's
    posted text leaves out, its lines as the youth wrote them (`unwrapped`), and, in an
    answer to the office's mail, without the lines it quotes: the mail answered, which is
    the counsellor's (a question about suicide, a safety plan) or was read already. The
    counsellor still sees them, beside the answers written between them. Any other mail's
    quote is read: a youth who answers a teacher's mail with the office's address put in
    quotes their own words to the teacher under it, which nobody here has read. With what
    the office `said` in the thread, only quoted lines of its words are left out: a youth
    who answers inside the quote writes there."""
    words = mail.uncut_text if mail.cut else mail.text
    if answers_office(mail, office_domains):
        words = unquoted(words, said)
    # The line breaks its mail program made are no clause ends of the youth's.
    return as_text(replace(mail, text=unwrapped_and_written(words)))


def with_words_inside(mail: InboundMail, said: Said | None) -> InboundMail:
    """`mail` with the lines the youth wrote inside the office's mail it left out below an
    Outlook header block (`InboundMail.office_quote`; Outlook users answer there, each
    comment marked with their name), known by what the office `said`: their words, to be
    read and shown. Without `said` the mail stays as it is."""
    lines = [] if said is None or not mail.office_quote else said.unsaid(mail.office_quote)
    if not lines:
        return mail
    inside = "\n".join(lines)
    return replace(mail, text=f"{mail.text}\n{inside}",
                   uncut_text=f"{mail.uncut_text}\n{inside}" if mail.cut else "")


def answers_office(mail: InboundMail, office_domains: frozenset[str]) -> bool:
    """Whether `mail` answers one of the office's own mails: one it names (In-Reply-To,
    References) has its Message-ID on the office's domain."""
    return any(i.strip().strip("<>").rpartition("@")[2].lower() in office_domains
               for i in (mail.in_reply_to, *mail.references) if i)


def as_text(mail: InboundMail) -> str:
    subject = mail.subject.strip()
    words = f"✉ {subject}\n\n{mail.text}" if subject else f"✉\n\n{mail.text}"
    if not mail.attachments:
        return words
    # Never passed on, but named: the words often point at a pasted picture, and the
    # counsellor who knows it is missing can ask for it in words.
    # At most a few, so a mail of many parts stays within one Matrix event.
    shown = [a.name or a.content_type for a in mail.attachments[:_NAMED_ATTACHMENTS]]
    more = len(mail.attachments) - len(shown)
    names = ", ".join(shown) + (f" (+{more})" if more else "")
    return f"{words}\n\n📎 nicht weitergegeben / not passed on: {names}"


