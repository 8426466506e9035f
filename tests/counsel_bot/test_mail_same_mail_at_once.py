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

from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from homeserver_bridge.mail import InboundMail
from tests.store.conftest import AeadSealer
from tests.support.mail_office import bare_mail_channel

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
    mail = bare_mail_channel(conductor, rooms, AT, answer_after=0.01)
    await asyncio.gather(mail.deliver(MAIL), mail.deliver(MAIL))
    conversations = conductor.router.snapshot().conversations
    assert (len(conversations), len(rooms)) == (1, 1)
