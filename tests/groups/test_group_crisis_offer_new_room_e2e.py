"""A youth who left their own chat writes crisis words in a group: the bot offers the 1:1
in a new room it opens for them (`GroupRooms._new_home`), and they answer there. The offer
was noted for the room they had left (`group_crisis.offer_key`), so the chat their answer
opened waited unflagged in the queue, behind everybody else: nobody on duty knew it was the
youth of the group's alert. Real Synapse, nio youths, an injected clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from counsel_bot.core.ids import RoomID
from counsel_bot.core.routing.model import CrisisStatus
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import crisis_after_leaving, group_announced
from tests.support.bot_harness import until

pytestmark = pytest.mark.integration


async def test_the_answer_to_a_crisis_offer_in_a_new_room_opens_a_flagged_chat(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
) -> None:
    async with group_announced(synapse, user_factory, tmp_path) as evening:
        bot = evening.process.bot
        assert bot is not None
        b, b_home, group_room = await crisis_after_leaving(synapse, user_factory, tmp_path,
                                                           evening)
        b_new = await b.accept_invite()
        assert b_new not in (b_home, group_room)
        await b.wait_for(b_new, evening.bot_id, "allein mit jemandem reden")
        await b.send(b_new, "ja bitte")

        async def opened() -> bool:
            return await bot.store.conversation_by_room(RoomID(b_new)) is not None

        await until(opened, what="the chat the answer opens")
        record = await bot.store.conversation_by_room(RoomID(b_new))
        assert record is not None
        current = bot.conductor.router.conversation(record.conversation)
        assert current is not None
        assert current.crisis is CrisisStatus.RAISED, (
            "the youth of the group's crisis alert waits unflagged behind everybody else")
