"""An office whose staff room the homeserver refused to create at the bot's start (its rate
limit, a proxy's error page, a busy database): the room was asked for once, on the first
sync, and never again until a restart. Every notice for that office, a crisis alert too,
then waited for a room that was never made: the office's staff never learnt of its youth
in crisis. The room is now asked for again while a notice waits for it.

Real Synapse, real E2E clients; the refusal is the bot's nio client answering as nio does
for a refused room (the shape of test_staff_room_lost)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, RoomCreateError

from counsel_bot.config import OfficeSettings, RoutingSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"
OFFICE_NAME = "Familienberatung"


async def test_an_office_room_refused_at_the_start_is_made_for_its_crisis_alert(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    anna = await login(synapse, user_factory, tmp_path, "anna")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[])
    process.settings = replace(
        process.settings, routing=RoutingSettings(fallback_office="familie"),
        offices=(OfficeSettings(id="familie", name=OFFICE_NAME, topics=("family",),
                                postcodes=("89",), counsellors=(anna.client.user_id,)),))
    create = AsyncClient.room_create
    refusing = True

    async def refused_at_the_start(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        if refusing and OFFICE_NAME in str(kwargs.get("name", "")):
            return RoomCreateError("too many rooms for now", "M_LIMIT_EXCEEDED")
        return await create(self, *args, **kwargs)

    monkeypatch.setattr(AsyncClient, "room_create", refused_at_the_start)
    bot = await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        await anna.accept_invite(within=60)  # the main staff room
        assert await bot.office_rooms.room_of("familie") is None
        refusing = False  # the homeserver takes rooms again
        room = await youth.open_chat(process.user_id)
        await youth.send(room, "Stress mit meinen Eltern, 89073")
        await youth.send(room, CRISIS)

        office_room = await anna.accept_invite(within=60)
        assert await bot.office_rooms.room_of("familie") == office_room
        await anna.wait_for(office_room, process.user_id, "KRISENHINWEIS", within=60)
    finally:
        await youth.close()
        await anna.close()
        await process.stop()
