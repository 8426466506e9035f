"""Appointments of a mail youth through the real mail channel and executor on a real SQLite
store, with a recording sender instead of SMTP: crash repeats, retried mails, at rest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import MailToYouth, decode_effect
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.core.video import VideoSettings
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import SqliteStore
from homeserver_bridge.mail import MailSettings
from tests.store.conftest import AeadSealer
from tests.support.mail_office import RecordingSender, plain_text

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ANNA = UserID("@anna:x")
ADDRESS = "kim-canary@youth.example"


async def _no_room() -> Any:
    raise AssertionError("no room is created here")


async def mail_office(path: Path) -> tuple[Conductor, MailChannel, Executor, RecordingSender]:
    store = await SqliteStore.open(path, AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    policy = policy_from(Settings(staff=StaffSettings(counsellors=(str(ANNA),)),
                                  video=VideoSettings(base_url="https://meet.x")))
    conductor = await Conductor.open(store, detector, policy, AT)
    await conductor.sync_roster(AT)
    await conductor.staff_wrote(RoomID("!staff:x"), ANNA, EventID("$duty"), "!duty on", AT)
    sender = RecordingSender()
    mail = MailChannel(conductor, None, MailSettings(  # type: ignore[arg-type]
        office_address="beratung@counsel.example"), sender,
        lambda: AT, _no_room, None)  # type: ignore[arg-type]
    conductor.mail_switch = mail.switch_to_mail
    executor = Executor(None, store, FakeClock(AT),  # type: ignore[arg-type]
                        default_language="de", staff_room=_no_staff_room)
    executor.mail = mail
    return conductor, mail, executor, sender


async def _no_staff_room() -> RoomID | None:
    return None


async def perform_mails(conductor: Conductor, executor: Executor) -> list[str]:
    """Perform the pending mails (as the outbox worker would), without marking them done."""
    keys = []
    for entry in await conductor.store.pending_outbox():
        effect = decode_effect(entry.payload)
        if isinstance(effect, MailToYouth):
            await executor.perform(effect, entry.key)
            keys.append(entry.key)
    return keys


async def test_a_repeated_mail_effect_and_a_retried_answer_send_one_mail_each(
    tmp_path: Path
) -> None:
    conductor, mail, executor, sender = await mail_office(tmp_path / "counsel.db")
    conversation = await mail.mail_opened(RoomID("!mail:x"), f"mailto:{ADDRESS}", "de", AT)
    await mail.mail_received(conversation, EventID("mail:1"), "✉ Hallo\n\nHallo", AT,
                             written="Hallo")
    assert conductor.router.conversation(conversation).assigned_to == ANNA  # type: ignore[union-attr]
    await mail.replies.save_thread(conversation, _thread())
    await conductor.staff_wrote(RoomID("!staff:x"), ANNA, EventID("$a"),
                                f"!appointment {conversation} 2026-12-10 16:00 45min video", AT)
    await perform_mails(conductor, executor)
    [proposal] = sender.sent
    assert "Videogespräch" in plain_text(proposal)

    # The youth's "ja" arrives twice (an SMTP retry: the same Message-ID, so the same id).
    for _ in range(2):
        await mail.mail_received(conversation, EventID("mail:2"), "✉ Re\n\nJa, gerne!", AT,
                                 written="Ja, gerne!\n\n> Passt das?")
    # A crash after the send and before the done mark performs the same effects again.
    await perform_mails(conductor, executor)
    await perform_mails(conductor, executor)
    assert len(sender.sent) == 2, "one confirmation, once"
    confirmation = sender.sent[1]
    [ics] = [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    assert b"DTSTART:20261210T150000Z" in ics.get_payload(decode=True)

    # At rest: the address, the texts and the file only sealed.
    await conductor.store.close()  # type: ignore[attr-defined]
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        for secret in (ADDRESS.encode(), b"BEGIN:VCALENDAR", "Videogespräch".encode(),
                       b"Ja, gerne"):
            assert secret not in data, f"{secret!r} in {path.name}"


def _thread() -> Any:
    from homeserver_bridge.mail import ReplyThread

    return ReplyThread("<k1@youth.example>", (), "Hallo")




async def test_a_mail_youths_crisis_sends_the_emergency_numbers_by_mail(tmp_path: Path) -> None:
    """The youth of a mail conversation is not in its Matrix room: a notice there would
    never reach them (the audit's finding 5). The numbers go in their thread."""
    conductor, mail, executor, sender = await mail_office(tmp_path / "counsel.db")
    try:
        conversation = await mail.mail_opened(RoomID("!mail:x"), f"mailto:{ADDRESS}", "de",
                                              AT)
        await mail.replies.save_thread(conversation, _thread())
        await mail.mail_received(conversation, EventID("mail:1"),
                                 "✉ Hilfe\n\nich will nicht mehr leben", AT,
                                 written="ich will nicht mehr leben")
        current = conductor.router.conversation(conversation)
        assert current is not None
        assert current.crisis.value == "raised"
        await perform_mails(conductor, executor)
    finally:
        await conductor.store.close()  # type: ignore[attr-defined]
    [safety] = sender.sent
    assert "116 111" in plain_text(safety)
    assert plain_text(safety).startswith("Danke, dass du das erzählst")
