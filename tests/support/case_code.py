"""A mail youth invited to the chat with a case code (`!chat`), on the office of
`tests.support.mail_office` (no homeserver): the office with the chat's links, the youth
invited, whoever comes in with the code, the youth's answers by mail, and what the bot
does in response to each."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage

from counsel_bot.channels.mail.codes import ChatLink
from counsel_bot.core.effects import Effect, SendMail, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import InboundMail
from tests.store.conftest import AeadSealer
from tests.support.mail_office import (
    ANNA,
    AT,
    Office,
    RecordingSender,
    office_on,
    perform_mails,
    plain_text,
)

YOUTH = "kim.m@youth.example"
CASE_CODE = re.compile(r"\b([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\b")


async def office_with_chat(sender: RecordingSender) -> Office:
    office = await office_on(MemoryStore(AeadSealer()), sender)

    async def token(_expires: datetime) -> str:
        return "registration-token"

    office.mail.chat_link = ChatLink("https://counsel.example", "@bot:x", token)
    office.conductor.chat_invite = office.mail.codes.invite_to_chat
    office.conductor.chat_end = office.mail.codes.end_chat
    office.conductor.redeem_case_code = office.mail.codes.redeem_case_code
    return office


async def mail_youth_invited(office: Office, sender: RecordingSender,
                             ) -> tuple[ConversationID, RoomID, str]:
    """Kim writes to the office, Anna takes it and sends `!chat`: the conversation, its
    room and the case code the invitation mail carries (all mails performed)."""
    await office.mail.deliver(InboundMail(
        message_id="<first@youth.example>", in_reply_to=None, references=(),
        subject="Hilfe", from_address=YOUTH, reply_address=YOUTH,
        text="Ich brauche Hilfe, zu Hause ist es schlimm.", attachments=()))
    [room] = office.rooms
    record = await office.conductor.store.conversation_by_room(RoomID(room))
    assert record is not None
    await office.conductor.staff_wrote(RoomID(room), ANNA, EventID("$chat"), "!chat", AT)
    code = await invitation_code(office)
    await perform_mails(office)
    return record.conversation, RoomID(room), code


async def invitation_code(office: Office) -> str:
    """The case code of the one chat invitation mail waiting to be sent."""
    mails = [decode_effect(e.payload) for e in await office.conductor.store.pending_outbox()]
    [invitation] = [e for e in mails if isinstance(e, SendMail)]
    code = CASE_CODE.search(invitation.text)
    assert code is not None, invitation.text
    return code.group(1)


async def redeemed(office: Office, holder: UserID, code: str) -> None:
    """``holder`` redeems ``code`` in a room of their own."""
    await office.conductor.youth_wrote(RoomID("!lobby:x"), holder, None, EventID("$code"),
                                       code, AT)


async def came_in(office: Office, holder: UserID, room: RoomID, code: str) -> None:
    """``holder`` redeems ``code`` and says "hallo" in the room it let them into."""
    await redeemed(office, holder, code)
    await office.conductor.youth_wrote(room, holder, None, EventID("$h"), "hallo", AT)


async def came_in_told(office: Office, sender: RecordingSender, holder: UserID, room: RoomID,
                       code: str) -> EmailMessage:
    """`came_in`, the mails performed between: the mail that tells the youth their code was
    used (the one they answer "nicht ich")."""
    await redeemed(office, holder, code)
    await perform_mails(office)
    [notice] = [m for m in sender.sent if "benutzt" in plain_text(m)]
    await office.conductor.youth_wrote(room, holder, None, EventID("$h"), "hallo", AT)
    return notice


async def youth_answers(office: Office, mail: EmailMessage, message_id: str, words: str,
                        subject: str = "Re: Fall-Code") -> None:
    """Kim answers ``mail`` from their address."""
    await office.mail.deliver(InboundMail(
        message_id=message_id, in_reply_to=str(mail["Message-ID"]),
        references=(str(mail["Message-ID"]),), subject=subject,
        from_address=YOUTH, reply_address=YOUTH, text=words, attachments=()))


async def outbox_keys(office: Office) -> set[str]:
    """What waits in the outbox now, to tell what comes after (`effects_since`)."""
    return {e.key for e in await office.conductor.store.pending_outbox()}


async def effects_since(office: Office, before: set[str]) -> list[Effect]:
    """What the bot is to do that was not waiting at ``before``."""
    return [decode_effect(e.payload) for e in await office.conductor.store.pending_outbox()
            if e.key not in before]
