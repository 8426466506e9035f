"""Typed identifiers, so a room id is never passed where a user id belongs."""

import re
from typing import NewType

UserID = NewType("UserID", str)
RoomID = NewType("RoomID", str)
EventID = NewType("EventID", str)
# Our own opaque conversation id (never a room id): safe to show staff and to log.
ConversationID = NewType("ConversationID", str)

# How `new_conversation_id` draws them: "C-" and eight upper-case hex digits.
_CONVERSATION_ID = re.compile(r"C-[0-9A-F]{8}")


def is_conversation_id(value: object) -> bool:
    """Whether ``value`` is a conversation id (not an appointment's T-… or a post's P-…)."""
    return isinstance(value, str) and _CONVERSATION_ID.fullmatch(value) is not None
