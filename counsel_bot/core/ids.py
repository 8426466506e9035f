"""Typed identifiers, so a room id is never passed where a user id belongs."""

from typing import NewType

UserID = NewType("UserID", str)
RoomID = NewType("RoomID", str)
EventID = NewType("EventID", str)
# Our own opaque conversation id (never a room id): safe to show staff and to log.
ConversationID = NewType("ConversationID", str)
