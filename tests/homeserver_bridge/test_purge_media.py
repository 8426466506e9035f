"""A room's purge (retention, a youth's deletion, a group's end) takes the files sent in it
too, on the real Synapse. Its room deletion purges the events, not the files they point
to: a picture a youth sent in a room that was not encrypted (the first room of a move, say)
stayed on the server, readable by anyone who has its address, after the conversation was
erased. The account lives on after retention, so the deactivation does not take it either."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.support.matrix_http import MatrixHttp

pytestmark = pytest.mark.integration


async def test_purging_a_room_deletes_the_files_sent_in_it(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    youth = await user_factory("youth-picture")
    matrix = MatrixHttp(synapse.http, synapse.base_url, youth.access_token)
    status, created = await matrix.create_room(preset="private_chat")
    assert status == 200, created
    room = created["room_id"]
    async with synapse.http.post(
        f"{synapse.base_url}/_matrix/media/v3/upload?filename=arm.jpg",
        data=b"a picture of my arm", headers={"Authorization": f"Bearer {youth.access_token}",
                                              "Content-Type": "image/jpeg"},
    ) as response:
        assert response.status == 200, await response.text()
        mxc = (await response.json())["content_uri"]
    status, sent = await matrix.call(
        "PUT", f"/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/t1",
        {"msgtype": "m.image", "body": "arm.jpg", "url": mxc})
    assert status == 200, sent
    assert await _media_count(synapse, youth.user_id) == 1

    await synapse.admin.delete_room_and_wait(room)

    assert not await synapse.admin.room_exists(room)
    assert await _media_count(synapse, youth.user_id) == 0, "the picture is still there"


async def _media_count(synapse: SynapseHandle, user_id: str) -> int:
    answer = await synapse.admin.request(
        "GET", f"/_synapse/admin/v1/users/{quote(user_id, safe='')}/media?limit=1")
    return int(answer["total"])
