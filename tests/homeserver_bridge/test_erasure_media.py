"""Erasing a youth's account deletes every file they uploaded, on the real Synapse: its admin
API deletes 100 per call (the newest first), so one call left older files (a profile picture
among them, stored unencrypted) behind."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from tests.conftest import SynapseHandle, UserFactory

pytestmark = pytest.mark.integration

UPLOADS = 101  # one more than Synapse deletes in one call


async def test_erasure_deletes_every_upload_not_just_the_newest_hundred(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    youth = await user_factory("youth-media")
    headers = {"Authorization": f"Bearer {youth.access_token}", "Content-Type": "text/plain"}

    async def upload(n: int) -> None:
        async with synapse.http.post(
            f"{synapse.base_url}/_matrix/media/v3/upload?filename=f{n}.txt",
            data=f"file {n}".encode(), headers=headers,
        ) as response:
            assert response.status == 200, await response.text()

    for start in range(0, UPLOADS, 20):
        await asyncio.gather(*(upload(n) for n in range(start, min(start + 20, UPLOADS))))
    assert await _media_count(synapse, youth.user_id) == UPLOADS

    await synapse.admin.deactivate(youth.user_id, erase=True)

    assert await _media_count(synapse, youth.user_id) == 0


async def _media_count(synapse: SynapseHandle, user_id: str) -> int:
    answer = await synapse.admin.request(
        "GET", f"/_synapse/admin/v1/users/{quote(user_id, safe='')}/media?limit=1"
    )
    return int(answer["total"])
