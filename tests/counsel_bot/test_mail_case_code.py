"""A mail youth's case code (`!chat`) in someone else's hands: the code mail lies in a
mailbox a parent or an ex-partner may read, or is forwarded. Its holder comes into the
youth's room, chooses mail in the chat and proves their own address: from then on the
counsellor's answers, also to the youth's own mails, went to the holder, and nobody knew.
The real conductor, mail channel and executor on a store; no homeserver."""

from __future__ import annotations

from counsel_bot.channels.outbox_worker import lane_of
from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import (
    InviteYouth,
    MailToYouth,
    SayToStaff,
    SayToYouth,
    SendMail,
    Transcript,
)
from counsel_bot.core.ids import EventID, RoomID, UserID
from tests.support.case_code import (
    YOUTH,
    effects_since,
    invitation_code,
    mail_youth_invited,
    office_with_chat,
    outbox_keys,
    redeemed,
    youth_answers,
)
from tests.support.mail_office import (
    ANNA,
    AT,
    RecordingSender,
    code_mailed,
    counsellor_replies,
    perform_mails,
    plain_text,
)

YOUTH_IN_CHAT = UserID("@kim:x")


async def test_a_case_code_used_by_someone_else_is_told_to_the_youth_and_the_counsellor(
) -> None:
    """The mother reads Kim's mailbox, redeems the code before Kim, chooses mail in the
    chat with her own address. Kim, who never got into the chat, heard nothing, and Anna
    took the mother for Kim: her answers to Kim's next mail went to the mother. Now the
    code's use is mailed into Kim's thread ("if that was not you, answer this mail") and
    told to Anna; Kim's mail from the address the replies no longer go to is flagged to
    Anna before she answers it."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    sender.sent.clear()
    before = await outbox_keys(office)

    mother = UserID("@mum:x")
    await redeemed(office, mother, code)
    told = await effects_since(office, before)
    assert [e for e in told if isinstance(e, SayToStaff) and e.key == "chat.code_used_staff"
            and ("conversation", conversation) in e.params], "the counsellor was not told"
    await perform_mails(office)
    assert [m["To"] for m in sender.sent] == [YOUTH], "the youth was not told by mail"
    assert "Fall-Code" in plain_text(sender.sent[0])
    # The youth's answer is shown in the room, which the code's holder now reads too: they
    # are asked for two words, not for what happened.
    assert "nicht ich" in plain_text(sender.sent[0])
    assert "im Chat" in plain_text(sender.sent[0])
    [notice] = sender.sent

    await c.youth_wrote(room, mother, None, EventID("$h"), "hallo", AT)
    await c.youth_wrote(room, mother, None, EventID("$m"), "mail", AT)
    await c.youth_wrote(room, mother, None, EventID("$a"), "mum@home.example", AT)
    await c.youth_wrote(room, mother, None, EventID("$c"), await code_mailed(office), AT)
    sender.sent.clear()
    before = await outbox_keys(office)

    # Kim answers the notice: it was not them.
    await youth_answers(office, notice, "<notme@youth.example>", "nicht ich")
    told = await effects_since(office, before)
    assert [e for e in told if isinstance(e, SayToStaff)
            and e.key == "mail.other_address_staff"
            and ("conversation", conversation) in e.params], \
        "nobody told the counsellor that the mail's writer is not who the replies reach"


async def test_a_new_chat_invitation_voids_the_code_of_the_one_before() -> None:
    """Anna sends `!chat` again (Kim lost the first mail, or wrote that the code did not
    work). Both codes opened the room for 14 days: the first invitation, lying in a
    mailbox someone else reads or forwarded, still let its holder in. One code per
    conversation is live: the newest."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, first = await mail_youth_invited(office, sender)
    await c.staff_wrote(room, ANNA, EventID("$chat2"), "!chat", AT)
    second = await invitation_code(office)
    assert await office.mail.codes.redeem_case_code(Change(AT, None), first) is None, \
        "the earlier code still opens the room"
    assert await office.mail.codes.redeem_case_code(Change(AT, None), second) \
        == conversation


async def test_the_youths_own_use_of_the_code_leaves_their_mails_unflagged() -> None:
    """Kim redeems the code and keeps writing by mail too, from the same address the
    replies go to: no warning for the counsellor, who would learn to ignore it."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    conversation, _room, code = await mail_youth_invited(office, sender)
    await redeemed(office, UserID("@kim:x"), code)
    await perform_mails(office)
    await counsellor_replies(office, conversation, "$r1", "Schön, dass du schreibst.")
    await perform_mails(office)
    reply = sender.sent[-1]
    assert reply["To"] == YOUTH
    before = await outbox_keys(office)
    await youth_answers(office, reply, "<again@youth.example>", "Danke dir.",
                        subject="Re: Hilfe")
    told = await effects_since(office, before)
    assert not [e for e in told if isinstance(e, SayToStaff)
                and e.key == "mail.other_address_staff"]
    assert not [e for e in told if isinstance(e, MailToYouth)]


async def test_whoever_came_in_with_the_code_is_not_told_that_the_youth_mailed() -> None:
    """The mother came into the room with Kim's code and writes there. Kim mails the
    office: the room said "a mail just came in our conversation, from the address we wrote
    to before", and the mother learnt that Kim writes to the counselling behind her back.
    The counsellor alone is told, in the staff room, where the mail is."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    mother = UserID("@mum:x")
    await redeemed(office, mother, code)
    await perform_mails(office)
    [notice] = [m for m in sender.sent if "benutzt" in plain_text(m)]
    await c.youth_wrote(room, mother, None, EventID("$h"), "hallo", AT)
    before = await outbox_keys(office)
    await youth_answers(office, notice, "<notme2@youth.example>", "nicht ich")
    told = await effects_since(office, before)
    assert not [e for e in told if isinstance(e, SayToYouth)
                and e.key == "mail.came_in_chat"], "the room was told that the youth mailed"
    assert [e for e in told if isinstance(e, SayToStaff) and e.key.startswith("mail.came_in_chat")
            and ("conversation", conversation) in e.params], "the counsellor was not told"


async def test_the_transcript_for_the_counsellor_alone_holds_up_nothing_of_the_case() -> None:
    """Someone came in with the case code; Anna joins the room again (a transfer back, a
    new device): the transcript, for her alone, waits for her direct room with the bot.
    In the conversation's lane it held up every mail to the youth, every text in the room,
    until she accepted that room's invitation."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    await redeemed(office, UserID("@mum:x"), code)
    before = await outbox_keys(office)
    await c.member_joined(room, ANNA, EventID("$join"), AT)
    [transcript] = [e for e in await effects_since(office, before)
                    if isinstance(e, Transcript)]
    assert lane_of(transcript) != lane_of(SendMail(conversation, "Antwort")), \
        "the counsellor's replies wait for the transcript's direct room"


async def test_the_counsellor_learns_where_the_transcript_for_them_alone_waits() -> None:
    """Someone came in with the case code; Anna joins the room again. What Kim wrote so
    far waits for her in the bot's direct room, whose invitation she never accepted:
    nothing in the room or the staff room said so, and she counselled on without
    Kim's mails, the transcript waiting for ever."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    await redeemed(office, UserID("@mum:x"), code)
    before = await outbox_keys(office)
    await c.member_joined(room, ANNA, EventID("$join"), AT)
    told = await effects_since(office, before)
    assert [e for e in told if isinstance(e, SayToStaff) and ANNA in e.mentions
            and ("conversation", conversation) in e.params], \
        "the counsellor is not told that the transcript waits in the direct room"


async def test_the_invitation_line_pasted_whole_lets_the_youth_in() -> None:
    """The invitation mail says "Schreib dem Beratungs-Account ... diesen Fall-Code: ...":
    Kim pasted the line's end, label and all, and was queued as a new youth for a stranger
    while the code stayed unused."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    conversation, _room, code = await mail_youth_invited(office, sender)
    before = await outbox_keys(office)
    await redeemed(office, YOUTH_IN_CHAT, f"diesen Fall-Code: {code}.")
    assert [e for e in await effects_since(office, before)
            if isinstance(e, InviteYouth) and e.conversation == conversation], \
        "the pasted line was not taken for the code"
    assert await office.conductor.store.conversation_by_room(RoomID("!lobby:x")) is None
