"""Staff commands as router events (pure): the parser's result, who sent it, and the
conversation of the room it was sent in."""

from __future__ import annotations

from datetime import datetime

from counsel_bot.core import commands as cmd
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import events as ev


def staff_event(
    command: cmd.StaffCommand, by: UserID, here: ConversationID | None, at: datetime
) -> ev.StaffEvent | None:
    """The router event for a parsed staff command; None if it needs a conversation id."""
    match command:
        case cmd.DutyCommand(on=True):
            return ev.CounsellorOnDuty(at, by)
        case cmd.DutyCommand(on=False, reason=reason):
            return ev.CounsellorOffDuty(at, by, reason)
        case cmd.CapacityCommand(capacity=capacity):
            return ev.CapacitySet(at, by, capacity)
        case cmd.LanguagesCommand(languages=languages):
            return ev.LanguagesSet(at, by, languages)
        case cmd.TopicsCommand(topics=topics):
            return ev.TopicsSet(at, by, topics)
        case cmd.NextCommand():
            return ev.TakeNext(at, by)
        case cmd.TakeCommand(conversation=conversation):
            return ev.Take(at, by, conversation)
        case cmd.StatusCommand():
            return ev.StatusRequested(at, by)
        case cmd.QueueCommand():
            return ev.QueueRequested(at, by)
    target = getattr(command, "conversation", None) or here
    if target is None:
        return None
    match command:
        case cmd.TransferCommand(to=to):
            return ev.Transfer(at, by, target, to)
        case cmd.TransferToOfficeCommand(office=office):
            return ev.TransferToOffice(at, by, target, office)
        case cmd.CloseCommand():
            return ev.Close(at, by, target)
        case cmd.ConfirmCommand():
            return ev.CrisisConfirmed(at, by, target)
        case cmd.DismissCommand():
            return ev.CrisisDismissed(at, by, target)
    return None
