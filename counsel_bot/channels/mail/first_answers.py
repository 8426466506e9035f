"""What the office mails back by itself at once, so a youth is not left without a word: that
their mail arrived (with when an answer comes and where help is now), or that the middle
of their long mail was cut. Both go to an address nobody checked (the From or Reply-To of a
new mail, `homeserver_bridge.mail.backscatter`), so both are limited."""

from __future__ import annotations

from datetime import timedelta

from counsel_bot.channels.mail.mail_keys import mail_address
from counsel_bot.channels.mail.mail_replies import MailReplies
from counsel_bot.channels.outbox_worker import is_crisis_mail
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import MailToYouth
from counsel_bot.core.ids import ConversationID, EventID
from counsel_bot.core.mail_deadline import MailDeadlines
from counsel_bot.core.messages import spoken, text
from homeserver_bridge.mail.backscatter import SendLimit

# The catalogue text acknowledging a new mail conversation's first mail.
ACKNOWLEDGEMENT = "mail.received"
# The catalogue text telling a youth that the middle of their long mail was not passed on.
CUT_NOTICE = "mail.cut"


# Acknowledgements go to the From (or Reply-To) of a new mail, which nobody checks
# (`homeserver_bridge.mail.backscatter`): an address hears once a day, all addresses together
# a few times an hour. Every mail is still read; only the word that it arrived is left out.
ACK_PER_ADDRESS = timedelta(hours=24)
ACK_WINDOW = timedelta(hours=1)
ACKS_PER_WINDOW = 30


class FirstAnswers:
    """One per mail channel (`MailChannel.answers`); the limits count in memory."""

    def __init__(self, conductor: Conductor, replies: MailReplies,
                 deadlines: MailDeadlines) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.replies = replies
        self.deadlines = deadlines
        self._acks = SendLimit(ACK_PER_ADDRESS, ACK_WINDOW, ACKS_PER_WINDOW)
        self._cuts = SendLimit(ACK_PER_ADDRESS, ACK_WINDOW, ACKS_PER_WINDOW)

    async def tell_cut(self, change: Change, conversation: ConversationID,
                        event_id: EventID, writer: str = "") -> None:
        """The youth learns that the middle of their long mail did not reach the team and
        how to send it: believing every word read, they would wait for an answer to what
        nobody saw. Never quoting their words. Not beside the emergency numbers, which one
        mail alone must bring (the counsellor reads the cut in the mail and can ask), and
        within the acknowledgements' limit, as its address is as unchecked. To its
        ``writer`` if given: not who the replies go to, who wrote no such mail."""
        if any(is_crisis_mail(effect) for effect, _ in change.effects):
            return
        record = await self.store.conversation(conversation)
        address = writer or (None if record is None else await self.replies.address_of(record))
        if address is None or not self._cuts.allows(address, change.at):
            return
        change.committed.append(lambda: self._cuts.sent(address, change.at))
        change.add(MailToYouth(conversation, CUT_NOTICE, to=writer), f"mail-cut:{event_id}")

    async def acknowledge(self, change: Change, conversation: ConversationID) -> None:
        """The youth learns their mail arrived, when an answer comes, and where help is
        now: a mail left without a word for two working days reads as unread to someone in
        distress. Not when their words raised a crisis flag: its mail, sent in this same
        step, says all that and thanks them, and two mails at once would bury it. Marked
        automatic, so no vacation reply answers it; a mail that was itself automatic
        opened no conversation to acknowledge. Within the limit (`ACK_PER_ADDRESS`) only."""
        if any(isinstance(effect, MailToYouth) for effect, _ in change.effects):
            return
        current = self.conductor.router.conversation(conversation)
        record = await self.store.conversation(conversation)
        address = None if record is None else mail_address(record)
        if current is None or address is None or not self._acks.allows(address, change.at):
            return
        # Counted once the acknowledgement is durable in the outbox, not if the step failed.
        change.committed.append(lambda: self._acks.sent(address, change.at))
        language = spoken(current.language)
        days = self.deadlines.settings.first_reply_working_days
        within = (text("mail.within_one", language) if days == 1
                  else text("mail.within_days", language, days=days))
        emergency = self.conductor.policy.emergency_for(current.office)[language]
        change.add(MailToYouth(conversation, ACKNOWLEDGEMENT,
                               (("within", within), ("emergency", emergency))),
                   f"mail-ack:{conversation}")
