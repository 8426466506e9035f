"""The baseline: a bare matrix-nio E2E bot that echoes every decrypted text message.

``python -m bench.echo_bot --homeserver URL --user ID --device ID --store DIR`` with the
access token in ``BENCH_ECHO_TOKEN``. It does the least any E2E bot must do: sync, decrypt,
join on invite, encrypt and send. Whatever counsel's bot adds on top shows as the ratio.

``--invite USER``: the floor of routing instead. The bot greets each room it joins (as
counsel's bot welcomes a youth, which shares its room key) and invites USER to a room on
the first text it decrypts there: sync, decrypt, invite; no routing, no store, no check.
Given more than once, the users are invited in turn, one per room.

``--alert`` (with ``--invite``): the floor of the crisis alert as well. At start the bot
makes an encrypted staff room with every ``--invite`` user in it; after a room's first text
(the invitation) it answers every further text with a fixed alert naming the room,
"⚠️ <room id>", in the staff room: sync, decrypt, send; no detector, no store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageText,
    SyncResponse,
)

log = logging.getLogger("echo_bot")


ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class EchoBot:
    def __init__(self, client: AsyncClient, invite: Sequence[str] = (),
                 staff_room: str | None = None) -> None:
        self.client = client
        self._invite = list(invite)
        self._turn = 0
        self._staff_room = staff_room
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
                elif self._invite:
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
        if event.sender == self.client.user_id or room.room_id == self._staff_room:
            return
        if not self._invite:
            await self._say(room.room_id, event.body)
        elif room.room_id not in self._invited:
            self._invited.add(room.room_id)
            user = self._invite[self._turn % len(self._invite)]
            self._turn += 1
            await self.client.room_invite(room.room_id, user)
        elif self._staff_room is not None:
            await self._say(self._staff_room, f"⚠️ {room.room_id}")

    async def _say(self, room_id: str, body: str) -> None:
        await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body},
            ignore_unverified_devices=True,
        )


async def serve(homeserver: str, user: str, device: str, store: Path,
                invite: Sequence[str] = (), alert: bool = False) -> None:
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True,
                               pickle_key="bench-echo")
    client = AsyncClient(homeserver, user, device_id=device, store_path=str(store),
                         config=config)
    client.restore_login(user, device, os.environ["BENCH_ECHO_TOKEN"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if client.should_upload_keys:
        await client.keys_upload()
    staff_room = await make_staff_room(client, invite) if alert else None
    EchoBot(client, invite, staff_room)
    syncing = asyncio.create_task(client.sync_forever(timeout=30_000, full_state=True))
    await stop.wait()
    syncing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await syncing
    await client.close()


async def make_staff_room(client: AsyncClient, staff: Sequence[str]) -> str:
    answer = await client.room_create(name="floor staff", invite=list(staff),
                                      initial_state=[ENCRYPTION])
    if not isinstance(answer, RoomCreateResponse):
        raise RuntimeError(f"could not make the staff room: {answer}")
    return str(answer.room_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--invite", action="append", default=[], metavar="USER",
                        help="invite USER on each room's first text instead of echoing "
                             "(more than one: in turn)")
    parser.add_argument("--alert", action="store_true",
                        help="with --invite: a staff room of those users, and an alert there "
                             "on every later text")
    args = parser.parse_args()
    if args.alert and not args.invite:
        parser.error("--alert needs --invite")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.homeserver, args.user, args.device, args.store, args.invite,
                      args.alert))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
