"""A join the homeserver answers late, with a real Synapse behind a delaying proxy.

The bot joins a room it is invited to inside its sync loop, and nio asks again for ever when
a request times out (30 s each): while one youth's join went unanswered, the bot read nobody,
so another youth's crisis words reached no one (`test_slow_join` shows it on fakes). Here the
proxy passes the join on to Synapse at once, which performs it, and holds back Synapse's
answer for two minutes, each time it is asked: the bot must go on reading the others, and
still welcome the youth whose join was answered late, once a sync shows it joined.

Real Synapse, the real bot; the proxy is a few lines of aiohttp in front of Synapse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from nio import RoomPreset

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, office

pytestmark = pytest.mark.integration

ANSWER_DELAY_SECONDS = 120


class DelayingProxy:
    """Passes every request on to Synapse; the answer to a join of ``slow_room`` waits."""

    def __init__(self, synapse: SynapseHandle) -> None:
        self.synapse = synapse
        self.slow_room: str | None = None
        self.held_back = asyncio.Event()  # a join's answer is being held back
        self.url = ""

    async def forward(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type")}
        async with self.synapse.http.request(
                request.method, self.synapse.base_url + request.raw_path,
                data=await request.read(), headers=headers) as answer:
            body = await answer.read()
            status, kind = answer.status, answer.content_type
        if request.method == "POST" and "/join/" in request.path \
                and self.slow_room is not None and self.slow_room in request.path:
            self.held_back.set()
            await asyncio.sleep(ANSWER_DELAY_SECONDS)
        return web.Response(status=status, body=body, content_type=kind)


@pytest_asyncio.fixture(loop_scope="session")
async def proxy(synapse: SynapseHandle) -> AsyncIterator[DelayingProxy]:
    delaying = DelayingProxy(synapse)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", delaying.forward)
    server = TestServer(app)
    await server.start_server()
    delaying.url = str(server.make_url("")).rstrip("/")
    try:
        yield delaying
    finally:
        await server.close()


async def test_a_join_answered_late_holds_nobody_elses_crisis_alert(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path, proxy: DelayingProxy,
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        staff_room = await o.counsellor.accept_invite(within=60)
        o.bot.client.homeserver = proxy.url  # from now on the bot talks through the proxy
        slow = await login(synapse, user_factory, tmp_path, "far")
        try:
            # A direct chat as Element makes one, the bot invited once its id is known.
            made = await slow.client.room_create(
                is_direct=True, preset=RoomPreset.trusted_private_chat,
                initial_state=[{"type": "m.room.encryption", "state_key": "",
                                "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
            proxy.slow_room = made.room_id
            await slow.client.room_invite(made.room_id, o.bot_user)
            await asyncio.wait_for(proxy.held_back.wait(), 60)

            # Another youth, meanwhile: their crisis words must reach the staff.
            other = await o.youth.open_chat(o.bot_user)
            await o.youth.send(other, "ich will mich umbringen")
            await o.counsellor.wait_for(staff_room, o.bot_user, "KRISENHINWEIS", within=30)

            # The late-answered join was performed: that youth is welcomed all the same, here
            # asked into the bot's own room (invited after the room was made, the bot holds
            # no power in it to remove anyone again).
            await slow.wait_for(made.room_id, o.bot_user, "verschlüsselten Raum", within=60)
        finally:
            await slow.close()
