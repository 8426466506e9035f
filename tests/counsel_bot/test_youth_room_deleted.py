"""A youth's room deleted by an admin while its conversation is open: the conversation ends,
and its counsellor's place is free. In the bot's own room (a youth moved there) the bot is
the first member, so Synapse's deletion removed it before the youth, and the bot never saw
the youth leave: the conversation stayed queued for good, a flagged one first in line, and
the next counsellor on duty was given a room that no longer existed (an outside review,
2026-12-06). Real Synapse, real E2E clients."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration


async def test_a_deleted_room_of_the_bots_own_ends_its_conversation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    youths = []
    try:
        staff_room = await counsellor.accept_invite(within=60)
        youth = await login(synapse, user_factory, tmp_path, "youth")
        youths.append(youth)
        first = await youth.open_chat(process.user_id, like_element=False)
        await youth.wait_for(first, process.user_id, "eigenen, verschlüsselten Raum", within=60)
        room = await youth.accept_invite(within=60)
        await youth.send(room, "ich will nicht mehr leben")
        await youth.wait_for(room, process.user_id, "116 111", within=60)
        record = await bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        await synapse.admin.delete_room_and_wait(room)
        # Within two minutes: a purge that ended before the bot's next sync takes the leave
        # the sync would report; the bot's look once a minute finds it (`missed_leaves`).
        await until(lambda: bot.conductor.router.conversation(record.conversation) is None,
                    within=120, what="the deleted room's conversation to end")

        await goes_on_duty(counsellor, staff_room, process.user_id)
        second = await login(synapse, user_factory, tmp_path, "youth")
        youths.append(second)
        other = await second.open_chat(process.user_id)
        await second.send(other, "hallo, ich brauche jemanden zum reden")
        await until(lambda: other in counsellor.invited_to(), within=60,
                    what="the next youth to reach the counsellor")
    finally:
        for one in youths:
            await one.close()
        await counsellor.close()
        await process.stop()
