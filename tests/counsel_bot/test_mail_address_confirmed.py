"""A chat youth who continues by mail proves the address is theirs before any counselling
goes there: a mistyped address ("gmial.com", a domain typosquatters register) or somebody
else's would otherwise receive a minor's counselling, and the stranger's answers would be
posted into the youth's room. The youth gets a code by mail and types it in the chat."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from counsel_bot.core import mail_address_proof as proof
from counsel_bot.core.effects import SayToYouth, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer
from tests.support.mail_office import (
    AT,
    Office,
    RecordingSender,
    counsellor_replies,
    office_on,
    perform_mails,
    plain_text,
)

ROOM, YOUTH = RoomID("!chat:x"), UserID("@kim:x")


async def asked_for_mail(office: Office) -> None:
    c = office.conductor
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$1"), "Hallo, ich brauche Hilfe", AT)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$2"), "mail", AT)


async def told(office: Office) -> list[str]:
    return [e.key for e in (decode_effect(o.payload)
                            for o in await office.conductor.store.pending_outbox())
            if isinstance(e, SayToYouth)]


async def channel(office: Office) -> str:
    record = await office.conductor.store.conversation_by_room(ROOM)
    assert record is not None
    current = office.conductor.router.conversation(record.conversation)
    assert current is not None
    return current.channel.value


async def code_sent(address: str = "kim@youth.example") -> tuple[Office, RecordingSender]:
    """A chat youth asked for their address, who typed ``address``; its code mail sent."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    await asked_for_mail(office)
    await office.conductor.youth_wrote(ROOM, YOUTH, "Kim", EventID("$3"), address, AT)
    await perform_mails(office)
    return office, sender


def code_in(sender: RecordingSender, n: int = -1) -> str:
    found = re.search(r"\b(\d{6})\b", plain_text(sender.sent[n]))
    assert found is not None, "no code in the mail"
    return found[1]


async def test_the_address_takes_counselling_only_once_its_code_is_typed_back() -> None:
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    await asked_for_mail(office)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$3"), "kim@youth.example", AT)
    assert await channel(office) == "chat"
    assert "mail.code_sent" in await told(office)
    await perform_mails(office)
    [mail] = sender.sent
    assert mail["To"] == "kim@youth.example"
    assert "Hilfe" not in plain_text(mail), "no counselling before the address is proven"
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    await counsellor_replies(office, record.conversation, "$anna", "Wie geht es dir?")
    await perform_mails(office)
    assert len(sender.sent) == 1, "a counsellor's words went to an unproven address"
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$4"), code_in(sender), AT)
    assert await channel(office) == "mail"
    assert "channel.mail" in await told(office)


async def test_a_wrong_code_keeps_the_chat_and_says_so() -> None:
    office, sender = await code_sent()
    c = office.conductor
    wrong = "000000" if code_in(sender) != "000000" else "111111"
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$4"), wrong, AT)
    assert await channel(office) == "chat"
    assert "mail.code_wrong" in await told(office)


async def test_five_wrong_codes_end_the_attempt() -> None:
    office, sender = await code_sent()
    c = office.conductor
    code = code_in(sender)
    for n in range(5):
        guess = f"{(int(code) + 1 + n) % 1_000_000:06d}"
        await c.youth_wrote(ROOM, YOUTH, "Kim", EventID(f"$g{n}"), guess, AT)
    assert "mail.code_given_up" in await told(office)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$5"), code, AT)
    assert await channel(office) == "chat", "the right code after five wrong ones"


async def test_a_new_address_gets_a_new_code_and_the_old_one_is_void() -> None:
    office, sender = await code_sent("kim@gmial.com")
    c = office.conductor
    first = code_in(sender)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$4"), "kim@gmail.com", AT)
    await perform_mails(office)
    assert [m["To"] for m in sender.sent] == ["kim@gmial.com", "kim@gmail.com"]
    second = code_in(sender)
    if first != second:
        await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$5"), first, AT)
        assert await channel(office) == "chat"
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$6"), second, AT)
    assert await channel(office) == "mail"
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    await counsellor_replies(office, record.conversation, "$anna", "Wie geht es dir?")
    await perform_mails(office)
    assert sender.sent[-1]["To"] == "kim@gmail.com"


async def test_a_code_is_good_for_an_hour() -> None:
    office, sender = await code_sent()
    c = office.conductor
    late = AT + timedelta(hours=1, minutes=1)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$4"), code_in(sender), late)
    assert await channel(office) == "chat"
    assert "mail.code_expired" in await told(office)


async def test_codes_to_an_address_are_not_sent_without_end() -> None:
    """Each address typed sends a code mail, and a new one starts five new tries: a hostile
    youth who types a classmate's address again and again has the office send mail after
    mail there (a stranger harassed in the office's name, the office's mail taken for
    spam, and counselling mail with it). A few codes an hour, then the youth is told to
    use the last one."""
    office, sender = await code_sent("classmate@school.example")
    c = office.conductor
    for n in range(20):
        for g in range(5):
            await c.youth_wrote(ROOM, YOUTH, "Kim", EventID(f"$w{n}-{g}"), "000000", AT)
        await c.youth_wrote(ROOM, YOUTH, "Kim", EventID(f"$a{n}"),
                            "classmate@school.example", AT)
    await perform_mails(office)
    assert len(sender.sent) <= 3, f"{len(sender.sent)} code mails to one stranger"
    assert "mail.code_too_many" in await told(office)
    later = AT + timedelta(hours=1, minutes=1)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$later"), "kim@youth.example", later)
    await perform_mails(office)
    assert sender.sent[-1]["To"] == "kim@youth.example", "an hour later a code goes again"


@pytest.mark.parametrize("typed", ["١٢٣٤٥٦", "۱۲۳ ۴۵۶", "１２３４５６"])
def test_a_code_typed_with_another_scripts_digits_is_the_code(typed: str) -> None:
    """A youth whose keyboard writes Arabic, Persian or full-width digits types the code
    they see in the mail: it is that code, not a wrong one (five of those and the youth
    could never continue by mail)."""
    pending = proof.PendingAddress("kim@youth.example", "123456", AT + timedelta(hours=1))
    found = proof.typed_code(typed)
    assert found is not None
    assert proof.check(pending, found, AT)[0] is proof.Outcome.PROVEN


async def test_an_address_written_days_after_the_mail_question_is_a_message_not_a_switch(
) -> None:
    """"mail" asks for the address, "otherwise just keep writing": a youth who kept writing
    in the chat and days later answers the counsellor's question with someone else's
    address (a teacher's, the person who threatens them) must not have the office mail
    that person a code "for online counselling", and the counsellor must read the answer
    in the transcript."""
    sender = RecordingSender()
    office = await office_on(MemoryStore(AeadSealer()), sender)
    c = office.conductor
    await asked_for_mail(office)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$3"), "nee, doch lieber hier", AT)
    later = AT + timedelta(days=3)
    await c.youth_wrote(ROOM, YOUTH, "Kim", EventID("$4"), "frau.meier@schule.example", later)
    await perform_mails(office, later)
    assert [m["To"] for m in sender.sent] == [], "a code mail went to a third person"
    assert "mail.code_sent" not in await told(office)
    record = await c.store.conversation_by_room(ROOM)
    assert record is not None
    intake = [item.body for item in await c.store.read_intake(record.conversation)]
    assert b"frau.meier@schule.example" in intake, "the youth's answer was not kept"


async def test_codes_and_guesses_end_for_the_conversation() -> None:
    """Three codes an hour, five tries each: fifteen guesses at a six-digit code every hour,
    for as long as the conversation lasts (a year's nights: one chance in eight to switch
    to an address the youth does not read, and a code mail to a stranger every twenty
    minutes). The codes of a conversation have an end, and so have the guesses; the youth
    is told that the chat goes on."""
    office, sender = await code_sent("classmate@school.example")
    c = office.conductor
    for hour in range(24):
        at = AT + timedelta(hours=hour, minutes=1)
        for n in range(3):
            await c.youth_wrote(ROOM, YOUTH, "Kim", EventID(f"$a{hour}-{n}"),
                                "classmate@school.example", at)
            for g in range(5):
                await c.youth_wrote(ROOM, YOUTH, "Kim", EventID(f"$w{hour}-{n}-{g}"),
                                    "000000", at)
        await perform_mails(office, at)
    # At most fifty guesses in all: one chance in 20,000.
    assert len(sender.sent) * proof.MAX_TRIES <= 50, \
        f"{len(sender.sent)} code mails in one conversation"
    assert "mail.code_no_more" in await told(office)
    assert await channel(office) == "chat"
