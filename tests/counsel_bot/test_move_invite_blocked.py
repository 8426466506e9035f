"""A youth whose app blocks invitations, in a room the bot moves them out of.

The bot opens its own room and invites the youth; their homeserver refuses the invitation
(Element's setting). The move stands: their words in the first room count in the new room,
and the bot's own texts reach them there too. But the counsellor answers in the new room,
which the youth cannot enter: her answers reached nobody, nobody on staff knew, and the
youth was told to accept an invitation that never came ("Bitte nimm die Einladung an").
A youth in distress must not be left talking to nobody: the staff learn it, the youth is
told what is true and how to come over, and once they allow invitations, their next message
brings one.

Real Synapse, the real bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import block_invitations, office, until

pytestmark = pytest.mark.integration


async def test_a_youth_whose_app_blocks_invitations_is_told_and_so_are_the_staff(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        youth, bot = o.youth, o.bot_user
        staff_room = await o.counsellor.accept_invite(within=60)
        await block_invitations(synapse, youth)
        first = await youth.open_chat(bot, like_element=False)
        await youth.send(first, "hallo, ich hab stress zuhause")

        # Told without the youth's words; the room named, so the counsellor knows it is hers.
        await o.counsellor.wait_for(staff_room, bot, "blockiert", within=60)
        await youth.wait_for(first, bot, "blockiert", within=60)

        # They allow invitations again (Element's setting) and write: invited at last.
        url = (f"{synapse.base_url}/_matrix/client/v3/user/{youth.client.user_id}"
               "/account_data/m.invite_permission_config")
        async with synapse.http.put(
                url, json={"default_action": "allow"},
                headers={"Authorization": f"Bearer {youth.client.access_token}"}) as answer:
            assert answer.status == 200
        await youth.send(first, "so, jetzt geht es?")
        await until(lambda: bool(youth.invited_to()), within=60, what="an invitation")
