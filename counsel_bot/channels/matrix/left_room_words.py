"""The last events of a room the bot is out of, read as those of a room it is in.

A sync that carries a room's last messages together with the bot's own leaving (the youth
removed it from their own room; the bot left a closed conversation's room just as the youth
wrote) lists the room under ``leave``, whose timeline matrix-nio neither decrypts nor hands
to the event callbacks: those words, crisis words included, were never read. The
room's state is left to the leave's own handling (`CounselBot._room_left`), which comes
after: the bot's own leave ends the conversation there, once.

A bot that was stopped meanwhile reads them too (`room_known`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from nio import AsyncClient, MatrixRoom, MegolmEvent
from nio.exceptions import EncryptionError

from counsel_bot.core.ids import RoomID


def before_leaving(client: AsyncClient, room_id: RoomID, events: Iterable[Any]) -> list[Any]:
    """``events`` without the room's state (members, its name, an upgrade: nothing to act on
    in a room the bot is out of), each decrypted where its key is here (one whose key is not
    is kept as it is, and waits for it as in a room the bot is in)."""
    kept: list[Any] = []
    for event in events:
        if "state_key" in (getattr(event, "source", None) or {}):
            continue
        if isinstance(event, MegolmEvent):
            event.room_id = room_id
            with contextlib.suppress(EncryptionError):
                event = client.decrypt_event(event)
        kept.append(event)
    return kept


@contextlib.contextmanager
def room_known(client: AsyncClient, room_id: RoomID, events: Iterable[Any]) -> Iterator[None]:
    """nio knows ``room_id`` while its last ``events`` are read. A bot stopped meanwhile
    does not (nio learns rooms from the joined ones a sync lists), and the homeserver forgets
    a room for whoever leaves it (``forget_rooms_on_leave``): its state is not to be had.
    So a stand-in, for the reading only: encrypted if its messages were (a youth's words in
    a room without encryption are never read), without members: whose words they are is
    known from the conversation's record (`RoomYouth.is_youth`), and a room without one
    opens nothing in a room the bot is out of."""
    if room_id in client.rooms:
        yield
        return
    client.rooms[room_id] = MatrixRoom(
        room_id, client.user_id, encrypted=any(isinstance(e, MegolmEvent) for e in events))
    try:
        yield
    finally:
        client.rooms.pop(room_id, None)
