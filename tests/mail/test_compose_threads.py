"""Replies and bounces built as data; thread keys from threading headers."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest

from homeserver_bridge.mail import (
    Bounce,
    BounceReason,
    InboundMail,
    MailComposeError,
    MailLimits,
    ReplyThread,
    build_bounce,
    build_reply,
    key_for,
    legacy_key_for,
    parse_inbound,
    reply_subject,
    thread_key,
    thread_key_candidates,
    thread_root,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
OFFICE = "beratung@counsel.localhost"
SECRET = bytes(32)


def inbound(**headers: str) -> InboundMail:
    lines = [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    raw = ("\r\n".join(["From: Kim <kim@youth.example>", *lines]) + "\r\n\r\ntext").encode()
    result = parse_inbound(raw, MailLimits())
    assert isinstance(result, InboundMail)
    return result


def test_reply_threads_under_the_youths_last_mail() -> None:
    first = inbound(Message_ID="<m1@youth.example>", Subject="Hilfe")
    reply = build_reply(
        office_address=OFFICE,
        to_address=first.reply_address,
        thread=ReplyThread.from_mail(first),
        text="Hallo Kim,\nschön, dass du schreibst. – Deine Beraterin",
        now=NOW,
    )
    assert reply["From"] == OFFICE
    assert reply["To"] == "kim@youth.example"
    assert reply["Subject"] == "Re: Hilfe"
    assert reply["In-Reply-To"] == "<m1@youth.example>"
    assert reply["References"] == "<m1@youth.example>"
    assert re.fullmatch(r"<[a-z2-7]{32}@counsel\.localhost>", reply["Message-ID"])
    assert reply["Date"] == "Mon, 02 Mar 2026 15:00:00 +0000"
    assert reply.get_content_type() == "text/plain"
    assert reply.get_content_charset() == "utf-8"
    assert reply.get_content() == "Hallo Kim,\nschön, dass du schreibst. – Deine Beraterin\n"
    # No tracking, no program name, nothing but what a reply needs.
    assert set(reply.keys()) == {
        "From", "To", "Date", "Message-ID", "Subject", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
    }  # fmt: skip
    reparsed = message_from_bytes(reply.as_bytes(), policy=default)
    assert reparsed["References"] == "<m1@youth.example>"


def test_references_chain_grows_and_keeps_the_root() -> None:
    refs = " ".join(f"<r{i}@x.example>" for i in range(30))
    later = inbound(Message_ID="<m9@youth.example>", References=refs, Subject="AW: Hilfe")
    reply = build_reply(office_address=OFFICE, to_address="kim@youth.example",
                        thread=ReplyThread.from_mail(later), text="ok", now=NOW)  # fmt: skip
    chain = reply["References"].split()
    assert chain[0] == "<r0@x.example>"
    assert chain[-1] == "<m9@youth.example>"
    assert len(chain) == 20
    assert reply["Subject"] == "AW: Hilfe"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Hilfe", "Re: Hilfe"),
        ("Re: Hilfe", "Re: Hilfe"),
        ("aw:Hilfe", "aw:Hilfe"),
        ("", "Re: Deine Nachricht an die Beratung"),
        ("a\r\nBcc: evil@x.example", "Re: a Bcc: evil@x.example"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_header_injection_is_impossible() -> None:
    thread = ReplyThread("<m1@y.example>\r\nBcc: evil@x.example", (), "x\nBcc: evil@x.example")
    reply = build_reply(office_address=OFFICE, to_address="kim@youth.example", thread=thread,
                        text="t", now=NOW)  # fmt: skip
    assert "Bcc" not in reply
    assert "In-Reply-To" not in reply  # not a valid id, so not echoed
    with pytest.raises(MailComposeError):
        build_reply(office_address=OFFICE, to_address="kim@youth.example\r\nBcc: e@x.example",
                    thread=thread, text="t", now=NOW)  # fmt: skip


def test_bounce_explains_in_german_and_english_and_is_automatic() -> None:
    bounce = Bounce(BounceReason.TOO_MANY_ATTACHMENTS, "<m1@youth.example>", "Hilfe")
    message = build_bounce(bounce, office_address=OFFICE, to_address="kim@youth.example",
                           limits=MailLimits(max_attachments=0), now=NOW)  # fmt: skip
    text = message.get_content()
    assert "keine Anhänge" in text
    assert "cannot accept attachments" in text
    assert "112" in text
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<m1@youth.example>"
    # The youth's subject never: the envelope sender may be someone else's address.
    assert message["Subject"] == ("Nicht zugestellt / Not delivered: "
                                  "Deine Nachricht an die Beratung")


@pytest.mark.parametrize("reason", list(BounceReason))
def test_every_reason_has_both_languages(reason: BounceReason) -> None:
    bounce = Bounce(reason, "<m@y.example>")
    message = build_bounce(bounce, office_address=OFFICE, to_address="kim@youth.example",
                           limits=MailLimits(), now=NOW)  # fmt: skip
    text = message.get_content()
    assert "Hallo" in text
    assert "Hello" in text


def test_thread_root_and_key() -> None:
    first = inbound(Message_ID="<m1@youth.example>")
    second = inbound(
        Message_ID="<m2@youth.example>",
        In_Reply_To="<reply1@counsel.localhost>",
        References="<m1@youth.example> <reply1@counsel.localhost>",
    )
    assert thread_root(first) == thread_root(second) == "<m1@youth.example>"
    assert thread_key(first, SECRET) == thread_key(second, SECRET)
    # Only In-Reply-To (some programs): found through the registered key of our reply.
    sparse = inbound(Message_ID="<m3@youth.example>", In_Reply_To="<reply1@counsel.localhost>")
    assert thread_key(sparse, SECRET) != thread_key(first, SECRET)
    assert key_for("kim@youth.example", "<reply1@counsel.localhost>", SECRET) in (
        thread_key_candidates(sparse, SECRET)
    )
    assert thread_key_candidates(second, SECRET)[0] == thread_key(second, SECRET)


def test_a_stranger_cannot_join_a_thread_by_its_id() -> None:
    kim = inbound(Message_ID="<m1@youth.example>")
    raw = (
        b"From: mallory@evil.example\r\nMessage-ID: <x@evil.example>\r\n"
        b"References: <m1@youth.example>\r\n\r\nhi"
    )
    stranger = parse_inbound(raw, MailLimits())
    assert isinstance(stranger, InboundMail)
    assert thread_root(stranger) == thread_root(kim)
    assert thread_key(stranger, SECRET) != thread_key(kim, SECRET)
    assert thread_key(kim, SECRET) not in thread_key_candidates(stranger, SECRET)
    assert "kim" not in thread_key(kim, SECRET)


def test_a_stranger_naming_a_youth_in_reply_to_cannot_join_by_the_youths_own_ids() -> None:
    """Reply-To is looked up only with the office's own replies' ids (never guessable)."""
    kim = inbound(Message_ID="<m1@youth.example>")
    raw = (
        b"From: mallory@evil.example\r\nReply-To: kim@youth.example\r\n"
        b"Message-ID: <x@evil.example>\r\nIn-Reply-To: <m1@youth.example>\r\n"
        b"References: <m1@youth.example>\r\n\r\nhi"
    )
    stranger = parse_inbound(raw, MailLimits())
    assert isinstance(stranger, InboundMail)
    domains = frozenset({"counsel.localhost"})
    assert thread_key(kim, SECRET) not in thread_key_candidates(stranger, SECRET, domains)
    reply = "<r1@counsel.localhost>"
    answering = replace(stranger, in_reply_to=reply, references=())
    assert key_for("kim@youth.example", reply, SECRET) in thread_key_candidates(
        answering, SECRET, domains)


def test_a_thread_key_is_nothing_without_the_secret() -> None:
    """The keys are kept in the clear; without the installation's secret, neither the
    address nor the id can be tested against them (the unkeyed form of older versions
    could), and another installation's keys differ."""
    kim = inbound(Message_ID="<m1@youth.example>")
    key = thread_key(kim, SECRET)
    assert key != legacy_key_for("kim@youth.example", "<m1@youth.example>")
    assert key != thread_key(kim, bytes(range(32)))
    assert key == key_for("kim@youth.example", "<m1@youth.example>", SECRET)


def test_a_reply_can_carry_a_calendar_file_as_an_imip_attachment() -> None:
    from homeserver_bridge.mail import CalendarFile

    ics = b"BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    message = build_reply(office_address=OFFICE, to_address="kim@youth.example",
                          thread=ReplyThread("<k1@youth.example>", (), "Hallo"),
                          text="Der Termin steht.", now=NOW,
                          calendar=CalendarFile("termin-t-00000a.ics", ics))
    parsed = message_from_bytes(message.as_bytes(), policy=default)
    assert parsed.get_content_type() == "multipart/mixed"
    body, attachment = list(parsed.iter_parts())
    assert body.get_content_type() == "text/plain"
    assert "Der Termin steht." in body.get_content()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "termin-t-00000a.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_payload(decode=True) == ics  # byte-exact, CRLF kept
    assert parsed["In-Reply-To"] == "<k1@youth.example>"


@pytest.mark.parametrize(("name", "method"), [("../x.ics", "PUBLISH"), ("t.txt", "PUBLISH"),
                                              ("t.ics", "REQUEST")])
def test_a_calendar_file_with_a_bad_name_or_method_is_refused(name: str, method: str) -> None:
    from homeserver_bridge.mail import CalendarFile

    with pytest.raises(MailComposeError):
        CalendarFile(name, b"x", method)


def test_the_address_is_the_same_whatever_its_case() -> None:
    """A phone capitalises the address a youth types into the chat; their mail program
    sends it as the provider spells it. Both are one correspondent of one thread."""
    assert key_for("Kim@Youth.Example", "<r1@counsel.localhost>", SECRET) == key_for(
        " kim@youth.example", "<r1@counsel.localhost>", SECRET)
    assert key_for("straße@youth.example", "<r1@counsel.localhost>", SECRET) != key_for(
        "strasse@youth.example", "<r1@counsel.localhost>", SECRET)
