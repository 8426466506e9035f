"""The test clients of `tests/support/bot_harness.py` read what a real app shows.

Seen in CI (1 run in about 70): `test_mail_case_code_private_e2e` timed out waiting for the
mother to read "beendet". The bot tells whoever came in with the case code that the chat has
ended, then removes them at once. When the removed client's next sync came after both, the
room was in that sync's ``leave`` section, with the notice in its timeline; nio takes in only
joined and invited rooms, so the test client never read what Element shows there (a removed
member still sees the room's history up to their removal).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RoomKickResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, trust, until

pytestmark = pytest.mark.integration


async def test_a_message_in_the_same_sync_as_ones_own_removal_is_read(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    host = await login(synapse, user_factory, tmp_path, "host")
    guest = await login(synapse, user_factory, tmp_path, "guest")
    # Named to the homeserver as the bot is: the guest is invited by it, as by the bot.
    trust(synapse, bots=[host.client.user_id])
    try:
        room = await host.open_chat(guest.client.user_id, like_element=False)
        assert await guest.accept_invite() == room
        await host.send(room, "hello")
        await guest.wait_for(room, host.client.user_id, "hello")

        # The guest's app is busy (or its phone asleep) while it is told and removed.
        await guest.pause()
        await host.send(room, "the chat has ended for you")
        answer = await host.client.room_kick(room, guest.client.user_id, "chat ended")
        assert isinstance(answer, RoomKickResponse), answer

        await until(lambda: guest.client.user_id not in host.client.rooms[room].users,
                    what="the host to see the guest removed")
        guest.start()
        await guest.wait_for(room, host.client.user_id, "the chat has ended for you")
    finally:
        await guest.close()
        await host.close()
