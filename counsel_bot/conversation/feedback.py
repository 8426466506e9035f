"""The one thing a closed conversation takes: the youth's optional score, 1 to 5.

Only the number is kept (as a metric), once per conversation; a comment could identify the
youth, so none is asked for. Anything else written there is pointed to a new conversation.
Either way the bot leaves the room `LEAVE_AFTER` later (`YouthSide`): a youth who scores
and then, at last, writes what they could not say before must still be read (crisis words
open the conversation again). No I/O: whether a score was given is passed in.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import SayToYouth
from counsel_bot.core.ids import ConversationID

_SCORES = frozenset({"1", "2", "3", "4", "5"})
# One star per point, the same star throughout: "⭐⭐⭐" is 3.
_STARS = frozenset({"\u2b50", "\u2605"})
# Variation selector 16 (emoji presentation) and the combining keycap: "5️⃣" is "5".
_MARKS = {0xFE0F: None, 0x20E3: None}
# How long the bot stays in a closed conversation's room after the youth's first word there.
LEAVE_AFTER = timedelta(minutes=10)
# Sealed settings ``leave_after:<conversation>`` = when the bot leaves (ISO time): they
# survive a restart, and go with the conversation's erasure.
LEAVE_PREFIX = "leave_after:"


def setting_key(conversation: ConversationID) -> str:
    return f"feedback:{conversation}"


def leave_key(conversation: ConversationID) -> str:
    return f"{LEAVE_PREFIX}{conversation}"


def score(body: str) -> int | None:
    """The score as a youth would type it ("4", "5!", a phone's "5️⃣" or "⭐⭐⭐⭐", a
    full-width "５", an Arabic "٥"), or None for anything else."""
    # NFKC: full-width digits and "！" as ASCII; emoji presentation and keycap marks dropped.
    text = unicodedata.normalize("NFKC", body).translate(_MARKS).strip().rstrip(".!")
    if text and text[0] in _STARS and text == text[0] * len(text) and len(text) <= 5:
        return len(text)
    if len(text) == 1 and text.isdecimal():
        text = str(int(text))  # any script's digit: an Arabic keyboard's "٥" is 5
    return int(text) if text in _SCORES else None


def after_close(
    step: Change, conversation: ConversationID, body: str, *, scored_before: bool,
    closing: str = "", emergency: str = "", edit: bool = False,
) -> None:
    """``closing`` names this close (its time): a conversation opened again and closed
    again points to a new chat once more, with the ``emergency`` numbers: whoever writes
    after the close may need help now, not after starting a new chat. ``edit``: the words
    correct an earlier message; a score corrected after one was counted is left as it is
    (a count cannot be taken back) and needs no answer."""
    given = score(body)
    if given is not None and edit and scored_before:
        return
    if given is not None and not scored_before:
        step.after.append(lambda m: m.feedback(given))
        step.settings.append((setting_key(conversation), "1"))
        step.add(SayToYouth(conversation, "feedback_thanks"), f"thanks:{conversation}")
    else:
        step.add(SayToYouth(conversation, "closed_write_new", (("emergency", emergency),)),
                 f"closed-new:{conversation}{closing}")
