"""Taking someone out of a youth's room takes back an invitation too, even one nio has not
seen yet. The executor asked nio's copy of the room whether they were in it: between the
invitation and the sync that reports it (after an outage, both effects wait in the outbox
and run back to back; a chat closed right after its assignment; a lead who ends reading
along at once) the answer was no, nothing was done, and the invitation stood. Whoever
held it could accept it later: a lead (her power level already set back) sat unannounced
in the room of a youth told she no longer reads along. Real Synapse; the bot's client
syncs once, before, so the invitation is one nio has not seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nio import AsyncClient, RoomCreateResponse, RoomGetStateEventResponse

from counsel_bot.channels.matrix.executor import Executor
from counsel_bot.core.clock import FakeClock
from counsel_bot.core.effects import Supervise
from counsel_bot.core.ids import ConversationID, RoomID, UserID
from counsel_bot.core.routing import Router
from counsel_bot.store import MemoryStore
from tests.conftest import SynapseHandle, UserFactory
from tests.retention.conftest import closed_conversation
from tests.store.conftest import AeadSealer
from tests.support.bot_harness import trust

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
CASE = ConversationID("C-0000BEEF")


async def test_ending_supervision_takes_back_an_invitation_nio_has_not_seen(
    synapse: SynapseHandle, user_factory: UserFactory
) -> None:
    bot, lead = await user_factory("bot"), await user_factory("lead")
    trust(synapse, lead.user_id, bots=[bot.user_id])
    client = AsyncClient(synapse.base_url, bot.user_id, device_id=bot.device_id)
    client.access_token = bot.access_token
    store = MemoryStore(AeadSealer())
    try:
        created = await client.room_create()
        assert isinstance(created, RoomCreateResponse), created
        room = RoomID(created.room_id)
        await client.sync(timeout=0)
        assert room in client.rooms
        await closed_conversation(store, Router(), CASE, room, UserID("@youth:x"),
                                  AT - timedelta(minutes=5), AT)

        async def staff_room() -> RoomID:
            return RoomID("!staff:x")

        executor = Executor(client, store, FakeClock(AT), default_language="de",
                            staff_room=staff_room)
        executor.rooms_known()
        await executor.perform(Supervise(CASE, UserID(lead.user_id)), "start")
        await executor.perform(Supervise(CASE, UserID(lead.user_id), end=True), "end")

        state = await client.room_get_state_event(room, "m.room.member", lead.user_id)
        assert isinstance(state, RoomGetStateEventResponse), state
        assert state.content.get("membership") != "invite", \
            "the lead's invitation stood after reading along ended"
        # Once more (a replay after a crash): nobody to take out, and no failure.
        await executor.perform(Supervise(CASE, UserID(lead.user_id), end=True), "end")
    finally:
        await client.close()
        await store.close()
