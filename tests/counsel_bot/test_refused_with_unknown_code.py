"""Synapse answers many refusals for good with a 4xx and the catch-all code M_UNKNOWN (an
invitation into a room an admin blocked: 403 "This room has been blocked on this server").
The executor took every M_UNKNOWN for the homeserver being away, so such an effect was
tried again every few seconds for ever, and everything after it in the conversation waited
behind it: a youth's emergency numbers after their counsellor's invitation never came.
Real Synapse, the real bot, nio clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import office, on_duty

pytestmark = pytest.mark.integration


async def test_an_invitation_refused_for_good_does_not_hold_back_the_emergency_numbers(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        youth, bot = o.youth, o.bot_user
        await on_duty(o.counsellor, bot)
        room = await youth.open_chat(bot)
        await youth.wait_for_join(room, within=60)
        # An admin blocks the room (abuse, say): joins and invitations are refused there,
        # messages are not.
        url = f"{synapse.base_url}/_synapse/admin/v1/rooms/{room}/block"
        headers = {"Authorization": f"Bearer {synapse.admin.access_token}"}
        async with synapse.http.put(url, json={"block": True}, headers=headers) as answer:
            assert answer.status == 200, await answer.text()

        await youth.send(room, "ich will nicht mehr leben")
        # The counsellor's invitation is refused; the numbers come all the same.
        await youth.wait_for(room, bot, "116 111", within=60)
