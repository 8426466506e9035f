"""A youth deletes their own conversation: "löschen", then "ja löschen" within ten minutes.

With admin access the conversation is closed, its room purged, the anonymous account
deactivated and the records erased: outbox effects in that order, so a crash anywhere
completes the deletion after a restart, and the records outlive the purge that needs them.
Without admin access it is closed normally and retention deletes it after the set period.
No I/O: the caller reads when the youth was asked and passes it in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import (
    DeactivateYouth,
    EraseConversation,
    PurgeRoom,
    SayToStaff,
    SayToYouth,
)
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.messages import Language, spoken
from counsel_bot.core.routing.model import ConversationSnapshot

# How long "ja löschen" counts after "löschen": later, the youth is asked again.
DELETE_CONFIRM_WITHIN = timedelta(minutes=10)


def asked_key(conversation: ConversationID) -> str:
    return f"delete-asked:{conversation}"


def ask(step: Change, conversation: ConversationID, *, can_delete: bool) -> None:
    """"löschen": the youth is asked to confirm, and told whether it happens now or later."""
    key = "delete.confirm" if can_delete else "delete.confirm_later"
    step.add(SayToYouth(conversation, key))
    step.settings.append((asked_key(conversation), step.at.isoformat()))


def in_time(current: ConversationSnapshot | None, asked: str | None, at: datetime) -> bool:
    """Whether "ja löschen" at ``at`` confirms: asked first, within the time, still open."""
    return current is not None and asked_within(asked, at)


def asked_within(asked: str | None, at: datetime) -> bool:
    """Whether "löschen" was asked no longer than `DELETE_CONFIRM_WITHIN` before ``at``."""
    return bool(asked) and at - datetime.fromisoformat(str(asked)) <= DELETE_CONFIRM_WITHIN


def confirm(
    step: Change, conversation: ConversationID, current: ConversationSnapshot | None,
    asked: str | None, *, emergency: Mapping[Language, str], can_delete: bool,
    end: Callable[[], None],
) -> bool:
    """"ja löschen": `asked` is the stored time of the question, `end` closes the
    conversation in the router (between the youth's notice and the staff's). True when it
    is erased now, so the caller forgets what it holds about it in memory."""
    if current is None or not in_time(current, asked, step.at):
        step.add(SayToYouth(conversation, "delete.ask_first"))
        return False
    return _confirmed(step, conversation, current.language, current.assigned_to,
                      emergency=emergency, can_delete=can_delete, end=end)


def confirm_closed(
    step: Change, conversation: ConversationID, language: str, asked: str | None, *,
    emergency: Mapping[Language, str], can_delete: bool,
) -> bool:
    """"ja löschen" in a conversation already closed (by "ende" or its counsellor): the
    end is when a youth most often wants the chat gone. Nothing to close, nobody to mention."""
    if not asked_within(asked, step.at):
        step.add(SayToYouth(conversation, "delete.ask_first"))
        return False
    return _confirmed(step, conversation, language, None, emergency=emergency,
                      can_delete=can_delete, end=lambda: None)


def _confirmed(
    step: Change, conversation: ConversationID, code: str, counsellor: UserID | None, *,
    emergency: Mapping[Language, str], can_delete: bool, end: Callable[[], None],
) -> bool:
    step.settings.append((asked_key(conversation), ""))
    language = spoken(code)
    step.add(SayToYouth(conversation, "delete.now" if can_delete else "delete.by_retention",
                        (("emergency", emergency[language]),)))
    end()
    staff_key = "staff_deleted" if can_delete else "staff_delete_by_retention"
    step.add(SayToStaff(staff_key, (("conversation", conversation),),
                        mentions=(counsellor,) if counsellor else ()))
    if not can_delete:
        return False  # closed normally: retention purges it after the set period
    step.add(PurgeRoom(conversation), f"purge:{conversation}")
    step.add(DeactivateYouth(conversation), f"deactivate:{conversation}")
    step.add(EraseConversation(conversation), f"erase:{conversation}")
    return True


def earlier(step: Change, conversations: Iterable[ConversationID]) -> None:
    """The youth's earlier chats, closed, in rooms of their own (their app made a new room
    when they came back): deleted with the account that wrote them, after the chat the
    youth deleted from (its steps come first). The account is erased; its words, nickname
    and id must not wait weeks for retention in those rooms and records."""
    for conversation in conversations:
        step.add(PurgeRoom(conversation), f"purge:{conversation}")
        step.add(EraseConversation(conversation), f"erase:{conversation}")


def again(step: Change, conversation: ConversationID, *, end: Callable[[], None]) -> None:
    """A restored copy still holds a conversation its youth deleted after the backup was
    made (the erasure journal): deleted again, as if just confirmed. The youth is told
    nothing (they were told at the time, and the room is about to go); the staff learn
    why a conversation vanished from their rooms."""
    end()
    step.add(SayToStaff("staff_deleted_again", (("conversation", conversation),)))
    step.add(PurgeRoom(conversation), f"purge:{conversation}")
    step.add(DeactivateYouth(conversation), f"deactivate:{conversation}")
    step.add(EraseConversation(conversation), f"erase:{conversation}")
