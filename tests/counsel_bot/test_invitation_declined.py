"""A counsellor who declines the invitation into a youth's room, or whose invitation the
youth withdraws, no longer holds the youth: the conversation goes back to the queue at
once. Before, only a leave after a join counted, and the youth waited for the 30-minute
response timer (an outside review, 2026-12-06). Real Synapse, real E2E clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from counsel_bot.channels.matrix.bot import CounselBot
from counsel_bot.core.ids import ConversationID, RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration


async def on_duty(counsellor: NioYouth, bot: str) -> None:
    staff_room = await counsellor.accept_invite(within=60)
    await goes_on_duty(counsellor, staff_room, bot)


async def invited_youth(synapse: SynapseHandle, user_factory: UserFactory, tmp: Path,
                        bot: CounselBot, counsellor: NioYouth) -> tuple[NioYouth, str,
                                                                         ConversationID]:
    youth = await login(synapse, user_factory, tmp, "youth")
    room = await youth.open_chat(bot.user_id)
    await youth.send(room, "hallo, ich hab stress zuhause")
    await until(lambda: room in counsellor.invited_to(), within=60, what="the invitation")
    record = await bot.store.conversation_by_room(RoomID(room))
    assert record is not None
    return youth, room, record.conversation


async def handed_back(bot: CounselBot, conversation: ConversationID) -> None:
    def waiting() -> bool:
        current = bot.conductor.router.conversation(conversation)
        return current is not None and current.assigned_to is None
    await until(waiting, within=30, what="the conversation to go back to the queue")


async def declined(counsellor: NioYouth, youth: NioYouth, room: str) -> None:
    await counsellor.client.room_leave(room)  # Element's "Decline"


async def withdrawn(counsellor: NioYouth, youth: NioYouth, room: str) -> None:
    # In a room Element made the youth holds full power, and may withdraw an invitation.
    await youth.client.room_kick(room, counsellor.client.user_id)


@pytest.mark.parametrize("refuse", [declined, withdrawn])
async def test_an_invitation_declined_or_withdrawn_hands_the_youth_back(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path,
    refuse: Callable[[NioYouth, NioYouth, str], Awaitable[None]],
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    bot = await process.start()
    youth = None
    try:
        await on_duty(counsellor, process.user_id)
        youth, room, conversation = await invited_youth(synapse, user_factory, tmp_path, bot,
                                                         counsellor)
        await refuse(counsellor, youth, room)
        await handed_back(bot, conversation)
    finally:
        if youth is not None:
            await youth.close()
        await counsellor.close()
        await process.stop()
