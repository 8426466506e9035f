"""A takeover while mail replies are pending (PostgreSQL store, active/standby): the bot that
lost the role goes on for a few seconds before it notices (its next ping, within about 4 s),
and the new active bot sends what is pending once it has the data directory.

What the old bot sent in that time was sent again: its record of the send is a write, which
the new epoch refuses, so the new bot found the reply unsent. A reply in flight at the very
moment of the takeover stays the one repeat, as at a kill (outbox_worker.py)."""

from __future__ import annotations

import asyncio
import contextlib
from email.message import EmailMessage
from typing import Any

import pytest

from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.channels.outbox_worker import OutboxWorker
from counsel_bot.config import Settings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import Effect, SendMail, StaffDigest
from counsel_bot.core.ids import ConversationID, EventID, RoomID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import PostgresStore, StoreError
from counsel_bot.store.leadership import Leadership
from homeserver_bridge.mail import MailSettings, ReplyThread
from tests.counsel_bot.test_mail_secrets import AT
from tests.store.conftest import AeadSealer
from tests.support.postgres import PostgresServer


class Sender:
    """Records the Message-IDs the mail server accepted."""

    def __init__(self, accepted: list[str]) -> None:
        self.accepted = accepted

    async def send(self, message: EmailMessage, *, envelope_sender: str | None = None) -> None:
        self.accepted.append(str(message["Message-ID"]))


async def _bot(url: str, sealer: AeadSealer, epoch: int,
               accepted: list[str]) -> tuple[Conductor, MailChannel]:
    store = await PostgresStore.open(url, sealer)
    store.fence(epoch)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), AT)
    mail = MailChannel(conductor, None, MailSettings(), Sender(accepted),  # type: ignore[arg-type]
                       lambda: AT, _no_room, None)  # type: ignore[arg-type]
    return conductor, mail


async def _no_room() -> Any:
    raise AssertionError("no room is created here")


def _performer(conductor: Conductor, mail: MailChannel) -> Any:
    async def perform(effect: Effect | StaffDigest, key: str) -> None:
        if not isinstance(effect, SendMail):
            return  # Matrix sends: a repeat carries the same transaction id
        record = await conductor.store.conversation(effect.conversation)
        assert record is not None
        await mail.send_reply(record, effect.text, key)
    return perform


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    return postgres.new_database()


async def test_a_reply_the_former_active_bot_begins_after_the_takeover_goes_out_once(
    url: str,
) -> None:
    sealer = AeadSealer()
    first, second = Leadership(url, None), Leadership(url, None)
    accepted: list[str] = []
    old = new = None
    try:
        term = await first.acquire(asyncio.Event())
        assert term is not None
        old = await _bot(url, sealer, term.epoch, accepted)
        conductor, mail = old
        conversation: ConversationID = await mail.mail_opened(
            RoomID("!mailroom:x"), "mailto:y@example.org", "de", AT)
        await mail.replies.save_thread(conversation,
                                       ReplyThread("<first@example.org>", (), "Hallo"))
        await mail.threads.secret()  # made with the office's first mail
        change = Change(AT, EventID("$reply"))
        change.add(SendMail(conversation, "Antwort"), "mail-reply:$reply")
        await conductor.commit(change)

        # The old bot's lock session ends (its loop stalled, a network cut), a standby wins.
        await first.close()
        taken = await second.acquire(asyncio.Event())
        assert taken is not None

        # The old bot has not noticed yet and performs what is pending: it must send nothing.
        worker = OutboxWorker(_performer(conductor, mail), conductor.store, FakeClock(AT))
        with contextlib.suppress(StoreError):
            await asyncio.wait_for(worker.drain(), 10)
        assert accepted == []

        # Once it has ended, the new active bot sends the reply.
        new = await _bot(url, sealer, taken.epoch, accepted)
        worker = OutboxWorker(_performer(*new), new[0].store, FakeClock(AT))
        await asyncio.wait_for(worker.drain(), 10)
        assert len(accepted) == 1
        assert await new[0].store.pending_outbox() == []
    finally:
        for bot in (old, new):
            if bot is not None:
                await bot[0].store.close()
        await first.close()
        await second.close()


