"""Response timers in a conversation's life: remind the counsellor, then hand it back.

The rules are pure (`core/timers.py`); this part keeps each conversation's `Waiting` in
memory and in the store's settings (``timer:<conversation>``, erased with the conversation:
timestamps and a counter only, never content), and turns a verdict into effects: a reminder
in the staff room that mentions the counsellor, and, past the second limit, the conductor's
hand-back to the queue (the youth is told by the hand-back itself).

Each conversation is held to its office's targets (``[[offices]] timers``; the installation's
``[timers]`` for what an office leaves unset, and without offices), looked up at every check:
a conversation moved to another office is from then on held to that office's targets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToStaff
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import ConversationSnapshot, RouterSnapshot
from counsel_bot.core.timers import (
    Check,
    TimerSettings,
    Verdict,
    Waiting,
    check,
    minutes,
)


def setting_key(conversation: ConversationID) -> str:
    return f"timer:{conversation}"


class ResponseTimers:
    def __init__(
        self, settings: TimerSettings,
        settings_for: Callable[[ConversationSnapshot], TimerSettings] | None = None,
    ) -> None:
        self.settings = settings
        # The targets a conversation is held to (its office's); default: ``settings``.
        self.settings_for = settings_for or (lambda _current: settings)
        self._waiting: dict[ConversationID, Waiting] = {}

    def restore(self, conversation: ConversationID, raw: str | None, *,
                replace: bool = False) -> None:
        if raw:
            self._waiting[conversation] = Waiting.decode(raw)
        elif replace:
            self._waiting.pop(conversation, None)

    def waiting(self, conversation: ConversationID) -> Waiting:
        return self._waiting.get(conversation, Waiting())

    def youth_wrote(self, step: Change, conversation: ConversationID) -> None:
        before = self.waiting(conversation)
        after = before.youth_wrote(step.at)
        if after != before:
            self._set(step, conversation, after)

    def back_in_chat(self, step: Change, conversation: ConversationID) -> None:
        """A mail youth wrote in the chat again: the wait starts now (`Waiting.back_in_chat`)."""
        self._set(step, conversation, self.waiting(conversation).back_in_chat(step.at))

    def counsellor_wrote(
        self, current: ConversationSnapshot | None, sender: UserID,
    ) -> tuple[str, str] | None:
        """The assigned counsellor wrote in the room: the wait is over. Returns the setting
        to store, or None when nothing changed (most messages: no write per message)."""
        if current is None or current.assigned_to != sender:
            return None
        conversation = current.conversation
        before = self.waiting(conversation)
        after = before.counsellor_wrote(current.assignments)
        if after == before:
            return None
        self._waiting[conversation] = after
        return setting_key(conversation), after.encode()

    def forget(self, conversation: ConversationID) -> None:
        self._waiting.pop(conversation, None)

    def checks(self, snapshot: RouterSnapshot, now: datetime) -> list[tuple[
            ConversationSnapshot, Check]]:
        return [(c, check(c, self.waiting(c.conversation), self.settings_for(c), now))
                for c in snapshot.conversations]

    def overdue(self, snapshot: RouterSnapshot, now: datetime) -> int:
        """How many conversations wait past their target (dashboard and metrics: a count)."""
        return sum(1 for _, result in self.checks(snapshot, now) if result.late)

    def due(
        self, step: Change, snapshot: RouterSnapshot,
        requeue: Callable[[ConversationSnapshot], bool],
        leads_for: Callable[[ConversationID], tuple[str, tuple[UserID, ...]]],
    ) -> None:
        """On the conductor's tick: remind who is late; hand back what waited too long
        (``requeue``: True if someone else took it at once). Nobody else to take it: the
        router never gives it back to the counsellor who let it wait, so the team leads
        (``leads_for``: the conversation's office's, and its staff room) are called."""
        for current in snapshot.conversations:
            before = self.waiting(current.conversation)
            if (after := before.not_after(step.at)) != before:
                self._set(step, current.conversation, after)  # the clock was set back
        for current, result in self.checks(snapshot, step.at):
            conversation = current.conversation
            counsellor = current.assigned_to
            if counsellor is None or result.start is None:
                continue
            if result.verdict is Verdict.REMIND:
                self._set(step, conversation, self.waiting(conversation).reminded(result.start))
                step.add(SayToStaff(f"timers.remind_{result.target.value}",
                                    (("conversation", conversation),
                                     ("counsellor", counsellor),
                                     ("minutes", minutes(result.waited)),
                                     ("requeue",
                                      minutes(self.settings_for(current).requeue_after))),
                                    mentions=(counsellor,)),
                         f"timer_remind:{conversation}:{current.assignments}:"
                         f"{result.start.isoformat()}")
            elif result.verdict is Verdict.REQUEUE:
                # The youth's words stay unanswered: the wait goes on, from the hand-back.
                self._set(step, conversation, Waiting(since=step.at))
                params = (("conversation", conversation), ("counsellor", counsellor),
                          ("minutes", minutes(result.waited)))
                tag = f"timer_requeue:{conversation}:{current.assignments}"
                if requeue(current):
                    step.add(SayToStaff("timers.requeued", params, mentions=(counsellor,)),
                             tag)
                    continue
                office, leads = leads_for(conversation)
                step.add(SayToStaff("timers.requeued_nobody",
                                    (*params, ("leads", " ".join(leads) or "Team")),
                                    mentions=(counsellor, *leads), office=office), tag)

    def _set(self, step: Change, conversation: ConversationID, waiting: Waiting) -> None:
        self._waiting[conversation] = waiting
        step.settings.append((setting_key(conversation), waiting.encode()))
