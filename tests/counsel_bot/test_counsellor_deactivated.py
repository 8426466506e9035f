"""A counsellor's account deactivated while on duty (someone leaves the office, IT closes
the account without a "!duty off"): they go off duty, their youth back to the queue, and no
new youth is given to the account. Before, routing went on inviting youths to it, and each
waited for the 30-minute response timer (an outside review, 2026-12-06). Real Synapse."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID, UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_deactivated_counsellor_goes_off_duty_and_gets_no_youth(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  team_leads=[lead.client.user_id])
    bot = await process.start()
    gone = UserID(counsellor.client.user_id)
    youths = []
    try:
        staff_room = await counsellor.accept_invite(within=60)
        await lead.accept_invite(within=60)
        await goes_on_duty(counsellor, staff_room, process.user_id)
        first = await login(synapse, user_factory, tmp_path, "youth")
        youths.append(first)
        room = await first.open_chat(process.user_id)
        await first.send(room, "hallo, ich hab stress zuhause")
        assert await counsellor.accept_invite(within=60) == room
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        await counsellor.close()
        await synapse.admin.deactivate(gone, erase=False)

        def off_duty() -> bool:
            me = bot.conductor.router.counsellor(gone)
            return me is not None and not me.on_duty
        await until(off_duty, within=30, what="the deactivated counsellor to go off duty")
        current = bot.conductor.router.conversation(record.conversation)
        assert current is not None
        assert current.assigned_to is None
        await lead.wait_for(staff_room, process.user_id, "kein angemeldetes Gerät", within=30)
        # Nobody else on duty takes the youth now: the lead is called for them by name.
        await lead.wait_for(staff_room, process.user_id, "niemand sonst im Dienst", within=30)

        second = await login(synapse, user_factory, tmp_path, "youth")
        youths.append(second)
        other = await second.open_chat(process.user_id)
        await second.send(other, "hallo, ich brauche jemanden zum reden")
        await second.wait_for(other, process.user_id, "Platz", within=60)
        newer = await bot.store.conversation_by_room(RoomID(other))
        assert newer is not None
        waiting = bot.conductor.router.conversation(newer.conversation)
        assert waiting is not None
        assert waiting.assigned_to is None
    finally:
        for youth in youths:
            await youth.close()
        await lead.close()
        await process.stop()
