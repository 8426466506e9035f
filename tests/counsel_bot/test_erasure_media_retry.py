"""A youth's erasure ("löschen") that stopped between deactivating the account and deleting
its files is tried again by the outbox; the second try found the account deactivated and
did nothing more, so every file the youth uploaded (the profile picture among them, stored
unencrypted) stayed on the homeserver for ever. On the real Synapse: the first deletion of
the files fails (a 502 from a proxy, a timeout), the retry must delete them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nio import AsyncClient

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.store import MemoryStore
from homeserver_bridge.admin_api import AdminClient
from homeserver_bridge.errors import AdminApiError
from tests.conftest import SynapseHandle, UserFactory
from tests.homeserver_bridge.test_erasure_media import _media_count
from tests.store.conftest import AeadSealer

pytestmark = pytest.mark.integration


class MediaDeletionFailsOnce(AdminClient):
    failed = False

    async def delete_media_of(self, user_id: str) -> int:
        if not self.failed:
            self.failed = True
            raise AdminApiError("the homeserver refused DELETE: 502", status=502)
        return await super().delete_media_of(user_id)


async def test_a_retried_erasure_deletes_the_files_the_first_try_left(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    youth = await user_factory("youth-retry")
    async with synapse.http.post(
        f"{synapse.base_url}/_matrix/media/v3/upload?filename=me.jpg", data=b"a selfie",
        headers={"Authorization": f"Bearer {youth.access_token}",
                 "Content-Type": "image/jpeg"},
    ) as response:
        assert response.status == 200, await response.text()
    assert await _media_count(synapse, youth.user_id) == 1

    async def no_staff_room() -> RoomID | None:
        return None

    client = AsyncClient(synapse.base_url, f"@counsel:{synapse.server_name}")
    executor = Executor(client, MemoryStore(AeadSealer()),
                        FakeClock(datetime(2026, 12, 6, tzinfo=UTC)),
                        default_language="de", staff_room=no_staff_room)
    executor.admin = MediaDeletionFailsOnce(synapse.admin.base_url,
                                            synapse.admin.access_token, synapse.http)
    try:
        with pytest.raises(AdminApiError):
            await executor._deactivate(UserID(youth.user_id))  # deactivated, files left
        await executor._deactivate(UserID(youth.user_id))  # the outbox tries again
    finally:
        await client.close()
    assert await _media_count(synapse, youth.user_id) == 0
