"""The first-reply deadline of each open mail conversation (`core.mail_deadline`): when
each was last answered, the staff reminded before the deadline, a breach counted after; the
marks kept in the store's settings (`mail_keys`), so a restart neither reminds nor counts
again."""

from __future__ import annotations

from datetime import datetime

from counsel_bot.channels.mail.mail_keys import BREACHED_PREFIX, REMINDED_PREFIX, REPLIED_PREFIX
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.mail_deadline import DeadlineState, MailConversation, MailDeadlines
from counsel_bot.core.routing.model import Channel
from counsel_bot.core.today import DayCount


class FirstReplyWatch:
    """One per mail channel (`MailChannel.first_replies`)."""

    def __init__(self, conductor: Conductor, deadlines: MailDeadlines) -> None:
        self.conductor = conductor
        self.store = conductor.store
        self.deadlines = deadlines
        self.replied: dict[ConversationID, datetime] = {}
        self._state = DeadlineState()

    def answered(self, change: Change, conversation: ConversationID) -> None:
        """The counsellor answered by mail in ``change``: the first answer is noted."""
        if conversation not in self.replied:
            self.replied[conversation] = change.at
            change.settings.append((f"{REPLIED_PREFIX}{conversation}", change.at.isoformat()))

    def answered_in_chat(self, change: Change, conversation: ConversationID) -> None:
        """A conversation that goes on by mail after its counsellor answered in the chat:
        the first reply is behind it, held to the chat's own targets, so the mail's
        first-reply deadline is not its business. Kept as answered when it was queued, the
        one time no deadline can come before."""
        current = self.conductor.router.conversation(conversation)
        if (current is not None and conversation not in self.replied
                and self.conductor.timers.waiting(conversation).answered_in):
            self.replied[conversation] = current.enqueued_at
            change.settings.append((f"{REPLIED_PREFIX}{conversation}",
                                    current.enqueued_at.isoformat()))

    async def load(self) -> None:
        """At start, for the open conversations: when each was last answered by mail, and
        which deadlines were reminded of or breached. One read per kind, not per
        conversation: a restart with thousands of rooms waits on this."""
        open_ids = {c.conversation for c in self.conductor.router.snapshot().conversations}

        async def marked(prefix: str) -> dict[ConversationID, str]:
            found = {ConversationID(key.removeprefix(prefix)): value
                     for key, value in await self.store.settings(prefix) if value}
            return {cid: value for cid, value in found.items() if cid in open_ids}

        self.replied = {cid: datetime.fromisoformat(value)
                        for cid, value in (await marked(REPLIED_PREFIX)).items()}
        self._state = DeadlineState(frozenset(await marked(REMINDED_PREFIX)),
                                    frozenset(await marked(BREACHED_PREFIX)))

    async def tick(self, at: datetime) -> None:
        """First-reply deadlines: a reminder to staff before, a breach counted after."""
        open_mail = [
            MailConversation(c.conversation, c.enqueued_at, self.replied.get(c.conversation))
            for c in self.conductor.router.snapshot().conversations
            if c.channel is Channel.MAIL
        ]
        reminders, self._state = self.deadlines.due_reminders(open_mail, at, self._state)
        breaches, self._state = self.deadlines.breaches(open_mail, at, self._state)
        if not reminders and not breaches:
            return
        change = Change(at, None)
        for conversation in reminders:
            due = self.deadlines.deadline_text(next(m.received_at for m in open_mail
                                                    if m.id == conversation))
            change.add(SayToStaff("mail.reminder", (("conversation", conversation),
                                                    ("due", due))),
                       f"mail-remind:{conversation}")
            change.settings.append((f"{REMINDED_PREFIX}{conversation}", "1"))
        for conversation in breaches:
            # Kept, so a restart neither reminds nor counts the breach again (the outbox's
            # done rows, which also keep a repeat from being sent, last only days).
            change.settings.append((f"{BREACHED_PREFIX}{conversation}", "1"))
            change.after.append(lambda m: m.mail_deadline_breached())
            change.today += DayCount(deadline_breaches=1)
            change.add(SayToStaff("mail.breach", (("conversation", conversation),)),
                       f"mail-breach:{conversation}")
        await self.conductor.commit(change)
