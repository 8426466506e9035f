"""A counsellor's moderator link for a youth's video call reaches that counsellor alone, on
real Synapse: it comes in an encrypted direct room between the bot and them, and the shared
staff room, read by every colleague, says only that it was sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nio import JoinResponse

from counsel_bot.config import StaffSettings
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, login, on_duty, provision_bot, until
from tests.support.video import (
    invitation_to_direct,
    make_video_links,
    video_asked,
    video_office,
)

pytestmark = pytest.mark.integration


async def test_the_moderator_link_goes_to_the_counsellor_privately_not_the_staff_room(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    counsellor = await login(synapse, user_factory, tmp_path, "counsellor")
    colleague = await login(synapse, user_factory, tmp_path, "colleague")
    process = await provision_bot(
        synapse, tmp_path / "bot",
        staff=[counsellor.client.user_id, colleague.client.user_id])
    make_video_links(process, tmp_path)
    await process.start()
    youth = await login(synapse, user_factory, tmp_path, "youth")
    bot = process.user_id
    try:
        staff_room = await on_duty(counsellor, bot)
        assert await colleague.accept_invite(within=60) == staff_room
        room = await video_asked(counsellor, youth, bot,
                                 "können wir auch reden statt schreiben?")
        youth_link = await youth.wait_for(room, bot, "https://meet.beratung.example/")
        assert "?jwt=" in youth_link

        # The bot opens a direct room with the counsellor and sends the link there.
        direct = await invitation_to_direct(counsellor, {room, staff_room})
        await _accept(counsellor, direct)
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


async def _direct_of(synapse: SynapseHandle, bot: Any) -> dict[str, list[str]]:
    """The bot's `m.direct` account data (what Element lists as its direct chats)."""
    url = (f"{synapse.base_url}/_matrix/client/v3/user/{quote(bot.user_id)}"
           "/account_data/m.direct")
    headers = {"Authorization": f"Bearer {bot.access_token}"}
    async with synapse.http.get(url, headers=headers) as response:
        return dict(await response.json()) if response.status == 200 else {}


async def _accept(counsellor: NioYouth, direct: str) -> None:
    """The counsellor accepts the bot's invitation (the link waits for it)."""
    answer = await counsellor.client.join(direct)
    assert isinstance(answer, JoinResponse), answer

    def joined() -> bool:
        return direct in counsellor.client.rooms \
            and direct not in counsellor.client.invited_rooms
    await until(joined, what="the join to sync")


async def _link_in_a_new_room(counsellor: NioYouth, bot: str, known: set[str]) -> str:
    direct = await invitation_to_direct(counsellor, known)
    await _accept(counsellor, direct)
    await counsellor.wait_for(direct, bot, "?jwt=", within=60)
    return direct


async def test_the_direct_room_is_kept_over_a_restart_and_replaced_when_left(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    """The same direct room after a restart (no new invitation for every call), marked as
    a direct chat; one the counsellor left gets the next link in a new one, not nowhere;
    and once the counsellor is off the staff list the bot leaves it."""
    async with video_office(synapse, user_factory, tmp_path) as office:
        process, counsellor, youth, bot = (
            office.process, office.counsellor, office.youth, office.bot)
        me = counsellor.client.user_id
        staff_room = await on_duty(counsellor, bot)
        room = await video_asked(counsellor, youth, bot)
        direct = await _link_in_a_new_room(counsellor, bot, {room, staff_room})
        assert process.bot is not None
        assert (await _direct_of(synapse, process.bot.client)).get(me) == [direct]

        await process.stop()
        await process.start()
        sent = len([r for r, _, b in counsellor.received if r == direct and "?jwt=" in b])
        await counsellor.send(room, "!video")

        async def second_link() -> bool:
            return len([r for r, _, b in counsellor.received
                        if r == direct and "?jwt=" in b]) > sent
        await until(second_link, within=60, what="the next link in the same direct room")
        assert counsellor.invited_to() == set()

        await counsellor.client.room_leave(direct)
        await counsellor.send(room, "!video")
        again = await _link_in_a_new_room(counsellor, bot, {room, staff_room, direct})
        assert again != direct
        assert process.bot is not None
        assert (await _direct_of(synapse, process.bot.client)).get(me) == [again]

        # Off the staff list: the bot leaves the room it held with them at the start.
        await process.stop()
        process.settings = replace(process.settings, staff=StaffSettings(counsellors=()))
        await process.start()

        async def bot_left() -> bool:
            room_now = counsellor.client.rooms.get(again)
            return room_now is not None and bot not in room_now.users
        await until(bot_left, within=60, what="the bot to leave the direct room")
        assert process.bot is not None
        assert me not in await _direct_of(synapse, process.bot.client)
