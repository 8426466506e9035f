"""`!chat end`: the counsellor removes whoever came into a mail youth's room with the case
code. The real conductor, mail channel and executor on a store; no homeserver (the removal
itself: `test_mail_case_code_private_e2e.py`)."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.core import mail_address_proof as proof
from counsel_bot.core.effects import EndChat, MailCode, PostText, SayInRoom, SayToStaff
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.messages import text
from tests.support.case_code import (
    YOUTH,
    came_in,
    came_in_told,
    effects_since,
    invitation_code,
    mail_youth_invited,
    office_with_chat,
    outbox_keys,
    youth_answers,
)
from tests.support.mail_office import (
    ANNA,
    AT,
    RecordingSender,
    code_mailed,
    counsellor_replies,
    perform_mails,
)


async def test_the_counsellor_removes_whoever_came_in_with_the_case_code() -> None:
    """Kim answers the code's notice: "nicht ich". Anna reads it and knows the person in
    the room is not Kim, but nothing let her remove them: the bot alone may remove anyone
    from a counselling room, and the holder read on. `!chat end` removes whoever came in
    with the code, voids the code and takes the case back to mail."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    await came_in(office, UserID("@mum:x"), room, code)
    before = await outbox_keys(office)
    await c.staff_wrote(room, ANNA, EventID("$end"), "!chat end", AT)
    done = await effects_since(office, before)
    assert [e for e in done if isinstance(e, EndChat) and e.conversation == conversation], \
        "nobody is removed from the room"
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.channel.value == "mail", "the counsellor's answers stay in the room"
    record = await c.store.conversation(conversation)
    assert record is not None
    assert record.channel.value == "mail"


async def test_after_chat_end_the_replies_go_back_to_the_youths_own_address() -> None:
    """The mother came in with Kim's code, chose mail in the chat and proved her own
    address. Kim answers the code's notice, "nicht ich"; Anna sends `!chat end`: the
    mother leaves the room, the case goes on by mail, but to the address the mother
    proved. Anna's answer to Kim ("Ich schreibe dir, nur dir") went to the mother."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    mother = UserID("@mum:x")
    notice = await came_in_told(office, sender, mother, room, code)
    await c.youth_wrote(room, mother, None, EventID("$m"), "mail", AT)
    await c.youth_wrote(room, mother, None, EventID("$a"), "mum@home.example", AT)
    await c.youth_wrote(room, mother, None, EventID("$c"), await code_mailed(office), AT)
    await perform_mails(office)
    await youth_answers(office, notice, "<notme@youth.example>", "nicht ich")

    await c.staff_wrote(room, ANNA, EventID("$end"), "!chat end", AT)
    sender.sent.clear()
    await counsellor_replies(office, conversation, "$r", "Ich schreibe dir, nur dir.")
    await perform_mails(office)
    assert [m["To"] for m in sender.sent] == [YOUTH], \
        "the counsellor's answer went to the address the code's holder proved"


async def test_the_code_holder_cannot_use_up_the_youths_address_codes() -> None:
    """The mother came in with Kim's code and typed addresses in the chat until no more
    code mails were sent (ten per conversation). Anna removes her (`!chat end`) and
    invites Kim again; Kim, in the chat on a new phone, wants the answers at a new address
    the mother does not read: "I will not send any more codes". The conversation's codes
    were used up by someone Anna had removed as not the youth."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    mother = UserID("@mum:x")
    await came_in(office, mother, room, code)
    for hour in range(4):
        at = AT + timedelta(hours=2 * hour, minutes=1)
        await c.youth_wrote(room, mother, None, EventID(f"$m{hour}"), "mail", at)
        for n in range(3):
            await c.youth_wrote(room, mother, None, EventID(f"$a{hour}-{n}"),
                                f"mum{n}@home.example", at)
        await perform_mails(office, at)
    assert await c.store.get_setting(proof.codes_key(conversation)) == \
        str(proof.MAX_CODES_IN_ALL)

    later = AT + timedelta(hours=9)
    await c.staff_wrote(room, ANNA, EventID("$end"), "!chat end", later)
    await c.staff_wrote(room, ANNA, EventID("$chat2"), "!chat", later)
    second = await invitation_code(office)
    await perform_mails(office, later)
    kim = UserID("@kim-new:x")
    await c.youth_wrote(RoomID("!lobby2:x"), kim, None, EventID("$code2"), second, later)
    await c.youth_wrote(room, kim, None, EventID("$k1"), "Ich bin es, Kim.", later)
    await c.youth_wrote(room, kim, None, EventID("$k2"), "mail", later)
    before = await outbox_keys(office)
    await c.youth_wrote(room, kim, None, EventID("$k3"), "kim.neu@youth.example", later)
    new = await effects_since(office, before)
    assert [e for e in new if isinstance(e, MailCode) and e.address == "kim.neu@youth.example"], \
        f"no code for the youth's new address: {[getattr(e, 'key', e) for e in new]}"


async def test_after_chat_end_the_counsellor_learns_of_each_mail_outside_the_direct_room(
) -> None:
    """After `!chat end` the case is on mail, and Kim's mails still reach Anna alone, in
    the bot's direct room with her: nothing of them in the conversation's room, where she
    answers, and not a word in the staff room. Anna, who never accepted that room's
    invitation, or does not look there, waited for an answer that had long come (and
    the mail waited there for ever)."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    mother = UserID("@mum:x")
    notice = await came_in_told(office, sender, mother, room, code)
    await c.staff_wrote(room, ANNA, EventID("$end"), "!chat end", AT)
    before = await outbox_keys(office)
    await youth_answers(office, notice, "<after@youth.example>", "Danke, jetzt bin ich es.")
    new = await effects_since(office, before)
    assert [e for e in new if isinstance(e, PostText) and e.to == ANNA], \
        "the mail is not for the counsellor alone"
    assert [e for e in new if isinstance(e, SayToStaff) and ANNA in e.mentions
            and ("conversation", conversation) in e.params], \
        "the counsellor is not told that a mail waits for her in the direct room"


async def test_the_code_holders_last_words_before_the_removal_keep_the_case_on_mail() -> None:
    """Anna sends `!chat end` while the mother is typing: her "warte!" comes in the same
    sync batch, before the bot has removed her. It took the case back to the chat; the
    mother was removed moments later, and the case stayed in a chat nobody was in: Anna's
    answers in the room reached no one, and Kim's mails waited for "mail" to be chosen
    in that empty chat. Whoever the youth invites in again with a new code does bring
    the case to the chat."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    conversation, room, code = await mail_youth_invited(office, sender)
    mother = UserID("@mum:x")
    await came_in(office, mother, room, code)
    await c.staff_wrote(room, ANNA, EventID("$end"), "!chat end", AT)
    await c.youth_wrote(room, mother, None, EventID("$late"), "warte!", AT)
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.channel.value == "mail", \
        "the removed code holder's last words took the case back to the chat"

    await c.staff_wrote(room, ANNA, EventID("$chat2"), "!chat", AT)
    second = await invitation_code(office)
    kim = UserID("@kim-new:x")
    await c.youth_wrote(RoomID("!lobby2:x"), kim, None, EventID("$code2"), second, AT)
    await c.youth_wrote(room, kim, None, EventID("$k"), "Ich bin es, Kim.", AT)
    current = c.router.conversation(conversation)
    assert current is not None
    assert current.channel.value == "chat", "the youth invited again is not in the chat"


async def test_a_youth_who_lost_the_chat_can_be_invited_again() -> None:
    """Kim came into the chat with the case code; her phone is lost. She mails: "Mein
    Handy ist weg, kann ich wieder in den Chat?" Anna sends `!chat` in the room and reads
    "`!chat` works only in a mail conversation's room", in the room of Kim's mail
    conversation: nothing told her that the case must first go back to mail with `!chat
    end` (which also removes the lost phone's account from the room)."""
    sender = RecordingSender()
    office = await office_with_chat(sender)
    c = office.conductor
    _conversation, room, code = await mail_youth_invited(office, sender)
    kim = UserID("@kim:x")
    await came_in(office, kim, room, code)
    before = await outbox_keys(office)
    await c.staff_wrote(room, ANNA, EventID("$chat2"), "!chat", AT)
    said = await effects_since(office, before)
    [answer] = [e for e in said if isinstance(e, SayInRoom | SayToStaff)
                and ANNA in (e.to if isinstance(e, SayInRoom) else e.mentions)]
    assert "!chat end" in text(answer.key, "de"), text(answer.key, "de")
