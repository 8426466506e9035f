"""A youth in a group writes what must not stay on everyone's screen (another youth's real
name and school, a way to hurt oneself): the host can mute or remove the writer, but the
words stayed in the room for the rest of the evening, since only the bot could delete
messages there (`redact` 100). The host now can; youths still cannot delete each other's
words. Real Synapse, real E2E clients."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from nio import RoomRedactError, RoomRedactResponse, RoomSendResponse

from counsel_bot.core.clock import FakeClock
from tests.conftest import SynapseHandle, UserFactory
from tests.groups.test_group_evening_e2e import join, setting, signed_up
from tests.support.bot_harness import BotProcess, NioYouth, login, provision_bot

pytestmark = pytest.mark.integration


async def test_the_host_can_delete_a_youths_message_in_the_group(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    closing: list[NioYouth] = []
    process: BotProcess | None = None
    try:
        clock = FakeClock(datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
        host = await login(synapse, user_factory, tmp_path, "host")
        lead = await login(synapse, user_factory, tmp_path, "lead")
        closing += [host, lead]
        process = await provision_bot(synapse, tmp_path / "bot", staff=[host.client.user_id],
                                      team_leads=[lead.client.user_id], clock=clock)
        await process.start()
        bot_id = process.user_id
        staff_room = await setting(process, "staff_room")
        await join(host, staff_room)
        await join(lead, staff_room)
        await host.send(staff_room, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 8')
        await host.wait_for(staff_room, bot_id, "Gruppe 1 angekündigt")
        (b, _, _), (c, _, _) = [
            await signed_up(synapse, user_factory, tmp_path, bot_id, name, closing)
            for name in ("youth-b", "youth-c")]
        clock.set(datetime(2026, 12, 10, 17, 0, 30, tzinfo=UTC))
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
    finally:
        if process is not None:
            await process.stop()
        for client in closing:
            await client.close()
