"""A youth's yes or no by mail after the conversation closed: the answer to the appointment
its counsellor proposed before closing, taken as such instead of opening a new
conversation, when it is no more than that."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from counsel_bot.channels.mail.mail_replies import MailReplies
from counsel_bot.channels.mail.mail_words import with_words_inside, words_read
from counsel_bot.channels.mail.thread_index import ThreadIndex
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core import appointments as ap
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.routing.model import Channel
from homeserver_bridge.mail import InboundMail


class LateAnswers:
    """One per mail channel (`MailChannel.late_answers`)."""

    def __init__(self, conductor: Conductor, threads: ThreadIndex, replies: MailReplies,
                 office_domains: frozenset[str], now: Callable[[], datetime]) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.threads = threads
        self.replies = replies
        self.office_domains = office_domains
        self.now = now

    async def answered_after_close(self, mail: InboundMail) -> bool:
        """A reply in the thread of a closed conversation that answers the proposal its
        counsellor made before closing: its answer, nothing more (True). Any other mail
        after the close opens a new conversation, as does an answer with crisis words,
        so that someone reads it now (its yes then waits for the counsellor there). Only
        of a conversation on mail at its close: one that closed in the chat had its
        proposal made there, and a mail in its old thread may come from whoever reads
        the mailbox its youth left, whose "nein" declined it."""
        conductor = self.conductor
        event_id = await self.threads.event_id(mail)
        if await self.store.is_processed(event_id):
            return True  # the same mail again (an SMTP retry): answered the first time
        if not ap.bare_mail_answer(mail.text):
            return False  # more to say than yes or no: someone must read it
        for key in await self.threads.lookups(mail):
            found = await self.store.get_setting(key)
            record = None if not found else await self.store.conversation(ConversationID(found))
            if record is None or record.closed_at is None or record.channel is not Channel.MAIL \
                    or not conductor.appointments.proposal_open(record.conversation):
                continue
            # Judged with its subject, as in an open conversation: many write what weighs
            # on them there and only "ja" below; and with what they wrote inside the
            # counsellor's mail (Outlook), which is more than a yes or no.
            said = await self.replies.said_in(record.conversation)
            read = words_read(mail, self.office_domains, said)
            if ap.mail_answer(mail.text) is None \
                    or with_words_inside(mail, said) is not mail \
                    or await conductor.crisis.flags_alone(read):
                return False
            change = Change(self.now(), event_id)
            if conductor.appointments.mail_answered(change, record.conversation, mail.text):
                await conductor.commit(change)  # a retried delivery is handled (same id)
                return True
        return False
