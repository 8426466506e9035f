"""A text for one counsellor alone (a youth's mail once someone came in with the case code,
a call's moderator link) waits in the bot's direct room with them until they accept its
invitation. A counsellor on a night shift who never does missed it for good: the text
waited in the outbox for ever, nobody else told. Within 15 minutes (the next-response
target) the team leads are told in the staff room, once, naming the conversation and the
counsellor, never the text.
Real Synapse; the `!video` link is the private text (the mail path waits the same way)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.video import VideoSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import goes_on_duty, login, provision_bot, until

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


async def test_the_leads_learn_of_a_private_text_whose_room_was_never_accepted(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    clock = FakeClock(NOW)
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    lead = await login(synapse, user_factory, tmp_path, "lead")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id],
                                  team_leads=[lead.client.user_id], clock=clock)
    secret = tmp_path / "jitsi.secret"
    secret.write_text("s" * 40)
    secret.chmod(0o600)
    # Token auth: the counsellor's moderator link is theirs alone, sent in the direct room.
    process.settings = replace(process.settings, video=VideoSettings(
        base_url="https://meet.beratung.example", jitsi_app_id="counsel",
        jitsi_app_secret_file=str(secret)))
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite()
        assert await lead.accept_invite() == staff_room
        await goes_on_duty(counsellor, staff_room, process.user_id)
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "können wir auch reden statt schreiben?")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        assert await counsellor.accept_invite() == room

        await counsellor.send(room, "!video")
        await youth.wait_for(room, process.user_id, "https://meet.beratung.example/")
        await lead.wait_for(staff_room, process.user_id, "Direktnachricht", within=60)
        # The counsellor is invited to the direct room, and never accepts.
        await until(lambda: bool(counsellor.invited_to() - {room, staff_room}), within=60,
                    what="an invitation to a direct room with the bot")

        clock.advance(timedelta(minutes=15))
        told = await lead.wait_for(staff_room, process.user_id, "nicht angenommen",
                                   within=60)
        assert lead.client.user_id in told
        assert counsellor.client.user_id in told
        assert "meet.beratung.example" not in told  # the text itself stays private
        assert "jwt" not in told
    finally:
        await process.stop()
        await youth.close()
        await lead.close()
        await counsellor.close()
