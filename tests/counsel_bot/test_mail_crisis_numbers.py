"""The emergency numbers after crisis words reach whoever wrote them: the youth in the chat
when their words flag there, the writer of a mail at the address that mail came from. Only
the first flag of an opening sent them, once, to one place: a mail from a mailbox the youth
had left took them, and the youth in the chat, or the writer of the mail, got none. The
real conductor, mail channel and executor on a store; no homeserver."""

from __future__ import annotations

import re

from counsel_bot.core.effects import MailToYouth, SayToYouth, SendMail, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import InboundMail
from tests.counsel_bot.test_mail_switched_chat import back_in_chat_after_a_reply
from tests.store.conftest import AeadSealer
from tests.support.case_code import office_with_chat
from tests.support.mail_office import (
    ANNA,
    AT,
    Office,
    RecordingSender,
    code_mailed,
    office_on,
    perform_mails,
    plain_text,
)

SAFETY = ("safety_info", "safety_offer")


async def test_the_youth_in_the_chat_gets_the_numbers_after_a_mail_from_their_old_mailbox(
) -> None:
    """Kim is back in the chat. Someone who reads the mailbox Kim left (or Kim, from an
    old phone) mails crisis words in the old thread: the flag rises, the numbers are mailed
    there. Then Kim writes in the chat that they want to die: the flag was up already, so
    Kim, in the chat, got no numbers at all."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    conversation, reply = await back_in_chat_after_a_reply(office, sender)
    await office.mail.deliver(InboundMail(
        message_id="<old1@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Ich will mich umbringen.", attachments=()))
    mailed = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    assert [e for e in mailed if isinstance(e, MailToYouth) and e.key in SAFETY]
    before = {e.key for e in await c.store.pending_outbox()}
    await c.youth_wrote(RoomID("!chat:x"), UserID("@kim:x"), "Kim", EventID("$cr"),
                        "ich will nicht mehr leben, ich bring mich um", AT)
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()
            if e.key not in before]
    assert [e for e in told if isinstance(e, SayToYouth) and e.key in SAFETY
            and e.conversation == conversation], \
        "the youth in the chat never got the emergency numbers"
    before = {e.key for e in await c.store.pending_outbox()}
    await c.youth_wrote(RoomID("!chat:x"), UserID("@kim:x"), "Kim", EventID("$cr2"),
                        "ich bring mich heute um", AT)
    again = [decode_effect(e.payload) for e in await c.store.pending_outbox()
             if e.key not in before]
    assert not [e for e in again if isinstance(e, SayToYouth) and e.key in SAFETY], \
        "the numbers again, in the middle of the counselling"


async def replies_go_to_a_proven_address(office: Office) -> None:
    """Kim wrote first from the school's account, came into the chat and proved their own
    address: replies go there (all mails so far sent and forgotten)."""
    c = office.conductor
    await office.mail.deliver(InboundMail(
        message_id="<first@school.example>", in_reply_to=None, references=(),
        subject="Hilfe", from_address="kim.m@school.example",
        reply_address="kim.m@school.example", text="Ich brauche Hilfe.", attachments=()))
    [room] = office.rooms
    youth = UserID("@kim:x")
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c1"), "hier bin ich", AT)
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c2"), "mail", AT)
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c3"), "kim@youth.example", AT)
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c4"), await code_mailed(office),
                        AT)
    await perform_mails(office)


async def test_crisis_words_mailed_from_the_address_the_youth_left_get_the_numbers_there(
) -> None:
    """Kim wrote first from the school's account, came into the chat and proved their own
    address: replies go there. A mail with crisis words comes from the school account (Kim
    at a school computer, or whoever reads that mailbox): the numbers went to Kim's new
    address, not to the person who wrote the words."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    await replies_go_to_a_proven_address(office)
    sender.sent.clear()
    await office.mail.deliver(InboundMail(
        message_id="<second@school.example>", in_reply_to="<first@school.example>",
        references=("<first@school.example>",), subject="Re: Hilfe",
        from_address="kim.m@school.example", reply_address="kim.m@school.example",
        text="Ich will mich umbringen. Heute noch.", attachments=()))
    await perform_mails(office)
    numbers = [m for m in sender.sent if "112" in plain_text(m)]
    assert numbers, "no emergency numbers mailed"
    assert [m["To"] for m in numbers] == ["kim.m@school.example"], \
        "the numbers went to the address the replies go to, not to the mail's writer"


async def test_the_cut_of_a_long_mail_is_told_to_its_writer() -> None:
    """A long mail from the school account is cut in the middle: the notice asking to send
    that part again went to Kim's new address, whose reader wrote no such mail (and learnt
    that someone at the old one did), and the writer never knew their words were cut."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    await replies_go_to_a_proven_address(office)
    sender.sent.clear()
    words = "Heute war wieder Schule, danach Hausaufgaben.\n"
    await office.mail.deliver(InboundMail(
        message_id="<long@school.example>", in_reply_to="<first@school.example>",
        references=("<first@school.example>",), subject="Re: Hilfe",
        from_address="kim.m@school.example", reply_address="kim.m@school.example",
        text=words * 3, attachments=(), uncut_text=words * 9))
    await perform_mails(office)
    assert sender.sent, "nobody was told that the mail was cut"
    assert [m["To"] for m in sender.sent] == ["kim.m@school.example"], \
        "the cut was told to the address the replies go to, not to the mail's writer"


async def test_a_mail_youth_who_comes_into_the_chat_gets_the_numbers_there() -> None:
    """Kim's first mail held crisis words: the numbers went by mail. Anna invites Kim into
    the chat (`!chat`); there Kim writes that they cannot go on. The flag was up since the
    mail, so the chat, where Kim now is, never showed the numbers."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    await office.mail.deliver(InboundMail(
        message_id="<first@youth.example>", in_reply_to=None, references=(),
        subject="Hilfe", from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Ich will mich umbringen.", attachments=()))
    [room] = office.rooms
    record = await c.store.conversation_by_room(RoomID(room))
    assert record is not None
    await c.staff_wrote(RoomID(room), ANNA, EventID("$chat"), "!chat", AT)
    [invitation] = [e for e in (decode_effect(o.payload) for o in await c.store.pending_outbox())
                    if isinstance(e, SendMail)]
    code = re.search(r"\b([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\b", invitation.text)
    assert code is not None
    await perform_mails(office)
    kim = UserID("@kim:x")
    await c.youth_wrote(RoomID("!lobby:x"), kim, None, EventID("$code"), code.group(1), AT)
    before = {e.key for e in await c.store.pending_outbox()}
    await c.youth_wrote(RoomID(room), kim, None, EventID("$cr"),
                        "ich will nicht mehr leben, ich bring mich um", AT)
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()
            if e.key not in before]
    assert [e for e in told if isinstance(e, SayToYouth) and e.key in SAFETY
            and e.conversation == record.conversation], \
        "the youth in the chat never got the emergency numbers"
