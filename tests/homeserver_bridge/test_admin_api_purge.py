"""A room's purge asked for while one is still running, on the real Synapse.

Synapse refuses a second deletion of a room whose purge is still under way ("Purge already
in progress", 400). That happens when a try stopped waiting (the homeserver slow, or
restarted and resuming the task) and is repeated, or when retention and a youth's
"löschen" purge the same room at once. The executor took the 400 for a final refusal (a
youth's erasure set aside for good, a group room's purge given up) and retention for a
failed attempt. Now the purge that is running is waited for."""

from __future__ import annotations

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.retention.test_synapse import room_with_messages
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration


async def test_a_purge_already_running_is_waited_for_not_refused(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    youth = await user_factory("youth")
    client = MatrixHttp(synapse.http, synapse.base_url, youth.access_token)
    overlapped = False
    for _ in range(5):  # a room with some history takes long enough to purge to overlap
        room = await room_with_messages(client, count=60)
        running = await synapse.admin.delete_room(room)
        deletion = await synapse.admin.delete_room_and_wait(room)
        assert deletion.status == "complete"
        assert not await synapse.admin.room_exists(room)
        if deletion.delete_id == running.delete_id:
            overlapped = True
            break
    assert overlapped, "the first purge always ended before the second was asked for"
