"""A bot with one forum topic ("schule") on real Synapse, its host in the staff room and one
youth in a chat with the bot: the set-up of the forum's end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from counsel_bot.conversation.forum import ForumTopic
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import join, setting
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot


@dataclass(frozen=True)
class ForumOffice:
    process: BotProcess
    host: NioYouth
    staff_room: str
    youth: NioYouth
    home: str

    @property
    def bot_id(self) -> str:
        return self.process.user_id


@asynccontextmanager
async def forum_office(synapse: SynapseHandle, user_factory: UserFactory,
                       tmp_path: Path) -> AsyncIterator[ForumOffice]:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    process.settings = replace(process.settings, forum=(ForumTopic("schule", "Schule"),))
    await process.start()
    closing: list[NioYouth] = [host]
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        youth = await login(synapse, user_factory, tmp_path, "youth")
        closing.append(youth)
        home = await youth.open_chat(process.user_id)
        await youth.wait_for(home, process.user_id, "anonym")
        yield ForumOffice(process, host, staff_room, youth, home)
    finally:
        await process.stop()
        for client in closing:
            await client.close()
