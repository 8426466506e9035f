"""Delivery reports on the office's replies: a reply the relay took and the youth's provider
returned later (a mistyped address, a full mailbox) is told in the conversation's room."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from counsel_bot.channels.mail.errors import MailUndeliverable
from counsel_bot.channels.mail.thread_index import ThreadIndex
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import ConversationID
from homeserver_bridge.mail import InboundMail


class DeliveryReports:
    """One per mail channel (`MailChannel.reports`)."""

    def __init__(self, conductor: Conductor, threads: ThreadIndex,
                 now: Callable[[], datetime]) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.threads = threads
        self.now = now

    async def returned(self, report: InboundMail) -> None:
        """A delivery report on a reply of the office: the relay took it, the youth's
        provider returned it later (a mistyped address, a full mailbox). Told in the room
        as a refusal at sending is, so the counsellor does not wait on a reply never read
        and a chat youth can give another address. Only for the reply's own recipient:
        its Message-ID is drawn under the secret, so nobody else can name it."""
        failure = report.failure
        if failure is None:
            return
        for address in failure.recipients:
            found = await self.store.get_setting(
                await self.threads.setting(address, failure.message_id))
            if found:
                break
        else:
            return
        event_id = await self.threads.event_id(report)
        async with self.conductor.steps.held():
            record = await self.store.conversation(ConversationID(found))
            if record is None or record.closed_at is not None \
                    or await self.store.is_processed(event_id):
                return
            change = Change(self.now(), event_id)
            change.add(SayToYouth(record.conversation, MailUndeliverable.text_key),
                       f"mail-returned:{event_id}")
            await self.conductor.commit(change)
