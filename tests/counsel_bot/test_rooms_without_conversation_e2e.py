"""A youth's chat with the bot where no conversation ever opened (they only posted in the
forum, signed up for a group, or were greeted and wrote nothing) is purged some time after
its last activity, as a closed conversation's room is: retention works per conversation and
found no such room, so it stayed on the homeserver for good, the forum post the youth wrote
there included, and the store (``greeted:<room>``) and nio's store named it. Real Synapse,
the bot's own retention schedule, a fake clock."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.conversation.idle_rooms import last_seen
from counsel_bot.core.ids import RoomID
from counsel_bot.runtime.runner import LAST_RETENTION_KEY
from homeserver_bridge.paths import write_private
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.forum_office import forum_office
from tests.support.bot_harness import until

pytestmark = pytest.mark.integration

POST = "forum schule Meine Lehrerin schreit mich jeden Tag vor allen an"


def _named_in_nio(bot: Any, room: str) -> bool:
    database = bot.client.store.database
    return database.execute_sql("SELECT 1 FROM encryptedrooms WHERE room_id = ?",
                                (room,)).fetchone() is not None


async def _settings_naming(bot: Any, room: str) -> list[str]:
    return [key for key, value in await bot.store.settings("")
            if room in key or room in value]


async def test_a_room_that_held_only_a_forum_post_is_purged_after_the_retention_period(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with forum_office(synapse, user_factory, tmp_path) as office:
        youth, home, bot_id, process = office.youth, office.home, office.bot_id, office.process
        await youth.send(home, POST)
        await youth.wait_for(home, bot_id, "Freigabe")
        new = await office.host.wait_for(office.staff_room, bot_id, "Neuer Forum-Beitrag")
        post = re.search(r"P-[0-9A-F]{8}", new)
        assert post
        await office.host.send(office.staff_room, f"!forum reject {post[0]} passt nicht")
        await youth.wait_for(home, bot_id, "passt nicht")
        assert process.bot is not None
        assert await process.bot.store.conversation_by_room(RoomID(home)) is None
        assert await _settings_naming(process.bot, home)  # greeted:<room>
        await process.stop()

        # With admin access, as `counsel up` gives it; the retention period long over.
        write_private(process.layout.admin_token_file, synapse.admin.access_token)
        assert process.clock is not None
        process.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
        bot = await process.start()

        async def gone() -> bool:
            return not await synapse.admin.room_exists(home)
        await until(gone, within=60, what="the room without a conversation to be purged")

        async def forgotten() -> bool:
            return (not await _settings_naming(bot, home) and not _named_in_nio(bot, home)
                    and await last_seen(bot.store, RoomID(home)) is None)
        await until(forgotten, within=30, what="the store and nio's store to forget the room")


async def test_a_room_a_waiting_forum_post_came_from_is_kept(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with forum_office(synapse, user_factory, tmp_path) as office:
        youth, home, bot_id, process = office.youth, office.home, office.bot_id, office.process
        await youth.send(home, POST)
        await youth.wait_for(home, bot_id, "Freigabe")
        await process.stop()
        write_private(process.layout.admin_token_file, synapse.admin.access_token)
        assert process.clock is not None
        later = process.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
        bot = await process.start()

        async def ran() -> bool:
            return await bot.store.get_setting(LAST_RETENTION_KEY) == later.isoformat()
        await until(ran, within=60, what="the retention run")
        # The decision on the post is said there: the room stays, and counts from now.
        assert await synapse.admin.room_exists(home)
        assert await last_seen(bot.store, RoomID(home)) == later


async def test_a_room_the_youth_never_wrote_in_is_purged_a_younger_one_kept(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with forum_office(synapse, user_factory, tmp_path) as office:
        youth, home, process = office.youth, office.home, office.process
        assert process.clock is not None
        assert process.bot is not None
        store = process.bot.store

        def noted(room: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:  # written just after the greeting was sent
                return await last_seen(store, RoomID(room)) is not None
            return check

        await until(noted(home), what="the greeted room's note")
        process.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
        younger = await youth.open_chat(office.bot_id)
        await youth.wait_for(younger, office.bot_id, "anonym")
        await until(noted(younger), what="the younger room's note")
        await process.stop()
        write_private(process.layout.admin_token_file, synapse.admin.access_token)
        process.clock.advance(timedelta(days=29, hours=1))  # type: ignore[attr-defined]
        bot = await process.start()

        async def gone() -> bool:
            return not await synapse.admin.room_exists(home)
        await until(gone, within=60, what="the room greeted 31 days ago to be purged")
        assert await synapse.admin.room_exists(younger)
        assert await _settings_naming(bot, younger)
