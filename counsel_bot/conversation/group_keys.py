"""Where the group desk keeps what it must in the store's settings, and the outbox keys it
tags effects with: the book (sealed: it names youths and their rooms), each group's room
(in the clear, like conversations'), whether someone who may moderate came."""

from __future__ import annotations

BOOK_KEY = "groups:book"
# How versions before the sealed settings kept the book: a vault blob (base64) in the plain
# settings, which rotation did not reach. Read only by the upgrade (runtime/legacy_settings).
LEGACY_BOOK_CONTEXT = b"groups:book"


def room_key(number: int) -> str:
    """Settings key of a group's room (room ids are kept in the clear, like conversations')."""
    return f"group_room:{number}"


def kick_tag(number: int, nickname: str) -> str:
    """The key of the kick that takes an erased youth out of an open group's room."""
    return f"group_forget:{number}:{nickname}"


def hosted_key(number: int) -> str:
    """Settings key set once someone who may moderate joined the group's room (names no
    one)."""
    return f"group_hosted:{number}"
