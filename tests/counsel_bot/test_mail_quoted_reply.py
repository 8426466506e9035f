"""A youth's answer to the counsellor's mail carries that mail along, as every mail program
does: quoted under it ("> …", Gmail, Apple Mail, Thunderbird), below an unmarked header
block (Outlook: "Von: … Gesendet: …"), or attached whole (Outlook's "attach original
message", message/rfc822). Those are the counsellor's own words, not the youth's: a
counsellor who asks about suicide, or mails a safety plan, must not have the youth's "danke"
raise a crisis alert (staff alerted, the youth mailed the emergency numbers as if they had
disclosed something), nor see their own words shown as the youth's new text. The youth's
own words beside the quote are still read, crisis words and all.

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from counsel_bot.core.effects import PostText, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.core.routing.model import CrisisStatus
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from homeserver_bridge.mail import MailSettings, start_inbound
from tests.support.mail_office import (
    ANNA,
    AT,
    OFFICE,
    Office,
    RecordingSender,
    counsellor_replies,
    office_on,
    perform_mails,
    plain_text,
    read_by_office,
    to_office,
)

YOUTH = "sunflower@youth.example"
# What a counsellor writes to a youth they worry about: the words of a safety plan.
SAFETY_PLAN = ("Dein Notfallplan: Wenn die Gedanken an Suizid wiederkommen, ruf die 112 an "
               "oder schreib uns sofort.")


@dataclass
class Thread:
    office: Office
    conversation: ConversationID
    reply: EmailMessage  # the counsellor's mail, as the office sent it
    port: int


@asynccontextmanager
async def answered(tmp: Path) -> AsyncIterator[Thread]:
    """A youth's first mail, and the counsellor's answer with a safety plan, mailed."""
    store = await SqliteStore.open(tmp / "counsel.db",
                                   Vault.create(tmp / "vault.json", "pass phrase here"))
    sender = RecordingSender()
    office = await office_on(store, sender)
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: AT)
    try:
        await send(server.port, to_office("Schule", "<first@youth.example>",
                                          "Hallo, in der Schule läuft es gerade schlecht."))
        [current] = office.conductor.router.snapshot().conversations
        await counsellor_replies(office, current.conversation, "$plan", SAFETY_PLAN)
        await perform_mails(office)
        [reply] = [m for m in sender.sent if "Notfallplan" in plain_text(m)]
        yield Thread(office, current.conversation, reply, server.port)
    finally:
        await server.stop()
        await store.close()


async def send(port: int, message: EmailMessage) -> None:
    await asyncio.wait_for(aiosmtplib.send(
        message, hostname="127.0.0.1", port=port, start_tls=False, sender=YOUTH,
        recipients=[OFFICE]), 30)


def answer(thread: Thread, words: str) -> EmailMessage:
    """The youth's answer in the thread of the counsellor's mail."""
    message = to_office(f"Re: {thread.reply['Subject']}", "<answer@youth.example>", words)
    message["In-Reply-To"] = thread.reply["Message-ID"]
    message["References"] = f"<first@youth.example> {thread.reply['Message-ID']}"
    return message


async def outcome(thread: Thread) -> tuple[CrisisStatus, str]:
    """The conversation's crisis status and what the counsellor was shown of the answer."""
    current = thread.office.conductor.router.conversation(thread.conversation)
    assert current is not None
    posts = [effect.text for effect in (decode_effect(e.payload) for e in
                                        await thread.office.conductor.store.pending_outbox())
             if isinstance(effect, PostText) and "danke" in effect.text.lower()]
    assert posts, "the youth's answer never reached the counsellor"
    return current.crisis, posts[-1]


async def test_the_counsellors_mail_attached_to_the_answer_is_not_the_youths(
        tmp_path: Path) -> None:
    """Outlook's "attach original message": the counsellor's mail comes back attached to the
    youth's answer. Read like a mail the youth forwarded, its safety plan raised a crisis
    alert and was shown as the youth's words."""
    async with answered(tmp_path) as thread:
        message = answer(thread, "Danke, den Plan habe ich mir ausgedruckt.")
        message.add_attachment(thread.reply)
        await send(thread.port, message)
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.NONE, "the counsellor's own words raised a crisis flag"
    assert "Notfallplan" not in shown, "the counsellor's mail shown as the youth's words"
    assert "den Plan habe ich mir ausgedruckt" in shown


async def test_the_counsellors_mail_quoted_under_the_answer_raises_no_crisis(
        tmp_path: Path) -> None:
    """Gmail, Apple Mail and Thunderbird quote the mail answered under the answer."""
    async with answered(tmp_path) as thread:
        quote = "\n".join(f"> {line}" for line in plain_text(thread.reply).splitlines())
        await send(thread.port, answer(
            thread, "Danke, das mache ich.\n\nAm 01.12.2026 um 10:00 schrieb Beratung "
                    f"<{OFFICE}>:\n{quote}"))
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.NONE, "the counsellor's own words raised a crisis flag"
    assert "Danke, das mache ich." in shown


async def test_the_counsellors_mail_below_an_outlook_header_is_not_the_youths(
        tmp_path: Path) -> None:
    """Outlook quotes the mail answered unmarked, below a block of its headers."""
    async with answered(tmp_path) as thread:
        await send(thread.port, answer(
            thread, "Danke, das mache ich.\n\n________________________________\n"
                    f"Von: Beratung <{OFFICE}>\nGesendet: Dienstag, 1. Dezember 2026 "
                    f"11:00\nAn: {YOUTH}\nBetreff: {thread.reply['Subject']}\n\n"
                    f"{plain_text(thread.reply)}"))
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.NONE, "the counsellor's own words raised a crisis flag"
    assert "Notfallplan" not in shown, "the counsellor's mail shown as the youth's words"
    assert "Danke, das mache ich." in shown


async def test_the_youths_own_crisis_words_above_the_quote_are_read(tmp_path: Path) -> None:
    async with answered(tmp_path) as thread:
        quote = "\n".join(f"> {line}" for line in plain_text(thread.reply).splitlines())
        message = answer(thread, "Danke. Aber ich will mich umbringen, heute noch.\n\n"
                                 f"Am 01.12.2026 um 10:00 schrieb Beratung <{OFFICE}>:\n"
                                 f"{quote}")
        message.add_attachment(thread.reply)
        await send(thread.port, message)
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.RAISED
    assert "ich will mich umbringen" in shown


async def test_a_filters_notice_carrying_the_counsellors_mail_opens_no_crisis_case(
        tmp_path: Path) -> None:
    """The relay's spam filter holds the counsellor's mail and tells the office so, the mail
    attached (automatic, but not from the null sender, so no delivery report). Read for
    crisis words like any automatic mail, the safety plan in it opened a case of its own
    with a crisis alert: the counsellor's words, a robot as the youth."""
    async with answered(tmp_path) as thread:
        notice = EmailMessage()
        notice["From"] = "quarantine@relay.example"
        notice["To"] = OFFICE
        notice["Subject"] = "Nachricht in Quarantäne / Message quarantined"
        notice["Message-ID"] = "<q1@relay.example>"
        notice["Auto-Submitted"] = "auto-generated"
        notice.set_content("Eine Nachricht von Ihnen wurde zurückgehalten. Sie ist angehängt.")
        notice.add_attachment(thread.reply)
        await asyncio.wait_for(aiosmtplib.send(
            notice, hostname="127.0.0.1", port=thread.port, start_tls=False,
            sender="quarantine@relay.example", recipients=[OFFICE]), 30)
        conversations = thread.office.conductor.router.snapshot().conversations
    assert [c.conversation for c in conversations] == [thread.conversation], \
        "the counsellor's words opened a case"
    assert [c.crisis for c in conversations] == [CrisisStatus.NONE]


async def test_the_counsellors_mail_quoted_in_an_html_answer_raises_no_crisis(
        tmp_path: Path) -> None:
    """A mail program that sends HTML alone quotes the mail answered in a blockquote: read
    as text, the quote was no longer marked as one, and the safety plan in it was judged as
    the youth's words."""
    async with answered(tmp_path) as thread:
        message = answer(thread, "")
        message.set_content(
            "<div dir=\"ltr\">Danke, das mache ich.</div><br><div class=\"gmail_quote\">"
            "<div class=\"gmail_attr\">Am Di., 1. Dez. 2026 um 11:00 Uhr schrieb Beratung:"
            f"<br></div><blockquote class=\"gmail_quote\"><p>{SAFETY_PLAN}</p></blockquote>"
            "</div>", subtype="html")
        await send(thread.port, message)
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.NONE, "the counsellor's own words raised a crisis flag"
    assert "Danke, das mache ich." in shown


async def test_an_automatic_answer_quoting_the_counsellors_mail_raises_no_crisis(
        tmp_path: Path) -> None:
    """The youth's provider holds the counsellor's mail and answers From the youth's address,
    in the thread, quoting it (a challenge-response filter, a vacation reply with the mail
    below). Automatic mail is read for crisis words only: the safety plan in its quote
    raised a crisis on the youth's case."""
    async with answered(tmp_path) as thread:
        quote = "\n".join(f"> {line}" for line in plain_text(thread.reply).splitlines())
        message = answer(thread, "Ihre Nachricht wurde zurückgehalten. Bitte bestätigen Sie "
                                 f"den Absender, danke.\n\n{quote}")
        message["Auto-Submitted"] = "auto-replied"
        await send(thread.port, message)
        conversations = thread.office.conductor.router.snapshot().conversations
    assert [c.conversation for c in conversations] == [thread.conversation]
    assert [c.crisis for c in conversations] == [CrisisStatus.NONE], \
        "the counsellor's own words raised a crisis flag"


async def test_a_first_mail_answering_someone_elses_mail_is_read_quote_and_all(
        tmp_path: Path) -> None:
    """A youth told by a teacher to write to the office answers the teacher's mail, with
    the office's address put in: the quote under it holds the youth's own words to the
    teacher, which nobody at the office has read. Any mail with In-Reply-To was read
    without its quote, and the crisis in it reached nobody."""
    message = to_office(
        "Re: Wie geht es dir?", "<k2@youth.example>",
        "Frau Berg sagt, ich soll euch schreiben. Unten steht alles.\n\n"
        "Am 30.11.2026 um 18:02 schrieb Eva Berg <berg@school.example>:\n"
        "> Liebe Kim, bitte schreib der Online-Beratung, die sind für dich da.\n>\n"
        "> Am 30.11.2026 um 17:40 schrieb Kim:\n"
        ">> ich will mich umbringen, ich halte das zu Hause nicht mehr aus")
    message["In-Reply-To"] = "<t1@school.example>"
    message["References"] = "<k1@youth.example> <t1@school.example>"
    crisis, shown = await read_by_office(tmp_path, message)
    assert crisis is CrisisStatus.RAISED, "the youth's crisis words read by nobody"
    assert "ich will mich umbringen" in shown


async def test_the_youths_own_words_indented_in_an_html_answer_are_read(
        tmp_path: Path) -> None:
    """Gmail's and Apple Mail's "indent" (the browser's own indentation) is a blockquote
    too, with no border: the youth's own words set apart so ("das hab ich heute Nacht
    geschrieben") were marked as a quote and read by no crisis check."""
    async with answered(tmp_path) as thread:
        message = answer(thread, "")
        message.set_content(
            "<div dir=\"ltr\">Danke. Das hab ich heute Nacht geschrieben:<blockquote "
            "style=\"margin:0 0 0 40px;border:none;padding:0px\"><div>ich will mich "
            "umbringen, ich halte das nicht mehr aus</div></blockquote></div><br>"
            "<div class=\"gmail_quote\"><div class=\"gmail_attr\">Am Di., 1. Dez. 2026 um "
            "11:00 Uhr schrieb Beratung:<br></div><blockquote class=\"gmail_quote\" "
            "style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);"
            f"padding-left:1ex\"><p>{SAFETY_PLAN}</p></blockquote></div>", subtype="html")
        await send(thread.port, message)
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.RAISED, "the youth's crisis words read by nobody"
    assert "ich will mich umbringen" in shown


async def test_the_youths_words_written_inside_the_quote_are_read(tmp_path: Path) -> None:
    """On a phone many answer inside the mail they answer, line by line: Apple Mail and
    Gmail keep what is typed there in the quote ("> "). Every quoted line was left out of
    the crisis check, the youth's own among the counsellor's."""
    async with answered(tmp_path) as thread:
        said = plain_text(thread.reply).splitlines()
        quote = "\n".join([*(f"> {line}" for line in said),
                           "> der plan hilft mir nicht, ich ritze mich wieder jeden abend"])
        await send(thread.port, answer(
            thread, f"Danke.\n\nAm 01.12.2026 um 10:00 schrieb Beratung <{OFFICE}>:\n{quote}"))
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.RAISED, "the youth's crisis words read by nobody"
    assert "ich ritze mich wieder jeden abend" in shown


async def test_the_youths_words_written_inside_the_counsellors_mail_in_outlook_are_read(
        tmp_path: Path) -> None:
    """Outlook users answer inside the mail they answer, each comment marked with their
    name ("[Kim] …"): below the header block naming the office, all of it was left out, of
    the crisis check and of what the counsellor reads, the youth's words among the
    counsellor's."""
    async with answered(tmp_path) as thread:
        said = plain_text(thread.reply).rstrip("\n").split("\n")
        await send(thread.port, answer(
            thread, "Danke, meine Antworten stehen unten.\n\n________________________________\n"
                    f"Von: Beratung <{OFFICE}>\nGesendet: Dienstag, 1. Dezember 2026 "
                    f"11:00\nAn: {YOUTH}\nBetreff: {thread.reply['Subject']}\n\n"
                    + "\n".join([said[0], "[Kim] der plan hilft mir nicht, ich ritze mich "
                                 "wieder jeden abend", *said[1:]])))
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.RAISED, "the youth's crisis words read by nobody"
    assert "ich ritze mich wieder jeden abend" in shown
    assert "Notfallplan" not in shown, "the counsellor's mail shown as the youth's words"


async def test_the_youths_words_inside_the_quote_are_read_after_the_close(
        tmp_path: Path) -> None:
    """An answer after the close opens a new case, read like an answer in an open one: the
    youth's words typed inside the quoted counsellor's mail were left out with it there."""
    async with answered(tmp_path) as thread:
        await thread.office.conductor.staff_wrote(
            RoomID("!staff:x"), ANNA, EventID("$close"), f"!close {thread.conversation}", AT)
        quote = "\n".join([*(f"> {line}" for line in plain_text(thread.reply).splitlines()),
                           "> der plan hilft mir nicht, ich ritze mich wieder jeden abend"])
        await send(thread.port, answer(
            thread, f"Hallo nochmal.\n\nAm 01.12.2026 um 10:00 schrieb Beratung <{OFFICE}>:\n"
                    f"{quote}"))
        conversations = thread.office.conductor.router.snapshot().conversations
    assert [c.crisis for c in conversations if c.conversation != thread.conversation] \
        == [CrisisStatus.RAISED], "the youth's crisis words read by nobody"


async def test_a_youths_line_set_between_dashes_above_an_outlook_header_is_read(
        tmp_path: Path) -> None:
    """The rule above an Outlook header block ("-----Original Message-----") is left out
    with it; a youth's own last line set between dashes ("--- … ---") was taken for one."""
    async with answered(tmp_path) as thread:
        await send(thread.port, answer(
            thread, "Danke.\n--- ich will nicht mehr leben ---\n"
                    f"-----Ursprüngliche Nachricht-----\nVon: Beratung <{OFFICE}>\n"
                    f"Gesendet: Dienstag, 1. Dezember 2026 11:00\nAn: {YOUTH}\n"
                    f"Betreff: {thread.reply['Subject']}\n\n{plain_text(thread.reply)}"))
        crisis, shown = await outcome(thread)
    assert crisis is CrisisStatus.RAISED, "the youth's crisis words read by nobody"
    assert "ich will nicht mehr leben" in shown
    assert "Notfallplan" not in shown, "the counsellor's mail shown as the youth's words"
