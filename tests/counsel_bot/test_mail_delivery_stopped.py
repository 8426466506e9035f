"""An inbound mail is made durable in more than one write
(`MailChannel.deliver`: a new room, the conversation with its staff notice, then the mail
itself). A stop or crash after the conversation's commit answers the sender's server with
no 250 (or a 451); it delivers the same mail again. The thread keys were written after the
conversation, one by one (an outside review of stops found it): the retry found no
thread and opened a second room and conversation (staff told twice, the youth twice in
the queue, one of the two empty). They
are now in the conversation's own commit.

The bot's runner closes the store right after `InboundServer.stop()`, which on Python 3.11
does not wait for a delivery in progress (`asyncio.Server.wait_closed` returns at once
there), so a graceful stop can land exactly there too. Memory store, no SMTP, no server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from counsel_bot.config import Settings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore, StoreError
from homeserver_bridge.mail import InboundMail
from tests.store.conftest import AeadSealer
from tests.support.mail_office import bare_mail_channel

AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
MAIL = InboundMail(
    message_id="<first@example.org>", in_reply_to=None, references=(),
    subject="Hilfe", from_address="sunflower@example.org",
    reply_address="sunflower@example.org", text="Ich weiss nicht weiter.", attachments=(),
)


async def test_a_mail_delivered_again_after_a_stop_mid_delivery_opens_one_conversation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore(AeadSealer())
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), AT)
    rooms: list[str] = []
    mail = bare_mail_channel(conductor, rooms, AT)
    real_commit = conductor.commit

    async def stopped_after(change: Any) -> bool:
        done = await real_commit(change)
        if change.new:  # the process stops right after the conversation's commit
            raise StoreError("the process stopped here (store closed under the delivery)")
        return done

    monkeypatch.setattr(conductor, "commit", stopped_after)
    with pytest.raises(StoreError):
        await mail.deliver(MAIL)  # the SMTP handler answers 451: the sender retries
    monkeypatch.setattr(conductor, "commit", real_commit)
    await mail.deliver(MAIL)  # the retry, after the next start

    conversations = [c.conversation for c in conductor.router.snapshot().conversations]
    notices = [e.key for e in map(decode_effect, [x.payload for x in await store.pending_outbox()])
               if isinstance(e, SayToStaff) and e.key == "staff_new_mail"]
    assert (len(conversations), len(rooms), len(notices)) == (1, 1, 1), (
        f"{len(conversations)} conversations, {len(rooms)} rooms, {len(notices)} staff notices "
        "for one mail")
