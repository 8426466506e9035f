"""A youth posts to the forum from their chat with the bot and leaves that room while the
post waits (the bot stays in it for the answer). The counsellor's decision ("not put in the
forum. Reason: ...", or "your post is in the forum") went into the room only the bot was
left in: the youth never learnt why their words did not appear. It now comes in a new room
the bot opens, as a group's crisis offer does. Real Synapse, nio clients."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import join, leave, setting
from tests.groups.forum_office import forum_office

pytestmark = pytest.mark.integration


async def test_a_rejection_reaches_a_youth_who_left_their_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with forum_office(synapse, user_factory, tmp_path) as office:
        youth, home, bot_id = office.youth, office.home, office.bot_id
        await youth.send(home, "forum schule Wie lernt ihr für Mathe? Ich schaffe das nie.")
        await youth.wait_for(home, bot_id, "Freigabe")
        new = await office.host.wait_for(office.staff_room, bot_id, "Neuer Forum-Beitrag")
        post = re.search(r"P-[0-9A-F]{8}", new)
        assert post
        # Invited to read the forum at once (`ForumDesk`): that invitation is taken first.
        await join(youth, await setting(office.process, "forum_room:schule"))
        await leave(synapse, youth, home)
        await office.host.send(office.staff_room, f"!forum reject {post[0]} passt nicht")
        moved = await youth.accept_invite()
        assert moved != home
        await youth.wait_for(moved, bot_id, "passt nicht")
