"""Who a room's youth is: the one a youth's words are taken from, and the others there."""

from __future__ import annotations

from collections.abc import Callable

from nio import AsyncClient, MatrixRoom

from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import ConversationRecord, Store


def matrix_youth(record: ConversationRecord) -> UserID | None:
    """The conversation's youth as a Matrix account; None for one born by mail (its youth
    id is the address), whose youth comes into the bot's own room with a case code."""
    youth = record.youth_user_id
    return youth if youth.startswith("@") else None


class RoomYouth:
    def __init__(self, client: AsyncClient, store: Store,
                 is_staff: Callable[[str], bool]) -> None:
        self._client = client
        self._store = store
        self._is_staff = is_staff

    @property
    def _bot(self) -> UserID:
        return UserID(self._client.user_id)

    async def is_youth(self, room: MatrixRoom, sender: str) -> bool:
        """Whether ``sender`` is the youth of the room's conversation, whoever else is
        there; known by the record, also once they have left (a message written just before
        leaving is still theirs); in a room born by mail, whoever came in with a case code
        (`matrix_youth`). Before there is a conversation: the only member who is
        neither staff nor the bot, or, with none left, one not on staff who wrote and left
        before the bot read it (nio's members are those at the end of the sync)."""
        record = await self._store.conversation_by_room(RoomID(room.room_id))
        youth = None if record is None else matrix_youth(record)
        if youth is not None:
            return sender == youth
        if record is not None:
            # Born by mail: only the bot invites into its room, and a youth only for a case
            # code mailed to the youth. One invited again (`!chat` for a new phone) comes in
            # with a new account beside the first: both are the youth, or neither was read.
            return sender != self._bot and not self._is_staff(sender)
        if (only := self.youth_of(room)) is not None:
            return sender == only
        return not self.others(room) and sender != self._bot and not self._is_staff(sender)

    def youth_of(self, room: MatrixRoom) -> UserID | None:
        others = self.others(room)
        return UserID(others[0]) if len(others) == 1 else None

    def others(self, room: MatrixRoom) -> list[str]:
        """The joined members who are neither staff nor the bot."""
        joined = [u for u in room.users if u not in room.invited_users]
        return [u for u in joined if u != self._bot and not self._is_staff(u)]
