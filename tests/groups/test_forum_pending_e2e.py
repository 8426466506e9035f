"""The moderation queue on real Synapse: a Matrix event is at most 64 KiB, and the bot sends
what nio sends (JSON with ASCII escapes, an "ä" costs 6 bytes, an emoji 12), encrypted.
``!forum pending`` put up to ten waiting posts of up to 4,000 characters each into one
message: ten long posts in German made it too large for the homeserver, the reply never
came, and the posts could not be read for moderation, nor could any after them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.conversation.forum import ForumTopic
from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_evening_e2e import join, setting
from tests.support.bot_harness import NioYouth, login, provision_bot, until

pytestmark = pytest.mark.integration

# Under the 4,000 characters a post may have; an "ä" in every word, as German has.
LONG = ("Prüfungsangst ärgert mich, später hätte ich gern Ruhe. " * 80)[:3900]


async def test_long_waiting_posts_are_still_shown_for_moderation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    host = await login(synapse, user_factory, tmp_path, "host")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                  clock=clock)
    process.settings = replace(process.settings, forum=(ForumTopic("schule", "Schule"),))
    await process.start()
    bot_id = process.user_id
    closing: list[NioYouth] = [host]
    try:
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        youth = await login(synapse, user_factory, tmp_path, "youth")
        closing.append(youth)
        home = await youth.open_chat(bot_id)
        await youth.wait_for(home, bot_id, "anonym")
        for n in range(10):  # SHOW_PENDING: a full page
            await youth.send(home, f"forum schule Beitrag {n}: {LONG}")

            async def received(n: int = n) -> bool:
                return len([b for r, s, b in youth.received if r == home and s == bot_id
                            and "Freigabe" in b]) > n
            await until(received, what=f"post {n} received")
        await host.send(staff_room, "!forum pending")
        shown = await host.wait_for(staff_room, bot_id, "Wartende Forum-Beiträge", within=60)
        assert "Beitrag 0:" in shown
        assert LONG[-200:] in shown, "a post is shown whole"
    finally:
        await process.stop()
        for client in closing:
            await client.close()
