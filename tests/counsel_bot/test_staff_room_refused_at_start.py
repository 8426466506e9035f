"""The main staff room the homeserver refused to create at the bot's first start (its rate
limit, a proxy's error page, a busy database): it was asked for once, on the first sync,
and never again until a restart. Every staff notice, each crisis alert too, then waited as
"not synced yet" for a room that was never made, and no counsellor learnt of a youth in
crisis. The room is now asked for again while a notice waits for it.

Real Synapse, real E2E clients; the refusal is the bot's nio client answering as nio does
for a refused room (the shape of test_office_room_refused_at_start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, RoomCreateError

from counsel_bot.core.messages import text
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import office

pytestmark = pytest.mark.integration

CRISIS = "ich will nicht mehr leben, ich bring mich heute um"


async def test_a_staff_room_refused_at_the_start_is_made_for_the_crisis_alert(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create = AsyncClient.room_create
    refusing = True

    async def refused_at_the_start(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        if refusing and kwargs.get("name") == text("staff_room_name", "de"):
            return RoomCreateError("too many rooms for now", "M_LIMIT_EXCEEDED")
        return await create(self, *args, **kwargs)

    monkeypatch.setattr(AsyncClient, "room_create", refused_at_the_start)
    async with office(synapse, user_factory, tmp_path) as o:
        assert await o.bot.staff_room() is None
        refusing = False  # the homeserver takes rooms again
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.send(room, CRISIS)

        staff_room = await o.counsellor.accept_invite(within=60)
        await o.counsellor.wait_for(staff_room, o.bot_user, "KRISENHINWEIS", within=60)
