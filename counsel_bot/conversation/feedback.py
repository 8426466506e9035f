"""The one thing a closed conversation takes: the youth's optional score, 1 to 5.

Only the number is kept (as a metric), once per conversation; a comment could identify the
youth, so none is asked for. Anything else written there is pointed to a new conversation.
Either way the bot then leaves the room. No I/O: whether a score was given is passed in.
"""

from __future__ import annotations

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import Leave, SayToYouth
from counsel_bot.core.ids import ConversationID

_SCORES = frozenset({"1", "2", "3", "4", "5"})


def setting_key(conversation: ConversationID) -> str:
    return f"feedback:{conversation}"


def score(body: str) -> int | None:
    """The score as a youth would type it ("4", "5!"), or None for anything else."""
    text = body.strip().rstrip(".!")
    return int(text) if text in _SCORES else None


def after_close(
    step: Change, conversation: ConversationID, body: str, *, scored_before: bool,
    closing: str = "",
) -> None:
    """``closing`` names this close (its time): a conversation opened again and closed
    again points to a new chat and leaves once more."""
    given = score(body)
    if given is not None and not scored_before:
        step.after.append(lambda m: m.feedback(given))
        step.settings.append((setting_key(conversation), "1"))
        step.add(SayToYouth(conversation, "feedback_thanks"), f"thanks:{conversation}")
    else:
        step.add(SayToYouth(conversation, "closed_write_new"),
                 f"closed-new:{conversation}{closing}")
    step.add(Leave(conversation), f"leave:{conversation}{closing}")
