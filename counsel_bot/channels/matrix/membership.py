"""Whether the bot is still in a room, by the homeserver's word, not nio's memory.

nio keeps a room the bot was removed from among its rooms until it is forgotten, so a
refusal alone does not tell a room the bot lost from one that refused for another reason.
"""

from __future__ import annotations

from nio import AsyncClient, JoinedRoomsResponse

from counsel_bot.core.ids import RoomID


async def still_joined(client: AsyncClient, room_id: RoomID) -> bool | None:
    """Whether the homeserver still counts the bot in the room (None: it did not answer)."""
    answer = await client.joined_rooms()
    if not isinstance(answer, JoinedRoomsResponse):
        return None
    return room_id in answer.rooms
