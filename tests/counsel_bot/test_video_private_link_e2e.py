"""A counsellor's moderator link for a youth's video call reaches that counsellor alone, on
real Synapse: it comes in an encrypted direct room between the bot and them, and the shared
staff room, read by every colleague, says only that it was sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from counsel_bot.core.video import VideoSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, on_duty, provision_bot, until

pytestmark = pytest.mark.integration


async def test_the_moderator_link_goes_to_the_counsellor_privately_not_the_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    colleague = await login(synapse, user_factory, tmp_path, "colleague")
    process = await provision_bot(
        synapse, tmp_path / "bot",
        staff=[counsellor.client.user_id, colleague.client.user_id])
    secret = tmp_path / "jitsi.secret"
    secret.write_text("s" * 40)
    secret.chmod(0o600)
    process.settings = replace(process.settings, video=VideoSettings(
        base_url="https://meet.beratung.example", jitsi_app_id="counsel",
        jitsi_app_secret_file=str(secret)))
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    bot = process.user_id
    try:
        staff_room = await on_duty(counsellor, bot)
        assert await colleague.accept_invite(within=60) == staff_room
        room = await youth.open_chat(bot)
        await youth.wait_for(room, bot, "anonym")
        await youth.send(room, "können wir auch reden statt schreiben?")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        assert await counsellor.accept_invite() == room

        await counsellor.send(room, "!video")
        youth_link = await youth.wait_for(room, bot, "https://meet.beratung.example/")
        assert "?jwt=" in youth_link

        # The bot opens a direct room with the counsellor and sends the link there.
        await until(lambda: bool(counsellor.invited_to() - {room, staff_room}), within=60,
                    what="an invitation to a direct room with the bot")
        [direct] = counsellor.invited_to() - {room, staff_room}
        await counsellor.client.join(direct)
        link = await counsellor.wait_for(direct, bot, "?jwt=", within=60)
        assert "https://meet.beratung.example/" in link
        assert link.split("?jwt=")[1] != youth_link.split("?jwt=")[1]
        assert counsellor.client.rooms[direct].encrypted
        assert set(counsellor.client.rooms[direct].users) == {bot, counsellor.client.user_id}

        # The staff room says it was sent, and carries no token, for the colleague nor anyone.
        await colleague.wait_for(staff_room, bot, counsellor.client.user_id, within=60)
        for room_id, _, body in (*colleague.received, *counsellor.received):
            if room_id == staff_room:
                assert "jwt" not in body, body
                assert "https://meet" not in body, body
    finally:
        await process.stop()
        await youth.close()
        await colleague.close()
        await counsellor.close()
