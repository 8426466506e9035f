""""Syncing from now" must mean it: nio keeps a sync position of its own (store_sync_tokens:
saved as each answer arrives, before the bot has handled it) and sends that one whenever the
bot asks for a sync without a position. So the bot's way out of a refused position (a
homeserver restored from a backup refuses nio's copy just the same) asked for the refused
position again every second, for good, and a bot restarted without a saved position of its
own (a kill during its very first batch) resumed after events it never handled.

No server: nio's own client, its requests answered by a fake transport."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

from nio import AsyncClient, SyncError, SyncResponse

from counsel_bot.channels.matrix import bot as bot_module
from counsel_bot.channels.matrix.bot import SYNC_TOKEN_KEY, TOKEN_REFUSALS
from counsel_bot.store import MemoryStore
from tests.counsel_bot.test_welcome_after_stop import _bot
from tests.store.conftest import AeadSealer

REFUSED = "s72594_4483_1934_restored"  # a position the restored homeserver never gave


class Homeserver:
    """Answers /sync: 400 for the refused position, else an empty batch; ends the loop
    after `answers` syncs."""

    def __init__(self, stop: asyncio.Event, answers: int) -> None:
        self.positions: list[str | None] = []
        self._stop = stop
        self._answers = answers

    async def send(self, response_class: type, _method: str, path: str,
                   *_args: Any, **_kwargs: Any) -> Any:
        assert response_class is SyncResponse
        since = parse_qs(urlparse(path).query).get("since", [None])[0]
        self.positions.append(since)
        if len(self.positions) >= self._answers:
            self._stop.set()
        if since == REFUSED:
            refused = SyncError("Invalid stream token", "M_UNKNOWN")
            refused.transport_response = SimpleNamespace(status=400)  # type: ignore[assignment]
            return refused
        return SyncError("stopping the test", "M_UNKNOWN")


def _client(homeserver: Homeserver) -> AsyncClient:
    client = AsyncClient("http://homeserver.invalid", "@bot:x", device_id="BOTDEVICE")
    client.access_token = "token"
    # What nio's store gave back at the restart: the position it saved on its own.
    client.loaded_sync_token = REFUSED
    client._send = homeserver.send  # type: ignore[method-assign]
    return client


async def _no_sleep(_seconds: float) -> None:
    return None


async def _synced(store: MemoryStore, syncs: int) -> Homeserver:
    """The bot's sync loop on ``store`` until the homeserver has answered ``syncs`` times."""
    stop = asyncio.Event()
    homeserver = Homeserver(stop, syncs)
    client = _client(homeserver)
    try:
        bot = await _bot(store, client, [])  # type: ignore[arg-type]
        await asyncio.wait_for(bot._sync_until(stop, asyncio.Future()), 10)
    finally:
        await client.close()
    return homeserver


async def test_a_refused_position_is_given_up_for_nios_copy_too(monkeypatch: Any) -> None:
    monkeypatch.setattr(bot_module.asyncio, "sleep", _no_sleep)
    store = MemoryStore(AeadSealer())
    await store.set_setting(SYNC_TOKEN_KEY, REFUSED)
    homeserver = await _synced(store, TOKEN_REFUSALS + 2)
    assert homeserver.positions[:TOKEN_REFUSALS] == [REFUSED] * TOKEN_REFUSALS
    assert homeserver.positions[TOKEN_REFUSALS:] == [None, None], (
        "after giving up the refused position the bot asked for it again (nio's copy)")


async def test_without_a_position_of_its_own_the_bot_syncs_from_the_start() -> None:
    homeserver = await _synced(MemoryStore(AeadSealer()), 1)
    assert homeserver.positions == [None], (
        "nio resumed from its own position, after events the bot never handled")
