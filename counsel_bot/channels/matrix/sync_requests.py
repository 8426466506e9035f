"""The bot's requests to the homeserver around each sync: the sync itself, given up at
once on a stop, and what nio's ``sync_forever`` does between syncs (keys, to-device)."""

from __future__ import annotations

import asyncio
import contextlib

from nio import AsyncClient, SyncError, SyncResponse

from counsel_bot.channels.matrix.session import CounselClient

# Events per room in one sync. More than came in a room since the last sync (a bot that was
# down, a long message burst) leaves a gap, which is fetched page by page (room_history).
SYNC_TIMELINE_LIMIT = 50


async def sync_or_stop(client: AsyncClient, stop: asyncio.Event, since: str | None, *,
                       first: bool) -> SyncResponse | SyncError | None:
    """One sync, or None when ``stop`` is set while it long-polls: a stop is then
    taken at once, not after up to five idle seconds (a failover's standby waits for
    the lock this frees). Dropping the unanswered request loses nothing: its batch was
    not handled and the token not saved, so the next start receives it. A cancel cannot
    land halfway through nio's handling of a room or of the to-device events (Olm
    sessions, room keys): nio handles each without suspending, since the bot registers
    no nio callbacks. It may land while the answer is read in a thread, before any of
    it, or between two slices of its rooms (`session.CounselClient`): the to-device
    events all taken in, some rooms updated and the rest as before, as between syncs."""
    if since is None:
        # nio sends a position of its own when given none (saved as each answer came,
        # before the bot handled it): a refused one again, or one past unhandled events.
        client.next_batch = client.loaded_sync_token = ""
    # full_state on the first sync rebuilds nio's in-memory room state after a restart.
    sync = asyncio.ensure_future(client.sync(
        timeout=0 if first else 5_000, since=since, full_state=first,
        set_presence="offline",
        sync_filter={"room": {"timeline": {"limit": SYNC_TIMELINE_LIMIT}}},
    ))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sync, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not sync.done():
            sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sync
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise asyncio.CancelledError  # the loop itself was cancelled meanwhile
    return None if sync.cancelled() else sync.result()


async def housekeeping(client: AsyncClient) -> None:
    """What nio's sync_forever does between syncs: keys and to-device traffic."""
    await client.send_to_device_messages()
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    # Room keys for devices learned of after the bot shared them (session.CounselClient).
    if isinstance(client, CounselClient):
        await client.room_keys.give()
