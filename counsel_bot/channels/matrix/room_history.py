"""A room's past events, page by page from the homeserver: what a limited sync left out,
and a youth's words held for a move, fetched again after a restart lost them from memory."""

from __future__ import annotations

from typing import Any

from nio import AsyncClient, MessageDirection, RoomMessagesResponse

from counsel_bot.core.ids import RoomID

GAP_PAGE = 100  # events per request


class GapUnavailable(Exception):
    """The homeserver did not give the events a sync left out; the sync is tried again."""

    def __init__(self, status: str | None) -> None:
        super().__init__(f"could not fetch missed events ({status}); retrying the sync")


async def events_between(client: AsyncClient, room_id: RoomID, start: str,
                         end: str) -> list[Any]:
    """The room's events from ``start`` back to ``end``, oldest first."""
    missed: list[Any] = []
    page_start: str | None = start
    while page_start:
        page = await client.room_messages(room_id, start=page_start, end=end,
                                          direction=MessageDirection.back, limit=GAP_PAGE)
        if not isinstance(page, RoomMessagesResponse):
            # Raised, not skipped: the batch is handled again after the next sync.
            raise GapUnavailable(getattr(page, "status_code", None))
        missed.extend(page.chunk)
        page_start = page.end if page.chunk else None
    missed.reverse()
    return missed


async def events_since(client: AsyncClient, room_id: RoomID, since: str) -> list[Any]:
    """The room's events from ``since`` up to now, oldest first."""
    events: list[Any] = []
    page_start: str | None = since
    while page_start:
        page = await client.room_messages(room_id, start=page_start,
                                          direction=MessageDirection.front, limit=GAP_PAGE)
        if not isinstance(page, RoomMessagesResponse):
            raise GapUnavailable(getattr(page, "status_code", None))
        events.extend(page.chunk)
        page_start = page.end if page.chunk else None
    return events
