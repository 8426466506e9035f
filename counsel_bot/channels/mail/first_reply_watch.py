"""The first-reply deadline of each open mail conversation (`core.mail_deadline`), counted in
the working days of its office (an office's own `hours`, else [opening_hours]): when
each was last answered, the staff reminded before the deadline, a breach counted after; the
marks kept in the store's settings (`mail_keys`), so a restart neither reminds nor counts
again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from counsel_bot.channels.mail.mail_keys import BREACHED_PREFIX, REMINDED_PREFIX, REPLIED_PREFIX
from counsel_bot.conversation import offices
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import ConversationID
from counsel_bot.core.mail_deadline import DeadlineState, MailConversation, MailDeadlines
from counsel_bot.core.routing.model import Channel, ConversationSnapshot
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

    def deadlines_of(self, current: ConversationSnapshot) -> MailDeadlines:
        """The deadlines of ``current``'s office: its own working days (an office's
        `hours`), else the installation's, which ``deadlines`` was made with."""
        hours = offices.hours_of(self.conductor.policy.offices, current.office,
                                 self.deadlines.hours)
        return self.deadlines if hours is self.deadlines.hours \
            else replace(self.deadlines, hours=hours)

    async def tick(self, at: datetime) -> None:
        """First-reply deadlines: a reminder to staff before, a breach counted after."""
        reminders: list[tuple[ConversationID, str]] = []
        breaches: list[ConversationID] = []
        for current in self.conductor.router.snapshot().conversations:
            if current.channel is not Channel.MAIL:
                continue
            deadlines = self.deadlines_of(current)
            waiting = MailConversation(current.conversation, current.enqueued_at,
                                       self.replied.get(current.conversation))
            reminded, self._state = deadlines.due_reminders([waiting], at, self._state)
            reminders += [(c, deadlines.deadline_text(current.enqueued_at)) for c in reminded]
            missed, self._state = deadlines.breaches([waiting], at, self._state)
            breaches += missed
        if not reminders and not breaches:
            return
        change = Change(at, None)
        for conversation, due in reminders:
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
