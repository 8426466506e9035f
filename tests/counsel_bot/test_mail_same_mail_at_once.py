"""The same new mail delivered twice at the same moment opens one conversation. A youth who
writes to two of the office's addresses at once (To: and Cc:), or a sending server that
retries on a second connection while the first is still being handled, hands the bot two
copies in parallel. Both looked for the thread before either had written it, and each
opened a room: the staff told twice, the youth twice in the queue (a suspicion of the mail
review). Deliveries are now taken one at a time.

Memory store, no SMTP, no server: the room creation yields, as the homeserver's answer
does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from nio import RoomCreateResponse

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.opening_hours import OpeningHours
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import InboundMail, MailSettings
from tests.store.conftest import AeadSealer

AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
MAIL = InboundMail(
    message_id="<twice@example.org>", in_reply_to=None, references=(),
    subject="Hilfe", from_address="sunflower@example.org",
    reply_address="sunflower@example.org", text="Ich weiss nicht weiter.", attachments=(),
)


async def test_two_copies_of_a_new_mail_at_once_open_one_conversation() -> None:
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), AT)
    rooms: list[str] = []

    async def create_room() -> Any:
        await asyncio.sleep(0.01)  # the homeserver answers later
        rooms.append(f"!mail{len(rooms)}:x")
        return RoomCreateResponse(rooms[-1])

    mail = MailChannel(conductor, None, MailSettings(), None,  # type: ignore[arg-type]
                       lambda: AT, create_room,
                       MailDeadlines(OpeningHours.from_dict({"timezone": "Europe/Berlin"})))
    await asyncio.gather(mail.deliver(MAIL), mail.deliver(MAIL))
    conversations = conductor.router.snapshot().conversations
    assert (len(conversations), len(rooms)) == (1, 1)
