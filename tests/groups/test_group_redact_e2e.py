"""A youth in a group writes what must not stay on everyone's screen (another youth's real
name and school, a way to hurt oneself): the host can mute or remove the writer, but the
words stayed in the room for the rest of the evening, since only the bot could delete
messages there (`redact` 100). The host now can; youths still cannot delete each other's
words. Real Synapse, real E2E clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import RoomRedactError, RoomRedactResponse, RoomSendResponse

from tests.conftest import SynapseHandle, UserFactory
from tests.groups.evening import OPEN, group_announced, join, setting, signed_up

pytestmark = pytest.mark.integration


async def test_the_host_can_delete_a_youths_message_in_the_group(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with group_announced(synapse, user_factory, tmp_path, leads=["lead"]) as evening:
        process, bot_id, closing = evening.process, evening.bot_id, evening.closing
        host, lead, staff_room = evening.host, evening.staff["lead"], evening.staff_room
        (b, _, _), (c, _, _) = [
            await signed_up(synapse, user_factory, tmp_path, bot_id, name, closing)
            for name in ("youth-b", "youth-c")]
        evening.clock.set(OPEN)
        group_room = await setting(process, "group_room:1")
        for member in (host, b, c):
            await join(member, group_room)

        await b.wait_for_join(group_room)
        sent = await b.client.room_send(
            group_room, "m.room.message",
            {"msgtype": "m.text", "body": "Igel heißt in echt Lena M., 8b am Gymnasium"},
            ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse), sent

        by_youth = await c.client.room_redact(group_room, sent.event_id)
        assert isinstance(by_youth, RoomRedactError), "a youth deleted another's words"
        by_host = await host.client.room_redact(group_room, sent.event_id)
        assert isinstance(by_host, RoomRedactResponse), \
            f"the host could not delete a message in the group: {by_host}"

        # A lead who steps in (`!group join 1`) may delete too.
        await lead.send(staff_room, "!group join 1")
        await join(lead, group_room)
        again = await b.client.room_send(
            group_room, "m.room.message", {"msgtype": "m.text", "body": "noch mal: Lena M."},
            ignore_unverified_devices=True)
        assert isinstance(again, RoomSendResponse), again
        by_lead = await lead.client.room_redact(group_room, again.event_id)
        assert isinstance(by_lead, RoomRedactResponse), \
            f"the lead could not delete a message in the group: {by_lead}"
