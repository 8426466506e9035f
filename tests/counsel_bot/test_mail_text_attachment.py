"""A youth who writes their letter elsewhere and attaches it ("siehe Anhang", brief.txt) must
be read like one who types it into the mail: the counsellor sees the words and the crisis
check reads them. Before, a text file was only named ("not passed on"), and crisis words in
it reached nobody.

Real SMTP server (the parser with its limits), conductor, mail channel and store; a
recording sender stands in for the relay."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from counsel_bot.core.routing.model import CrisisStatus
from tests.support.mail_office import OFFICE, read_by_office, to_office

CRISIS = "Ich will mich umbringen, ich halte das nicht mehr aus."


@pytest.mark.parametrize(("data", "maintype", "subtype", "filename"), [
    (CRISIS.encode("utf-8"), "text", "plain", "brief.txt"),
    (f"# Mein Brief\n\n{CRISIS}".encode(), "text", "markdown", "brief.md"),
    (f"<html><body><p>{CRISIS}</p></body></html>".encode(), "text", "html", "brief.html"),
    # Phones send a shared text file as a file of no known type.
    (CRISIS.encode("cp1252"), "application", "octet-stream", "brief.txt"),
    # Windows' Notepad saved "Unicode" as UTF-16 with a byte order mark.
    (CRISIS.encode("utf-16"), "text", "plain", "Brief.TXT"),
], ids=["txt", "markdown", "html", "octet-stream-cp1252", "utf-16"])
async def test_crisis_words_in_an_attached_letter_are_read(
    tmp_path: Path, data: bytes, maintype: str, subtype: str, filename: str,
) -> None:
    message = to_office("brief", "<letter@youth.example>", "siehe anhang")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    crisis, read = await read_by_office(tmp_path, message)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert "ich halte das nicht mehr aus" in read, "the counsellor never sees the letter"


async def test_crisis_words_in_a_forwarded_mail_are_read(tmp_path: Path) -> None:
    """Sent "as attachment" (Outlook, Thunderbird), the letter a youth wrote to
    their teacher, or the threat they got, comes as an attached mail (message/rfc822): it was
    only named, and its words reached nobody."""
    letter = EmailMessage()
    letter["From"] = "sunflower@youth.example"
    letter["To"] = "lehrerin@schule.example"
    letter["Subject"] = "bitte lesen"
    letter.set_content(CRISIS)
    message = to_office("Fwd: bitte lesen", "<forward@youth.example>",
                         "das hab ich meiner lehrerin geschrieben, sie hat nie geantwortet")
    message.add_attachment(letter)
    crisis, read = await read_by_office(tmp_path, message)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert "ich halte das nicht mehr aus" in read, "the counsellor never sees the forwarded mail"


def _document(kind: str, paragraphs: list[str]) -> bytes:
    """A minimal Word (.docx) or LibreOffice (.odt) document, as the programs zip them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if kind == "docx":
            runs = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>'
                           for p in paragraphs)
            archive.writestr("word/document.xml", (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                f'2006/main"><w:body>{runs}</w:body></w:document>'))
        else:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
            text = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
            archive.writestr("content.xml", (
                '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
                f"<office:body><office:text>{text}</office:text></office:body>"
                "</office:document-content>"))
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "subtype"), [
    ("docx", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("odt", "vnd.oasis.opendocument.text"),
])
async def test_crisis_words_in_a_letter_attached_as_a_document_are_read(
    tmp_path: Path, kind: str, subtype: str,
) -> None:
    """A letter written in Word or LibreOffice at school and attached: only named, its
    crisis words reached nobody. Its text is read (never the file passed on)."""
    message = to_office("brief", "<document@youth.example>", "siehe anhang")
    message.add_attachment(_document(kind, ["Liebe Beratung,", CRISIS]),
                           maintype="application", subtype=subtype,
                           filename=f"brief.{kind}")
    crisis, read = await read_by_office(tmp_path, message)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert "ich halte das nicht mehr aus" in read, "the counsellor never sees the letter"


async def test_a_forwarded_mail_forged_in_the_offices_name_is_read(tmp_path: Path) -> None:
    """Anyone can write the office's address into a From line: a bully who mails a youth
    "from the counselling" that nobody will help them, and the youth who forwards it asking
    whether it is ours. Known by its From line alone as the office's own mail, it was left
    out, its words read by nobody; the office's own mails carry its Message-IDs."""
    forged = EmailMessage()
    forged["From"] = f"Beratung <{OFFICE}>"
    forged["To"] = "sunflower@youth.example"
    forged["Subject"] = "Deine Anfrage"
    forged["Message-ID"] = "<8f2k1@mailer.example>"
    forged.set_content("Wir können dir nicht helfen. Bring dich doch einfach um.")
    message = to_office("Fwd: Deine Anfrage", "<forged@youth.example>",
                         "habt ihr mir das geschrieben??")
    message.add_attachment(forged)
    crisis, read = await read_by_office(tmp_path, message)
    assert crisis is CrisisStatus.RAISED, "crisis words read by nobody"
    assert "Bring dich doch einfach um" in read, "the counsellor never sees the mail"
