"""The main staff room the homeserver refused to create at the bot's first start (its rate
limit, a proxy's error page, a busy database): it was asked for once, on the first sync,
and never again until a restart. Every staff notice, each crisis alert too, then waited as
"not synced yet" for a room that was never made, and no counsellor learnt of a youth in
crisis. The room is now asked for again while a notice waits for it.

Real Synapse, real E2E clients; the refusal is the bot's nio client answering as nio does
for a refused room (the shape of test_office_room_refused_at_start)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, RoomCreateError

from counsel_bot.channels.matrix import staff_room as staff_room_module
from counsel_bot.core.ids import RoomID, UserID
from counsel_bot.core.messages import text
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import office, until

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


async def test_a_crisis_alert_waits_until_the_bot_sees_its_invitations_to_a_new_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CI (2 cores, four workers): the counsellor could not decrypt the alert. The bot's
    sync brought the new room before the invitation the bot had just sent into it, the
    alert went at once, and nio shared its room key with the members it knew: nobody. The
    counsellor, invited a moment later, got only later keys. Here the invitation reaches the
    bot's client late on purpose: after its first room key in the room (or 5 s)."""
    create = AsyncClient.room_create
    refusing = True
    invite_each = staff_room_module.invite_each
    late: list[asyncio.Task[list[UserID]]] = []

    async def refused_at_the_start(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        if refusing and kwargs.get("name") == text("staff_room_name", "de"):
            return RoomCreateError("too many rooms for now", "M_LIMIT_EXCEEDED")
        return await create(self, *args, **kwargs)

    async def invited_late(client: AsyncClient, room_id: RoomID,
                           users: Collection[UserID]) -> list[UserID]:
        async def later() -> list[UserID]:
            def key_shared() -> bool:
                return client.olm is not None and room_id in client.olm.outbound_group_sessions
            with contextlib.suppress(AssertionError):
                await until(key_shared, within=5, what="the bot's first key in the room")
            return await invite_each(client, room_id, users)
        late.append(asyncio.create_task(later()))
        return []

    monkeypatch.setattr(AsyncClient, "room_create", refused_at_the_start)
    monkeypatch.setattr(staff_room_module, "invite_each", invited_late)
    async with office(synapse, user_factory, tmp_path) as o:
        assert await o.bot.staff_room() is None
        refusing = False
        room = await o.youth.open_chat(o.bot_user)
        await o.youth.send(room, CRISIS)

        staff_room = await o.counsellor.accept_invite(within=60)
        await o.counsellor.wait_for(staff_room, o.bot_user, "KRISENHINWEIS", within=60)
        assert [await task for task in late] == [[]]
