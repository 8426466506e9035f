"""The baseline: a bare matrix-nio E2E bot that echoes every decrypted text message.

``python -m bench.echo_bot --homeserver URL --user ID --device ID --store DIR`` with the
access token in ``BENCH_ECHO_TOKEN``. It does the least any E2E bot must do: sync, decrypt,
join on invite, encrypt and send. Whatever counsel's bot adds on top shows as the ratio.

``--invite USER``: the floor of routing instead. The bot greets each room it joins (as
counsel's bot welcomes a youth, which shares its room key) and invites USER to a room on
the first text it decrypts there: sync, decrypt, invite; no routing, no store, no check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    RoomMessageText,
    SyncResponse,
)

log = logging.getLogger("echo_bot")


class EchoBot:
    def __init__(self, client: AsyncClient, invite: str | None = None) -> None:
        self.client = client
        self._invite = invite
        self._invited: set[str] = set()
        self._to_greet: set[str] = set()
        self._joined: set[str] = set()
        client.add_event_callback(self._on_text, RoomMessageText)
        client.add_event_callback(self._on_undecryptable, MegolmEvent)
        client.add_response_callback(self._on_sync, SyncResponse)

    async def _on_sync(self, response: SyncResponse) -> None:
        for room_id in response.rooms.invite:
            if room_id not in self._joined:
                self._joined.add(room_id)
                answer = await self.client.join(room_id)
                if isinstance(answer, JoinError):
                    log.warning("could not join %s: %s", room_id, answer.message)
                elif self._invite is not None:
                    self._to_greet.add(room_id)
        # nio knows a joined room's state (encryption) only once a sync has brought it.
        for room_id in self._to_greet & set(response.rooms.join):
            self._to_greet.discard(room_id)
            await self._say(room_id, "Hallo!")

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        # A bare bot does not retry: a message whose key comes late is not echoed. Logged so a
        # bench that times out on an echo shows why.
        log.warning("cannot decrypt %s in %s (session %s)", event.event_id, room.room_id,
                    event.session_id)

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id:
            return
        if self._invite is None:
            await self._say(room.room_id, event.body)
        elif room.room_id not in self._invited:
            self._invited.add(room.room_id)
            await self.client.room_invite(room.room_id, self._invite)

    async def _say(self, room_id: str, body: str) -> None:
        await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body},
            ignore_unverified_devices=True,
        )


async def serve(homeserver: str, user: str, device: str, store: Path,
                invite: str | None = None) -> None:
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True,
                               pickle_key="bench-echo")
    client = AsyncClient(homeserver, user, device_id=device, store_path=str(store),
                         config=config)
    client.restore_login(user, device, os.environ["BENCH_ECHO_TOKEN"])
    EchoBot(client, invite)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if client.should_upload_keys:
        await client.keys_upload()
    syncing = asyncio.create_task(client.sync_forever(timeout=30_000, full_state=True))
    await stop.wait()
    syncing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await syncing
    await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--invite", default=None, metavar="USER",
                        help="invite USER on each room's first text instead of echoing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.homeserver, args.user, args.device, args.store, args.invite))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
