"""Retention fixtures: conversations opened and closed at chosen times, and a fake homeserver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Event, Router, YouthEnded
from counsel_bot.store import NewConversation, Store, Transition, entries_for
from homeserver_bridge.errors import AdminApiError, NotFound


async def _step(
    store: Store, router: Router, event: Event, opened: tuple[NewConversation, ...] = ()
) -> None:
    actions = router.handle(event)
    await store.commit_transition(
        Transition(
            at=event.at,
            snapshot=router.snapshot(),
            outbox=entries_for(actions, version=router.version, at=event.at),
            new_conversations=opened,
        )
    )


async def closed_conversation(
    store: Store,
    router: Router,
    cid: ConversationID,
    room_id: RoomID,
    youth: UserID,
    opened_at: datetime,
    closed_at: datetime,
) -> None:
    """Open and close a conversation through the router, as the conductor would."""
    new = NewConversation(cid, room_id, youth, "Nick")
    await _step(store, router, ConversationOpened(opened_at, cid), (new,))
    await _step(store, router, YouthEnded(closed_at, cid))


@dataclass
class FakeAdmin:
    """Purges rooms in memory; `failures` makes the next calls for a room fail."""

    rooms: set[str] = field(default_factory=set)
    failures: dict[str, list[AdminApiError]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def delete_room_and_wait(self, room_id: str) -> object:
        self.calls.append(room_id)
        pending = self.failures.get(room_id)
        if pending:
            raise pending.pop(0)
        if room_id not in self.rooms:
            raise NotFound("the homeserver refused DELETE: 404 M_NOT_FOUND", status=404,
                           errcode="M_NOT_FOUND")
        self.rooms.discard(room_id)
        return None
