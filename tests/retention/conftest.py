"""Retention fixtures: conversations opened and closed at chosen times, a fake homeserver,
and a data directory for `counsel retention` by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import ConversationOpened, Event, Router, YouthEnded
from counsel_bot.runtime import runner
from counsel_bot.runtime.runner import open_vault
from counsel_bot.runtime.service import resolve_settings
from counsel_bot.runtime.stores import open_store
from counsel_bot.store import NewConversation, Store, Transition, entries_for
from homeserver_bridge.errors import AdminApiError, NotFound
from homeserver_bridge.paths import DataLayout


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


class DataDir:
    """A data directory as `counsel` sets it up (its default configuration), whose store a
    test fills or reads with no bot running, for `counsel retention` by hand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.layout = DataLayout(root)
        self.settings, self.config_dir = resolve_settings(self.layout, None)
        self.vault = open_vault(self.settings, self.layout, self.config_dir)

    @asynccontextmanager
    async def store(self) -> AsyncIterator[Store]:
        store = await open_store(self.settings.store, self.layout.bot_dir, self.config_dir,
                                 self.vault)
        try:
            yield store
        finally:
            await store.close()


def homeserver_for_retention(monkeypatch: pytest.MonkeyPatch, rooms: set[str]) -> FakeAdmin:
    """The fake homeserver `counsel retention` purges on, holding ``rooms``."""
    admin = FakeAdmin(rooms=rooms)

    def fake_admin(*_args: Any) -> FakeAdmin:
        return admin

    monkeypatch.setattr(runner, "bridge_admin", fake_admin)
    return admin
