"""The moderation queue on real Synapse: a Matrix event is at most 64 KiB, and the bot sends
what nio sends (JSON with ASCII escapes, an "ä" costs 6 bytes, an emoji 12), encrypted.
``!forum pending`` put up to ten waiting posts of up to 4,000 characters each into one
message: ten long posts in German made it too large for the homeserver, the reply never
came, and the posts could not be read for moderation, nor could any after them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.groups.forum_office import forum_office
from tests.support.bot_harness import until

pytestmark = pytest.mark.integration

# Under the 4,000 characters a post may have; an "ä" in every word, as German has.
LONG = ("Prüfungsangst ärgert mich, später hätte ich gern Ruhe. " * 80)[:3900]


async def test_long_waiting_posts_are_still_shown_for_moderation(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with forum_office(synapse, user_factory, tmp_path) as office:
        youth, home, bot_id = office.youth, office.home, office.bot_id
        for n in range(10):  # SHOW_PENDING: a full page
            await youth.send(home, f"forum schule Beitrag {n}: {LONG}")

            async def received(n: int = n) -> bool:
                return len([b for r, s, b in youth.received if r == home and s == bot_id
                            and "Freigabe" in b]) > n
            await until(received, what=f"post {n} received")
        await office.host.send(office.staff_room, "!forum pending")
        shown = await office.host.wait_for(office.staff_room, bot_id,
                                           "Wartende Forum-Beiträge", within=60)
        assert "Beitrag 0:" in shown
        assert LONG[-200:] in shown, "a post is shown whole"
