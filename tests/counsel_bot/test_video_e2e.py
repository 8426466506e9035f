"""Issue 6 (video) on real Synapse: the link reaches the youth, the widget appears in the
room's state, reveals nothing, and is gone again after close."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest

from counsel_bot.core.video import WIDGET_EVENT_TYPE, VideoSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, provision_bot, until

pytestmark = pytest.mark.integration



async def widgets(synapse: SynapseHandle, room: str) -> list[dict[str, object]]:
    url = f"{synapse.base_url}/_synapse/admin/v1/rooms/{quote(room)}/state"
    headers = {"Authorization": f"Bearer {synapse.admin.access_token}"}
    async with synapse.http.get(url, headers=headers) as response:
        state = (await response.json())["state"]
    return [e for e in state if e["type"] == WIDGET_EVENT_TYPE and e["content"]]


async def test_video_link_and_widget_come_and_go(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    process.settings = replace(
        process.settings, video=VideoSettings(base_url="https://meet.beratung.example"))
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "können wir auch reden statt schreiben?")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await counsellor.accept_invite()

        await counsellor.send(room, "!video")
        link = await youth.wait_for(room, process.user_id, "https://meet.beratung.example/")
        [widget] = await widgets(synapse, room)
        content = widget["content"]
        assert isinstance(content, dict)
        assert content["type"] == "jitsi"
        # State events are not encrypted: nothing about the room or the youth in them.
        shown = str(content)
        for secret in (room, youth.client.user_id, youth.client.user_id.split(":")[0][1:]):
            assert secret not in shown
        assert content["data"]["conferenceId"] in link  # type: ignore[index]

        await counsellor.send(room, "!close")
        await youth.wait_for(room, process.user_id, "beendet")

        async def widget_gone() -> bool:
            return await widgets(synapse, room) == []
        await until(widget_gone, what="the widget to be removed")
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()


async def test_a_transfer_back_to_the_queue_takes_the_call_out_of_the_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The former counsellor's links keep opening the call's conference: after a hand-over
    its widget leaves the room, and the youth reads that the old link is void."""
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    process = await provision_bot(synapse, tmp_path / "bot", staff=[counsellor.client.user_id])
    process.settings = replace(
        process.settings, video=VideoSettings(base_url="https://meet.beratung.example"))
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    try:
        staff_room = await counsellor.accept_invite()
        await counsellor.send(staff_room, "!duty on")
        room = await youth.open_chat(process.user_id)
        await youth.wait_for(room, process.user_id, "anonym")
        await youth.send(room, "können wir reden statt schreiben?")
        await until(lambda: room in counsellor.invited_to(), what="the assignment")
        await counsellor.accept_invite()
        await counsellor.send(room, "!video")
        await youth.wait_for(room, process.user_id, "https://meet.beratung.example/")
        assert len(await widgets(synapse, room)) == 1

        await counsellor.send(room, "!transfer queue")
        await youth.wait_for(room, process.user_id, "öffne ihn bitte nicht mehr")

        async def widget_gone() -> bool:
            return await widgets(synapse, room) == []
        await until(widget_gone, what="the widget to be removed")
    finally:
        await process.stop()
        await youth.close()
        await counsellor.close()
