"""An office with mail on a real store and no homeserver: the real conductor, mail channel
and executor, Anna on duty, rooms made up, mails kept by a recording sender (or sent through
a real `MailSender`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from nio import RoomCreateResponse

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.appointments import AppointmentSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import MailCode, MailToYouth, SendMail, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.core.routing.model import CrisisStatus
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import SqliteStore, Store
from e2e.vault import Vault
from homeserver_bridge.mail import MailSettings, start_inbound

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ANNA = UserID("@anna:x")
OFFICE = "beratung@counsel.example"


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage, *, envelope_sender: str | None = None) -> None:
        self.sent.append(message)


@dataclass
class Office:
    conductor: Conductor
    mail: MailChannel
    executor: Executor
    rooms: list[str]


async def office_on(store: Store, sender: Any, at: datetime = AT,
                    appointments: AppointmentSettings | None = None) -> Office:
    """A conductor with Anna on duty, its mail channel and executor, on `store`; with
    ``appointments``, the office books them (in person, at its address)."""
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA),))))
    if appointments is not None:
        policy = replace(policy, appointments=appointments)
    conductor = await Conductor.open(store, detector, policy, at)
    await conductor.sync_roster(at)
    await conductor.staff_wrote(RoomID("!staff:x"), ANNA, EventID("$duty"), "!duty on", at)
    rooms: list[str] = []

    async def create_room() -> Any:
        rooms.append(f"!mail{len(rooms)}:x")
        return RoomCreateResponse(rooms[-1])

    settings = Settings()
    deadlines = MailDeadlines(OpeningHours.from_dict(settings.opening_hours.as_dict()),
                              settings.mail_deadline)
    mail = MailChannel(conductor, None, MailSettings(office_address=OFFICE),  # type: ignore[arg-type]
                       sender, lambda: at, create_room, deadlines)
    conductor.mail_switch = mail.codes.propose_address
    conductor.mail_code = mail.codes.confirm_code
    executor = Executor(None, store, FakeClock(at),  # type: ignore[arg-type]
                        default_language="de", staff_room=_no_staff_room)
    executor.mail = mail
    return Office(conductor, mail, executor, rooms)


async def _no_staff_room() -> RoomID | None:
    return None


async def switched_chat_youth(office: Office, address: str, anna_says: str = "",
                              at: datetime = AT) -> ConversationID:
    """A chat youth, assigned to Anna (who answers `anna_says` in the chat first, if
    given), who types `mail` and then `address`."""
    room, youth = RoomID("!chat:x"), UserID("@kim:x")
    c = office.conductor
    await c.youth_wrote(room, youth, "Kim", EventID("$1"), "Hallo, ich brauche Hilfe", at)
    if anna_says:
        await c.staff_wrote(room, ANNA, EventID("$anna"), anna_says, at)
    await c.youth_wrote(room, youth, "Kim", EventID("$2"), "mail", at)
    await c.youth_wrote(room, youth, "Kim", EventID("$3"), address, at)
    await c.youth_wrote(room, youth, "Kim", EventID("$code"), await code_mailed(office, at), at)
    record = await c.store.conversation_by_room(room)
    assert record is not None
    current = c.router.conversation(record.conversation)
    assert current is not None
    assert current.channel.value == "mail", "switched to mail"
    assert current.assigned_to == ANNA
    return record.conversation


async def code_mailed(office: Office, at: datetime = AT) -> str:
    """The code of the proof mail the office sent last (`core.mail_address_proof`), as the
    outbox worker would send it, and marked done."""
    store = office.conductor.store
    for entry in await store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, MailCode):
            await store.mark_outbox_done([entry.key], at=at)
            code = effect.code
    return code


async def counsellor_replies(office: Office, conversation: ConversationID, event: str,
                             body: str, at: datetime = AT) -> None:
    record = await office.conductor.store.conversation(conversation)
    assert record is not None
    await office.mail.counsellor_wrote(record, ANNA, EventID(event), body, at)


async def perform_mails(office: Office, at: datetime = AT) -> None:
    """Perform the pending mail effects as the outbox worker would, and mark them done."""
    store = office.conductor.store
    for entry in await store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, SendMail | MailToYouth | MailCode):
            await office.executor.perform(effect, entry.key)
            await store.mark_outbox_done([entry.key], at=at)


def plain_text(message: EmailMessage) -> str:
    """A sent mail's plain-text part."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def bare_mail_channel(conductor: Conductor, rooms: list[str], at: datetime,
                      *, answer_after: float = 0.0) -> MailChannel:
    """A mail channel with no sender and no homeserver: each room it asks for is made up
    and listed in ``rooms`` (after ``answer_after`` seconds, as a homeserver answers)."""
    async def create_room() -> Any:
        if answer_after:
            await asyncio.sleep(answer_after)
        rooms.append(f"!mail{len(rooms)}:x")
        return RoomCreateResponse(rooms[-1])

    hours = OpeningHours.from_dict({"timezone": "Europe/Berlin"})
    return MailChannel(conductor, None, MailSettings(), None,  # type: ignore[arg-type]
                       lambda: at, create_room, MailDeadlines(hours))


async def read_by_office(tmp: Path, message: EmailMessage | bytes) -> tuple[CrisisStatus, str]:
    """``message`` sent by a youth to the office's real SMTP server (a real store under
    ``tmp``): the crisis status of the conversation it opened, and what the counsellor
    reads of it."""
    store = await SqliteStore.open(tmp / "counsel.db",
                                   Vault.create(tmp / "vault.json", "pass phrase here"))
    office = await office_on(store, RecordingSender())
    server = await start_inbound(
        MailSettings(enabled=True, listen_port=0, office_address=OFFICE,
                     smtp_host="127.0.0.1", smtp_starttls=False),
        office.mail, now=lambda: AT)
    try:
        await asyncio.wait_for(aiosmtplib.send(
            message, hostname="127.0.0.1", port=server.port, start_tls=False,
            sender="sunflower@youth.example", recipients=[OFFICE]), 30)
        [conversation] = office.conductor.router.snapshot().conversations
        [item] = await office.conductor.store.read_intake(conversation.conversation)
        return conversation.crisis, item.body.decode()
    finally:
        await server.stop()
        await store.close()


def to_office(subject: str, message_id: str, words: str) -> EmailMessage:
    """A youth's mail to the office."""
    message = EmailMessage()
    message["From"] = "sunflower@youth.example"
    message["To"] = OFFICE
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(words)
    return message
