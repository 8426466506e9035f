"""A chat youth who continues by mail: the case goes on where it was (same counsellor, same
conversation), held to what the chat already did for it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import EmailMessage

import aiosmtplib

from counsel_bot.config import OpeningHoursSettings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.core.effects import MailToYouth, PostText, SayToStaff, SayToYouth, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import InboundMail, MailSettings, start_inbound
from tests.store.conftest import AeadSealer
from tests.support.mail_office import (
    ANNA,
    AT,
    OFFICE,
    Office,
    RecordingSender,
    code_mailed,
    counsellor_replies,
    office_on,
    perform_mails,
    switched_chat_youth,
)


async def through_the_office_inbox(office: Office, message: EmailMessage, *,
                                   sender: str, recipients: list[str] | None = None) -> None:
    """``message`` delivered over SMTP to the office's inbound server, as its relay would."""
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: AT)
    try:
        await asyncio.wait_for(aiosmtplib.send(
            message, hostname="127.0.0.1", port=server.port, start_tls=False, sender=sender,
            recipients=recipients), 10)
    finally:
        await server.stop()


async def back_in_chat_after_a_reply(office: Office, sender: RecordingSender,
                                     ) -> tuple[ConversationID, EmailMessage]:
    """A youth who switched to mail got the counsellor's reply by mail, then wrote in the
    chat again (the case is back in the chat): the conversation and the mailed reply."""
    conversation = await switched_chat_youth(office, "kim@youth.example")
    await counsellor_replies(office, conversation, "$reply", "Wie geht es dir heute?")
    await perform_mails(office)
    [reply] = sender.sent
    await office.conductor.youth_wrote(RoomID("!chat:x"), UserID("@kim:x"), "Kim",
                                       EventID("$4"), "bin wieder hier", AT)
    return conversation, reply


async def test_the_youths_answer_finds_the_case_whatever_the_case_of_the_address() -> None:
    """The youth types "Kim@youth.example" (a phone capitalises the first letter); their
    mail program sends From: kim@youth.example. The answer to the counsellor's reply
    continues the case in Anna's room. Before, the thread key kept the local part's case,
    and the answer opened a new conversation (a new room, the queue again)."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    conversation = await switched_chat_youth(office, "Kim@youth.example")
    await counsellor_replies(office, conversation, "$reply", "Wie geht es dir heute?")
    await perform_mails(office)
    [reply] = sender.sent
    assert reply["To"] == "Kim@youth.example"  # sent as typed: that reaches it too
    answer = InboundMail(
        message_id="<answer1@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Besser, danke.", attachments=())
    await office.mail.deliver(answer)
    conversations: list[ConversationID] = [
        c.conversation for c in office.conductor.router.snapshot().conversations]
    assert (conversations, office.rooms) == ([conversation], [])


async def test_the_youths_answer_finds_the_case_when_they_gave_a_plus_address() -> None:
    """The youth types "kim+beratung@youth.example" (a tag, so the office's mails can be
    sorted); the replies arrive, but their mail program answers From the mailbox itself,
    kim@youth.example (Gmail and Outlook do, unless set up otherwise). The answer opened
    a new conversation: a new room, the queue again, the counsellor's context gone."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    conversation = await switched_chat_youth(office, "kim+beratung@youth.example")
    await counsellor_replies(office, conversation, "$reply", "Wie geht es dir heute?")
    await perform_mails(office)
    [reply] = sender.sent
    answer = InboundMail(
        message_id="<answer2@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Besser, danke.", attachments=())
    await office.mail.deliver(answer)
    conversations: list[ConversationID] = [
        c.conversation for c in office.conductor.router.snapshot().conversations]
    assert (conversations, office.rooms) == ([conversation], [])


async def deadline_reports(anna_says: str) -> list[str]:
    """What staff are told of the mail deadline in the week after a chat youth switched
    to mail and nobody wrote (the youth said they would write when they can)."""
    office = await office_on(MemoryStore(AeadSealer()), RecordingSender())
    office.mail.deadlines = MailDeadlines(
        OpeningHours.from_dict(OpeningHoursSettings().as_dict()))
    conversation = await switched_chat_youth(office, "kim@youth.example", anna_says=anna_says)
    store = office.conductor.store
    await store.mark_outbox_done([e.key for e in await store.pending_outbox()], at=AT)
    for day in range(1, 8):
        await office.mail.tick(AT + timedelta(days=day))
    told = [decode_effect(e.payload) for e in await store.pending_outbox()]
    return [e.key for e in told if isinstance(e, SayToStaff) and e.key.startswith("mail.")
            and ("conversation", conversation) in e.params]


async def test_a_chat_conversation_switched_to_mail_is_not_a_missed_first_reply() -> None:
    """A conversation its counsellor answered in the chat has had its first reply: after
    the switch to mail, staff are neither reminded of the mail's first-reply deadline nor
    told it was missed, and no breach is counted. Before, `tick` measured it from the
    queue to the first reply *by mail* and reported every such switch as a breach."""
    assert await deadline_reports("Hallo Kim, ich bin Anna. Was ist passiert?") == []


async def test_a_switched_chat_nobody_answered_keeps_the_mail_deadline() -> None:
    """A youth who waited in the chat without an answer and then chose mail still has the
    first reply to come: the deadline holds, from when they were queued."""
    assert await deadline_reports("") == ["mail.reminder", "mail.breach"]


async def test_the_offices_own_mail_coming_back_is_never_taken_for_the_youths() -> None:
    """A youth asked for their address types one that forwards to the office's (the
    office's own is refused at once): each reply of the counsellor comes back to the office's
    SMTP server, From the office, in the case's thread. Before, it was read into the case as
    the youth's mail: the counsellor's own words shown as the youth's, judged as the
    youth's (a false crisis alert when the counsellor quotes the youth's words), and
    every further reply came back the same way."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    conversation = await switched_chat_youth(office, "info@counsel.example")
    await counsellor_replies(office, conversation, "$reply",
                             "Du hast geschrieben: ich will mich umbringen. Das nehme ich "
                             "ernst.")
    await perform_mails(office)
    [reply] = sender.sent
    before = {e.key for e in await office.conductor.store.pending_outbox()}
    await through_the_office_inbox(office, reply, sender=OFFICE, recipients=[OFFICE])
    current = office.conductor.router.conversation(conversation)
    assert current is not None
    assert current.crisis.value == "none", "the counsellor's words raised a crisis flag"
    came = [decode_effect(e.payload) for e in await office.conductor.store.pending_outbox()
            if e.key not in before]
    assert not [e for e in came if isinstance(e, PostText)], "shown as the youth's mail"


async def test_a_contact_form_mail_from_the_office_with_the_youths_reply_to_opens_a_case() -> None:
    """The office's website form (or a forward that rewrites From for DMARC) sends the
    youth's words From the office's own address, the youth's in Reply-To. Taken for the
    office's own mail come back, it was dropped with a 250: nobody read it, a crisis
    neither, and the youth was never answered."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    form = EmailMessage()
    form["From"] = f"Kontaktformular <{OFFICE}>"
    form["Reply-To"] = "kim@youth.example"
    form["To"] = OFFICE
    form["Subject"] = "Nachricht über das Kontaktformular"
    form["Message-ID"] = "<form-1@counsel.example>"
    form.set_content("Ich will mich umbringen, ich weiß nicht mehr weiter.")
    await through_the_office_inbox(office, form, sender="www-data@counsel.example")
    [current] = office.conductor.router.snapshot().conversations
    assert current.crisis.value != "none"
    record = await office.conductor.store.conversation(current.conversation)
    assert record is not None
    assert record.youth_user_id == "mailto:kim@youth.example"


async def test_a_chat_youth_who_gives_the_offices_own_address_stays_in_the_chat() -> None:
    """Asked for their address, a youth types the one on the office's website. Switched to
    it, every reply of the counsellor went to the office, came back as the office's own
    mail and was dropped: the youth, told "replies go to your address", never heard again.
    They are told the address cannot be used and can give their own."""
    office = await office_on(MemoryStore(AeadSealer()), RecordingSender())
    c = office.conductor
    room, youth = RoomID("!chat:x"), UserID("@kim:x")
    await c.youth_wrote(room, youth, "Kim", EventID("$1"), "Hallo, ich brauche Hilfe", AT)
    await c.youth_wrote(room, youth, "Kim", EventID("$2"), "mail", AT)
    await c.youth_wrote(room, youth, "Kim", EventID("$3"), OFFICE.capitalize(), AT)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.channel.value == "chat", "switched to the office's own address"
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()]
    assert [e for e in told if isinstance(e, SayToYouth) and e.key == "mail.address_unusable"]
    await c.youth_wrote(room, youth, "Kim", EventID("$4"), "kim@youth.example", AT)
    await c.youth_wrote(room, youth, "Kim", EventID("$5"), await code_mailed(office), AT)
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.channel.value == "mail", "their own address, given next, is taken"


async def test_an_anonymous_form_mail_from_the_office_itself_is_read() -> None:
    """The office's website form for those who want to stay anonymous asks no address and
    sends the words From the office's own address (so that its mail server takes them).
    Taken for the office's own mail come back, it was dropped with a 250: crisis words
    and all reached nobody. The office's own mails are those it sent (their Message-IDs are
    kept); anything else From its address is someone's words. There is nobody to answer:
    no acknowledgement goes out, and the room is told if a reply is tried."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    form = EmailMessage()
    form["From"] = f"Anonymes Formular <{OFFICE}>"
    form["To"] = OFFICE
    form["Subject"] = "Anonyme Nachricht"
    form["Message-ID"] = "<anon-7@counsel.example>"
    form.set_content("Ich will mich umbringen, ich weiß nicht mehr weiter.")
    await through_the_office_inbox(office, form, sender="www-data@counsel.example")
    [current] = office.conductor.router.snapshot().conversations
    assert current.crisis.value != "none"
    await perform_mails(office)
    assert sender.sent == [], "mailed to the office's own address"


async def test_a_youth_back_in_the_chat_who_mails_again_chooses_mail_in_the_chat() -> None:
    """A youth who switched to mail wrote once more in the chat (so the case went back to
    the chat), then answered the counsellor's reply by mail again. Before, the counsellor's
    answer went only to the chat room; then (2594697) the mail alone took the case back to
    mail, which anyone reading the mailbox could do (the test below).
    Now the youth is told in the chat and chooses mail there, with the address proven
    again; from then on the counsellor's words go out as mail."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    conversation, reply = await back_in_chat_after_a_reply(office, sender)
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.channel.value == "chat"
    before = {e.key for e in await c.store.pending_outbox()}
    answer = InboundMail(
        message_id="<answer3@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Ich schreib doch lieber per Mail.", attachments=())
    await office.mail.deliver(answer)
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()
            if e.key not in before]
    assert [e for e in told if isinstance(e, SayToYouth) and e.key == "mail.came_in_chat"], \
        "the youth in the chat was not told of the mail"
    room, youth = RoomID("!chat:x"), UserID("@kim:x")
    await c.youth_wrote(room, youth, "Kim", EventID("$m1"), "mail", AT)
    await c.youth_wrote(room, youth, "Kim", EventID("$m2"), "kim@youth.example", AT)
    await c.youth_wrote(room, youth, "Kim", EventID("$m3"), await code_mailed(office), AT)
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.channel.value == "mail", "the counsellor's answer goes only to the chat"
    # The bot mails the counsellor's words when the stored record says mail (bot.py).
    record = await c.store.conversation(conversation)
    assert record is not None
    assert record.channel.value == "mail"
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()
            if e.key not in before]
    assert [e for e in told if isinstance(e, SayToYouth) and e.key == "channel.mail"]


async def test_a_mail_from_the_mailbox_a_youth_left_does_not_take_their_case_to_it() -> None:
    """A youth went from mail back to the chat; their old mailbox is read by someone else
    (a parent, an ex-partner), who answers an old mail of the office. That mail took the
    case back to mail: the counsellor's next replies went to the mailbox the youth had
    left, to the very person the youth may be hiding from, and the youth in the chat heard
    nothing. Now the case stays in the chat, nothing is mailed there, the youth is told in
    the chat and the counsellor in the staff room; the mail is kept for the counsellor."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    conversation, reply = await back_in_chat_after_a_reply(office, sender)
    sender.sent.clear()
    before = {e.key for e in await c.store.pending_outbox()}
    await office.mail.deliver(InboundMail(
        message_id="<parent1@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Hier ist Kims Mutter. Worum geht es? Schreiben Sie mir bitte alles.",
        attachments=()))
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.channel.value == "chat", "the mail took the case to the mailbox"
    record = await c.store.conversation(conversation)
    assert record is not None
    assert record.channel.value == "chat", "the counsellor's words would go out as mail"
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()
            if e.key not in before]
    assert [e for e in told if isinstance(e, SayToYouth) and e.key == "mail.came_in_chat"], \
        "the youth in the chat was not told"
    assert [e for e in told if isinstance(e, SayToStaff)
            and e.key == "mail.came_in_chat_staff"
            and ("conversation", conversation) in e.params], "the counsellor was not told"
    assert [e for e in told if isinstance(e, PostText)], "the counsellor cannot read the mail"
    assert not [e for e in told if isinstance(e, MailToYouth)], "mailed to the old mailbox"
    await perform_mails(office)
    assert sender.sent == []
    assert b"Kims Mutter" in b"".join(
        i.body for i in await c.store.read_intake(conversation))


async def test_a_mail_youth_who_gives_a_new_address_in_the_chat_is_answered_there() -> None:
    """A youth who first wrote by mail (from the school's account, a parent's) came into
    the chat with the case code, then chose mail again and gave another address, proven
    with the code sent there. The counsellor's replies still went to the first address:
    the youth waited in vain, and whoever reads that mailbox read the counselling."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    await office.mail.deliver(InboundMail(
        message_id="<first4@school.example>", in_reply_to=None, references=(),
        subject="Hilfe", from_address="kim.m@school.example",
        reply_address="kim.m@school.example", text="Ich brauche Hilfe.", attachments=()))
    [room] = office.rooms
    record = await c.store.conversation_by_room(RoomID(room))
    assert record is not None
    youth = UserID("@kim:x")
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c1"), "hier bin ich", AT)
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c2"), "mail", AT)
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c3"), "kim@youth.example", AT)
    await c.youth_wrote(RoomID(room), youth, "Kim", EventID("$c4"), await code_mailed(office),
                        AT)
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.channel.value == "mail"
    await perform_mails(office)
    sender.sent.clear()
    await counsellor_replies(office, record.conversation, "$reply4", "Schön, dass du da bist.")
    await perform_mails(office)
    assert [m["To"] for m in sender.sent] == ["kim@youth.example"], \
        "the reply went to the address the youth left"


async def test_crisis_words_mailed_by_a_youth_back_in_the_chat_get_the_numbers_by_mail(
) -> None:
    """The same youth, back in the chat, mails crisis words in the thread: the emergency
    numbers went only into the chat room, which they no longer read."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    _, reply = await back_in_chat_after_a_reply(office, sender)
    before = {e.key for e in await c.store.pending_outbox()}
    await office.mail.deliver(InboundMail(
        message_id="<answer5@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="Ich will mich umbringen.", attachments=()))
    told = [decode_effect(e.payload) for e in await c.store.pending_outbox()
            if e.key not in before]
    assert [e for e in told if isinstance(e, MailToYouth) and e.key.startswith("safety")], \
        "the emergency numbers went only into the chat"


async def test_a_no_from_the_mailbox_a_youth_left_declines_nothing_proposed_in_the_chat(
) -> None:
    """Back in the chat, Kim agrees with Anna on an appointment proposal there; Anna
    closes the chat (the usual end: propose, then close). Whoever reads the mailbox Kim
    left answers an old mail of the office with "nein": that mail was taken as Kim's
    answer to the proposal made in the chat, which it declined (a "ja" confirmed it), and
    Kim was told in the chat that they had said no. An answer by mail counts only for a
    conversation that was on mail at its close; any other opens a conversation of its own,
    where someone reads it."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender,
                             appointments=AppointmentSettings(office_address="Musterstr. 1"))
    c = office.conductor
    conversation, reply = await back_in_chat_after_a_reply(office, sender)
    room = RoomID("!chat:x")
    await c.staff_wrote(room, ANNA, EventID("$ap"), "!appointment 2026-12-10 16:00 45min "
                        "inperson", AT)
    [proposed] = [a for a in c.appointments.known.values() if a.conversation == conversation]
    assert proposed.status.value == "proposed"
    await c.staff_wrote(room, ANNA, EventID("$close"), "!close", AT)
    await office.mail.deliver(InboundMail(
        message_id="<nein@youth.example>", in_reply_to=str(reply["Message-ID"]),
        references=(str(reply["Message-ID"]),), subject="Re: Deine Online-Beratung",
        from_address="kim@youth.example", reply_address="kim@youth.example",
        text="nein", attachments=()))
    [after] = [a for a in c.appointments.known.values() if a.conversation == conversation]
    assert after.status.value == "proposed", "a mail from the old mailbox answered it"
