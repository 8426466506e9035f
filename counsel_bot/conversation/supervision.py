"""Team leads reading along in a conversation, read-only, and the youth told each time.

A lead starts and ends it with a staff command; it also ends when the lead leaves the room,
takes the conversation over, the conversation closes, or the lead no longer leads it (it
went to another office; they left the staff or are no longer a team lead). Which leads read
along is kept in memory and in the settings (`supervisors:<conversation>`), so it survives a
restart. No I/O: decisions go into the `Change`.
"""

from __future__ import annotations

from collections.abc import Callable

from counsel_bot.conversation.change import Change
from counsel_bot.core import commands as cmd
from counsel_bot.core.effects import SayInRoom, SayToYouth, SendMail, Supervise, Transcript
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.messages import spoken, text
from counsel_bot.core.routing.model import Channel, ConversationSnapshot


def setting_key(conversation: ConversationID) -> str:
    return f"supervisors:{conversation}"


class Supervision:
    def __init__(self, mail_on: Callable[[], bool]) -> None:
        # Whether a mail youth can be told by mail (the mail channel is wired).
        self._mail_on = mail_on
        self.leads: dict[ConversationID, set[UserID]] = {}

    def restore(self, conversation: ConversationID, stored: str | None) -> None:
        if stored:
            self.leads[conversation] = {UserID(u) for u in stored.split()}

    def is_reading(self, conversation: ConversationID, user: UserID) -> bool:
        return user in self.leads.get(conversation, ())

    def command(
        self, step: Change, room_id: RoomID, sender: UserID, command: cmd.SuperviseCommand,
        current: ConversationSnapshot | None, *, team_lead: bool,
    ) -> None:
        conversation = command.conversation

        def reply(key: str) -> None:
            step.add(SayInRoom(room_id, sender, key, (("id", conversation),)))

        reading = self.is_reading(conversation, sender)
        if not team_lead:
            reply("refused.team_lead_only")
        elif current is None:
            reply("refused.unknown_conversation")
        elif command.end:
            if reading:
                self.left(step, current, sender)
            reply("supervise.off" if reading else "supervise.not_active")
        elif reading:
            reply("supervise.already")
        elif current.assigned_to == sender:
            reply("refused.already_yours")
        elif current.channel is Channel.MAIL and not self._mail_on():
            # A mail youth is never in the room, and no mail can tell them now: nobody
            # reads along whom the youth was not told of.
            reply("supervise.mail_off")
        else:
            self._set(step, conversation, self.leads.get(conversation, set()) | {sender})
            # The youth hears it first: nothing reaches the lead before the youth knows.
            self._tell_youth(step, current, "supervision.started")
            step.add(Supervise(conversation, sender))
            reply("supervise.on")

    def left(self, step: Change, current: ConversationSnapshot, lead: UserID) -> None:
        """The lead stops reading along (command or leaving the room); the youth is told.
        A step without an event (a start, a device check) names its effects itself: with
        the routing unchanged since another such step, their default outbox keys would be
        that one's, and these taken for its repeat and never sent."""
        tag = "" if step.event_id is not None else \
            f"supervision-ended:{current.conversation}:{lead}:{step.at.isoformat()}"
        self._stop(step, current.conversation, lead, tag)
        self._tell_youth(step, current, "supervision.ended", tag and f"{tag}:told")

    def not_led(self, step: Change, current: ConversationSnapshot,
                leads: Callable[[UserID], bool]) -> None:
        """Readers who no longer lead the conversation (``leads`` says who does) go, the
        youth told: a lead of one office never reads along in another office's chat."""
        for lead in sorted(self.leads.get(current.conversation, ())):
            if not leads(lead):
                self.left(step, current, lead)

    def closed(self, step: Change, conversation: ConversationID) -> None:
        """The conversation is over: every reader goes, with nothing more to tell the youth."""
        for lead in sorted(self.leads.get(conversation, ())):
            self._stop(step, conversation, lead)

    def took_over(self, step: Change, conversation: ConversationID, counsellor: UserID,
                  assignment: int) -> None:
        """A reader who takes the conversation over is no longer a reader; the executor
        restores their writing with the assignment. In the room already, they never join:
        announced here as a counsellor who joins is (the youth told who is there for them
        now, the case notes handed over)."""
        if self.is_reading(conversation, counsellor):
            self._set(step, conversation, self.leads[conversation] - {counsellor})
            step.add(Transcript(conversation, counsellor, assignment))

    def _stop(self, step: Change, conversation: ConversationID, lead: UserID,
              tag: str = "") -> None:
        self._set(step, conversation, self.leads.get(conversation, set()) - {lead})
        step.add(Supervise(conversation, lead, end=True), tag)

    def _set(self, step: Change, conversation: ConversationID, leads: set[UserID]) -> None:
        self.leads[conversation] = leads
        step.settings.append((setting_key(conversation), " ".join(sorted(leads))))

    def _tell_youth(self, step: Change, current: ConversationSnapshot, key: str,
                    tag: str = "") -> None:
        """Into the room, or by mail for a mail youth, who is never in the room."""
        if current.channel is Channel.MAIL and self._mail_on():
            language = spoken(current.language)
            step.add(SendMail(current.conversation, text(key, language)), tag)
        else:
            step.add(SayToYouth(current.conversation, key), tag)
