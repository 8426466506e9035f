"""A real E2E matrix-nio client that timestamps what it receives.

Times are ``time.perf_counter()`` taken in nio's callbacks, i.e. when the client has the
sync response (and, for messages, has decrypted it): what a person would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LocalProtocolError,
    MatrixRoom,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)

from bench.env import Account

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


@dataclass(frozen=True)
class Seen:
    room_id: str
    sender: str
    body: str
    at: float  # perf_counter when this client had it decrypted
    server_ms: int = 0  # the homeserver's origin_server_ts (wall clock, same machine)
    polled: float = 0.0  # perf_counter when the sync request that brought it was sent


Match = Callable[[Seen], bool]


class Participant:
    """What a benchmark sees of a client, wherever the client runs: the messages it had
    decrypted and the invitations it saw, with their times, and futures for those to come.
    ``BenchClient`` is one in this process; ``bench.remote.RemoteClient`` one in a process
    of its own."""

    def __init__(self) -> None:
        self.messages: list[Seen] = []
        self.invites: dict[str, float] = {}
        # When the sync request that brought each invitation was sent (perf_counter): a
        # sync sent after the invitation was on the server means the client was not waiting
        # in a long poll when it came (busy with the previous sync's keys and to-device work).
        self.invites_polled: dict[str, float] = {}
        # (room, invited user) -> origin_server_ts of the invitation, as a member sees it.
        self.invited_on_server: dict[tuple[str, str], int] = {}
        self._waiters: list[tuple[Match, asyncio.Future[Seen]]] = []
        self._invite_waiters: dict[str, asyncio.Future[float]] = {}

    @property
    def user_id(self) -> str:
        raise NotImplementedError

    def arrived(self, seen: Seen) -> None:
        self.messages.append(seen)
        for match, future in list(self._waiters):
            if not future.done() and match(seen):
                future.set_result(seen)
                self._waiters.remove((match, future))

    def invited(self, room_id: str, now: float, polled: float) -> None:
        self.invites.setdefault(room_id, now)
        self.invites_polled.setdefault(room_id, polled)
        waiter = self._invite_waiters.pop(room_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)

    def expect(self, match: Match) -> asyncio.Future[Seen]:
        """A future for the first message matching ``match`` from now on (or already seen)."""
        future: asyncio.Future[Seen] = asyncio.get_running_loop().create_future()
        for seen in self.messages:
            if match(seen):
                future.set_result(seen)
                return future
        self._waiters.append((match, future))
        return future

    def expect_invite(self, room_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if room_id in self.invites:
            future.set_result(self.invites[room_id])
        else:
            self._invite_waiters[room_id] = future
        return future

    async def open_direct(self, peer: str) -> str:
        raise NotImplementedError

    async def prepare_room(self, room_id: str, peer: str, within: float = 60) -> None:
        raise NotImplementedError

    async def share_room_key(self, room_id: str, members: int, within: float = 60) -> None:
        raise NotImplementedError

    async def send(self, room_id: str, body: str) -> float:
        raise NotImplementedError

    async def join(self, room_id: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class BenchClient(Participant):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__()
        self.client = client
        self._polled = 0.0  # when the sync request in flight was sent
        self._sync: asyncio.Task[Any] | None = None
        client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))
        client.add_event_callback(self._on_member, RoomMemberEvent)
        client.add_response_callback(self._on_sync, SyncResponse)
        sync = client.sync

        async def timed_sync(*args: Any, **kwargs: Any) -> Any:
            self._polled = time.perf_counter()
            return await sync(*args, **kwargs)

        client.sync = timed_sync

    @classmethod
    async def create(cls, base_url: str, account: Account, store: Path) -> BenchClient:
        store.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before syncing)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False,
                                   pickle_key="bench-client")
        client = AsyncClient(base_url, account.user_id, device_id=account.device_id,
                             store_path=str(store), config=config)
        client.restore_login(account.user_id, account.device_id, account.access_token)
        await client.keys_upload()
        bench = cls(client)
        bench._sync = asyncio.create_task(bench._sync_forever())
        return bench

    async def _sync_forever(self) -> None:
        """nio's sync loop, started again when it stops on nio's own race: its automatic
        keys_query after a sync raises LocalProtocolError when prepare_room's keys_query
        answered first. Without this the client would silently stop receiving."""
        while True:
            try:
                await self.client.sync_forever(timeout=30_000, full_state=True)
            except LocalProtocolError:
                continue

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def close(self) -> None:
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sync
        await self.client.close()

    # -- what arrives ---------------------------------------------------------------------

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        self.arrived(Seen(room.room_id, event.sender, event.body, time.perf_counter(),
                          int(event.server_timestamp), self._polled))

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        if event.membership == "invite":
            self.invited_on_server.setdefault((room.room_id, event.state_key),
                                              int(event.server_timestamp))

    async def _on_sync(self, response: SyncResponse) -> None:
        now = time.perf_counter()
        for room_id in response.rooms.invite:
            self.invited(room_id, now, self._polled)

    # -- what it does ---------------------------------------------------------------------

    async def open_direct(self, peer: str) -> str:
        """A direct chat as Element makes one: trusted_private_chat, encrypted from the start."""
        answer = await self.client.room_create(
            is_direct=True, invite=[peer], preset=RoomPreset.trusted_private_chat,
            initial_state=[ENCRYPTION],
        )
        if not isinstance(answer, RoomCreateResponse):
            raise RuntimeError(f"room_create failed: {answer}")
        return str(answer.room_id)

    async def prepare_room(self, room_id: str, peer: str, within: float = 60) -> None:
        """Wait until the peer has joined and its device is known, then share the room key,
        so a timed send measures the message, not the one-off key exchange."""
        deadline = time.perf_counter() + within
        while True:
            room = self.client.rooms.get(room_id)
            joined = room is not None and peer in room.users and peer not in room.invited_users
            if joined and self.client.olm is not None:
                if self.client.should_query_keys:
                    await self.client.keys_query()
                if self.client.device_store.active_user_devices(peer):
                    break
            if time.perf_counter() > deadline:
                raise TimeoutError("the peer did not join or has no device keys")
            await asyncio.sleep(0.05)
        await self.client.share_group_session(room_id, ignore_unverified_devices=True)

    async def share_room_key(self, room_id: str, members: int, within: float = 60) -> None:
        """Once this client sees ``members`` members (joined or invited) in the room, do now
        what nio's room_send would do first: learn their devices and share the room key. nio
        drops a room's key on every membership change (an invitation too), and a sample times
        the message, not the key exchange."""
        deadline = time.perf_counter() + within
        while (room := self.client.rooms.get(room_id)) is None or len(room.users) < members:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the room never had {members} members")
            await asyncio.sleep(0.05)
        if not room.members_synced:
            await self.client.joined_members(room_id)
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.olm is not None and self.client.olm.should_share_group_session(room_id):
            await self.client.share_group_session(room_id, ignore_unverified_devices=True)
            await asyncio.sleep(0.2)  # the recipients' syncs take the key, not the timed message's

    async def send(self, room_id: str, body: str) -> float:
        """Send a text message; return the time just before sending."""
        started = time.perf_counter()
        answer = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body},
            ignore_unverified_devices=True,
        )
        if not isinstance(answer, RoomSendResponse):
            raise RuntimeError(f"room_send failed: {answer}")
        return started

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)
