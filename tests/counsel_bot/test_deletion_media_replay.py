"""A youth's deletion stopped between the deactivation and the deletion of their files
(the bot killed, the homeserver away for a moment) finishes after the restart: the files
(pictures they sent, their profile picture, which is never encrypted) go as well. Before,
the repeated step saw the account deactivated and did nothing more. Real Synapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.channels.outbox_worker import EffectFailed
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import DeactivateYouth
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import Router
from counsel_bot.store import MemoryStore
from homeserver_bridge.errors import AdminApiError
from tests.conftest import SynapseHandle, UserFactory
from tests.retention.conftest import closed_conversation
from tests.store.conftest import AeadSealer

pytestmark = pytest.mark.integration

CID = ConversationID("C-00ME01A0")
AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class StoppedAfterDeactivation:
    """The real admin API, except that the first deactivation stops right after Synapse
    deactivated the account, before the files are deleted."""

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.stopped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.admin, name)

    async def deactivate(self, user_id: str, *, erase: bool = True) -> None:
        if not self.stopped:
            self.stopped = True
            await self.admin.request("POST", f"/_synapse/admin/v1/deactivate/"
                                     f"{quote(user_id, safe='')}", {"erase": erase})
            raise AdminApiError("the homeserver is away", status=0)
        await self.admin.deactivate(user_id, erase=erase)


async def _media_count(synapse: SynapseHandle, user_id: str) -> int:
    answer = await synapse.admin.request(
        "GET", f"/_synapse/admin/v1/users/{quote(user_id, safe='')}/media?limit=1")
    return int(answer["total"])


async def test_a_deletion_stopped_after_the_deactivation_deletes_the_files_on_repeat(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    youth = await user_factory("youth-media-replay")
    async with synapse.http.post(
        f"{synapse.base_url}/_matrix/media/v3/upload?filename=arm.jpg",
        data=b"a picture of my arm", headers={"Authorization": f"Bearer {youth.access_token}",
                                              "Content-Type": "image/jpeg"},
    ) as response:
        assert response.status == 200, await response.text()
    assert await _media_count(synapse, youth.user_id) == 1

    store = MemoryStore(AeadSealer())
    await closed_conversation(store, Router(), CID, RoomID("!gone:x"), UserID(youth.user_id),
                              AT - timedelta(hours=1), AT)
    executor = Executor(SimpleNamespace(user_id="@bot:x"), store,  # type: ignore[arg-type]
                        FakeClock(AT), default_language="de", staff_room=_no_staff_room)
    executor.admin = StoppedAfterDeactivation(synapse.admin)
    with pytest.raises(EffectFailed) as failed:
        await executor.perform(DeactivateYouth(CID), f"deactivate:{CID}")
    assert not failed.value.permanent  # tried again, after a restart if need be
    assert (await synapse.admin.get_user(youth.user_id)).deactivated

    await executor.perform(DeactivateYouth(CID), f"deactivate:{CID}")
    assert await _media_count(synapse, youth.user_id) == 0, "the youth's files are still there"


async def _no_staff_room() -> RoomID | None:
    return None
