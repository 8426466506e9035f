"""The Element-stack test youth (tests/js/youth.mjs) really is strict.

Two cross-signed youths must talk; an unsigned nio device must be refused both ways; the
same unsigned device must be accepted by a non-strict youth, so the refusal is provably the
isolation mode's doing and not a broken nio setup.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nio import AsyncClient, AsyncClientConfig, LoginResponse, MegolmEvent, RoomMessageText

from counsel_bot.core.ids import RoomID, UserID
from tests.support.bot_harness import trust
from tests.support.js_client import JsClient, UndecryptableMessage, open_js_client

if TYPE_CHECKING:
    # Only for annotations: imported at run time, pytest would try to collect TestUser.
    from tests.conftest import SynapseHandle, TestUser, UserFactory

pytestmark = pytest.mark.integration

UNSIGNED = "UNSIGNED_SENDER_DEVICE"


async def until(condition: Callable[[], bool], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def youth_session(
    synapse: SynapseHandle, user: TestUser, *, strict: bool = True
) -> AsyncIterator[JsClient]:
    async with open_js_client() as youth:
        info = await youth.login(synapse.base_url, user.user_id, user.password, strict=strict)
        assert info.strict is strict
        await youth.start()
        yield youth


class NioPeer:
    """A plain matrix-nio 0.26 device: E2EE via vodozemac, never cross-signed."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.texts: list[tuple[str, str]] = []
        self.undecryptable: list[str] = []
        client.add_event_callback(self._on_text, RoomMessageText)
        client.add_event_callback(self._on_megolm, MegolmEvent)

    async def _on_text(self, _room: object, event: RoomMessageText) -> None:
        self.texts.append((event.sender, event.body))

    async def _on_megolm(self, _room: object, event: MegolmEvent) -> None:
        self.undecryptable.append(event.sender)

    async def join_encrypted(self, room_id: RoomID, other: UserID) -> None:
        await until(lambda: room_id in self.client.invited_rooms, "nio to see the invite")
        await self.client.join(room_id)
        room = self.client.rooms
        await until(lambda: room_id in room and room[room_id].encrypted, "nio to join")
        # nio shares its room key only with devices it has queried.
        devices = self.client.device_store
        await until(
            lambda: any(True for _ in devices.active_user_devices(other)),
            "nio to learn the youth's devices",
        )

    async def send(self, room_id: RoomID, body: str) -> None:
        content = {"msgtype": "m.text", "body": body}
        await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )


@contextlib.asynccontextmanager
async def nio_peer(synapse: SynapseHandle, user: TestUser, store: Path) -> AsyncIterator[NioPeer]:
    config = AsyncClientConfig(encryption_enabled=True, pickle_key="test-only-pickle-key")
    client = AsyncClient(synapse.base_url, user.user_id, store_path=str(store), config=config)
    response = await client.login(user.password, device_name="counsel test nio peer")
    assert isinstance(response, LoginResponse), response
    syncing = asyncio.create_task(client.sync_forever(timeout=500, full_state=True))
    try:
        await until(
            lambda: client.logged_in and client.should_upload_keys is False,
            "nio to upload its device keys",
        )
        yield NioPeer(client)
    finally:
        syncing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await syncing
        await client.close()


async def test_two_strict_youths_exchange_encrypted_dm(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    alice, bob = await user_factory("youth-a"), await user_factory("youth-b")
    # Bob stands for the counselling side: the homeserver lets youths invite only it.
    trust(synapse, bots=[bob.user_id])
    async with youth_session(synapse, alice) as a, youth_session(synapse, bob) as b:
        room = await a.create_dm(UserID(bob.user_id))
        assert await b.wait_for_invite() == room

        await a.send(room, "hello from a")
        got = await b.wait_for_message(room, sender=UserID(alice.user_id), contains="hello")
        assert got.body == "hello from a"
        assert 0 < got.server_ms <= got.decrypted_ms  # what bench.element_staff times
        await a.send(room, "hello again from a")
        again = await b.wait_for_message(room, contains=["hello", "again"],
                                         after_ms=got.server_ms + 1)
        assert again.body == "hello again from a"

        await b.send(room, "hello back from b")
        back = await a.wait_for_message(room, sender=UserID(bob.user_id), contains="back")
        assert back.body == "hello back from b"

        for youth in (a, b):
            seen = await youth.messages(room)
            assert seen.bodies == ("hello from a", "hello again from a", "hello back from b")
            assert seen.undecryptable == 0


async def test_strict_youth_refuses_unsigned_nio_device(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    youth_user, nio_user = await user_factory("youth"), await user_factory("nio")
    trust(synapse, bots=[nio_user.user_id])  # the nio device stands for the bot's
    async with (
        youth_session(synapse, youth_user) as youth,
        nio_peer(synapse, nio_user, tmp_path) as nio,
    ):
        room = await youth.create_dm(UserID(nio_user.user_id))
        await nio.join_encrypted(room, UserID(youth_user.user_id))

        await nio.send(room, "from the unsigned device")
        failed = await youth.wait_for_undecryptable(room, sender=UserID(nio_user.user_id))
        assert failed.reason == UNSIGNED
        with pytest.raises(UndecryptableMessage) as refused:
            await youth.wait_for_message(room, sender=UserID(nio_user.user_id), within=2.0)
        assert refused.value.reasons == (UNSIGNED,)

        # The youth withholds its room key from the unsigned device.
        await youth.send(room, "not for unsigned devices")
        await until(lambda: youth_user.user_id in nio.undecryptable, "nio to get the message")
        assert [body for sender, body in nio.texts if sender == youth_user.user_id] == []


async def test_lax_youth_accepts_the_same_unsigned_nio_device(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    youth_user, nio_user = await user_factory("youth"), await user_factory("nio")
    trust(synapse, bots=[nio_user.user_id])  # the nio device stands for the bot's
    async with (
        youth_session(synapse, youth_user, strict=False) as youth,
        nio_peer(synapse, nio_user, tmp_path) as nio,
    ):
        room = await youth.create_dm(UserID(nio_user.user_id))
        await nio.join_encrypted(room, UserID(youth_user.user_id))

        await nio.send(room, "from the unsigned device")
        got = await youth.wait_for_message(room, sender=UserID(nio_user.user_id))
        assert got.body == "from the unsigned device"

        await youth.send(room, "readable by all devices")
        await until(
            lambda: (youth_user.user_id, "readable by all devices") in nio.texts,
            "nio to decrypt the youth's message",
        )
