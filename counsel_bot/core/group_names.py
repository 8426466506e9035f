"""Whom a name in a group's room claims to be: a youth's display name may pass for another
seat's nickname or for the team, which the bot can only answer by saying who it is."""

from __future__ import annotations

from counsel_bot.core.groups import Group, comparable
from counsel_bot.core.ids import UserID

# What a youth's display name may not claim in a group's room: the team's role.
_STAFF_WORDS = ("moderat", "berater", "beratung", "counsel", "admin", "team")


def poses_as(group: Group, youth: UserID, display_name: str) -> str | None:
    """Whom a seated youth's display name in the group's room claims to be: another seat's
    nickname, "" for the team, or None. A member may always rewrite their own membership
    (power levels do not reach it), so the bot can only say who it really is."""
    seat = group.seat_of(youth)
    name = comparable(display_name)
    if seat is None or not name:
        return None
    for other in group.seats:
        if other.youth != youth and comparable(other.nickname) in name:
            return other.nickname
    if any(word in name for word in _STAFF_WORDS):
        return ""
    return None
